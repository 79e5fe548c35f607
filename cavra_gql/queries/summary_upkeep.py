"""Keeping the summaries exact at every write.

An import counts its records in Python as it prepares them (tally.py) and writes the tally
as it goes: as hourly rows for hours that held none, into temporary staging tables for the
others, which are merged into the stored rows in SQL at the end. Hours where a replaced
record's maxima cannot be taken back are recounted from the records; the days holding every
touched hour are rolled up from their hours, and the whole history from the days. `rebuild`
recounts everything from the records, the reference the tests hold the rest to.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from sqlalchemy import (
    Column,
    ColumnElement,
    Connection,
    Insert,
    Integer,
    MetaData,
    Table,
    and_,
    case,
    cast,
    delete,
    func,
    insert,
    literal,
    select,
    true,
)

from cavra_gql import kinds
from cavra_gql.queries.hours import DAY_US, HOUR_US, WHOLE, Buckets, floor_bucket, floor_to
from cavra_gql.queries.summaries import in_buckets
from cavra_gql.queries.tables import provider_summary, providers, record_summary, records
from cavra_gql.queries.upsert import insert_rows
from cavra_gql.tally import Tally

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
PROVIDER_FIGURES = [
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
PROVIDER_COLUMNS = ["width_us", "bucket_us", "provider", *PROVIDER_DIMENSIONS, *PROVIDER_FIGURES]


def _staging(table: Table, names: list[str]) -> Table:
    """A temporary table for hourly rows of `table` that a write adds to hours holding rows
    already, until it merges them in: created inside the write's transaction, dropped
    before it ends, never seen by another connection and never written to the database
    file's journal. Its columns are `names` but the width (all rows are hourly)."""
    columns = [Column(name, table.c[name].type) for name in names if name != "width_us"]
    return Table(
        f"staged_{table.name}",
        MetaData(),
        *columns,
        prefixes=["TEMPORARY"],
        postgresql_on_commit="DROP",
    )


STAGED_RECORDS = _staging(record_summary, RECORD_COLUMNS)
STAGED_PROVIDERS = _staging(provider_summary, PROVIDER_COLUMNS)
STAGING = ((record_summary, STAGED_RECORDS), (provider_summary, STAGED_PROVIDERS))


@dataclass(slots=True)
class HoursWritten:
    """What a write has put into the hourly summaries so far, within its transaction."""

    hours: set[int] = field(default_factory=set)
    staged: bool = False  # whether the staging tables exist (and hold rows)


def runs(starts: Iterable[int], width: int) -> list[tuple[int, int]]:
    """Bucket starts as sorted, contiguous [start, end) ranges."""
    found: list[tuple[int, int]] = []
    for start in sorted(set(starts)):
        if found and found[-1][1] == start:
            found[-1] = (found[-1][0], start + width)
        else:
            found.append((start, start + width))
    return found


def apply(
    conn: Connection, tally: Tally, unsure: set[int], written: HoursWritten | None = None
) -> None:
    """Finish a write: write its tally (except the `unsure` hours, which are recounted from
    the records), merge the staged rows, and roll the touched days and the whole history up.
    `written` is what write_hours wrote earlier in the same transaction."""
    written = HoursWritten() if written is None else written
    write_hours(conn, tally, unsure, written)
    touched = written.hours | unsure
    if not touched:
        return
    _merge_staged(conn, written)
    for start, end in runs(unsure, HOUR_US):
        _clear(conn, HOUR_US, start, end)
        in_run = and_(records.c.created_us >= start, records.c.created_us < end)
        conn.execute(_record_rows(HOUR_US, in_run))
        conn.execute(_provider_rows(HOUR_US, in_run))
    for start, end in runs({floor_to(hour, DAY_US) for hour in touched}, DAY_US):
        _roll_up(conn, DAY_US, start, end)
    roll_up_whole(conn)


def write_hours(conn: Connection, tally: Tally, unsure: set[int], written: HoursWritten) -> None:
    """Write the tally's hourly rows, but for the `unsure` hours (the tally is used up).

    An hour that holds no rows yet takes them as they are. For any other hour they are
    staged and merged into its rows when the write ends: nothing stored is read back here,
    so a file written in many parts costs the same whatever order its records come in.
    """
    clean = tally.hours() - unsure
    if not clean:
        return
    occupied = (written.hours | _stored_hours(conn, min(clean), max(clean))) & clean
    if occupied and not written.staged:
        for _, staged in STAGING:
            staged.create(conn)
        written.staged = True
    # Rows whose counts add up to nothing are left out, except those merged into others.
    records_rows = [
        (*key, count)
        for key, count in tally.records.items()
        if key[0] in clean and (count > 0 or key[0] in occupied)
    ]
    provider_rows = [
        (*key, *figures)
        for key, figures in tally.providers.items()
        if key[0] in clean and (figures[0] > 0 or key[0] in occupied)
    ]
    for (table, staged), rows in zip(STAGING, (records_rows, provider_rows), strict=True):
        columns = list(staged.c.keys())
        fresh = [(HOUR_US, *row) for row in rows if row[0] not in occupied]
        insert_rows(conn, table, ["width_us", *columns], fresh)
        insert_rows(conn, staged, columns, [row for row in rows if row[0] in occupied])
    written.hours |= clean


