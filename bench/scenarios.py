"""What is measured: the typical filters, the GraphQL operations, and ids picked from the data."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection

from cavra_gql.queries.filters import FILTER_FIELDS, HistoryFilter
from cavra_gql.queries.history import PageRequest, fetch_page

DELIVERY_PLAN = "go-backend-rollback-drill-acknowledgement-audit-delivery-plan"
NOTIFICATION_PLAN = "go-backend-rollback-drill-notification-plan"


def camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.title() for part in rest)


def _declared(names: tuple[str, ...]) -> str:
    types = {"delivery_success": "Boolean", "limit": "Int", "offset": "Int"}
    return ", ".join(f"${camel(n)}: {types.get(n, 'String')}" for n in names)


def _passed(names: tuple[str, ...]) -> str:
    return ", ".join(f"{camel(n)}: ${camel(n)}" for n in names)


PAGE_ARGS = (*FILTER_FIELDS, "limit", "offset", "after")

# What a client such as the sandbox UI asks of a history page: common fields and a few typed
# fields per kind.
PAGE_QUERY = f"""
query HistoryPage({_declared(PAGE_ARGS)}) {{
  rollbackDrillNotifications({_passed(PAGE_ARGS)}) {{
    total limit offset
    pageInfo {{ hasNextPage endCursor }}
    items {{
      id metadataKind createdAt status providers
      ... on ConnectorDelivery {{
        connectorDeliverySource deliverySuccess failedProviders attemptCount auditId deliveryId
      }}
      ... on NotificationAcknowledgement {{ scheduleId provider acknowledgementState }}
      ... on NotificationPlan {{ planId scheduleId alertLevel selectedProviders }}
      ... on EscalationPlan {{ planId alertLevel }}
      ... on AcknowledgementAuditPackage {{ auditId alertLevel outstandingCount }}
      ... on AcknowledgementAuditDeliveryPlan {{
        deliveryId auditId acknowledgementAuditDeliveryPlan {{ cadence }}
      }}
    }}
  }}
}}
"""

TOTAL_QUERY = f"""
query HistoryTotal({_declared(FILTER_FIELDS)}) {{
  rollbackDrillNotifications({_passed(FILTER_FIELDS)}) {{ total }}
}}
"""

CURSOR_ARGS = (*FILTER_FIELDS, "offset")
CURSOR_QUERY = f"""
query Position({_declared(CURSOR_ARGS)}) {{
  rollbackDrillNotifications({_passed(CURSOR_ARGS)}, limit: 1) {{ pageInfo {{ endCursor }} }}
}}
"""

_HEALTH = "attempts failures successes successRate lastAttemptAt lastSuccessAt lastFailureAt status"
DASHBOARD_QUERY = f"""
query Dashboard({_declared(FILTER_FIELDS)}) {{
  rollbackDrillNotificationDashboard({_passed(FILTER_FIELDS)}) {{
    schemaVersion product generatedAt alertLevel planCount deliveryCount
    notificationDeliveryCount failedDeliveryCount acknowledgementCount
    acknowledgementAuditPackageCount acknowledgementAuditDeliveryPlanCount
    acknowledgementAuditDeliveryCount failedAcknowledgementAuditDeliveryCount
    acknowledgementAuditDeliverySuccessCount acknowledgementAuditDeliverySuccessRate
    acknowledgementAuditDeliveryProviders acknowledgementAuditDeliveryHealth
    outstandingAcknowledgementCount
    outstandingAcknowledgements {{ scheduleId provider planId }}
    latest {{ id metadataKind createdAt status providers }}
    healthStatus
    providerHealth {{ provider category {_HEALTH} }}
    categoryHealth {{ category providers {_HEALTH} }}
  }}
}}
"""


def variables(params: dict[str, str]) -> dict[str, Any]:
    """GraphQL variables for REST parameters."""
    found: dict[str, Any] = {}
    for name, value in params.items():
        if name == "delivery_success":
            found[camel(name)] = value.strip().lower() in ("true", "1", "yes", "on", "t", "y")
        elif name in ("limit", "offset"):
            found[camel(name)] = int(value)
        else:
            found[camel(name)] = value
    return found


@dataclass(frozen=True)
class Scenario:
    """A named set of REST filter parameters, with its latency target (ms) if any."""

    name: str
    params: dict[str, str]
    target_ms: float | None = None


@dataclass(frozen=True)
class Samples:
    """Ids of real records, so id filters match what a user would look up."""

    audit_id: str
    delivery_id: str
    schedule_id: str


def pick_samples(conn: Connection) -> Samples:
    """A recent audit delivery plan (its audit and delivery ids) and a recent schedule."""
    plans = fetch_page(
        conn, HistoryFilter.parse({"metadata_kind": DELIVERY_PLAN}), PageRequest(limit=25)
    ).rows
    notification = fetch_page(
        conn, HistoryFilter.parse({"metadata_kind": NOTIFICATION_PLAN}), PageRequest(limit=25)
    ).rows
    if not plans or not notification:
        raise RuntimeError("the database holds no audit delivery plans or notification plans")
    record = plans[-1].record
    return Samples(
        record["audit_id"], record["delivery_id"], notification[-1].record["schedule_id"]
    )


def _iso(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


def page_scenarios(samples: Samples, now: datetime) -> list[Scenario]:
    """The typical history pages (50 items)."""
    week = {"created_after": _iso(now - timedelta(days=7)), "created_before": _iso(now)}
    return [
        Scenario("none", {}),
        Scenario("splunk+failed", {"provider": "splunk", "delivery_success": "false"}),
        Scenario("audit_id", {"audit_id": samples.audit_id}),
        Scenario("state=outstanding", {"state": "outstanding"}),
        Scenario("itsm+7d range", {"provider_category": "itsm", **week}),
    ]


def total_scenarios(samples: Samples, now: datetime) -> list[Scenario]:
    return [
        *page_scenarios(samples, now),
        Scenario("delivery_id", {"delivery_id": samples.delivery_id}),
        Scenario("schedule_id", {"schedule_id": samples.schedule_id}),
    ]


def dashboard_scenarios(samples: Samples, now: datetime) -> list[Scenario]:
    """The dashboard filters and SPEC targets (ms, p50) at 1,000,000 records."""
    return [
        Scenario("unfiltered", {}, 50),
        Scenario("audit_id", {"audit_id": samples.audit_id}, 20),
        Scenario("delivery_id", {"delivery_id": samples.delivery_id}, 20),
        Scenario("schedule_id", {"schedule_id": samples.schedule_id}, 20),
        Scenario("category=siem", {"provider_category": "siem"}, 150),
        Scenario("last 24h", {"created_after": _iso(now - timedelta(hours=24))}, 150),
    ]
