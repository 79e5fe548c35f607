"""Faults: an importer killed mid-file, a PostgreSQL restart, a SQLite writer holding the lock."""

from __future__ import annotations

import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url

from bench import generate, load
from cavra_gql.db import make_engine
from cavra_gql.ingest import PARALLEL_FROM_BYTES
from tests.conftest import IN_CI
from tests.server import running_api

REPO = Path(__file__).resolve().parents[1]
HISTORY = "/runtime/go-pilot/rollback-drill-notifications"
TOTAL = "{ rollbackDrillNotifications { total } }"


def _ingest_command(path: Path, url: str) -> list[str]:
    return [sys.executable, "-m", "cavra_gql.cli", "ingest", str(path), "--database", url]


def _writing(url: str) -> bool:
    """Whether another connection holds an open write transaction."""
    if url.startswith("sqlite"):
        connection = sqlite3.connect(make_url(url).database or "", timeout=0)
        try:
            connection.execute("BEGIN IMMEDIATE")
            connection.rollback()
            return False
        except sqlite3.OperationalError:  # database is locked
            return True
        finally:
            connection.close()
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            found = conn.execute(
                text(
                    "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
                    " AND backend_xid IS NOT NULL AND pid <> pg_backend_pid()"
                )
            ).scalar_one()
            return bool(found)
    finally:
        engine.dispose()


def test_an_importer_killed_mid_file_leaves_all_or_nothing(
    tmp_path: Path, database_url: str
) -> None:
    now = generate.parse_now(generate.DEFAULT_NOW)
    base, big = tmp_path / "base.ndjson", tmp_path / "big.ndjson"
    generate.write_ndjson(base, 500, 5, now, days=3.0)
    generate.write_ndjson(big, 6_000, 6, now, days=3.0)
    assert big.stat().st_size < PARALLEL_FROM_BYTES  # one process: the kill hits the writer
    _, base_ids = load.whole_file_totals([base])
    _, all_ids = load.whole_file_totals([base, big])
    assert subprocess.run(_ingest_command(base, database_url), cwd=REPO).returncode == 0

    log = tmp_path / "ingest.log"
    with log.open("wb") as output:
        importer = subprocess.Popen(
            _ingest_command(big, database_url), cwd=REPO, stdout=output, stderr=output
        )
        deadline = time.monotonic() + 120
        while importer.poll() is None and time.monotonic() < deadline:
            if b"records read..." in log.read_bytes() or _writing(database_url):
                break
            time.sleep(0.02)
        assert importer.poll() is None, log.read_text()  # still importing: killed mid-file
        os.kill(importer.pid, signal.SIGKILL)
        importer.wait()
    assert importer.returncode == -signal.SIGKILL

    assert load.stored_count(database_url) in (base_ids, all_ids)  # the whole file or none of it
    again = subprocess.run(
        _ingest_command(big, database_url), cwd=REPO, capture_output=True, text=True
    )
    assert again.returncode == 0, again.stderr
    assert load.stored_count(database_url) == all_ids


def _postgres_cluster(url: str) -> tuple[str, str]:
    """The Debian cluster (version, name) serving `url`'s port; fails loudly in CI."""
    port = str(make_url(url).port or 5432)
    problem = None
    if shutil.which("pg_lsclusters") is None or shutil.which("pg_ctlcluster") is None:
        problem = "needs Debian's postgresql-common (pg_lsclusters, pg_ctlcluster)"
    elif os.geteuid() != 0:
        problem = "needs root to restart the PostgreSQL cluster"
    else:
        listed = subprocess.run(["pg_lsclusters", "-h"], capture_output=True, text=True).stdout
        for line in listed.splitlines():
            version, name, cluster_port, *_ = line.split()
            if cluster_port == port:
                return version, name
        problem = f"no local cluster listens on port {port}"
    if IN_CI:
        pytest.fail(f"the PostgreSQL restart test must run in CI: {problem}")
    pytest.skip(problem)


def _ready(url: str) -> None:
    plain = make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
    deadline = time.monotonic() + 60
    while True:
        try:
            psycopg.connect(plain, connect_timeout=2).close()
            return
        except psycopg.OperationalError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)


@pytest.mark.parametrize(
    "database_url", [pytest.param("postgresql", marks=pytest.mark.postgres)], indirect=True
)
def test_the_api_survives_a_postgres_restart(tmp_path: Path, database_url: str) -> None:
    version, name = _postgres_cluster(database_url)
    path = tmp_path / "history.ndjson"
    generate.write_ndjson(path, 300, 8, generate.parse_now(generate.DEFAULT_NOW), days=2.0)
    assert subprocess.run(_ingest_command(path, database_url), cwd=REPO).returncode == 0
    with running_api(database_url, cwd=REPO) as base, httpx.Client(base_url=base) as client:
        before = _answers(client)
        restart = subprocess.run(
            ["pg_ctlcluster", version, name, "restart"], capture_output=True, text=True
        )
        assert restart.returncode == 0, restart.stderr
        _ready(database_url)
        after = [_answers(client) for _ in range(5)]  # every request, the first one too
    assert after == [before] * 5


def _answers(client: httpx.Client) -> tuple[Any, ...]:
    graphql = client.post("/graphql", json={"query": TOTAL})
    rest = client.get(HISTORY, params={"limit": "5"})
    dashboard = client.get(HISTORY + "/dashboard")
    for response in (graphql, rest, dashboard):
        assert response.status_code == 200, response.text
    assert "errors" not in graphql.json(), graphql.text
    return graphql.json(), rest.json()["items"], dashboard.json()["plan_count"]


def test_a_busy_sqlite_database_is_waited_for(tmp_path: Path, sqlite_url: str) -> None:
    path = tmp_path / "history.ndjson"
    generate.write_ndjson(path, 300, 9, generate.parse_now(generate.DEFAULT_NOW), days=2.0)
    _, ids = load.whole_file_totals([path])
    with running_api(sqlite_url, cwd=REPO) as base, httpx.Client(base_url=base) as client:
        empty = client.get(HISTORY).json()["total"]
        holder = sqlite3.connect(make_url(sqlite_url).database or "", isolation_level=None)
        holder.execute("BEGIN IMMEDIATE")  # another writer holds the write lock
        try:
            importer = subprocess.Popen(
                _ingest_command(path, sqlite_url),
                cwd=REPO,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
            answers: list[httpx.Response] = []
            reader = threading.Thread(
                target=lambda: answers.append(client.post("/graphql", json={"query": TOTAL}))
            )
            reader.start()
            time.sleep(2.0)
            assert importer.poll() is None  # waiting for the lock, not failed
        finally:
            holder.execute("ROLLBACK")
            holder.close()
        out, err = importer.communicate(timeout=120)
        reader.join(timeout=60)
        assert importer.returncode == 0, err
        assert f"{ids} new" in out
        [answer] = answers
        assert answer.status_code == 200 and "errors" not in answer.json(), answer.text
        assert answer.json()["data"]["rollbackDrillNotifications"]["total"] == empty == 0
        assert client.get(HISTORY).json()["total"] > 0
    assert load.stored_count(sqlite_url) == ids
