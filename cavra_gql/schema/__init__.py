"""The GraphQL schema: query, mutation and subscription roots composed of small field sets."""

from __future__ import annotations

from collections.abc import AsyncGenerator, Iterator
from typing import TYPE_CHECKING, Any

import strawberry
from graphql import GraphQLError
from strawberry.extensions import (
    AddValidationRules,
    MaxAliasesLimiter,
    MaxTokensLimiter,
    ParserCache,
    QueryDepthLimiter,
    SchemaExtension,
    ValidationCache,
)
from strawberry.schema.config import StrawberryConfig
from strawberry.types import ExecutionContext, ExecutionResult
from strawberry.types.execution import PreExecutionError
from strawberry.types.graphql import OperationType
from strawberry.utils.aio import aclosing

from cavra_gql.schema.dashboard import (
    RollbackDrillNotificationDashboard,
    rollback_drill_notification_dashboard,
)
from cavra_gql.schema.errors import log_unexpected, with_codes
from cavra_gql.schema.history import (
    RollbackDrillNotificationPage,
    rollback_drill_notification,
    rollback_drill_notifications,
)
from cavra_gql.schema.live import Subscription
from cavra_gql.schema.operations import OperationMetrics
from cavra_gql.schema.records import RECORD_TYPES, DrillRecord
from cavra_gql.schema.trend import TrendPoint, audit_delivery_trend_field
from cavra_gql.schema.views import default_resolver
from cavra_gql.schema.writes import Mutation, WriteAuditEntry, write_audit_log
from cavra_gql.settings import Limits

if TYPE_CHECKING:
    from opentelemetry.trace import Tracer


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
    write_audit_log: list[WriteAuditEntry] = strawberry.field(
        resolver=write_audit_log,
        description="Accepted writes through the API, newest first. Operators only.",
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


class Schema(strawberry.Schema):
    """Strawberry's schema, logging (with the request id) only errors nobody raised on purpose."""

    def process_errors(
        self, errors: list[GraphQLError], execution_context: ExecutionContext | None = None
    ) -> None:
        context = execution_context.context if execution_context else None
        log_unexpected(errors, getattr(context, "request_id", "-"))

    async def execute(self, *args: Any, **kwargs: Any) -> ExecutionResult:
        allowed = kwargs.get("allowed_operation_types")
        if allowed is not None:  # subscriptions go over WebSocket, not HTTP's multipart
            kwargs["allowed_operation_types"] = set(allowed) - {OperationType.SUBSCRIPTION}
        result = await super().execute(*args, **kwargs)
        return with_codes(result, kwargs.get("context_value"))

    def execute_sync(self, *args: Any, **kwargs: Any) -> ExecutionResult:
        return with_codes(super().execute_sync(*args, **kwargs), kwargs.get("context_value"))

    async def stream(self, *args: Any, **kwargs: Any) -> Any:
        """Over WebSocket, subscriptions only: queries and mutations go over HTTP, where the
        gate's body and time limits apply."""
        kwargs.setdefault("allowed_operation_types", (OperationType.SUBSCRIPTION,))
        results = await super().stream(*args, **kwargs)
        return _coded(results, kwargs.get("context_value"))


async def _coded(results: Any, context: object) -> AsyncGenerator[Any, None]:
    async with aclosing(results):
        try:
            async for result in results:
                yield with_codes(result, context) if isinstance(result, ExecutionResult) else result
        except GraphQLError as error:
            # A syntax error (the token limit among them) leaves the parser cache's hook by
            # exception, where Strawberry would end the operation without a word: answer it
            # as the pre-execution error it is (the handler then closes with 4400 and why).
            yield with_codes(PreExecutionError(data=None, errors=[error]), context)


def build_schema(limits: Limits | None = None, *, tracer: Tracer | None = None) -> Schema:
    """The schema, with the query limits of `limits` (the defaults when None), and a span
    per operation when given a `tracer`."""
    limits = limits or Limits()
    traced: list[Any] = []
    if tracer is not None:  # opentelemetry is optional: imported only when wanted
        from cavra_gql.tracing import OperationSpan

        traced.append(lambda: OperationSpan(tracer))
    # The limit rules are built once: the validation cache is keyed by the rule classes, and
    # limiters made per request would make new classes, so no document would ever hit it.
    rules = [
        *QueryDepthLimiter(max_depth=limits.max_depth).validation_rules,
        *MaxAliasesLimiter(max_alias_count=limits.max_aliases).validation_rules,
    ]
    return Schema(
        query=Query,
        mutation=Mutation,
        subscription=Subscription,
        types=list(RECORD_TYPES),
        config=StrawberryConfig(default_resolver=default_resolver),
        extensions=[
            *traced,
            CloseConnection,
            OperationMetrics,
            lambda: MaxTokensLimiter(max_token_count=limits.max_tokens),
            lambda: AddValidationRules(rules),
            # Auditors and the sandbox send the same few documents again and again.
            lambda: ParserCache(maxsize=256),
            lambda: ValidationCache(maxsize=256),
        ],
    )
