"""A bundled, deterministic 30-day CAVRA rollback-drill evidence history for `--demo`."""

from __future__ import annotations

import bisect
import hashlib
import random
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from typing import Any, TypeVar

from cavra_gql import kinds

_T = TypeVar("_T")
Record = dict[str, Any]

SEED = 20250617
HOUR = 3600
DAY = 24 * HOUR
OLDEST_AGE = 30 * DAY - 2 * HOUR

STORE_SCHEMA = "cavra.evidence.metadata.v1"
PILOT = "cavra.go-backend-pilot"
SUPPRESSION_TREND = "go-backend-rollback-drill-routing-suppression-trend"

TEAMS: dict[str, tuple[str, ...]] = {
    "payments-sre": ("payments", "ledger", "checkout", "refunds", "payouts"),
    "core-platform": ("gateway", "auth", "config", "scheduler", "queue"),
    "data-eng": ("warehouse", "reporting", "ingest", "analytics", "ml-features"),
    "identity-team": ("identity", "sso", "directory", "mfa"),
    "commerce-sre": ("catalog", "pricing", "inventory", "search", "shipping"),
    "edge-network": ("cdn", "dns", "edge-proxy", "waf"),
}
NEW_SCHEDULES = ("mfa", "waf")
DRILL_CADENCES = ("weekly", "weekly", "monthly", "daily", "quarterly")
PEOPLE = (
    "priya.nair",
    "marco.rossi",
    "li.wei",
    "amara.okafor",
    "jonas.berg",
    "sofia.alvarez",
    "kenji.tanaka",
    "fatima.haddad",
)
ALL_PROVIDERS = tuple(sorted(kinds.CATEGORY_OF_PROVIDER))
AUDIT_REQUESTS = (
    "all",
    "splunk",
    "sentinel",
    "datadog,jira",
    "servicenow",
    "splunk,servicenow",
    "sentinel,slack",
    "jira,teams",
    "webhook",
    "datadog",
    "sentinel,servicenow,teams",
)
CADENCES = {"on_demand": 0, "hourly": HOUR, "daily": DAY, "weekly": 7 * DAY}
SCHEDULE_REFS = {
    "on_demand": "",
    "hourly": "cron:0 * * * *",
    "daily": "cron:0 6 * * *",
    "weekly": "cron:0 6 * * MON",
}
ENDPOINTS = {
    "slack": "https://hooks.slack.com/services/T0DEMO/B0DEMO/xyzDEMO",
    "teams": "https://demo.webhook.office.com/webhookb2/demo-team/IncomingWebhook/demo",
    "jira": "https://demo-cavra.atlassian.net/rest/api/3/issue",
    "servicenow": "https://demo-cavra.service-now.com/api/now/table/incident",
    "splunk": "https://splunk-hec.demo.example.com:8088/services/collector/event",
    "sentinel": "https://demo-workspace.ods.opinsights.azure.com/api/logs?api-version=2016-04-01",
    "datadog": "https://http-intake.logs.datadoghq.com/api/v2/logs?ddsource=cavra",
    "webhook": "https://hooks.demo.example.com/cavra/rollback-drill?token=demo-webhook-token",
}
OK_STATUS = {
    "slack": 200,
    "teams": 200,
    "jira": 201,
    "servicenow": 201,
    "splunk": 200,
    "sentinel": 200,
    "datadog": 202,
    "webhook": 204,
}
TRANSIENT: dict[str, tuple[int | None, str]] = {
    "webhook": (0, "connection refused by hooks.demo.example.com"),
    "splunk": (None, "ReadTimeout: HEC did not answer within 10s"),
    "datadog": (429, "HTTP 429 Too Many Requests"),
}
SENTINEL_OUTAGE = (12 * DAY, 20 * DAY)
SERVICENOW_BROKEN_SINCE = 3 * DAY
NOTES = {
    "acknowledged": (
        "Drill window confirmed; Python fallback verified in staging.",
        "Owner on call; rollback runbook reviewed.",
    ),
    "resolved": (
        "Drill completed; CAVRA_GO_BACKEND_MODE=disabled restored Python in 4m.",
        "Rollback rehearsal evidence attached to the change ticket.",
    ),
    "dismissed": ("Duplicate of an earlier notification.", "Schedule paused during change freeze."),
    "escalated": ("No owner response within the acknowledgement window.",),
}
CONTROLS = (
    "Python backend remains authoritative during rollback drills.",
    "Notifications carry public-safe metadata only; connector secrets stay in the vault.",
    "Acknowledgements are recorded as signed evidence metadata.",
)
ZONES = (
    (UTC, True),
    (UTC, False),
    (timezone(timedelta(hours=5, minutes=30)), False),
    (timezone(timedelta(hours=-4)), False),
    (timezone(timedelta(hours=9)), False),
    (timezone(timedelta(hours=-7)), False),
)
ZONE_WEIGHTS = (50, 30, 6, 6, 4, 4)


