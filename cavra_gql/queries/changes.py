"""The change feed (live updates): a write's batch row, its seq in commit order, the
notification, and what subscribers read back.

A write stamps the history records it stores with its batch id (taken at the first one), and
gets its seq just before it commits, under a lock held until the commit: seq order is commit
order even with concurrent writers, so a reader that remembers the last seq it read misses no
write. On PostgreSQL the write also sends NOTIFY (delivered at commit); SQLite readers poll.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Connection, delete, func, insert, or_, select, text, update

from cavra_gql.queries.filters import HistoryFilter
from cavra_gql.queries.history import ORDER, ROW_COLUMNS, RecordRow
from cavra_gql.queries.tables import change_batches, records

CHANNEL = "cavra_gql_changes"
LISTEN = f"LISTEN {CHANNEL}"
# pg_advisory_xact_lock key ("cavra_cf"): one write at a time between taking a seq and commit.
_LOCK_KEY = 0x63617672615F6366
# The tail kept for readers catching up after a dropped connection: the newest KEEP_BATCHES
# batches, and none older than KEEP_US, checked once every PRUNE_EVERY writes.
KEEP_BATCHES = 10_000
KEEP_US = 24 * 3600 * 1_000_000
PRUNE_EVERY = 100
READ_AT_ONCE = 1000


@dataclass(slots=True)
class PendingChanges:
    """The change batch of one open write transaction."""

    origin: str
    id: int | None = None
    records: int = 0

    def stamp(self, conn: Connection, count: int) -> int:
        """The batch id to store `count` more history records with (the row is made at the
        first call, so a write that changes no history record leaves no batch)."""
        if self.id is None:
            query = insert(change_batches).values(origin=self.origin, records=0)
            self.id = int(conn.execute(query.returning(change_batches.c.id)).scalar_one())
        self.records += count
        return self.id


@dataclass(frozen=True, slots=True)
class Change:
    """A committed batch as subscribers see it."""

    seq: int
    batch_id: int
    records: int
    committed_us: int


def commit(conn: Connection, pending: PendingChanges, now_us: int) -> int | None:
    """Give the write's batch its seq and announce it; call it last before the commit.

    Returns the seq, None when the write changed no history record.
    """
    if pending.id is None:
        return None
    postgres = conn.dialect.name == "postgresql"
    if postgres:  # SQLite holds its one writer lock until the commit already
        conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _LOCK_KEY})
    seq = last_seq(conn) + 1
    conn.execute(
        update(change_batches)
        .where(change_batches.c.id == pending.id)
        .values(seq=seq, committed_us=now_us, records=pending.records)
    )
    if postgres:
        conn.execute(
            text("SELECT pg_notify(:channel, :seq)"), {"channel": CHANNEL, "seq": str(seq)}
        )
    if seq % PRUNE_EVERY == 0:
        c = change_batches.c
        conn.execute(
            delete(change_batches).where(
                c.seq < seq, or_(c.seq <= seq - KEEP_BATCHES, c.committed_us < now_us - KEEP_US)
            )
        )
    return seq


def last_seq(conn: Connection) -> int:
    """The seq of the newest committed batch (0 when there is none)."""
    return int(conn.execute(select(func.coalesce(func.max(change_batches.c.seq), 0))).scalar_one())


def newest(conn: Connection) -> tuple[int, int] | None:
    """The seq and commit time of the newest committed batch (None when there is none): one
    step down the seq index."""
    c = change_batches.c
    query = select(c.seq, c.committed_us).where(c.seq.is_not(None)).order_by(c.seq.desc()).limit(1)
    row = conn.execute(query).first()
    return None if row is None else (int(row.seq), int(row.committed_us))


def changes_after(conn: Connection, seq: int) -> list[Change]:
    """Committed batches after `seq`, in seq order (at most READ_AT_ONCE)."""
    c = change_batches.c
    query = (
        select(c.seq, c.id, c.records, c.committed_us)
        .where(c.seq > seq)
        .order_by(c.seq)
        .limit(READ_AT_ONCE)
    )
    return [Change(*row) for row in conn.execute(query)]


def changed_records(
    conn: Connection, flt: HistoryFilter, batch_id: int, limit: int
) -> tuple[list[RecordRow], int]:
    """The newest `limit` history records of a batch that match the filter, in history order,
    and how many match in all. A record changed again by a later write has moved to that
    write's batch: each write's subscribers get the record's version it stored, once."""
    conditions = [records.c.change_batch == batch_id, *flt.conditions()]
    query = select(*ROW_COLUMNS).where(*conditions).order_by(*ORDER).limit(limit)
    rows = [RecordRow(row) for row in conn.execute(query)]
    if len(rows) < limit:
        return rows, len(rows)
    total = conn.execute(select(func.count()).select_from(records).where(*conditions))
    return rows, int(total.scalar_one())