def _stored_hours(conn: Connection, first: int, last: int) -> set[int]:
    """The hours in [first, last] that hold summary rows."""
    found: set[int] = set()
    for table in (record_summary, provider_summary):
        c = table.c
        query = select(c.bucket_us).distinct()
        query = query.where(c.width_us == HOUR_US, c.bucket_us.between(first, last))
        found.update(conn.execute(query).scalars())
    return found


def _merge_staged(conn: Connection, written: HoursWritten) -> None:
    """Merge the staged rows into the hourly rows of their hours: the hours' stored rows
    join the staged ones and all of them are rolled up into one row per key."""
    if not written.staged:
        return
    for table, staged in STAGING:
        c = table.c
        hours = select(staged.c.bucket_us).distinct().scalar_subquery()
        in_hours = and_(c.width_us == HOUR_US, c.bucket_us.in_(hours))
        columns = list(staged.c.keys())
        stored = select(*[c[name] for name in columns]).where(in_hours)
        conn.execute(insert(staged).from_select(columns, stored))
        conn.execute(delete(table).where(in_hours))
    conn.execute(_rolled_up_records(HOUR_US, true(), STAGED_RECORDS))
    conn.execute(_rolled_up_providers(HOUR_US, true(), STAGED_PROVIDERS))
    for _, staged in STAGING:
        staged.drop(conn)
    written.staged = False


def _in(table: Table, width: int, start: int | None, end: int | None) -> ColumnElement[bool]:
    return in_buckets(table, (Buckets(width, start, end),))


def _clear(conn: Connection, width: int, start: int | None = None, end: int | None = None) -> None:
    for table in (record_summary, provider_summary):
        conn.execute(delete(table).where(_in(table, width, start, end)))


def rebuild(conn: Connection) -> None:
    """Recount every hour and day from the records, then the whole history."""
    for table in (record_summary, provider_summary):
        conn.execute(delete(table))
    for width in (HOUR_US, DAY_US):
        conn.execute(_record_rows(width, true()))
        conn.execute(_provider_rows(width, true()))
    roll_up_whole(conn)


def roll_up_whole(conn: Connection) -> None:
    """Rebuild the whole-history rows from the daily ones: a few thousand rows, not every
    record, so a one-record write stays cheap."""
    _roll_up(conn, WHOLE)


def _roll_up(
    conn: Connection, width: int, start: int | None = None, end: int | None = None
) -> None:
    """Rebuild the days in [start, end) from their hours, or (width WHOLE) the whole-history
    rows from every day."""
    _clear(conn, width, start, end)
    conn.execute(_rolled_up_records(width, _parts(record_summary, width, start, end)))
    conn.execute(_rolled_up_providers(width, _parts(provider_summary, width, start, end)))


def _parts(table: Table, width: int, start: int | None, end: int | None) -> ColumnElement[bool]:
    """The rows a roll-up into `width` adds up: hours for days, days for the whole history."""
    if width == WHOLE:
        return _in(table, DAY_US, None, None)
    return _in(table, HOUR_US, start, end)


def _target_bucket(table: Table, width: int) -> ColumnElement[int]:
    """The bucket a row rolls up into: its day, or 0 for the whole history."""
    if width == WHOLE:
        return literal(0)
    return floor_bucket(table.c.bucket_us, width)


def _rolled_up_records(
    width: int, parts: ColumnElement[bool], source: Table = record_summary
) -> Insert:
    """One row per bucket of `width` and key, adding up the rows of `source` that `parts`
    selects (a key whose count adds up to nothing gets no row)."""
    s = source.c
    bucket = _target_bucket(source, width)
    dims = [s[name] for name in RECORD_DIMENSIONS]
    rows = (
        select(literal(width), bucket, *dims, func.sum(s.record_count))
        .where(parts)
        .group_by(bucket, *dims)
        .having(func.sum(s.record_count) > 0)
    )
    return insert(record_summary).from_select(RECORD_COLUMNS, rows)


def _rolled_up_providers(
    width: int, parts: ColumnElement[bool], source: Table = provider_summary
) -> Insert:
    s = source.c
    bucket = _target_bucket(source, width).label("target")
    keys = [s.provider, *[s[name] for name in PROVIDER_DIMENSIONS]]
    ranked = (
        select(
            bucket,
            *[s[name] for name in PROVIDER_COLUMNS[2:]],  # all but the width and bucket
            # The row holding the group's first attempt in history order.
            func.row_number()
            .over(
                partition_by=keys if width == WHOLE else [bucket, *keys],
                order_by=(s.latest_us.is_(None), s.latest_us.desc(), s.latest_session_id),
            )
            .label("position"),
        )
        .where(parts)
        .subquery("parts")
    )
    k = ranked.c
    first = k.position == 1
    group = [k.target, k.provider, *[k[name] for name in PROVIDER_DIMENSIONS]]
    query = select(
        literal(width),
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
    )
    query = query.group_by(*group).having(func.sum(k.record_count) > 0)
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
