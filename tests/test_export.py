"""Exports (issue 6): the filtered history as NDJSON or CSV from one snapshot, a manifest that
describes it, verification that catches tampering, and Ed25519-signed manifests."""

from __future__ import annotations

import csv
import io
import json
import random
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine

from cavra_gql.cli import main
from cavra_gql.db import read_connection
from cavra_gql.errors import BadInput
from cavra_gql.export_cli import FILTER_HELP, SIGNATURE_UNCHECKED
from cavra_gql.export_formats import CSV_COLUMNS, unguard_cell
from cavra_gql.ingest import ingest_values
from cavra_gql.queries.export import stream_history
from cavra_gql.queries.filters import FILTER_FIELDS, HistoryFilter
from cavra_gql.queries.history import Cursor, PageRequest, count_matches, fetch_page
from cavra_gql.settings import Settings
from cavra_gql.signing import KeyFileError
from tests import filter_cases as fc
from tests import record_factory as rf
from tests.conftest import Loader, StatementCounter

Run = tuple[int, str, str]


@pytest.fixture
def cli(capsys: pytest.CaptureFixture[str]) -> Any:
    """`cavra-gql ARGS` in this process: (exit code, stdout, stderr)."""

    def run(*args: str | Path) -> Run:
        code = main([str(arg) for arg in args])
        out, err = capsys.readouterr()
        return code, out, err

    return run


@pytest.fixture
def history(load: Loader) -> list[dict[str, Any]]:
    records = rf.random_history(random.Random(6), 160) + fc.extended_history()
    load(records)
    return records


def walk(engine: Engine, flt: HistoryFilter) -> list[tuple[str, str]]:
    """(session_id, stored JSON) of every match, by following history cursors 7 at a time."""
    found: list[tuple[str, str]] = []
    after: Cursor | None = None
    with read_connection(engine) as conn:
        while True:
            page = fetch_page(conn, flt, PageRequest(limit=7, after=after))
            found += [(row.session_id, row.record_json) for row in page.rows]
            if not page.has_next:
                return found
            after = page.rows[-1].cursor


def export_files(cli: Any, url: str, folder: Path, *args: str, name: str = "e.ndjson") -> Path:
    output = folder / name
    code, out, err = cli("export", "--database", url, "--output", output, *args)
    assert (code, err) == (0, ""), err
    assert out.startswith(f"{output}: ")
    return output


def manifest_of(path: Path) -> dict[str, Any]:
    document: dict[str, Any] = json.loads(Path(f"{path}.manifest.json").read_text("utf-8"))
    return document


# ---- what an export holds ---------------------------------------------------------------------


def test_ndjson_is_the_history_in_order_byte_for_byte_and_verifies(
    history: list[dict[str, Any]], engine: Engine, database_url: str, tmp_path: Path, cli: Any
) -> None:
    output = export_files(cli, database_url, tmp_path)
    expected = walk(engine, HistoryFilter())
    raw = output.read_bytes()
    assert raw == b"".join(text.encode("utf-8") + b"\n" for _, text in expected)
    document = manifest_of(output)
    assert document["record_count"] == len(expected) > 100
    assert document["filters"] == {} and document["format"] == "ndjson"
    assert document["file_name"] == "e.ndjson" and document["byte_size"] == len(raw)
    assert (
        document["schema_version"] == "cavra.go-backend-pilot.rollback-drill-notification-export.v1"
    )
    assert "signature" not in document
    first, last = json.loads(raw.splitlines()[0]), json.loads(raw.splitlines()[-1])
    newest, oldest = document["time_range"]["newest"], document["time_range"]["oldest"]
    assert (newest[:19], oldest[:19]) == (_utc(first["created_at"]), _utc(last["created_at"]))

    code, out, err = cli("verify-export", output)
    assert code == 0, out
    assert out.startswith(f"OK: {output} matches {output}.manifest.json: {len(expected)} records")
    assert "not signed" in out


def _utc(created_at: str) -> str:
    from cavra_gql.instants import format_instant, parse_instant

    return format_instant(parse_instant(created_at))[:19]


