"""`rollbackDrillNotificationDashboard`: delivery health over the filtered history (SPEC §4)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import strawberry

from cavra_gql import kinds
from cavra_gql.dashboard import Dashboard, HealthStatus
from cavra_gql.schema.arguments import FILTER_PARAMETERS, history_filter, with_arguments
from cavra_gql.schema.context import Info
from cavra_gql.schema.fields import doc
from cavra_gql.schema.records import TYPE_OF_KIND, DrillRecord
from cavra_gql.schema.views import RecordView

strawberry.enum(
    HealthStatus,
    name="DeliveryHealthStatus",
    description=(
        "HEALTHY: no failures. DEGRADED: failures, but every provider's latest attempt "
        "succeeded (recovered). CRITICAL: some provider's latest attempt failed. "
        "UNKNOWN: no attempts."
    ),
)


@strawberry.type(description="A notification route still waiting for acknowledgement.")
class OutstandingAcknowledgement:
    schedule_id: str | None = doc("Drill schedule of the route.")
    provider: str = doc("Provider whose acknowledgement is missing.")
    plan_id: str | None = doc("Notification plan that required it.")


@strawberry.type(description="Acknowledgement audit delivery figures.")
class DeliveryFigures:
    attempts: int = doc("Audit-source connector sends that attempted the provider(s).")
    failures: int = doc("Of those attempts, the failed ones.")
    successes: int = doc("Of those attempts, the successful ones.")
    success_rate: float | None = doc("successes / attempts, 4 decimals; null without attempts.")
    last_attempt_at: datetime | None = doc("Latest attempt.")
    last_success_at: datetime | None = doc("Latest successful attempt.")
    last_failure_at: datetime | None = doc("Latest failed attempt.")
    status: HealthStatus = doc("Recovery-aware health.")


@strawberry.type(description="Acknowledgement audit delivery health of one provider.")
class ProviderDeliveryHealth(DeliveryFigures):
    provider: str = doc("Destination provider.")
    category: str | None = doc("`siem`, `itsm`, `chatops`, `webhook`, or null if unknown.")


@strawberry.type(description="Acknowledgement audit delivery health of one provider category.")
class CategoryDeliveryHealth(DeliveryFigures):
    category: str = doc("`siem`, `itsm`, `chatops` or `webhook`.")
    providers: list[str] = doc("The providers of the category; figures are their sums.")


@strawberry.type(
    description="Delivery health over every history record matching the filters (no paging)."
)
class RollbackDrillNotificationDashboard:
    schema_version: str = doc("`cavra.go-backend-pilot.rollback-drill-notification-dashboard.v1`")
    product: str = doc("`CAVRA`")
    generated_at: datetime = doc("When this answer was computed (UTC).")
    alert_level: str = doc(
        "`critical` if any connector delivery failed or any acknowledgement is outstanding."
    )
    plan_count: int = doc("Notification plans.")
    delivery_count: int = doc("Connector deliveries of both sources.")
    notification_delivery_count: int = doc("Connector deliveries of drill notifications.")
    failed_delivery_count: int = doc("Connector deliveries whose delivery_success is not true.")
    acknowledgement_count: int = doc("Acknowledgements, any state.")
    acknowledgement_audit_package_count: int = doc("Acknowledgement audit packages.")
    acknowledgement_audit_delivery_plan_count: int = doc("Audit delivery plans.")
    acknowledgement_audit_delivery_count: int = doc("Audit package send attempts.")
    failed_acknowledgement_audit_delivery_count: int = doc("Failed audit package sends.")
    acknowledgement_audit_delivery_success_count: int = doc("Successful audit package sends.")
    acknowledgement_audit_delivery_success_rate: float | None = doc(
        "Successful / attempted audit sends, a ratio rounded to 4 decimals; null without sends."
    )
    acknowledgement_audit_delivery_providers: list[str] = doc(
        "Providers named by audit delivery plans and audit sends, sorted."
    )
    acknowledgement_audit_delivery_health: str = doc("`critical` if any audit send failed.")
    outstanding_acknowledgement_count: int = doc("Routes still waiting for acknowledgement.")
    outstanding_acknowledgements: list[OutstandingAcknowledgement] = doc(
        "The first 20 outstanding routes, in history order of their plans."
    )
    latest: list[DrillRecord] = doc("The 10 newest matching records.")
    health_status: HealthStatus = doc("Recovery-aware audit delivery health over every provider.")
    provider_health: list[ProviderDeliveryHealth] = doc(
        "Audit delivery health per provider attempted, sorted by provider."
    )
    category_health: list[CategoryDeliveryHealth] = doc(
        "Audit delivery health per provider category (all four, always)."
    )


class DashboardAnswer:
    """What `RollbackDrillNotificationDashboard` reads; each figure's query runs when asked."""

    schema_version = kinds.DASHBOARD_SCHEMA_VERSION
    product = kinds.PRODUCT

    def __init__(self, dashboard: Dashboard) -> None:
        self._dashboard = dashboard
        self.generated_at = datetime.now(UTC)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._dashboard, name)

    @property
    def latest(self) -> list[RecordView]:
        rows = self._dashboard.latest
        return [RecordView(row, TYPE_OF_KIND[row.metadata_kind]) for row in rows]


@with_arguments(FILTER_PARAMETERS)
def rollback_drill_notification_dashboard(
    info: Info, **values: Any
) -> RollbackDrillNotificationDashboard:
    dashboard = Dashboard(info.context.conn, history_filter(values))
    return DashboardAnswer(dashboard)  # type: ignore[return-value]
