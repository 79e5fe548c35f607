"""The legacy baseline: load every stored record, filter, sort and aggregate in Python.

This is what CAVRA's own API does for the history and the dashboard (SPEC §3, §4): read all
evidence records, decode each, keep the matching ones, sort them newest first, then page or
count. It is adapted from the plain-Python reference model in tests/spec_model.py.

One concession keeps it runnable at 1,000,000 records on a 24 GB machine: after a record has
been decoded and matched as a whole dict, the dashboard keeps only the few fields it needs
(CAVRA keeps every dict), and it re-reads the 10 `latest` records by id. Both make this
baseline faster and lighter than CAVRA's, so the speed-ups printed are lower bounds.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Connection, bindparam, text

Record = dict[str, Any]

PLAN = "go-backend-rollback-drill-notification-plan"
ACK = "go-backend-rollback-drill-notification-ack"
ESCALATION = "go-backend-rollback-drill-notification-escalation-plan"
AUDIT_PACKAGE = "go-backend-rollback-drill-acknowledgement-audit-package"
DELIVERY_PLAN = "go-backend-rollback-drill-acknowledgement-audit-delivery-plan"
CONNECTOR = "release-connector-delivery"
DRILL_KINDS = (PLAN, ACK, ESCALATION, AUDIT_PACKAGE, DELIVERY_PLAN)
NOTIFICATION_SOURCE = "go_backend_rollback_drill_notification"
AUDIT_SOURCE = "go_backend_rollback_drill_acknowledgement_audit"
SOURCES = (NOTIFICATION_SOURCE, AUDIT_SOURCE)
CATEGORIES: dict[str, tuple[str, ...]] = {
    "siem": ("splunk", "sentinel", "datadog"),
    "itsm": ("jira", "servicenow"),
    "chatops": ("slack", "teams"),
    "webhook": ("webhook",),
}
TRUE_WORDS = frozenset({"true", "1", "yes", "on", "t", "y"})
LATEST = 10
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
MICROSECOND = timedelta(microseconds=1)
OUTSTANDING_LISTED = 20


def _str(obj: Any, key: str) -> str | None:
    if not isinstance(obj, dict):
        return None
    value = obj.get(key)
    return value if isinstance(value, str) else None


def _strs(value: Any) -> list[str]:
    return [item for item in value if isinstance(item, str)] if isinstance(value, list) else []


def _dicts(value: Any) -> list[dict[str, Any]]:
    return [item for item in value if isinstance(item, dict)] if isinstance(value, list) else []


def parse_instant(value: str) -> datetime:
    parsed = datetime.fromisoformat(value.strip())
    return (parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)).astimezone(UTC)


def in_history(record: Record) -> bool:
    kind = record.get("metadata_kind")
    if kind == CONNECTOR:
        return record.get("connector_delivery_source") in SOURCES
    return kind in DRILL_KINDS


def providers_of(record: Record) -> set[str]:
    found = set(_strs([record.get("provider")]))
    for key in ("selected_providers", "providers", "failed_providers"):
        found.update(_strs(record.get(key)))
    package = record.get("acknowledgement_audit_package")
    for route in _dicts(package.get("routes") if isinstance(package, dict) else None):
        found.update(_strs([route.get("provider")]))
    found.discard("")
    return found


def status_of(record: Record) -> str | None:
    kind = record.get("metadata_kind")
    if kind == ACK:
        return _str(record, "acknowledgement_state")
    if kind == CONNECTOR:
        return "delivered" if record.get("delivery_success") is True else "delivery_failed"
    return _str(record, "alert_level")


def has_outstanding(record: Record) -> bool:
    kind = record.get("metadata_kind")
    if kind == ESCALATION:
        plan = record.get("escalation_plan")
        routes = _dicts(plan.get("routes") if isinstance(plan, dict) else None)
        return any(route.get("acknowledged") is False for route in routes)
    if kind == AUDIT_PACKAGE:
        package = record.get("acknowledgement_audit_package")
        routes = _dicts(package.get("routes") if isinstance(package, dict) else None)
        return any(route.get("acknowledgement_state") == "outstanding" for route in routes)
    if kind == DELIVERY_PLAN:
        count = record.get("outstanding_count")
        return isinstance(count, int | float) and not isinstance(count, bool) and count > 0
    return False


class Filters:
    """SPEC §3's filters over a raw REST parameter mapping (values assumed valid)."""

    def __init__(self, params: Mapping[str, str]) -> None:
        def value(name: str) -> str | None:
            raw = params.get(name)
            return raw if raw is not None and raw.strip() else None

        self.schedule_id = value("schedule_id")
        self.provider = value("provider")
        self.metadata_kind = value("metadata_kind")
        state = value("acknowledgement_state")
        self.ack_state = state.strip().lower().replace("-", "_") if state else None
        self.source = value("connector_delivery_source")
        success = value("delivery_success")
        self.success = None if success is None else success.strip().lower() in TRUE_WORDS
        self.alert_level = value("alert_level")
        self.audit_id = value("audit_id")
        self.delivery_id = value("delivery_id")
        self.cadence = value("cadence")
        self.state = value("state")
        category = value("provider_category")
        self.category = CATEGORIES[category.strip().lower()] if category else None
        after, before = value("created_after"), value("created_before")
        self.after = parse_instant(after) if after else None
        self.before = parse_instant(before) if before else None

    def matches(self, r: Record, created: datetime) -> bool:
        if self.schedule_id is not None and self.schedule_id not in (
            _str(r, "schedule_id"),
            _str(r, "event_id"),
            _str(r.get("plan"), "schedule_id"),
        ):
            return False
        if self.provider is not None and self.provider not in providers_of(r):
            return False
        if self.metadata_kind is not None and r.get("metadata_kind") != self.metadata_kind:
            return False
        if self.ack_state is not None and _str(r, "acknowledgement_state") != self.ack_state:
            return False
        if self.source is not None and not (
            _str(r, "connector_delivery_source") == self.source
            or (
                self.source == AUDIT_SOURCE
                and r.get("metadata_kind") in (AUDIT_PACKAGE, DELIVERY_PLAN)
            )
        ):
            return False
        if self.success is not None and not (
            r.get("metadata_kind") == CONNECTOR
            and (r.get("delivery_success") is True) == self.success
        ):
            return False
        if self.alert_level is not None and _str(r, "alert_level") != self.alert_level:
            return False
        if self.audit_id is not None and self.audit_id not in (
            _str(r, "audit_id"),
            _str(r.get("acknowledgement_audit_delivery_plan"), "audit_id"),
        ):
            return False
        if self.delivery_id is not None and self.delivery_id not in (
            _str(r, "delivery_id"),
            _str(r, "event_id"),
            _str(r, "session_id"),
        ):
            return False
        if self.cadence is not None and (
            _str(r.get("acknowledgement_audit_delivery_plan"), "cadence") != self.cadence
        ):
            return False
        if self.state is not None and not (
            status_of(r) == self.state or (self.state == "outstanding" and has_outstanding(r))
        ):
            return False
        if self.category is not None and not any(p in self.category for p in providers_of(r)):
            return False
        if self.after is not None and created < self.after:
            return False
        return not (self.before is not None and created >= self.before)


