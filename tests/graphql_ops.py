"""GraphQL operations the tests send, built from REST-style parameters."""

from __future__ import annotations

from typing import Any

from cavra_gql.queries.filters import FALSE_WORDS, FILTER_FIELDS, TRUE_WORDS


def camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.title() for part in rest)


def _type_of(name: str) -> str:
    return {"delivery_success": "Boolean", "limit": "Int", "offset": "Int"}.get(name, "String")


ARGUMENTS = [*FILTER_FIELDS, "limit", "offset", "after"]
_DECLARED = ", ".join(f"${camel(n)}: {_type_of(n)}" for n in ARGUMENTS)
_PASSED = ", ".join(f"{camel(n)}: ${camel(n)}" for n in ARGUMENTS)
_FILTER_DECLARED = ", ".join(f"${camel(n)}: {_type_of(n)}" for n in FILTER_FIELDS)
_FILTER_PASSED = ", ".join(f"{camel(n)}: ${camel(n)}" for n in FILTER_FIELDS)

HISTORY = f"""
query History({_DECLARED}) {{
  rollbackDrillNotifications({_PASSED}) {{
    total limit offset
    pageInfo {{ hasNextPage endCursor }}
    items {{ id sessionId metadataKind createdAt status providers record }}
  }}
}}
"""

DASHBOARD = f"""
query Dashboard({_FILTER_DECLARED}) {{
  rollbackDrillNotificationDashboard({_FILTER_PASSED}) {{
    schemaVersion product generatedAt alertLevel planCount deliveryCount
    notificationDeliveryCount failedDeliveryCount acknowledgementCount
    acknowledgementAuditPackageCount acknowledgementAuditDeliveryPlanCount
    acknowledgementAuditDeliveryCount failedAcknowledgementAuditDeliveryCount
    acknowledgementAuditDeliverySuccessCount acknowledgementAuditDeliverySuccessRate
    acknowledgementAuditDeliveryProviders acknowledgementAuditDeliveryHealth
    outstandingAcknowledgementCount
    outstandingAcknowledgements {{ scheduleId provider planId }}
    latest {{ id record }}
    healthStatus
    providerHealth {{ provider category attempts failures successes successRate
      lastAttemptAt lastSuccessAt lastFailureAt status }}
    categoryHealth {{ category providers attempts failures successes successRate
      lastAttemptAt lastSuccessAt lastFailureAt status }}
  }}
}}
"""


def variables(params: dict[str, str]) -> dict[str, Any]:
    """GraphQL variables for REST parameters (REST words for booleans become booleans)."""
    found: dict[str, Any] = {}
    for name, value in params.items():
        if name in ("delivery_success", "limit", "offset") and not value.strip():
            found[camel(name)] = None  # blank means "not given"; a typed variable says it so
        elif name == "delivery_success":
            word = value.strip().lower()
            found[camel(name)] = (
                True if word in TRUE_WORDS else False if word in FALSE_WORDS else value
            )
        elif name in ("limit", "offset"):
            number = value.strip().lstrip("+-")
            found[camel(name)] = int(value) if number.isdigit() else value
        else:
            found[camel(name)] = value
    return found


def rest_name(camel_name: str) -> str:
    return "".join("_" + ch.lower() if ch.isupper() else ch for ch in camel_name)
