"""Whole-history record counts by kind, read from the whole-history summary rows."""

from __future__ import annotations

from sqlalchemy import Connection, func, select

from cavra_gql.queries.hours import WHOLE
from cavra_gql.queries.tables import record_summary


def records_by_kind(conn: Connection) -> dict[str, int]:
    """History records per metadata_kind: one GROUP BY over a few dozen summary rows."""
    c = record_summary.c
    query = (
        select(c.metadata_kind, func.sum(c.record_count))
        .where(c.width_us == WHOLE)
        .group_by(c.metadata_kind)
    )
    return {kind: int(count) for kind, count in conn.execute(query)}
