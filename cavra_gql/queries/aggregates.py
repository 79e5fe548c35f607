"""Aggregates answered from the summaries where the filter allows, else from the records.

Each figure is the exact sum of its parts: summary days and hours, plus the records of the
partial hours at the ends of a time range, or the records alone for filters the summaries
do not carry.
"""

from __future__ import annotations

from functools import reduce

from sqlalchemy import Connection

from cavra_gql.queries import dashboard as raw
from cavra_gql.queries import history, summaries
from cavra_gql.queries.dashboard import Counts, KindCount, ProviderAttempts
from cavra_gql.queries.filters import HistoryFilter
from cavra_gql.queries.hours import PROVIDER_SUMMARY_FIELDS, RECORD_SUMMARY_FIELDS, Split, split

# The per-provider summaries answer "which providers" only without a provider filter.
_PROVIDER_FIGURES = PROVIDER_SUMMARY_FIELDS - {"provider"}


def _counting(flt: HistoryFilter) -> Split:
    allowed = PROVIDER_SUMMARY_FIELDS if flt.provider is not None else RECORD_SUMMARY_FIELDS
    return split(flt, allowed, whole=True)


def total(conn: Connection, flt: HistoryFilter) -> int:
    """Every match of `flt` (the history page's `total`)."""
    plan = _counting(flt)
    found = sum(history.count_matches(conn, part) for part in plan.raw)
    if plan.buckets is not None:
        found += summaries.total(conn, flt, plan.buckets)
    return found


def kind_groups(conn: Connection, flt: HistoryFilter) -> list[KindCount]:
    """Matches of `flt` per kind, connector source and outcome (unfiltered: the whole-history
    summary rows alone)."""
    plan = _counting(flt)
    groups = [group for part in plan.raw for group in raw.kind_counts(conn, part)]
    if plan.buckets is not None:
        groups += summaries.kind_counts(conn, flt, plan.buckets)
    return groups


def counts(conn: Connection, flt: HistoryFilter) -> Counts:
    return Counts.of(kind_groups(conn, flt))


def audit_delivery_providers(conn: Connection, flt: HistoryFilter) -> list[str]:
    """Sorted by code point (in Python: a PostgreSQL locale would sort otherwise)."""
    plan = split(flt, _PROVIDER_FIGURES, whole=True)
    found: set[str] = set()
    for part in plan.raw:
        found |= raw.audit_delivery_providers(conn, part)
    if plan.buckets is not None:
        found |= summaries.audit_delivery_providers(conn, flt, plan.buckets)
    return sorted(found)


def provider_attempts(conn: Connection, flt: HistoryFilter) -> list[ProviderAttempts]:
    plan = split(flt, _PROVIDER_FIGURES, whole=True)
    parts = [raw.provider_attempts(conn, part) for part in plan.raw]
    if plan.buckets is not None:
        parts.append(summaries.provider_attempts(conn, flt, plan.buckets))
    merged: dict[str, list[ProviderAttempts]] = {}
    for part in parts:
        for item in part:
            merged.setdefault(item.provider, []).append(item)
    return [reduce(ProviderAttempts.merge, items) for _, items in sorted(merged.items())]
