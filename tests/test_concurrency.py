"""Reading while importing: a reader sees a file's records all at once or not at all."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import httpx
from sqlalchemy import Engine

from cavra_gql.demo import demo_records
from tests.server import running_api

HISTORY_URL = "/runtime/go-pilot/rollback-drill-notifications"


def _write_history(path: Path, copies: int) -> int:
    base = demo_records(datetime(2026, 11, 28, tzinfo=UTC))
    with path.open("w") as handle:
        for copy in range(copies):
            for record in base:
                renamed = record | {"session_id": f"{record['session_id']}-{copy}"}
                handle.write(json.dumps(renamed) + "\n")
    return len(base) * copies


def _total(base: str) -> int:
    total: int = httpx.get(base + HISTORY_URL, params={"limit": "0"}).json()["total"]
    return total


def test_readers_never_see_half_an_import(tmp_path: Path, database_url: str) -> None:
    path = tmp_path / "big.ndjson"
    assert _write_history(path, 6) > 15_000
    with running_api(database_url) as base:
        before = _total(base)
        importer = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "cavra_gql.cli",
                "ingest",
                str(path),
                "--database",
                database_url,
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
        )
        seen = set()
        deadline = time.monotonic() + 180
        while importer.poll() is None and time.monotonic() < deadline:
            seen.add(_total(base))
        output = importer.communicate(timeout=180)[0].decode()
        assert importer.returncode == 0, output
        after = _total(base)
    assert after > before
    assert before in seen  # the reader did read while the import ran...
    assert seen <= {before, after}, sorted(seen)  # ...and never saw part of it


def test_one_read_connection_sees_one_snapshot(engine: Engine) -> None:
    """A page and its total are read on one connection: a write committed between them
    must not show in the second (SQLite: a transaction begun before the first SELECT)."""
    from cavra_gql.db import read_connection
    from cavra_gql.ingest import ingest_values
    from cavra_gql.queries.filters import HistoryFilter
    from cavra_gql.queries.history import count_matches

    base = demo_records(datetime(2026, 11, 28, tzinfo=UTC))
    ingest_values(engine, base[:10], "first")
    everything = HistoryFilter()
    with read_connection(engine) as conn:
        before = count_matches(conn, everything)
        ingest_values(engine, base[10:20], "second")
        assert count_matches(conn, everything) == before
    with read_connection(engine) as conn:
        assert count_matches(conn, everything) > before
