"""Run the cavra-gql benchmark: generate, ingest, measure the query side, print one table."""

from __future__ import annotations

import sys
from pathlib import Path

if __package__ in (None, ""):  # `python bench/run.py`: import this checkout's packages
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import argparse
import fcntl
import hashlib
import json
import os
import platform
import resource
import subprocess
import time
from datetime import UTC, datetime
from typing import Any

import httpx
from sqlalchemy import Engine, MetaData, create_engine, inspect, text
from sqlalchemy.engine import make_url

from bench import generate, legacy, plain_app, scenarios
from bench.measure import (
    REPO,
    RssSampler,
    Timing,
    Watchdog,
    collect,
    free_port,
    get,
    memory_kb,
    post,
    python,
    repeat,
    repeat_http,
    run_child,
    serve,
)
from bench.report import Table, ms, write_json
from bench.scenarios import Scenario, variables
from cavra_gql.dashboard import Dashboard
from cavra_gql.db import make_engine, read_connection
from cavra_gql.queries.filters import HistoryFilter
from cavra_gql.queries.history import PageRequest, count_matches, fetch_page
from cavra_gql.rest import dashboard_document
from cavra_gql.schema import build_schema
from cavra_gql.schema.context import Context
from cavra_gql.settings import Settings

SECTIONS = ("ingest", "history page", "total & cursor", "dashboard", "legacy comparison", "memory")
INGEST_TARGET = 20_000  # records/s
RSS_TARGET_MB = 300
PAGE_TARGET_MS = 10
TOTAL_TARGET_MS = 10
HTTP_CPU_RATIO_TARGET = 3.5
CURSOR_RATIO_TARGET = 1.5
PAGE = scenarios.PAGE_QUERY
DEFAULT_WORKDIR = Path(os.environ.get("TMPDIR", "/tmp")) / "cavra-bench"


