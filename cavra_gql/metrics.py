"""The API's Prometheus metrics: requests by operation and outcome, latency, ingest counts, and
the `/metrics` route that exposes them with the database figures of `collectors.py`.

Request and ingest counts are per process. With several worker processes (`cavra-gql api
--workers N`) `PROMETHEUS_MULTIPROC_DIR` names a directory where each process keeps its values
(prometheus_client's multiprocess mode, chosen when prometheus_client is first imported), and a
scrape of any worker sums them all.
"""

from __future__ import annotations

import glob
import os
import re
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from time import perf_counter
from typing import TYPE_CHECKING, Any

from prometheus_client import (
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    disable_created_metrics,
    generate_latest,
)
from prometheus_client.exposition import CONTENT_TYPE_PLAIN_0_0_4
from prometheus_client.multiprocess import MultiProcessCollector, mark_process_dead
from prometheus_client.registry import Collector
from sqlalchemy import Engine, event
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from cavra_gql.collectors import POOL_HELP, DatabaseFigures, PoolFigures, pool_figures

if TYPE_CHECKING:
    from cavra_gql.writes import WriteOutcome

MULTIPROCESS_ENV = "PROMETHEUS_MULTIPROC_DIR"
# A `_created` series beside every counter and histogram doubles what Prometheus stores, and
# the text format has no use for it.
disable_created_metrics()  # type: ignore[no-untyped-call]
# What a GraphQL operation leaves in `scope["state"]` for the request's labels (see
# schema/operations.py); other requests are labelled by their route's name.
OPERATION = "metrics_operation"
OUTCOME = "metrics_outcome"

_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,63}")


class BoundedNames:
    """Operation names come from clients: only GraphQL names of up to 64 characters, and only
    the first `limit` distinct ones, become labels; the others are counted as "other"."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self._seen: set[str] = set()

    def label(self, name: str) -> str:
        if name in self._seen:
            return name
        if len(self._seen) >= self.limit or not _NAME.fullmatch(name):
            return "other"
        self._seen.add(name)
        return name


OPERATION_NAMES = BoundedNames(100)  # per process

# In order of severity: an operation with several errors gets the worst one's outcome.
OUTCOMES = ("ok", "bad_input", "unauthenticated", "forbidden", "too_large", "timeout", "error")
LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10)

REQUESTS = Counter(
    "cavra_gql_requests",
    "HTTP requests served, by API (graphql or http), operation and outcome.",
    ["api", "operation", "outcome"],
    registry=None,
)
LATENCY = Histogram(
    "cavra_gql_request_duration_seconds",
    "Time from a request's arrival to the end of its response, by API and operation.",
    ["api", "operation"],
    buckets=LATENCY_BUCKETS,
    registry=None,
)
INGEST_CALLS = Counter(
    "cavra_gql_ingest_calls",
    "ingestRecords calls, by whether their records were stored (all or nothing).",
    ["accepted"],
    registry=None,
)
INGESTED_RECORDS = Counter(
    "cavra_gql_ingest_records",
    "Records received by ingestRecords: new, updated, unchanged, or rejected with their call.",
    ["result"],
    registry=None,
)
# Live updates (per process; with several, summed over the live ones).
SUBSCRIPTIONS = Gauge(
    "cavra_gql_subscriptions",
    "GraphQL subscriptions open.",
    registry=None,
    multiprocess_mode="livesum",
)
WEBSOCKETS = Gauge(
    "cavra_gql_websocket_connections",
    "WebSocket connections being served (their handshakes included).",
    registry=None,
    multiprocess_mode="livesum",
)
SUBSCRIPTION_EVENTS = Counter(
    "cavra_gql_subscription_events",
    "Events sent to subscribers, by subscription field.",
    ["subscription"],
    registry=None,
)
# Multi-process mode only (a single process reads its pool at scrape time): the sum over the
# live API processes, each publishing its pool's state when a connection moves.
POOL_GAUGES = {
    name: Gauge(f"cavra_gql_db_pool_{name}", text, registry=None, multiprocess_mode="livesum")
    for name, text in POOL_HELP.items()
}
_PROCESS_METRICS: tuple[Collector, ...] = (
    REQUESTS,
    LATENCY,
    INGEST_CALLS,
    INGESTED_RECORDS,
    SUBSCRIPTIONS,
    WEBSOCKETS,
    SUBSCRIPTION_EVENTS,
)


def multiprocess() -> bool:
    return bool(os.environ.get(MULTIPROCESS_ENV))


@contextmanager
def multiprocess_directory() -> Iterator[None]:
    """Run the block (the worker processes it starts) in multi-process mode: a fresh, empty
    directory for their metric files, removed afterwards, unless the operator named one."""
    if multiprocess():
        yield
        return
    with tempfile.TemporaryDirectory(prefix="cavra-gql-metrics-") as path:
        os.environ[MULTIPROCESS_ENV] = path
        try:
            yield
        finally:
            del os.environ[MULTIPROCESS_ENV]


def outcome_of_status(status: int) -> str:
    if status < 400:
        return "ok"
    if status >= 500:
        return "timeout" if status == 503 else "error"  # 503: the per-request time limit
    return {401: "unauthenticated", 403: "forbidden", 413: "too_large"}.get(status, "bad_input")


def route_name(scope: Scope) -> str:
    route = scope.get("route")
    if route is None:  # refused before routing (401, 413): find the route it was meant for
        app = scope.get("app")
        for candidate in getattr(app, "routes", ()):
            if candidate.matches(scope)[0].value:  # Match.NONE is 0
                route = candidate
                break
    return getattr(route, "name", None) or "unmatched"


class Observe:
    """Counts and times every HTTP request, and counts the WebSocket connections open: a pure
    ASGI middleware, a few microseconds each."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            if scope["type"] == "websocket":
                with WEBSOCKETS.track_inprogress():
                    await self.app(scope, receive, send)
            else:
                await self.app(scope, receive, send)
            return
        started = perf_counter()
        status = 500  # what the server answers when the app raises before its response

        async def send_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_status)
        finally:
            count_request(scope, status, perf_counter() - started)


