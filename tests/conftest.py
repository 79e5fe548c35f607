"""Shared fixtures: a fresh real database per test (SQLite file or PostgreSQL), the app, clients."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, create_engine, event, text
from sqlmodel import SQLModel
from starlette.testclient import TestClient

from cavra_gql.app import create_app
from cavra_gql.db import make_engine
from cavra_gql.ingest import Summary, ingest_values
from cavra_gql.settings import Settings

POSTGRES_URL = os.environ.get("CAVRA_GQL_TEST_POSTGRES_URL", "").strip()
IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}
TABLES = (
    "plan_required_routes",
    "record_providers",
    "evidence_records",
    "other_records",
    "record_summary",
    "provider_summary",
    "write_audit_log",
    "change_batches",
    "sync_sources",
    "sync_records",
    "ingest_totals",
)


_fresh_schema: list[bool] = []


def _postgres_url() -> str:
    if not POSTGRES_URL:
        if IN_CI:
            pytest.fail("CI must run the PostgreSQL tests: set CAVRA_GQL_TEST_POSTGRES_URL")
        pytest.skip("no PostgreSQL server configured (CAVRA_GQL_TEST_POSTGRES_URL)")
    if not _fresh_schema:  # once per run: the tables as this code's migrations make them
        drop_tables(POSTGRES_URL)
        _fresh_schema.append(True)
    return POSTGRES_URL


def drop_tables(url: str) -> None:
    """Leave the database empty: the cavra-gql tables and Alembic's version table dropped."""
    engine = create_engine(url)
    with engine.begin() as conn:
        SQLModel.metadata.drop_all(conn)
        conn.execute(text("DROP TABLE IF EXISTS alembic_version"))
    engine.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A URL of an empty database: a new SQLite file, or the test PostgreSQL database emptied."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'cavra.sqlite3'}"
    return postgres_url_emptied()


@pytest.fixture(params=[pytest.param("postgresql", marks=pytest.mark.postgres)])
def postgres_url() -> str:
    """The test PostgreSQL database, emptied: for tests only PostgreSQL can run."""
    return postgres_url_emptied()


def postgres_url_emptied() -> str:
    url = _postgres_url()
    engine = make_engine(url)
    with engine.begin() as conn:
        conn.execute(text(f"TRUNCATE {', '.join(TABLES)}"))
    engine.dispose()
    return url


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'cavra.sqlite3'}"


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    engine = make_engine(database_url)
    yield engine
    engine.dispose()


@pytest.fixture
def load(engine: Engine) -> Callable[[list[dict[str, Any]]], Summary]:
    """Store records through the real ingest path."""

    def load(records: list[dict[str, Any]]) -> Summary:
        return ingest_values(engine, records, "test records")

    return load


@pytest.fixture
def client(engine: Engine, database_url: str) -> Iterator[TestClient]:
    app = create_app(Settings(database_url=database_url), engine=engine)
    with TestClient(app) as test_client:
        yield test_client


class GraphQLClient:
    def __init__(self, client: TestClient) -> None:
        self.client = client

    def __call__(self, query: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
        response = self.client.post("/graphql", json={"query": query, "variables": variables})
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body

    def data(self, query: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
        body = self(query, variables)
        assert "errors" not in body, body["errors"]
        data: dict[str, Any] = body["data"]
        return data


@pytest.fixture
def graphql(client: TestClient) -> GraphQLClient:
    return GraphQLClient(client)


class StatementCounter:
    def __init__(self, engine: Engine) -> None:
        self.statements: list[str] = []
        event.listen(engine, "before_cursor_execute", self._seen)

    def _seen(self, *args: Any) -> None:
        self.statements.append(args[2])

    @property
    def count(self) -> int:
        return len(self.statements)

    def reset(self) -> None:
        self.statements.clear()


@pytest.fixture
def statements(engine: Engine) -> StatementCounter:
    return StatementCounter(engine)


Loader = Callable[[list[dict[str, Any]]], Summary]
Fetch = Callable[..., Any]
