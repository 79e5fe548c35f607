"""Bulk imports on SQLite: build the record indexes once at the end instead of row by row.

Inserting a row into a dozen B-trees costs more than sorting the keys once, and the more so
as the tables outgrow the page cache. Indexes are dropped and built again inside the import's
own transaction, so readers (in WAL mode) keep the last committed state, indexes included,
and a failed import rolls back to it.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import Connection

from cavra_gql import sqlite_transactions
from cavra_gql.db import lean_sorts

# The tables whose secondary indexes a bulk import defers (primary keys stay: the upsert
# looks records up by session_id).
DEFERRED_TABLES = ("evidence_records", "record_providers")
# Below this many records, building whole indexes again costs more than it saves.
BULK_FROM_RECORDS = 50_000


def worth_deferring(conn: Connection, expected: int) -> bool:
    """Whether an import of about `expected` records should defer the indexes: SQLite only,
    and only when it brings at least as many records as are stored."""
    if conn.dialect.name != "sqlite" or expected < BULK_FROM_RECORDS:
        return False
    stored = conn.exec_driver_sql("SELECT count(*) FROM evidence_records").scalar_one()
    return expected >= int(stored)


@contextmanager
def indexes_deferred(conn: Connection, defer: bool) -> Iterator[None]:
    """Run the block with the secondary indexes of DEFERRED_TABLES dropped (when `defer`),
    then build them again from their stored definitions."""
    if not defer:
        yield
        return
    # DROP INDEX would otherwise commit at once, and readers would meet tables without
    # indexes; the import needs the write lock anyway.
    sqlite_transactions.begin(conn, "IMMEDIATE")
    marks = ", ".join("?" for _ in DEFERRED_TABLES)
    found = conn.exec_driver_sql(
        "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL"
        f" AND tbl_name IN ({marks}) ORDER BY name",
        DEFERRED_TABLES,
    ).all()
    for name, _ in found:
        conn.exec_driver_sql(f'DROP INDEX "{name}"')
    yield  # an exception leaves them dropped: the caller's transaction rolls back
    with lean_sorts(conn):
        for _, definition in found:
            conn.exec_driver_sql(definition)