def log(message: str) -> None:
    print(f"[{datetime.now().strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def masked(url: str) -> str:
    return make_url(url).render_as_string(hide_password=True)


def mb(kb: float) -> str:
    return f"{kb / 1024:,.0f} MB"


class Bench:
    """One run: the data, the measurements, the table and the JSON document."""

    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.now = generate.parse_now(args.now)
        default = f"sqlite:///{args.workdir / f'bench-{args.records}-s{args.seed}.sqlite3'}"
        self.url: str = args.database or default
        self.own_database = args.database is None
        self.table = Table(SECTIONS)
        self.results: dict[str, Any] = {}
        self.engine: Engine | None = None
        self.settings = Settings.from_env(database_url=self.url)
        self.schema = build_schema()

    # -- data -------------------------------------------------------------------------

    def prepare(self) -> None:
        self.table.start("ingest")
        if self.args.skip_ingest:
            log(f"reusing {masked(self.url)} (--skip-ingest)")
            self.table.add("ingest", "skipped (--skip-ingest)")
            return
        path = self._ndjson()
        self._empty_database()
        log(f"ingesting {path.name} into {masked(self.url)} (cavra-gql ingest)...")
        run = run_child(python("-m", "cavra_gql.cli", "ingest", str(path), "--database", self.url))
        if run.returncode != 0:
            raise SystemExit(f"ingest failed ({run.returncode}):\n{run.stdout[-3000:]}")
        lines = self.results["generate"]["records"]
        rate = lines / run.seconds
        self.results["ingest"] = {
            "records": lines,
            "seconds": run.seconds,
            "records_per_s": rate,
            "peak_rss_kb": run.peak_rss_kb,
            "summary": run.stdout.strip().splitlines()[-1:],
        }
        log(f"ingested {lines:,} records in {run.seconds:.1f}s ({rate:,.0f}/s)")
        self.table.add(
            "ingest throughput (cavra-gql ingest, whole command)",
            f"{rate:,.0f} rec/s",
            f">= {INGEST_TARGET:,} rec/s",
            rate >= INGEST_TARGET,
        )
        self.table.add("ingest wall time", f"{run.seconds:,.1f} s")

    def _ndjson(self) -> Path:
        a = self.args
        stamp = self.now.strftime("%Y%m%dT%H%M%S")
        path: Path = a.workdir / f"history-{a.records}-s{a.seed}-{stamp}-{a.days:g}d.ndjson"
        if path.exists() and not a.regenerate:
            log(f"reusing {path}")
            stats = generate.Stats(records=a.records, bytes=path.stat().st_size)
        else:
            log(f"generating {a.records:,} records -> {path}")
            stats = generate.write_ndjson(path, a.records, a.seed, self.now, a.days)
            rate = stats.records / stats.seconds
            self.table.add("generate NDJSON (bench/generate.py)", f"{rate:,.0f} rec/s")
        self.results["generate"] = {
            "path": str(path),
            "records": stats.records,
            "bytes": stats.bytes,
            "seconds": stats.seconds,
            "kinds": dict(stats.kinds),
            "upserts": stats.upserts,
            "schedules": stats.schedules,
        }
        self.table.add("NDJSON size", f"{stats.bytes / 1e6:,.0f} MB")
        return path

    def _empty_database(self) -> None:
        url = make_url(self.url)
        if url.get_backend_name() == "sqlite" and self.own_database:
            for suffix in ("", "-wal", "-shm"):
                Path(f"{url.database}{suffix}").unlink(missing_ok=True)
            return
        engine = create_engine(self.url)
        try:
            names = inspect(engine).get_table_names()
            if names and not self.args.reset:
                raise SystemExit(
                    f"{masked(self.url)} already has tables {names}: pass --reset to drop them "
                    "first, or --skip-ingest to measure the data already there"
                )
            if names:
                log(f"--reset: dropping {', '.join(names)}")
                meta = MetaData()
                meta.reflect(engine)
                meta.drop_all(engine)
        finally:
            engine.dispose()

    def open(self) -> Engine:
        engine = make_engine(self.url)
        self.engine = engine
        self.watchdog = Watchdog(engine, self.args.max_call)
        if engine.dialect.name == "postgresql" and not self.args.skip_ingest:
            # Autovacuum vacuums an insert-only table too (PostgreSQL >= 13), which sets the
            # visibility map that index-only scans need; a bench run should not wait for it.
            log("VACUUM ANALYZE (what autovacuum does shortly after a bulk load)")
            with engine.connect() as conn:
                autocommit = conn.execution_options(isolation_level="AUTOCOMMIT")
                autocommit.execute(text("VACUUM ANALYZE"))
        with read_connection(engine) as conn:
            total = count_matches(conn, HistoryFilter.parse({}))
            self.samples = scenarios.pick_samples(conn)
        self.results["data"] = {"history_records": total, "samples": vars(self.samples)}
        self.table.start("ingest")
        self.table.add("history records stored (total, no filter)", f"{total:,}")
        return engine

    # -- in-process -------------------------------------------------------------------

    def graphql(self, query: str, params: dict[str, str], **extra: Any) -> dict[str, Any]:
        assert self.engine is not None
        result = self.schema.execute_sync(
            query,
            variable_values=variables(params) | extra,
            context_value=Context(self.settings, self.engine),
        )
        if result.errors:
            raise RuntimeError(f"GraphQL errors: {result.errors}")
        assert result.data is not None
        return result.data

    def plain(self, params: dict[str, str]) -> str:
        assert self.engine is not None
        with read_connection(self.engine) as conn:
            return json.dumps(plain_app.page_document(conn, params))

    def times(self, call: Any, slow: bool = False) -> Timing:
        collect()
        a = self.args
        guarded = self.watchdog.guard(call)
        if slow:
            return repeat(guarded, a.repeat, a.budget, warmup=1, minimum=3)
        return repeat(guarded, a.repeat, a.budget)

    def pages_in_process(self) -> None:
        found: dict[str, Any] = {}
        self.table.start("history page")
        for scenario in self.page_scenarios:
            log(f"page in-process: {scenario.name}")
            gql = self.times(lambda s=scenario: self.graphql(scenarios.PAGE_QUERY, s.params))
            plain = self.times(lambda s=scenario: self.plain(s.params))
            label = scenario.name
            self.table.timing(f"GraphQL page, in-process: {label}", gql, PAGE_TARGET_MS)
            self.table.timing(f"plain page, in-process: {label}", plain)
            ratio = gql.p50 / plain.p50
            self.table.add(f"GraphQL / plain wall, in-process: {label}", f"{ratio:.2f}x")
            found[label] = {"graphql": gql.as_json(), "plain": plain.as_json(), "ratio": ratio}
        self.results["page_in_process"] = found

    def totals(self) -> None:
        found: dict[str, Any] = {}
        self.table.start("total & cursor")
        for scenario in self.total_scenarios:
            log(f"total: {scenario.name}")
            timing = self.times(lambda s=scenario: self.graphql(scenarios.TOTAL_QUERY, s.params))
            self.table.timing(f"total only (GraphQL): {scenario.name}", timing, TOTAL_TARGET_MS)
            found[scenario.name] = timing.as_json()
        self.results["total"] = found

    def cursors(self) -> None:
        found: dict[str, Any] = {}
        for scenario in self.page_scenarios[:2]:
            total = self.graphql(scenarios.TOTAL_QUERY, scenario.params)
            matches = total["rollbackDrillNotifications"]["total"]
            depth = max(1, matches // 2)
            log(f"cursor: {scenario.name} at {depth:,}")
            position = self.graphql(scenarios.CURSOR_QUERY, scenario.params, offset=depth - 1)
            cursor = position["rollbackDrillNotifications"]["pageInfo"]["endCursor"]
            first = self.times(lambda s=scenario: self.graphql(PAGE, s.params))
            deep = self.times(lambda s=scenario, c=cursor: self.graphql(PAGE, s.params, after=c))
            offset = self.times(
                lambda s=scenario, d=depth: self.graphql(PAGE, s.params, offset=d), slow=True
            )
            ratio = deep.p50 / first.p50
            name = scenario.name
            self.table.timing(f"first page: {name}", first)
            self.table.timing(f"deep page by cursor (position {depth:,}): {name}", deep)
            self.table.add(
                f"deep cursor page / first page: {name}",
                f"{ratio:.2f}x",
                f"<= {CURSOR_RATIO_TARGET}x",
                ratio <= CURSOR_RATIO_TARGET,
            )
            self.table.timing(f"deep page by offset {depth:,} (for contrast): {name}", offset)
            found[name] = {
                "depth": depth,
                "first": first.as_json(),
                "cursor": deep.as_json(),
                "offset": offset.as_json(),
                "ratio": ratio,
            }
        self.results["cursor"] = found

    def dashboards_in_process(self) -> None:
        found: dict[str, Any] = {}
        self.table.start("dashboard")
        for scenario in self.dashboard_scenarios:
            log(f"dashboard in-process: {scenario.name}")
            timing = self.times(
                lambda s=scenario: self.graphql(scenarios.DASHBOARD_QUERY, s.params), slow=True
            )
            self.table.timing(
                f"GraphQL dashboard, in-process: {scenario.name}", timing, scenario.target_ms
            )
            found[scenario.name] = timing.as_json()
        self.results["dashboard_in_process"] = found

    # -- over HTTP --------------------------------------------------------------------

    def over_http(self) -> None:
        api_port, plain_port = free_port(), free_port()
        api_cmd = python(
            "-m", "cavra_gql.cli", "api", "--port", str(api_port), "--database", self.url
        )
        plain_cmd = python(
            "-m", "uvicorn", "bench.plain_app:app", "--port", str(plain_port), "--no-server-header"
        )
        plain_env = {plain_app.DATABASE_ENV: self.url}
        log("starting the cavra-gql API server and the plain Starlette server")
        with (
            serve(api_cmd, api_port, {}, "/healthz") as api,
            serve(plain_cmd, plain_port, plain_env, "/healthz") as plain,
            httpx.Client(base_url=api.base, timeout=600) as api_client,
            httpx.Client(base_url=plain.base, timeout=600) as plain_client,
        ):
            idle = memory_kb(api.pid)
            self.http_pages(api.pid, api_client, plain.pid, plain_client)
            with RssSampler(api.pid) as dashboard_rss:
                self.http_dashboards(api.pid, api_client)
            final = memory_kb(api.pid)
            plain_peak = memory_kb(plain.pid)
        memory = self.results.setdefault("memory", {})
        memory.update(
            server_idle_rss_kb=idle.get("VmRSS"),
            server_dashboard_peak_rss_kb=dashboard_rss.peak_kb,
            server_vmhwm_kb=final.get("VmHWM"),
            plain_server_vmhwm_kb=plain_peak.get("VmHWM"),
        )
        self.table.start("memory")
        self.table.add("API server RSS after start-up", mb(idle.get("VmRSS", 0)))
        self.table.add(
            "API server RSS peak while answering pages",
            mb(memory["server_pages_peak_rss_kb"]),
            f"<= {RSS_TARGET_MB} MB",
            memory["server_pages_peak_rss_kb"] <= RSS_TARGET_MB * 1024,
        )
        self.table.add(
            "API server RSS peak during the dashboards",
            mb(dashboard_rss.peak_kb),
            f"<= {RSS_TARGET_MB} MB",
            dashboard_rss.peak_kb <= RSS_TARGET_MB * 1024,
        )
        self.table.add("API server peak RSS over the run (VmHWM)", mb(final.get("VmHWM", 0)))
        self.table.add("plain server peak RSS (VmHWM)", mb(plain_peak.get("VmHWM", 0)))

    def http_pages(
        self, api_pid: int, api: httpx.Client, plain_pid: int, plain: httpx.Client
    ) -> None:
        found: dict[str, Any] = {}
        self.table.start("history page")
        a = self.args
        with RssSampler(api_pid) as rss:
            for scenario in self.page_scenarios:
                log(f"page over HTTP: {scenario.name}")
                body = {"query": scenarios.PAGE_QUERY, "variables": variables(scenario.params)}
                gql = repeat_http(api, post("/graphql", body), api_pid, a.repeat, a.budget)
                flat = repeat_http(
                    plain, get(plain_app.PATH, scenario.params), plain_pid, a.repeat, a.budget
                )
                assert gql.server_cpu_ms is not None and flat.server_cpu_ms is not None
                ratio = gql.server_cpu_ms / max(flat.server_cpu_ms, 1e-9)
                name = scenario.name
                self.table.timing(f"GraphQL page, HTTP: {name}", gql, cpu=True)
                self.table.timing(f"plain page, HTTP: {name}", flat, cpu=True)
                self.table.add(
                    f"GraphQL / plain server CPU per request, HTTP: {name}",
                    f"{ratio:.2f}x",
                    f"<= {HTTP_CPU_RATIO_TARGET}x",
                    ratio <= HTTP_CPU_RATIO_TARGET,
                )
                found[name] = {"graphql": gql.as_json(), "plain": flat.as_json(), "ratio": ratio}
        self.results["page_http"] = found
        self.results.setdefault("memory", {})["server_pages_peak_rss_kb"] = rss.peak_kb

    def http_dashboards(self, api_pid: int, api: httpx.Client) -> None:
        found: dict[str, Any] = {}
        self.table.start("dashboard")
        for scenario in self.dashboard_scenarios:
            if self.results["dashboard_in_process"][scenario.name].get("timed_out"):
                log(f"dashboard over HTTP: {scenario.name}: skipped (in-process call timed out)")
                self.table.add(
                    f"GraphQL dashboard, HTTP: {scenario.name}",
                    f"skipped (in-process call > {self.args.max_call:g} s)",
                )
                continue
            log(f"dashboard over HTTP: {scenario.name}")
            body = {"query": scenarios.DASHBOARD_QUERY, "variables": variables(scenario.params)}
            timing = repeat_http(
                api,
                post("/graphql", body),
                api_pid,
                min(self.args.repeat, 20),
                self.args.budget,
                min_cpu_s=0,
                warmup=1,
            )
            self.table.timing(f"GraphQL dashboard, HTTP: {scenario.name}", timing, cpu=True)
            found[scenario.name] = timing.as_json()
        self.results["dashboard_http"] = found

    # -- legacy -----------------------------------------------------------------------

    def legacy(self) -> None:
        assert self.engine is not None
        engine = self.engine
        self.table.start("legacy comparison")
        found: dict[str, Any] = {}
        reference = self.results["dashboard_in_process"]
        pages = self.results["page_in_process"]
        cases: list[tuple[str, Scenario, float]] = [
            ("dashboard", s, reference[s.name]["p50_ms"])
            for s in self.dashboard_scenarios
            if s.name in ("unfiltered", "audit_id")
        ]
        splunk = self.page_scenarios[1]
        cases.append(("page", splunk, pages[splunk.name]["graphql"]["p50_ms"]))
        for what, scenario, ours in cases:
            log(f"legacy {what}: {scenario.name} (slow)")
            outcome: dict[str, Any] = {}

            def call(w: str = what, s: Scenario = scenario, out: dict[str, Any] = outcome) -> None:
                with engine.connect() as conn:
                    if w == "dashboard":
                        out["value"] = legacy.dashboard(conn, s.params)
                    else:
                        out["value"] = legacy.history_page(conn, s.params)

            collect()
            timing = repeat(call, self.args.legacy_repeat, self.args.legacy_budget, 0, 1)
            agrees = self._agrees(what, scenario, outcome["value"])
            speedup = timing.p50 / ours
            bound = (
                "<= "
                if (reference if what == "dashboard" else {})
                .get(scenario.name, {})
                .get("timed_out")
                else ""
            )
            self.table.timing(f"legacy {what}: {scenario.name}", timing)
            self.table.add(
                f"cavra-gql speed-up (in-process GraphQL {ms(ours)}): {what} {scenario.name}",
                bound + (f"{speedup:,.1f}x" if speedup < 10 else f"{speedup:,.0f}x"),
            )
            self.table.add(f"legacy answer agrees with cavra-gql: {what} {scenario.name}", agrees)
            found[f"{what} {scenario.name}"] = timing.as_json() | {
                "cavra_gql_p50_ms": ours,
                "speedup": speedup,
                "agrees": agrees,
            }
        self.results["legacy"] = found
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        self.results.setdefault("memory", {})["bench_process_peak_rss_kb"] = peak
        self.table.start("memory")
        self.table.add("bench process peak RSS (legacy loads every record)", mb(peak))

    def _agrees(self, what: str, scenario: Scenario, value: Any) -> str:
        """A sanity check that both sides saw the same data and filters."""
        assert self.engine is not None
        flt = HistoryFilter.parse(scenario.params)
        with read_connection(self.engine) as conn:
            if what == "page":
                page = fetch_page(conn, flt, PageRequest(limit=50))
                ours = ([row.session_id for row in page.rows], count_matches(conn, flt))
                theirs = ([r["session_id"] for r in value[0]], value[1])
                return "yes" if ours == theirs else "NO (page or total differ)"
            document = dashboard_document(Dashboard(conn, flt))
        differ = [
            key
            for key, expected in value.items()
            if key != "latest" and document.get(key) != expected
        ]
        latest = [r["session_id"] for r in value["latest"]]
        if latest != [r["session_id"] for r in document["latest"]]:
            differ.append("latest")
        return "yes" if not differ else "NO: " + ", ".join(differ)

    # -- the whole run ----------------------------------------------------------------

    def run(self) -> dict[str, Any]:
        started = time.time()
        self.load_at_start = os.getloadavg()
        self.prepare()
        engine = self.open()
        self.page_scenarios = scenarios.page_scenarios(self.samples, self.now)
        self.total_scenarios = scenarios.total_scenarios(self.samples, self.now)
        self.dashboard_scenarios = scenarios.dashboard_scenarios(self.samples, self.now)
        self.pages_in_process()
        self.totals()
        self.cursors()
        self.dashboards_in_process()
        if not self.args.no_http:
            self.over_http()
        if not self.args.no_legacy:
            self.legacy()
        ingest = self.results.get("ingest")
        if ingest:
            self.table.start("memory")
            self.table.add(
                "ingest peak RSS (cavra-gql ingest process)",
                mb(ingest["peak_rss_kb"]),
                f"<= {RSS_TARGET_MB} MB (bounded)",
                ingest["peak_rss_kb"] <= RSS_TARGET_MB * 1024,
            )
        engine.dispose()
        self.results["meta"] = self.meta(time.time() - started)
        self.results["rows"] = self.table.as_json()
        return self.results

    def meta(self, seconds: float) -> dict[str, Any]:
        def git(*args: str) -> str:
            done = subprocess.run(["git", *args], cwd=REPO, capture_output=True, text=True)
            return done.stdout.strip()

        a = self.args
        return {
            "records": a.records,
            "seed": a.seed,
            "now": a.now,
            "days": a.days,
            "database": masked(self.url),
            "dialect": make_url(self.url).get_backend_name(),
            "repeat": a.repeat,
            "skip_ingest": a.skip_ingest,
            "commit": git("rev-parse", "--short", "HEAD")
            or os.environ.get("CAVRA_BENCH_COMMIT", "?"),
            "dirty": bool(git("status", "--porcelain", "cavra_gql")),
            "python": platform.python_version(),
            "cpus": os.cpu_count(),
            "finished_at": datetime.now(UTC).isoformat(timespec="seconds"),
            "loadavg_start": self.load_at_start,
            "loadavg_end": os.getloadavg(),
            "run_seconds": round(seconds, 1),
        }

    def title(self) -> str:
        m = self.results["meta"]
        dirty = " +local changes" if m["dirty"] else ""
        return (
            f"cavra-gql benchmark: {m['records']:,} generated records on {m['dialect']} "
            f"({m['database']}), commit {m['commit']}{dirty}, {m['cpus']} CPUs, "
            f"targets are set for 1,000,000 records on SQLite"
        )

    def footer(self) -> str:
        m = self.results["meta"]
        start, end = m["loadavg_start"], m["loadavg_end"]
        return (
            f"load average (1 min) at start {start[0]:.2f}, at end {end[0]:.2f}; "
            f"run took {m['run_seconds']:,.0f} s"
        )


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__)
    add = parser.add_argument
    add("--records", type=int, default=100_000, help="records to generate (default 100000)")
    add("--seed", type=int, default=7)
    add("--now", default=generate.DEFAULT_NOW, help="the generated history ends here")
    add("--days", type=float, default=60.0, help="days of generated history")
    add("--database", help="SQLAlchemy URL (default: a fresh SQLite file in --workdir)")
    add("--workdir", type=Path, default=DEFAULT_WORKDIR, help="NDJSON and SQLite files")
    add("--skip-ingest", "--keep", action="store_true", help="measure the data already there")
    add("--reset", action="store_true", help="drop the tables of --database before ingesting")
    add("--regenerate", action="store_true", help="rewrite the NDJSON even if it exists")
    add("--repeat", type=int, default=50, help="calls per fast figure (default 50)")
    add("--budget", type=float, default=20.0, help="seconds at most per figure (default 20)")
    add("--legacy-repeat", type=int, default=3, help="calls per legacy figure (default 3)")
    add("--legacy-budget", type=float, default=90.0, help="seconds at most per legacy figure")
    add("--max-call", type=float, default=120.0, help="interrupt a call after this many s")
    add("--no-http", action="store_true", help="skip the HTTP servers")
    add("--no-legacy", action="store_true", help="skip the legacy baseline")
    add("--json", type=Path, help="results file (default bench/results/<time>-<db>-<N>.json)")
    return parser.parse_args(argv)


def lock_database(bench: Bench) -> Any:
    """One run per database at a time: a second run would reset or reload it mid-measure."""
    key = hashlib.sha256(bench.url.encode()).hexdigest()[:16]
    handle = open(bench.args.workdir / f".lock-{key}", "w")  # noqa: SIM115  (held until exit)
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        raise SystemExit(f"another bench run is using {masked(bench.url)}; wait for it") from None
    return handle


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    args.workdir.mkdir(parents=True, exist_ok=True)
    bench = Bench(args)
    lock = lock_database(bench)
    results = bench.run()
    print(bench.table.render(bench.title()))
    print(bench.footer())
    meta = results["meta"]
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    default = REPO / "bench" / "results" / f"{stamp}-{meta['dialect']}-{args.records}.json"
    path = args.json or default
    write_json(path, results)
    print(f"\nresults: {path}")
    lock.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
