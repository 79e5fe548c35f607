"""Stream a realistic, deterministic CAVRA rollback-drill history of N records as NDJSON."""

from __future__ import annotations

import argparse
import random
import re
import time
from collections import Counter, deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone, tzinfo
from pathlib import Path
from typing import Any, TypeVar

import orjson

from cavra_gql import kinds

T = TypeVar("T")
Record = dict[str, Any]

DEFAULT_NOW = "2026-12-01T00:00:00Z"
DAY = 86_400.0

PLAN = kinds.NOTIFICATION_PLAN
ACK = kinds.ACKNOWLEDGEMENT
ESCALATION = kinds.ESCALATION_PLAN
AUDIT_PACKAGE = kinds.AUDIT_PACKAGE
DELIVERY_PLAN = kinds.AUDIT_DELIVERY_PLAN
CONNECTOR = kinds.CONNECTOR_DELIVERY
TREND = "go-backend-rollback-drill-routing-suppression-trend"  # stored, never in the history
NOTIFICATION_SOURCE = kinds.NOTIFICATION_SOURCE
AUDIT_SOURCE = kinds.AUDIT_SOURCE
PILOT = "cavra.go-backend-pilot"
STORE_SCHEMA = "cavra.evidence.metadata.v1"
DELIVERY_PLAN_SCHEMA = f"{PILOT}.rollback-drill-acknowledgement-audit-delivery-plan.v1"

# What one generated step emits, with its share of the file (percent).
STEP_WEIGHTS: dict[str, int] = {
    "notification_delivery": 22,
    "audit_delivery": 18,
    "ack": 25,
    "plan": 12,
    "escalation": 8,
    "audit_package": 6,
    "delivery_plan": 8,
    "excluded": 1,
}
UPSERT_SHARE = 0.12  # of plan / audit package / delivery plan steps: re-send a recent one

PROVIDERS = ("datadog", "jira", "sentinel", "servicenow", "slack", "splunk", "teams", "webhook")
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
    "splunk,jira,slack",
)
CADENCES = {"on_demand": 0.0, "hourly": 3600.0, "daily": DAY, "weekly": 7 * DAY}
CADENCE_WEIGHTS = (40, 15, 30, 15)
SCHEDULE_REFS = {
    "on_demand": "",
    "hourly": "cron:0 * * * *",
    "daily": "cron:0 6 * * *",
    "weekly": "cron:0 6 * * MON",
}
ENDPOINTS = {
    "slack": "https://hooks.slack.com/services/T0BENCH/B0BENCH/xyzBENCHsecret",
    "teams": "https://bench.webhook.office.com/webhookb2/bench/IncomingWebhook/abc",
    "jira": "https://bench-cavra.atlassian.net/rest/api/3/issue",
    "servicenow": "https://bench-cavra.service-now.com/api/now/table/incident",
    "splunk": "https://splunk-hec.bench.example.com:8088/services/collector/event",
    "sentinel": "https://bench.ods.opinsights.azure.com/api/logs?api-version=2016-04-01",
    "datadog": "https://http-intake.logs.datadoghq.com/api/v2/logs?ddsource=cavra",
    "webhook": "https://hooks.bench.example.com/cavra/drill?token=bench-webhook-token",
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
SERVICES = (
    "payments",
    "ledger",
    "checkout",
    "refunds",
    "payouts",
    "gateway",
    "auth",
    "config",
    "scheduler",
    "queue",
    "warehouse",
    "reporting",
    "ingest",
    "analytics",
    "identity",
    "sso",
    "directory",
    "mfa",
    "catalog",
    "pricing",
    "inventory",
    "search",
    "shipping",
    "cdn",
    "dns",
    "edge-proxy",
    "waf",
    "billing",
    "notifications",
    "fraud",
)
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
    "noah.smith",
    "elena.petrova",
)
NOTES = {
    "acknowledged": "Drill window confirmed; Python fallback verified in staging.",
    "resolved": "Drill completed; CAVRA_GO_BACKEND_MODE=disabled restored Python in 4m.",
    "dismissed": "Duplicate of an earlier notification.",
    "escalated": "No owner response within the acknowledgement window.",
}
CONTROLS = [
    "Python backend remains authoritative during rollback drills.",
    "Notifications carry public-safe metadata only; connector secrets stay in the vault.",
    "Acknowledgements are recorded as signed evidence metadata.",
]
# created_at offsets: mostly UTC ("Z" or "+00:00"), some local offsets.
ZONES: tuple[tuple[tzinfo, bool], ...] = (
    (UTC, True),
    (UTC, False),
    (timezone(timedelta(hours=5, minutes=30)), False),
    (timezone(timedelta(hours=-4)), False),
    (timezone(timedelta(hours=9)), False),
    (timezone(timedelta(hours=-7)), False),
)
ZONE_WEIGHTS = (50, 25, 8, 7, 5, 5)
RECENT = 4000  # how many recent plans / audits / delivery plans later records refer to


