"""A small graphql-transport-ws client over `websockets`, and an API served in this process,
for the live update tests."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import uvicorn
from websockets.sync.client import ClientConnection, connect

from cavra_gql.app import create_app
from cavra_gql.settings import Settings
from tests.server import free_port

PROTOCOL = "graphql-transport-ws"
WAIT = 20.0  # seconds to wait for an event that must come


@contextmanager
def served(settings: Settings) -> Iterator[str]:
    """The app on a real uvicorn server in a thread of this process; yields its ws:// URL."""
    port = free_port()
    config = uvicorn.Config(
        create_app(settings), host="127.0.0.1", port=port, log_level="warning", lifespan="on"
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + WAIT
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline, "the server did not start"
        time.sleep(0.02)
    try:
        yield f"ws://127.0.0.1:{port}/graphql"
    finally:
        server.should_exit = True
        thread.join(timeout=WAIT)


class Live:
    """One graphql-transport-ws connection."""

    def __init__(self, socket: ClientConnection) -> None:
        self.socket = socket

    def send(self, message: dict[str, Any]) -> None:
        self.socket.send(json.dumps(message))

    def receive(self, timeout: float = WAIT) -> dict[str, Any]:
        """The next message other than a ping (answered)."""
        while True:
            message: dict[str, Any] = json.loads(self.socket.recv(timeout=timeout))
            if message["type"] == "ping":
                self.send({"type": "pong"})
                continue
            return message

    def subscribe(self, id: str, query: str, variables: dict[str, Any] | None = None) -> None:
        self.send(
            {
                "id": id,
                "type": "subscribe",
                "payload": {"query": query, "variables": variables or {}},
            }
        )

    def next(self, id: str, timeout: float = WAIT) -> dict[str, Any]:
        """The data of the next `next` message for `id` (any other message fails)."""
        message = self.receive(timeout)
        assert message["type"] == "next" and message["id"] == id, message
        assert "errors" not in message["payload"], message
        data: dict[str, Any] = message["payload"]["data"]
        return data

    def quiet(self, seconds: float) -> None:
        """Nothing arrives for `seconds`."""
        try:
            message = self.socket.recv(timeout=seconds)
        except TimeoutError:
            return
        raise AssertionError(f"unexpected message: {message}")


@contextmanager
def live(
    url: str,
    payload: dict[str, Any] | None = None,
    *,
    headers: dict[str, str] | None = None,
    origin: str | None = None,
) -> Iterator[Live]:
    """A connection past connection_ack."""
    with opened(url, headers=headers, origin=origin) as socket:
        client = Live(socket)
        client.send({"type": "connection_init", "payload": payload or {}})
        ack = client.receive()
        assert ack["type"] == "connection_ack", ack
        yield client


@contextmanager
def opened(
    url: str,
    *,
    protocol: str = PROTOCOL,
    headers: dict[str, str] | None = None,
    origin: str | None = None,
) -> Iterator[ClientConnection]:
    with connect(
        url,
        subprotocols=[protocol],  # type: ignore[list-item]
        additional_headers=headers,
        origin=origin,  # type: ignore[arg-type]
        open_timeout=WAIT,
    ) as socket:
        yield socket
