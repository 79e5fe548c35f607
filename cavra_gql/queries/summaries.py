"""Reading the hourly, daily and whole-history summaries in place of the records they count
(summary_upkeep.py keeps them exact)."""

from __future__ import annotations

from sqlalchemy import ColumnElement, Connection, Table, and_, func, or_, select

from cavra_gql import kinds
from cavra_gql.queries.dashboard import (
    KindCount,
    ProviderAttempts,
    attempts_from,
    first_in_order,
    read_attempts,
)
from cavra_gql.queries.filters import HistoryFilter
from cavra_gql.queries.hours import Buckets
from cavra_gql.queries.tables import provider_summary, record_summary


def in_buckets(table: Table, buckets: tuple[Buckets, ...]) -> ColumnElement[bool]:
    c = table.c
    parts = []
    for b in buckets:
        bounds = [c.width_us == b.width]
        if b.start is not None:
            bounds.append(c.bucket_us >= b.start)
        if b.end is not None:
            bounds.append(c.bucket_us < b.end)
        parts.append(and_(*bounds))
    return or_(*parts)


def _where(
    table: Table, flt: HistoryFilter, buckets: tuple[Buckets, ...]
) -> list[ColumnElement[bool]]:
    return [*flt.conditions(table, per_provider=True, time=False), in_buckets(table, buckets)]


def _counting_table(flt: HistoryFilter) -> Table:
    return provider_summary if flt.provider is not None else record_summary


def kind_counts(
    conn: Connection, flt: HistoryFilter, buckets: tuple[Buckets, ...]
) -> list[KindCount]:
    table = _counting_table(flt)
    c = table.c
    keys = (c.metadata_kind, c.connector_delivery_source, c.delivery_success)
    query = (
        select(*keys, func.sum(c.record_count)).where(*_where(table, flt, buckets)).group_by(*keys)
    )
    return [KindCount(row[0], row[1], row[2], int(row[3])) for row in conn.execute(query)]


def total(conn: Connection, flt: HistoryFilter, buckets: tuple[Buckets, ...]) -> int:
    table = _counting_table(flt)
    query = select(func.coalesce(func.sum(table.c.record_count), 0)).where(
        *_where(table, flt, buckets)
    )
    return int(conn.execute(query).scalar_one())


def audit_delivery_providers(
    conn: Connection, flt: HistoryFilter, buckets: tuple[Buckets, ...]
) -> set[str]:
    s = provider_summary.c
    query = (
        select(s.provider)
        .distinct()
        .where(
            *_where(provider_summary, flt, buckets),
            or_(
                and_(s.metadata_kind == kinds.AUDIT_DELIVERY_PLAN, s.selected_count > 0),
                s.attempts > 0,
            ),
        )
    )
    return set(conn.execute(query).scalars())


def provider_attempts(
    conn: Connection, flt: HistoryFilter, buckets: tuple[Buckets, ...]
) -> list[ProviderAttempts]:
    s = provider_summary.c
    ranked = (
        select(
            s.provider,
            s.attempts,
            s.failures,
            s.last_attempt_us,
            s.last_success_us,
            s.last_failure_us,
            s.latest_us,
            s.latest_session_id,
            s.latest_failed,
            first_in_order(s.provider, s.latest_us, s.latest_session_id).label("position"),
        )
        .where(*_where(provider_summary, flt, buckets), s.attempts > 0)
        .subquery("ranked")
    )
    return read_attempts(conn, attempts_from(ranked, ranked.c.attempts, ranked.c.failures))
