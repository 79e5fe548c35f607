"""Live updates across processes: two API servers share one PostgreSQL database; a client
subscribed on one of them gets every write, whichever process or command made it."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx
import pytest

from cavra_gql.auth import hash_token
from cavra_gql.jsontext import dumps
from tests import record_factory as rf
from tests.live_client import live
from tests.server import running_api

pytestmark = pytest.mark.postgres

OPERATOR, READER = "an-operator-token", "a-reader-token"
WRITE = "mutation($r: [JSON!]!) { ingestRecords(records: $r) { accepted new updated } }"
ADDED = """
subscription { rollbackDrillNotificationAdded(provider: "splunk") {
  seq total records { id } } }"""


def _auth_file(tmp_path: Path) -> Path:
    path = tmp_path / "auth.toml"
    path.write_text(
        f'[[tokens]]\nname = "bot"\nrole = "operator"\nsha256 = "{hash_token(OPERATOR)}"\n'
        f'[[tokens]]\nname = "dash"\nrole = "reader"\nsha256 = "{hash_token(READER)}"\n',
        encoding="utf-8",
    )
    return path


def _delivery(n: int, provider: str = "splunk") -> Any:
    return rf.connector_delivery(
        session_id=f"delivery-{n:03d}",
        created_at=f"2026-12-01T10:{n // 60:02d}:{n % 60:02d}Z",
        providers=[provider],
    )


def test_every_process_delivers_every_write(tmp_path: Path, postgres_url: str) -> None:
    database_url = postgres_url  # several API processes share one PostgreSQL database
    auth = str(_auth_file(tmp_path))
    with (
        running_api(database_url, "--auth-file", auth) as a,
        running_api(database_url, "--auth-file", auth) as b,
    ):
        socket_url = a.replace("http://", "ws://") + "/graphql"
        with live(socket_url, {"authorization": f"Bearer {READER}"}) as client:
            client.subscribe("s", ADDED)
            client.quiet(0.5)
            expected: list[list[str]] = []
            for n in range(0, 12, 3):  # through the other process, a few records at a time
                records = [_delivery(n), _delivery(n + 1, "jira"), _delivery(n + 2)]
                answer = httpx.post(
                    b + "/graphql",
                    json={"query": WRITE, "variables": {"r": records}},
                    headers={"authorization": f"Bearer {OPERATOR}"},
                    timeout=30,
                ).json()
                assert answer["data"]["ingestRecords"]["accepted"], answer
                expected.append([f"delivery-{n + 2:03d}", f"delivery-{n:03d}"])
            export = tmp_path / "export.ndjson"  # and through the command line
            export.write_text("\n".join(dumps(_delivery(n)) for n in range(20, 30)) + "\n")
            command = [sys.executable, "-m", "cavra_gql.cli", "ingest", str(export)]
            subprocess.run([*command, "--database", database_url], check=True, timeout=120)
            expected.append([f"delivery-{n:03d}" for n in range(29, 19, -1)])

            got = [client.next("s")["rollbackDrillNotificationAdded"] for _ in expected]
            assert [[r["id"] for r in change["records"]] for change in got] == expected
            seqs = [change["seq"] for change in got]
            assert seqs == sorted(seqs) and len(set(seqs)) == len(seqs)
            client.quiet(1.0)  # and nothing more
