"""Hourly and daily summary tables: rebuilt for the buckets an import touched, read by the
aggregates in place of the records they count."""

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
from cavra_gql.queries.hours import DAY_US, WHOLE, WIDTHS, Buckets, floor_bucket, floor_to
from cavra_gql.queries.tables import provider_summary, providers, record_summary, records

RECORD_DIMENSIONS = (
    "metadata_kind",
    "connector_delivery_source",
    "delivery_success",
    "status",
    "has_outstanding",
    "category_mask",
)
PROVIDER_DIMENSIONS = (
    "metadata_kind",
    "connector_delivery_source",
    "delivery_success",
    "category_mask",
)
# The columns the summary rows are inserted into, in the order their queries select them.
RECORD_COLUMNS = ["width_us", "bucket_us", *RECORD_DIMENSIONS, "record_count"]
PROVIDER_COLUMNS = [
    "width_us",
    "bucket_us",
    "provider",
    *PROVIDER_DIMENSIONS,
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


def runs(starts: Iterable[int], width: int) -> list[tuple[int, int]]:
    """Bucket starts as sorted, contiguous [start, end) ranges."""
    found: list[tuple[int, int]] = []
    for start in sorted(set(starts)):
        if found and found[-1][1] == start:
            found[-1] = (found[-1][0], start + width)
        else:
            found.append((start, start + width))
    return found


def refresh(conn: Connection, hours: Iterable[int]) -> None:
    """Recount the hours given and the days holding them, then roll the days up into the
    whole-history rows (in the caller's transaction)."""
    touched = set(hours)
    if not touched:
        return
    for width in WIDTHS:
        for start, end in runs({floor_to(hour, width) for hour in touched}, width):
            for table in (record_summary, provider_summary):
                conn.execute(
                    delete(table).where(
                        table.c.width_us == width,
                        table.c.bucket_us >= start,
                        table.c.bucket_us < end,
                    )
                )
            in_run = and_(records.c.created_us >= start, records.c.created_us < end)
            conn.execute(_record_rows(width, in_run))
            conn.execute(_provider_rows(width, in_run))
    roll_up_whole(conn)


def roll_up_whole(conn: Connection) -> None:
    """Rebuild the whole-history rows from the daily ones: a few thousand rows, not every
    record, so a one-record write stays cheap."""
    for table in (record_summary, provider_summary):
        conn.execute(delete(table).where(table.c.width_us == WHOLE))
    day = record_summary.c
    dims = [day[name] for name in RECORD_DIMENSIONS]
    rows = (
        select(literal(WHOLE), literal(0), *dims, func.sum(day.record_count))
        .where(day.width_us == DAY_US)
        .group_by(*dims)
    )
    conn.execute(insert(record_summary).from_select(RECORD_COLUMNS, rows))
    conn.execute(_whole_provider_rows())


def _whole_provider_rows() -> Insert:
    s = provider_summary.c
    keys = [s.provider, *[s[name] for name in PROVIDER_DIMENSIONS]]
    ranked = (
        select(
            *[s[name] for name in PROVIDER_COLUMNS[2:]],  # all but the width and bucket
            # The day holding the group's first attempt in history order.
            func.row_number()
            .over(
                partition_by=keys,
                order_by=(s.latest_us.is_(None), s.latest_us.desc(), s.latest_session_id),
            )
            .label("position"),
        )
        .where(s.width_us == DAY_US)
        .subquery("days")
    )
    k = ranked.c
    first = k.position == 1
    group = [k.provider, *[k[name] for name in PROVIDER_DIMENSIONS]]
    query = select(
        literal(WHOLE),
        literal(0),
        *group,
        func.sum(k.record_count),
        func.sum(k.selected_count),
        func.sum(k.attempts),
        func.sum(k.failures),
        func.max(k.last_attempt_us),
        func.max(k.last_success_us),
        func.max(k.last_failure_us),
        func.max(case((first, k.latest_us))),
        func.max(case((first, k.latest_session_id))),
        func.max(case((first, cast(k.latest_failed, Integer)))) == 1,
    ).group_by(*group)
    return insert(provider_summary).from_select(PROVIDER_COLUMNS, query)


def _record_rows(width: int, in_run: ColumnElement[bool]) -> Insert:
    r = records.c
    bucket = floor_bucket(r.created_us, width)
    dims = [r[name] for name in RECORD_DIMENSIONS]
    query = (
        select(literal(width), bucket, *dims, func.count()).where(in_run).group_by(bucket, *dims)
    )
    return insert(record_summary).from_select(RECORD_COLUMNS, query)


def _provider_rows(width: int, in_run: ColumnElement[bool]) -> Insert:
    r, p = records.c, providers.c
    audit_attempt = and_(
        r.metadata_kind == kinds.CONNECTOR_DELIVERY,
        r.connector_delivery_source == kinds.AUDIT_SOURCE,
        p.attempted == true(),
    )
    bucket = floor_bucket(r.created_us, width)
    dims = [r[name] for name in PROVIDER_DIMENSIONS]
    ranked = (
        select(
            bucket.label("bucket_us"),
            p.provider,
            *dims,
            r.created_us,
            r.session_id,
            cast(p.selected, Integer).label("selected"),
            case((audit_attempt, 1), else_=0).label("attempt"),
            case((and_(audit_attempt, p.failed == true()), 1), else_=0).label("failure"),
            func.row_number()
            .over(
                partition_by=[bucket, p.provider, *dims],
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
    keys = [k.bucket_us, k.provider, *[k[name] for name in PROVIDER_DIMENSIONS]]
    query = select(
        literal(width),
        *keys,
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
    return insert(provider_summary).from_select(PROVIDER_COLUMNS, query)


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
