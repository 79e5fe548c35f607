"""Audit delivery attempts and failures per UTC hour or day, counted in SQL."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from sqlalchemy import ColumnElement, Connection, Table, and_, case, false, func, select

from cavra_gql import kinds
from cavra_gql.queries import summaries
from cavra_gql.queries.filters import HistoryFilter
from cavra_gql.queries.hours import DAY_US, RECORD_SUMMARY_FIELDS, Buckets, floor_bucket, split
from cavra_gql.queries.tables import record_summary, records


@dataclass(frozen=True, slots=True)
class TrendCount:
    bucket_start_us: int
    attempts: int
    failures: int


def _audit_sends(table: Table) -> ColumnElement[bool]:
    c = table.c
    return and_(
        c.metadata_kind == kinds.CONNECTOR_DELIVERY,
        c.connector_delivery_source == kinds.AUDIT_SOURCE,
    )


def _raw(conn: Connection, flt: HistoryFilter, width: int) -> list[tuple[int, int, int]]:
    c = records.c
    bucket = floor_bucket(c.created_us, width).label("bucket")
    failed = func.coalesce(func.sum(case((c.delivery_success == false(), 1), else_=0)), 0)
    query = (
        select(bucket, func.count(), failed)
        .where(*flt.conditions(), _audit_sends(records))
        .group_by(bucket)
    )
    return [(int(row[0]), int(row[1]), int(row[2])) for row in conn.execute(query)]


def _summarised(
    conn: Connection, flt: HistoryFilter, width: int, buckets: tuple[Buckets, ...]
) -> list[tuple[int, int, int]]:
    s = record_summary.c
    bucket = floor_bucket(s.bucket_us, width).label("bucket")
    failed = func.coalesce(
        func.sum(case((s.delivery_success == false(), s.record_count), else_=0)), 0
    )
    query = (
        select(bucket, func.sum(s.record_count), failed)
        .where(
            *flt.conditions(record_summary, per_provider=True, time=False),
            summaries.in_buckets(record_summary, buckets),
            _audit_sends(record_summary),
        )
        .group_by(bucket)
    )
    return [(int(row[0]), int(row[1]), int(row[2])) for row in conn.execute(query)]


def audit_delivery_trend(conn: Connection, flt: HistoryFilter, width: int) -> list[TrendCount]:
    """Non-empty buckets, oldest first: audit-source connector sends and the failed ones.

    Read from the summaries where the filter allows (hourly buckets from hourly rows only).
    """
    plan = split(flt, RECORD_SUMMARY_FIELDS, days=width == DAY_US)
    parts = [row for part in plan.raw for row in _raw(conn, part, width)]
    if plan.buckets is not None:
        parts += _summarised(conn, flt, width, plan.buckets)
    attempts: Counter[int] = Counter()
    failures: Counter[int] = Counter()
    for start, sent, failed in parts:
        attempts[start] += sent
        failures[start] += failed
    return [TrendCount(start, attempts[start], failures[start]) for start in sorted(attempts)]
