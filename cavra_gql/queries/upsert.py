"""Storing records: upsert by session_id, replacing a record's derived rows with it."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection, Table, delete

from cavra_gql import jsontext
from cavra_gql.derive import (
    HISTORY_COLUMNS,
    OTHER_COLUMNS,
    PROVIDER_COLUMNS,
    ROUTE_COLUMNS,
    ProviderRole,
    derive,
)
from cavra_gql.prepare import Batch
from cavra_gql.queries.changes import PendingChanges
from cavra_gql.queries.hours import floor_hour
from cavra_gql.queries.tables import other_records, providers, records, required_routes
from cavra_gql.tally import Tally

BATCH = 500
# A history row as stored: derive()'s columns, then the write's change batch.
RECORD_COLUMNS = (*HISTORY_COLUMNS, "change_batch")


@dataclass(slots=True)
class UpsertCounts:
    """How a write changed the store."""

    new: int = 0
    updated: int = 0
    unchanged: int = 0
    # The summary rows the write adds (net of what replaced records took back) ...
    tally: Tally = field(default_factory=Tally)
    # ... except in these hours, where a replaced record's maxima cannot be taken back:
    # they are recounted from the records.
    dirty_hours: set[int] = field(default_factory=set)

    def add(self, other: UpsertCounts) -> None:
        self.new += other.new
        self.updated += other.updated
        self.unchanged += other.unchanged
        self.tally.merge(other.tally)
        self.dirty_hours |= other.dirty_hours


def upsert(conn: Connection, batch: Batch, changes: PendingChanges) -> UpsertCounts:
    """Store a batch (from batch_of, at most BATCH records) in the open transaction; the
    history records it adds or replaces are stamped with the write's change batch."""
    rows = batch.history + batch.others
    ids = [row[0] for row in rows]
    stored: dict[str, tuple[str, int, bool]] = {}
    if ids:
        marks = ", ".join([_marker(conn)] * len(ids))
        for table in (records, other_records):
            query = (
                f"SELECT session_id, record_json, created_us FROM {table.name}"
                f" WHERE session_id IN ({marks})"
            )
            for sid, text, created_us in conn.exec_driver_sql(query, tuple(ids)):
                stored[sid] = (text, created_us, table is records)
    counts = UpsertCounts(tally=batch.tally)
    unchanged: set[str] = set()
    replaced: list[str] = []
    for row in rows if stored else ():
        old = stored.get(row[0])
        if old is None:
            continue
        if old[0] == row[-1]:  # record_json, the last column of both kinds of row
            unchanged.add(row[0])
        else:
            replaced.append(row[0])
            if old[2]:
                _take_back_stored(counts, old[0], old[1])
    if unchanged:
        batch = _without(batch, unchanged, counts.tally)
    counts.new = len(batch.history) + len(batch.others) - len(replaced)
    counts.updated = len(replaced)
    counts.unchanged = len(unchanged)
    if replaced:
        for table in (required_routes, providers, records, other_records):
            conn.execute(delete(table).where(table.c.session_id.in_(replaced)))
    insert_rows(conn, other_records, OTHER_COLUMNS, batch.others)
    if batch.history:
        stamp = changes.stamp(conn, len(batch.history))
        insert_rows(conn, records, RECORD_COLUMNS, [(*row, stamp) for row in batch.history])
    insert_rows(conn, providers, PROVIDER_COLUMNS, batch.provider_rows)
    insert_rows(conn, required_routes, ROUTE_COLUMNS, batch.route_rows)
    return counts


def _without(batch: Batch, unchanged: set[str], tally: Tally) -> Batch:
    """The batch without the records stored already as they are; their counts are taken
    back from the tally (their maxima are stored already, so those stay)."""
    roles: dict[str, list[ProviderRole]] = {}
    for session_id, *role in batch.provider_rows:
        if session_id in unchanged:
            roles.setdefault(session_id, []).append(ProviderRole(*role))
    for row in batch.history:
        if row[0] in unchanged:
            tally.take_back(row, roles.get(row[0], ()), keep_maxima=True)
    history, others, provider_rows, route_rows = (
        [row for row in rows if row[0] not in unchanged]
        for rows in (batch.history, batch.others, batch.provider_rows, batch.route_rows)
    )
    return Batch(history, others, provider_rows, route_rows, tally)


def _take_back_stored(counts: UpsertCounts, record_json: str, created_us: int) -> None:
    """Take a replaced history record's stored version out of the tally (its derived rows
    are read again from its stored, already redacted JSON)."""
    old = derive(jsontext.loads(record_json), created_us, record_json)
    if not counts.tally.take_back(old.row, old.providers, keep_maxima=False):
        counts.dirty_hours.add(floor_hour(created_us))


def _marker(conn: Connection) -> str:
    """The driver's parameter marker (statements here go to the driver as they are)."""
    return "?" if conn.dialect.paramstyle == "qmark" else "%s"


def insert_rows(
    conn: Connection, table: Table, columns: Sequence[str], rows: Sequence[Sequence[Any]]
) -> None:
    """Bulk insert: COPY on PostgreSQL, plain DB-API executemany elsewhere (bulk imports
    spend their time in the driver, not in SQLAlchemy Core)."""
    if not rows:
        return
    if conn.dialect.name == "postgresql":
        raw = conn.connection.driver_connection
        statement = f"COPY {table.name} ({', '.join(columns)}) FROM STDIN"
        with raw.cursor() as cursor, cursor.copy(statement) as copy:  # type: ignore[union-attr]
            for row in rows:
                copy.write_row(row)
        return
    sql = (
        f"INSERT INTO {table.name} ({', '.join(columns)}) "
        f"VALUES ({', '.join([_marker(conn)] * len(columns))})"
    )
    conn.exec_driver_sql(sql, rows)
