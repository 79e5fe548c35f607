"""The nested objects of CAVRA records: plans, routes, acknowledgements and deliveries."""

from __future__ import annotations

import strawberry
from strawberry.scalars import JSON

from cavra_gql.schema.fields import doc


@strawberry.type(description="One routing decision of a notification plan: deliver or suppress.")
class RouteDecision:
    route_key: str | None = doc("Stable key of the route (schedule and provider).")
    schedule_id: str | None = doc("Drill schedule the route belongs to.")
    provider: str | None = doc("Destination provider, for example `slack` or `jira`.")
    owner: str | None = doc("Owner notified through this route.")
    acknowledgement_minutes: int | None = doc("Minutes the owner has to acknowledge.")
    escalation_owner: str | None = doc("Who is escalated to when the route is not acknowledged.")
    maintenance_window: JSON | None = doc("Maintenance window that applied, as stored.")
    owner_availability: JSON | None = doc("Owner availability that applied, as stored.")
    action: str | None = doc("`deliver` or `suppress`.")
    reason: str | None = doc("Why the route was delivered or suppressed.")


@strawberry.type(description="The full notification plan CAVRA generated for a drill schedule.")
class NotificationPlanDetail:
    schema_version: str | None = doc("Schema version of the nested plan.")
    plan_id: str | None = doc("Plan identifier.")
    schedule_id: str | None = doc("Drill schedule the plan notifies about.")
    generated_at: str | None = doc("When CAVRA generated the plan (ISO-8601, as stored).")
    generated_by: str | None = doc("Actor that generated the plan.")
    status: str | None = doc("Schedule status: `needs_attention`, `due_soon`, ...")
    alert_level: str | None = doc("`critical`, `warning` or `healthy`.")
    eligible_providers: list[str] | None = doc("Providers eligible for notification.")
    selected_providers: list[str] | None = doc("Providers the plan delivers to.")
    acknowledgement_required_providers: list[str] | None = doc(
        "Providers whose owners must acknowledge, in plan order."
    )
    suppressed_providers: list[str] | None = doc("Providers suppressed by maintenance or calendar.")
    owners: list[str] | None = doc("Owners of the selected routes.")
    route_decisions: list[RouteDecision] | None = doc("Every route and its decision.")
    next_due_at: str | None = doc("When the drill is next due (as stored).")
    reason: str | None = doc("Why the plan has its alert level.")
    controls: JSON | None = doc("Governance controls attached to the plan, as stored.")


@strawberry.type(description="An acknowledgement as CAVRA recorded it.")
class AcknowledgementDetail:
    schema_version: str | None = doc("Schema version of the nested acknowledgement.")
    acknowledgement_id: str | None = doc("Acknowledgement identifier.")
    schedule_id: str | None = doc("Drill schedule acknowledged.")
    plan_id: str | None = doc("Notification plan acknowledged (may be empty).")
    provider: str | None = doc("Route provider acknowledged.")
    acknowledged_by: str | None = doc("Who acknowledged.")
    acknowledgement_state: str | None = doc(
        "`acknowledged`, `dismissed`, `escalated` or `resolved`."
    )
    acknowledged_at: str | None = doc("When (ISO-8601, as stored).")
    external_ref: str | None = doc("Ticket or message reference in the destination system.")
    notes: str | None = doc("Free-text notes of the acknowledger.")


@strawberry.type(description="A route of an escalation plan, with its acknowledgement status.")
class EscalationRoute:
    schedule_id: str | None = doc("Drill schedule of the route.")
    plan_id: str | None = doc("Notification plan of the route.")
    provider: str | None = doc("Route provider.")
    owner: str | None = doc("Route owner.")
    acknowledgement_state: str | None = doc("Latest acknowledgement state of the route.")
    acknowledged: bool | None = doc("Whether the route is acknowledged.")
    age_minutes: float | None = doc("Minutes since the route was notified.")
    acknowledgement_minutes: int | None = doc("Minutes allowed for acknowledgement.")
    breached: bool | None = doc("Whether the acknowledgement deadline has passed.")
    recommended_action: str | None = doc("What CAVRA recommends doing next.")


@strawberry.type(description="Routes overdue for acknowledgement, as CAVRA computed them.")
class EscalationPlanDetail:
    schema_version: str | None = doc("Schema version of the nested escalation plan.")
    acknowledgement_minutes: int | None = doc("Minutes allowed for acknowledgement.")
    route_count: int | None = doc("Routes considered.")
    outstanding_count: int | None = doc("Routes not yet acknowledged.")
    breached_count: int | None = doc("Routes past their deadline.")
    routes: list[EscalationRoute] | None = doc("Every route considered.")


