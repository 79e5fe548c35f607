"""Live updates in one API process: one change listener, fanned out to its subscriptions.

Every write commits a batch in the change feed (queries/changes.py). On PostgreSQL the
process keeps one connection LISTENing for the writers' NOTIFY, whichever process wrote;
on SQLite, which has no NOTIFY, it polls the feed while any subscription is open. Either way
it then reads the batches after the last one it saw, in commit order, and offers each to
every subscription, whose queue is bounded: one that falls that far behind is ended.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager, suppress
from typing import Any, TypeVar

import psycopg
from sqlalchemy import Engine

from cavra_gql import deadline, metrics
from cavra_gql.db import read_connection
from cavra_gql.errors import CavraError
from cavra_gql.queries import changes
from cavra_gql.queries.changes import Change

log = logging.getLogger("cavra_gql.live")

T = TypeVar("T")
POLL_SECONDS = 0.5  # SQLite: how often the feed is read while subscriptions are open
QUEUE_BOUND = 256  # batches a subscription may have waiting before it is ended
# PostgreSQL: after this long without a notification, check the connection and catch up.
LISTEN_CHECK_SECONDS = 30.0
MAX_BACKOFF_SECONDS = 30.0


class FellBehind(CavraError):
    """A subscription whose client did not take its updates as fast as they came."""

    code = "SUBSCRIPTION_FELL_BEHIND"

    def __init__(self) -> None:
        super().__init__(
            f"this subscription fell more than {QUEUE_BOUND} writes behind (the client reads "
            "too slowly) and was ended; subscribe again"
        )


class Subscriber:
    """One subscription's bounded queue of committed batches."""

    def __init__(self, bound: int) -> None:
        self._queue: asyncio.Queue[Change] = asyncio.Queue(bound)
        self.behind = False

    def offer(self, change: Change) -> None:
        try:
            self._queue.put_nowait(change)
        except asyncio.QueueFull:
            self.behind = True

    async def next(self) -> Change:
        if self.behind:
            raise FellBehind
        change = await self._queue.get()
        if self.behind:
            raise FellBehind
        return change

    async def any(self) -> None:
        """Wait until a batch comes, for consumers that need only know that something
        changed (they take the rest with `drain`; a full queue loses them nothing)."""
        await self._queue.get()

    def drain(self) -> None:
        """Drop the batches waiting now (and a past overflow)."""
        while not self._queue.empty():
            self._queue.get_nowait()
        self.behind = False


class ChangeFeed:
    """The process's listener and its subscriptions; `start` and `stop` in the app's lifespan."""

    def __init__(
        self,
        engine: Engine,
        *,
        time_limit_seconds: float | None = None,
        poll_seconds: float = POLL_SECONDS,
    ) -> None:
        self.engine = engine
        self.time_limit_seconds = time_limit_seconds
        self.poll_seconds = poll_seconds
        self.listens = engine.dialect.name == "postgresql"
        self.last_seq: int | None = None  # read when first needed, not at start-up
        self._subscribers: set[Subscriber] = set()
        self._wake = asyncio.Event()
        self._open = asyncio.Event()  # SQLite: some subscription is open
        self._reading = asyncio.Lock()
        self._tasks: list[asyncio.Task[None]] = []

    async def start(self) -> None:
        waiter = self._listen() if self.listens else self._poll()
        self._tasks = [asyncio.create_task(self._deliver()), asyncio.create_task(waiter)]

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with suppress(asyncio.CancelledError):
                await task
        self._tasks = []

    async def read(self, query: Callable[..., T], *args: Any) -> T:
        """Run `query(conn, *args)` on a read connection in a worker thread, under the
        request time limit (subscriptions' SQL must not hold up the event loop)."""

        def run() -> T:
            with deadline.limit(self.time_limit_seconds), read_connection(self.engine) as conn:
                return query(conn, *args)

        return await asyncio.to_thread(run)

    @asynccontextmanager
    async def subscribe(self) -> AsyncIterator[Subscriber]:
        """A subscription to every batch committed from now on."""
        subscriber = Subscriber(QUEUE_BOUND)
        async with self._reading:
            # Nobody read the feed while no subscription was open: start from the newest.
            if self.last_seq is None or not self._subscribers:
                self.last_seq = await self.read(changes.last_seq)
            self._subscribers.add(subscriber)
        self._open.set()
        metrics.SUBSCRIPTIONS.inc()
        try:
            yield subscriber
        finally:
            metrics.SUBSCRIPTIONS.dec()
            self._subscribers.discard(subscriber)
            if not self._subscribers:
                self._open.clear()

    async def _deliver(self) -> None:
        while True:
            await self._wake.wait()
            self._wake.clear()
            try:
                await self._catch_up()
            except Exception:  # a failed read is retried at the next wake-up, not fatal
                log.exception("reading the change feed failed")
                await asyncio.sleep(self.poll_seconds)
                self._wake.set()

    async def _catch_up(self) -> None:
        async with self._reading:
            if not self._subscribers:
                # Nobody to deliver to: no read at all (a process without subscriptions
                # costs the database nothing per write); the next subscription starts from
                # the newest batch.
                self.last_seq = None
                return
            while True:
                found = await self.read(changes.changes_after, self.last_seq)
                for change in found:
                    self.last_seq = change.seq
                    for subscriber in list(self._subscribers):
                        subscriber.offer(change)
                if len(found) < changes.READ_AT_ONCE:
                    return

    async def _poll(self) -> None:
        while True:
            await self._open.wait()
            await asyncio.sleep(self.poll_seconds)
            self._wake.set()

    async def _listen(self) -> None:
        """LISTEN on a dedicated connection, reconnecting with backoff; after each (re)connect
        and each quiet spell, catch up on whatever was committed meanwhile."""
        conninfo = self.engine.url.set(drivername="postgresql").render_as_string(
            hide_password=False
        )
        backoff = 0.5
        while True:
            try:
                async with await psycopg.AsyncConnection.connect(conninfo, autocommit=True) as conn:
                    await conn.execute(changes.LISTEN)
                    backoff = 0.5
                    self._wake.set()
                    while True:
                        async for _ in conn.notifies(timeout=LISTEN_CHECK_SECONDS):
                            self._wake.set()
                        await conn.execute("SELECT 1")  # raises on a dead connection
                        self._wake.set()
            except (psycopg.Error, OSError) as error:
                log.warning("change listener: %s; reconnecting in %.1f s", error, backoff)
            await asyncio.sleep(backoff)
            backoff = min(backoff * 2, MAX_BACKOFF_SECONDS)
