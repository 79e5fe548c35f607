"""Every GraphQL error has `extensions.code`; unexpected ones are masked, and logged with the
request id the client also sees (issue 5)."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import Engine
from starlette.testclient import TestClient

from cavra_gql.app import create_app
from cavra_gql.queries import aggregates
from cavra_gql.settings import Settings

HISTORY_URL = "/runtime/go-pilot/rollback-drill-notifications"


@pytest.fixture
def database_url(sqlite_url: str) -> str:
    return sqlite_url


@pytest.fixture
def client(engine: Engine, database_url: str) -> Iterator[TestClient]:
    app = create_app(Settings(database_url=database_url), engine=engine)
    with TestClient(app, raise_server_exceptions=False) as test_client:
        yield test_client


def _error(client: TestClient, query: str, **variables: Any) -> dict[str, Any]:
    response = client.post("/graphql", json={"query": query, "variables": variables})
    assert response.status_code == 200
    errors = response.json()["errors"]
    assert len(errors) == 1, errors
    error: dict[str, Any] = errors[0]
    return error


@pytest.mark.parametrize(
    ("query", "variables", "code", "message"),
    [
        ("{ rollbackDrillNotifications { total }", {}, "GRAPHQL_PARSE_FAILED", "Syntax Error"),
        ("{ rollbackDrillNotifications { nope } }", {}, "GRAPHQL_VALIDATION_FAILED", "nope"),
        (
            '{ rollbackDrillNotifications(limit: "x") { total } }',
            {},
            "GRAPHQL_VALIDATION_FAILED",
            "Int cannot represent",
        ),
        (
            "query($l: Int) { rollbackDrillNotifications(limit: $l) { total } }",
            {"l": "many"},
            "BAD_USER_INPUT",
            "Variable '$l'",
        ),
        (
            '{ rollbackDrillNotifications(createdAfter: "2026-11-28") { total } }',
            {},
            "BAD_USER_INPUT",
            "createdAfter",
        ),
        (
            '{ rollbackDrillNotifications(providerCategory: "fax") { total } }',
            {},
            "BAD_USER_INPUT",
            "expected one of",
        ),
    ],
)
def test_expected_errors_keep_their_message_and_get_a_code(
    client: TestClient, query: str, variables: dict[str, Any], code: str, message: str
) -> None:
    error = _error(client, query, **variables)
    assert error["extensions"]["code"] == code
    assert message in error["message"]


def test_unexpected_errors_are_masked_and_logged_with_the_request_id(
    client: TestClient, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    def broken(*_args: object, **_kwargs: object) -> int:
        raise RuntimeError("SELECT secret_column FROM evidence_records -- boom")

    monkeypatch.setattr(aggregates, "total", broken)
    with caplog.at_level(logging.ERROR):
        response = client.post(
            "/graphql",
            json={"query": "{ rollbackDrillNotifications { total } }"},
            headers={"x-request-id": "req-42"},
        )
    assert response.headers["x-request-id"] == "req-42"
    error = response.json()["errors"][0]
    assert error["message"] == "Unexpected error."
    assert error["extensions"] == {"code": "INTERNAL_SERVER_ERROR", "requestId": "req-42"}
    assert "secret_column" not in response.text and "Traceback" not in response.text
    logged = [r for r in caplog.records if "req-42" in r.getMessage()]
    assert logged and logged[0].exc_info is not None
    assert "secret_column" in str(logged[0].exc_info[1])

    with caplog.at_level(logging.ERROR):
        rest = client.get(HISTORY_URL, headers={"x-request-id": "req-43"})
    assert rest.status_code == 500
    assert rest.json() == {
        "detail": "internal error",
        "code": "INTERNAL_SERVER_ERROR",
        "request_id": "req-43",
    }
    assert any("req-43" in r.getMessage() and r.exc_info for r in caplog.records)


def test_request_ids_are_made_when_missing_or_unsafe(client: TestClient) -> None:
    made = client.get("/healthz").headers["x-request-id"]
    assert len(made) == 32
    for unsafe in ("a b\r\nx", "x" * 65, "<script>"):
        answered = client.get("/healthz", headers={"x-request-id": unsafe}).headers
        assert len(answered["x-request-id"]) == 32


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        ('{"query": "{ x }", "variables": {"a": ' + '{"a": ' * 5000 + "1" + "}" * 5001, "nested"),
        ('{"query": "{ x }", "variables": {"a": ' + "1" * 5000 + "}}", "5000 digits"),
        ('{"query": "{ x }", "variables": {"a": 1e999}}', "out of range"),
        ('{"query": "{ x }", "variables": {"a": NaN}}', "NaN is not a JSON number"),
        ('{"query": "{ x }"', "not JSON"),
    ],
)
def test_hostile_request_bodies_are_400s_that_say_why(
    client: TestClient, body: str, reason: str
) -> None:
    response = client.post("/graphql", content=body, headers={"content-type": "application/json"})
    assert response.status_code == 400
    assert "Unable to parse request body as JSON" in response.text
    assert reason in response.text


def test_huge_rest_numbers_are_read_not_crashed_on(client: TestClient) -> None:
    huge = "9" * 5000
    page = client.get(HISTORY_URL, params={"limit": huge, "offset": huge})
    assert page.status_code == 200
    assert (page.json()["limit"], page.json()["items"]) == (500, [])
    negative = client.get(HISTORY_URL, params={"offset": "-" + huge})
    assert negative.status_code == 422
    assert "must be >= 0, got -999" in negative.json()["detail"]
    assert "(5001 characters)" in negative.json()["detail"]
