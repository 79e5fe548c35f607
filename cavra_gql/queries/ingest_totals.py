"""The ingest counters: per write path (`via`), what its committed writes took in and did,
added to in each write's own transaction, so a rolled-back write counts nothing."""

from __future__ import annotations

from typing import Any, Literal

from sqlalchemy import Connection, Row, select
from sqlalchemy.dialects import postgresql, sqlite

from cavra_gql.queries.tables import ingest_totals

# `cavra-gql ingest`, `cavra-gql sync`, the ingestRecords mutation, `cavra-gql api --demo`.
Via = Literal["file", "sync", "api", "demo"]
COUNTERS = ("writes", "records_read", "records_new", "records_updated", "records_unchanged")


def add(conn: Connection, via: Via, *, read: int, new: int, updated: int, unchanged: int) -> None:
    """Count one write of `read` records into its path's row, in one statement."""
    dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
    query = dialect.insert(ingest_totals).values(
        via=via,
        writes=1,
        records_read=read,
        records_new=new,
        records_updated=updated,
        records_unchanged=unchanged,
    )
    added = {name: ingest_totals.c[name] + query.excluded[name] for name in COUNTERS}
    conn.execute(query.on_conflict_do_update(index_elements=[ingest_totals.c.via], set_=added))


def figures(conn: Connection) -> list[Row[Any]]:
    """Every path's counters, for the metrics (a row per path that has written)."""
    c = ingest_totals.c
    return list(conn.execute(select(c.via, *(c[name] for name in COUNTERS)).order_by(c.via)))
