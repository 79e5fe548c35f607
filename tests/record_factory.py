"""Builders of realistic CAVRA evidence records (RECORDS.md field names) for tests.

Every builder takes keyword arguments for the fields tests usually care about,
readable defaults for the rest, and ``**overrides`` that are merged into the
top level last (an override whose value is ``MISSING`` removes the key).

``random_history`` / ``random_params`` make varied histories and REST filter
combinations for property tests against the reference model (``spec_model``).
This module is self-contained: it imports nothing from the package or the model.
"""

from __future__ import annotations

import hashlib
import json
import random
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime, timedelta, timezone
from typing import Any, Final

Record = dict[str, Any]


class _Missing:
    """Sentinel type: an override with this value deletes the key."""

    _instance: _Missing | None = None

    def __new__(cls) -> _Missing:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "MISSING"


MISSING: Final = _Missing()

KIND_PLAN: Final = "go-backend-rollback-drill-notification-plan"
KIND_ACK: Final = "go-backend-rollback-drill-notification-ack"
KIND_ESCALATION: Final = "go-backend-rollback-drill-notification-escalation-plan"
KIND_AUDIT_PACKAGE: Final = "go-backend-rollback-drill-acknowledgement-audit-package"
KIND_AUDIT_DELIVERY_PLAN: Final = "go-backend-rollback-drill-acknowledgement-audit-delivery-plan"
KIND_CONNECTOR: Final = "release-connector-delivery"
KIND_SUPPRESSION_TREND: Final = "go-backend-rollback-drill-routing-suppression-trend"
KIND_RETRY_PLAN: Final = "go-backend-rollback-drill-acknowledgement-audit-delivery-retry-plan"

SOURCE_NOTIFICATION: Final = "go_backend_rollback_drill_notification"
SOURCE_AUDIT: Final = "go_backend_rollback_drill_acknowledgement_audit"
SOURCE_RELEASE_GOVERNANCE: Final = "release_governance"

DEFAULT_CREATED_AT: Final = "2025-03-01T12:00:00+00:00"

PROVIDER_URLS: Final[dict[str, str]] = {
    "slack": "https://hooks.slack.com",
    "teams": "https://outlook.office.com",
    "jira": "https://cavra.atlassian.net",
    "servicenow": "https://cavra.service-now.com",
    "splunk": "https://splunk.example.com:8088",
    "sentinel": "https://cavra.ods.opinsights.azure.com",
    "datadog": "https://http-intake.logs.datadoghq.com",
    "webhook": "https://hooks.example.com",
    "pagerduty": "https://events.pagerduty.com",
}

OWNERS: Final[dict[str, str]] = {
    "slack": "#go-backend-oncall",
    "teams": "Go Backend On-call",
    "jira": "GOPILOT",
    "servicenow": "go-backend-assignment-group",
    "splunk": "soc-splunk",
    "sentinel": "soc-sentinel",
    "datadog": "sre-datadog",
    "webhook": "release-webhook",
    "pagerduty": "go-backend-pagerduty",
}


def _digest(payload: Any, length: int) -> str:
    text = json.dumps(payload, sort_keys=True, default=str)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:length]


def _prune(value: Any) -> Any:
    """Drop every ``MISSING`` value, at any depth (dict keys and list items)."""
    if isinstance(value, dict):
        return {k: _prune(v) for k, v in value.items() if v is not MISSING}
    if isinstance(value, list):
        return [_prune(v) for v in value if v is not MISSING]
    return value


def _apply(record: Record, overrides: dict[str, Any]) -> Record:
    """Merge ``overrides`` into the top level; ``MISSING`` (at any depth) removes a key."""
    record.update(overrides)
    pruned: Record = _prune(record)
    return pruned


def _header(
    *,
    session_id: str,
    created_at: str,
    signer: str,
    kind: str,
    decision_count: int,
    blocked_count: int,
    approval_required_count: int,
) -> Record:
    """The fields the store writes on every record, in the store's order."""
    return {
        "schema_version": "cavra.evidence.metadata.v1",
        "product": "CAVRA",
        "session_id": session_id,
        "created_at": created_at,
        "signer": signer,
        "decision_count": decision_count,
        "blocked_count": blocked_count,
        "approval_required_count": approval_required_count,
        "metadata_kind": kind,
    }


def _controls() -> list[str]:
    return [
        "Public-safe metadata only; connector secrets are never stored.",
        "Route acknowledgements are evidence, not approvals.",
    ]


# ---------------------------------------------------------------------------
# One builder per kind
# ---------------------------------------------------------------------------


