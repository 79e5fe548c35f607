"""Time buckets: SQL bucketing, and the split of a time range into summary buckets and raw edges.

A range is answered from whole UTC days of the daily summaries, whole hours of the hourly
ones for the rest, and the records themselves for the partial hours at its two ends.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from sqlalchemy import ColumnElement

from cavra_gql.instants import HOUR_US as HOUR_US  # re-exported: the bucket widths live here
from cavra_gql.queries.filters import HistoryFilter

DAY_US = 24 * HOUR_US
# The whole history in one bucket (start 0), rolled up from the daily rows at every import.
WHOLE = 0

# The filters each summary table can answer; any other filter goes to the records table.
_TIME = frozenset({"created_after", "created_before"})
RECORD_SUMMARY_FIELDS = _TIME | {
    "metadata_kind",
    "connector_delivery_source",
    "delivery_success",
    "state",
    "provider_category",
}
PROVIDER_SUMMARY_FIELDS = _TIME | {
    "metadata_kind",
    "connector_delivery_source",
    "delivery_success",
    "provider_category",
    "provider",
}


def floor_bucket(column: ColumnElement[int], width: int) -> ColumnElement[int]:
    """The start of `column`'s bucket, flooring before 1970 too (SQL's % truncates)."""
    return column - (((column % width) + width) % width)


def floor_to(micros: int, width: int) -> int:
    return micros // width * width


def ceil_to(micros: int, width: int) -> int:
    return -(-micros // width) * width


def floor_hour(micros: int) -> int:
    return floor_to(micros, HOUR_US)


@dataclass(frozen=True, slots=True)
class Buckets:
    """Summary buckets of one width in [start, end); None means unbounded."""

    width: int
    start: int | None
    end: int | None


@dataclass(frozen=True, slots=True)
class Split:
    """How to answer a filter exactly: summary buckets (if any) plus raw filters."""

    buckets: tuple[Buckets, ...] | None
    raw: tuple[HistoryFilter, ...]


def _whole(lo: int | None, hi: int | None, width: int) -> tuple[int | None, int | None]:
    return (None if lo is None else ceil_to(lo, width), None if hi is None else floor_to(hi, width))


def _before(a: int | None, b: int | None) -> bool:
    """a < b where None is -inf for a and +inf for b."""
    return a is None or b is None or a < b


def split(
    flt: HistoryFilter, allowed: frozenset[str], *, days: bool = True, whole: bool = False
) -> Split:
    """Days (unless `days` is false), then hours, from the summaries; the partial hours at the
    ends from the records. With `whole`, a filter without a time range reads the one
    whole-history bucket instead of every day."""
    if not flt.fields_set() <= allowed:
        return Split(None, (flt,))
    lo, hi = flt.created_after, flt.created_before
    if whole and lo is None and hi is None:
        return Split((Buckets(WHOLE, None, None),), ())
    hour_start, hour_end = _whole(lo, hi, HOUR_US)
    if not _before(hour_start, hour_end):
        return Split(None, (flt,))  # less than one whole hour: the records are few
    raw = []
    if lo is not None and hour_start is not None and lo < hour_start:
        raw.append(replace(flt, created_after=lo, created_before=hour_start))
    if hi is not None and hour_end is not None and hour_end < hi:
        raw.append(replace(flt, created_after=hour_end, created_before=hi))
    day_start, day_end = _whole(hour_start, hour_end, DAY_US)
    if not days or not _before(day_start, day_end):
        return Split((Buckets(HOUR_US, hour_start, hour_end),), tuple(raw))
    buckets = [Buckets(DAY_US, day_start, day_end)]
    if hour_start is not None and day_start is not None and hour_start < day_start:
        buckets.append(Buckets(HOUR_US, hour_start, day_start))
    if hour_end is not None and day_end is not None and day_end < hour_end:
        buckets.append(Buckets(HOUR_US, day_end, hour_end))
    return Split(tuple(buckets), tuple(raw))
