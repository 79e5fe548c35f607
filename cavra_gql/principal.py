"""Who a request comes from, once authenticated, and what their role lets them do."""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum


class Role(Enum):
    READER = "reader"  # every read
    OPERATOR = "operator"  # reads, writes (ingestRecords) and the write audit log


@dataclass(frozen=True, slots=True)
class Principal:
    """An authenticated caller."""

    name: str
    role: Role
    via: str  # "token" or "oidc"
    # When the credential stops being valid (Unix time; an OIDC JWT's exp and the clock
    # leeway), None when it does not expire: a WebSocket is closed then.
    expires_at: float | None = None


class AuthConfigError(ValueError):
    """An auth configuration that cannot be used; the message names the place."""
