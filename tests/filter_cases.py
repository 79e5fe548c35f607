"""One table of filter cases, run through the query layer, REST and GraphQL alike.

The history is CAVRA's own worked example (a notification plan, an audit package, an audit
delivery plan and a failed audit delivery) plus acknowledgements, an escalation plan, a
notification delivery and records the history must exclude.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from tests import record_factory as rf

SCHEDULE = "drill-payments-weekly"
AUDIT = "gordackaudit-w0000000000000001"
DELIVERY = "gordackdelivery-w0000000000001"
AUDIT_SOURCE = rf.SOURCE_AUDIT
NOTIFICATION_SOURCE = rf.SOURCE_NOTIFICATION


def worked_example() -> list[dict[str, Any]]:
    """The CAVRA reference's worked case; the package and delivery plan at alert critical."""
    return [
        rf.notification_plan(
            session_id="gordn-w",
            created_at="2026-11-01T10:00:00Z",
            schedule_id=SCHEDULE,
            alert_level="warning",
            selected_providers=["slack"],
            acknowledgement_required_providers=["slack"],
        ),
        rf.audit_package(
            session_id=AUDIT,
            audit_id=AUDIT,
            created_at="2026-11-01T16:30:00+05:30",  # 11:00Z
            alert_level="critical",
            routes=[rf.audit_route(schedule_id=SCHEDULE, provider="slack")],
        ),
        rf.audit_delivery_plan(
            session_id=DELIVERY,
            delivery_id=DELIVERY,
            audit_id=AUDIT,
            created_at="2026-11-01T05:00:00-07:00",  # 12:00Z
            selected_providers=["splunk"],
            cadence="hourly",
            alert_level="critical",
            outstanding_count=1,
        ),
        rf.connector_delivery(
            session_id="rcd-w",
            created_at="2026-11-01T13:00:00",  # no offset: UTC
            source=AUDIT_SOURCE,
            providers=["splunk"],
            failed_providers=["splunk"],
            audit_id=AUDIT,
            delivery_id=DELIVERY,
        ),
    ]


def extended_history() -> list[dict[str, Any]]:
    return [
        *worked_example(),
        rf.acknowledgement(
            session_id="gordack-esc",
            created_at="2026-11-01T09:00:00Z",
            schedule_id=SCHEDULE,
            provider="slack",
            acknowledgement_state="escalated",
        ),
        rf.acknowledgement(
            session_id="gordack-res",
            created_at="2026-11-01T08:00:00Z",
            schedule_id="drill-other",
            provider="teams",
            acknowledgement_state="resolved",
        ),
        rf.escalation_plan(
            session_id="gordesc-1",
            created_at="2026-11-01T07:00:00Z",
            alert_level="critical",
            routes=[rf.escalation_route(provider="jira", acknowledged=False, breached=True)],
        ),
        rf.connector_delivery(
            session_id="rcd-n",
            created_at="2026-11-01T14:00:00Z",
            source=NOTIFICATION_SOURCE,
            schedule_id=SCHEDULE,
            providers=["slack", "teams"],
            failed_providers=["teams"],
        ),
        rf.excluded_record(
            variant="suppression_trend",
            session_id="gordtrend-x",
            created_at="2026-11-01T15:00:00Z",
            schedule_id=SCHEDULE,
        ),
        rf.excluded_record(
            variant="release_governance", session_id="rcd-rg", created_at="2026-11-01T15:00:00Z"
        ),
    ]


@dataclass(frozen=True)
class Case:
    id: str
    params: dict[str, str]
    expected: list[str]  # session ids in history order (the whole match set)


