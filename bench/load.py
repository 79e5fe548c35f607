"""Mixed load: readers over HTTP while `cavra-gql ingest` imports file after file.

A real `cavra-gql api` on 127.0.0.1 answers history pages, totals and dashboards (GraphQL and
REST) to several reader threads: first alone (idle), then while a writer runs `cavra-gql
ingest` on a sequence of generated NDJSON files. Reported: requests, errors, reader latency
p50/p99 idle and under ingest, torn reads (an unfiltered total that is not the sum of whole
files) and lost records (stored ids against the distinct ids written).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import orjson
from sqlalchemy import func, select

from bench import generate
from bench.measure import REPO, Timing, free_port, serve
from bench.scenarios import DASHBOARD_QUERY, PAGE_QUERY, TOTAL_QUERY
from cavra_gql import kinds
from cavra_gql.db import make_engine
from cavra_gql.queries.tables import other_records, records

HISTORY = "/runtime/go-pilot/rollback-drill-notifications"
Request = Callable[[httpx.Client], int | None]  # sends one request; the unfiltered total, if any


def _graphql(query: str, variables: dict[str, Any], total: bool) -> Request:
    def send(client: httpx.Client) -> int | None:
        response = client.post("/graphql", json={"query": query, "variables": variables})
        response.raise_for_status()
        body = response.json()
        if body.get("errors"):
            raise RuntimeError(str(body["errors"])[:300])
        return int(body["data"]["rollbackDrillNotifications"]["total"]) if total else None

    return send


def _rest(path: str, params: dict[str, str], total: bool) -> Request:
    def send(client: httpx.Client) -> int | None:
        response = client.get(path, params=params)
        response.raise_for_status()
        return int(response.json()["total"]) if total else None

    return send


REQUESTS: list[tuple[str, Request]] = [
    ("graphql page", _graphql(PAGE_QUERY, {"limit": 50}, True)),
    ("graphql page siem", _graphql(PAGE_QUERY, {"providerCategory": "siem"}, False)),
    ("graphql total", _graphql(TOTAL_QUERY, {}, True)),
    ("graphql total splunk", _graphql(TOTAL_QUERY, {"provider": "splunk"}, False)),
    ("graphql dashboard", _graphql(DASHBOARD_QUERY, {}, False)),
    ("rest page", _rest(HISTORY, {"limit": "50"}, True)),
    ("rest dashboard", _rest(HISTORY + "/dashboard", {}, False)),
]


@dataclass
class Outcome:
    """What the readers saw, per phase."""

    idle: Timing = field(default_factory=Timing)
    ingest: Timing = field(default_factory=Timing)
    errors: list[str] = field(default_factory=list)
    totals: set[int] = field(default_factory=set)
    lock: threading.Lock = field(default_factory=threading.Lock)


def write_files(directory: Path, files: int, records: int, seed: int) -> list[Path]:
    now = generate.parse_now(generate.DEFAULT_NOW)
    paths = []
    for number in range(files):
        path = directory / f"load-{seed}-{number:03}.ndjson"
        generate.write_ndjson(path, records, seed + number, now, days=2.0)
        paths.append(path)
    return paths


def whole_file_totals(paths: list[Path]) -> tuple[list[int], int]:
    """The history total after each whole file (the first: before any), and distinct ids."""
    history: set[str] = set()
    every: set[str] = set()
    totals = [0]
    for path in paths:
        with path.open("rb") as handle:
            for line in handle:
                record = orjson.loads(line)
                every.add(record["session_id"])
                if kinds.in_history(
                    record["metadata_kind"], record.get("connector_delivery_source")
                ):
                    history.add(record["session_id"])
        totals.append(len(history))
    return totals, len(every)


def stored_count(url: str) -> int:
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            return sum(
                conn.execute(select(func.count()).select_from(table)).scalar_one()
                for table in (records, other_records)
            )
    finally:
        engine.dispose()


def ingest(url: str, path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "cavra_gql.cli", "ingest", str(path), "--database", url],
        cwd=REPO,
        capture_output=True,
        text=True,
    )
    if done.returncode != 0:
        raise RuntimeError(f"ingest {path} failed: {done.stderr[-2000:]}")


def _reader(base: str, outcome: Outcome, phase: list[str], offset: int) -> None:
    with httpx.Client(base_url=base, timeout=60) as client:
        index = offset
        while phase[0] != "done":
            name, send = REQUESTS[index % len(REQUESTS)]
            index += 1
            current = phase[0]
            started = time.perf_counter()
            try:
                total = send(client)
            except Exception as error:  # every failure is counted, none stops the run
                with outcome.lock:
                    outcome.errors.append(f"{name}: {type(error).__name__}: {error}"[:500])
                continue
            elapsed_ms = (time.perf_counter() - started) * 1000
            with outcome.lock:
                (outcome.idle if current == "idle" else outcome.ingest).samples_ms.append(
                    elapsed_ms
                )
                if total is not None:
                    outcome.totals.add(total)


def run(
    url: str,
    paths: list[Path],
    *,
    duration: float,
    idle_share: float = 1 / 3,
    readers: int = 4,
) -> dict[str, Any]:
    """Serve `url` (an empty database), read with `readers` threads; import `paths[0]`
    first, the others one after another once the idle share of `duration` has passed."""
    expected_totals, _ = whole_file_totals(paths)
    ingest(url, paths[0])  # the starting history: readers have something to read
    outcome = Outcome()
    phase = ["idle"]
    imported = 0
    port = free_port()
    command = [sys.executable, "-m", "cavra_gql.cli", "api", "--port", str(port)]
    with serve([*command, "--database", url], port, {}, "/healthz") as server:
        threads = [
            threading.Thread(target=_reader, args=(server.base, outcome, phase, n))
            for n in range(readers)
        ]
        started = time.monotonic()
        for thread in threads:
            thread.start()
        try:
            time.sleep(duration * idle_share)
            phase[0] = "ingest"
            for path in paths[1:]:
                if time.monotonic() - started > duration:
                    break
                ingest(url, path)
                imported += 1
            time.sleep(max(0.0, duration - (time.monotonic() - started)))
        finally:
            phase[0] = "done"
            for thread in threads:
                thread.join()
    allowed = set(expected_totals[1 : imported + 2])
    written = whole_file_totals(paths[: imported + 1])[1]
    stored = stored_count(url)
    idle, busy = outcome.idle, outcome.ingest
    return {
        "database": url.split(":", 1)[0],
        "duration_s": duration,
        "readers": readers,
        "files_imported": imported,
        "requests": idle.n + busy.n,
        "errors": len(outcome.errors),
        "error_samples": outcome.errors[:10],
        "idle": idle.as_json() if idle.n else None,
        "under_ingest": busy.as_json() if busy.n else None,
        "p50_ratio": busy.p50 / idle.p50 if idle.n and busy.n else None,
        "p99_ratio": busy.p99 / idle.p99 if idle.n and busy.n else None,
        "totals_seen": sorted(outcome.totals),
        "torn_reads": sorted(outcome.totals - allowed),
        "ids_written": written,
        "ids_stored": stored,
        "lost_records": written - stored,
    }


def table(result: dict[str, Any]) -> str:
    def ms(block: dict[str, Any] | None, key: str) -> str:
        return f"{block[key]:8.1f} ms" if block else "       -"

    def ratio(value: float | None) -> str:
        return f"{value:5.2f}x" if value is not None else "    -"

    idle, busy = result["idle"], result["under_ingest"]
    rows = [
        f"load on {result['database']}: {result['readers']} readers, {result['duration_s']:.0f} s,"
        f" {result['files_imported']} files imported during the run",
        f"{'':22}{'idle':>11}{'under ingest':>15}{'ratio':>8}  (target <= 2x)",
        f"{'reader p50':22}{ms(idle, 'p50_ms'):>11}{ms(busy, 'p50_ms'):>15}"
        f"{ratio(result['p50_ratio']):>8}",
        f"{'reader p99':22}{ms(idle, 'p99_ms'):>11}{ms(busy, 'p99_ms'):>15}"
        f"{ratio(result['p99_ratio']):>8}",
        f"{'requests':22}{idle['n'] if idle else 0:>11}{busy['n'] if busy else 0:>15}",
        f"errors {result['errors']} (must be 0); torn reads {len(result['torn_reads'])} (must be"
        f" 0); records written {result['ids_written']}, stored {result['ids_stored']}, lost"
        f" {result['lost_records']} (must be 0)",
    ]
    rows += [f"  error: {sample}" for sample in result["error_samples"]]
    return "\n".join(rows)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--duration", type=float, default=60.0, help="seconds (default 60)")
    parser.add_argument("--idle-share", type=float, default=1 / 3, help="share read alone")
    parser.add_argument("--readers", type=int, default=4, help="reader threads")
    parser.add_argument("--base-records", type=int, default=50_000, help="history at start")
    parser.add_argument("--file-records", type=int, default=5_000, help="records per file")
    parser.add_argument("--files", type=int, default=40, help="files the writer may import")
    parser.add_argument("--database", help="an EMPTY database (default: a new SQLite file)")
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--json", type=Path, help="default bench/results/<time>-load-<db>.json")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="cavra-load-") as work:
        directory = Path(work)
        url = args.database or f"sqlite:///{directory / 'load.sqlite3'}"
        now = generate.parse_now(generate.DEFAULT_NOW)
        base = directory / "base.ndjson"
        generate.write_ndjson(base, args.base_records, args.seed, now, days=30.0)
        paths = [base, *write_files(directory, args.files, args.file_records, args.seed + 1)]
        result = run(
            url, paths, duration=args.duration, idle_share=args.idle_share, readers=args.readers
        )
    print(table(result))
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    out = args.json or REPO / "bench" / "results" / f"{stamp}-load-{result['database']}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2) + "\n")
    print(f"written to {out}")
    clean = not (result["errors"] or result["torn_reads"] or result["lost_records"])
    return 0 if clean else 1


if __name__ == "__main__":
    raise SystemExit(main())
