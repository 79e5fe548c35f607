"""SQLite transactions begun when cavra-gql says so.

Python's sqlite3 module opens a transaction only before INSERT, UPDATE or DELETE: SELECTs
and DDL before that run on their own, each on its own snapshot and committed at once. Where
that matters, the transaction is begun explicitly.
"""

from __future__ import annotations

from typing import Literal

from sqlalchemy import Connection


def begin(conn: Connection, mode: Literal["DEFERRED", "IMMEDIATE"] = "DEFERRED") -> None:
    """Open `conn`'s transaction now, unless one is open (SQLite only; a no-op elsewhere).

    DEFERRED: the following reads share one snapshot. IMMEDIATE: the write lock is taken
    at once (the busy timeout waits for another writer), and DDL joins the transaction.
    """
    if conn.dialect.name != "sqlite":
        return
    raw = conn.connection.driver_connection
    if not raw.in_transaction:  # type: ignore[union-attr]
        # On the driver's connection, as PostgreSQL's driver sends its BEGIN: transaction
        # control, not a statement of the query layer's.
        raw.execute(f"BEGIN {mode}")  # type: ignore[union-attr]
