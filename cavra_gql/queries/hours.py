"""UTC hour buckets in SQL and the split of a time range into summary hours and raw edges."""

from __future__ import annotations

from dataclasses import dataclass, replace

from sqlalchemy import ColumnElement

from cavra_gql.queries.filters import HistoryFilter

HOUR_US = 3_600_000_000

# The filters the summary tables can answer; any other filter goes to the records table.
SUMMARY_FIELDS = frozenset(
    {
        "metadata_kind",
        "connector_delivery_source",
        "delivery_success",
        "state",
        "provider_category",
        "provider",
        "created_after",
        "created_before",
    }
)


def floor_bucket(column: ColumnElement[int], width: int) -> ColumnElement[int]:
    """The start of `column`'s bucket, flooring before 1970 too (SQL's % truncates)."""
    return column - (((column % width) + width) % width)


def floor_hour(micros: int) -> int:
    return micros // HOUR_US * HOUR_US


def ceil_hour(micros: int) -> int:
    return -(-micros // HOUR_US) * HOUR_US


@dataclass(frozen=True, slots=True)
class HourRange:
    """Whole hours [start, end) answered from summaries; None means unbounded."""

    start: int | None
    end: int | None


@dataclass(frozen=True, slots=True)
class Split:
    """How to answer a filter: summary hours (if any) plus raw filters, whose sum is exact."""

    hours: HourRange | None
    raw: tuple[HistoryFilter, ...]


def split(flt: HistoryFilter, *, allow_provider: bool = True) -> Split:
    """Whole hours from the summaries and the partial hours at the edges from the records."""
    used = flt.fields_set()
    if not used <= SUMMARY_FIELDS or (not allow_provider and "provider" in used):
        return Split(None, (flt,))
    lo, hi = flt.created_after, flt.created_before
    start = None if lo is None else ceil_hour(lo)
    end = None if hi is None else floor_hour(hi)
    if start is not None and end is not None and start >= end:
        return Split(None, (flt,))  # less than one whole hour: the records are few
    edges = []
    if lo is not None and start is not None and lo < start:
        edges.append(replace(flt, created_after=lo, created_before=start))
    if hi is not None and end is not None and end < hi:
        edges.append(replace(flt, created_after=end, created_before=hi))
    return Split(HourRange(start, end), tuple(edges))