@pytest.mark.parametrize("case", fc.WORKED_CASES + fc.E_CASES, ids=lambda case: case.id)
def test_filters_select_what_the_history_query_selects(
    case: fc.Case, load: Loader, engine: Engine
) -> None:
    load(fc.extended_history())
    flt = HistoryFilter.parse(case.params)
    with read_connection(engine) as conn:
        exported = [row.session_id for row in stream_history(conn, flt, batch_size=2)]
        total = count_matches(conn, flt)
    expected = [sid for sid, _ in walk(engine, flt)]
    assert exported == expected
    assert len(exported) == total


def test_random_filters_through_the_cli_match_the_history(
    history: list[dict[str, Any]], engine: Engine, database_url: str, tmp_path: Path, cli: Any
) -> None:
    rng = random.Random(66)
    for attempt in range(12):
        params = rf.random_params(rng, history)
        params = {k: v for k, v in params.items() if k in FILTER_FIELDS}
        flags = [item for k, v in params.items() for item in (f"--{k.replace('_', '-')}", v)]
        try:
            flt = HistoryFilter.parse(params)
        except BadInput as error:  # refused as REST refuses it
            code, _, err = cli(
                "export", "--database", database_url, "--output", tmp_path / "x", *flags
            )
            assert code == 2 and f"invalid option --{error.field.replace('_', '-')}: " in err
            continue
        output = export_files(cli, database_url, tmp_path, *flags, name=f"r{attempt}.ndjson")
        exported = [json.loads(line)["session_id"] for line in output.read_text().splitlines()]
        assert exported == [sid for sid, _ in walk(engine, flt)], params
        assert manifest_of(output)["record_count"] == len(exported)


def test_the_export_reads_one_snapshot(load: Loader, engine: Engine) -> None:
    load(
        [
            rf.notification_plan(session_id=f"p{i}", created_at=f"2026-11-0{i}T00:00:00Z")
            for i in range(1, 7)
        ]
    )
    with read_connection(engine) as conn:
        rows = stream_history(conn, HistoryFilter(), batch_size=2)
        seen = [next(rows).session_id for _ in range(2)]
        # Written meanwhile: one older than every record (a later batch would reach it),
        # one replacing a record not read yet.
        ingest_values(
            engine,
            [
                rf.notification_plan(session_id="p0", created_at="2026-10-01T00:00:00Z"),
                rf.notification_plan(session_id="p2", created_at="2026-12-01T00:00:00Z"),
            ],
            "meanwhile",
        )
        seen += [row.session_id for row in rows]
    assert seen == ["p6", "p5", "p4", "p3", "p2", "p1"]


@pytest.mark.parametrize(("stored", "statements_run"), [(0, 1), (5, 2), (6, 3), (7, 3)])
def test_one_statement_per_batch(
    stored: int, statements_run: int, load: Loader, engine: Engine, statements: StatementCounter
) -> None:
    load([rf.notification_plan(session_id=f"p{i}") for i in range(stored)])
    with read_connection(engine) as conn:
        statements.reset()
        assert len(list(stream_history(conn, HistoryFilter(), batch_size=3))) == stored
    assert statements.count == statements_run


def test_an_empty_export_verifies(
    load: Loader, database_url: str, tmp_path: Path, cli: Any
) -> None:
    load(fc.worked_example())
    for name in ("none.ndjson", "none.csv"):
        output = export_files(cli, database_url, tmp_path, "--audit-id", "nothing", name=name)
        document = manifest_of(output)
        assert (document["record_count"], document["time_range"]) == (0, None)
        assert document["filters"] == {"audit_id": "nothing"}
        assert cli("verify-export", output)[0] == 0
    assert (tmp_path / "none.ndjson").read_bytes() == b""
    assert (tmp_path / "none.csv").read_bytes() == ",".join(CSV_COLUMNS).encode() + b"\r\n"


