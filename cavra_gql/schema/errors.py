"""Every GraphQL error carries `extensions.code`; unexpected ones are masked and logged.

Expected errors (bad input, credentials, limits) keep their helpful message. Anything else
is an "Unexpected error." with a request id that points at the server log, where the
exception is written with its stack: nothing about the code, the SQL or the data leaks.
"""

from __future__ import annotations

import logging

from graphql import GraphQLError
from strawberry.schema.exceptions import InvalidOperationTypeError
from strawberry.types import ExecutionResult

from cavra_gql.errors import CavraError

log = logging.getLogger("cavra_gql.graphql")

MASKED_MESSAGE = "Unexpected error."


def unexpected(error: GraphQLError) -> bool:
    """An error nobody raised on purpose: not ours, not graphql-core's."""
    original = error.original_error
    # InvalidOperationTypeError: a query or mutation sent over WebSocket (subscriptions only).
    expected = CavraError | GraphQLError | InvalidOperationTypeError
    return original is not None and not isinstance(original, expected)


def code_of(error: GraphQLError) -> str:
    """The `extensions.code` of an expected error that has none of its own."""
    if error.message.startswith("Syntax Error"):  # includes the token limit
        return "GRAPHQL_PARSE_FAILED"
    # Variable values that cannot be coerced, and errors raised while resolving a field.
    if error.message.startswith("Variable '$") or error.path:
        return "BAD_USER_INPUT"
    return "GRAPHQL_VALIDATION_FAILED"


def log_unexpected(errors: list[GraphQLError], request_id: str) -> None:
    for error in errors:
        if unexpected(error):
            original = error.original_error
            assert original is not None
            log.error(
                "request %s: unexpected error at %s",
                request_id,
                ".".join(map(str, error.path or [])) or "(operation)",
                exc_info=(type(original), original, original.__traceback__),
            )


def with_codes(result: ExecutionResult, context: object) -> ExecutionResult:
    """The result with a code on each error and the unexpected ones masked.

    Applied to the finished result rather than in an extension hook: with the parser cache,
    a syntax error leaves the operation hook by exception, before any result exists.
    """
    if result.errors:
        request_id = getattr(context, "request_id", "-")
        result.errors = [coded(error, request_id) for error in result.errors]
    return result


def client_code(error: GraphQLError) -> str:
    """The `extensions.code` the client sees for `error` (what `coded` gives it): the request
    metrics label an operation's outcome by it before the result is coded."""
    if unexpected(error):
        return "INTERNAL_SERVER_ERROR"
    given = (error.extensions or {}).get("code")
    return given if isinstance(given, str) else code_of(error)


def coded(error: GraphQLError, request_id: str) -> GraphQLError:
    if unexpected(error):
        return GraphQLError(
            MASKED_MESSAGE,
            nodes=error.nodes,
            source=error.source,
            positions=error.positions,
            path=error.path,
            extensions={"code": "INTERNAL_SERVER_ERROR", "requestId": request_id},
        )
    if error.extensions and "code" in error.extensions:
        return error
    error.extensions = {**(error.extensions or {}), "code": code_of(error)}
    return error