@dataclass(slots=True)
class Schedule:
    schedule_id: str
    owner: str
    providers: tuple[str, ...]
    ack_minutes: int
    silent: str  # a provider whose owner never acknowledges (outstanding routes)


@dataclass(slots=True)
class Plan:
    plan_id: str
    schedule: Schedule
    ts: float
    status: str
    selected: list[str]
    suppressed: list[str]
    generated_by: str
    acks: dict[str, tuple[str, str, str, str]] = field(default_factory=dict)
    record: Record | None = None

    @property
    def alert_level(self) -> str:
        return {"needs_attention": "critical", "due_soon": "warning"}.get(self.status, "healthy")


@dataclass(slots=True)
class Audit:
    audit_id: str
    ts: float
    states: list[str]
    record: Record


@dataclass(slots=True)
class DeliveryPlan:
    delivery_id: str
    audit_id: str
    selected: tuple[str, ...]
    cadence: str
    record: Record


@dataclass(slots=True)
class Retry:
    source: str
    event_id: str
    providers: list[str]
    ids: dict[str, str]


@dataclass
class Stats:
    records: int = 0
    bytes: int = 0
    seconds: float = 0.0
    kinds: Counter[str] = field(default_factory=Counter)
    upserts: int = 0
    schedules: int = 0


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


def parse_now(text: str) -> datetime:
    moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).astimezone(UTC)


