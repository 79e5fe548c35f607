"""SPEC §4's dashboard aggregates, each computed by one SQL statement."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import (
    ColumnElement,
    Connection,
    and_,
    case,
    exists,
    false,
    func,
    or_,
    select,
    true,
)

from cavra_gql import kinds
from cavra_gql.queries.filters import HistoryFilter
from cavra_gql.queries.tables import providers, records, required_routes

OUTSTANDING_LISTED = 20


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


@dataclass(frozen=True, slots=True)
class ProviderAttempts:
    """One provider's audit delivery attempts (instants in microseconds)."""

    provider: str
    attempts: int
    failures: int
    last_attempt_us: int | None
    last_success_us: int | None
    last_failure_us: int | None
    latest_failed: bool


@dataclass(frozen=True, slots=True)
class OutstandingRoute:
    schedule_id: str | None
    provider: str
    plan_id: str | None


def _count(condition: ColumnElement[bool]) -> ColumnElement[int]:
    return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)


def counts(conn: Connection, flt: HistoryFilter) -> Counts:
    c = records.c
    connector = c.metadata_kind == kinds.CONNECTOR_DELIVERY
    failed = and_(connector, c.delivery_success == false())
    audit = and_(connector, c.connector_delivery_source == kinds.AUDIT_SOURCE)
    query = select(
        _count(c.metadata_kind == kinds.NOTIFICATION_PLAN),
        _count(connector),
        _count(and_(connector, c.connector_delivery_source == kinds.NOTIFICATION_SOURCE)),
        _count(failed),
        _count(c.metadata_kind == kinds.ACKNOWLEDGEMENT),
        _count(c.metadata_kind == kinds.AUDIT_PACKAGE),
        _count(c.metadata_kind == kinds.AUDIT_DELIVERY_PLAN),
        _count(audit),
        _count(and_(audit, c.delivery_success == false())),
    ).where(*flt.conditions())
    return Counts(*(int(value) for value in conn.execute(query).one()))


def audit_delivery_providers(conn: Connection, flt: HistoryFilter) -> list[str]:
    """Providers named by audit delivery plans and audit deliveries, sorted by code point."""
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
    return sorted(conn.execute(query).scalars())


def provider_attempts(conn: Connection, flt: HistoryFilter) -> list[ProviderAttempts]:
    """Per provider: audit delivery attempts, failures and the latest outcomes."""
    c = records.c
    attempts = (
        select(
            providers.c.provider,
            providers.c.failed,
            c.created_us,
            func.row_number()
            .over(partition_by=providers.c.provider, order_by=(c.created_us.desc(), c.session_id))
            .label("position"),
        )
        .join_from(providers, records, providers.c.session_id == c.session_id)
        .where(
            *flt.conditions(),
            c.metadata_kind == kinds.CONNECTOR_DELIVERY,
            c.connector_delivery_source == kinds.AUDIT_SOURCE,
            providers.c.attempted == true(),
        )
        .subquery("attempts")
    )
    a = attempts.c
    query = select(
        a.provider,
        func.count(),
        _count(a.failed == true()),
        func.max(a.created_us),
        func.max(case((a.failed == false(), a.created_us))),
        func.max(case((a.failed == true(), a.created_us))),
        _count(and_(a.position == 1, a.failed == true())),
    ).group_by(a.provider)
    found = [
        ProviderAttempts(row[0], int(row[1]), int(row[2]), row[3], row[4], row[5], bool(row[6]))
        for row in conn.execute(query)
    ]
    return sorted(found, key=lambda item: item.provider)


def outstanding_routes(
    conn: Connection, flt: HistoryFilter, listed: int = OUTSTANDING_LISTED
) -> tuple[int, list[OutstandingRoute]]:
    """SPEC §4's outstanding acknowledgements: their count and the first `listed` of them."""
    plan = records.alias("plan")
    ranked = (
        select(
            plan.c.session_id,
            plan.c.created_us,
            plan.c.route_schedule_key,
            plan.c.route_plan_id,
            func.row_number()
            .over(
                partition_by=plan.c.route_schedule_key,
                order_by=(plan.c.created_us.desc(), plan.c.session_id),
            )
            .label("position"),
        )
        .where(
            *flt.conditions(plan),
            plan.c.metadata_kind == kinds.NOTIFICATION_PLAN,
            plan.c.route_schedule_key.is_not(None),  # no schedule, no routes to acknowledge
        )
        .subquery("ranked")
    )
    p = ranked.c
    ack = records.alias("ack")
    done = (
        exists()
        .where(
            *flt.conditions(ack),
            ack.c.metadata_kind == kinds.ACKNOWLEDGEMENT,
            ack.c.schedule_id == p.route_schedule_key,
            ack.c.provider == required_routes.c.provider,
            ack.c.acknowledgement_state.in_(kinds.ACK_DONE_STATES),
        )
        .correlate(ranked, required_routes)
    )
    query = (
        select(
            p.route_schedule_key,
            required_routes.c.provider,
            p.route_plan_id,
            func.count().over().label("total"),
        )
        .join_from(ranked, required_routes, required_routes.c.session_id == p.session_id)
        .where(p.position == 1, ~done)
        .order_by(p.created_us.desc(), p.session_id, required_routes.c.position)
        .limit(listed)
    )
    rows = conn.execute(query).all()
    total = int(rows[0].total) if rows else 0
    return total, [OutstandingRoute(row[0], row[1], row[2]) for row in rows]
