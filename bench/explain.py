"""Where a figure's time goes: each SQL statement a GraphQL operation runs, its time and plan.

`python -m bench.explain --database URL dashboard:unfiltered page:audit_id total:none`
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Connection, Engine, event

from bench import generate, scenarios
from bench.scenarios import Scenario
from cavra_gql.db import make_engine, read_connection
from cavra_gql.schema import build_schema
from cavra_gql.schema.context import Context
from cavra_gql.settings import Settings

QUERIES = {
    "page": scenarios.PAGE_QUERY,
    "total": scenarios.TOTAL_QUERY,
    "dashboard": scenarios.DASHBOARD_QUERY,
}


@contextmanager
def captured(engine: Engine) -> Iterator[list[tuple[str, Any, float]]]:
    """(statement, parameters, seconds) of every statement the engine runs in the block."""
    found: list[tuple[str, Any, float]] = []
    started: list[float] = []

    def before(_c: Any, _cur: Any, _statement: str, _params: Any, _ctx: Any, _many: bool) -> None:
        started.append(time.perf_counter())

    def after(_c: Any, _cur: Any, statement: str, params: Any, _ctx: Any, _many: bool) -> None:
        found.append((statement, params, time.perf_counter() - started.pop()))

    event.listen(engine, "before_cursor_execute", before)
    event.listen(engine, "after_cursor_execute", after)
    try:
        yield found
    finally:
        event.remove(engine, "before_cursor_execute", before)
        event.remove(engine, "after_cursor_execute", after)


def _run(conn: Connection, statement: str, params: Any) -> float:
    started = time.perf_counter()
    conn.exec_driver_sql(statement, params).all()
    return time.perf_counter() - started


def plan(conn: Connection, statement: str, params: Any) -> list[str]:
    if conn.dialect.name == "sqlite":
        rows = conn.exec_driver_sql("EXPLAIN QUERY PLAN " + statement, params).all()
        return [f"{'  ' * _depth(rows, row)}{row[3]}" for row in rows]
    rows = conn.exec_driver_sql("EXPLAIN (ANALYZE, BUFFERS) " + statement, params).all()
    return [row[0] for row in rows]


def _depth(rows: Sequence[Any], row: Any) -> int:
    parents = {r[0]: r[1] for r in rows}
    depth, parent = 0, row[1]
    while parent:
        depth, parent = depth + 1, parents.get(parent, 0)
    return depth


def explain(engine: Engine, what: str, scenario: Scenario, runs: int = 3) -> str:
    schema = build_schema()
    settings = Settings.from_env(database_url=str(engine.url))
    context = Context(settings, engine)
    schema.execute_sync(
        QUERIES[what], variable_values=scenarios.variables(scenario.params), context_value=context
    )
    with captured(engine) as statements:
        started = time.perf_counter()
        result = schema.execute_sync(
            QUERIES[what],
            variable_values=scenarios.variables(scenario.params),
            context_value=Context(settings, engine),
        )
        total = time.perf_counter() - started
    if result.errors:
        raise RuntimeError(str(result.errors))
    out = [
        f"== {what} {scenario.name} {scenario.params}: {total * 1000:.1f} ms, "
        f"{len(statements)} statements"
    ]
    with read_connection(engine) as conn:
        for statement, params, _ in statements:
            seconds = min(_run(conn, statement, params) for _ in range(runs))
            out.append(f"-- {seconds * 1000:.1f} ms (run alone, rows fetched)  params={params}")
            out.append(" ".join(statement.split()))
            out += [f"   | {line}" for line in plan(conn, statement, params)]
    return "\n".join(out)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--database", required=True)
    parser.add_argument("--now", default=generate.DEFAULT_NOW)
    parser.add_argument("--runs", type=int, default=3, help="timed runs of each statement")
    parser.add_argument("figures", nargs="+", help="page:NAME, total:NAME or dashboard:NAME")
    args = parser.parse_args()
    engine = make_engine(args.database)
    now = generate.parse_now(args.now)
    with read_connection(engine) as conn:
        samples = scenarios.pick_samples(conn)
    named = {
        "page": scenarios.page_scenarios(samples, now),
        "total": scenarios.total_scenarios(samples, now),
        "dashboard": scenarios.dashboard_scenarios(samples, now),
    }
    for figure in args.figures:
        what, _, name = figure.partition(":")
        scenario = next(s for s in named[what] if s.name == name)
        print(explain(engine, what, scenario, args.runs), flush=True)
    engine.dispose()


if __name__ == "__main__":
    main()
