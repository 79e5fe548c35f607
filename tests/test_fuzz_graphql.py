"""Schemathesis fuzzing of /graphql over a database holding a varied generated history.

Valid operations (positive mode) and invalid ones (negative mode) are generated from the
schema as the code builds it; every answer must be a well-formed GraphQL-over-HTTP JSON
answer, never a server error, with `extensions.code` on every error and nothing of the
server's insides (tracebacks, SQL, driver names) in it.
"""

from __future__ import annotations

import json
import random
from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.generation.case import Case
from schemathesis.graphql import nodes
from schemathesis.specs.openapi.checks import (
    negative_data_rejection,
    response_schema_conformance,
)
from sqlalchemy import Engine
from starlette.testclient import TestClient

from cavra_gql.app import create_app
from cavra_gql.queries.filters import FILTER_FIELDS
from cavra_gql.schema import build_schema
from cavra_gql.settings import Settings
from tests import record_factory as rf
from tests.conftest import Loader
from tests.graphql_ops import DASHBOARD, HISTORY, camel

RECORDS = 300
EXAMPLES = {GenerationMode.POSITIVE: 200, GenerationMode.NEGATIVE: 100}
# Text that only the server's insides would put in an answer.
LEAKS = (
    "Traceback",
    'File "',
    '.py", line',
    "sqlalchemy",
    "psycopg",
    "sqlite3",
    "[SQL:",
    "SELECT ",
    " FROM evidence",
    "Unexpected error",  # MaskErrors' text: some exception nobody raised on purpose
)
TOP_LEVEL = {"data", "errors", "extensions"}

# JSON inputs (the records of ingestRecords): any JSON-ish literal.
schemathesis.graphql.scalar(
    "JSON",
    st.one_of(
        st.text(max_size=20).map(nodes.String),
        st.integers(-(2**31), 2**31 - 1).map(nodes.Int),
        st.booleans().map(nodes.Boolean),
        st.just(nodes.Null),
    ),
)
SCHEMA = schemathesis.graphql.from_file(build_schema().as_str())

# Values random text rarely hits; each goes into every string argument of every query field.
EDGE_VALUES = (
    "",
    "   ",
    "'; DROP TABLE evidence_records; --",
    "%_\\",
    "日本-1\u202e\ufeff\U0001f600",
    "x" * 10_000,
    "2025-03-01T12:00:00+05:30",
    "9999-12-31T23:59:59.999999-23:59",
)
HISTORY_URL = "/runtime/go-pilot/rollback-drill-notifications"
NUL = "a\x00b"
STRING_FILTERS = [name for name in FILTER_FIELDS if name != "delivery_success"]
CHECKED = ("provider_category", "created_after", "created_before")  # parsed, not compared
TREND = (
    "query Trend($bucket: TrendBucket!, "
    + ", ".join(f"${camel(n)}: String" for n in STRING_FILTERS)
    + ") { auditDeliveryTrend(bucket: $bucket, "
    + ", ".join(f"{camel(n)}: ${camel(n)}" for n in STRING_FILTERS)
    + ") { start attempts failures successes } }"
)
ONE_RECORD = "query One($id: ID!) { rollbackDrillNotification(id: $id) { id createdAt record } }"


@pytest.fixture
def fuzz_client(engine: Engine, database_url: str, load: Loader) -> Iterator[TestClient]:
    load(rf.random_history(random.Random(20_261_101), RECORDS))
    app = create_app(Settings(database_url=database_url), engine=engine)
    with TestClient(app) as client:
        yield client


def _check_error(error: Any, answer: str) -> None:
    assert isinstance(error, dict), answer
    assert isinstance(error.get("message"), str) and error["message"], answer
    extensions = error.get("extensions")
    assert isinstance(extensions, dict) and isinstance(extensions.get("code"), str), (
        f"error without extensions.code: {answer}"
    )
    assert extensions["code"] != "INTERNAL_SERVER_ERROR", f"a server error: {answer}"
    for location in error.get("locations", []):
        assert set(location) == {"line", "column"}, answer
    assert all(isinstance(step, str | int) for step in error.get("path", [])), answer


def check_answer(status: int, content_type: str, text: str) -> dict[str, Any]:
    """A well-formed GraphQL-over-HTTP JSON answer that reveals nothing of the server."""
    assert status < 500, text
    for leak in LEAKS:
        assert leak not in text, f"{leak!r} in the answer: {text}"
    assert content_type.split(";")[0].strip() in (
        "application/json",
        "application/graphql-response+json",
    ), (content_type, text)
    body = json.loads(text)
    assert isinstance(body, dict) and body and set(body) <= TOP_LEVEL, text
    errors = body.get("errors")
    if errors is None:
        assert status == 200 and isinstance(body.get("data"), dict), text
    else:
        assert isinstance(errors, list) and errors, text
        for error in errors:
            _check_error(error, text)
    return body


