"""The ingest counters (issue 6): every write path (`cavra-gql ingest`, the ingestRecords
mutation, `cavra-gql sync`, `api --demo`) adds what it committed to its own counters in the
database, a failed write adds nothing, and a scrape of any process shows them."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine
from starlette.testclient import TestClient

from cavra_gql import cli, collectors
from cavra_gql.app import create_app
from cavra_gql.auth import AuthConfig, hash_token
from cavra_gql.demo import demo_records
from cavra_gql.ingest import ingest_values
from cavra_gql.jsontext import dumps
from cavra_gql.queries import ingest_totals
from cavra_gql.settings import Settings
from tests import cavra_writer as cavra
from tests.conftest import StatementCounter
from tests.server import running_api
from tests.test_metrics import Samples, scrape, value

OPERATOR = "an-operator-token"
WRITE = "mutation W($r: [JSON!]!) { ingestRecords(records: $r) { accepted } }"
# Per path: writes, records read, new, updated, unchanged.
Totals = dict[str, tuple[int, ...]]


def totals(engine: Engine) -> Totals:
    with engine.connect() as conn:
        return {row.via: tuple(row[1:]) for row in ingest_totals.figures(conn)}


def scraped(samples: Samples) -> Totals:
    """The counters as a scrape shows them."""
    found: Totals = {}
    for via in ("file", "sync", "api", "demo"):
        writes = samples.get(("cavra_gql_ingested_writes_total", frozenset({"via": via}.items())))
        if writes is None:  # no write by this path yet
            continue
        read = value(samples, "cavra_gql_ingested_records_read_total", via=via)
        stored = [
            int(value(samples, "cavra_gql_ingested_records_total", via=via, result=result))
            for result in ("new", "updated", "unchanged")
        ]
        found[via] = (int(writes), int(read), *stored)
    return found


@pytest.fixture
def operator_client(engine: Engine, database_url: str) -> Iterator[TestClient]:
    """An API with an operator token, whose scrapes read the database every time."""
    auth = AuthConfig.from_env({"CAVRA_GQL_TOKENS": f"bot:operator:{hash_token(OPERATOR)}"})
    app = create_app(Settings(database_url=database_url, auth=auth), engine)
    with TestClient(app, headers={"authorization": f"Bearer {OPERATOR}"}) as client:
        [figures] = [c for c in app.state.metric_collectors if hasattr(c, "cache_seconds")]
        figures.cache_seconds = 0
        yield client


def ndjson(path: Path, items: list[dict[str, Any]]) -> Path:
    path.write_text("".join(dumps(item) + "\n" for item in items), encoding="utf-8")
    return path


def test_every_write_path_moves_only_its_own_counters(
    operator_client: TestClient, engine: Engine, database_url: str, tmp_path: Path
) -> None:
    assert totals(engine) == {}
    assert not any(name.startswith("cavra_gql_ingested_") for name, _ in scrape(operator_client))

    def ingest(path: Path) -> int:
        return cli.main(["ingest", "--database", database_url, str(path)])

    export = ndjson(tmp_path / "export.ndjson", [cavra.record(n) for n in (1, 2, 3)])
    assert ingest(export) == 0
    assert totals(engine) == {"file": (1, 3, 3, 0, 0)}
    # A failed file rolls back, its counters with it.
    broken = [cavra.record(4), cavra.record(1, version=1), {"session_id": "no-kind"}]
    assert ingest(ndjson(tmp_path / "broken.ndjson", broken)) == 1
    assert totals(engine) == {"file": (1, 3, 3, 0, 0)}
    assert ingest(export) == 0  # the same file again: read, found as stored
    assert totals(engine) == {"file": (2, 6, 3, 0, 3)}

    def write(records: list[dict[str, Any]]) -> bool:
        body = operator_client.post("/graphql", json={"query": WRITE, "variables": {"r": records}})
        assert "errors" not in body.json(), body.json()
        accepted: bool = body.json()["data"]["ingestRecords"]["accepted"]
        return accepted

    assert write([cavra.record(3), cavra.record(2, version=1), cavra.record(5)])
    assert not write([cavra.record(6), {"session_id": "no-kind"}])  # refused: nothing stored
    assert totals(engine) == {"file": (2, 6, 3, 0, 3), "api": (1, 3, 1, 1, 1)}

    store = tmp_path / "store.json"
    cavra.write_store(store, [cavra.record(7), cavra.record(8)])
    assert cli.main(["sync", "--from", str(store), "--database", database_url]) == 0
    cavra.write_store(store, [cavra.record(7), cavra.record(8, version=1), cavra.record(9)])
    assert cli.main(["sync", "--from", str(store), "--database", database_url]) == 0
    # The second pass took in only what changed (record 7 was skipped, not read again).
    expected = {"file": (2, 6, 3, 0, 3), "api": (1, 3, 1, 1, 1), "sync": (2, 4, 3, 1, 0)}
    assert totals(engine) == expected
    assert scraped(scrape(operator_client)) == expected


def test_the_demo_history_counts_as_demo_in_another_process(database_url: str) -> None:
    read = len(demo_records(datetime.now(UTC)))
    with running_api(database_url, "--demo") as base:
        samples = scrape(base)
    assert read > 2000
    assert scraped(samples) == {"demo": (1, read, read, 0, 0)}


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_concurrent_writers_of_one_path_lose_no_count(engine: Engine) -> None:
    """Writers of one path meet on its counter row (and the change feed's lock) and take
    turns: every write is counted, none deadlocks."""
    errors: list[BaseException] = []

    def writer(number: int) -> None:
        try:
            records = [cavra.record(number * 100 + n) for n in range(50)]
            for start in range(0, 50, 10):
                ingest_values(engine, records[start : start + 10], f"writer {number}")
        except BaseException as error:  # reported by the main thread
            errors.append(error)

    threads = [threading.Thread(target=writer, args=(number,)) for number in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert errors == []
    assert totals(engine) == {"file": (20, 200, 200, 0, 0)}


def test_a_scrape_reads_the_counters_in_one_statement(
    engine: Engine, statements: StatementCounter
) -> None:
    ingest_values(engine, [cavra.record(1), cavra.record(2)], "two records")
    counts = []
    for figures in (collectors.FIGURES, tuple(set(collectors.FIGURES) - {collectors.ingested})):
        statements.reset()
        collectors.DatabaseFigures(engine, figures)._read()
        counts.append(statements.count)
    assert counts[0] - counts[1] == 1
    with engine.connect() as conn:
        [writes, read, stored] = collectors.ingested(conn)
    assert [sample.value for sample in writes.samples] == [1]
    assert [sample.value for sample in read.samples] == [2]
