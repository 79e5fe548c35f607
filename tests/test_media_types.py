"""GraphQL over HTTP's two response media types: request errors are 400 without `data` for
clients that accept `application/graphql-response+json`; `application/json` keeps 200."""

from __future__ import annotations

from typing import Any

import pytest
from starlette.testclient import TestClient

from cavra_gql import media

GRAPHQL_RESPONSE = "application/graphql-response+json"
PREFERRED = "application/graphql-response+json, application/json;q=0.9"
TOTAL = "{ rollbackDrillNotifications { total } }"
# (query, variables, extensions.code) of each kind of request error.
REQUEST_ERRORS = {
    "parse": ("{ rollbackDrillNotifications { total }", None, "GRAPHQL_PARSE_FAILED"),
    "validation": ("{ rollbackDrillNotifications { nope } }", None, "GRAPHQL_VALIDATION_FAILED"),
    "variables": (
        "query($l: Int) { rollbackDrillNotifications(limit: $l) { total } }",
        {"l": "many"},
        "BAD_USER_INPUT",
    ),
}


@pytest.fixture
def database_url(sqlite_url: str) -> str:
    return sqlite_url  # conftest's `client` then serves SQLite alone


def _post(
    client: TestClient, query: str, variables: dict[str, Any] | None, accept: str | None
) -> Any:
    headers = {} if accept is None else {"accept": accept}
    return client.post("/graphql", json={"query": query, "variables": variables}, headers=headers)


@pytest.mark.parametrize("accept", [GRAPHQL_RESPONSE, PREFERRED])
def test_a_successful_query_answers_with_the_graphql_response_type(
    client: TestClient, accept: str
) -> None:
    response = _post(client, TOTAL, None, accept)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/graphql-response+json; charset=utf-8"
    assert response.json() == {"data": {"rollbackDrillNotifications": {"total": 0}}}


@pytest.mark.parametrize("kind", REQUEST_ERRORS)
@pytest.mark.parametrize("accept", [GRAPHQL_RESPONSE, PREFERRED])
def test_request_errors_are_400_without_data(client: TestClient, kind: str, accept: str) -> None:
    query, variables, code = REQUEST_ERRORS[kind]
    response = _post(client, query, variables, accept)
    assert response.status_code == 400, response.text
    assert response.headers["content-type"].startswith(GRAPHQL_RESPONSE)
    body = response.json()
    assert "data" not in body, body
    assert [error["extensions"]["code"] for error in body["errors"]] == [code]


def test_request_errors_in_a_get_are_400_too(client: TestClient) -> None:
    response = client.get(
        "/graphql", params={"query": "{ nope"}, headers={"accept": GRAPHQL_RESPONSE}
    )
    assert response.status_code == 400, response.text
    assert "data" not in response.json()


@pytest.mark.parametrize("kind", REQUEST_ERRORS)
@pytest.mark.parametrize("accept", ["application/json", "*/*", None])
def test_json_answers_keep_200_and_a_null_data(
    client: TestClient, kind: str, accept: str | None
) -> None:
    if accept is None:  # no Accept header at all: the spec's legacy default
        del client.headers["accept"]
    query, variables, code = REQUEST_ERRORS[kind]
    response = _post(client, query, variables, accept)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/json"
    body = response.json()
    assert body["data"] is None
    assert [error["extensions"]["code"] for error in body["errors"]] == [code]


@pytest.mark.parametrize("accept", [GRAPHQL_RESPONSE, PREFERRED, "application/json"])
def test_field_errors_keep_200_and_data(client: TestClient, accept: str) -> None:
    # The field is non-null, so its error nulls the whole `data`: still an execution result.
    query = '{ rollbackDrillNotifications(createdAfter: "2026-11-28") { total } }'
    response = _post(client, query, None, accept)
    assert response.status_code == 200, response.text
    body = response.json()
    assert "data" in body and body["data"] is None, body
    [error] = body["errors"]
    assert error["extensions"]["code"] == "BAD_USER_INPUT"
    assert error["path"] == ["rollbackDrillNotifications"]


def test_a_partial_result_keeps_its_data(client: TestClient) -> None:
    # A nullable root field fails (a NUL in the id), the rest of the operation still answers.
    query = "query($id: ID!) { bad: rollbackDrillNotification(id: $id) { __typename } __typename }"
    response = _post(client, query, {"id": "a\u0000b"}, GRAPHQL_RESPONSE)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["data"] == {"bad": None, "__typename": "Query"}
    [error] = body["errors"]
    assert error["path"] == ["bad"] and error["extensions"]["code"] == "BAD_USER_INPUT"


@pytest.mark.parametrize(
    ("accept", "expected"),
    [
        (None, media.JSON),
        ("", media.JSON),
        ("*/*", media.JSON),
        ("application/*", media.JSON),
        ("application/json", media.JSON),
        ("text/html", media.JSON),
        (GRAPHQL_RESPONSE, media.GRAPHQL_RESPONSE),
        (PREFERRED, media.GRAPHQL_RESPONSE),
        ("application/json, application/graphql-response+json", media.GRAPHQL_RESPONSE),
        ("Application/GraphQL-Response+JSON; charset=utf-8", media.GRAPHQL_RESPONSE),
        ("*/*;q=0.1, application/graphql-response+json", media.GRAPHQL_RESPONSE),
        ("application/graphql-response+json;q=0.5, application/json", media.JSON),
        ("application/graphql-response+json;q=0.5, */*", media.JSON),
        ("application/graphql-response+json;q=0, */*", media.JSON),
        ("application/graphql-response+json;q=oops", media.JSON),
    ],
)
def test_negotiation(accept: str | None, expected: str) -> None:
    assert media.negotiate(accept) == expected


def test_only_errors_without_a_path_and_without_data_are_request_errors() -> None:
    parse = {"message": "Syntax Error", "extensions": {"code": "GRAPHQL_PARSE_FAILED"}}
    field = {"message": "bad", "path": ["x"], "extensions": {"code": "BAD_USER_INPUT"}}
    masked = {"message": "Unexpected error.", "extensions": {"code": "INTERNAL_SERVER_ERROR"}}
    assert media.is_request_error({"data": None, "errors": [parse]})
    assert not media.is_request_error({"data": None, "errors": [field]})
    assert not media.is_request_error({"data": {"x": None}, "errors": [parse]})
    assert not media.is_request_error({"data": None})
    assert media.request_error_status({"data": None, "errors": [parse]}) == 400
    assert media.request_error_status({"data": None, "errors": [masked]}) == 500