def test_filters_are_recorded_normalised(
    load: Loader, database_url: str, tmp_path: Path, cli: Any
) -> None:
    load(fc.extended_history())
    output = export_files(
        cli,
        database_url,
        tmp_path,
        "--provider-category", "SIEM",
        "--delivery-success", "No",
        "--acknowledgement-state", "",
        "--created-after", "2026-11-01T14:00:00+05:00",
    )  # fmt: skip
    assert manifest_of(output)["filters"] == {
        "provider_category": "siem",
        "delivery_success": False,
        "created_after": "2026-11-01T09:00:00.000000Z",
    }


# ---- CSV ------------------------------------------------------------------------------------

HOSTILE = {
    "session_id": '=HYPERLINK("http://evil.example")',
    "schedule_id": "+cmd|' /C calc'!A0",
    "plan_id": "-2+3",
}


def test_csv_round_trips_and_guards_formulas(
    load: Loader, engine: Engine, database_url: str, tmp_path: Path, cli: Any
) -> None:
    records = [
        *fc.extended_history(),
        rf.notification_plan(**HOSTILE, created_at="2026-11-02T00:00:00Z", alert_level="@x"),
        rf.acknowledgement(session_id="'quoted", provider='slack\n,"teams"'),
    ]
    load(records)
    output = export_files(cli, database_url, tmp_path, name="e.csv")
    raw = output.read_bytes()
    assert raw.endswith(b"\r\n")
    rows = list(csv.reader(io.StringIO(raw.decode("utf-8"), newline=""), strict=True))
    assert tuple(rows[0]) == CSV_COLUMNS
    cells = [dict(zip(CSV_COLUMNS, row, strict=True)) for row in rows[1:]]
    expected = walk(engine, HistoryFilter())
    assert [unguard_cell(c["record"]) for c in cells] == [text for _, text in expected]
    assert [unguard_cell(c["session_id"]) for c in cells] == [sid for sid, _ in expected]
    # A spreadsheet would run these as formulas: each starts with an apostrophe, which one
    # dropped apostrophe undoes (also for a value that starts with one itself).
    hostile = next(c for c in cells if c["session_id"].startswith("'="))
    assert hostile["session_id"] == "'" + HOSTILE["session_id"]
    assert hostile["schedule_id"] == "'" + HOSTILE["schedule_id"]
    assert hostile["alert_level"] == hostile["status"] == "'@x"
    assert any(c["session_id"] == "''quoted" for c in cells)
    ack = next(c for c in cells if c["session_id"] == "''quoted")
    assert unguard_cell(ack["provider"]) == 'slack\n,"teams"'
    assert json.loads(ack["providers"]) == ['slack\n,"teams"']
    delivery = next(c for c in cells if c["session_id"] == "rcd-w")
    assert (delivery["delivery_success"], delivery["status"]) == ("false", "delivery_failed")
    assert delivery["created_at"] == "2026-11-01T13:00:00.000000Z"
    assert manifest_of(output)["columns"] == list(CSV_COLUMNS)
    assert cli("verify-export", output)[0] == 0


# ---- tampering ------------------------------------------------------------------------------


@pytest.fixture
def exported(history: list[dict[str, Any]], database_url: str, tmp_path: Path, cli: Any) -> Path:
    return export_files(cli, database_url, tmp_path)


def _invalid(cli: Any, *args: str | Path) -> list[str]:
    code, out, _ = cli("verify-export", *args)
    assert code == 1, out
    assert out.startswith("INVALID: ")
    return [line.removeprefix("  - ") for line in out.splitlines()[1:]]


def test_one_changed_byte_is_caught(exported: Path, cli: Any) -> None:
    document = manifest_of(exported)
    raw = bytearray(exported.read_bytes())
    at = raw.index(b'"delivery_success":false')
    raw[at + len('"delivery_success":')] = ord("F")  # still the same size
    exported.write_bytes(bytes(raw))
    problems = _invalid(cli, exported)
    sha = problems[0]
    assert sha.startswith(f"sha256 differs: manifest {document['sha256']}, file ")
    assert not sha.endswith(document["sha256"])
    assert not any(p.startswith("byte size") for p in problems)  # the same size
    assert any(p.startswith("line ") and "not a JSON record" in p for p in problems)