def _hex(*parts: object, size: int = 16) -> str:
    """A stable hex id from the seed and `parts` (never from the clock)."""
    text = "|".join(str(part) for part in (SEED, *parts))
    return hashlib.sha256(text.encode()).hexdigest()[:size]


def _slug(text: str) -> str:
    """CAVRA's event-id slug: lower case, runs of other characters become `-`."""
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


@dataclass(frozen=True)
class _Clock:
    """Turns ages (seconds before `now`) into ISO-8601 strings."""

    now: datetime
    rng: random.Random

    def stamp(self, age: int) -> str:
        """A `created_at`, mostly in UTC, sometimes in another offset."""
        zone, zulu = self.rng.choices(ZONES, weights=ZONE_WEIGHTS)[0]
        text = (self.now - timedelta(seconds=age)).astimezone(zone).isoformat(timespec="seconds")
        return text[:-6] + "Z" if zulu else text

    def utc(self, age: int) -> str:
        """A nested timestamp in UTC with milliseconds."""
        moment = (self.now - timedelta(seconds=age)).astimezone(UTC)
        return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


@dataclass(frozen=True)
class _Schedule:
    """A drill schedule owned by one team and routed to a few providers."""

    schedule_id: str
    owner: str
    providers: tuple[str, ...]
    ack_minutes: int
    period: int
    oldest: int
    silent: str
    status_weights: tuple[int, int, int]

    @property
    def escalation_owner(self) -> str:
        """Who is paged when the owner does not acknowledge."""
        return f"{self.owner}-duty-manager"


@dataclass(frozen=True)
class _Route:
    """One provider's routing decision inside a notification plan."""

    provider: str
    action: str
    reason: str


@dataclass(frozen=True)
class _Plan:
    """A notification plan generated for a schedule at `age`."""

    plan_id: str
    schedule: _Schedule
    age: int
    status: str
    routes: tuple[_Route, ...]
    generated_by: str

    @property
    def selected(self) -> list[str]:
        """Providers whose route is delivered (and so must be acknowledged)."""
        return sorted(r.provider for r in self.routes if r.action == "deliver")

    @property
    def alert_level(self) -> str:
        """CAVRA's alert level for the schedule status."""
        return {"needs_attention": "critical", "due_soon": "warning"}.get(self.status, "healthy")


@dataclass(frozen=True)
class _Ack:
    """An acknowledgement of one route of one plan."""

    ack_id: str
    plan: _Plan
    provider: str
    state: str
    age: int
    by: str
    external_ref: str
    notes: str


@dataclass(frozen=True)
class _RouteState:
    """A route of the plan current at snapshot `age`, with its latest acknowledgement."""

    plan: _Plan
    provider: str
    ack: _Ack | None
    age: int

    @property
    def state(self) -> str:
        """The acknowledgement state, `outstanding` when nobody answered yet."""
        return self.ack.state if self.ack else "outstanding"

    @property
    def acknowledged(self) -> bool:
        """Whether the route counts as acknowledged."""
        return self.state in ("acknowledged", "resolved")

    @property
    def age_minutes(self) -> int:
        """Minutes between the plan and the snapshot."""
        return (self.plan.age - self.age) // 60

    @property
    def breached(self) -> bool:
        """Unacknowledged past the schedule's acknowledgement window."""
        return not self.acknowledged and self.age_minutes > self.plan.schedule.ack_minutes


@dataclass(frozen=True)
class _Audit:
    """An acknowledgement audit package over some routes."""

    audit_id: str
    age: int
    generated_by: str
    filters: dict[str, str]
    routes: tuple[_RouteState, ...]

    def count(self, state: str) -> int:
        """Routes in `state`."""
        return sum(1 for r in self.routes if r.state == state)

    @property
    def alert_level(self) -> str:
        """`critical` while anything is outstanding or escalated."""
        return "critical" if self.count("outstanding") or self.count("escalated") else "healthy"


@dataclass(frozen=True)
class _DeliveryPlan:
    """Where and how often an audit package is delivered."""

    delivery_id: str
    audit: _Audit
    age: int
    cadence: str
    requested: str
    selected: tuple[str, ...]


@dataclass(frozen=True)
class _Send:
    """The outcome of sending one event to one provider."""

    provider: str
    success: bool
    status_code: int | None
    attempts: int
    error: str
    seconds: int


