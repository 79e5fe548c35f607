"""SPEC §4's dashboard figures, assembled lazily from the aggregate queries."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import Enum
from functools import cached_property, reduce

from sqlalchemy import Connection

from cavra_gql import kinds
from cavra_gql.instants import to_datetime
from cavra_gql.queries import aggregates, outstanding
from cavra_gql.queries import dashboard as raw
from cavra_gql.queries.filters import HistoryFilter
from cavra_gql.queries.history import PageRequest, RecordRow, fetch_page

LATEST = 10


class HealthStatus(Enum):
    """Audit delivery health that tells recovery from ongoing failure."""

    HEALTHY = "HEALTHY"
    DEGRADED = "DEGRADED"
    CRITICAL = "CRITICAL"
    UNKNOWN = "UNKNOWN"


def rate(successes: int, attempts: int) -> float | None:
    """Success ratio rounded to 4 decimals; None when nothing was attempted."""
    if not attempts:
        return None
    # Exact half-up rounding in integers: float division then round() is off at halves.
    return (successes * 20_000 + attempts) // (2 * attempts) / 10_000


def status_of(items: Sequence[raw.ProviderAttempts]) -> HealthStatus:
    if not any(item.attempts for item in items):
        return HealthStatus.UNKNOWN
    if not any(item.failures for item in items):
        return HealthStatus.HEALTHY
    if any(item.latest_failed for item in items):
        return HealthStatus.CRITICAL
    return HealthStatus.DEGRADED


def _moment(micros: int | None) -> datetime | None:
    return None if micros is None else to_datetime(micros)


@dataclass(frozen=True, slots=True)
class DeliveryHealth:
    """Audit delivery figures for one provider or one category of providers."""

    name: str
    category: str | None
    providers: tuple[str, ...]
    attempts: int
    failures: int
    last_attempt_us: int | None
    last_success_us: int | None
    last_failure_us: int | None
    status: HealthStatus

    @property
    def provider(self) -> str:
        return self.name

    @property
    def last_attempt_at(self) -> datetime | None:
        return _moment(self.last_attempt_us)

    @property
    def last_success_at(self) -> datetime | None:
        return _moment(self.last_success_us)

    @property
    def last_failure_at(self) -> datetime | None:
        return _moment(self.last_failure_us)

    @property
    def successes(self) -> int:
        return self.attempts - self.failures

    @property
    def success_rate(self) -> float | None:
        return rate(self.successes, self.attempts)

    @classmethod
    def combine(
        cls,
        name: str,
        category: str | None,
        members: tuple[str, ...],
        items: Sequence[raw.ProviderAttempts],
    ) -> DeliveryHealth:
        figures = reduce(raw.ProviderAttempts.merge, items) if items else None
        return cls(
            name=name,
            category=category,
            providers=members,
            attempts=figures.attempts if figures else 0,
            failures=figures.failures if figures else 0,
            last_attempt_us=figures.last_attempt_us if figures else None,
            last_success_us=figures.last_success_us if figures else None,
            last_failure_us=figures.last_failure_us if figures else None,
            # Not the merged latest attempt: CRITICAL when any member's latest one failed.
            status=status_of(items),
        )


class Dashboard:
    """The dashboard over one filter, under SPEC §4's field names.

    Each group of figures costs one query, run the first time one of them is read.
    """

    def __init__(self, conn: Connection, flt: HistoryFilter) -> None:
        self.conn = conn
        self.filter = flt

    @cached_property
    def counts(self) -> raw.Counts:
        return aggregates.counts(self.conn, self.filter)

    def __getattr__(self, name: str) -> int:
        if name in raw.Counts.__dataclass_fields__:
            value: int = getattr(self.counts, name)
            return value
        raise AttributeError(name)

    @cached_property
    def acknowledgement_audit_delivery_providers(self) -> list[str]:
        return aggregates.audit_delivery_providers(self.conn, self.filter)

    @cached_property
    def _attempts(self) -> list[raw.ProviderAttempts]:
        return aggregates.provider_attempts(self.conn, self.filter)

    @cached_property
    def _outstanding(self) -> tuple[int, list[outstanding.OutstandingRoute]]:
        return outstanding.outstanding_routes(self.conn, self.filter)

    @cached_property
    def latest(self) -> list[RecordRow]:
        return fetch_page(self.conn, self.filter, PageRequest(limit=LATEST)).rows

    def load(self) -> tuple[object, ...]:
        """Read every figure now (the connection may close after); returns them, so that
        two loads compare equal when the dashboard shows the same."""
        return (
            self.counts,
            tuple(self.acknowledgement_audit_delivery_providers),
            tuple(self._attempts),
            self._outstanding[0],
            tuple(self._outstanding[1]),
            tuple((row.session_id, row.record_json) for row in self.latest),
        )

    @property
    def outstanding_acknowledgement_count(self) -> int:
        return self._outstanding[0]

    @property
    def outstanding_acknowledgements(self) -> list[outstanding.OutstandingRoute]:
        return self._outstanding[1]

    @property
    def alert_level(self) -> str:
        critical = self.counts.failed_delivery_count > 0 or self.outstanding_acknowledgement_count
        return "critical" if critical else "healthy"

    @property
    def acknowledgement_audit_delivery_success_count(self) -> int:
        c = self.counts
        return (
            c.acknowledgement_audit_delivery_count - c.failed_acknowledgement_audit_delivery_count
        )

    @property
    def acknowledgement_audit_delivery_success_rate(self) -> float | None:
        return rate(
            self.acknowledgement_audit_delivery_success_count,
            self.counts.acknowledgement_audit_delivery_count,
        )

    @property
    def acknowledgement_audit_delivery_health(self) -> str:
        return "critical" if self.counts.failed_acknowledgement_audit_delivery_count else "healthy"

    @property
    def provider_health(self) -> list[DeliveryHealth]:
        """Every audit destination: those attempted, and those planned but never tried."""
        attempted = {item.provider: item for item in self._attempts}
        names = sorted(set(attempted) | set(self.acknowledgement_audit_delivery_providers))
        return [
            DeliveryHealth.combine(
                name,
                kinds.CATEGORY_OF_PROVIDER.get(name),
                (name,),
                [attempted[name]] if name in attempted else [],
            )
            for name in names
        ]

    @property
    def category_health(self) -> list[DeliveryHealth]:
        return [
            DeliveryHealth.combine(
                category,
                category,
                members,
                [item for item in self._attempts if item.provider in members],
            )
            for category, members in kinds.PROVIDER_CATEGORIES.items()
        ]

    @property
    def health_status(self) -> HealthStatus:
        return status_of(self._attempts)