def notification_plan(
    *,
    session_id: str | None = None,
    created_at: str = DEFAULT_CREATED_AT,
    schedule_id: Any = "gordsched-alpha",
    alert_level: Any = "warning",
    selected_providers: Sequence[Any] = ("slack",),
    acknowledgement_required_providers: Sequence[Any] | None = None,
    plan_id: str | None = None,
    generated_by: str = "release-governance",
    **overrides: Any,
) -> Record:
    """A ``go-backend-rollback-drill-notification-plan``.

    ``acknowledgement_required_providers`` defaults to ``selected_providers``
    (CAVRA writes both lists equal).  ``plan_id`` / ``session_id`` default to a
    deterministic ``gordn-`` hash; either one defaults to the other.
    """
    selected = list(selected_providers)
    required = (
        selected
        if acknowledgement_required_providers is None
        else list(acknowledgement_required_providers)
    )
    status = {"critical": "needs_attention", "warning": "due_soon"}.get(
        alert_level if isinstance(alert_level, str) else "", "healthy"
    )
    if plan_id is None and session_id is not None:
        plan_id = session_id  # CAVRA: session_id = plan_id
    if plan_id is None:
        plan_id = "gordn-" + _digest(
            {"schedule_id": schedule_id, "status": status, "at": created_at, "by": generated_by},
            16,
        )
    if session_id is None:
        session_id = plan_id
    route_decisions = [
        {
            "route_key": f"{schedule_id}:{provider}",
            "schedule_id": schedule_id,
            "provider": provider,
            "owner": OWNERS.get(provider, "unassigned") if isinstance(provider, str) else "",
            "acknowledgement_minutes": 30,
            "escalation_owner": "release-manager",
            "maintenance_window": "",
            "owner_availability": "available",
            "action": "deliver",
            "reason": "Route is eligible and owner is available.",
        }
        for provider in selected
    ]
    record = _header(
        session_id=session_id,
        created_at=created_at,
        signer=generated_by,
        kind=KIND_PLAN,
        decision_count=len(selected),
        blocked_count=1 if alert_level == "critical" else 0,
        approval_required_count=1 if alert_level == "warning" else 0,
    )
    record.update(
        {
            "plan_id": plan_id,
            "schedule_id": schedule_id,
            "alert_level": alert_level,
            "selected_providers": selected,
            "acknowledgement_required_providers": required,
            "deliverable_route_count": len(selected),
            "suppressed_route_count": 0,
            "maintenance_suppressed_count": 0,
            "calendar_suppressed_count": 0,
            "plan": {
                "schema_version": "cavra.go-backend-pilot.rollback-drill-notification-plan.v1",
                "product": "CAVRA",
                "plan_id": plan_id,
                "schedule_id": schedule_id,
                "generated_at": created_at,
                "generated_by": generated_by,
                "status": status,
                "alert_level": alert_level,
                "eligible_providers": list(selected),
                "selected_providers": list(selected),
                "acknowledgement_required_providers": list(required),
                "suppressed_providers": [],
                "owners": sorted(
                    {OWNERS.get(p, "unassigned") for p in selected if isinstance(p, str)}
                ),
                "owner_routes": [],
                "route_decisions": route_decisions,
                "deliverable_route_count": len(selected),
                "suppressed_route_count": 0,
                "next_due_at": "2025-03-08T12:00:00+00:00",
                "reason": "Rollback drill schedule needs owner notification.",
                "controls": _controls(),
            },
        }
    )
    return _apply(record, overrides)


def acknowledgement(
    *,
    session_id: str | None = None,
    created_at: str = DEFAULT_CREATED_AT,
    schedule_id: Any = "gordsched-alpha",
    provider: Any = "slack",
    acknowledgement_state: Any = "acknowledged",
    plan_id: Any = "",
    acknowledged_by: str = "oncall@example.com",
    external_ref: str = "",
    notes: str = "",
    **overrides: Any,
) -> Record:
    """A ``go-backend-rollback-drill-notification-ack`` (no alert_level, no selected_providers)."""
    if session_id is None:
        session_id = "gordack-" + _digest(
            [schedule_id, provider, acknowledged_by, acknowledgement_state, created_at, plan_id],
            16,
        )
    record = _header(
        session_id=session_id,
        created_at=created_at,
        signer=acknowledged_by,
        kind=KIND_ACK,
        decision_count=1,
        blocked_count=0,
        approval_required_count=0,
    )
    record.update(
        {
            "acknowledgement_id": session_id,
            "schedule_id": schedule_id,
            "plan_id": plan_id,
            "provider": provider,
            "acknowledgement_state": acknowledgement_state,
            "acknowledgement": {
                "schema_version": "cavra.go-backend-pilot.rollback-drill-notification-ack.v1",
                "product": "CAVRA",
                "acknowledgement_id": session_id,
                "schedule_id": schedule_id,
                "plan_id": plan_id,
                "provider": provider,
                "acknowledged_by": acknowledged_by,
                "acknowledgement_state": acknowledgement_state,
                "acknowledged_at": created_at,
                "external_ref": external_ref,
                "notes": notes,
            },
        }
    )
    return _apply(record, overrides)


def escalation_route(
    *,
    schedule_id: Any = "gordsched-alpha",
    provider: Any = "slack",
    acknowledged: Any = False,
    breached: bool = False,
    plan_id: str = "",
    acknowledgement_state: str | None = None,
    age_minutes: int = 45,
    **overrides: Any,
) -> Record:
    """One ``escalation_plan.routes[]`` entry."""
    if acknowledgement_state is None:
        acknowledgement_state = "acknowledged" if acknowledged is True else "outstanding"
    route: Record = {
        "schedule_id": schedule_id,
        "plan_id": plan_id,
        "provider": provider,
        "owner": OWNERS.get(provider, "unassigned") if isinstance(provider, str) else "",
        "acknowledgement_state": acknowledgement_state,
        "acknowledged": acknowledged,
        "age_minutes": age_minutes,
        "acknowledgement_minutes": 30,
        "breached": breached,
        "recommended_action": "escalate" if breached else "wait",
    }
    return _apply(route, overrides)