class _History:
    """Plans and acknowledgements indexed for "as of age" look-ups."""

    def __init__(self, plans: Sequence[_Plan], acks: Sequence[_Ack]) -> None:
        self._plan_index: dict[str, tuple[list[int], list[_Plan]]] = {}
        self._ack_index: dict[tuple[str, str], tuple[list[int], list[_Ack]]] = {}
        for plan in sorted(plans, key=lambda p: -p.age):
            keys, items = self._plan_index.setdefault(plan.schedule.schedule_id, ([], []))
            keys.append(-plan.age)
            items.append(plan)
        for ack in sorted(acks, key=lambda a: -a.age):
            key = (ack.plan.schedule.schedule_id, ack.provider)
            ack_keys, ack_items = self._ack_index.setdefault(key, ([], []))
            ack_keys.append(-ack.age)
            ack_items.append(ack)

    def routes(
        self, schedules: Sequence[_Schedule], age: int, provider: str = ""
    ) -> list[_RouteState]:
        """Delivered routes of each schedule's current plan at `age`."""
        found: list[_RouteState] = []
        for schedule in schedules:
            plan = _latest(self._plan_index.get(schedule.schedule_id, ([], [])), age)
            if plan is not None:
                found += [
                    _RouteState(plan, name, self._ack(plan, name, age), age)
                    for name in plan.selected
                    if provider in ("", name)
                ]
        return found

    def _ack(self, plan: _Plan, provider: str, age: int) -> _Ack | None:
        ack = _latest(self._ack_index.get((plan.schedule.schedule_id, provider), ([], [])), age)
        return ack if ack and ack.plan.plan_id == plan.plan_id else None


def _latest(index: tuple[list[int], list[_T]], age: int) -> _T | None:
    """The newest item at or before `age` in a chronological index."""
    keys, items = index
    position = bisect.bisect_right(keys, -age) - 1
    return items[position] if position >= 0 else None


def _ticks(
    newest: int, step: int, rng: random.Random, oldest: int = OLDEST_AGE, jitter: int = 600
) -> Iterator[int]:
    """Ages from `newest` back to `oldest`, `step` apart with a little jitter."""
    for base in range(newest, oldest + 1, step):
        age = base + rng.randint(-jitter, jitter)
        if 0 <= age <= OLDEST_AGE:
            yield age


def _schedules(rng: random.Random) -> list[_Schedule]:
    """The drill schedules: five or so per team, two onboarded in the last day."""
    schedules = []
    for owner, services in TEAMS.items():
        for service in services:
            providers = {rng.choice(("slack", "teams"))}
            providers |= {rng.choice(("jira", "servicenow"))} if rng.random() < 0.85 else set()
            providers |= {"webhook"} if rng.random() < 0.3 else set()
            providers |= {"datadog"} if rng.random() < 0.15 else set()
            ordered = tuple(sorted(providers))
            new = service in NEW_SCHEDULES
            schedules.append(
                _Schedule(
                    schedule_id=f"drill-{service}-{rng.choice(DRILL_CADENCES)}",
                    owner=owner,
                    providers=ordered,
                    ack_minutes=rng.choice((30, 60, 60, 120, 240)),
                    period=rng.choice((24, 36, 48, 72)) * HOUR,
                    oldest=rng.randint(6, 20) * HOUR if new else OLDEST_AGE,
                    silent=rng.choice(ordered) if rng.random() < 0.2 else "",
                    status_weights=rng.choice(((8, 2, 0), (6, 3, 1), (4, 3, 3))),
                )
            )
    return schedules


