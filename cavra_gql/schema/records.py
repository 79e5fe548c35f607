"""The `DrillRecord` interface and one object type per record kind (SPEC §3)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import strawberry
from graphql import GraphQLAbstractType
from strawberry.scalars import JSON

from cavra_gql import kinds
from cavra_gql.schema.fields import doc
from cavra_gql.schema.nested import (
    AcknowledgementDetail,
    AuditDeliveryPlanDetail,
    AuditPackageDetail,
    ConnectorResult,
    EscalationPlanDetail,
    NotificationPlanDetail,
)
from cavra_gql.schema.views import RecordView


@strawberry.interface(
    description=(
        "A rollback drill evidence record. Every record kind implements it; ask for a kind's "
        "own fields with an inline fragment (`... on NotificationPlan { planId }`)."
    )
)
class DrillRecord:
    id: strawberry.ID = doc("The record's session_id.")
    session_id: str = doc("Unique id of the record; storing a record with the same id replaces it.")
    metadata_kind: str = doc("The record kind, for example `release-connector-delivery`.")
    created_at: datetime = doc("When CAVRA wrote the record, as an instant in UTC.")
    status: str | None = doc(
        "Derived status: an acknowledgement's state; `delivered` or `delivery_failed` for a "
        "connector delivery; the alert level for every other kind."
    )
    providers: list[str] = doc(
        "Sorted, de-duplicated providers the record names (the set the `provider` filter reads)."
    )
    record: JSON = doc("The whole stored record, as received after redaction of secrets.")
    signer: str | None = doc("Actor that signed the evidence.")
    decision_count: int | None = doc("Decisions the evidence covers.")
    blocked_count: int | None = doc("Blocked items the evidence reports.")
    approval_required_count: int | None = doc("Items needing approval.")

    @classmethod
    def resolve_type(cls, obj: Any, _info: Any, _type: GraphQLAbstractType) -> str | None:
        if isinstance(obj, RecordView):
            return obj.cls.__name__
        return None


class _OfKind:
    """Object types are filled from `RecordView`s of their own class."""

    @classmethod
    def is_type_of(cls, obj: Any, _info: Any) -> bool:
        return isinstance(obj, RecordView) and obj.cls is cls


@strawberry.type(description="Who is to be notified for a drill schedule.")
class NotificationPlan(_OfKind, DrillRecord):
    plan_id: str | None = doc("Plan identifier (equals the session_id).")
    schedule_id: str | None = doc("Drill schedule the plan notifies about.")
    alert_level: str | None = doc("`critical`, `warning` or `healthy`.")
    selected_providers: list[str] | None = doc("Providers the plan delivers to.")
    acknowledgement_required_providers: list[str] | None = doc(
        "Providers whose owners must acknowledge."
    )
    deliverable_route_count: int | None = doc("Routes delivered.")
    suppressed_route_count: int | None = doc("Routes suppressed.")
    maintenance_suppressed_count: int | None = doc("Routes suppressed by maintenance windows.")
    calendar_suppressed_count: int | None = doc("Routes suppressed by the calendar.")
    plan: NotificationPlanDetail | None = doc("The full plan.")


@strawberry.type(description="An acknowledgement of one notification route.")
class NotificationAcknowledgement(_OfKind, DrillRecord):
    acknowledgement_id: str | None = doc("Acknowledgement identifier.")
    schedule_id: str | None = doc("Drill schedule acknowledged.")
    plan_id: str | None = doc("Notification plan acknowledged (may be empty).")
    provider: str | None = doc("Route provider acknowledged.")
    acknowledgement_state: str | None = doc(
        "`acknowledged`, `dismissed`, `escalated` or `resolved`."
    )
    acknowledgement: AcknowledgementDetail | None = doc("The full acknowledgement.")


@strawberry.type(description="Routes overdue for acknowledgement.")
class EscalationPlan(_OfKind, DrillRecord):
    plan_id: str | None = doc("Escalation plan identifier.")
    alert_level: str | None = doc("`critical` (breached), `warning` (outstanding) or `healthy`.")
    escalation_plan: EscalationPlanDetail | None = doc("The full escalation plan.")


@strawberry.type(description="An exportable audit of route acknowledgements.")
class AcknowledgementAuditPackage(_OfKind, DrillRecord):
    audit_id: str | None = doc("Audit package identifier.")
    alert_level: str | None = doc("`critical` (escalated or outstanding routes) or `healthy`.")
    route_count: int | None = doc("Routes audited.")
    acknowledgement_count: int | None = doc("Acknowledgements found.")
    outstanding_count: int | None = doc("Routes still outstanding.")
    acknowledgement_audit_package: AuditPackageDetail | None = doc("The full audit package.")


@strawberry.type(description="Where and how often an audit package is delivered.")
class AcknowledgementAuditDeliveryPlan(_OfKind, DrillRecord):
    delivery_id: str | None = doc("Delivery plan identifier.")
    audit_id: str | None = doc("Audit package delivered.")
    alert_level: str | None = doc("Alert level copied from the audit package.")
    selected_providers: list[str] | None = doc("Destinations selected.")
    destination_count: int | None = doc("Destinations selected.")
    route_count: int | None = doc("Routes in the audit package.")
    outstanding_count: int | None = doc("Outstanding routes in the audit package.")
    acknowledgement_audit_delivery_plan: AuditDeliveryPlanDetail | None = doc(
        "The full delivery plan."
    )


@strawberry.type(
    description=(
        "One connector send attempt, of a drill notification or of an acknowledgement audit "
        "package (see `connectorDeliverySource`)."
    )
)
class ConnectorDelivery(_OfKind, DrillRecord):
    connector_delivery_source: str | None = doc(
        "`go_backend_rollback_drill_notification` or "
        "`go_backend_rollback_drill_acknowledgement_audit`."
    )
    event_id: str | None = doc(
        "Delivered event: the schedule_id (notifications) or the delivery_id (audit packages)."
    )
    event_type: str | None = doc("Type of the delivered event.")
    delivery_success: bool | None = doc("Whether every provider succeeded.")
    attempted_providers: list[str] | None = doc(
        "Every provider attempted (the record's `providers` field).", key="providers"
    )
    failed_providers: list[str] | None = doc("Providers whose final attempt was not 2xx.")
    attempt_count: int | None = doc("Attempts made in all.")
    max_attempt_count: int | None = doc("Most attempts made for one provider.")
    status_codes: list[int | None] | None = doc("Final HTTP status per provider (0 = unreachable).")
    audit_id: str | None = doc("Audit package delivered (audit source only).")
    delivery_id: str | None = doc("Delivery plan followed (audit source only).")
    delivery: ConnectorResult | None = doc("The full connector result.")


TYPE_OF_KIND: dict[str, type] = {
    kinds.NOTIFICATION_PLAN: NotificationPlan,
    kinds.ACKNOWLEDGEMENT: NotificationAcknowledgement,
    kinds.ESCALATION_PLAN: EscalationPlan,
    kinds.AUDIT_PACKAGE: AcknowledgementAuditPackage,
    kinds.AUDIT_DELIVERY_PLAN: AcknowledgementAuditDeliveryPlan,
    kinds.CONNECTOR_DELIVERY: ConnectorDelivery,
}
RECORD_TYPES = tuple(TYPE_OF_KIND.values())
