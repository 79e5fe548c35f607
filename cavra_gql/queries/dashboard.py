"""SPEC §4's dashboard aggregates over the records table, each one SQL statement."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Connection,
    Select,
    Subquery,
    and_,
    case,
    func,
    literal,
    or_,
    select,
    true,
)

from cavra_gql import kinds
from cavra_gql.queries.filters import HistoryFilter
from cavra_gql.queries.tables import providers, records


@dataclass(frozen=True, slots=True)
class KindCount:
    """Records of one kind, connector source and delivery outcome."""

    metadata_kind: str
    connector_delivery_source: str | None
    delivery_success: bool | None
    count: int


@dataclass(frozen=True, slots=True)
class Counts:
    """Record counts by kind and outcome over the filtered history."""

    plan_count: int
    delivery_count: int
    notification_delivery_count: int
    failed_delivery_count: int
    acknowledgement_count: int
    acknowledgement_audit_package_count: int
    acknowledgement_audit_delivery_plan_count: int
    acknowledgement_audit_delivery_count: int
    failed_acknowledgement_audit_delivery_count: int

    @classmethod
    def of(cls, groups: Iterable[KindCount]) -> Counts:
        totals = [0] * 9
        for g in groups:
            delivery = g.metadata_kind == kinds.CONNECTOR_DELIVERY
            audit = delivery and g.connector_delivery_source == kinds.AUDIT_SOURCE
            failed = delivery and g.delivery_success is not True
            for index, applies in enumerate(
                (
                    g.metadata_kind == kinds.NOTIFICATION_PLAN,
                    delivery,
                    delivery and g.connector_delivery_source == kinds.NOTIFICATION_SOURCE,
                    failed,
                    g.metadata_kind == kinds.ACKNOWLEDGEMENT,
                    g.metadata_kind == kinds.AUDIT_PACKAGE,
                    g.metadata_kind == kinds.AUDIT_DELIVERY_PLAN,
                    audit,
                    audit and failed,
                )
            ):
                if applies:
                    totals[index] += g.count
        return cls(*totals)


@dataclass(frozen=True, slots=True)
class ProviderAttempts:
    """One provider's audit delivery attempts (instants in microseconds)."""

    provider: str
    attempts: int
    failures: int
    last_attempt_us: int | None
    last_success_us: int | None
    last_failure_us: int | None
    latest_us: int | None  # the first attempt in history order...
    latest_session_id: str | None
    latest_failed: bool  # ...and whether it failed

    def merge(self, other: ProviderAttempts) -> ProviderAttempts:
        """The figures over both sets of attempts."""

        def newest(a: int | None, b: int | None) -> int | None:
            return b if a is None else a if b is None else max(a, b)

        first = _first_in_order(self, other)
        return ProviderAttempts(
            self.provider,
            self.attempts + other.attempts,
            self.failures + other.failures,
            newest(self.last_attempt_us, other.last_attempt_us),
            newest(self.last_success_us, other.last_success_us),
            newest(self.last_failure_us, other.last_failure_us),
            first.latest_us,
            first.latest_session_id,
            first.latest_failed,
        )


def _first_in_order(a: ProviderAttempts, b: ProviderAttempts) -> ProviderAttempts:
    if a.latest_us is None or b.latest_us is None:
        return b if a.latest_us is None else a
    # History order: newest first, then session_id by code point.
    return (
        a
        if (-a.latest_us, a.latest_session_id or "") <= (-b.latest_us, b.latest_session_id or "")
        else b
    )


def count_if(condition: ColumnElement[bool]) -> ColumnElement[int]:
    return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)


def kind_counts(conn: Connection, flt: HistoryFilter) -> list[KindCount]:
    c = records.c
    keys = (c.metadata_kind, c.connector_delivery_source, c.delivery_success)
    query = select(*keys, func.count()).where(*flt.conditions()).group_by(*keys)
    return [KindCount(row[0], row[1], row[2], int(row[3])) for row in conn.execute(query)]


def audit_delivery_providers(conn: Connection, flt: HistoryFilter) -> set[str]:
    """Providers named by audit delivery plans and audit deliveries."""
    c = records.c
    query = (
        select(providers.c.provider)
        .distinct()
        .join_from(providers, records, providers.c.session_id == c.session_id)
        .where(
            *flt.conditions(),
            or_(
                and_(c.metadata_kind == kinds.AUDIT_DELIVERY_PLAN, providers.c.selected == true()),
                and_(
                    c.metadata_kind == kinds.CONNECTOR_DELIVERY,
                    c.connector_delivery_source == kinds.AUDIT_SOURCE,
                    providers.c.attempted == true(),
                ),
            ),
        )
    )
    return set(conn.execute(query).scalars())


def first_in_order(
    partition: ColumnElement[Any], instant: ColumnElement[int], session_id: ColumnElement[str]
) -> ColumnElement[int]:
    """1 for the first row of `partition` in history order (newest, then lowest id)."""
    return func.row_number().over(partition_by=partition, order_by=(instant.desc(), session_id))


def attempts_from(ranked: Subquery, attempts: Any, failures: Any) -> Select[Any]:
    """Per provider over a ranked subquery with provider, position, latest_* columns."""
    k = ranked.c
    first = k.position == 1
    return select(
        k.provider,
        func.sum(attempts),
        func.sum(failures),
        func.max(k.last_attempt_us),
        func.max(k.last_success_us),
        func.max(k.last_failure_us),
        func.max(case((first, k.latest_us))),
        func.max(case((first, k.latest_session_id))),
        count_if(and_(first, k.latest_failed == true())),
    ).group_by(k.provider)


def read_attempts(conn: Connection, query: Select[Any]) -> list[ProviderAttempts]:
    return [
        ProviderAttempts(
            row[0], int(row[1]), int(row[2]), row[3], row[4], row[5], row[6], row[7], bool(row[8])
        )
        for row in conn.execute(query)
    ]


def provider_attempts(conn: Connection, flt: HistoryFilter) -> list[ProviderAttempts]:
    """Per provider: audit delivery attempts, failures and the latest outcomes."""
    c, p = records.c, providers.c
    failed = p.failed == true()
    ranked = (
        select(
            p.provider,
            c.created_us.label("latest_us"),
            c.session_id.label("latest_session_id"),
            p.failed.label("latest_failed"),
            c.created_us.label("last_attempt_us"),
            case((~failed, c.created_us)).label("last_success_us"),
            case((failed, c.created_us)).label("last_failure_us"),
            case((failed, 1), else_=0).label("failure"),
            first_in_order(p.provider, c.created_us, c.session_id).label("position"),
        )
        .join_from(providers, records, p.session_id == c.session_id)
        .where(
            *flt.conditions(),
            c.metadata_kind == kinds.CONNECTOR_DELIVERY,
            c.connector_delivery_source == kinds.AUDIT_SOURCE,
            p.attempted == true(),
        )
        .subquery("attempts")
    )
    return read_attempts(conn, attempts_from(ranked, literal(1), ranked.c.failure))