W_ALL = ["rcd-w", DELIVERY, AUDIT, "gordn-w"]
WORKED_CASES = [
    Case("no-filter", {}, W_ALL),
    Case("audit-source", {"connector_delivery_source": AUDIT_SOURCE}, ["rcd-w", DELIVERY, AUDIT]),
    Case(
        "audit-source-failed",
        {"connector_delivery_source": AUDIT_SOURCE, "delivery_success": "false"},
        ["rcd-w"],
    ),
    Case("cadence", {"cadence": "hourly"}, [DELIVERY]),
    Case("cadence-case-sensitive", {"cadence": "Hourly"}, []),
    Case("audit-id", {"audit_id": AUDIT}, ["rcd-w", DELIVERY, AUDIT]),
    Case("provider-splunk", {"provider": "splunk"}, ["rcd-w", DELIVERY]),
    Case("provider-slack-via-route", {"provider": "slack"}, [AUDIT, "gordn-w"]),
    Case("delivery-id", {"delivery_id": DELIVERY}, ["rcd-w", DELIVERY]),
    Case("alert-critical", {"alert_level": "critical"}, [DELIVERY, AUDIT]),
    Case("schedule", {"schedule_id": SCHEDULE}, ["gordn-w"]),
    Case("kind", {"metadata_kind": rf.KIND_PLAN}, ["gordn-w"]),
    Case("state-outstanding", {"state": "outstanding"}, [DELIVERY, AUDIT]),
    Case("state-failed", {"state": "delivery_failed"}, ["rcd-w"]),
    Case("state-warning", {"state": "warning"}, ["gordn-w"]),
    Case("category-siem", {"provider_category": "SIEM"}, ["rcd-w", DELIVERY]),
    Case("category-chatops", {"provider_category": "chatops"}, [AUDIT, "gordn-w"]),
    Case("created-after", {"created_after": "2026-11-01T11:00:00Z"}, ["rcd-w", DELIVERY, AUDIT]),
    Case("created-before", {"created_before": "2026-11-01T12:00:00+01:00"}, ["gordn-w"]),
    Case("blank-is-no-filter", {"provider": "  ", "audit_id": ""}, W_ALL),
    Case("success-yes", {"delivery_success": "YES"}, []),
    Case("success-f", {"delivery_success": "f"}, ["rcd-w"]),
    Case("and-combination", {"provider": "splunk", "state": "outstanding"}, [DELIVERY]),
]

E_CASES = [
    Case("ack-state-normalised", {"acknowledgement_state": " Escalated "}, ["gordack-esc"]),
    Case("ack-state-resolved", {"acknowledgement_state": "RESOLVED"}, ["gordack-res"]),
    Case(
        "schedule-via-event-and-plan",
        {"schedule_id": SCHEDULE},
        ["rcd-n", "gordn-w", "gordack-esc"],
    ),
    Case("notification-source", {"connector_delivery_source": NOTIFICATION_SOURCE}, ["rcd-n"]),
    Case("failed-deliveries", {"delivery_success": "0"}, ["rcd-n", "rcd-w"]),
    Case("state-escalated", {"state": "escalated"}, ["gordack-esc"]),
    Case("state-outstanding-escalation", {"state": "outstanding", "provider": "jira"}, []),
    Case("excluded-kind", {"metadata_kind": rf.KIND_SUPPRESSION_TREND}, []),
    Case("excluded-source", {"connector_delivery_source": rf.SOURCE_RELEASE_GOVERNANCE}, []),
    Case("category-itsm", {"provider_category": "itsm"}, []),
    Case("provider-teams", {"provider": "teams"}, ["rcd-n", "gordack-res"]),
]

BAD_PARAMS = [
    ("limit", {"limit": "ten"}),
    ("limit", {"limit": "-1"}),
    ("limit", {"limit": "1.5"}),
    ("offset", {"offset": "-3"}),
    ("offset", {"offset": "x"}),
    ("delivery_success", {"delivery_success": "maybe"}),
    ("provider_category", {"provider_category": "pager"}),
    ("created_after", {"created_after": "yesterday"}),
    ("created_before", {"created_before": "2026-11-01"}),
    ("created_before", {"created_before": "2026-13-01T00:00:00Z"}),
]
