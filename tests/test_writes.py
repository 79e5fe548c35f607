"""`ingestRecords` (SPEC §5, issue 5): the CLI's validation, redaction and upsert through
GraphQL, all or nothing per call, bounded, and every accepted write in the audit log."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import Engine, text
from starlette.testclient import TestClient

from cavra_gql.app import create_app
from cavra_gql.auth import AuthConfig, hash_token
from cavra_gql.settings import Limits, Settings
from tests import record_factory as rf

OPERATOR = "an-operator-token"
HEADERS = {"authorization": f"Bearer {OPERATOR}"}
WRITE = """
mutation($r: [JSON!]!) {
  ingestRecords(records: $r) {
    accepted read new updated unchanged auditEntryId
    errors { index field reason message }
  }
}"""
HISTORY = "{ rollbackDrillNotifications(limit: 500) { total items { id record } } }"
DASHBOARD = "{ rollbackDrillNotificationDashboard { acknowledgementAuditPackageCount } }"
AUDIT_LOG = """
{ writeAuditLog { id at actor role operation requestId recordCount new updated unchanged
                  sessionIds } }"""
SECRET = "sk_live_do_not_store_me"


@pytest.fixture
def api(engine: Engine, database_url: str) -> Iterator[TestClient]:
    auth = AuthConfig.from_env({"CAVRA_GQL_TOKENS": f"release-bot:operator:{hash_token(OPERATOR)}"})
    limits = Limits(max_write_records=5)
    settings = Settings(database_url=database_url, auth=auth, limits=limits)
    with TestClient(create_app(settings, engine=engine)) as client:
        yield client


def _call(client: TestClient, query: str, **variables: Any) -> dict[str, Any]:
    response = client.post(
        "/graphql", json={"query": query, "variables": variables}, headers=HEADERS
    )
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def _write(client: TestClient, records: list[Any]) -> dict[str, Any]:
    body = _call(client, WRITE, r=records)
    assert "errors" not in body, body
    result: dict[str, Any] = body["data"]["ingestRecords"]
    return result


def _history(client: TestClient) -> dict[str, Any]:
    page: dict[str, Any] = _call(client, HISTORY)["data"]["rollbackDrillNotifications"]
    return page


def _with_secret(session_id: str) -> dict[str, Any]:
    record = rf.connector_delivery(session_id=session_id)
    record["delivery"]["deliveries"][0]["request"] = {
        "headers": {"Authorization": f"Bearer {SECRET}"},
        "body": {"token": SECRET},
    }
    record["api_key"] = SECRET
    return record


def test_operators_write_records_like_the_cli(api: TestClient, engine: Engine) -> None:
    packages = [rf.audit_package(session_id=f"pkg-{i}") for i in range(3)]
    result = _write(api, [*packages, _with_secret("delivery-1")])
    assert result["accepted"] is True
    assert (result["read"], result["new"], result["updated"], result["unchanged"]) == (4, 4, 0, 0)
    assert result["errors"] == []
    page = _history(api)
    assert page["total"] == 4
    assert {item["id"] for item in page["items"]} == {"pkg-0", "pkg-1", "pkg-2", "delivery-1"}
    # The summaries moved with the write: the dashboard counts what the history holds.
    dashboard = _call(api, DASHBOARD)["data"]["rollbackDrillNotificationDashboard"]
    assert dashboard["acknowledgementAuditPackageCount"] == 3
    # Redacted before storing (SPEC §7): in no answer and in no row.
    assert SECRET not in str(page)
    with engine.connect() as conn:
        for table in ("evidence_records", "other_records", "write_audit_log"):
            rows = conn.execute(text(f"SELECT * FROM {table}")).all()
            assert SECRET not in str(rows), table
    # Again: idempotent. Changed: an update.
    again = _write(api, packages)
    assert (again["new"], again["updated"], again["unchanged"]) == (0, 0, 3)
    changed = rf.audit_package(session_id="pkg-0", generated_by="someone-else@example.com")
    assert _write(api, [changed])["updated"] == 1
    assert _history(api)["total"] == 4


def test_one_bad_record_stores_nothing_and_each_error_is_data(api: TestClient) -> None:
    _write(api, [rf.audit_package(session_id="kept")])
    before = _history(api)
    bad = [
        rf.audit_package(session_id="fine"),
        rf.audit_package(session_id="no-date", created_at=rf.MISSING),
        "not an object",
        rf.audit_package(session_id="", audit_id="x"),
        rf.audit_package(session_id="bad-date", created_at="2026-13-45"),
    ]
    result = _write(api, bad)
    assert result["accepted"] is False
    assert (result["new"], result["updated"], result["auditEntryId"]) == (0, 0, None)
    errors = {e["index"]: e for e in result["errors"]}
    assert set(errors) == {1, 2, 3, 4}
    assert (errors[1]["field"], errors[1]["reason"]) == ("created_at", "missing")
    assert errors[2]["field"] is None and "JSON object" in errors[2]["reason"]
    assert errors[3]["field"] == "session_id"
    assert errors[4]["message"].startswith("index 4: field created_at: ")
    assert _history(api) == before  # nothing of the call was stored, nothing lost
    assert _call(api, AUDIT_LOG)["data"]["writeAuditLog"][0]["sessionIds"] == ["kept"]


def test_calls_are_bounded(api: TestClient) -> None:
    body = _call(api, WRITE, r=[rf.audit_package(session_id=f"p{i}") for i in range(6)])
    error = body["errors"][0]
    assert error["extensions"] == {"code": "BAD_USER_INPUT", "field": "records"}
    assert "at most 5 records per call, got 6" in error["message"]
    empty = _call(api, WRITE, r=[])["errors"][0]
    assert empty["extensions"]["code"] == "BAD_USER_INPUT"
    assert _history(api)["total"] == 0


def test_every_accepted_write_is_in_the_audit_log(api: TestClient) -> None:
    first = api.post(
        "/graphql",
        json={"query": WRITE, "variables": {"r": [rf.audit_package(session_id="a")]}},
        headers={**HEADERS, "x-request-id": "change-4711"},
    )
    assert first.headers["x-request-id"] == "change-4711"
    _write(api, [rf.audit_package(session_id="b"), rf.audit_package(session_id="a")])
    _write(api, [rf.audit_package(session_id="bad", created_at="yesterday")])  # refused
    entries = _call(api, AUDIT_LOG)["data"]["writeAuditLog"]
    assert [e["sessionIds"] for e in entries] == [["b", "a"], ["a"]]  # newest first
    latest, oldest = entries
    assert (latest["new"], latest["unchanged"], latest["recordCount"]) == (1, 1, 2)
    assert oldest["requestId"] == "change-4711"
    for entry in entries:
        assert (entry["actor"], entry["role"], entry["operation"]) == (
            "release-bot",
            "operator",
            "ingestRecords",
        )
        assert entry["at"].endswith("Z")
    older = _call(api, "query($b: ID) { writeAuditLog(before: $b) { id } }", b=latest["id"])
    assert older["data"]["writeAuditLog"] == [{"id": oldest["id"]}]