def escalation_plan(
    *,
    session_id: str | None = None,
    created_at: str = DEFAULT_CREATED_AT,
    routes: Any = None,
    alert_level: Any = None,
    plan_id: str | None = None,
    generated_by: str = "release-governance",
    **overrides: Any,
) -> Record:
    """A ``go-backend-rollback-drill-notification-escalation-plan``.

    ``routes`` defaults to one unacknowledged slack route; ``alert_level`` is
    derived from the routes (critical if breached, warning if outstanding)."""
    if routes is None:
        routes = [escalation_route()]
    route_dicts = [r for r in routes if isinstance(r, dict)] if isinstance(routes, list) else []
    outstanding = sum(1 for r in route_dicts if r.get("acknowledged") is not True)
    breached = sum(1 for r in route_dicts if r.get("breached") is True)
    if alert_level is None:
        alert_level = "critical" if breached else "warning" if outstanding else "healthy"
    if plan_id is None and session_id is not None:
        plan_id = session_id  # CAVRA: session_id = plan_id
    if plan_id is None:
        plan_id = "gordesc-" + _digest({"routes": routes, "at": created_at}, 16)
    if session_id is None:
        session_id = plan_id
    record = _header(
        session_id=session_id,
        created_at=created_at,
        signer=generated_by,
        kind=KIND_ESCALATION,
        decision_count=len(route_dicts),
        blocked_count=breached,
        approval_required_count=outstanding,
    )
    record.update(
        {
            "plan_id": plan_id,
            "alert_level": alert_level,
            "escalation_plan": {
                "schema_version": (
                    "cavra.go-backend-pilot.rollback-drill-notification-escalation-plan.v1"
                ),
                "acknowledgement_minutes": 30,
                "route_count": len(route_dicts),
                "outstanding_count": outstanding,
                "breached_count": breached,
                "routes": routes,
            },
        }
    )
    return _apply(record, overrides)


def audit_route(
    *,
    schedule_id: Any = "gordsched-alpha",
    provider: Any = "slack",
    acknowledgement_state: Any = "outstanding",
    plan_id: str = "",
    **overrides: Any,
) -> Record:
    """One ``acknowledgement_audit_package.routes[]`` entry."""
    acknowledged = acknowledgement_state in ("acknowledged", "resolved")
    route: Record = {
        "route_id": f"{schedule_id}:{provider}",
        "schedule_id": schedule_id,
        "plan_id": plan_id,
        "provider": provider,
        "owner": OWNERS.get(provider, "unassigned") if isinstance(provider, str) else "",
        "escalation_owner": "release-manager",
        "route_action": "deliver",
        "route_created_at": DEFAULT_CREATED_AT,
        "acknowledgement_state": acknowledgement_state,
        "acknowledged": acknowledged,
        "acknowledged_by": "oncall@example.com" if acknowledged else "",
        "acknowledged_at": DEFAULT_CREATED_AT if acknowledged else "",
        "external_ref": "",
        "notes": "",
        "acknowledgement_id": "",
    }
    return _apply(route, overrides)


def audit_package(
    *,
    session_id: str | None = None,
    created_at: str = DEFAULT_CREATED_AT,
    audit_id: str | None = None,
    routes: Any = None,
    alert_level: Any = None,
    generated_by: str = "auditor@example.com",
    **overrides: Any,
) -> Record:
    """A ``go-backend-rollback-drill-acknowledgement-audit-package``.

    ``routes`` defaults to one outstanding slack route; ``alert_level`` defaults to
    critical when a route is outstanding or escalated, else healthy.  ``audit_id`` and
    ``session_id`` default to a ``gordackaudit-`` hash (equal to each other)."""
    if routes is None:
        routes = [audit_route()]
    route_dicts = [r for r in routes if isinstance(r, dict)] if isinstance(routes, list) else []
    states = [r.get("acknowledgement_state") for r in route_dicts]
    outstanding = states.count("outstanding")
    escalated = states.count("escalated")
    acknowledged = states.count("acknowledged")
    resolved = states.count("resolved")
    dismissed = states.count("dismissed")
    if alert_level is None:
        alert_level = "critical" if outstanding or escalated else "healthy"
    if audit_id is None and session_id is not None:
        audit_id = session_id  # CAVRA: session_id = audit_id
    if audit_id is None:
        audit_id = "gordackaudit-" + _digest({"routes": routes, "by": generated_by}, 16)
    if session_id is None:
        session_id = audit_id
    record = _header(
        session_id=session_id,
        created_at=created_at,
        signer=generated_by,
        kind=KIND_AUDIT_PACKAGE,
        decision_count=len(route_dicts),
        blocked_count=outstanding + escalated,
        approval_required_count=outstanding,
    )
    record.update(
        {
            "audit_id": audit_id,
            "alert_level": alert_level,
            "route_count": len(route_dicts),
            "acknowledgement_count": acknowledged + resolved + escalated + dismissed,
            "outstanding_count": outstanding,
            "acknowledgement_audit_package": {
                "schema_version": (
                    "cavra.go-backend-pilot.rollback-drill-acknowledgement-audit-package.v1"
                ),
                "audit_id": audit_id,
                "generated_at": created_at,
                "generated_by": generated_by,
                "filters": {"schedule_id": "", "provider": "", "owner": ""},
                "route_count": len(route_dicts),
                "acknowledgement_count": acknowledged + resolved + escalated + dismissed,
                "acknowledged_count": acknowledged,
                "resolved_count": resolved,
                "escalated_count": escalated,
                "dismissed_count": dismissed,
                "outstanding_count": outstanding,
                "alert_level": alert_level,
                "routes": routes,
                "controls": _controls(),
            },
        }
    )
    return _apply(record, overrides)


