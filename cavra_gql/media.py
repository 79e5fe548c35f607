"""GraphQL over HTTP response media types: which one a request gets, and what it changes.

The spec (https://graphql.github.io/graphql-over-http/draft/) defines two:

- `application/json`, the legacy type: every GraphQL response, request errors included, is
  answered with 200 and `data` (null when the operation never ran). Clients that send no
  Accept header, `*/*` or `application/*` get it, as the spec's legacy rule says.
- `application/graphql-response+json`, for clients that name it in their Accept header: a
  *request error* (the document does not parse or validate, or the variables cannot be
  coerced: execution never started) is answered with 400 and no `data` entry. Errors raised
  while executing keep 200 and `data`, even when `data` is null (a non-null root field).
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import lru_cache
from typing import Any

JSON = "application/json"
GRAPHQL_RESPONSE = "application/graphql-response+json"
GRAPHQL_RESPONSE_CONTENT_TYPE = f"{GRAPHQL_RESPONSE}; charset=utf-8"


def _quality(ranges: list[tuple[str, float]], media_type: str) -> tuple[float, bool]:
    """The q the Accept ranges give `media_type`, from the most specific matching range, and
    whether that range names the type exactly (rather than through a wildcard)."""
    kind = media_type.split("/", 1)[0]
    best: tuple[int, float] = (-1, 0.0)  # (specificity, q)
    for media_range, q in ranges:
        specificity = {media_type: 2, f"{kind}/*": 1, "*/*": 0}.get(media_range, -1)
        if specificity > best[0]:
            best = (specificity, q)
    return best[1], best[0] == 2


def _ranges(accept: str) -> list[tuple[str, float]]:
    ranges = []
    for item in accept.split(","):
        media_range, *params = (part.strip() for part in item.split(";"))
        q = 1.0
        for param in params:
            name, _, value = param.partition("=")
            if name.strip().lower() == "q":
                try:
                    q = min(max(float(value.strip()), 0.0), 1.0)
                except ValueError:
                    q = 0.0
        if media_range:
            ranges.append((media_range.lower(), q))
    return ranges


@lru_cache(maxsize=64)
def negotiate(accept: str | None) -> str:
    """The response media type for a request's Accept header (None when absent).

    `application/graphql-response+json` when the client names it with a q above zero and at
    least as high as `application/json`'s; otherwise `application/json`, also when neither is
    acceptable (the spec lets the server answer with its own choice then).
    """
    if not accept:
        return JSON
    ranges = _ranges(accept)
    graphql_q, named = _quality(ranges, GRAPHQL_RESPONSE)
    json_q, _ = _quality(ranges, JSON)
    return GRAPHQL_RESPONSE if named and graphql_q > 0 and graphql_q >= json_q else JSON


def is_request_error(response: Mapping[str, Any]) -> bool:
    """A response whose operation never started: `data` null and no error has a `path`.

    A field error always has a path, also one that nulls the whole `data` through a non-null
    root field; parse, validation and variable coercion errors never have one.
    """
    errors = response.get("errors")
    return (
        response.get("data") is None
        and bool(errors)
        and all(isinstance(error, dict) and "path" not in error for error in errors or ())
    )


def request_error_status(response: Mapping[str, Any]) -> int:
    """400 for a request error; 500 when it is a masked failure of the server's own."""
    codes = {
        error.get("extensions", {}).get("code")
        for error in response.get("errors") or ()
        if isinstance(error, dict)
    }
    return 500 if "INTERNAL_SERVER_ERROR" in codes else 400