def test_a_changed_value_that_stays_json_is_caught(exported: Path, cli: Any) -> None:
    text = exported.read_text("utf-8").replace(
        '"delivery_success":false', '"delivery_success":true', 1
    )
    exported.write_text(text, "utf-8")
    assert [p.split(":")[0] for p in _invalid(cli, exported)] == [
        "byte size differs",
        "sha256 differs",
    ]


def test_a_removed_line_is_caught(exported: Path, cli: Any) -> None:
    lines = exported.read_bytes().splitlines(keepends=True)
    exported.write_bytes(b"".join(lines[:10] + lines[11:]))
    problems = _invalid(cli, exported)
    n = len(lines)
    assert f"record count differs: manifest {n}, file {n - 1}" in problems
    assert any(p.startswith("byte size differs") for p in problems)
    assert any(p.startswith("sha256 differs") for p in problems)


def test_a_tampered_csv_is_caught(
    history: list[dict[str, Any]], database_url: str, tmp_path: Path, cli: Any
) -> None:
    output = export_files(cli, database_url, tmp_path, name="e.csv")
    rows = output.read_bytes().split(b"\r\n")
    n = manifest_of(output)["record_count"]
    output.write_bytes(b"\r\n".join(rows[:3] + rows[4:]))
    problems = _invalid(cli, output)
    assert f"record count differs: manifest {n}, file {n - 1}" in problems
    output.write_bytes(b"\r\n".join(rows[:3] + [rows[3][:-1]] + rows[4:]))  # a quote dropped
    problems = _invalid(cli, output)
    assert any(p.startswith("not a readable CSV file: ") for p in problems), problems
    assert problems[0].startswith("byte size differs: ")


def test_an_edited_manifest_count_is_caught(exported: Path, cli: Any) -> None:
    path = Path(f"{exported}.manifest.json")
    document = manifest_of(exported)
    n = document["record_count"]
    path.write_text(json.dumps({**document, "record_count": n + 1}), "utf-8")
    assert _invalid(cli, exported) == [f"record count differs: manifest {n + 1}, file {n}"]


def test_an_edited_time_range_is_caught(exported: Path, cli: Any) -> None:
    path = Path(f"{exported}.manifest.json")
    document = manifest_of(exported)
    edited = {**document["time_range"], "newest": "2030-01-01T00:00:00.000000Z"}
    path.write_text(json.dumps({**document, "time_range": edited}), "utf-8")
    [problem] = _invalid(cli, exported)
    assert problem.startswith('time range differs: manifest {"oldest"')
    assert "2030-01-01" in problem


def test_manifest_and_usage_errors(exported: Path, tmp_path: Path, cli: Any) -> None:
    path = Path(f"{exported}.manifest.json")
    path.write_text("{not json", "utf-8")
    code, out, _ = cli("verify-export", exported)
    assert code == 1 and out.startswith(f"INVALID: {path}: not a JSON manifest")
    code, _, err = cli("verify-export", tmp_path / "missing.ndjson")
    assert code == 2 and "missing.ndjson: no such file" in err


# ---- signatures -----------------------------------------------------------------------------


@pytest.fixture
def keys(tmp_path: Path, cli: Any) -> dict[str, Path]:
    made = {}
    for name in ("right", "wrong"):
        made[name] = tmp_path / f"{name}.pem"
        made[f"{name}.pub"] = tmp_path / f"{name}.pub.pem"
        code, out, _ = cli("export-key", "--private", made[name], "--public", made[f"{name}.pub"])
        assert code == 0 and "key id sha256:" in out
    assert made["right"].stat().st_mode & 0o777 == 0o600
    return made


@pytest.fixture
def signed(
    history: list[dict[str, Any]],
    database_url: str,
    tmp_path: Path,
    cli: Any,
    keys: dict[str, Path],
) -> Path:
    return export_files(cli, database_url, tmp_path, "--signing-key", str(keys["right"]))


def test_a_signed_manifest_verifies_with_its_public_key_only(
    signed: Path, keys: dict[str, Path], cli: Any
) -> None:
    signature = manifest_of(signed)["signature"]
    assert signature["algorithm"] == "ed25519" and signature["key_id"].startswith("sha256:")
    code, out, _ = cli("verify-export", signed, "--public-key", keys["right.pub"])
    assert code == 0 and f"signature valid (key {signature['key_id']})" in out
    [problem] = _invalid(cli, signed, "--public-key", keys["wrong.pub"])
    assert problem.startswith(f"the manifest was signed with key {signature['key_id']}, the public")