def _plans(schedule: _Schedule, rng: random.Random) -> Iterator[_Plan]:
    """The notification plans of one schedule, one per evaluation period."""
    newest = rng.randint(1, schedule.period // HOUR) * HOUR
    for age in _ticks(min(newest, schedule.oldest), schedule.period, rng, schedule.oldest, 900):
        status = rng.choices(("healthy", "due_soon", "needs_attention"), schedule.status_weights)[0]
        routes = [_route(provider, rng) for provider in schedule.providers]
        if all(r.action == "suppress" for r in routes):
            routes[0] = _Route(routes[0].provider, "deliver", "owner_available")
        generated_by = rng.choice(("release-governance", "release-governance", "console"))
        plan_id = "gordn-" + _hex("plan", schedule.schedule_id, status, age, generated_by)
        yield _Plan(plan_id, schedule, age, status, tuple(routes), generated_by)


def _route(provider: str, rng: random.Random) -> _Route:
    """A route decision: usually delivered, now and then suppressed."""
    roll = rng.random()
    if roll < 0.05:
        return _Route(provider, "suppress", "maintenance_window")
    if roll < 0.08:
        return _Route(provider, "suppress", "calendar_blackout")
    return _Route(provider, "deliver", "owner_available")


def _acks(plan: _Plan, rng: random.Random) -> Iterator[_Ack]:
    """Acknowledgements of a plan's routes; silent providers never acknowledge."""
    for provider in plan.selected:
        states = _ack_story(provider == plan.schedule.silent, rng)
        age = plan.age
        for state in states:
            longest = 600 if state == "resolved" else plan.schedule.ack_minutes * 2
            age -= rng.randint(5, longest) * 60
            if age < 0:
                break
            yield _ack(plan, provider, state, age, rng)


def _ack_story(silent: bool, rng: random.Random) -> tuple[str, ...]:
    """The sequence of states one route goes through."""
    roll = rng.random()
    if silent:
        return ("escalated",) if roll < 0.3 else ("dismissed",) if roll < 0.5 else ()
    stories: tuple[tuple[str, ...], ...] = (
        ("acknowledged",),
        ("acknowledged", "resolved"),
        ("dismissed",),
        ("escalated",),
        ("escalated", "acknowledged"),
        (),
    )
    return rng.choices(stories, weights=(35, 25, 8, 4, 10, 18))[0]


def _ack(plan: _Plan, provider: str, state: str, age: int, rng: random.Random) -> _Ack:
    """One acknowledgement record's model."""
    who = rng.choice(PEOPLE) + "@example.com"
    ref = {
        "jira": f"RELOPS-{rng.randint(100, 999)}",
        "servicenow": f"INC{rng.randint(10000, 99999):07d}",
    }.get(provider, "")
    notes = rng.choice(NOTES[state])
    ack_id = "gordack-" + _hex("ack", plan.plan_id, provider, who, state, age)
    return _Ack(ack_id, plan, provider, state, age, who, ref, notes)


def _send(provider: str, age: int, rng: random.Random) -> _Send:
    """Send to one provider: sentinel had an outage, servicenow is failing lately."""
    roll = rng.random()
    if provider == "sentinel" and SENTINEL_OUTAGE[0] <= age <= SENTINEL_OUTAGE[1]:
        return _Send(provider, False, 503, 3, "HTTP 503 Service Unavailable from Log Analytics", 31)
    if provider == "servicenow" and age <= SERVICENOW_BROKEN_SINCE:
        return _Send(provider, False, 401, 1, "HTTP 401 Unauthorized: integration user expired", 1)
    if age > 2 * DAY and roll < 0.03:
        code, error = TRANSIENT.get(provider, (502, "HTTP 502 Bad Gateway"))
        return _Send(provider, False, code, 3, error, 30)
    if roll < 0.12:
        return _Send(provider, True, OK_STATUS[provider], 2, "", 3)
    return _Send(provider, True, OK_STATUS[provider], 1, "", 1)


def _send_all(providers: Sequence[str], age: int, rng: random.Random) -> list[_Send]:
    """Send one event to several providers."""
    return [_send(provider, age, rng) for provider in providers]


def _common(
    session_id: str, created_at: str, signer: str, kind: str, counts: tuple[int, int, int]
) -> Record:
    """The fields every stored evidence record starts with."""
    return {
        "schema_version": STORE_SCHEMA,
        "product": kinds.PRODUCT,
        "session_id": session_id,
        "created_at": created_at,
        "signer": signer,
        "decision_count": counts[0],
        "blocked_count": counts[1],
        "approval_required_count": counts[2],
        "metadata_kind": kind,
    }


def _plan_record(plan: _Plan, clock: _Clock) -> Record:
    """A `go-backend-rollback-drill-notification-plan` record."""
    s, created = plan.schedule, clock.stamp(plan.age)
    suppressed = [r for r in plan.routes if r.action == "suppress"]
    counts = {
        "deliverable_route_count": len(plan.selected),
        "suppressed_route_count": len(suppressed),
        "maintenance_suppressed_count": sum(r.reason == "maintenance_window" for r in suppressed),
        "calendar_suppressed_count": sum(r.reason == "calendar_blackout" for r in suppressed),
    }
    due_in = {"healthy": 21 * DAY, "due_soon": 5 * DAY, "needs_attention": -3 * DAY}[plan.status]
    nested = {
        "schema_version": f"{PILOT}.rollback-drill-notification-plan.v1",
        "product": kinds.PRODUCT,
        "plan_id": plan.plan_id,
        "schedule_id": s.schedule_id,
        "generated_at": created,
        "generated_by": plan.generated_by,
        "status": plan.status,
        "alert_level": plan.alert_level,
        "eligible_providers": list(s.providers),
        "selected_providers": plan.selected,
        "acknowledgement_required_providers": plan.selected,
        "suppressed_providers": sorted(r.provider for r in suppressed),
        "owners": [s.owner],
        "owner_routes": [_owner_route(s, p) for p in s.providers],
        "route_decisions": [_route_decision(s, r) for r in plan.routes],
        **counts,
        "next_due_at": clock.utc(plan.age - due_in),
        "reason": f"Rollback drill schedule is {plan.status.replace('_', ' ')}.",
        "controls": list(CONTROLS),
    }
    level = plan.alert_level
    return _common(
        plan.plan_id,
        created,
        plan.generated_by,
        kinds.NOTIFICATION_PLAN,
        (len(s.providers), int(level == "critical"), int(level == "warning")),
    ) | {
        "plan_id": plan.plan_id,
        "schedule_id": s.schedule_id,
        "alert_level": level,
        "selected_providers": plan.selected,
        "acknowledgement_required_providers": plan.selected,
        **counts,
        "plan": nested,
    }


def _owner_route(schedule: _Schedule, provider: str) -> Record:
    """The configured owner route for one provider."""
    return {
        "schedule_id": schedule.schedule_id,
        "provider": provider,
        "owner": schedule.owner,
        "escalation_owner": schedule.escalation_owner,
        "acknowledgement_minutes": schedule.ack_minutes,
    }


def _route_decision(schedule: _Schedule, route: _Route) -> Record:
    """A plan's `route_decisions[]` entry."""
    maintenance = route.reason == "maintenance_window"
    return _owner_route(schedule, route.provider) | {
        "route_key": f"{schedule.schedule_id}:{route.provider}:{schedule.owner}",
        "maintenance_window": "sat 01:00-05:00 UTC" if maintenance else "",
        "owner_availability": "available",
        "action": route.action,
        "reason": route.reason,
    }


def _ack_record(ack: _Ack, clock: _Clock) -> Record:
    """A `go-backend-rollback-drill-notification-ack` record."""
    created, schedule_id = clock.stamp(ack.age), ack.plan.schedule.schedule_id
    ids = {
        "acknowledgement_id": ack.ack_id,
        "schedule_id": schedule_id,
        "plan_id": ack.plan.plan_id,
        "provider": ack.provider,
    }
    return (
        _common(ack.ack_id, created, ack.by, kinds.ACKNOWLEDGEMENT, (1, 0, 0))
        | ids
        | {
            "acknowledgement_state": ack.state,
            "acknowledgement": {
                "schema_version": f"{PILOT}.rollback-drill-notification-ack.v1",
                "product": kinds.PRODUCT,
                **ids,
                "acknowledged_by": ack.by,
                "acknowledgement_state": ack.state,
                "acknowledged_at": created,
                "external_ref": ack.external_ref,
                "notes": ack.notes,
            },
        }
    )


def _escalation_record(
    plan_id: str, age: int, routes: Sequence[_RouteState], clock: _Clock
) -> Record:
    """A `go-backend-rollback-drill-notification-escalation-plan` record."""
    created = clock.stamp(age)
    outstanding = sum(not r.acknowledged for r in routes)
    breached = sum(r.breached for r in routes)
    level = "critical" if breached else "warning" if outstanding else "healthy"
    return _common(
        plan_id,
        created,
        "release-governance",
        kinds.ESCALATION_PLAN,
        (len(routes), breached, outstanding),
    ) | {
        "plan_id": plan_id,
        "alert_level": level,
        "escalation_plan": {
            "schema_version": f"{PILOT}.rollback-drill-notification-escalation-plan.v1",
            "product": kinds.PRODUCT,
            "plan_id": plan_id,
            "generated_at": created,
            "generated_by": "release-governance",
            "acknowledgement_minutes": 60,
            "route_count": len(routes),
            "outstanding_count": outstanding,
            "breached_count": breached,
            "alert_level": level,
            "routes": [_escalation_route(r) for r in routes],
        },
    }


def _escalation_route(route: _RouteState) -> Record:
    """An escalation plan's `routes[]` entry."""
    action = (
        "none"
        if route.acknowledged
        else "escalate_to_escalation_owner"
        if route.breached
        else "remind_owner"
    )
    return {
        "schedule_id": route.plan.schedule.schedule_id,
        "plan_id": route.plan.plan_id,
        "provider": route.provider,
        "owner": route.plan.schedule.owner,
        "escalation_owner": route.plan.schedule.escalation_owner,
        "acknowledgement_state": route.state,
        "acknowledged": route.acknowledged,
        "age_minutes": route.age_minutes,
        "acknowledgement_minutes": route.plan.schedule.ack_minutes,
        "breached": route.breached,
        "recommended_action": action,
    }


def _audit_record(audit: _Audit, clock: _Clock) -> Record:
    """A `go-backend-rollback-drill-acknowledgement-audit-package` record."""
    created = clock.stamp(audit.age)
    outstanding, escalated = audit.count("outstanding"), audit.count("escalated")
    summary = {
        "route_count": len(audit.routes),
        "acknowledgement_count": len(audit.routes) - outstanding,
        "outstanding_count": outstanding,
    }
    return _common(
        audit.audit_id,
        created,
        audit.generated_by,
        kinds.AUDIT_PACKAGE,
        (len(audit.routes), outstanding + escalated, outstanding),
    ) | {
        "audit_id": audit.audit_id,
        "alert_level": audit.alert_level,
        **summary,
        "acknowledgement_audit_package": {
            "schema_version": f"{PILOT}.rollback-drill-acknowledgement-audit-package.v1",
            "product": kinds.PRODUCT,
            "audit_id": audit.audit_id,
            "generated_at": created,
            "generated_by": audit.generated_by,
            "filters": dict(audit.filters),
            **summary,
            "acknowledged_count": audit.count("acknowledged"),
            "resolved_count": audit.count("resolved"),
            "escalated_count": escalated,
            "dismissed_count": audit.count("dismissed"),
            "alert_level": audit.alert_level,
            "routes": [_audit_route(r, clock) for r in audit.routes],
            "controls": list(CONTROLS),
        },
    }


def _audit_route(route: _RouteState, clock: _Clock) -> Record:
    """An audit package's `routes[]` entry."""
    plan, ack = route.plan, route.ack
    return {
        "route_id": f"{plan.plan_id}:{route.provider}",
        "schedule_id": plan.schedule.schedule_id,
        "plan_id": plan.plan_id,
        "provider": route.provider,
        "owner": plan.schedule.owner,
        "escalation_owner": plan.schedule.escalation_owner,
        "route_action": "deliver",
        "route_created_at": clock.utc(plan.age),
        "acknowledgement_state": route.state,
        "acknowledged": route.acknowledged,
        "acknowledged_by": ack.by if ack else "",
        "acknowledged_at": clock.utc(ack.age) if ack else "",
        "external_ref": ack.external_ref if ack else "",
        "notes": ack.notes if ack else "",
        "acknowledgement_id": ack.ack_id if ack else "",
    }


def _delivery_plan_record(plan: _DeliveryPlan, clock: _Clock) -> Record:
    """A `go-backend-rollback-drill-acknowledgement-audit-delivery-plan` record."""
    created, audit = clock.stamp(plan.age), plan.audit
    outstanding, escalated = audit.count("outstanding"), audit.count("escalated")
    period = CADENCES[plan.cadence]
    shared = {
        "delivery_id": plan.delivery_id,
        "audit_id": audit.audit_id,
        "alert_level": audit.alert_level,
        "selected_providers": list(plan.selected),
        "destination_count": len(plan.selected),
        "route_count": len(audit.routes),
        "outstanding_count": outstanding,
    }
    return (
        _common(
            plan.delivery_id,
            created,
            audit.generated_by,
            kinds.AUDIT_DELIVERY_PLAN,
            (len(plan.selected), outstanding + escalated, outstanding),
        )
        | shared
        | {
            "acknowledgement_audit_delivery_plan": {
                "schema_version": f"{PILOT}.rollback-drill-acknowledgement-audit-delivery-plan.v1",
                "product": kinds.PRODUCT,
                **shared,
                "selected_providers": list(plan.selected),
                "generated_at": created,
                "generated_by": audit.generated_by,
                "cadence": plan.cadence,
                "schedule_ref": SCHEDULE_REFS[plan.cadence],
                "next_delivery_at": clock.utc(plan.age - period) if period else "",
                "requested_provider": plan.requested,
                "requested_providers": plan.requested.split(","),
                "escalated_count": escalated,
                "filters": dict(audit.filters),
                "controls": list(CONTROLS),
            },
        }
    )


def _connector_record(
    source: str, event_type: str, event_id: str, age: int, sends: Sequence[_Send], clock: _Clock
) -> Record:
    """A `release-connector-delivery` record for one send attempt."""
    created, sends = clock.stamp(age), sorted(sends, key=lambda s: s.provider)
    providers = [s.provider for s in sends]
    failed = [s.provider for s in sends if not s.success]
    session_id = f"rcd-{_slug(event_id)}-" + _hex(
        "rcd", event_id, age, ",".join(providers), size=12
    )
    success = not failed
    return _common(session_id, created, source, kinds.CONNECTOR_DELIVERY, (0, len(failed), 0)) | {
        "connector_delivery_source": source,
        "event_id": event_id,
        "event_type": event_type,
        "delivery_success": success,
        "providers": providers,
        "failed_providers": failed,
        "attempt_count": sum(s.attempts for s in sends),
        "max_attempt_count": max(s.attempts for s in sends),
        "status_codes": [s.status_code for s in sends],
        "delivery": {
            "schema_version": "cavra.connector.delivery.v1",
            "product": kinds.PRODUCT,
            "event_type": event_type,
            "event_id": event_id,
            "session_id": event_id,
            "generated_at": created,
            "success": success,
            "deliveries": [_delivery(s, event_id, age, clock) for s in sends],
        },
    }


def _delivery(send: _Send, event_id: str, age: int, clock: _Clock) -> Record:
    """One provider's entry in a connector result, request headers included."""
    headers = {
        "Authorization": f"Bearer demo-{send.provider}-token",
        "Content-Type": "application/json",
        "User-Agent": "cavra-connector/1.0",
        "X-Cavra-Event-Id": event_id,
    }
    if send.provider == "datadog":
        headers["DD-API-KEY"] = "demo-datadog-api-key"
    return {
        "provider": send.provider,
        "success": send.success,
        "status_code": send.status_code,
        "attempt_count": send.attempts,
        "started_at": clock.utc(age + send.seconds),
        "completed_at": clock.utc(age),
        "error": send.error,
        "request": {"method": "POST", "url": ENDPOINTS[send.provider], "headers": headers},
    }


def _notification_deliveries(plan: _Plan, rng: random.Random, clock: _Clock) -> Iterator[Record]:
    """The connector sends of one plan, with a retry of the failed providers."""
    event = ("cavra.go_backend.rollback_drill.notification", plan.schedule.schedule_id)
    yield from _attempt(
        kinds.NOTIFICATION_SOURCE,
        event,
        plan.selected,
        plan.age - rng.randint(30, 240),
        1,
        rng,
        clock,
    )


def _attempt(
    source: str,
    event: tuple[str, str],
    providers: Sequence[str],
    age: int,
    retries: int,
    rng: random.Random,
    clock: _Clock,
) -> Iterator[Record]:
    """A send to `providers`, then up to `retries` resends of the failed ones."""
    for _ in range(retries + 1):
        if age < 0 or not providers:
            return
        sends = _send_all(providers, age, rng)
        yield _connector_record(source, *event, age, sends, clock)
        providers = [s.provider for s in sends if not s.success]
        age -= rng.randint(600, 1800)


def _escalations(
    plans: Sequence[_Plan], history: _History, rng: random.Random, clock: _Clock
) -> Iterator[Record]:
    """Escalation checks run some time after a plan, over that schedule's routes."""
    for plan in plans:
        minutes = plan.schedule.ack_minutes
        age = plan.age - rng.randint(minutes // 2, minutes * 3) * 60
        if rng.random() < 0.4 and age >= 0:
            plan_id = "gordesc-" + _hex("escalation", plan.plan_id, age)
            yield _escalation_record(plan_id, age, history.routes([plan.schedule], age), clock)


def _audits(
    schedules: Sequence[_Schedule], history: _History, rng: random.Random
) -> Iterator[_Audit]:
    """Audit packages every four hours, by schedule, provider, owner or all routes."""
    for age in _ticks(HOUR, 4 * HOUR, rng):
        scope = rng.choices(("schedule", "provider", "owner", "all"), (60, 20, 14, 6))[0]
        filters = {"schedule_id": "", "provider": "", "owner": ""}
        chosen: Sequence[_Schedule] = schedules
        if scope == "schedule":
            chosen = [rng.choice(schedules)]
            filters["schedule_id"] = chosen[0].schedule_id
        elif scope == "owner":
            filters["owner"] = rng.choice(list(TEAMS))
            chosen = [s for s in schedules if s.owner == filters["owner"]]
        elif scope == "provider":
            filters["provider"] = rng.choice(("slack", "teams", "jira", "servicenow", "webhook"))
        routes = history.routes(chosen, age, filters["provider"])
        by = rng.choice(("release-governance", "compliance-audit", "console"))
        if routes:
            audit_id = "gordackaudit-" + _hex("audit", by, sorted(filters.items()), age)
            yield _Audit(audit_id, age, by, filters, tuple(routes))


def _delivery_plans(audit: _Audit, rng: random.Random) -> Iterator[_DeliveryPlan]:
    """One or two delivery plans for an audit package, each with its own cadence."""
    for n in range(rng.choices((1, 2), (80, 20))[0]):
        cadence = rng.choices(list(CADENCES), (40, 15, 30, 15))[0]
        requested = rng.choice(AUDIT_REQUESTS)
        selected = ALL_PROVIDERS if requested == "all" else tuple(sorted(requested.split(",")))
        age = max(0, audit.age - rng.randint(60, 1200))
        delivery_id = "gordackdelivery-" + _hex("delivery", audit.audit_id, cadence, n)
        yield _DeliveryPlan(delivery_id, audit, age, cadence, requested, selected)


def _audit_deliveries(plan: _DeliveryPlan, rng: random.Random, clock: _Clock) -> Iterator[Record]:
    """The audit-source connector sends of a delivery plan, one per cadence tick."""
    runs = {
        "on_demand": 1,
        "hourly": rng.randint(2, 6),
        "daily": rng.randint(1, 3),
        "weekly": rng.randint(1, 2),
    }[plan.cadence]
    event = ("cavra.go_backend.rollback_drill.acknowledgement_audit_delivery", plan.delivery_id)
    ids = {"audit_id": plan.audit.audit_id, "delivery_id": plan.delivery_id}
    retries = int(plan.cadence == "on_demand")
    for run in range(runs):
        age = plan.age - 60 - run * CADENCES[plan.cadence]
        for record in _attempt(kinds.AUDIT_SOURCE, event, plan.selected, age, retries, rng, clock):
            yield record | ids


def _excluded(plans: Sequence[_Plan], rng: random.Random, clock: _Clock) -> Iterator[Record]:
    """Records stored beside the history but never part of it."""
    for n, age in enumerate(_ticks(5 * HOUR, 60 * HOUR, rng, OLDEST_AGE - HOUR)):
        yield _trend_record(n, age, plans, clock)
        release = f"release-cavra-2.{n}.0"
        sends = _send_all(("jira", "slack"), age + 1800, rng)
        yield _connector_record(
            "release_governance",
            "cavra.release.governance.decision",
            release,
            age + 1800,
            sends,
            clock,
        )


def _trend_record(n: int, age: int, plans: Sequence[_Plan], clock: _Clock) -> Record:
    """A `go-backend-rollback-drill-routing-suppression-trend` record over the last week."""
    created, trend_id = clock.stamp(age), "gordsuppress-" + _hex("trend", n)
    week = [r for p in plans if age <= p.age < age + 7 * DAY for r in p.routes]
    counts = {
        "window_days": 7,
        "route_count": len(week),
        "suppressed_route_count": sum(r.action == "suppress" for r in week),
        "maintenance_suppressed_count": sum(r.reason == "maintenance_window" for r in week),
        "calendar_suppressed_count": sum(r.reason == "calendar_blackout" for r in week),
    }
    return _common(trend_id, created, "console", SUPPRESSION_TREND, (len(week), 0, 0)) | {
        "trend_id": trend_id,
        **counts,
        "trend": {
            "schema_version": f"{PILOT}.rollback-drill-routing-suppression-trend.v1",
            "product": kinds.PRODUCT,
            "trend_id": trend_id,
            "generated_at": created,
            **counts,
        },
    }


def demo_records(now: datetime) -> list[dict[str, Any]]:
    """A realistic CAVRA rollback-drill evidence history for the 30 days before `now`.

    `now` is an aware UTC datetime; the same `now` gives the same records.
    """
    if now.tzinfo is None:
        raise ValueError("demo_records needs a timezone-aware datetime")
    rng, clock = random.Random(SEED), _Clock(now, random.Random(SEED + 1))
    schedules = _schedules(rng)
    plans = [plan for schedule in schedules for plan in _plans(schedule, rng)]
    acks = [ack for plan in plans for ack in _acks(plan, rng)]
    history = _History(plans, acks)
    audits = list(_audits(schedules, history, rng))
    delivery_plans = [d for audit in audits for d in _delivery_plans(audit, rng)]
    records = [_plan_record(plan, clock) for plan in plans]
    records += [_ack_record(ack, clock) for ack in acks]
    records += [r for plan in plans for r in _notification_deliveries(plan, rng, clock)]
    records += _escalations(plans, history, rng, clock)
    records += [_audit_record(audit, clock) for audit in audits]
    records += [_delivery_plan_record(d, clock) for d in delivery_plans]
    records += [r for d in delivery_plans for r in _audit_deliveries(d, rng, clock)]
    records += _excluded(plans, rng, clock)
    return sorted(records, key=_chronological)


def _chronological(record: Record) -> tuple[datetime, str]:
    """Sort key: oldest first, ties by session id."""
    return datetime.fromisoformat(record["created_at"]), record["session_id"]
