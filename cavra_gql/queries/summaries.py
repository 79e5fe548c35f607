"""Hourly summary tables: rebuilt for the hours an import touched, read by the aggregates."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import (
    ColumnElement,
    Connection,
    Insert,
    Integer,
    Table,
    and_,
    case,
    cast,
    delete,
    func,
    insert,
    literal,
    or_,
    select,
    true,
)

from cavra_gql import kinds
from cavra_gql.queries.dashboard import (
    KindCount,
    ProviderAttempts,
    attempts_from,
    first_in_order,
    read_attempts,
)
from cavra_gql.queries.filters import HistoryFilter
from cavra_gql.queries.hours import HOUR_US, HourRange, floor_bucket
from cavra_gql.queries.tables import provider_summary, providers, record_summary, records

DIMENSIONS = (
    "metadata_kind",
    "connector_delivery_source",
    "delivery_success",
    "status",
    "has_outstanding",
    "category_mask",
)


def hour_runs(hours: Iterable[int]) -> list[tuple[int, int]]:
    """Sorted hour starts as contiguous [start, end) ranges."""
    runs: list[tuple[int, int]] = []
    for hour in sorted(set(hours)):
        if runs and runs[-1][1] == hour:
            runs[-1] = (runs[-1][0], hour + HOUR_US)
        else:
            runs.append((hour, hour + HOUR_US))
    return runs


def refresh(conn: Connection, hours: Iterable[int]) -> None:
    """Recount the summaries of these hours from the records (in the caller's transaction)."""
    for start, end in hour_runs(hours):
        for table in (record_summary, provider_summary):
            conn.execute(delete(table).where(table.c.hour_us >= start, table.c.hour_us < end))
        in_run = and_(
            records.c.in_history == true(),
            records.c.created_us >= start,
            records.c.created_us < end,
        )
        conn.execute(_record_rows(in_run))
        conn.execute(_provider_rows(in_run))


def _record_rows(in_run: ColumnElement[bool]) -> Insert:
    r = records.c
    hour = floor_bucket(r.created_us, HOUR_US)
    dims = [r[name] for name in DIMENSIONS]
    query = select(hour, *dims, literal(True), func.count()).where(in_run).group_by(hour, *dims)
    columns = ["hour_us", *DIMENSIONS, "in_history", "record_count"]
    return insert(record_summary).from_select(columns, query)


def _provider_rows(in_run: ColumnElement[bool]) -> Insert:
    r, p = records.c, providers.c
    audit_attempt = and_(
        r.metadata_kind == kinds.CONNECTOR_DELIVERY,
        r.connector_delivery_source == kinds.AUDIT_SOURCE,
        p.attempted == true(),
    )
    dims = [r[name] for name in DIMENSIONS]
    ranked = (
        select(
            floor_bucket(r.created_us, HOUR_US).label("hour_us"),
            p.provider,
            *dims,
            r.created_us,
            r.session_id,
            cast(p.selected, Integer).label("selected"),
            case((audit_attempt, 1), else_=0).label("attempt"),
            case((and_(audit_attempt, p.failed == true()), 1), else_=0).label("failure"),
            func.row_number()
            .over(
                partition_by=[floor_bucket(r.created_us, HOUR_US), p.provider, *dims],
                order_by=(audit_attempt.desc(), r.created_us.desc(), r.session_id),
            )
            .label("position"),
        )
        .join_from(providers, records, p.session_id == r.session_id)
        .where(in_run)
        .subquery("ranked")
    )
    k = ranked.c
    first = and_(k.position == 1, k.attempt == 1)
    keys = [k.hour_us, k.provider, *[k[name] for name in DIMENSIONS]]
    query = select(
        *keys,
        literal(True),
        func.count(),
        func.sum(k.selected),
        func.sum(k.attempt),
        func.sum(k.failure),
        func.max(case((k.attempt == 1, k.created_us))),
        func.max(case((and_(k.attempt == 1, k.failure == 0), k.created_us))),
        func.max(case((k.failure == 1, k.created_us))),
        func.max(case((first, k.created_us))),
        func.max(case((first, k.session_id))),
        func.max(case((first, k.failure))) == 1,
    ).group_by(*keys)
    columns = [
        "hour_us",
        "provider",
        *DIMENSIONS,
        "in_history",
        "record_count",
        "selected_count",
        "attempts",
        "failures",
        "last_attempt_us",
        "last_success_us",
        "last_failure_us",
        "latest_us",
        "latest_session_id",
        "latest_failed",
    ]
    return insert(provider_summary).from_select(columns, query)


def hour_conditions(table: Table, hours: HourRange) -> list[ColumnElement[bool]]:
    c = table.c
    found = []
    if hours.start is not None:
        found.append(c.hour_us >= hours.start)
    if hours.end is not None:
        found.append(c.hour_us < hours.end)
    return found


def summary_conditions(
    flt: HistoryFilter, hours: HourRange
) -> tuple[Table, list[ColumnElement[bool]]]:
    """The summary table that answers `flt`, and its conditions."""
    table = provider_summary if flt.provider is not None else record_summary
    conditions = flt.conditions(table, per_provider=True, time=False)
    return table, conditions + hour_conditions(table, hours)


def kind_counts(conn: Connection, flt: HistoryFilter, hours: HourRange) -> list[KindCount]:
    table, conditions = summary_conditions(flt, hours)
    c = table.c
    keys = (c.metadata_kind, c.connector_delivery_source, c.delivery_success)
    query = select(*keys, func.sum(c.record_count)).where(*conditions).group_by(*keys)
    return [KindCount(row[0], row[1], row[2], int(row[3])) for row in conn.execute(query)]


def total(conn: Connection, flt: HistoryFilter, hours: HourRange) -> int:
    table, conditions = summary_conditions(flt, hours)
    c = table.c
    query = select(func.coalesce(func.sum(c.record_count), 0)).where(*conditions)
    return int(conn.execute(query).scalar_one())


def audit_delivery_providers(conn: Connection, flt: HistoryFilter, hours: HourRange) -> set[str]:
    s = provider_summary.c
    conditions = flt.conditions(provider_summary, per_provider=True, time=False)
    query = (
        select(s.provider)
        .distinct()
        .where(
            *conditions,
            *hour_conditions(provider_summary, hours),
            or_(
                and_(s.metadata_kind == kinds.AUDIT_DELIVERY_PLAN, s.selected_count > 0),
                s.attempts > 0,
            ),
        )
    )
    return set(conn.execute(query).scalars())


def provider_attempts(
    conn: Connection, flt: HistoryFilter, hours: HourRange
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
        .where(
            *flt.conditions(provider_summary, per_provider=True, time=False),
            *hour_conditions(provider_summary, hours),
            s.attempts > 0,
        )
        .subquery("ranked")
    )
    return read_attempts(conn, attempts_from(ranked, ranked.c.attempts, ranked.c.failures))
