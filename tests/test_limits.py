"""Query limits (issue 5): depth, aliases, tokens, body size, page size, batching, time limit.

Each limit is shown refusing the smallest request over it and accepting the largest one
within it, with the known bypasses (circular fragments, aliases in fragment spreads).
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import replace
from typing import Any

import httpx
import pytest
from sqlalchemy import Engine, text
from starlette.testclient import TestClient

from cavra_gql import deadline
from cavra_gql.app import create_app
from cavra_gql.errors import TimeLimitExceeded
from cavra_gql.settings import Limits, Settings
from tests import record_factory as rf
from tests.conftest import Loader

HISTORY_URL = "/runtime/go-pilot/rollback-drill-notifications"


@pytest.fixture
def records(load: Loader) -> int:
    history = [rf.audit_package(session_id=f"pkg-{i:03d}") for i in range(30)]
    return load(history).counts.new


def _client(engine: Engine, url: str, **limits: Any) -> TestClient:
    settings = Settings(database_url=url, limits=replace(Limits(), **limits))
    return TestClient(create_app(settings, engine=engine))


@pytest.fixture
def limited(engine: Engine, sqlite_url: str) -> Iterator[Any]:
    clients: list[TestClient] = []

    def make(**limits: Any) -> TestClient:
        client = _client(engine, sqlite_url, **limits)
        clients.append(client.__enter__())
        return client

    yield make
    for client in clients:
        client.__exit__(None, None, None)


def _errors(response: httpx.Response) -> list[dict[str, Any]]:
    body = response.json()
    assert "errors" in body, body
    errors: list[dict[str, Any]] = body["errors"]
    return errors


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_depth_limit_refuses_deeper_queries(records: int, limited: Any) -> None:
    query = (
        "{ rollbackDrillNotifications(limit: 1) { items { ... on AcknowledgementAuditPackage "
        "{ acknowledgementAuditPackage { routes { provider } } } } } }"
    )  # depth 4, the root field being depth 0
    assert "errors" not in limited(max_depth=4).post("/graphql", json={"query": query}).json()
    errors = _errors(limited(max_depth=3).post("/graphql", json={"query": query}))
    assert errors[0]["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"
    assert "exceeds maximum operation depth of 3" in errors[0]["message"]


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_depth_limit_follows_fragments_and_survives_cycles(records: int, limited: Any) -> None:
    client = limited(max_depth=3)
    through_fragments = """
        query { rollbackDrillNotifications(limit: 1) { ...Page } }
        fragment Page on RollbackDrillNotificationPage { items { ...Pkg } }
        fragment Pkg on AcknowledgementAuditPackage { acknowledgementAuditPackage { ...Detail } }
        fragment Detail on AuditPackageDetail { routes { provider } }
    """
    errors = _errors(client.post("/graphql", json={"query": through_fragments}))
    assert any("maximum operation depth" in e["message"] for e in errors), errors
    circular = """
        query { rollbackDrillNotifications { ...A } }
        fragment A on RollbackDrillNotificationPage { total ...B }
        fragment B on RollbackDrillNotificationPage { limit ...A }
    """
    response = client.post("/graphql", json={"query": circular})
    assert response.status_code == 200
    errors = _errors(response)
    assert all(e["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED" for e in errors)
    assert any("Cannot spread fragment 'A' within itself" in e["message"] for e in errors)


def _aliases(count: int) -> str:
    return " ".join(f"a{i}: total" for i in range(count))


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_alias_limit_counts_aliases_in_fragment_spreads(records: int, limited: Any) -> None:
    client = limited()  # the default: 15
    within = f"{{ rollbackDrillNotifications {{ {_aliases(15)} }} }}"
    assert client.post("/graphql", json={"query": within}).json()["data"]
    over = f"{{ rollbackDrillNotifications {{ {_aliases(16)} }} }}"
    errors = _errors(client.post("/graphql", json={"query": over}))
    assert errors[0]["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"
    assert "16 aliases found. Allowed: 15" in errors[0]["message"]
    # Eight aliases in a fragment spread twice: sixteen, none of them in the operation itself.
    hidden = f"""
        query {{ rollbackDrillNotifications {{ ...F }} ...Q }}
        fragment Q on Query {{ rollbackDrillNotifications {{ ...F }} }}
        fragment F on RollbackDrillNotificationPage {{ {_aliases(8)} }}
    """
    errors = _errors(client.post("/graphql", json={"query": hidden}))
    assert "16 aliases found. Allowed: 15" in errors[0]["message"], errors


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_token_limit_stops_parsing(records: int, limited: Any) -> None:
    client = limited()  # 2,000 tokens
    many = "{ rollbackDrillNotifications { " + "total " * 2100 + "} }"
    response = client.post("/graphql", json={"query": many})
    errors = _errors(response)
    assert errors[0]["extensions"]["code"] == "GRAPHQL_PARSE_FAILED"
    assert "more than 2000 tokens" in errors[0]["message"]
    fits = "{ rollbackDrillNotifications { " + "total " * 400 + "} }"
    assert client.post("/graphql", json={"query": fits}).json()["data"]


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_request_body_limit_with_and_without_content_length(records: int, limited: Any) -> None:
    client = limited(max_body_bytes=2000)
    padding = " " * 2500
    response = client.post(
        "/graphql",
        content=f'{{"query": "{{ rollbackDrillNotifications {{ total }} }}{padding}"}}',
        headers={"content-type": "application/json"},
    )
    assert response.status_code == 413
    error = response.json()["errors"][0]
    assert error["extensions"]["code"] == "PAYLOAD_TOO_LARGE"
    assert "limit of 2000 bytes" in error["message"]

    def chunks() -> Iterator[bytes]:  # chunked: no Content-Length to trust
        yield b'{"query": "{ rollbackDrillNotifications { total } }'
        for _ in range(30):
            yield b" " * 100
        yield b'"}'

    response = client.post(
        "/graphql", content=chunks(), headers={"content-type": "application/json"}
    )
    assert response.status_code == 413
    small = client.post("/graphql", json={"query": "{ rollbackDrillNotifications { total } }"})
    assert small.json()["data"]["rollbackDrillNotifications"]["total"] == records


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_page_size_is_capped_at_500(load: Loader, limited: Any) -> None:
    load([rf.audit_package(session_id=f"p-{i:04d}") for i in range(520)])
    client = limited()
    page = client.post(
        "/graphql",
        json={"query": "{ rollbackDrillNotifications(limit: 100000) { limit items { id } } }"},
    ).json()["data"]["rollbackDrillNotifications"]
    assert (page["limit"], len(page["items"])) == (500, 500)
    rest = client.get(HISTORY_URL, params={"limit": "100000"}).json()
    assert (rest["limit"], len(rest["items"])) == (500, 500)


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_batched_operations_are_refused(records: int, limited: Any) -> None:
    client = limited()
    batch = [{"query": "{ rollbackDrillNotifications { total } }"}] * 2
    response = client.post("/graphql", json=batch)
    assert response.status_code == 400
    assert "batch" in response.text.lower()


@pytest.mark.parametrize(
    "database_url",
    ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)],
    indirect=True,
)
def test_time_limit_answers_with_a_clear_error(
    records: int, engine: Engine, database_url: str
) -> None:
    with _client(engine, database_url, time_limit_seconds=1e-9) as client:
        response = client.post(
            "/graphql", json={"query": "{ rollbackDrillNotificationDashboard { planCount } }"}
        )
        error = _errors(response)[0]
        assert error["extensions"]["code"] == "TIME_LIMIT_EXCEEDED"
        assert "time limit" in error["message"]
        rest = client.get(HISTORY_URL)
        assert rest.status_code == 503
        assert rest.json()["code"] == "TIME_LIMIT_EXCEEDED"
    with _client(engine, database_url) as client:  # the same request within the default
        data = client.post(
            "/graphql", json={"query": "{ rollbackDrillNotifications { total } }"}
        ).json()["data"]
        assert data["rollbackDrillNotifications"]["total"] == records


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_a_running_sqlite_statement_is_interrupted_at_the_deadline(engine: Engine) -> None:
    deadline.install(engine)
    endless = (
        "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n) SELECT count(*) FROM n"
    )
    started = time.monotonic()
    with engine.connect() as conn, deadline.limit(0.3), pytest.raises(TimeLimitExceeded):
        conn.execute(text(endless))
    assert time.monotonic() - started < 60  # it ended at all: the statement never would
    with engine.connect() as conn:  # outside a request there is no limit
        assert conn.execute(text("SELECT 1")).scalar() == 1


@pytest.mark.parametrize(
    "database_url", [pytest.param("postgresql", marks=pytest.mark.postgres)], indirect=True
)
def test_the_postgresql_statement_timeout_is_translated(engine: Engine) -> None:
    deadline.install(engine)
    with engine.connect() as conn, deadline.limit(0.3), pytest.raises(TimeLimitExceeded):
        conn.execute(text("SELECT pg_sleep(30)"))