def test_a_signed_manifest_without_a_public_key_does_not_pass_silently(
    signed: Path, cli: Any
) -> None:
    code, out, err = cli("verify-export", signed)
    assert code == SIGNATURE_UNCHECKED == 3
    assert out.startswith("CONTENT OK, SIGNATURE NOT CHECKED: ")
    assert "signature was NOT checked" in err


def test_an_edited_signed_manifest_is_caught(signed: Path, keys: dict[str, Path], cli: Any) -> None:
    """The realistic forgery: records removed and the manifest's figures made to match."""
    lines = signed.read_bytes().splitlines(keepends=True)[1:]
    signed.write_bytes(b"".join(lines))
    path = Path(f"{signed}.manifest.json")
    import hashlib

    document = manifest_of(signed) | {
        "record_count": len(lines),
        "byte_size": sum(map(len, lines)),
        "sha256": hashlib.sha256(b"".join(lines)).hexdigest(),
    }
    newest = json.loads(lines[0])["created_at"]
    document["time_range"] = {**document["time_range"], "newest": _utc(newest) + ".000000Z"}
    path.write_text(json.dumps(document), "utf-8")
    assert cli("verify-export", signed)[0] == SIGNATURE_UNCHECKED  # the content agrees...
    problems = _invalid(cli, signed, "--public-key", keys["right.pub"])
    assert problems == ["the signature does not match the manifest (it was edited after signing)"]


def test_an_unsigned_manifest_fails_when_a_public_key_is_given(
    exported: Path, keys: dict[str, Path], cli: Any
) -> None:
    problems = _invalid(cli, exported, "--public-key", keys["right.pub"])
    assert problems == ["the manifest is not signed, but a public key was given"]


def test_bad_signing_keys_are_start_up_errors(tmp_path: Path, cli: Any, sqlite_url: str) -> None:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec

    ec_key = tmp_path / "ec.pem"
    ec_key.write_bytes(
        ec.generate_private_key(ec.SECP256R1()).private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    junk = tmp_path / "junk.pem"
    junk.write_text("not a key")
    for path, reason in (
        (ec_key, "an Ed25519 private key is needed, this is EC"),
        (junk, "not a PEM private key"),
        (tmp_path / "absent.pem", "cannot read the key file"),
    ):
        with pytest.raises(KeyFileError, match=f"^{path}: {reason}"):
            Settings.from_env({"CAVRA_GQL_EXPORT_SIGNING_KEY": str(path)})
        output = tmp_path / "out.ndjson"
        code, _, err = cli(
            "export", "--database", sqlite_url, "--output", output, "--signing-key", path
        )
        assert code == 2 and f"{path}: {reason}" in err
        assert not output.exists()


# ---- the command line -----------------------------------------------------------------------


def test_bad_filters_exit_2_naming_the_option_and_leave_no_file(
    load: Loader, database_url: str, tmp_path: Path, cli: Any
) -> None:
    load(fc.worked_example())
    folder = tmp_path / "out"
    folder.mkdir()
    for field, params in fc.BAD_PARAMS:
        if field in ("limit", "offset"):  # no such options: an export holds every match
            continue
        flags = [item for k, v in params.items() for item in (f"--{k.replace('_', '-')}", v)]
        output = folder / "x.ndjson"
        code, out, err = cli("export", "--database", database_url, "--output", output, *flags)
        option = "--" + field.replace("_", "-")
        assert (code, out) == (2, ""), err
        assert err.startswith(f"cavra-gql export: invalid option {option}: "), err
    assert list(folder.iterdir()) == []
    code, _, err = cli("export", "--database", database_url, "--output", folder / "no" / "x")
    assert code == 2 and "no such directory" in err


def test_every_spec_filter_has_an_option() -> None:
    assert tuple(FILTER_HELP) == FILTER_FIELDS
