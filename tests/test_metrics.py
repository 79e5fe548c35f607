"""`/metrics` (issue 6): parsed by prometheus_client's text parser, its figures follow the
requests served and the records stored; with two worker processes none is lost."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from graphql import GraphQLError
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import Engine
from starlette.testclient import TestClient

from cavra_gql import collectors
from cavra_gql.app import create_app
from cavra_gql.auth import AuthConfig, hash_token
from cavra_gql.errors import IngestError
from cavra_gql.metrics import BoundedNames, reap_dead_processes
from cavra_gql.queries.tables import change_batches
from cavra_gql.schema.operations import outcome
from cavra_gql.settings import Settings
from cavra_gql.sync import Follower
from tests import cavra_writer as cavra
from tests import record_factory as rf
from tests.conftest import Loader, StatementCounter
from tests.server import running_api

HISTORY_URL = "/runtime/go-pilot/rollback-drill-notifications"
READER, OPERATOR = "a-reader-token", "an-operator-token"
Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


def parse(text: str) -> Samples:
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def scrape(client: TestClient | str, **headers: str) -> Samples:
    if isinstance(client, str):
        response = httpx.get(client + "/metrics", headers=headers)
    else:
        response = client.get("/metrics", headers=headers)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/plain; version=0.0.4")
    return parse(response.text)


def value(samples: Samples, name: str, **labels: str) -> float:
    return samples.get((name, frozenset(labels.items())), 0.0)


def requests(samples: Samples, api: str, operation: str, outcome: str) -> float:
    return value(samples, "cavra_gql_requests_total", api=api, operation=operation, outcome=outcome)


def _post(client: TestClient, query: str, **extra: Any) -> dict[str, Any]:
    response = client.post("/graphql", json={"query": query, **extra})
    body: dict[str, Any] = response.json()
    return body


def test_requests_are_counted_by_operation_and_outcome(client: TestClient, load: Loader) -> None:
    load([rf.audit_package(), rf.connector_delivery()])
    before = scrape(client)
    page = "query Page { rollbackDrillNotifications(limit: 1) { total } }"
    assert _post(client, page)["data"]["rollbackDrillNotifications"]["total"] == 2
    _post(client, page)
    _post(client, "{ rollbackDrillNotifications { total } }")
    two = page + " query Other { rollbackDrillNotificationDashboard { planCount } }"
    _post(client, two, operationName="Other")
    bad = _post(client, "query Bad { rollbackDrillNotifications(limit: -1) { total } }")
    assert bad["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    _post(client, "query Unknown { noSuchField }")
    _post(client, "query {")
    _post(client, "query " + "A" * 65 + " { rollbackDrillNotifications { total } }")
    assert client.get(HISTORY_URL).status_code == 200
    assert client.get(HISTORY_URL, params={"limit": "x"}).status_code == 422
    assert client.get("/no/such/path").status_code == 404
    after = scrape(client)

    expected = {
        ("graphql", "Page", "ok"): 2,
        ("graphql", "anonymous_query", "ok"): 1,
        ("graphql", "Other", "ok"): 1,
        ("graphql", "Bad", "bad_input"): 1,
        ("graphql", "Unknown", "bad_input"): 1,
        ("graphql", "unknown", "bad_input"): 1,  # did not parse
        ("graphql", "other", "ok"): 1,  # a name too long to be a label
        ("http", "history", "ok"): 1,
        ("http", "history", "bad_input"): 1,
        ("http", "unmatched", "bad_input"): 1,
        ("http", "metrics", "ok"): 1,  # the first scrape
    }
    for labels, count in expected.items():
        assert requests(after, *labels) - requests(before, *labels) == count, labels
    counted = "cavra_gql_request_duration_seconds_count"
    assert value(after, counted, api="graphql", operation="Page") == 2 + value(
        before, counted, api="graphql", operation="Page"
    )
    slowest = "cavra_gql_request_duration_seconds_bucket"
    assert value(after, slowest, api="graphql", operation="Page", le="+Inf") == value(
        after, counted, api="graphql", operation="Page"
    )


def test_records_by_kind_pool_and_audit_delivery_health(client: TestClient, load: Loader) -> None:
    failed = rf.connector_delivery(
        session_id="send-1", failed_providers=("splunk",), created_at="2025-03-01T12:00:00+00:00"
    )
    load([rf.audit_package(), rf.audit_package(session_id="package-2"), failed])
    samples = scrape(client)
    assert value(samples, "cavra_gql_records", kind=rf.KIND_AUDIT_PACKAGE) == 2
    assert value(samples, "cavra_gql_records", kind=rf.KIND_CONNECTOR) == 1
    assert value(samples, "cavra_gql_records", kind=rf.KIND_PLAN) == 0
    health = "cavra_gql_audit_delivery_health"
    assert [value(samples, health, status=s) for s in ("CRITICAL", "DEGRADED", "HEALTHY")] == [
        1,
        0,
        0,
    ]
    siem = "cavra_gql_audit_delivery_category_health"
    assert value(samples, siem, category="siem", status="CRITICAL") == 1
    assert value(samples, siem, category="chatops", status="UNKNOWN") == 1
    assert value(samples, "cavra_gql_audit_delivery_attempts", category="siem") == 1
    assert value(samples, "cavra_gql_audit_delivery_failures", category="siem") == 1
    assert value(samples, "cavra_gql_database_figures_up") == 1
    assert value(samples, "cavra_gql_db_pool_size") >= 1
    assert value(samples, "cavra_gql_db_pool_checked_out") == 0

    recovered = rf.connector_delivery(session_id="send-2", created_at="2025-03-01T13:00:00+00:00")
    load([recovered])
    cached = scrape(client)  # scrapes a few seconds apart share one read of the database
    assert value(cached, health, status="CRITICAL") == 1
    [figures] = [c for c in client.app.state.metric_collectors if hasattr(c, "cache_seconds")]
    figures.cache_seconds = 0
    fresh = scrape(client)
    assert value(fresh, health, status="DEGRADED") == 1  # failures, but the latest succeeded
    assert value(fresh, health, status="CRITICAL") == 0
    assert value(fresh, "cavra_gql_records", kind=rf.KIND_CONNECTOR) == 2


def test_sync_passes_and_the_change_feed_head_come_from_the_database(
    client: TestClient, engine: Engine, tmp_path: Path, statements: StatementCounter
) -> None:
    [figures] = [c for c in client.app.state.metric_collectors if hasattr(c, "cache_seconds")]
    figures.cache_seconds = 0
    empty = scrape(client)
    assert value(empty, "cavra_gql_change_feed_last_seq") == 0
    assert not any(name.startswith("cavra_gql_sync_") for name, _ in empty)
    assert not any(name.endswith("_commit_timestamp_seconds") for name, _ in empty)

    good, bad = tmp_path / "good.json", tmp_path / "bad.json"
    cavra.write_store(good, [cavra.record(1), cavra.record(2)])
    Follower(engine, good).run()
    cavra.write_store(good, [cavra.record(1, version=1), cavra.record(3)])
    Follower(engine, good).run()  # 3 new, 1 updated, 2 gone
    cavra.write_store(bad, [cavra.record(4)])
    Follower(engine, bad).run()
    cavra.write_store(bad, [cavra.record(4) | {"created_at": "soon"}])
    with pytest.raises(IngestError):
        Follower(engine, bad).run()
    with engine.connect() as conn:
        newest = conn.execute(
            change_batches.select().order_by(change_batches.c.seq.desc()).limit(1)
        ).one()
    samples = scrape(client)

    def per_source(name: str, path: Path, **labels: str) -> float:
        found = samples.get((name, frozenset({"source": str(path), **labels}.items())))
        assert found is not None, (name, path, labels)
        return found

    assert per_source("cavra_gql_sync_passes_total", good) == 2
    assert per_source("cavra_gql_sync_records_read_total", good) == 4
    imported = "cavra_gql_sync_records_imported_total"
    assert [per_source(imported, good, result=r) for r in ("new", "updated", "unchanged")] == [
        3,
        1,
        0,
    ]
    assert per_source("cavra_gql_sync_deletions_seen_total", good) == 1
    assert per_source("cavra_gql_sync_last_pass_failed", good) == 0
    assert per_source("cavra_gql_sync_passes_total", bad) == 1  # the failed one is not counted
    assert per_source("cavra_gql_sync_last_pass_failed", bad) == 1
    last_pass = per_source("cavra_gql_sync_last_pass_timestamp_seconds", bad)
    assert abs(last_pass - datetime.now(UTC).timestamp()) < 600
    # The feed's head: the newest write (the bad file's first pass), whatever is pruned.
    assert value(samples, "cavra_gql_change_feed_last_seq") == newest.seq == 3
    assert value(samples, "cavra_gql_change_feed_last_commit_timestamp_seconds") == (
        newest.committed_us / 1e6
    )

    statements.reset()  # a scrape's cost: one statement each
    with engine.connect() as conn:
        list(collectors.sync_passes(conn))
        list(collectors.change_feed(conn))
    assert statements.count == 2


@pytest.fixture
def guarded(engine: Engine, database_url: str) -> Iterator[TestClient]:
    tokens = f"auditor:reader:{hash_token(READER)},bot:operator:{hash_token(OPERATOR)}"
    auth = AuthConfig.from_env({"CAVRA_GQL_TOKENS": tokens})
    with TestClient(create_app(Settings(database_url=database_url, auth=auth), engine)) as client:
        yield client


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_with_credentials_readers_scrape_and_refusals_and_writes_are_counted(
    guarded: TestClient,
) -> None:
    reader = {"authorization": f"Bearer {READER}"}
    operator = {"authorization": f"Bearer {OPERATOR}"}
    assert guarded.get("/metrics").status_code == 401
    before = scrape(guarded, **reader)
    write = "mutation W($r: [JSON!]!) { ingestRecords(records: $r) { accepted new } }"
    records = [rf.audit_package(), rf.audit_package(session_id="package-2")]
    for r in (records, records, [{"session_id": "x"}]):  # new twice, then unchanged; refused
        guarded.post("/graphql", json={"query": write, "variables": {"r": r}}, headers=operator)
    refused = guarded.post("/graphql", json={"query": write, "variables": {"r": records}})
    assert refused.status_code == 401
    forbidden = guarded.post(
        "/graphql", json={"query": write, "variables": {"r": records}}, headers=reader
    )
    assert forbidden.json()["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    after = scrape(guarded, **reader)

    def delta(name: str, **labels: str) -> float:
        return value(after, name, **labels) - value(before, name, **labels)

    assert delta("cavra_gql_ingest_calls_total", accepted="true") == 2
    assert delta("cavra_gql_ingest_calls_total", accepted="false") == 1
    assert delta("cavra_gql_ingest_records_total", result="new") == 2
    assert delta("cavra_gql_ingest_records_total", result="unchanged") == 2
    assert delta("cavra_gql_ingest_records_total", result="rejected") == 1
    requests_total = "cavra_gql_requests_total"
    assert delta(requests_total, api="graphql", operation="W", outcome="ok") == 3
    assert delta(requests_total, api="graphql", operation="W", outcome="forbidden") == 1
    # Refused before any GraphQL ran: the route is known, the operation is not.
    assert delta(requests_total, api="graphql", operation="unknown", outcome="unauthenticated") == 1
    assert delta(requests_total, api="http", operation="metrics", outcome="unauthenticated") == 0
    assert delta(requests_total, api="http", operation="metrics", outcome="ok") == 1


def test_operation_names_are_bounded_labels() -> None:
    names = BoundedNames(limit=2)
    assert [names.label(n) for n in ("Page", "Page", "A" * 64, "Third", "Page")] == [
        "Page",
        "Page",
        "A" * 64,
        "other",  # past the limit of distinct names
        "Page",
    ]
    assert BoundedNames(limit=5).label("A" * 65) == "other"


@pytest.mark.parametrize(
    ("codes", "expected"),
    [
        ([], "ok"),
        (["BAD_USER_INPUT"], "bad_input"),
        (["BAD_USER_INPUT", "FORBIDDEN"], "forbidden"),
        (["TIME_LIMIT_EXCEEDED", "UNAUTHENTICATED"], "timeout"),
        (["SOMETHING_NEW"], "error"),
    ],
)
def test_the_worst_error_gives_the_outcome(codes: list[str], expected: str) -> None:
    errors = [GraphQLError("e", extensions={"code": code}) for code in codes]
    assert outcome(errors) == expected


def _access_pids(log: Path, path: str) -> set[int]:
    pids = set()
    for line in log.read_text(encoding="utf-8").splitlines():
        entry = json.loads(line)
        if entry["logger"] == "uvicorn.access" and entry.get("path") == path:
            pids.add(entry["pid"])
    return pids


def test_two_worker_processes_report_every_request_on_every_scrape(
    database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    temp = tmp_path / "tmp"
    temp.mkdir()
    monkeypatch.setenv("TMPDIR", str(temp))  # where the server keeps its metric files
    log = tmp_path / "server.log"
    query = {"query": "query Count { rollbackDrillNotifications { total } }"}
    with running_api(database_url, "--workers", "2", stderr=log) as base:
        [files] = list(temp.iterdir())
        assert files.name.startswith("cavra-gql-metrics-")
        sent = 0
        while len(_access_pids(log, "/graphql")) < 2:  # each request on a new connection
            assert sent < 400, "the requests all went to one worker"
            for _ in range(10):
                httpx.post(base + "/graphql", json=query).raise_for_status()
            sent += 10
        for _ in range(6):  # whichever worker answers the scrape, it reports them all
            samples = scrape(base)
            assert requests(samples, "graphql", "Count", "ok") == sent
            assert value(samples, "cavra_gql_db_pool_size") == 10  # 5 per process, summed
    assert list(temp.iterdir()) == []  # the metric files went with the server


def test_pool_gauges_of_killed_workers_leave_the_sums(tmp_path: Path) -> None:
    dead = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        check=True,
        capture_output=True,
        text=True,
    )
    gone, alive = int(dead.stdout), os.getpid()
    for pid in (gone, alive):
        (tmp_path / f"gauge_livesum_{pid}.db").write_bytes(b"")
        (tmp_path / f"counter_{pid}.db").write_bytes(b"")
    reap_dead_processes(str(tmp_path))
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        [f"counter_{gone}.db", f"counter_{alive}.db", f"gauge_livesum_{alive}.db"]
    )  # a dead worker's counts stay counted; only its live gauges go
