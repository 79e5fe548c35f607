"""The export route: one response whose manifest header describes exactly the bytes sent,
the history route's filters and 422s, the readers' credentials, and the export time limit."""

from __future__ import annotations

import base64
import hashlib
import json
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine
from starlette.testclient import TestClient

from cavra_gql.app import create_app
from cavra_gql.auth import AuthConfig, hash_token
from cavra_gql.rest_export import EXPORT_PATH
from cavra_gql.settings import Limits, Settings
from cavra_gql.signing import SigningKey, load_public_key, make_key_pair
from cavra_gql.verify import verify
from tests import filter_cases as fc
from tests.conftest import Loader

HISTORY_URL = "/runtime/go-pilot/rollback-drill-notifications"
READER_TOKEN = "reader-token-for-export-tests"


def manifest_header(response: Any) -> dict[str, Any]:
    text = base64.urlsafe_b64decode(response.headers["x-cavra-export-manifest"])
    document: dict[str, Any] = json.loads(text)
    return document


def saved(response: Any, folder: Path) -> tuple[Path, dict[str, Any]]:
    """The download and its manifest as a browser saves them."""
    document = manifest_header(response)
    path = folder / document["file_name"]
    path.write_bytes(response.content)
    return path, document


def test_head_is_refused_rather_than_running_an_export(
    load: Loader, client: TestClient, statements: Any
) -> None:
    load(fc.extended_history())
    statements.reset()
    response = client.head(EXPORT_PATH)
    assert (response.status_code, response.headers["allow"]) == (405, "GET")
    assert statements.count == 0, "nothing was read"


def test_pages_on_the_ui_origins_may_read_the_manifest_header(
    load: Loader, client: TestClient
) -> None:
    """The sandbox served by `python3 -m http.server 5173` reads the header across origins."""
    load(fc.extended_history())
    response = client.get(EXPORT_PATH, headers={"origin": "http://127.0.0.1:5173"})
    assert response.status_code == 200, response.text
    assert response.headers["access-control-allow-origin"] == "http://127.0.0.1:5173"
    exposed = response.headers["access-control-expose-headers"].lower().split(", ")
    assert {"x-cavra-export-manifest", "content-disposition"} <= set(exposed)
    assert manifest_header(response)["record_count"] > 0


@pytest.mark.parametrize("fmt", ["ndjson", "csv"])
def test_the_manifest_header_describes_the_bytes_sent(
    fmt: str, load: Loader, client: TestClient, tmp_path: Path
) -> None:
    load(fc.extended_history())
    response = client.get(EXPORT_PATH, params={"format": fmt, "provider": "splunk"})
    assert response.status_code == 200, response.text
    document = manifest_header(response)
    body = response.content
    assert document["sha256"] == hashlib.sha256(body).hexdigest()
    assert document["byte_size"] == len(body) == int(response.headers["content-length"])
    digest = base64.b64encode(hashlib.sha256(body).digest()).decode()
    assert response.headers["repr-digest"] == f"sha-256=:{digest}:"
    assert document["filters"] == {"provider": "splunk"} and document["format"] == fmt
    name = document["file_name"]
    assert name.startswith("cavra-rollback-drill-notifications-") and name.endswith(f".{fmt}")
    assert response.headers["content-disposition"] == f'attachment; filename="{name}"'
    media = "application/x-ndjson" if fmt == "ndjson" else "text/csv; charset=utf-8"
    assert response.headers["content-type"].startswith(media)
    history = client.get(HISTORY_URL, params={"provider": "splunk"}).json()
    assert document["record_count"] == history["total"] == 2
    if fmt == "ndjson":
        exported = [json.loads(line) for line in body.splitlines()]
        assert exported == history["items"]
    path, _ = saved(response, tmp_path)
    assert verify(path, document, None).valid


