"""Server logs (issue 6): one JSON object per line, each line logged while a request is served
carrying that request's id, uvicorn's own lines included."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import httpx
import pytest

from cavra_gql import cli, logs
from cavra_gql.db import make_engine
from tests.live_client import live
from tests.server import running_api

HISTORY_URL = "/runtime/go-pilot/rollback-drill-notifications"
PAGE = {"query": "query Page { rollbackDrillNotifications { total items { id } } }"}
CARDS = "subscription Cards { rollbackDrillNotificationDashboardChanged { deliveryCount } }"


def test_every_line_is_json_and_request_lines_carry_the_request_id(
    sqlite_url: str, tmp_path: Path
) -> None:
    engine = make_engine(sqlite_url)
    log = tmp_path / "server.log"
    with running_api(sqlite_url, stderr=log) as base:
        fine = httpx.get(base + HISTORY_URL)
        # The records table vanishes under the server: its next reads fail unexpectedly, and
        # the server logs them with their stacks.
        with engine.begin() as conn:
            conn.exec_driver_sql("DROP TABLE evidence_records")
        engine.dispose()
        rest = httpx.get(base + HISTORY_URL, headers={"X-Request-Id": "rest-1"})
        graphql = httpx.post(base + "/graphql", json=PAGE, headers={"X-Request-Id": "gql-1"})
    # (A 500 is answered outside the Gate, without the header: the body names the id.)
    assert (rest.status_code, rest.json()["request_id"]) == (500, "rest-1")
    assert graphql.json()["errors"][0]["extensions"] == {
        "code": "INTERNAL_SERVER_ERROR",
        "requestId": "gql-1",
    }
    lines = [json.loads(line) for line in log.read_text(encoding="utf-8").splitlines()]
    assert all({"time", "level", "logger", "message", "pid"} <= set(line) for line in lines)

    by_request: dict[str, list[dict[str, str]]] = {}
    for line in lines:
        if line["logger"].startswith("cavra_gql") or line["logger"] == "uvicorn.access":
            assert "request_id" in line, line  # nothing logged for a request without its id
        if "request_id" in line:
            by_request.setdefault(line["request_id"], []).append(line)

    generated = fine.headers["x-request-id"]
    assert [(x["logger"], x["status"]) for x in by_request[generated]] == [("uvicorn.access", 200)]
    rest_lines = {x["logger"]: x for x in by_request["rest-1"]}
    assert "no such table: evidence_records" in rest_lines["cavra_gql.rest"]["exception"]
    assert rest_lines["cavra_gql.rest"]["level"] == "ERROR"
    assert rest_lines["uvicorn.access"]["status"] == 500  # type: ignore[comparison-overlap]
    # uvicorn's own line about the same failure, after the response: the id is still there.
    assert rest_lines["uvicorn.error"]["message"].startswith("Exception in ASGI application")
    graphql_lines = {x["logger"]: x for x in by_request["gql-1"]}
    assert "no such table" in graphql_lines["cavra_gql.graphql"]["exception"]
    assert graphql_lines["uvicorn.access"]["path"] == "/graphql"
    assert set(by_request) >= {generated, "rest-1", "gql-1"}


def test_a_websocket_connection_logs_with_its_request_id(sqlite_url: str, tmp_path: Path) -> None:
    engine = make_engine(sqlite_url)
    log = tmp_path / "server.log"
    with running_api(sqlite_url, stderr=log) as base:
        url = base.replace("http://", "ws://") + "/graphql"
        with live(url) as anonymous:  # no id given: a new one, in the handshake's answer
            generated = anonymous.socket.response.headers["x-request-id"]
        with live(url, headers={"X-Request-Id": "ws-1"}) as client:
            assert client.socket.response.headers["x-request-id"] == "ws-1"
            client.subscribe("cards", CARDS)
            client.next("cards")
            with engine.begin() as conn:  # the next subscription's first read fails
                conn.exec_driver_sql("DROP TABLE evidence_records")
            engine.dispose()
            client.subscribe("again", CARDS)
            failed = client.receive()
    assert failed["payload"]["errors"][0]["extensions"]["requestId"] == "ws-1"
    lines = [json.loads(line) for line in log.read_text(encoding="utf-8").splitlines()]
    for line in lines:
        if line["logger"].startswith("cavra_gql") or "WebSocket" in line["message"]:
            assert "request_id" in line, line
    mine = [line for line in lines if line.get("request_id") == "ws-1"]
    [handshake] = [x["message"] for x in mine if "WebSocket" in x["message"]]
    assert handshake.endswith('"WebSocket /graphql" [accepted]')
    # The subscription's own task logged its failure with the connection's id.
    [error] = [x for x in mine if x["logger"] == "cavra_gql.graphql"]
    assert "no such table: evidence_records" in error["exception"]
    assert generated != "ws-1"
    assert any("[accepted]" in x["message"] for x in lines if x.get("request_id") == generated)


def test_text_lines_carry_the_request_id_in_brackets() -> None:
    record = logging.LogRecord(
        "cavra_gql.rest", logging.ERROR, __file__, 1, "boom %s", ("x",), None
    )
    record.request_id = "r-1"
    assert logs.TextFormatter().format(record).endswith(" ERROR cavra_gql.rest [r-1]: boom x")
    record.request_id = None
    assert logs.TextFormatter().format(record).endswith(" ERROR cavra_gql.rest: boom x")


def test_extra_fields_are_logged_beside_the_message() -> None:
    record = logging.LogRecord("cavra_gql.sync", logging.INFO, __file__, 1, "pass", (), None)
    record.records = 12
    line = json.loads(logs.JsonFormatter().format(record))
    assert (line["message"], line["records"], "request_id" in line) == ("pass", 12, False)


def test_a_bad_log_format_stops_the_api_before_it_starts(
    sqlite_url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("CAVRA_GQL_LOG_FORMAT", "xml")
    assert cli.main(["api", "--database", sqlite_url]) == 2
    assert "CAVRA_GQL_LOG_FORMAT must be one of json, text, not 'xml'" in capsys.readouterr().err
