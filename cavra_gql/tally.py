"""Summary rows counted in Python while records are prepared, so an import never recounts
the records it has just written.

A Tally holds the hourly rows of record_summary and provider_summary that a set of history
records adds. Tallies merge exactly (sums, maxima and the first attempt in history order), so
the tallies of worker batches, and the rows already stored for an hour, add up to the same
rows a recount from the records gives (tests/test_summaries.py proves it).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from cavra_gql import kinds
from cavra_gql.derive import COLUMN, ProviderRole
from cavra_gql.instants import HOUR_US

# (hour, metadata_kind, connector_delivery_source, delivery_success, status, has_outstanding,
#  category_mask): the record_summary dimensions.
RecordKey = tuple[int, str, str | None, bool | None, str | None, bool, int]
# (hour, provider, metadata_kind, connector_delivery_source, delivery_success, category_mask)
ProviderKey = tuple[int, str, str, str | None, bool | None, int]
# [record_count, selected_count, attempts, failures, last_attempt_us, last_success_us,
#  last_failure_us, latest_us, latest_session_id, latest_failed]: provider_summary's figures,
# the last three describing the bucket's first audit attempt in history order.
ProviderFigures = list[Any]

_KIND, _CREATED, _STATUS, _OUTSTANDING = (
    COLUMN["metadata_kind"],
    COLUMN["created_us"],
    COLUMN["status"],
    COLUMN["has_outstanding"],
)
_SOURCE, _SUCCESS, _CATEGORIES, _SESSION = (
    COLUMN["connector_delivery_source"],
    COLUMN["delivery_success"],
    COLUMN["category_mask"],
    COLUMN["session_id"],
)


def _later(a: int | None, b: int | None) -> int | None:
    if a is None:
        return b
    if b is None:
        return a
    return a if a >= b else b


def _comes_first(us: int, session_id: str, than_us: int | None, than_id: str | None) -> bool:
    """History order: newest first, then session_id in code-point order."""
    if than_us is None or than_id is None:
        return True
    return us > than_us or (us == than_us and session_id < than_id)


def _dimensions(row: Sequence[Any]) -> tuple[int, RecordKey, bool]:
    """A history row's instant, record_summary key (its hour first), and whether it is an audit
    delivery (whose attempted providers count as attempts)."""
    created_us = row[_CREATED]
    hour = created_us // HOUR_US * HOUR_US
    kind, source = row[_KIND], row[_SOURCE]
    key = (
        hour,
        kind,
        source,
        row[_SUCCESS],
        row[_STATUS],
        bool(row[_OUTSTANDING]),
        row[_CATEGORIES],
    )
    return created_us, key, kind == kinds.CONNECTOR_DELIVERY and source == kinds.AUDIT_SOURCE


def _provider_key(key: RecordKey, provider: str) -> ProviderKey:
    """The provider_summary key of a provider in a record with this record_summary key."""
    hour, kind, source, success, _, _, categories = key
    return (hour, provider, kind, source, success, categories)


@dataclass(slots=True)
class Tally:
    """Hourly summary rows: record counts by dimensions, provider figures by provider and
    dimensions."""

    records: dict[RecordKey, int] = field(default_factory=dict)
    providers: dict[ProviderKey, ProviderFigures] = field(default_factory=dict)

    def size(self) -> int:
        """How many summary rows the tally holds."""
        return len(self.records) + len(self.providers)

    def hours(self) -> set[int]:
        return {key[0] for key in self.records} | {key[0] for key in self.providers}

    def add(self, row: Sequence[Any], roles: Iterable[ProviderRole]) -> None:
        """Count one history record (a derive.HISTORY_COLUMNS row and its provider set)."""
        created_us, key, audit = _dimensions(row)
        self.records[key] = self.records.get(key, 0) + 1
        session_id = row[_SESSION]
        for role in roles:
            figures = self._figures(_provider_key(key, role.provider))
            figures[0] += 1
            figures[1] += role.selected
            if audit and role.attempted:
                failed = role.failed
                figures[2] += 1
                figures[3] += failed
                figures[4] = _later(figures[4], created_us)
                if failed:
                    figures[6] = _later(figures[6], created_us)
                else:
                    figures[5] = _later(figures[5], created_us)
                if _comes_first(created_us, session_id, figures[7], figures[8]):
                    figures[7], figures[8], figures[9] = created_us, session_id, failed

    def _figures(self, key: ProviderKey) -> ProviderFigures:
        figures = self.providers.get(key)
        if figures is None:
            figures = self.providers[key] = [0, 0, 0, 0, None, None, None, None, None, None]
        return figures

    def merge(self, other: Tally) -> None:
        """Add another tally's rows."""
        for key, count in other.records.items():
            self.records[key] = self.records.get(key, 0) + count
        for pkey, theirs in other.providers.items():
            mine = self.providers.get(pkey)
            if mine is None:
                self.providers[pkey] = list(theirs)
                continue
            for index in range(4):
                mine[index] += theirs[index]
            for index in range(4, 7):
                mine[index] = _later(mine[index], theirs[index])
            if theirs[7] is not None and _comes_first(theirs[7], theirs[8], mine[7], mine[8]):
                mine[7], mine[8], mine[9] = theirs[7], theirs[8], theirs[9]

    def take_back(
        self, row: Sequence[Any], roles: Iterable[ProviderRole], *, keep_maxima: bool
    ) -> bool:
        """Subtract one history record's counts (a replaced version, or a record stored
        already). Maxima cannot be subtracted: False when the record had an audit attempt
        and `keep_maxima` is false, as its hour's maxima may then be stale."""
        _, key, audit = _dimensions(row)
        self.records[key] = self.records.get(key, 0) - 1
        exact = True
        for role in roles:
            figures = self._figures(_provider_key(key, role.provider))
            figures[0] -= 1
            figures[1] -= role.selected
            if audit and role.attempted:
                figures[2] -= 1
                figures[3] -= role.failed
                exact = exact and keep_maxima
        return exact