@pytest.mark.parametrize("case", fc.WORKED_CASES, ids=lambda case: case.id)
def test_the_route_takes_the_history_filters(
    case: fc.Case, load: Loader, client: TestClient
) -> None:
    load(fc.worked_example())
    response = client.get(EXPORT_PATH, params=case.params)
    assert response.status_code == 200, response.text
    ids = [json.loads(line)["session_id"] for line in response.content.splitlines()]
    assert ids == case.expected
    assert manifest_header(response)["record_count"] == len(case.expected)


BAD_EXPORT_PARAMS = [
    *[(field, params) for field, params in fc.BAD_PARAMS if field not in ("limit", "offset")],
    ("format", {"format": "xlsx"}),
    ("limit", {"limit": "10"}),
    ("offset", {"offset": "5"}),
    ("after", {"after": "abc"}),
]


@pytest.mark.parametrize(("field", "params"), BAD_EXPORT_PARAMS)
def test_bad_values_are_the_history_routes_422(
    field: str, params: dict[str, str], client: TestClient
) -> None:
    response = client.get(EXPORT_PATH, params=params)
    assert response.status_code == 422
    body = response.json()
    assert body["parameter"] == field
    assert body["detail"].startswith(f"invalid query parameter {field!r}: ")
    assert "x-cavra-export-manifest" not in response.headers


def test_a_signed_export_over_rest(
    engine: Engine, database_url: str, load: Loader, tmp_path: Path
) -> None:
    load(fc.worked_example())
    key_id = make_key_pair(tmp_path / "k.pem", tmp_path / "k.pub")
    settings = Settings(
        database_url=database_url, export_signing_key=SigningKey.from_file(tmp_path / "k.pem")
    )
    with TestClient(create_app(settings, engine=engine)) as client:
        response = client.get(EXPORT_PATH, params={"format": "csv"})
    path, document = saved(response, tmp_path)
    assert document["signature"]["key_id"] == key_id
    assert verify(path, document, load_public_key(tmp_path / "k.pub")).signature == "valid"
    edited = {**document, "filters": {"provider": "slack"}}
    outcome = verify(path, edited, load_public_key(tmp_path / "k.pub"))
    assert outcome.signature == "invalid" and not outcome.valid


def test_exports_need_a_reader_credential_when_auth_is_configured(
    engine: Engine, database_url: str, load: Loader, tmp_path: Path
) -> None:
    load(fc.worked_example())
    auth_file = tmp_path / "auth.toml"
    auth_file.write_text(
        f'[[tokens]]\nname = "auditor"\nrole = "reader"\nsha256 = "{hash_token(READER_TOKEN)}"\n'
    )
    settings = Settings(database_url=database_url, auth=AuthConfig.from_file(auth_file))
    with TestClient(create_app(settings, engine=engine)) as client:
        anonymous = client.get(EXPORT_PATH)
        wrong = client.get(EXPORT_PATH, headers={"authorization": "Bearer nope"})
        reader = client.get(EXPORT_PATH, headers={"authorization": f"Bearer {READER_TOKEN}"})
    assert (anonymous.status_code, anonymous.json()["code"]) == (401, "UNAUTHENTICATED")
    assert wrong.status_code == 401 and "x-cavra-export-manifest" not in wrong.headers
    assert reader.status_code == 200
    assert manifest_header(reader)["record_count"] == 4


def test_exports_run_under_their_own_time_limit(
    engine: Engine, database_url: str, load: Loader
) -> None:
    """A bulk download outlives the per-request limit of pages, but not its own."""
    load(fc.extended_history())
    tight_pages = Limits(time_limit_seconds=1e-9)
    with TestClient(
        create_app(Settings(database_url=database_url, limits=tight_pages), engine=engine)
    ) as client:
        assert client.get(HISTORY_URL).status_code == 503
        assert client.get(EXPORT_PATH).status_code == 200
    tight_exports = Limits(export_time_limit_seconds=1e-9)
    with TestClient(
        create_app(Settings(database_url=database_url, limits=tight_exports), engine=engine)
    ) as client:
        refused = client.get(EXPORT_PATH)
    assert (refused.status_code, refused.json()["code"]) == (503, "TIME_LIMIT_EXCEEDED")
