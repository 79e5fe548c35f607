"""Browser-facing safety (issue 5): CORS limited to the sandbox origins unless configured,
GraphQL over GET never runs mutations, GraphiQL can be turned off."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from sqlalchemy import Engine
from starlette.testclient import TestClient

from cavra_gql.app import create_app
from cavra_gql.auth import AuthConfig, hash_token
from cavra_gql.settings import Settings
from tests import record_factory as rf

TOTAL = "{ rollbackDrillNotifications { total } }"


@pytest.fixture
def database_url(sqlite_url: str) -> str:
    return sqlite_url


def _client(engine: Engine, settings: Settings) -> TestClient:
    return TestClient(create_app(settings, engine=engine))


@pytest.fixture
def default(engine: Engine, database_url: str) -> Iterator[TestClient]:
    with _client(engine, Settings.from_env({}, database_url=database_url)) as client:
        yield client


def _preflight(client: TestClient, origin: str) -> dict[str, str]:
    response = client.options(
        "/graphql",
        headers={
            "origin": origin,
            "access-control-request-method": "POST",
            "access-control-request-headers": "content-type, authorization",
        },
    )
    return dict(response.headers)


def test_cors_allows_only_the_sandbox_origins_by_default(default: TestClient) -> None:
    for origin in ("http://127.0.0.1:5173", "http://localhost:5173"):
        assert _preflight(default, origin)["access-control-allow-origin"] == origin
        answer = default.post("/graphql", json={"query": TOTAL}, headers={"origin": origin})
        assert answer.headers["access-control-allow-origin"] == origin
    for origin in ("https://evil.example", "http://127.0.0.1:8080", "null"):
        assert "access-control-allow-origin" not in _preflight(default, origin)
        answer = default.post("/graphql", json={"query": TOTAL}, headers={"origin": origin})
        assert "access-control-allow-origin" not in answer.headers


def test_cors_origins_are_configurable(engine: Engine, database_url: str) -> None:
    env = {"CAVRA_GQL_CORS_ORIGINS": "https://audit.example.com"}
    with _client(engine, Settings.from_env(env, database_url=database_url)) as client:
        allowed = _preflight(client, "https://audit.example.com")
        assert allowed["access-control-allow-origin"] == "https://audit.example.com"
        assert "access-control-allow-origin" not in _preflight(client, "http://localhost:5173")


def test_get_never_runs_a_mutation(engine: Engine, database_url: str) -> None:
    operator = "operator-token"
    auth = AuthConfig.from_env({"CAVRA_GQL_TOKENS": f"ops:operator:{hash_token(operator)}"})
    settings = Settings(database_url=database_url, auth=auth)
    mutation = "mutation($r: [JSON!]!) { ingestRecords(records: $r) { accepted } }"
    variables = json.dumps({"r": [rf.audit_package(session_id="via-get")]})
    headers = {"authorization": f"Bearer {operator}"}
    with _client(engine, settings) as client:
        response = client.get(
            "/graphql", params={"query": mutation, "variables": variables}, headers=headers
        )
        assert response.status_code in {400, 405}, response.text
        assert "via-get" not in response.text
        total = client.get("/graphql", params={"query": TOTAL}, headers=headers).json()
        assert total["data"]["rollbackDrillNotifications"]["total"] == 0  # queries: fine


def test_graphiql_can_be_turned_off(engine: Engine, database_url: str) -> None:
    html = {"accept": "text/html"}
    with _client(engine, Settings(database_url=database_url)) as on:
        assert "graphiql" in on.get("/graphql", headers=html).text.lower()
    settings = Settings.from_env({"CAVRA_GQL_GRAPHIQL": "off"}, database_url=database_url)
    with _client(engine, settings) as off:
        assert off.get("/graphql", headers=html).status_code == 404
        answer = off.post("/graphql", json={"query": TOTAL}).json()
        assert answer["data"]["rollbackDrillNotifications"]["total"] == 0
