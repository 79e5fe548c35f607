"""Audit delivery attempts and failures per UTC hour or day, counted in SQL."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Connection, and_, case, false, func, select

from cavra_gql import kinds
from cavra_gql.queries.filters import HistoryFilter
from cavra_gql.queries.tables import records

HOUR_US = 3_600_000_000
DAY_US = 24 * HOUR_US


@dataclass(frozen=True, slots=True)
class TrendCount:
    bucket_start_us: int
    attempts: int
    failures: int


def audit_delivery_trend(conn: Connection, flt: HistoryFilter, bucket_us: int) -> list[TrendCount]:
    """Non-empty buckets, oldest first: audit-source connector sends and the failed ones."""
    c = records.c
    bucket = (c.created_us // bucket_us).label("bucket")
    failed = func.coalesce(func.sum(case((c.delivery_success == false(), 1), else_=0)), 0)
    query = (
        select(bucket, func.count(), failed)
        .where(
            *flt.conditions(),
            and_(
                c.metadata_kind == kinds.CONNECTOR_DELIVERY,
                c.connector_delivery_source == kinds.AUDIT_SOURCE,
            ),
        )
        .group_by(bucket)
        .order_by(bucket)
    )
    return [
        TrendCount(int(row[0]) * bucket_us, int(row[1]), int(row[2])) for row in conn.execute(query)
    ]
