"""SPEC §4's outstanding acknowledgements: required routes of each schedule's first plan
that no acknowledgement has closed, counted and listed by one SQL statement."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, Connection, Subquery, exists, func, select

from cavra_gql import kinds
from cavra_gql.queries.dashboard import first_in_order
from cavra_gql.queries.filters import HistoryFilter
from cavra_gql.queries.tables import records, required_routes

OUTSTANDING_LISTED = 20
MAX_LISTED_IDS = 5000  # beyond this many schedules, ids go back as a subquery, not a list


@dataclass(frozen=True, slots=True)
class OutstandingRoute:
    schedule_id: str | None
    provider: str
    plan_id: str | None


# Filters checked cheaply on each plan while walking one schedule's plans newest first.
_WALKABLE = frozenset({"provider_category", "created_after", "created_before"})


def outstanding_routes(
    conn: Connection, flt: HistoryFilter, listed: int = OUTSTANDING_LISTED
) -> tuple[int, list[OutstandingRoute]]:
    """SPEC §4's outstanding acknowledgements: their count and the first `listed` of them."""
    if flt.delivery_success is not None or flt.metadata_kind not in (None, kinds.NOTIFICATION_PLAN):
        return 0, []  # such filters select no notification plan
    used = flt.fields_set() - {"metadata_kind"}
    walkable = used <= _WALKABLE or (
        used <= _WALKABLE | {"provider"} and flt.provider in kinds.PROVIDER_BITS
    )
    firsts = _first_plans_by_walk(flt) if walkable else _first_plans_by_rank(flt)
    # The first plans are few (one per schedule): fetched on their own, their ids let every
    # database look the plans up by key instead of guessing a join over all records.
    first_ids = list(conn.execute(select(firsts.c.session_id)).scalars())
    if not first_ids:
        return 0, []
    plan = records.alias("plan")
    chosen = (
        plan.c.session_id.in_(first_ids)
        if len(first_ids) <= MAX_LISTED_IDS
        else plan.c.session_id.in_(select(firsts.c.session_id))  # too many to bind one by one
    )
    ack = records.alias("ack")
    routes = required_routes.c
    done = (
        exists()
        .where(
            *flt.conditions(ack),
            ack.c.acknowledgement_state.in_(kinds.ACK_DONE_STATES),
            ack.c.schedule_id == plan.c.route_schedule_key,
            ack.c.provider == routes.provider,
            ack.c.metadata_kind == kinds.ACKNOWLEDGEMENT,
        )
        .correlate(plan, required_routes)
    )
    query = (
        select(
            plan.c.route_schedule_key,
            routes.provider,
            plan.c.route_plan_id,
            func.count().over().label("total"),
        )
        .select_from(plan)
        .join(required_routes, routes.session_id == plan.c.session_id)
        .where(chosen, ~done)
        .order_by(plan.c.created_us.desc(), plan.c.session_id, routes.position)
        .limit(listed)
    )
    rows = conn.execute(query).all()
    total = int(rows[0].total) if rows else 0
    return total, [OutstandingRoute(row[0], row[1], row[2]) for row in rows]


def _plans(table: Any, flt: HistoryFilter) -> list[ColumnElement[bool]]:
    # Only notification plans have a route schedule key (derive sets it for them alone),
    # and a plan without a schedule has no routes to acknowledge.
    return [*flt.conditions(table), table.c.route_schedule_key.is_not(None)]


def _first_plans_by_rank(flt: HistoryFilter) -> Subquery:
    """The first plan of each schedule among the matching plans (few, found by index)."""
    plan = records.alias("ranked_plan")
    ranked = (
        select(
            plan.c.session_id,
            first_in_order(plan.c.route_schedule_key, plan.c.created_us, plan.c.session_id).label(
                "position"
            ),
        )
        .where(*_plans(plan, flt))
        .subquery("ranked")
    )
    return select(ranked.c.session_id).where(ranked.c.position == 1).subquery("firsts")


def _first_plans_by_walk(flt: HistoryFilter) -> Subquery:
    """The first matching plan of each schedule: skip from schedule to schedule in the index
    and walk each one's plans newest first, so the cost follows schedules, not plans."""
    lowest = records.alias("lowest")
    keys = (
        select(func.min(lowest.c.route_schedule_key).label("key"))
        .where(lowest.c.route_schedule_key.is_not(None))
        .cte("schedule_keys", recursive=True)
    )
    following = records.alias("following")
    keys = keys.union_all(
        select(
            select(func.min(following.c.route_schedule_key))
            .where(following.c.route_schedule_key > keys.c.key)
            .scalar_subquery()
        ).where(keys.c.key.is_not(None))
    )
    plan = records.alias("walked_plan")
    first = (
        select(plan.c.session_id)
        .where(plan.c.route_schedule_key == keys.c.key, *_plans(plan, flt))
        .order_by(plan.c.created_us.desc(), plan.c.session_id)
        .limit(1)
        .scalar_subquery()
    )
    found = select(first.label("session_id")).where(keys.c.key.is_not(None)).subquery("walked")
    return select(found.c.session_id).where(found.c.session_id.is_not(None)).subquery("firsts")
