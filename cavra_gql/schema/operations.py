"""What each GraphQL operation tells the request metrics: its label and its outcome."""

from __future__ import annotations

import sys
from collections.abc import Iterator, Sequence

from graphql import GraphQLError
from strawberry.exceptions import MissingQueryError
from strawberry.extensions import SchemaExtension
from strawberry.schema.exceptions import CannotGetOperationTypeError, InvalidOperationTypeError
from strawberry.types import ExecutionContext

from cavra_gql import metrics
from cavra_gql.schema.errors import client_code

# The worst outcome among an operation's errors wins; an unknown code is an error.
_OUTCOME_OF_CODE = {
    "BAD_REQUEST": "bad_input",
    "GRAPHQL_PARSE_FAILED": "bad_input",
    "GRAPHQL_VALIDATION_FAILED": "bad_input",
    "BAD_USER_INPUT": "bad_input",
    "FORBIDDEN": "forbidden",
    "UNAUTHENTICATED": "unauthenticated",
    "TIME_LIMIT_EXCEEDED": "timeout",
}
_SEVERITY = {name: rank for rank, name in enumerate(metrics.OUTCOMES)}
# Raised out of the operation; Strawberry's HTTP layer answers them with a 400.
_REQUEST_ERRORS = (MissingQueryError, CannotGetOperationTypeError, InvalidOperationTypeError)


def operation_name(context: ExecutionContext) -> str:
    """The operation's name as a bounded label; "anonymous_<type>" for unnamed operations,
    "unknown" when the document did not parse or lacks the operation asked for."""
    try:
        kind = context.operation_type.value
    except RuntimeError:
        return "unknown"
    name = context.operation_name
    return f"anonymous_{kind}" if name is None else metrics.OPERATION_NAMES.label(name)


def outcome(errors: Sequence[GraphQLError]) -> str:
    found = "ok"
    for error in errors:
        candidate = _OUTCOME_OF_CODE.get(client_code(error), "error")
        if _SEVERITY[candidate] > _SEVERITY[found]:
            found = candidate
    return found


def errors_of(context: ExecutionContext) -> list[GraphQLError]:
    """The operation's errors, and the exception it is being left by, if any."""
    errors = list(context.pre_execution_errors or ())
    raised = sys.exc_info()[1]
    if isinstance(raised, GraphQLError):
        errors.append(raised)
    elif isinstance(raised, _REQUEST_ERRORS):
        errors.append(GraphQLError(str(raised), extensions={"code": "BAD_REQUEST"}))
    elif isinstance(raised, Exception):
        errors.append(GraphQLError(str(raised), original_error=raised))
    return errors


class OperationMetrics(SchemaExtension):
    """Leaves the operation's label and outcome in the request's ASGI state (metrics.Observe
    counts the request when the response is sent)."""

    def on_operation(self) -> Iterator[None]:
        try:
            yield
        finally:
            request = getattr(self.execution_context.context, "request", None)
            state = getattr(request, "scope", {}).get("state")
            if state is not None:
                state[metrics.OPERATION] = operation_name(self.execution_context)
                state[metrics.OUTCOME] = outcome(errors_of(self.execution_context))
