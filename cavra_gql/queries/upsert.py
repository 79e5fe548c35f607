"""Storing records: upsert by session_id, replacing a record's derived rows with it."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection, Table, delete, select

from cavra_gql.derive import Derived
from cavra_gql.queries.hours import floor_hour
from cavra_gql.queries.tables import other_records, providers, records, required_routes

BATCH = 500


@dataclass(frozen=True, slots=True)
class Prepared:
    """A validated, redacted record ready to store, with its derived rows."""

    session_id: str
    record_json: str
    derived: Derived


@dataclass(slots=True)
class UpsertCounts:
    """How a write changed the store."""

    new: int = 0
    updated: int = 0
    unchanged: int = 0
    # Hour buckets whose summaries the write changed (old and new instants).
    touched_hours: set[int] = field(default_factory=set)

    def add(self, other: UpsertCounts) -> None:
        self.new += other.new
        self.updated += other.updated
        self.unchanged += other.unchanged
        self.touched_hours |= other.touched_hours


def upsert(conn: Connection, batch: Sequence[Prepared]) -> UpsertCounts:
    """Store a batch (at most BATCH records; a later duplicate wins) in the open transaction."""
    latest = {item.session_id: item for item in batch}
    ids = list(latest)
    stored: dict[str, str] = {}
    history_hours: dict[str, int] = {}
    for table in (records, other_records):
        query = select(table.c.session_id, table.c.record_json, table.c.created_us).where(
            table.c.session_id.in_(ids)
        )
        for row in conn.execute(query):
            stored[row.session_id] = row.record_json
            if table is records:
                history_hours[row.session_id] = floor_hour(row.created_us)
    changed = [item for item in latest.values() if stored.get(item.session_id) != item.record_json]
    replaced = [item.session_id for item in changed if item.session_id in stored]
    counts = UpsertCounts(
        new=len(changed) - len(replaced),
        updated=len(replaced),
        unchanged=len(latest) - len(changed),
    )
    if replaced:
        for table in (required_routes, providers, records, other_records):
            conn.execute(delete(table).where(table.c.session_id.in_(replaced)))
    derived = [item.derived for item in changed]
    history = [d for d in derived if d.in_history]
    counts.touched_hours = {floor_hour(d.row["created_us"]) for d in history}
    counts.touched_hours.update(history_hours[sid] for sid in replaced if sid in history_hours)
    _insert_many(conn, other_records, [d.row for d in derived if not d.in_history])
    _insert_many(conn, records, [d.row for d in history])
    _insert_many(
        conn,
        providers,
        [
            {
                "session_id": d.row["session_id"],
                "provider": role.provider,
                "selected": role.selected,
                "attempted": role.attempted,
                "failed": role.failed,
            }
            for d in history
            for role in d.providers
        ],
    )
    _insert_many(
        conn,
        required_routes,
        [
            {"session_id": d.row["session_id"], "position": position, "provider": provider}
            for d in history
            for position, provider in enumerate(d.required)
        ],
    )
    return counts


def _insert_many(conn: Connection, table: Table, rows: list[dict[str, Any]]) -> None:
    """Bulk insert: COPY on PostgreSQL, plain DB-API executemany elsewhere (bulk imports
    spend their time in the driver, not in SQLAlchemy Core)."""
    if not rows:
        return
    columns = list(rows[0])
    values = [tuple(row[c] for c in columns) for row in rows]
    if conn.dialect.name == "postgresql":
        raw = conn.connection.driver_connection
        statement = f"COPY {table.name} ({', '.join(columns)}) FROM STDIN"
        with raw.cursor() as cursor, cursor.copy(statement) as copy:  # type: ignore[union-attr]
            for value in values:
                copy.write_row(value)
        return
    marker = "?" if conn.dialect.paramstyle == "qmark" else "%s"
    sql = (
        f"INSERT INTO {table.name} ({', '.join(columns)}) "
        f"VALUES ({', '.join([marker] * len(columns))})"
    )
    conn.exec_driver_sql(sql, values)
