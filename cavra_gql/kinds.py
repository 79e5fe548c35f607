"""The record kinds, connector sources and provider categories that SPEC §2 names."""

from __future__ import annotations

from typing import Final

NOTIFICATION_PLAN: Final = "go-backend-rollback-drill-notification-plan"
ACKNOWLEDGEMENT: Final = "go-backend-rollback-drill-notification-ack"
ESCALATION_PLAN: Final = "go-backend-rollback-drill-notification-escalation-plan"
AUDIT_PACKAGE: Final = "go-backend-rollback-drill-acknowledgement-audit-package"
AUDIT_DELIVERY_PLAN: Final = "go-backend-rollback-drill-acknowledgement-audit-delivery-plan"
CONNECTOR_DELIVERY: Final = "release-connector-delivery"

HISTORY_KINDS: Final = frozenset(
    {
        NOTIFICATION_PLAN,
        ACKNOWLEDGEMENT,
        ESCALATION_PLAN,
        AUDIT_PACKAGE,
        AUDIT_DELIVERY_PLAN,
        CONNECTOR_DELIVERY,
    }
)

NOTIFICATION_SOURCE: Final = "go_backend_rollback_drill_notification"
AUDIT_SOURCE: Final = "go_backend_rollback_drill_acknowledgement_audit"
HISTORY_SOURCES: Final = frozenset({NOTIFICATION_SOURCE, AUDIT_SOURCE})

# Kinds that `connector_delivery_source=<AUDIT_SOURCE>` also matches (SPEC §3).
AUDIT_SOURCE_KINDS: Final = (AUDIT_PACKAGE, AUDIT_DELIVERY_PLAN)

PROVIDER_CATEGORIES: Final[dict[str, tuple[str, ...]]] = {
    "siem": ("splunk", "sentinel", "datadog"),
    "itsm": ("jira", "servicenow"),
    "chatops": ("slack", "teams"),
    "webhook": ("webhook",),
}

CATEGORY_OF_PROVIDER: Final = {
    provider: category
    for category, providers in PROVIDER_CATEGORIES.items()
    for provider in providers
}

# One bit per category and per known provider, for the masks stored with each record.
CATEGORY_BITS: Final = {category: 1 << n for n, category in enumerate(PROVIDER_CATEGORIES)}
PROVIDER_BITS: Final = {provider: 1 << n for n, provider in enumerate(CATEGORY_OF_PROVIDER)}

HISTORY_SCHEMA_VERSION: Final = "cavra.go-backend-pilot.rollback-drill-notification-history.v1"
DASHBOARD_SCHEMA_VERSION: Final = "cavra.go-backend-pilot.rollback-drill-notification-dashboard.v1"
PRODUCT: Final = "CAVRA"

ACK_DONE_STATES: Final = ("acknowledged", "resolved")


def in_history(metadata_kind: str, connector_delivery_source: object) -> bool:
    """Whether a record of this kind and source belongs to the history (SPEC §2)."""
    if metadata_kind == CONNECTOR_DELIVERY:
        return connector_delivery_source in HISTORY_SOURCES
    return metadata_kind in HISTORY_KINDS