def load_all(conn: Connection) -> Iterator[tuple[Record, datetime]]:
    """Every stored record, decoded, with its created_at instant."""
    query = text("SELECT record_json FROM evidence_records")
    rows = conn.execution_options(stream_results=True, yield_per=5000).execute(query)
    for (raw,) in rows:
        record: Record = json.loads(raw)
        yield record, parse_instant(record["created_at"])


def _order_key(created: datetime, session_id: str) -> tuple[int, str]:
    """Newest first by instant (exact microseconds), ties by session_id in code-point order."""
    return (-((created - EPOCH) // MICROSECOND), session_id)


def history_page(
    conn: Connection, params: Mapping[str, str], limit: int = 50, offset: int = 0
) -> tuple[list[Record], int]:
    """SPEC §3: one page of whole records (newest first) and the total."""
    filters = Filters(params)
    matched = [
        (_order_key(created, record["session_id"]), record)
        for record, created in load_all(conn)
        if in_history(record) and filters.matches(record, created)
    ]
    matched.sort(key=lambda item: item[0])
    return [record for _, record in matched[offset : offset + limit]], len(matched)


@dataclass(slots=True)
class _Slim:
    """What the dashboard needs of one matching record."""

    key: tuple[int, str]
    kind: str | None
    source: str | None
    delivered: bool
    audit_providers: tuple[str, ...]
    schedule_key: str | None
    required: tuple[str, ...]
    plan_id: str | None
    ack_done: tuple[str | None, str | None] | None


def _slim(record: Record, created: datetime) -> _Slim:
    kind = record.get("metadata_kind")
    source = _str(record, "connector_delivery_source")
    audit_providers: tuple[str, ...] = ()
    if kind == DELIVERY_PLAN:
        audit_providers = tuple(_strs(record.get("selected_providers")))
    elif kind == CONNECTOR and source == AUDIT_SOURCE:
        audit_providers = tuple(
            _strs(record.get("providers")) + _strs(record.get("failed_providers"))
        )
    schedule_key = plan_id = None
    required: tuple[str, ...] = ()
    if kind == PLAN:
        nested = record.get("plan")
        schedule_key = _str(record, "schedule_id") or _str(nested, "schedule_id")
        plan_id = _str(record, "plan_id") or _str(nested, "plan_id")
        top = record.get("acknowledgement_required_providers")
        if not (isinstance(top, list) and top) and isinstance(nested, dict):
            top = nested.get("acknowledgement_required_providers")
        required = tuple(p for p in _strs(top) if p)
    ack_done = None
    if kind == ACK and _str(record, "acknowledgement_state") in ("acknowledged", "resolved"):
        ack_done = (_str(record, "schedule_id"), _str(record, "provider"))
    return _Slim(
        _order_key(created, record["session_id"]),
        kind,
        source,
        record.get("delivery_success") is True,
        audit_providers,
        schedule_key,
        required,
        plan_id,
        ack_done,
    )


def _rate(successes: int, attempts: int) -> float | None:
    return None if not attempts else (successes * 20_000 + attempts) // (2 * attempts) / 10_000


def dashboard(conn: Connection, params: Mapping[str, str]) -> dict[str, Any]:
    """SPEC §4's REST dashboard, computed in Python over every matching record."""
    filters = Filters(params)
    matched = [
        _slim(record, created)
        for record, created in load_all(conn)
        if in_history(record) and filters.matches(record, created)
    ]
    matched.sort(key=lambda item: item.key)
    deliveries = [m for m in matched if m.kind == CONNECTOR]
    audit = [m for m in deliveries if m.source == AUDIT_SOURCE]
    audit_failed = sum(not m.delivered for m in audit)
    providers = sorted({p for m in matched for p in m.audit_providers if p})
    done = {m.ack_done for m in matched if m.ack_done is not None}
    seen: set[str] = set()
    outstanding: list[dict[str, str | None]] = []
    for m in matched:
        if m.kind != PLAN or m.schedule_key is None or m.schedule_key in seen:
            continue
        seen.add(m.schedule_key)
        outstanding += [
            {"schedule_id": m.schedule_key, "provider": p, "plan_id": m.plan_id}
            for p in m.required
            if (m.schedule_key, p) not in done
        ]
    failed = sum(not m.delivered for m in deliveries)
    return {
        "alert_level": "critical" if failed or outstanding else "healthy",
        "plan_count": sum(m.kind == PLAN for m in matched),
        "delivery_count": len(deliveries),
        "notification_delivery_count": sum(m.source == NOTIFICATION_SOURCE for m in deliveries),
        "failed_delivery_count": failed,
        "acknowledgement_count": sum(m.kind == ACK for m in matched),
        "acknowledgement_audit_package_count": sum(m.kind == AUDIT_PACKAGE for m in matched),
        "acknowledgement_audit_delivery_plan_count": sum(m.kind == DELIVERY_PLAN for m in matched),
        "acknowledgement_audit_delivery_count": len(audit),
        "failed_acknowledgement_audit_delivery_count": audit_failed,
        "acknowledgement_audit_delivery_success_count": len(audit) - audit_failed,
        "acknowledgement_audit_delivery_success_rate": _rate(len(audit) - audit_failed, len(audit)),
        "acknowledgement_audit_delivery_providers": providers,
        "acknowledgement_audit_delivery_health": "critical" if audit_failed else "healthy",
        "outstanding_acknowledgement_count": len(outstanding),
        "outstanding_acknowledgements": outstanding[:OUTSTANDING_LISTED],
        "latest": _reread(conn, [m.key[1] for m in matched[:LATEST]]),
    }


def _reread(conn: Connection, session_ids: list[str]) -> list[Record]:
    if not session_ids:
        return []
    query = text(
        "SELECT session_id, record_json FROM evidence_records WHERE session_id IN :ids"
    ).bindparams(bindparam("ids", expanding=True))
    found = {row[0]: json.loads(row[1]) for row in conn.execute(query, {"ids": session_ids})}
    return [found[session_id] for session_id in session_ids]