def audit_delivery_plan(
    *,
    session_id: str | None = None,
    created_at: str = DEFAULT_CREATED_AT,
    delivery_id: str | None = None,
    audit_id: Any = "gordackaudit-0000000000000001",
    selected_providers: Sequence[Any] = ("splunk",),
    cadence: Any = "on_demand",
    alert_level: Any = "healthy",
    outstanding_count: Any = 0,
    generated_by: str = "auditor@example.com",
    **overrides: Any,
) -> Record:
    """A ``go-backend-rollback-drill-acknowledgement-audit-delivery-plan`` (``cadence``
    only nested).  ``delivery_id`` and ``session_id`` default to a
    ``gordackdelivery-`` hash (equal to each other)."""
    selected = list(selected_providers)
    if delivery_id is None and session_id is not None:
        delivery_id = session_id  # CAVRA: session_id = delivery_id
    if delivery_id is None:
        delivery_id = "gordackdelivery-" + _digest(
            {"audit_id": audit_id, "eligible": selected, "cadence": cadence, "at": created_at},
            16,
        )
    if session_id is None:
        session_id = delivery_id
    outstanding_int = outstanding_count if type(outstanding_count) is int else 0
    record = _header(
        session_id=session_id,
        created_at=created_at,
        signer=generated_by,
        kind=KIND_AUDIT_DELIVERY_PLAN,
        decision_count=len(selected),
        blocked_count=outstanding_int,
        approval_required_count=outstanding_int,
    )
    record.update(
        {
            "delivery_id": delivery_id,
            "audit_id": audit_id,
            "alert_level": alert_level,
            "selected_providers": selected,
            "destination_count": len(selected),
            "route_count": 1,
            "outstanding_count": outstanding_count,
            "acknowledgement_audit_delivery_plan": {
                "schema_version": (
                    "cavra.go-backend-pilot.rollback-drill-acknowledgement-audit-delivery-plan.v1"
                ),
                "product": "CAVRA",
                "delivery_id": delivery_id,
                "audit_id": audit_id,
                "generated_at": created_at,
                "generated_by": generated_by,
                "cadence": cadence,
                "schedule_ref": "",
                "next_delivery_at": "",
                "requested_provider": "all",
                "requested_providers": list(selected),
                "selected_providers": list(selected),
                "destination_count": len(selected),
                "route_count": 1,
                "outstanding_count": outstanding_count,
                "escalated_count": 0,
                "alert_level": alert_level,
                "filters": {"schedule_id": "", "provider": "", "owner": ""},
                "controls": _controls(),
            },
        }
    )
    return _apply(record, overrides)


def _slug(text: str) -> str:
    return "".join(c if c.isalnum() else "-" for c in text.lower()).strip("-") or "event"


def connector_delivery(
    *,
    session_id: str | None = None,
    created_at: str = DEFAULT_CREATED_AT,
    source: Any = SOURCE_AUDIT,
    providers: Any = ("splunk",),
    failed_providers: Any = (),
    delivery_success: Any = None,
    event_id: Any = None,
    audit_id: Any = None,
    delivery_id: Any = None,
    schedule_id: str = "gordsched-alpha",
    **overrides: Any,
) -> Record:
    """A ``release-connector-delivery``: one connector send attempt.

    ``delivery_success`` defaults to "no failed providers".  ``event_id`` defaults to
    the ``delivery_id`` for the audit source and to ``schedule_id`` otherwise.  Audit-source
    records carry ``audit_id`` / ``delivery_id`` (defaults supplied); other sources carry
    them only when passed explicitly.  ``providers`` / ``failed_providers`` may be given
    as non-lists to build wrong-typed records.
    """
    provider_list = list(providers) if isinstance(providers, list | tuple) else providers
    failed_list = (
        list(failed_providers) if isinstance(failed_providers, list | tuple) else failed_providers
    )
    is_audit = source == SOURCE_AUDIT
    if is_audit:
        if delivery_id is None:
            delivery_id = "gordackdelivery-0000000000000001"
        if audit_id is None:
            audit_id = "gordackaudit-0000000000000001"
    if event_id is None:
        event_id = delivery_id if is_audit else schedule_id
    attempted = (
        [p for p in provider_list if isinstance(p, str)] if isinstance(provider_list, list) else []
    )
    failed_set = (
        set(p for p in failed_list if isinstance(p, str))
        if isinstance(failed_list, list)
        else set()
    )
    if delivery_success is None:
        delivery_success = not failed_set
    if session_id is None:
        session_id = (
            "rcd-"
            + _slug(str(event_id))
            + "-"
            + _digest(f"{event_id}|{created_at}|{','.join(attempted)}", 12)
        )
    deliveries: list[dict[str, Any]] = []
    for provider in attempted:
        ok = provider not in failed_set
        deliveries.append(
            {
                "provider": provider,
                "success": ok,
                "status_code": 202 if ok else 503,
                "attempt_count": 1 if ok else 3,
                "started_at": created_at,
                "completed_at": created_at,
                "error": "" if ok else "HTTP 503 Service Unavailable",
                "request": {
                    "method": "POST",
                    "url": PROVIDER_URLS.get(provider, "https://hooks.example.com"),
                    "headers": {
                        "Content-Type": "application/json",
                        "Authorization": "REDACTED",
                    },
                },
            }
        )
    event_type = (
        "cavra.go_backend.rollback_drill.acknowledgement_audit_delivery"
        if is_audit
        else "cavra.go_backend.rollback_drill.notification"
    )
    record = _header(
        session_id=session_id,
        created_at=created_at,
        signer=source if isinstance(source, str) else "connector",
        kind=KIND_CONNECTOR,
        decision_count=0,
        blocked_count=len(failed_set),
        approval_required_count=0,
    )
    record.update(
        {
            "connector_delivery_source": source,
            "event_id": event_id,
            "event_type": event_type,
            "delivery_success": delivery_success,
            "providers": provider_list,
            "failed_providers": failed_list,
            "attempt_count": sum(d["attempt_count"] for d in deliveries),
            "max_attempt_count": max((d["attempt_count"] for d in deliveries), default=0),
            "status_codes": [d["status_code"] for d in deliveries],
            "delivery": {
                "schema_version": "cavra.connector.delivery.v1",
                "product": "CAVRA",
                "event_type": event_type,
                "event_id": event_id,
                "session_id": event_id,
                "generated_at": created_at,
                "success": delivery_success,
                "deliveries": deliveries,
            },
        }
    )
    if audit_id is not None:
        record["audit_id"] = audit_id
    if delivery_id is not None:
        record["delivery_id"] = delivery_id
    return _apply(record, overrides)


