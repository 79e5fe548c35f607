"""The state of `cavra-gql sync`, in the database it fills: per followed file, where the last
pass stood and what passes did; per record, the digest of its bytes in the file."""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from dataclasses import asdict, dataclass, field, fields, replace
from typing import Any

from sqlalchemy import Connection, Row, RowMapping, delete, insert, select, update

from cavra_gql import sqlite_transactions
from cavra_gql.queries.tables import sync_records, sync_sources
from cavra_gql.queries.upsert import BATCH, insert_rows


@dataclass(frozen=True, slots=True)
class SourceState:
    """A sync_sources row."""

    source: str
    format: str | None = None
    file_size: int = 0
    mtime_ns: int = 0
    file_id: str = ""
    settled: bool = False
    probe: bytes | None = None
    digest: bytes | None = None
    position: int = 0
    lines: int = 0
    passes: int = 0
    records_read: int = 0
    imported_new: int = 0
    imported_updated: int = 0
    imported_unchanged: int = 0
    deletions_seen: int = 0
    last_pass_us: int | None = None
    last_error: str | None = None
    last_error_us: int | None = None
    stored: bool = field(default=False, compare=False)  # whether the row exists

    def row(self) -> dict[str, object]:
        values = asdict(self)
        del values["stored"]
        return values

    def but(self, **changes: object) -> SourceState:
        return replace(self, **changes)  # type: ignore[arg-type]


_COLUMNS = [f.name for f in fields(SourceState) if f.name != "stored"]


def _state(row: RowMapping | None, source: str) -> SourceState:
    if row is None:
        return SourceState(source)
    values = {name: row[name] for name in _COLUMNS}
    for name in ("probe", "digest"):  # PostgreSQL's driver returns memoryview for bytea
        value = values[name]
        values[name] = bytes(value) if isinstance(value, memoryview) else value
    return SourceState(**values, stored=True)


def load(conn: Connection, source: str) -> SourceState:
    """The file's state as last committed (a blank one for a file never synced)."""
    query = select(sync_sources).where(sync_sources.c.source == source)
    return _state(conn.execute(query).mappings().first(), source)


def lock(conn: Connection, source: str) -> SourceState:
    """load(), holding the lock that makes passes over one file take turns until the
    transaction ends (SQLite: the database's write lock; PostgreSQL: the row's)."""
    sqlite_transactions.begin(conn, "IMMEDIATE")
    query = select(sync_sources).where(sync_sources.c.source == source).with_for_update()
    return _state(conn.execute(query).mappings().first(), source)


def fingerprints(conn: Connection, source: str) -> dict[str, bytes]:
    """Every record the file held at the last pass, with its digest."""
    query = select(sync_records.c.session_id, sync_records.c.fingerprint).where(
        sync_records.c.source == source
    )
    return {sid: bytes(digest) for sid, digest in conn.execute(query)}


def fingerprints_of(conn: Connection, source: str, session_ids: Iterable[str]) -> dict[str, bytes]:
    """The digests of these records (those the file held at the last pass)."""
    wanted = list(dict.fromkeys(session_ids))
    found: dict[str, bytes] = {}
    for start in range(0, len(wanted), BATCH):
        query = select(sync_records.c.session_id, sync_records.c.fingerprint).where(
            sync_records.c.source == source,
            sync_records.c.session_id.in_(wanted[start : start + BATCH]),
        )
        found.update((sid, bytes(digest)) for sid, digest in conn.execute(query))
    return found


def save(
    conn: Connection,
    state: SourceState,
    changed: Mapping[str, bytes],
    gone: Collection[str],
) -> None:
    """Record a pass in its own transaction: the file's new state, the digests of the records
    it read that changed, and the stored digests of `gone` forgotten (those replaced and
    the records the file no longer holds: a new record has none to delete)."""
    gone = list(gone)
    for start in range(0, len(gone), BATCH):
        conn.execute(
            delete(sync_records).where(
                sync_records.c.source == state.source,
                sync_records.c.session_id.in_(gone[start : start + BATCH]),
            )
        )
    rows = [(state.source, sid, digest) for sid, digest in changed.items()]
    insert_rows(conn, sync_records, ("source", "session_id", "fingerprint"), rows)
    if state.stored:
        query = update(sync_sources).where(sync_sources.c.source == state.source)
        conn.execute(query.values(state.row()))
    else:
        conn.execute(insert(sync_sources).values(state.row()))


def record_error(conn: Connection, source: str, message: str, at_us: int) -> None:
    """Note why the last pass failed (a file never synced has no row to note it in)."""
    query = update(sync_sources).where(sync_sources.c.source == source)
    conn.execute(query.values(last_error=message, last_error_us=at_us))


def note_pass(conn: Connection, source: str, at_us: int) -> None:
    """A pass found the file as the last one left it (the database in step with it)."""
    query = update(sync_sources).where(sync_sources.c.source == source)
    conn.execute(query.values(last_pass_us=at_us))


def pass_figures(conn: Connection) -> list[Row[Any]]:
    """Every followed file's pass counters and times, for the metrics (one small table)."""
    c = sync_sources.c
    query = select(
        c.source,
        c.passes,
        c.records_read,
        c.imported_new,
        c.imported_updated,
        c.imported_unchanged,
        c.deletions_seen,
        c.last_pass_us,
        c.last_error_us,
    ).order_by(c.source)
    return list(conn.execute(query))
