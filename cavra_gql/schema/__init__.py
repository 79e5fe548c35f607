"""The GraphQL schema: a query root composed of the history and dashboard fields."""

from __future__ import annotations

from collections.abc import Iterator

import strawberry
from graphql import GraphQLError
from strawberry.extensions import MaskErrors, ParserCache, SchemaExtension, ValidationCache
from strawberry.schema.config import StrawberryConfig
from strawberry.types import ExecutionContext

from cavra_gql.errors import CavraError
from cavra_gql.schema.dashboard import (
    RollbackDrillNotificationDashboard,
    rollback_drill_notification_dashboard,
)
from cavra_gql.schema.history import (
    RollbackDrillNotificationPage,
    rollback_drill_notification,
    rollback_drill_notifications,
)
from cavra_gql.schema.records import RECORD_TYPES, DrillRecord
from cavra_gql.schema.trend import TrendPoint, audit_delivery_trend_field
from cavra_gql.schema.views import default_resolver


@strawberry.type(description="Read access to CAVRA's rollback drill notification evidence.")
class Query:
    rollback_drill_notifications: RollbackDrillNotificationPage = strawberry.field(
        resolver=rollback_drill_notifications,
        description=(
            "Rollback drill notification history, newest first: notification plans, "
            "acknowledgements, escalation plans, acknowledgement audit packages, audit delivery "
            "plans and connector deliveries. Filters combine with AND; blank means no filter."
        ),
    )
    rollback_drill_notification: DrillRecord | None = strawberry.field(
        resolver=rollback_drill_notification,
        description="One history record by its id (session_id); null when there is none.",
    )
    rollback_drill_notification_dashboard: RollbackDrillNotificationDashboard = strawberry.field(
        resolver=rollback_drill_notification_dashboard,
        description="Delivery health over every history record matching the filters.",
    )
    audit_delivery_trend: list[TrendPoint] = strawberry.field(
        resolver=audit_delivery_trend_field,
        description=(
            "Acknowledgement audit package sends and failures per UTC hour or day over the "
            "filtered history, gaps filled with zeros from the first to the last bucket (or over "
            "createdAfter..createdBefore when given)."
        ),
    )


class CloseConnection(SchemaExtension):
    """Return the operation's database connection to the pool when the operation ends."""

    def on_operation(self) -> Iterator[None]:
        yield
        context = self.execution_context.context
        if hasattr(context, "close"):
            context.close()


def _unexpected(error: GraphQLError) -> bool:
    """Mask errors that were not raised on purpose (no stack, SQL or paths in answers)."""
    original = error.original_error
    return original is not None and not isinstance(original, CavraError | GraphQLError)


class Schema(strawberry.Schema):
    """Strawberry's schema, logging only the errors nobody raised on purpose."""

    def process_errors(
        self, errors: list[GraphQLError], execution_context: ExecutionContext | None = None
    ) -> None:
        super().process_errors([e for e in errors if _unexpected(e)], execution_context)


def build_schema() -> Schema:
    return Schema(
        query=Query,
        types=list(RECORD_TYPES),
        config=StrawberryConfig(default_resolver=default_resolver),
        extensions=[
            CloseConnection,
            # Auditors and the sandbox send the same few documents again and again.
            lambda: ParserCache(maxsize=256),
            lambda: ValidationCache(maxsize=256),
            lambda: MaskErrors(should_mask_error=_unexpected),
        ],
    )