def excluded_record(
    *,
    variant: str = "suppression_trend",
    session_id: str | None = None,
    created_at: str = DEFAULT_CREATED_AT,
    **overrides: Any,
) -> Record:
    """A record that is stored but never in the history.

    ``variant``: ``suppression_trend`` (a routing-suppression-trend record),
    ``release_governance`` (a connector delivery of another source), ``no_source``
    (a connector delivery without a source) or ``later_kind`` (a LATER kind).
    Each carries fields that filters would otherwise match.
    """
    if variant == "suppression_trend":
        sid = session_id or "gordtrend-" + _digest(created_at, 16)
        record = _header(
            session_id=sid,
            created_at=created_at,
            signer="console",
            kind=KIND_SUPPRESSION_TREND,
            decision_count=2,
            blocked_count=0,
            approval_required_count=0,
        )
        record.update(
            {
                "schedule_id": "gordsched-alpha",
                "alert_level": "warning",
                "selected_providers": ["slack", "splunk"],
                "provider": "slack",
                "acknowledgement_state": "acknowledged",
                "trend": {"window_days": 7, "suppressed_route_count": 3},
            }
        )
        return _apply(record, overrides)
    if variant in ("release_governance", "no_source"):
        source = SOURCE_RELEASE_GOVERNANCE if variant == "release_governance" else MISSING
        record = connector_delivery(
            session_id=session_id,
            created_at=created_at,
            source=SOURCE_RELEASE_GOVERNANCE,
            providers=["slack", "splunk"],
            failed_providers=["splunk"],
            event_id="gordsched-alpha",
            audit_id="gordackaudit-0000000000000001",
            delivery_id="gordackdelivery-0000000000000001",
        )
        return _apply(record, {"connector_delivery_source": source, **overrides})
    if variant == "later_kind":
        sid = session_id or "gordretry-" + _digest(created_at, 16)
        record = _header(
            session_id=sid,
            created_at=created_at,
            signer="console",
            kind=KIND_RETRY_PLAN,
            decision_count=1,
            blocked_count=1,
            approval_required_count=0,
        )
        record.update(
            {
                "audit_id": "gordackaudit-0000000000000001",
                "delivery_id": "gordackdelivery-0000000000000001",
                "alert_level": "critical",
                "selected_providers": ["splunk"],
                "outstanding_count": 2,
            }
        )
        return _apply(record, overrides)
    raise ValueError(f"unknown excluded variant: {variant!r}")


# ---------------------------------------------------------------------------
# Timestamps
# ---------------------------------------------------------------------------

OFFSETS: Final[tuple[str, ...]] = ("+00:00", "Z", "+05:30", "-07:00", "")


def format_instant(instant: datetime, offset: str, *, fraction: bool = False) -> str:
    """Write ``instant`` in the zone ``offset`` (``""`` = no offset, read as UTC)."""
    instant = instant.astimezone(UTC)
    if offset in ("", "Z", "+00:00"):
        local = instant
    else:
        sign = 1 if offset[0] == "+" else -1
        hours, minutes = int(offset[1:3]), int(offset[4:6])
        local = instant.astimezone(timezone(sign * timedelta(hours=hours, minutes=minutes)))
    text = local.strftime("%Y-%m-%dT%H:%M:%S")
    if fraction or local.microsecond:
        text += f".{local.microsecond:06d}"
    return text + offset


# ---------------------------------------------------------------------------
# Random histories
# ---------------------------------------------------------------------------

