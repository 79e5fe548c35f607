"""The per-request GraphQL context: settings, the caller, the engine, and one lazily opened
connection."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import strawberry
from sqlalchemy import Connection, Engine

from cavra_gql.db import read_connection
from cavra_gql.live import ChangeFeed
from cavra_gql.principal import Principal
from cavra_gql.settings import Settings


@dataclass(slots=True)
class Context:
    settings: Settings
    engine: Engine
    request: Any = None
    response: Any = None
    request_id: str = "-"
    principal: Principal | None = None  # None: an anonymous caller
    feed: ChangeFeed | None = None  # the process's live updates (subscriptions)
    connection_params: dict[str, Any] | None = None  # graphql-transport-ws connection_init
    _connection: Connection | None = field(default=None, repr=False)

    @property
    def conn(self) -> Connection:
        """One connection (one consistent read snapshot) for the whole operation."""
        if self._connection is None:
            self._connection = read_connection(self.engine)
        return self._connection

    def close(self) -> None:
        if self._connection is not None:
            self._connection.close()
            self._connection = None


Info = strawberry.Info[Context, None]
