"""`cavra-gql api` as a user runs it: a real uvicorn process on 127.0.0.1."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

import httpx
import pytest

from tests.filter_cases import worked_example
from tests.server import running_api

ROOT = Path(__file__).resolve().parent.parent
HISTORY_URL = "/runtime/go-pilot/rollback-drill-notifications"


def test_api_demo_serves_graphql_rest_graphiql_and_sandbox(sqlite_url: str) -> None:
    with running_api(sqlite_url, "--demo") as base:
        dashboard = httpx.get(base + HISTORY_URL + "/dashboard").json()
        assert dashboard["plan_count"] > 0 and dashboard["acknowledgement_audit_delivery_count"] > 0
        answer = httpx.post(
            base + "/graphql", json={"query": "{ rollbackDrillNotifications { total } }"}
        )
        assert answer.json()["data"]["rollbackDrillNotifications"]["total"] >= 2000
        graphiql = httpx.get(base + "/graphql", headers={"Accept": "text/html"})
        assert graphiql.status_code == 200 and "graphiql" in graphiql.text.lower()
        sandbox = httpx.get(base + "/sandbox/")
        assert "<title>Go Rollback Drill Notifications</title>" in sandbox.text
        home = httpx.get(base + "/", follow_redirects=False)
        assert (home.status_code, home.headers["location"]) == (307, "/sandbox/")
        preflight = httpx.options(
            base + "/graphql",
            headers={
                "Origin": "http://127.0.0.1:5173",
                "Access-Control-Request-Method": "POST",
                "Access-Control-Request-Headers": "content-type",
            },
        )
        assert preflight.headers["access-control-allow-origin"] == "http://127.0.0.1:5173"
        foreign = httpx.get(base + HISTORY_URL, headers={"Origin": "http://evil.example"})
        assert "access-control-allow-origin" not in foreign.headers
    with running_api(sqlite_url, "--demo") as base:  # --demo again: same history, no duplicates
        again = httpx.get(base + HISTORY_URL + "/dashboard").json()
        assert again["plan_count"] == dashboard["plan_count"]


def test_wheel_ships_demo_and_sandbox_and_serves_from_another_folder(tmp_path: Path) -> None:
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--no-build-isolation",
            "-q",
            "-w",
            str(tmp_path / "dist"),
            str(ROOT),
        ],
        check=True,
    )
    [wheel] = (tmp_path / "dist").glob("cavra_gql-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    assert "cavra_gql/sandbox_ui/index.html" in names
    assert "cavra_gql/demo.py" in names
    assert "cavra_gql/migrations/env.py" in names

    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--system-site-packages", str(venv)], check=True)
    subprocess.run(
        [str(venv / "bin" / "python"), "-m", "pip", "install", "-q", "--no-deps", str(wheel)],
        check=True,
    )
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    command = [str(venv / "bin" / "cavra-gql")]
    with running_api("sqlite:///demo.sqlite3", "--demo", command=command, cwd=elsewhere) as base:
        assert httpx.get(base + HISTORY_URL).json()["total"] >= 2000
        assert "Go Rollback Drill Notifications" in httpx.get(base + "/sandbox/").text
    assert (elsewhere / "demo.sqlite3").exists()


@pytest.mark.parametrize("argv", [["api", "--port", "notaport"], ["nothing"]])
def test_cli_usage_errors(argv: list[str]) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "cavra_gql.cli", *argv], capture_output=True, text=True
    )
    assert result.returncode == 2
    assert "usage: cavra-gql" in result.stderr


def test_several_api_processes_share_one_database(database_url: str, tmp_path: Path) -> None:
    from cavra_gql.db import make_engine
    from cavra_gql.ingest import ingest_values

    engine = make_engine(database_url)
    ingest_values(engine, worked_example(), "worked example")
    engine.dispose()
    with running_api(database_url, "--workers", "2") as base:
        totals = {
            httpx.get(base + HISTORY_URL, headers={"Connection": "close"}).json()["total"]
            for _ in range(20)
        }
        pids = subprocess.run(
            ["pgrep", "-f", "cavra_gql.app:app_from_env|multiprocessing.spawn"],
            capture_output=True,
            text=True,
        ).stdout.split()
    assert totals == {4}
    assert len(pids) >= 2


def test_api_with_an_auth_file_and_a_token_from_the_cli(sqlite_url: str, tmp_path: Path) -> None:
    made = subprocess.run(
        [sys.executable, "-m", "cavra_gql.cli", "token", "--name", "ops", "--role", "operator"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    token = made.split("it is not stored anywhere): ", 1)[1].split()[0]
    auth_file = tmp_path / "auth.toml"
    auth_file.write_text(made.split("auth file entry:\n", 1)[1], encoding="utf-8")
    query = {"query": "{ rollbackDrillNotifications { total } }"}
    write = {
        "query": "mutation($r: [JSON!]!) { ingestRecords(records: $r) { accepted new } }",
        "variables": {"r": worked_example()},
    }
    with running_api(
        sqlite_url, "--auth-file", str(auth_file), "--no-graphiql", "--workers", "2"
    ) as base:
        assert httpx.post(base + "/graphql", json=query).status_code == 401
        assert httpx.get(base + HISTORY_URL).status_code == 401
        bearer = {"Authorization": f"Bearer {token}"}
        answer = httpx.post(base + "/graphql", json=write, headers=bearer).json()
        assert answer["data"]["ingestRecords"] == {"accepted": True, "new": 4}
        for _ in range(6):  # whichever worker answers knows the token
            page = httpx.get(base + HISTORY_URL, headers={**bearer, "Connection": "close"})
            assert page.json()["total"] == 4
        graphiql = httpx.get(base + "/graphql", headers={**bearer, "Accept": "text/html"})
        assert graphiql.status_code == 404


def test_a_bad_auth_file_stops_the_api_with_one_line(sqlite_url: str, tmp_path: Path) -> None:
    auth_file = tmp_path / "auth.toml"
    auth_file.write_text('[[tokens]]\nname = "x"\nrole = "root"\nsha256 = "' + "0" * 64 + '"\n')
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "cavra_gql.cli",
            "api",
            "--database",
            sqlite_url,
            "--auth-file",
            str(auth_file),
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        f"cavra-gql: {auth_file}: tokens[0]: role must be reader or operator, not 'root'"
    ]