SCHEDULE_POOL: Final = ("gordsched-alpha", "gordsched-beta", "gordsched-gamma")
AUDIT_POOL: Final = ("gordackaudit-aaaa000000000001", "gordackaudit-bbbb000000000002")
DELIVERY_POOL: Final = ("gordackdelivery-1111000000000001", "gordackdelivery-2222000000000002")
PROVIDER_POOL: Final = (
    "slack",
    "teams",
    "jira",
    "servicenow",
    "splunk",
    "sentinel",
    "datadog",
    "webhook",
    "pagerduty",
)
SPECIAL_SESSION_IDS: Final = ("é-1", "Z-1", "a-1", "é-2", "Z-2", "a-2", "A-1", "ß-1", "日本-1")
ACK_STATES: Final = (
    "acknowledged",
    "acknowledged",
    "resolved",
    "resolved",
    "dismissed",
    "escalated",
    "Acknowledged",
    " acknowledged",
    "RESOLVED",
    "outstanding",
    "pending_review",
)
BASE_INSTANT: Final = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)


class _HistoryBuilder:
    def __init__(self, rng: random.Random, n: int) -> None:
        self.rng = rng
        self.n = n
        self.used: set[str] = set()
        self.slots = max(3, n // 3)  # few distinct instants: many ties
        self.counter = 0

    # -- helpers ---------------------------------------------------------

    def created_at(self) -> str:
        rng = self.rng
        instant = BASE_INSTANT + timedelta(minutes=37 * rng.randrange(self.slots))
        if rng.random() < 0.1:
            instant += timedelta(microseconds=500_000)
        return format_instant(instant, rng.choice(OFFSETS), fraction=rng.random() < 0.1)

    def session_id(self, preferred: str | None, prefix: str) -> str:
        rng = self.rng
        if rng.random() < 0.15:
            free = [s for s in SPECIAL_SESSION_IDS if s not in self.used]
            if free:
                chosen = rng.choice(free)
                self.used.add(chosen)
                return chosen
        if preferred is not None and preferred not in self.used:
            self.used.add(preferred)
            return preferred
        while True:
            self.counter += 1
            candidate = f"{prefix}{rng.getrandbits(32):08x}{self.counter:03d}"
            if candidate not in self.used:
                self.used.add(candidate)
                return candidate

    def provider(self) -> str:
        if self.rng.random() < 0.04:
            return ""
        return self.rng.choice(PROVIDER_POOL)

    def providers(self, low: int = 1, high: int = 3) -> list[str]:
        chosen = [self.provider() for _ in range(self.rng.randint(low, high))]
        if self.rng.random() < 0.8:
            chosen = sorted(set(chosen))
        return chosen

    def schedule_id(self) -> Any:
        roll = self.rng.random()
        if roll < 0.05:
            return 42  # wrong type
        return self.rng.choice(SCHEDULE_POOL)

    def maybe(self, probability: float) -> bool:
        return self.rng.random() < probability

    # -- kinds -----------------------------------------------------------

    def plan(self) -> Record:
        rng = self.rng
        schedule = rng.choice(SCHEDULE_POOL)
        selected = self.providers()
        required = list(selected)
        if self.maybe(0.1) and required:
            required.append(required[0])  # duplicates are kept
        record = notification_plan(
            session_id=self.session_id(None, "gordn-"),
            created_at=self.created_at(),
            schedule_id=schedule,
            alert_level=rng.choice(("critical", "warning", "healthy")),
            selected_providers=selected,
            acknowledgement_required_providers=required,
        )
        roll = rng.random()
        if roll < 0.07:
            record["schedule_id"] = 42  # wrong type: nested plan.schedule_id is the key
        elif roll < 0.14:
            del record["schedule_id"]
        elif roll < 0.18:
            record["schedule_id"] = ""  # empty: falls back to nested
        roll = rng.random()
        if roll < 0.1:
            del record["acknowledgement_required_providers"]  # nested fallback
        elif roll < 0.15:
            record["acknowledgement_required_providers"] = []  # nested fallback
        elif roll < 0.18:
            record["acknowledgement_required_providers"] = "slack"  # wrong type
        if self.maybe(0.05):
            del record["alert_level"]
        if self.maybe(0.05):
            del record["plan_id"]  # plan_id from nested plan
        if self.maybe(0.04):
            record["selected_providers"] = "slack"  # wrong type
        if self.maybe(0.04):
            record["plan"] = "not a dict"
        return record

    def ack(self) -> Record:
        rng = self.rng
        return acknowledgement(
            session_id=self.session_id(None, "gordack-"),
            created_at=self.created_at(),
            schedule_id=self.schedule_id(),
            provider=self.provider(),
            acknowledgement_state=rng.choice(ACK_STATES),
            plan_id=rng.choice(("", "gordn-linked")),
        )

    def escalation(self) -> Record:
        rng = self.rng
        routes: Any = [
            escalation_route(
                schedule_id=rng.choice(SCHEDULE_POOL),
                provider=self.provider(),
                acknowledged=rng.choice((True, False, False, "false", MISSING)),
                breached=rng.random() < 0.3,
            )
            for _ in range(rng.randint(0, 3))
        ]
        if self.maybe(0.08):
            routes = {"provider": "slack", "acknowledged": False}  # wrong type
        record = escalation_plan(
            session_id=self.session_id(None, "gordesc-"),
            created_at=self.created_at(),
            routes=routes,
        )
        if self.maybe(0.05):
            del record["escalation_plan"]
        if self.maybe(0.05):
            record["alert_level"] = None
        return record

    def package(self) -> Record:
        rng = self.rng
        audit_id = rng.choice(AUDIT_POOL)
        routes: Any = [
            audit_route(
                schedule_id=rng.choice(SCHEDULE_POOL),
                provider=self.provider(),
                acknowledgement_state=rng.choice(
                    ("outstanding", "acknowledged", "resolved", "escalated", "Outstanding")
                ),
            )
            for _ in range(rng.randint(0, 3))
        ]
        if self.maybe(0.08):
            routes = "none"  # wrong type
        record = audit_package(
            session_id=self.session_id(audit_id, "gordackaudit-"),
            created_at=self.created_at(),
            audit_id=audit_id,
            routes=routes,
        )
        if self.maybe(0.05):
            record["acknowledgement_audit_package"] = ["not", "a", "dict"]
        return record

    def delivery_plan(self) -> Record:
        rng = self.rng
        delivery_id = rng.choice(DELIVERY_POOL)
        record = audit_delivery_plan(
            session_id=self.session_id(delivery_id, "gordackdelivery-"),
            created_at=self.created_at(),
            delivery_id=delivery_id,
            audit_id=rng.choice(AUDIT_POOL),
            selected_providers=self.providers(),
            cadence=rng.choice(("hourly", "daily", "on_demand", "Hourly")),
            alert_level=rng.choice(("critical", "healthy")),
            outstanding_count=rng.choice((0, 0, 1, 3, True, "2", 0.5, -1, MISSING)),
        )
        if "outstanding_count" not in record:
            nested = record["acknowledgement_audit_delivery_plan"]
            nested["outstanding_count"] = 0
        roll = rng.random()
        if roll < 0.08:
            del record["audit_id"]  # nested audit_id only
        elif roll < 0.12:
            record["acknowledgement_audit_delivery_plan"]["audit_id"] = rng.choice(AUDIT_POOL)
        elif roll < 0.15:
            record["acknowledgement_audit_delivery_plan"] = None
        return record

    def audit_delivery(self) -> Record:
        rng = self.rng
        delivery_id = rng.choice(DELIVERY_POOL)
        providers = self.providers()
        failed = [p for p in providers if rng.random() < 0.4]
        if self.maybe(0.1):
            failed.append(self.provider())  # failed but not in providers
        record = connector_delivery(
            session_id=self.session_id(None, "rcd-"),
            created_at=self.created_at(),
            source=SOURCE_AUDIT,
            providers=providers,
            failed_providers=failed,
            audit_id=rng.choice(AUDIT_POOL),
            delivery_id=delivery_id,
        )
        roll = rng.random()
        if roll < 0.06:
            del record["delivery_success"]  # missing = false
        elif roll < 0.1:
            record["delivery_success"] = rng.choice(("true", 1, None))  # not JSON true
        elif roll < 0.14:
            record["delivery_success"] = not record["delivery_success"]  # inconsistent
        if self.maybe(0.04):
            record["providers"] = "splunk"  # wrong type
        if self.maybe(0.04):
            del record["failed_providers"]
        if self.maybe(0.05):
            del record["audit_id"]
        return record

    def notification_delivery(self) -> Record:
        rng = self.rng
        providers = self.providers()
        failed = [p for p in providers if rng.random() < 0.3]
        event_id = rng.choice(SCHEDULE_POOL + (rng.choice(DELIVERY_POOL),))
        record = connector_delivery(
            session_id=self.session_id(None, "rcd-"),
            created_at=self.created_at(),
            source=SOURCE_NOTIFICATION,
            providers=providers,
            failed_providers=failed,
            event_id=event_id,
        )
        if self.maybe(0.06):
            del record["delivery_success"]
        return record

    def excluded(self) -> Record:
        variant = self.rng.choice(
            ("suppression_trend", "release_governance", "no_source", "later_kind")
        )
        return excluded_record(
            variant=variant,
            session_id=self.session_id(None, "excluded-"),
            created_at=self.created_at(),
        )

    def build(self) -> list[Record]:
        makers = (
            (self.plan, 20),
            (self.ack, 20),
            (self.escalation, 8),
            (self.package, 10),
            (self.delivery_plan, 10),
            (self.audit_delivery, 17),
            (self.notification_delivery, 8),
            (self.excluded, 7),
        )
        functions = [m for m, _ in makers]
        weights = [w for _, w in makers]
        records = [self.rng.choices(functions, weights)[0]() for _ in range(self.n)]
        return records


def random_history(rng: random.Random, n: int) -> list[Record]:
    """A varied history of ``n`` records with unique ``session_id`` values."""
    return _HistoryBuilder(rng, n).build()


# ---------------------------------------------------------------------------
# Random REST parameters
# ---------------------------------------------------------------------------


def _strings(values: Iterable[Any]) -> list[str]:
    return sorted({v for v in values if isinstance(v, str) and v.strip()})


def _nested(record: Record, parent: str, key: str) -> Any:
    value = record.get(parent)
    return value.get(key) if isinstance(value, dict) else None


def _list_items(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _pools(records: Sequence[Record]) -> dict[str, list[str]]:
    schedule: list[Any] = []
    providers: list[Any] = list(PROVIDER_POOL)
    kinds: list[Any] = []
    ack_states: list[Any] = []
    alert_levels: list[Any] = []
    audit_ids: list[Any] = []
    delivery_ids: list[Any] = []
    cadences: list[Any] = []
    created: list[Any] = []
    for r in records:
        schedule += [r.get("schedule_id"), r.get("event_id"), _nested(r, "plan", "schedule_id")]
        providers.append(r.get("provider"))
        for key in ("selected_providers", "providers", "failed_providers"):
            providers += _list_items(r.get(key))
        kinds.append(r.get("metadata_kind"))
        ack_states.append(r.get("acknowledgement_state"))
        alert_levels.append(r.get("alert_level"))
        audit_ids += [
            r.get("audit_id"),
            _nested(r, "acknowledgement_audit_delivery_plan", "audit_id"),
        ]
        delivery_ids += [r.get("delivery_id"), r.get("event_id"), r.get("session_id")]
        cadences.append(_nested(r, "acknowledgement_audit_delivery_plan", "cadence"))
        created.append(r.get("created_at"))
    return {
        "schedule_id": _strings(schedule) or list(SCHEDULE_POOL),
        "provider": _strings(providers),
        "metadata_kind": _strings(kinds) or [KIND_PLAN],
        "acknowledgement_state": _strings(ack_states) or ["acknowledged"],
        "alert_level": _strings(alert_levels) or ["critical"],
        "audit_id": _strings(audit_ids) or list(AUDIT_POOL),
        "delivery_id": _strings(delivery_ids) or list(DELIVERY_POOL),
        "cadence": _strings(cadences) or ["hourly"],
        "created_at": _strings(created) or [DEFAULT_CREATED_AT],
    }


def _other_case(rng: random.Random, value: str) -> str:
    return rng.choice((value.upper(), value.title(), value.swapcase()))


def _rewrite_instant(rng: random.Random, value: str) -> str:
    """The same instant written with another offset (falls back to ``value``)."""
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return value
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return format_instant(parsed, rng.choice(OFFSETS))


def random_params(rng: random.Random, records: Sequence[Record]) -> dict[str, str]:
    """A random REST filter combination, values drawn mostly from ``records``.

    Fields are sometimes blank, sometimes absent, occasionally in another case
    (or with ``-`` for acknowledgement_state), and occasionally invalid for
    limit / offset / delivery_success / provider_category / created_after /
    created_before.
    """
    pools = _pools(records)

    def pick(field: str) -> str:
        return rng.choice(pools[field])

    def ack_state() -> str:
        value = pick("acknowledgement_state")
        roll = rng.random()
        if roll < 0.2:
            return value.upper()
        if roll < 0.3:
            return value.replace("_", "-")
        if roll < 0.4:
            return f"  {value} "
        return value

    def delivery_success() -> str:
        return rng.choice(
            (
                "true",
                "false",
                "TRUE",
                "False",
                "1",
                "0",
                "yes",
                "No",
                "on",
                "OFF",
                "t",
                "F",
                "y",
                "n",
                " true ",
                "maybe",
                "2",
                "truthy",
            )
        )

    def provider_category() -> str:
        return rng.choice(
            (
                "siem",
                "itsm",
                "chatops",
                "webhook",
                "SIEM",
                " ChatOps ",
                "Itsm",
                "email",
                "pagerduty",
            )
        )

    def instant() -> str:
        roll = rng.random()
        if roll < 0.08:
            return rng.choice(("2025-03-01", "yesterday", "2025-13-01T00:00:00", "12:00"))
        value = pick("created_at")
        if roll < 0.4:
            return _rewrite_instant(rng, value)
        return value

    def state() -> str:
        return rng.choice(
            (
                "outstanding",
                "delivered",
                "delivery_failed",
                "critical",
                "warning",
                "healthy",
                "acknowledged",
                "resolved",
                "Acknowledged",
                "escalated",
                "pending_review",
            )
        )

    def integer(field: str) -> str:
        choices = ["0", "1", "2", "3", "5", "10", "+2", " 4 ", "50"]
        if field == "limit":
            choices += ["500", "501", "600", "100000"]
        else:
            choices += ["7", "40", "1000"]
        if rng.random() < 0.1:
            return rng.choice(("-1", "abc", "1.5", "1e2", "0x10", "--1"))
        return rng.choice(choices)

    def plain(field: str) -> Any:
        def make() -> str:
            value = pick(field)
            if rng.random() < 0.08:
                return _other_case(rng, value)  # exact comparison: usually no match
            return value

        return make

    generators: dict[str, Any] = {
        "schedule_id": plain("schedule_id"),
        "provider": plain("provider"),
        "metadata_kind": plain("metadata_kind"),
        "acknowledgement_state": ack_state,
        "connector_delivery_source": lambda: rng.choice(
            (SOURCE_AUDIT, SOURCE_AUDIT, SOURCE_NOTIFICATION, SOURCE_RELEASE_GOVERNANCE)
        ),
        "delivery_success": delivery_success,
        "alert_level": plain("alert_level"),
        "audit_id": plain("audit_id"),
        "delivery_id": plain("delivery_id"),
        "cadence": plain("cadence"),
        "state": state,
        "provider_category": provider_category,
        "created_after": instant,
        "created_before": instant,
    }
    fields = list(generators)
    params: dict[str, str] = {}
    for field in rng.sample(fields, rng.choice((0, 1, 1, 1, 2, 2, 2, 3, 4))):
        if rng.random() < 0.1:
            params[field] = rng.choice(("", "   "))  # blank: no filter
        else:
            params[field] = generators[field]()
    for field in ("limit", "offset"):
        roll = rng.random()
        if roll < 0.5:
            continue  # absent
        if roll < 0.58:
            params[field] = rng.choice(("", " "))
        else:
            params[field] = integer(field)
    return params
