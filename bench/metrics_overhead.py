"""Server CPU per GraphQL history page without and with the request metrics (and with the
JSON access log of `cavra-gql api` on top), printed as ratios to the bare server.

    python -m bench.metrics_overhead                  # the demo history on a fresh SQLite file
    python -m bench.metrics_overhead --database URL   # a database already loaded

Each server is a real uvicorn process; its CPU time (from /proc) over a block of sequential
keep-alive requests is divided by their number. The arms alternate for `--rounds` rounds and
each prints its median, since other processes on the machine skew single blocks.
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from datetime import UTC, datetime

import httpx
from starlette.applications import Starlette

from bench.measure import free_port, post, python, repeat_http, serve
from bench.scenarios import PAGE_QUERY
from cavra_gql import metrics
from cavra_gql.app import create_app
from cavra_gql.settings import Settings

BARE_ENV = "CAVRA_BENCH_NO_METRICS"


def app() -> Starlette:
    """`uvicorn --factory` target: the API as `cavra-gql api` builds it, or without its
    request metrics (middleware and GraphQL extension) when $CAVRA_BENCH_NO_METRICS is set."""
    built = create_app(Settings.from_env(freeze_gc=True))
    if os.environ.get(BARE_ENV):
        from cavra_gql.schema.operations import OperationMetrics

        built.user_middleware = [m for m in built.user_middleware if m.cls is not metrics.Observe]
        for route in built.routes:
            schema = getattr(getattr(route, "endpoint", None), "schema", None)
            if schema is not None:
                schema.extensions = [e for e in schema.extensions if e is not OperationMetrics]
    return built


def bookkeeping_us(times: int = 100_000) -> float:
    """In-process: what the metrics add to one GraphQL request (label, outcome, count, time)."""
    from starlette.routing import Route

    from cavra_gql.schema.operations import outcome

    route = Route("/graphql", lambda _request: None, name="graphql")
    started = time.process_time()
    for _ in range(times):
        state = {
            metrics.OPERATION: metrics.OPERATION_NAMES.label("HistoryPage"),
            metrics.OUTCOME: outcome([]),
        }
        metrics.count_request({"type": "http", "route": route, "state": state}, 200, 0.004)
    return (time.process_time() - started) / times * 1e6


def _demo_database(directory: str) -> str:
    from cavra_gql.db import make_engine
    from cavra_gql.demo import demo_records
    from cavra_gql.ingest import ingest_values

    url = f"sqlite:///{directory}/bench.sqlite3"
    engine = make_engine(url)
    ingest_values(engine, demo_records(datetime.now(UTC)), "demo history")
    engine.dispose()
    return url


def _arms(url: str) -> dict[str, tuple[list[str], dict[str, str]]]:
    factory = ["-m", "uvicorn", "--factory", "bench.metrics_overhead:app", "--no-access-log"]
    env = {"CAVRA_GQL_DATABASE_URL": url}
    return {
        "bare (no metrics, no access log)": (python(*factory), {**env, BARE_ENV: "1"}),
        "metrics (no access log)": (python(*factory), env),
        "cavra-gql api (metrics + JSON access log)": (
            python("-m", "cavra_gql.cli", "api", "--database", url),
            {"CAVRA_GQL_LOG_FORMAT": "json"},
        ),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database", help="a loaded database (default: the demo on SQLite)")
    parser.add_argument("--requests", type=int, default=1500, help="per block (default 1500)")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    body = {"query": PAGE_QUERY, "variables": {"limit": 50}}
    with tempfile.TemporaryDirectory(prefix="cavra-bench-metrics-") as directory:
        url = args.database or _demo_database(directory)
        found: dict[str, list[float]] = {}
        for _ in range(args.rounds):
            for name, (command, env) in _arms(url).items():
                port = free_port()
                command = [*command, "--port", str(port)]
                with (
                    serve(command, port, env, "/healthz") as server,
                    httpx.Client(base_url=server.base, timeout=60) as client,
                ):
                    timing = repeat_http(
                        client,
                        post("/graphql", body),
                        server.pid,
                        times=args.requests,
                        most=args.requests,
                        min_cpu_s=0,
                        budget_s=120,
                        warmup=200,
                    )
                assert timing.server_cpu_ms is not None
                found.setdefault(name, []).append(timing.server_cpu_ms)
                print(f"  {name}: {timing.server_cpu_ms:.3f} ms CPU per request", flush=True)
    medians = {name: statistics.median(values) for name, values in found.items()}
    bare = next(iter(medians.values()))
    print(f"\nserver CPU per GraphQL history page (50 rows), median of {args.rounds} rounds:")
    for name, median in medians.items():
        print(f"  {name:45s} {median:7.3f} ms  x{median / bare:.3f}")
    print(f"metrics bookkeeping alone, in-process: {bookkeeping_us():.1f} us per request")


if __name__ == "__main__":
    main()
