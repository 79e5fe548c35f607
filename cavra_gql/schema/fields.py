"""Small helpers for declaring documented, JSON-backed GraphQL fields."""

from __future__ import annotations

from typing import Any

import strawberry


def doc(description: str, *, key: str | None = None) -> Any:
    """A field read from the JSON key of its own name (or `key`), with its description."""
    return strawberry.field(description=description, metadata={"key": key} if key else None)