def _send(client: TestClient, case: Case[Any]) -> Any:
    sent = case.as_transport_kwargs()
    response = client.post("/graphql", json=sent["json"], headers={"accept": "application/json"})
    check_answer(response.status_code, response.headers.get("content-type", ""), response.text)
    return response


def _post(client: TestClient, query: str, variables: dict[str, Any]) -> dict[str, Any]:
    response = client.post("/graphql", json={"query": query, "variables": variables})
    return check_answer(
        response.status_code, response.headers.get("content-type", ""), response.text
    )


def _edge_requests(value: str) -> Iterator[tuple[str, dict[str, Any]]]:
    """The value in each string argument of the history; all at once for the aggregates."""
    yield ONE_RECORD, {"id": value}
    yield HISTORY, {"after": value}
    for name in STRING_FILTERS:
        yield HISTORY, {camel(name): value}
    unchecked = {camel(name): value for name in STRING_FILTERS if name not in CHECKED}
    yield DASHBOARD, unchecked
    yield TREND, {**unchecked, "bucket": "HOUR"}


def _fuzz(client: TestClient, mode: GenerationMode) -> int:
    # Schemathesis' own not_a_server_error also counts FORBIDDEN (an operator-only field asked
    # without a credential) as a server error; check_answer judges server errors instead.
    checks = [response_schema_conformance]
    if mode is GenerationMode.NEGATIVE:
        checks.append(negative_data_rejection)
    sent: list[Case[Any]] = []

    @settings(
        max_examples=EXAMPLES[mode],
        derandomize=True,
        database=None,
        deadline=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(case=SCHEMA.as_strategy(mode))
    def fuzz(case: Case[Any]) -> None:
        sent.append(case)
        response = _send(client, case)
        case.validate_response(response, checks=checks)

    fuzz()
    return len(sent)


@pytest.mark.parametrize("mode", list(EXAMPLES), ids=lambda mode: mode.value)
def test_fuzzed_operations_get_well_formed_answers(
    fuzz_client: TestClient, mode: GenerationMode
) -> None:
    assert _fuzz(fuzz_client, mode) >= EXAMPLES[mode] // 2


def test_edge_values_in_every_string_argument(fuzz_client: TestClient) -> None:
    answered = 0
    for value in EDGE_VALUES:
        for query, variables in _edge_requests(value):
            _post(fuzz_client, query, variables)
            answered += 1
    assert answered == len(EDGE_VALUES) * (len(STRING_FILTERS) + 4)


def test_nul_characters_in_arguments_are_bad_input(fuzz_client: TestClient) -> None:
    """PostgreSQL refuses NUL in text parameters; the API says so before any SQL runs."""
    for query, variables in _edge_requests(NUL):
        if not any(NUL in str(value) for key, value in variables.items() if key != "after"):
            continue  # the cursor is decoded first: a bad cursor is its own BAD_USER_INPUT
        body = _post(fuzz_client, query, variables)
        codes = {error["extensions"]["code"] for error in body.get("errors", [])}
        assert codes == {"BAD_USER_INPUT"}, (variables, body)
    for path in (HISTORY_URL, HISTORY_URL + "/dashboard"):
        response = fuzz_client.get(path, params={"audit_id": NUL})
        assert response.status_code == 422, response.text
        assert "NUL" in response.json()["detail"]


def test_the_fuzz_checks_can_fail() -> None:
    with pytest.raises(AssertionError, match="extensions.code"):
        check_answer(200, "application/json", '{"data": null, "errors": [{"message": "x"}]}')
    with pytest.raises(AssertionError, match="Traceback"):
        check_answer(200, "application/json", '{"errors": [{"message": "Traceback (most..."}]}')
    with pytest.raises(AssertionError):
        check_answer(500, "application/json", '{"data": null}')
    with pytest.raises(AssertionError):
        check_answer(200, "text/plain", "Internal Server Error")
    internal = {"message": "Oops.", "path": ["x"], "extensions": {"code": "INTERNAL_SERVER_ERROR"}}
    with pytest.raises(AssertionError, match="a server error"):
        check_answer(200, "application/json", json.dumps({"data": None, "errors": [internal]}))
