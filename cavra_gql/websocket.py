"""GraphQL over WebSocket (graphql-transport-ws only): credentials (and their expiry), close
codes, and the subscription limit's message."""

from __future__ import annotations

import asyncio
import time
from contextlib import suppress
from typing import Any

from graphql import GraphQLError
from strawberry.asgi import ASGIWebSocketAdapter
from strawberry.exceptions import ConnectionRejectionError
from strawberry.subscriptions.protocols.graphql_transport_ws.handlers import (
    BaseGraphQLTransportWSHandler,
)
from strawberry.subscriptions.protocols.graphql_transport_ws.types import (
    ConnectionInitMessage,
    SubscribeMessage,
)

from cavra_gql.auth import Authenticator, require_reader
from cavra_gql.errors import Forbidden, Unauthenticated
from cavra_gql.schema.context import Context

# Where a refused connection_init leaves its close code and reason for SocketAdapter.close.
_REFUSAL = "cavra_ws_refusal"
UNAUTHENTICATED = 4401
FORBIDDEN = 4403
_MAX_REASON_BYTES = 123  # RFC 6455: a close frame's reason fits in 123 bytes


def authenticate(authenticator: Authenticator, context: Context) -> None:
    """Reads over WebSocket need what reads over HTTP need. Browsers cannot set headers on
    a WebSocket, so the token comes in connection_init's payload (`{"authorization": "Bearer
    <token>"}`), else in the upgrade request's Authorization header. A refusal is raised as
    ConnectionRejectionError, its close code (4401 or 4403) left for SocketAdapter.close."""
    params = context.connection_params or {}
    header = params.get("authorization")
    if header is None and context.request is not None:
        header = context.request.headers.get("authorization")
    try:
        if header is not None and not isinstance(header, str):
            raise Unauthenticated("connection_init's authorization must be `Bearer <token>`")
        principal = authenticator.authenticate(header)
        require_reader(authenticator.config, principal)
    except (Unauthenticated, Forbidden) as error:
        code = UNAUTHENTICATED if isinstance(error, Unauthenticated) else FORBIDDEN
        reason = str(error).encode()[:_MAX_REASON_BYTES].decode(errors="ignore")
        context.request.scope.setdefault("state", {})[_REFUSAL] = (code, reason)
        raise ConnectionRejectionError from None
    context.principal = principal


class SocketAdapter(ASGIWebSocketAdapter):
    """Strawberry's adapter, closing a refused connection with its own code and reason
    (Strawberry closes every refusal with 4403 "Forbidden")."""

    async def close(self, code: int, reason: str) -> None:
        refusal = self.ws.scope.get("state", {}).pop(_REFUSAL, None)
        if refusal is not None and code == FORBIDDEN:
            code, reason = refusal
        await super().close(code, reason)


class TransportHandler(BaseGraphQLTransportWSHandler[Context, None]):
    """Strawberry's graphql-transport-ws handler, saying what the subscription limit is and
    closing the connection when its credential expires (an OIDC JWT's `exp`): a stream must
    not outlive the token that opened it."""

    _expiry: asyncio.Task[None] | None = None

    async def handle_connection_init(self, message: ConnectionInitMessage) -> None:
        await super().handle_connection_init(message)
        principal = self.context.principal
        if self.connection_acknowledged and principal and principal.expires_at is not None:
            self._expiry = asyncio.create_task(self._close_at(principal.expires_at))

    async def _close_at(self, expires_at: float) -> None:
        await asyncio.sleep(max(0.0, expires_at - time.time()))
        reason = "the JWT has expired: connect again with a new one"
        await self.websocket.close(code=UNAUTHENTICATED, reason=reason)

    async def shutdown(self) -> None:
        if self._expiry is not None:
            self._expiry.cancel()
            with suppress(asyncio.CancelledError):
                await self._expiry
        await super().shutdown()

    async def handle_subscribe(self, message: SubscribeMessage) -> None:
        limit = self.max_subscriptions_per_connection
        if (
            limit is not None
            and self.connection_acknowledged
            and message["id"] not in self.operations
            and len(self.operations) >= limit
        ):
            error = GraphQLError(
                f"at most {limit} subscriptions may be open on one connection "
                "(CAVRA_GQL_MAX_SUBSCRIPTIONS); complete one first",
                extensions={"code": "SUBSCRIPTION_LIMIT"},
            )
            payload: Any = [error.formatted]
            await self.send_message({"id": message["id"], "type": "error", "payload": payload})
            return
        await super().handle_subscribe(message)
