"""The domain errors: every expected failure the API or CLI reports to a user."""

from __future__ import annotations

from typing import Any


class CavraError(Exception):
    """Base of every error cavra-gql reports on purpose (never masked)."""

    code = "INTERNAL_SERVER_ERROR"

    @property
    def extensions(self) -> dict[str, Any]:
        """GraphQL error extensions; graphql-core copies them from the original error."""
        return {"code": self.code}


class BadInput(CavraError):
    """A filter or paging value that cannot be used: REST 422, GraphQL BAD_USER_INPUT."""

    code = "BAD_USER_INPUT"

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.reason = message

    @property
    def extensions(self) -> dict[str, Any]:
        return {"code": self.code, "field": self.field}


class IngestError(CavraError):
    """A file that cannot be imported; it names the place and the reason."""

    code = "BAD_USER_INPUT"


class Unauthenticated(CavraError):
    """No valid credential where the server requires one: HTTP 401, UNAUTHENTICATED."""

    code = "UNAUTHENTICATED"


class Forbidden(CavraError):
    """A valid credential whose role may not do this: FORBIDDEN."""

    code = "FORBIDDEN"


class TimeLimitExceeded(CavraError):
    """A request that ran past the server's per-request time limit."""

    code = "TIME_LIMIT_EXCEEDED"

    def __init__(self, seconds: float | None = None) -> None:
        limit = f" of {seconds:g} s" if seconds is not None else ""
        super().__init__(
            f"the request ran past the server's time limit{limit}; narrow the filters or ask "
            "for fewer records"
        )