class Generator:
    """Builds records in time order; every random choice comes from one seeded RNG."""

    def __init__(self, records: int, seed: int, now: datetime, days: float) -> None:
        self.total = records
        self.rng = random.Random(seed)
        self.end = now.timestamp()
        self.span = days * DAY
        self.start = self.end - self.span
        self.stats = Stats()
        count = max(100, min(800, records // 1000))
        self.schedules = [self._schedule(n) for n in range(count)]
        self.stats.schedules = count
        self.current: dict[str, Plan] = {}
        self.plans: deque[Plan] = deque(maxlen=RECENT)
        self.audits: deque[Audit] = deque(maxlen=RECENT)
        self.delivery_plans: deque[DeliveryPlan] = deque(maxlen=RECENT)
        self.retries: dict[str, deque[Retry]] = {
            NOTIFICATION_SOURCE: deque(maxlen=RECENT),
            AUDIT_SOURCE: deque(maxlen=RECENT),
        }
        self.steps = list(STEP_WEIGHTS)
        self.cumulative: list[int] = []
        running = 0
        for weight in STEP_WEIGHTS.values():
            running += weight
            self.cumulative.append(running)
        self.ts = self.start

    # -- ids, times, choices ----------------------------------------------------------

    def _hex(self, size: int = 16) -> str:
        return f"{self.rng.getrandbits(size * 4):0{size}x}"

    def _stamp(self, ts: float) -> str:
        zone, zulu = self.rng.choices(ZONES, weights=ZONE_WEIGHTS)[0]
        spec = "milliseconds" if self.rng.random() < 0.1 else "seconds"
        text = datetime.fromtimestamp(ts, zone).isoformat(timespec=spec)
        return text[:-6] + "Z" if zulu else text

    @staticmethod
    def _utc(ts: float) -> str:
        return datetime.fromtimestamp(ts, UTC).isoformat(timespec="milliseconds")[:-6] + "Z"

    def _recent(self, items: deque[T]) -> T:
        """Mostly one of the latest items, now and then an older one."""
        back = min(len(items) - 1, int(self.rng.expovariate(1 / 60)))
        return items[-1 - back]

    def _schedule(self, n: int) -> Schedule:
        rng = self.rng
        service = SERVICES[n % len(SERVICES)]
        providers = {rng.choice(("slack", "teams"))}
        if rng.random() < 0.85:
            providers.add(rng.choice(("jira", "servicenow")))
        if rng.random() < 0.35:
            providers.add(rng.choice(("splunk", "sentinel", "datadog")))
        if rng.random() < 0.2:
            providers.add("webhook")
        ordered = tuple(sorted(providers))
        return Schedule(
            schedule_id=f"drill-{service}-{n:03d}-{rng.choice(DRILL_CADENCES)}",
            owner=f"team-{n // 6:03d}",
            providers=ordered,
            ack_minutes=rng.choice((30, 60, 60, 120, 240)),
            silent=rng.choice(ordered) if rng.random() < 0.08 else "",
        )

    # -- the stream -------------------------------------------------------------------

    def records(self) -> Iterator[Record]:
        """Exactly `total` records, oldest first (with a little jitter)."""
        rng = self.rng
        step_of = self.steps
        cumulative = self.cumulative
        for i in range(self.total):
            self.ts = self.start + self.span * (i + rng.random()) / self.total
            if not self.plans:
                step = "plan"
            else:
                roll = rng.random() * cumulative[-1]
                step = next(s for s, edge in zip(step_of, cumulative, strict=True) if roll < edge)
                if step in ("ack", "escalation", "notification_delivery") and not self.plans:
                    step = "plan"
                if step in ("delivery_plan",) and not self.audits:
                    step = "audit_package"
                if step == "audit_delivery" and not self.delivery_plans:
                    step = "delivery_plan" if self.audits else "audit_package"
            record = self._build(step)
            self.stats.kinds[record["metadata_kind"]] += 1
            yield record

    def _build(self, step: str) -> Record:
        builders: dict[str, Callable[[], Record]] = {
            "plan": self._plan,
            "ack": self._ack,
            "escalation": self._escalation,
            "audit_package": self._audit_package,
            "delivery_plan": self._delivery_plan,
            "notification_delivery": self._notification_delivery,
            "audit_delivery": self._audit_delivery,
            "excluded": self._excluded,
        }
        return builders[step]()

    def _common(self, session_id: str, created: str, signer: str, kind: str) -> Record:
        return {
            "schema_version": STORE_SCHEMA,
            "product": "CAVRA",
            "session_id": session_id,
            "created_at": created,
            "signer": signer,
            "decision_count": 0,
            "blocked_count": 0,
            "approval_required_count": 0,
            "metadata_kind": kind,
        }

    def _resend(self, record: Record, nested: str) -> Record:
        """The same session_id stored again later, regenerated: CAVRA's upsert."""
        self.stats.upserts += 1
        created = self._stamp(self.ts)
        again = dict(record, created_at=created)
        inner = dict(again[nested], generated_at=created)
        again[nested] = inner
        return again

    # -- notification plans and acknowledgements -------------------------------------

    def _plan(self) -> Record:
        rng = self.rng
        if self.plans and rng.random() < UPSERT_SHARE:
            old = self._recent(self.plans)
            if old.record is not None:
                return self._resend(old.record, "plan")
        schedule = rng.choice(self.schedules)
        status = rng.choices(("healthy", "due_soon", "needs_attention"), (70, 20, 10))[0]
        selected: list[str] = []
        suppressed: list[str] = []
        for provider in schedule.providers:
            (suppressed if rng.random() < 0.08 else selected).append(provider)
        if not selected:
            selected, suppressed = [suppressed[0]], suppressed[1:]
        by = rng.choice(("release-governance", "release-governance", "console"))
        plan = Plan("gordn-" + self._hex(), schedule, self.ts, status, selected, suppressed, by)
        created = self._stamp(self.ts)
        level = plan.alert_level
        counts = {
            "deliverable_route_count": len(selected),
            "suppressed_route_count": len(suppressed),
            "maintenance_suppressed_count": len(suppressed),
            "calendar_suppressed_count": 0,
        }
        routes = [
            {
                "route_key": f"{schedule.schedule_id}:{p}:{schedule.owner}",
                "schedule_id": schedule.schedule_id,
                "provider": p,
                "owner": schedule.owner,
                "acknowledgement_minutes": schedule.ack_minutes,
                "escalation_owner": f"{schedule.owner}-duty-manager",
                "maintenance_window": "" if p in selected else "sat 01:00-05:00 UTC",
                "owner_availability": "available",
                "action": "deliver" if p in selected else "suppress",
                "reason": "owner_available" if p in selected else "maintenance_window",
            }
            for p in schedule.providers
        ]
        record = self._common(plan.plan_id, created, by, PLAN) | {
            "decision_count": len(schedule.providers),
            "blocked_count": int(level == "critical"),
            "approval_required_count": int(level == "warning"),
            "plan_id": plan.plan_id,
            "schedule_id": schedule.schedule_id,
            "alert_level": level,
            "selected_providers": selected,
            "acknowledgement_required_providers": selected,
            **counts,
            "plan": {
                "schema_version": f"{PILOT}.rollback-drill-notification-plan.v1",
                "product": "CAVRA",
                "plan_id": plan.plan_id,
                "schedule_id": schedule.schedule_id,
                "generated_at": created,
                "generated_by": by,
                "status": status,
                "alert_level": level,
                "eligible_providers": list(schedule.providers),
                "selected_providers": selected,
                "acknowledgement_required_providers": selected,
                "suppressed_providers": suppressed,
                "owners": [schedule.owner],
                "route_decisions": routes,
                **counts,
                "next_due_at": self._utc(self.ts + 7 * DAY),
                "reason": f"Rollback drill schedule is {status.replace('_', ' ')}.",
                "controls": CONTROLS,
            },
        }
        plan.record = record
        self.plans.append(plan)
        self.current[schedule.schedule_id] = plan
        return record

    def _ack(self) -> Record:
        rng = self.rng
        plan = self._recent(self.plans)
        provider = rng.choice(plan.selected)
        previous = plan.acks.get(provider, ("outstanding",))[0]
        if provider == plan.schedule.silent:
            state = rng.choice(("escalated", "dismissed"))
        elif previous in ("acknowledged", "escalated"):
            state = rng.choices(("resolved", "acknowledged"), (70, 30))[0]
        else:
            weights = (50, 10, 12, 18)
            state = rng.choices(("acknowledged", "resolved", "dismissed", "escalated"), weights)[0]
        who = rng.choice(PEOPLE) + "@example.com"
        ack_id = "gordack-" + self._hex()
        created = self._stamp(self.ts)
        ref = {
            "jira": f"RELOPS-{rng.randint(100, 9999)}",
            "servicenow": f"INC{rng.randint(1, 9_999_999):07d}",
        }
        ids = {
            "acknowledgement_id": ack_id,
            "schedule_id": plan.schedule.schedule_id,
            "plan_id": plan.plan_id if rng.random() < 0.95 else "",
            "provider": provider,
        }
        plan.acks[provider] = (state, ack_id, who, created)
        return (
            self._common(ack_id, created, who, ACK)
            | {"decision_count": 1}
            | ids
            | {
                "acknowledgement_state": state,
                "acknowledgement": {
                    "schema_version": f"{PILOT}.rollback-drill-notification-ack.v1",
                    "product": "CAVRA",
                    **ids,
                    "acknowledged_by": who,
                    "acknowledgement_state": state,
                    "acknowledged_at": created,
                    "external_ref": ref.get(provider, ""),
                    "notes": NOTES[state],
                },
            }
        )

    def _route_state(self, plan: Plan, provider: str) -> tuple[str, bool, float]:
        state = plan.acks.get(provider, ("outstanding",))[0]
        acknowledged = state in ("acknowledged", "resolved")
        return state, acknowledged, (self.ts - plan.ts) / 60

    def _escalation(self) -> Record:
        rng = self.rng
        first = self._recent(self.plans)
        chosen = {first.plan_id: first}
        for _ in range(rng.choice((0, 0, 1, 2))):
            extra = self._recent(self.plans)
            chosen[extra.plan_id] = extra
        routes = []
        for plan in chosen.values():
            for provider in plan.selected:
                state, acknowledged, age = self._route_state(plan, provider)
                breached = not acknowledged and age > plan.schedule.ack_minutes
                action = "none" if acknowledged else "escalate" if breached else "remind_owner"
                routes.append(
                    {
                        "schedule_id": plan.schedule.schedule_id,
                        "plan_id": plan.plan_id,
                        "provider": provider,
                        "owner": plan.schedule.owner,
                        "acknowledgement_state": state,
                        "acknowledged": acknowledged,
                        "age_minutes": round(age, 1),
                        "acknowledgement_minutes": plan.schedule.ack_minutes,
                        "breached": breached,
                        "recommended_action": action,
                    }
                )
        outstanding = sum(not r["acknowledged"] for r in routes)
        breached_count = sum(bool(r["breached"]) for r in routes)
        level = "critical" if breached_count else "warning" if outstanding else "healthy"
        plan_id = "gordesc-" + self._hex()
        created = self._stamp(self.ts)
        return self._common(plan_id, created, "release-governance", ESCALATION) | {
            "decision_count": len(routes),
            "blocked_count": breached_count,
            "approval_required_count": outstanding,
            "plan_id": plan_id,
            "alert_level": level,
            "escalation_plan": {
                "schema_version": f"{PILOT}.rollback-drill-notification-escalation-plan.v1",
                "product": "CAVRA",
                "plan_id": plan_id,
                "generated_at": created,
                "generated_by": "release-governance",
                "acknowledgement_minutes": 60,
                "route_count": len(routes),
                "outstanding_count": outstanding,
                "breached_count": breached_count,
                "alert_level": level,
                "routes": routes,
            },
        }

    # -- audit packages and their delivery plans -------------------------------------

    def _audit_package(self) -> Record:
        rng = self.rng
        if self.audits and rng.random() < UPSERT_SHARE:
            return self._resend(self._recent(self.audits).record, "acknowledgement_audit_package")
        filters = {"schedule_id": "", "provider": "", "owner": ""}
        scope = rng.choices(("schedule", "owner", "provider"), (70, 20, 10))[0]
        anchor = self._recent(self.plans).schedule
        if scope == "schedule":
            plans = [self.current[anchor.schedule_id]]
            filters["schedule_id"] = anchor.schedule_id
        elif scope == "owner":
            filters["owner"] = anchor.owner
            team = [s for s in self.schedules if s.owner == anchor.owner]
            plans = [self.current[s.schedule_id] for s in team if s.schedule_id in self.current]
        else:
            filters["provider"] = rng.choice(PROVIDERS)
            plans = [self._recent(self.plans) for _ in range(8)]
        routes = []
        for plan in {p.plan_id: p for p in plans}.values():
            for provider in plan.selected:
                if filters["provider"] and provider != filters["provider"]:
                    continue
                routes.append(self._audit_route(plan, provider))
        if not routes:
            plan = self.current[anchor.schedule_id]
            routes = [self._audit_route(plan, plan.selected[0])]
        states = [r["acknowledgement_state"] for r in routes]
        outstanding, escalated = states.count("outstanding"), states.count("escalated")
        level = "critical" if outstanding or escalated else "healthy"
        audit_id = "gordackaudit-" + self._hex()
        by = rng.choice(("release-governance", "compliance-audit", "console"))
        created = self._stamp(self.ts)
        summary = {
            "route_count": len(routes),
            "acknowledgement_count": len(routes) - outstanding,
            "outstanding_count": outstanding,
        }
        record = self._common(audit_id, created, by, AUDIT_PACKAGE) | {
            "decision_count": len(routes),
            "blocked_count": outstanding + escalated,
            "approval_required_count": outstanding,
            "audit_id": audit_id,
            "alert_level": level,
            **summary,
            "acknowledgement_audit_package": {
                "schema_version": f"{PILOT}.rollback-drill-acknowledgement-audit-package.v1",
                "product": "CAVRA",
                "audit_id": audit_id,
                "generated_at": created,
                "generated_by": by,
                "filters": filters,
                **summary,
                "acknowledged_count": states.count("acknowledged"),
                "resolved_count": states.count("resolved"),
                "escalated_count": escalated,
                "dismissed_count": states.count("dismissed"),
                "alert_level": level,
                "routes": routes,
                "controls": CONTROLS,
            },
        }
        self.audits.append(Audit(audit_id, self.ts, states, record))
        return record

    def _audit_route(self, plan: Plan, provider: str) -> Record:
        state, acknowledged, _ = self._route_state(plan, provider)
        _, ack_id, who, at = plan.acks.get(provider, ("", "", "", ""))
        return {
            "route_id": f"{plan.plan_id}:{provider}",
            "schedule_id": plan.schedule.schedule_id,
            "plan_id": plan.plan_id,
            "provider": provider,
            "owner": plan.schedule.owner,
            "escalation_owner": f"{plan.schedule.owner}-duty-manager",
            "route_action": "deliver",
            "route_created_at": self._utc(plan.ts),
            "acknowledgement_state": state,
            "acknowledged": acknowledged,
            "acknowledged_by": who,
            "acknowledged_at": at,
            "external_ref": "",
            "notes": NOTES.get(state, ""),
            "acknowledgement_id": ack_id,
        }

    def _delivery_plan(self) -> Record:
        rng = self.rng
        if self.delivery_plans and rng.random() < UPSERT_SHARE:
            old = self._recent(self.delivery_plans).record
            return self._resend(old, "acknowledgement_audit_delivery_plan")
        audit = self._recent(self.audits)
        cadence = rng.choices(list(CADENCES), CADENCE_WEIGHTS)[0]
        requested = rng.choice(AUDIT_REQUESTS)
        selected = PROVIDERS if requested == "all" else tuple(sorted(requested.split(",")))
        package = audit.record
        outstanding = package["outstanding_count"]
        escalated = audit.states.count("escalated")
        delivery_id = "gordackdelivery-" + self._hex()
        created = self._stamp(self.ts)
        period = CADENCES[cadence]
        shared = {
            "delivery_id": delivery_id,
            "audit_id": audit.audit_id,
            "alert_level": package["alert_level"],
            "selected_providers": list(selected),
            "destination_count": len(selected),
            "route_count": package["route_count"],
            "outstanding_count": outstanding,
        }
        record = (
            self._common(delivery_id, created, package["signer"], DELIVERY_PLAN)
            | {
                "decision_count": len(selected),
                "blocked_count": outstanding + escalated,
                "approval_required_count": outstanding,
            }
            | shared
            | {
                "acknowledgement_audit_delivery_plan": {
                    "schema_version": DELIVERY_PLAN_SCHEMA,
                    "product": "CAVRA",
                    **shared,
                    "generated_at": created,
                    "generated_by": package["signer"],
                    "cadence": cadence,
                    "schedule_ref": SCHEDULE_REFS[cadence],
                    "next_delivery_at": self._utc(self.ts + period) if period else "",
                    "requested_provider": requested,
                    "requested_providers": requested.split(","),
                    "escalated_count": escalated,
                    "filters": package["acknowledgement_audit_package"]["filters"],
                    "controls": CONTROLS,
                },
            }
        )
        self.delivery_plans.append(
            DeliveryPlan(delivery_id, audit.audit_id, selected, cadence, record)
        )
        return record

    # -- connector deliveries ---------------------------------------------------------

    def _outcome(self, provider: str) -> tuple[bool, int | None, int, str]:
        """One provider's send: servicenow is failing lately, sentinel had an outage."""
        age = (self.end - self.ts) / DAY
        roll = self.rng.random()
        if provider == "servicenow" and age < 3 and roll < 0.85:
            return False, 401, 1, "HTTP 401 Unauthorized: integration user expired"
        if provider == "sentinel" and 20 <= age <= 24 and roll < 0.9:
            return False, 503, 3, "HTTP 503 Service Unavailable from Log Analytics"
        transient = {
            "splunk": (0.05, None, "ReadTimeout: HEC did not answer within 10s"),
            "datadog": (0.03, 429, "HTTP 429 Too Many Requests"),
            "webhook": (0.06, 0, "connection refused by hooks.bench.example.com"),
        }.get(provider, (0.01, 502, "HTTP 502 Bad Gateway"))
        if roll < transient[0]:
            return False, transient[1], 3, transient[2]
        return True, OK_STATUS[provider], 2 if roll > 0.88 else 1, ""

    def _connector(
        self, source: str, event_type: str, event_id: str, providers: list[str]
    ) -> Record:
        created = self._stamp(self.ts)
        deliveries, failed, codes, attempts = [], [], [], []
        for provider in sorted(providers):
            success, code, tries, error = self._outcome(provider)
            if not success:
                failed.append(provider)
            codes.append(code)
            attempts.append(tries)
            headers = {
                "Authorization": f"Bearer bench-{provider}-{self._hex(8)}",
                "Content-Type": "application/json",
                "User-Agent": "cavra-connector/1.0",
                "X-Cavra-Event-Id": event_id,
            }
            if provider == "datadog":
                headers["DD-API-KEY"] = "bench-datadog-api-key"
            deliveries.append(
                {
                    "provider": provider,
                    "success": success,
                    "status_code": code,
                    "attempt_count": tries,
                    "started_at": self._utc(self.ts - 2 * tries),
                    "completed_at": self._utc(self.ts),
                    "error": error,
                    "request": {
                        "method": "POST",
                        "url": ENDPOINTS[provider],
                        "headers": headers,
                    },
                }
            )
        ordered = sorted(providers)
        session_id = f"rcd-{_slug(event_id)}-{self._hex(12)}"
        record = self._common(session_id, created, source, CONNECTOR) | {
            "blocked_count": len(failed),
            "connector_delivery_source": source,
            "event_id": event_id,
            "event_type": event_type,
            "delivery_success": not failed,
            "providers": ordered,
            "failed_providers": failed,
            "attempt_count": sum(attempts),
            "max_attempt_count": max(attempts),
            "status_codes": codes,
            "delivery": {
                "schema_version": "cavra.connector.delivery.v1",
                "product": "CAVRA",
                "event_type": event_type,
                "event_id": event_id,
                "session_id": event_id,
                "generated_at": created,
                "success": not failed,
                "deliveries": deliveries,
            },
        }
        return record

    def _send(
        self, source: str, event_id: str, providers: list[str], ids: dict[str, str]
    ) -> Record:
        audit = source == AUDIT_SOURCE
        event_type = (
            "cavra.go_backend.rollback_drill.acknowledgement_audit_delivery"
            if audit
            else "cavra.go_backend.rollback_drill.notification"
        )
        record = self._connector(source, event_type, event_id, providers)
        if ids:
            record |= ids
        if record["failed_providers"]:
            self.retries[source].append(Retry(source, event_id, record["failed_providers"], ids))
        return record

    def _retry(self, source: str) -> Record | None:
        pending = self.retries[source]
        if pending and self.rng.random() < 0.6:
            retry = pending.popleft()
            return self._send(source, retry.event_id, list(retry.providers), retry.ids)
        return None

    def _notification_delivery(self) -> Record:
        retried = self._retry(NOTIFICATION_SOURCE)
        if retried is not None:
            return retried
        plan = self._recent(self.plans)
        return self._send(NOTIFICATION_SOURCE, plan.schedule.schedule_id, plan.selected, {})

    def _audit_delivery(self) -> Record:
        retried = self._retry(AUDIT_SOURCE)
        if retried is not None:
            return retried
        plan = self._recent(self.delivery_plans)
        ids = {"audit_id": plan.audit_id, "delivery_id": plan.delivery_id}
        return self._send(AUDIT_SOURCE, plan.delivery_id, list(plan.selected), ids)

    def _excluded(self) -> Record:
        """Stored beside the history, never part of it."""
        if self.rng.random() < 0.5:
            n = self.rng.randint(0, 400)
            return self._connector(
                "release_governance",
                "cavra.release.governance.decision",
                f"release-cavra-2.{n}.0",
                ["jira", "slack"],
            )
        trend_id = "gordsuppress-" + self._hex()
        created = self._stamp(self.ts)
        counts = {"window_days": 7, "route_count": 120, "suppressed_route_count": 9}
        return self._common(trend_id, created, "console", TREND) | {
            "trend_id": trend_id,
            **counts,
            "trend": {
                "schema_version": f"{PILOT}.rollback-drill-routing-suppression-trend.v1",
                "product": "CAVRA",
                "trend_id": trend_id,
                "generated_at": created,
                **counts,
            },
        }


def write_ndjson(path: Path, records: int, seed: int, now: datetime, days: float) -> Stats:
    """Write `records` records to `path` (via a temporary file), streaming."""
    generator = Generator(records, seed, now, days)
    started = time.perf_counter()
    partial = path.with_name(path.name + ".partial")
    path.parent.mkdir(parents=True, exist_ok=True)
    size = 0
    with partial.open("wb", buffering=1 << 20) as handle:
        for record in generator.records():
            line = orjson.dumps(record) + b"\n"
            size += len(line)
            handle.write(line)
    partial.replace(path)
    stats = generator.stats
    stats.records, stats.bytes = records, size
    stats.seconds = time.perf_counter() - started
    return stats


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--records", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--now", default=DEFAULT_NOW, help="the history ends here (ISO-8601)")
    parser.add_argument("--days", type=float, default=60.0, help="days of history")
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()
    stats = write_ndjson(args.out, args.records, args.seed, parse_now(args.now), args.days)
    rate = stats.records / stats.seconds
    print(f"{args.out}: {stats.records} records, {stats.bytes / 1e6:.1f} MB, {rate:,.0f}/s")
    for kind, count in stats.kinds.most_common():
        print(f"  {count:>9}  {kind}")
    print(f"  {stats.upserts:>9}  re-sent session_ids (upserts)")


if __name__ == "__main__":
    main()
