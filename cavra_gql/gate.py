"""The HTTP gate every request passes: request id, body size, credentials and time limit (and
WebSocket connections: their request id).

A pure ASGI middleware, so it costs one function call on the hot path and holds no body
beyond the configured limit. What it decides is left in `scope["state"]` for the routes:
`request_id` and `principal` (None for an anonymous caller).
"""

from __future__ import annotations

import json
import logging
import re
import uuid
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from cavra_gql import deadline, logs
from cavra_gql.auth import Authenticator, require_reader
from cavra_gql.errors import Forbidden, Unauthenticated
from cavra_gql.settings import Settings

log = logging.getLogger("cavra_gql.gate")

# Paths that serve no evidence: open even when credentials are configured.
OPEN_PATHS = ("/healthz", "/sandbox", "/favicon.ico")
_REQUEST_ID = re.compile(r"[A-Za-z0-9._:-]{1,64}")


def _is_open(path: str) -> bool:
    return path == "/" or any(path == p or path.startswith(p + "/") for p in OPEN_PATHS)


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope["headers"]:
        if key == name:
            return bytes(value).decode("latin-1")
    return None


class Gate:
    def __init__(self, app: ASGIApp, settings: Settings, authenticator: Authenticator) -> None:
        self.app = app
        self.limits = settings.limits
        self.auth = settings.auth
        self.authenticator = authenticator

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "websocket":
            await self._websocket(scope, receive, send)
            return
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = _request_id(scope)
        state = scope["state"]

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                headers.append((b"x-request-id", request_id.encode()))
                message = {**message, "headers": headers}
            await send(message)

        path: str = scope["path"]
        principal = None
        if self.auth.enabled and scope["method"] != "OPTIONS" and not _is_open(path):
            try:
                principal = self.authenticator.authenticate(_header(scope, b"authorization"))
                require_reader(self.auth, principal)
            except (Unauthenticated, Forbidden) as error:
                status = 401 if isinstance(error, Unauthenticated) else 403
                await _refuse(send_with_id, path, status, error.code, str(error), request_id)
                return
        state["principal"] = principal

        replay = await self._bounded(scope, receive, send_with_id, request_id)
        if replay is None:
            return
        with deadline.limit(self.limits.time_limit_seconds):
            await self.app(scope, replay, send_with_id)

    async def _websocket(self, scope: Scope, receive: Receive, send: Send) -> None:
        """A WebSocket connection is one request for the logs: its id is on every line logged
        while it is served (its subscriptions' tasks inherit it) and in the handshake's
        answer. Credentials are checked at connection_init (websocket.py), and a
        connection lives longer than a request's time limit."""
        request_id = _request_id(scope)

        async def send_with_id(message: Message) -> None:
            if message["type"] == "websocket.accept":
                headers = [*message.get("headers", ()), (b"x-request-id", request_id.encode())]
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, send_with_id)

    async def _bounded(
        self, scope: Scope, receive: Receive, send: Send, request_id: str
    ) -> Receive | None:
        """The request body, read up to the limit and replayed; None when refused (413)."""
        limit = self.limits.max_body_bytes
        declared = _header(scope, b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > limit:
            await _too_large(send, scope["path"], limit, request_id)
            return None
        if scope["method"] in {"GET", "HEAD", "OPTIONS"}:
            return receive
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return None
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > limit:
                await _too_large(send, scope["path"], limit, request_id)
                return None
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        body = b"".join(chunks)
        sent = False

        async def replay() -> Message:
            nonlocal sent
            if not sent:
                sent = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        return replay


def _request_id(scope: Scope) -> str:
    """The client's X-Request-ID if it is a sane one, else a new id; left in the scope's state
    and in logs.REQUEST_ID."""
    given = _header(scope, b"x-request-id")
    request_id = given if given and _REQUEST_ID.fullmatch(given) else uuid.uuid4().hex
    scope.setdefault("state", {})["request_id"] = request_id
    # For the log lines (logs.py). Not reset: each request is a task of its own, and the
    # server's lines after the response (access log, uncaught errors) should carry it too.
    logs.REQUEST_ID.set(request_id)
    return request_id


async def _too_large(send: Send, path: str, limit: int, request_id: str) -> None:
    message = f"the request body is larger than this server's limit of {limit} bytes"
    await _refuse(send, path, 413, "PAYLOAD_TOO_LARGE", message, request_id)


async def _refuse(
    send: Send, path: str, status: int, code: str, message: str, request_id: str
) -> None:
    body: dict[str, Any]
    if path.startswith("/graphql"):
        extensions = {"code": code, "requestId": request_id}
        body = {"errors": [{"message": message, "extensions": extensions}]}
    else:
        body = {"detail": message, "code": code, "request_id": request_id}
    headers = [(b"content-type", b"application/json")]
    if status == 401:
        headers.append((b"www-authenticate", b'Bearer realm="cavra-gql"'))
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": json.dumps(body).encode()})