def count_request(scope: Scope, status: int, seconds: float) -> None:
    state = scope.get("state") or {}
    route = route_name(scope)
    api = "graphql" if route == "graphql" else "http"
    operation = state.get(OPERATION) or ("unknown" if api == "graphql" else route)
    outcome = state.get(OUTCOME) or outcome_of_status(status)
    if status >= 400 and outcome == "ok":  # refused by the HTTP layer after the operation
        outcome = outcome_of_status(status)
    REQUESTS.labels(api, operation, outcome).inc()
    LATENCY.labels(api, operation).observe(seconds)


def count_ingest(outcome: WriteOutcome) -> None:
    """An ingestRecords call, refused ones too (every path's committed writes, whichever
    process made them, are the database-wide counters of collectors.ingested)."""
    INGEST_CALLS.labels("true" if outcome.accepted else "false").inc()
    if outcome.accepted:
        counts = outcome.counts
        for result, count in (
            ("new", counts.new),
            ("updated", counts.updated),
            ("unchanged", counts.unchanged),
        ):
            INGESTED_RECORDS.labels(result).inc(count)
    else:
        INGESTED_RECORDS.labels("rejected").inc(outcome.read)


def start(engine: Engine) -> list[Collector]:
    """What the app's scrapes read besides the process metrics: the database figures, and
    the pool's (published by each process in multi-process mode, read at scrape otherwise)."""
    if multiprocess():
        _watch_pool(engine)
        return [DatabaseFigures(engine)]
    return [DatabaseFigures(engine), PoolFigures(engine)]


def _watch_pool(engine: Engine) -> None:
    """Publish this process's pool state whenever a connection moves."""

    def publish(*_args: Any) -> None:
        for name, value in pool_figures(engine.pool).items():
            POOL_GAUGES[name].set(value)

    for name in ("connect", "checkout", "checkin", "close", "close_detached"):
        event.listen(engine, name, publish)
    publish()


def process_exit() -> None:
    """Drop this process's pool gauges from the sums (its counters stay counted)."""
    if multiprocess():
        mark_process_dead(os.getpid())  # type: ignore[no-untyped-call]


def reap_dead_processes(path: str) -> None:
    """Pool gauges of processes that died without `process_exit` (killed): drop them."""
    for file in glob.glob(os.path.join(path, "gauge_live*_*.db")):
        pid = int(file.rsplit("_", 1)[1].removesuffix(".db"))
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            mark_process_dead(pid, path)  # type: ignore[no-untyped-call]
        except PermissionError:  # alive, another user's
            pass


def registry(*database: Collector) -> CollectorRegistry:
    """Everything one scrape reports: this process's (or all processes') metrics and the
    database figures."""
    found = CollectorRegistry(auto_describe=False)
    if multiprocess():
        path = os.environ[MULTIPROCESS_ENV]
        reap_dead_processes(path)
        MultiProcessCollector(found, path)  # type: ignore[no-untyped-call]
    else:
        for metric in _PROCESS_METRICS:
            found.register(metric)
    for collector in database:
        found.register(collector)
    return found


def endpoint(request: Request) -> Response:
    """`GET /metrics`: Prometheus text format 0.0.4 (a sync route: the figures query SQL)."""
    collectors = request.app.state.metric_collectors
    return Response(generate_latest(registry(*collectors)), media_type=CONTENT_TYPE_PLAIN_0_0_4)
