"""SPEC §7: a secret that arrives in a record is in no answer and in no database row."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, text

from cavra_gql.ingest import ingest_file
from tests import record_factory as rf
from tests.conftest import GraphQLClient

SECRETS = [f"planted-secret-{n:02d}" for n in range(14)]
HISTORY_URL = "/runtime/go-pilot/rollback-drill-notifications"


def _secret_record() -> dict[str, Any]:
    record = rf.connector_delivery(session_id="rcd-secret", providers=["slack", "webhook"])
    deliveries = record["delivery"]["deliveries"]
    deliveries[0]["request"] = {
        "method": "POST",
        "url": f"https://hooks.slack.com/services/T0/B0/{SECRETS[0]}",
        "headers": {
            "Authorization": f"Bearer {SECRETS[1]}",
            "X-Api-Key": SECRETS[2],
            "Cookie": f"session={SECRETS[3]}",
            "Proxy-Authorization": SECRETS[4],
            "X-Slack-Signing-Secret": SECRETS[5],
            "Content-Type": "application/json",
        },
        "body": {"text": SECRETS[6]},
        "json": SECRETS[7],
    }
    deliveries[1]["request"] = {
        "method": "POST",
        "url": f"https://user:{SECRETS[8]}@hooks.example.com:8443/x?token={SECRETS[9]}#frag",
        "headers": [["X-Auth-Token", SECRETS[10]]],
        "payload": SECRETS[11],
    }
    record["connector_config"] = {
        "webhook_url": f"https://hooks.example.com/{SECRETS[12]}",
        "credentials": [{"Client_Secret": SECRETS[13], "note": "public"}],
    }
    return record


def _database_text(engine: Engine, database_url: str) -> str:
    if database_url.startswith("sqlite"):
        path = Path(database_url.removeprefix("sqlite:///"))
        files = [path, Path(f"{path}-wal"), Path(f"{path}-shm")]
        return "".join(p.read_bytes().decode("latin-1") for p in files if p.exists())
    dumped = []
    with engine.connect() as conn:
        for table in (
            "evidence_records",
            "other_records",
            "record_providers",
            "plan_required_routes",
        ):
            rows = conn.execute(text(f"SELECT t::text FROM {table} t")).scalars()
            dumped.extend(rows)
    return "\n".join(dumped)


def test_planted_secrets_reach_no_answer_and_no_row(
    tmp_path: Path, engine: Engine, database_url: str, client, graphql: GraphQLClient
) -> None:
    path = tmp_path / "secrets.ndjson"
    path.write_text(json.dumps(_secret_record()) + "\n")
    ingest_file(engine, path)

    answers = [
        client.get(HISTORY_URL).text,
        client.get(HISTORY_URL + "/dashboard").text,
        json.dumps(
            graphql.data(
                """{ rollbackDrillNotifications { items { record ... on ConnectorDelivery {
                     delivery { deliveries { request { url headers method } } } } } }
                   rollbackDrillNotificationDashboard { latest { record } } }"""
            )
        ),
    ]
    stored = _database_text(engine, database_url)
    for secret in SECRETS:
        assert all(secret not in answer for answer in answers), secret
        assert secret not in stored, secret

    record = client.get(HISTORY_URL).json()["items"][0]
    first, second = (d["request"] for d in record["delivery"]["deliveries"])
    assert first["url"] == "https://hooks.slack.com"
    assert first["headers"]["Authorization"] == "REDACTED"
    assert first["headers"]["Content-Type"] == "application/json"
    assert "body" not in first and "json" not in first
    assert second["url"] == "https://hooks.example.com:8443"
    assert "payload" not in second
    assert record["connector_config"]["credentials"][0] == {
        "Client_Secret": "REDACTED",
        "note": "public",
    }