@strawberry.type(description="One route of an acknowledgement audit package.")
class AuditRoute:
    route_id: str | None = doc("Route identifier.")
    schedule_id: str | None = doc("Drill schedule of the route.")
    plan_id: str | None = doc("Notification plan of the route.")
    provider: str | None = doc("Route provider.")
    owner: str | None = doc("Route owner.")
    escalation_owner: str | None = doc("Escalation owner of the route.")
    route_action: str | None = doc("`deliver` or `suppress`.")
    route_created_at: str | None = doc("When the route was created (as stored).")
    acknowledgement_state: str | None = doc(
        "Latest acknowledgement state; `outstanding` when none was recorded."
    )
    acknowledged: bool | None = doc("Whether the state is `acknowledged` or `resolved`.")
    acknowledged_by: str | None = doc("Who acknowledged.")
    acknowledged_at: str | None = doc("When it was acknowledged (as stored).")
    external_ref: str | None = doc("Ticket or message reference.")
    notes: str | None = doc("Acknowledgement notes.")
    acknowledgement_id: str | None = doc("The acknowledgement record's identifier.")


@strawberry.type(description="The exportable audit of route acknowledgements.")
class AuditPackageDetail:
    schema_version: str | None = doc("Schema version of the nested package.")
    audit_id: str | None = doc("Audit package identifier.")
    generated_at: str | None = doc("When the package was generated (as stored).")
    generated_by: str | None = doc("Actor that generated the package.")
    filters: JSON | None = doc("Filters the package was generated with, as stored.")
    route_count: int | None = doc("Routes audited.")
    acknowledgement_count: int | None = doc("Acknowledgements found.")
    acknowledged_count: int | None = doc("Routes acknowledged.")
    resolved_count: int | None = doc("Routes resolved.")
    escalated_count: int | None = doc("Routes escalated.")
    dismissed_count: int | None = doc("Routes dismissed.")
    outstanding_count: int | None = doc("Routes still outstanding.")
    alert_level: str | None = doc("`critical` or `healthy`.")
    routes: list[AuditRoute] | None = doc("Every audited route.")
    controls: JSON | None = doc("Governance controls, as stored.")


@strawberry.type(description="Where and how often an audit package is delivered.")
class AuditDeliveryPlanDetail:
    schema_version: str | None = doc("Schema version of the nested delivery plan.")
    delivery_id: str | None = doc("Delivery plan identifier.")
    audit_id: str | None = doc("Audit package delivered.")
    generated_at: str | None = doc("When the plan was generated (as stored).")
    generated_by: str | None = doc("Actor that generated the plan.")
    cadence: str | None = doc("`on_demand`, `hourly`, `daily`, `weekly`, ...")
    schedule_ref: str | None = doc("Reference of the delivery schedule.")
    next_delivery_at: str | None = doc("When the next delivery is due (as stored).")
    requested_provider: str | None = doc("Provider requested, as typed (`all` by default).")
    requested_providers: list[str] | None = doc("Providers requested.")
    selected_providers: list[str] | None = doc("Destinations selected.")
    destination_count: int | None = doc("Destinations selected.")
    route_count: int | None = doc("Routes in the audit package.")
    outstanding_count: int | None = doc("Outstanding routes in the audit package.")
    escalated_count: int | None = doc("Escalated routes in the audit package.")
    alert_level: str | None = doc("Alert level copied from the package.")
    filters: JSON | None = doc("Filters, as stored.")
    controls: JSON | None = doc("Governance controls, as stored.")


@strawberry.type(description="The HTTP request a connector sent (public-safe: secrets redacted).")
class DeliveryRequest:
    method: str | None = doc("HTTP method.")
    url: str | None = doc("Destination reduced to scheme, host and port.")
    headers: JSON | None = doc("Request headers; secret-bearing values read `REDACTED`.")


@strawberry.type(description="One provider's part of a connector send.")
class ProviderDelivery:
    provider: str | None = doc("Destination provider.")
    success: bool | None = doc("Whether the final attempt got a 2xx answer.")
    status_code: int | None = doc("HTTP status of the final attempt (0 = unreachable).")
    attempt_count: int | None = doc("Attempts made.")
    started_at: str | None = doc("When the first attempt started (as stored).")
    completed_at: str | None = doc("When the last attempt completed (as stored).")
    error: str | None = doc("Error of the final attempt, if any.")
    request: DeliveryRequest | None = doc("The request sent.")


@strawberry.type(description="The full connector result of one send.")
class ConnectorResult:
    schema_version: str | None = doc("Schema version of the connector result.")
    event_type: str | None = doc("Type of the delivered event.")
    event_id: str | None = doc("Identity of the delivered event.")
    session_id: str | None = doc("Session of the delivered event.")
    generated_at: str | None = doc("When the send finished (as stored).")
    success: bool | None = doc("Whether every provider succeeded.")
    deliveries: list[ProviderDelivery] | None = doc("One entry per provider.")
