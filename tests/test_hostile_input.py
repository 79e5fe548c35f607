"""Hostile input: every malformed file is refused with a clear reason; nothing stored is lost."""

from __future__ import annotations

import json
import re
import sqlite3
import subprocess
import sys
import tracemalloc
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from graphql import (
    GraphQLInterfaceType,
    GraphQLObjectType,
    GraphQLScalarType,
    get_named_type,
)
from sqlalchemy import select
from starlette.testclient import TestClient

from cavra_gql import jsontext, readers
from cavra_gql.app import create_app
from cavra_gql.cli import main
from cavra_gql.db import make_engine
from cavra_gql.queries.tables import other_records, records
from cavra_gql.schema import build_schema
from cavra_gql.settings import Limits, Settings
from tests import filter_cases as fc
from tests import record_factory as rf
from tests.graphql_ops import camel

REPO = Path(__file__).resolve().parents[1]
MIB = 1024 * 1024
HISTORY = "/runtime/go-pilot/rollback-drill-notifications"
KIND = rf.KIND_PLAN
HEAD = b'{"session_id": "h-1", "metadata_kind": "' + KIND.encode() + b'", '
HEAD += b'"created_at": "2026-11-01T10:00:00Z", "x": '
GOOD = {"session_id": "g-1", "metadata_kind": KIND, "created_at": "2026-11-01T10:00:00Z"}
GOOD_LINE = json.dumps(GOOD).encode()


def _line(value: bytes) -> bytes:
    """A record, valid but for the JSON text `value` of its field `x`."""
    return HEAD + value + b"}"


def _sqlite(path: Path, payloads: list[object]) -> None:
    connection = sqlite3.connect(path)
    connection.execute("CREATE TABLE evidence_metadata (session_id TEXT, payload)")
    connection.executemany(
        "INSERT INTO evidence_metadata VALUES ('s', ?)", [(p,) for p in payloads]
    )
    connection.commit()
    connection.close()


def _deep(opener: bytes, closer: bytes, depth: int = 100_000) -> bytes:
    return opener * depth + b"1" + closer * depth


# name -> (file content, or a writer of the file; the place named; the reason given)
Writer = Callable[[Path], None]
CASES: dict[str, tuple[bytes | Writer, str, str]] = {
    "ndjson-oversized-line": (
        lambda p: p.write_bytes(GOOD_LINE + b"\n" + _line(b'"' + b"a" * (64 * MIB) + b'"') + b"\n"),
        "line 2",
        f"{64 * MIB + len(HEAD) + 3} bytes: larger than 16 MiB, the most one record may take",
    ),
    "ndjson-oversized-last-line": (
        lambda p: p.write_bytes(GOOD_LINE + b"\n\n" + b"[" * (17 * MIB)),
        "line 3",
        "larger than 16 MiB",
    ),
    "array-oversized-record": (
        lambda p: p.write_bytes(
            b"[" + GOOD_LINE + b",\n" + _line(b'"' + b"a" * 17 * MIB + b'"') + b"]"
        ),
        "index 1",
        "bytes of JSON: larger than 16 MiB",
    ),
    "ndjson-invalid-utf8": (
        GOOD_LINE + b"\n" + _line(b'"caf\xe9"') + b"\n",
        "line 2",
        "not UTF-8 text",
    ),
    "array-invalid-utf8": (
        b"[\n" + GOOD_LINE + b",\n" + _line(b'"\xc3\x28"') + b"\n]",
        "document",
        f"not UTF-8 text at line 3 column {len(HEAD) + 2}",
    ),
    "ndjson-deep-arrays": (_line(_deep(b"[", b"]")), "line 1", "nested too deeply (more than 100"),
    "ndjson-deep-objects": (_line(_deep(b'{"a":', b"}")), "line 1", "nested too deeply"),
    "ndjson-deep-objects-long-digits": (
        _line(_deep(b'{"a":', b"}")[:-1] + b"9" * 30 + b"}"),
        "line 1",
        "nested too deeply",
    ),
    "ndjson-deep-arrays-long-digits": (
        _line(_deep(b"[", b"]").replace(b"1", b"9" * 30)),
        "line 1",
        "nested too deeply",
    ),
    "ndjson-101-levels": (_line(_deep(b"[", b"]", 100)), "line 1", "nested too deeply"),
    "array-deep-objects": (b"[" + _line(_deep(b'{"a":', b"}")) + b"]", "document", "too deeply"),
    # Records nested past the limit are named (test_ingest), but a document too deep for any
    # parser to read cannot be split into records first.
    "store-deep-arrays": (
        b'{"items": [' + _line(_deep(b"[", b"]")) + b"]}",
        "document",
        "nested too deeply (more than 500 levels)",
    ),
    "ndjson-5000-digit-integer": (
        GOOD_LINE + b"\n" + _line(b"9" * 5000) + b"\n",
        "line 2",
        f"an integer of 5000 digits at line 1 column {len(HEAD) + 1} (at most 4300 are read)",
    ),
    "array-5000-digit-integer": (
        b"[" + _line(b"-" + b"9" * 5000) + b"]",
        "document",
        "an integer of 5000 digits at line 1 column",
    ),
    "ndjson-float-overflow": (_line(b"1e999"), "line 1", "number out of range"),
    "ndjson-negative-float-overflow": (_line(b"-1.5e400"), "line 1", "number out of range"),
    "ndjson-exact-float-overflow": (
        _line(b"[1e999, " + b"1" * 30 + b"]"),
        "line 1",
        "out of range",
    ),
    "ndjson-nan": (_line(b"NaN"), "line 1", "NaN is not a JSON number"),
    "ndjson-infinity": (_line(b"Infinity"), "line 1", "Infinity is not a JSON number"),
    "array-minus-infinity": (b"[" + _line(b"-Infinity") + b"]", "document", "-Infinity is not"),
    "ndjson-nan-exact-path": (_line(b"[NaN, " + b"1" * 30 + b"]"), "line 1", "NaN is not valid"),
    "ndjson-huge-session-id": (
        json.dumps(GOOD | {"session_id": "s" * 10_000_000}).encode(),
        "line 1: field session_id",
        "must be at most 1000 characters",
    ),
    "binary-garbage": (bytes(range(256)) * 64, "document", "binary content, not UTF-8 JSON"),
    "utf16-json": (json.dumps([GOOD]).encode("utf-16"), "document", "binary content"),
    "store-non-object-item": (
        json.dumps({"items": [GOOD, 5]}).encode(),
        "index 1",
        "expected a JSON object, found int",
    ),
    "store-items-not-a-list": (b'{"items": {"a": 1}}', "document", "without an `items` list"),
    "json-scalar": (b"42", "line 1", "expected a JSON object, found int"),
    "truncated-array": (b"[" + GOOD_LINE + b", {", "document", "not JSON"),
    "sqlite-oversized-payload": (
        lambda p: _sqlite(p, [json.dumps(GOOD), "x" * (17 * MIB)]),
        "index 1 (rowid 2)",
        f"payload of {17 * MIB} bytes: larger than 16 MiB",
    ),
    "sqlite-invalid-utf8-payload": (
        lambda p: _sqlite(p, [json.dumps(GOOD).encode() + b"\xff"]),
        "index 0 (rowid 1)",
        "not UTF-8 text",
    ),
    "sqlite-integer-payload": (
        lambda p: _sqlite(p, [7]),
        "index 0 (rowid 1)",
        "payload is integer",
    ),
    "sqlite-deep-payload": (
        lambda p: _sqlite(p, [_line(_deep(b'{"a":', b"}")).decode()]),
        "index 0 (rowid 1)",
        "nested too deeply",
    ),
    "sqlite-no-table": (lambda p: _sqlite_without_table(p), "database", "no readable"),
}
for _field in ("session_id", "metadata_kind", "created_at"):
    for _wrong in (None, True, 12, 1.5, [], ["x"], {}, {"a": "b"}):
        CASES[f"{_field}-{json.dumps(_wrong)}"] = (
            json.dumps(GOOD | {_field: _wrong}).encode(),
            f"line 1: field {_field}",
            "must be",
        )


def _sqlite_without_table(path: Path) -> None:
    connection = sqlite3.connect(path)
    connection.execute("CREATE TABLE other (a)")
    connection.commit()
    connection.close()


def _write_case(name: str, directory: Path) -> Path:
    content = CASES[name][0]
    path = directory / name
    if callable(content):
        content(path)
    else:
        path.write_bytes(content)
    return path


def _snapshot(url: str) -> tuple[list[Any], list[Any], list[Any]]:
    """Every stored row and the history's whole answer."""
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            rows = [tuple(r) for r in conn.execute(select(records).order_by(records.c.session_id))]
            others = [
                tuple(r)
                for r in conn.execute(select(other_records).order_by(other_records.c.session_id))
            ]
        app = create_app(Settings(database_url=url), engine=engine)
        with TestClient(app) as client:
            answer = client.get(HISTORY, params={"limit": "500"}).json()["items"]
    finally:
        engine.dispose()
    return rows, others, answer


@pytest.fixture
def stored(database_url: str, tmp_path: Path) -> tuple[str, Any]:
    """A database holding a good file, and its snapshot."""
    good = tmp_path / "good.ndjson"
    good.write_text("\n".join(json.dumps(r) for r in fc.extended_history()) + "\n")
    assert main(["ingest", str(good), "--database", database_url]) == 0
    return database_url, _snapshot(database_url)


@pytest.mark.parametrize("name", CASES)
def test_hostile_file_is_refused_with_one_clear_line(
    name: str, stored: tuple[str, Any], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    url, before = stored
    capsys.readouterr()
    path = _write_case(name, tmp_path)
    assert main(["ingest", str(path), "--database", url]) == 1
    err = capsys.readouterr().err
    _, where, reason = CASES[name]
    first = err.splitlines()[0]
    assert first.startswith(f"{path}: {where}: "), err[:2000]
    assert reason in first, err[:2000]
    assert len(first) < 300  # one readable line, not the offending text
    assert f"{path}: " in err.splitlines()[-2] and "nothing imported" in err
    assert _snapshot(url) == before  # nothing of the file, nothing lost


def test_the_command_reports_every_hostile_file_without_a_traceback(
    stored: tuple[str, Any], tmp_path: Path
) -> None:
    url, before = stored
    names = [n for n in CASES if "oversized" not in n]  # those are checked one by one above
    paths = [_write_case(name, tmp_path) for name in names]
    good = tmp_path / "late.ndjson"
    good.write_text(json.dumps(GOOD | {"session_id": "late"}) + "\n")
    done = subprocess.run(
        [sys.executable, "-m", "cavra_gql.cli", "ingest", *map(str, paths), str(good)]
        + ["--database", url],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 1
    assert "Traceback" not in done.stderr, done.stderr[-3000:]
    assert f"{len(paths)} of {len(paths) + 1} files not imported" in done.stderr
    for name, path in zip(names, paths, strict=True):
        assert re.search(
            rf"^{re.escape(str(path))}: {re.escape(CASES[name][1])}: ", done.stderr, re.M
        )
    assert f"{good}: 1 records read, 1 new" in done.stdout  # later files still import
    rows, others, answer = _snapshot(url)
    assert [r for r in rows if r[0] != "late"] == before[0] and others == before[1]


@pytest.mark.parametrize("content", [b"", b"\xef\xbb\xbf\n  \n\t\r\n"])
def test_an_empty_file_imports_nothing_and_loses_nothing(
    content: bytes, tmp_path: Path, database_url: str
) -> None:
    """SPEC §5 skips blank lines: a file of none is an NDJSON file of zero records."""
    good = tmp_path / "good.ndjson"
    good.write_bytes(GOOD_LINE + b"\n")
    assert main(["ingest", str(good), "--database", database_url]) == 0
    before = _snapshot(database_url)
    empty = tmp_path / "empty.ndjson"
    empty.write_bytes(content)
    assert main(["ingest", str(empty), "--database", database_url]) == 0
    assert _snapshot(database_url) == before


def test_a_long_line_is_never_held_whole(tmp_path: Path) -> None:
    path = tmp_path / "long.ndjson"
    path.write_bytes(GOOD_LINE + b"\n" + b"[" * (64 * MIB) + b"\n" + GOOD_LINE + b"\n")
    tracemalloc.start()
    try:
        items = list(readers.read(path))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert [(where, reason is None) for where, _, _, reason in items] == [
        ("line 1", True),
        ("line 2", False),
        ("line 3", True),
    ]
    assert peak < 1.5 * readers.MAX_RECORD_BYTES  # the limit, a read chunk, some slack


def test_a_record_of_just_under_the_limit_is_stored(tmp_path: Path, sqlite_url: str) -> None:
    path = tmp_path / "big.ndjson"
    line = json.dumps(GOOD | {"notes": "n" * (readers.MAX_RECORD_BYTES - 200)}).encode()
    path.write_bytes(line + b"\n")
    assert main(["ingest", str(path), "--database", sqlite_url]) == 0


def test_huge_strings_are_stored_and_served_whole(
    tmp_path: Path, database_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    plan = rf.notification_plan(session_id="gordn-huge", notes="n" * 10_000_000)
    plan["plan"]["reason"] = "r\u00e9" * 200_000
    path = tmp_path / "huge.ndjson"
    path.write_text(json.dumps(plan) + "\n")
    assert main(["ingest", str(path), "--database", database_url]) == 0
    engine = make_engine(database_url)
    try:
        with TestClient(create_app(Settings(database_url=database_url), engine=engine)) as client:
            [item] = client.get(HISTORY).json()["items"]
    finally:
        engine.dispose()
    assert item == plan


def test_the_stdlib_fallback_never_recurses_out(tmp_path: Path) -> None:
    for text in (
        b"[" * 100_000 + b"1" * 30 + b"]" * 100_000,
        b'{"a":' * 100_000 + b"1" * 30 + b"}" * 100_000,
        b'[{"a":' * 600 + b"1" * 30 + b"}]" * 600,
    ):
        with pytest.raises(ValueError, match="nested too deeply"):
            jsontext.loads(text)
    assert jsontext.loads(b"[" * 100 + b"1" * 30 + b"]" * 100)  # the limit itself is fine


# Wrong types in every field of every kind -------------------------------------------------


def _wrong(value: Any) -> Any:
    """A value of another JSON type than `value`."""
    if isinstance(value, bool):
        return "yes"
    if isinstance(value, str):
        return 12345
    if isinstance(value, int | float):
        return "many"
    if isinstance(value, list):
        return {"not": "a list"}
    if isinstance(value, dict):
        return ["not", "an", "object"]
    return {"was": "null"}


REQUIRED = {"session_id", "metadata_kind", "created_at"}
SAMPLES = {
    "NotificationPlan": rf.notification_plan(),
    "NotificationAcknowledgement": rf.acknowledgement(),
    "EscalationPlan": rf.escalation_plan(),
    "AcknowledgementAuditPackage": rf.audit_package(),
    "AcknowledgementAuditDeliveryPlan": rf.audit_delivery_plan(),
    "ConnectorDelivery": rf.connector_delivery(),
    "ConnectorDelivery-notification": rf.connector_delivery(source=rf.SOURCE_NOTIFICATION),
}


def _variants() -> list[tuple[str, str, str | None, dict[str, Any]]]:
    """(type, top-level key, nested key, record) with one field of the wrong type."""
    found = []
    for type_name, sample in SAMPLES.items():
        for key, value in sample.items():
            if key in REQUIRED:
                continue
            sid = f"{sample['session_id']}-{type_name}-{key}"
            found.append((type_name, key, None, sample | {"session_id": sid, key: _wrong(value)}))
            if isinstance(value, list) and value:
                items = sample | {"session_id": sid + "-items", key: [7, None, True, [], {}]}
                found.append((type_name, key, "[]", items))
            if isinstance(value, dict):
                for inner, inner_value in value.items():
                    nested = value | {inner: _wrong(inner_value)}
                    found.append(
                        (
                            type_name,
                            key,
                            inner,
                            sample | {"session_id": f"{sid}.{inner}", key: nested},
                        )
                    )
    return found


def _selection(type_: Any, depth: int = 0) -> str:
    parts = []
    for name, field in type_.fields.items():
        if any(arg.type.__class__.__name__ == "GraphQLNonNull" for arg in field.args.values()):
            continue
        named = get_named_type(field.type)
        if isinstance(named, GraphQLObjectType | GraphQLInterfaceType):
            if depth < 4:
                parts.append(f"{name} {{ __typename {_selection(named, depth + 1)} }}")
        else:
            parts.append(name)
    return " ".join(parts)


def test_wrong_types_in_every_field_are_stored_and_read_as_null(
    tmp_path: Path, database_url: str
) -> None:
    variants = _variants()
    assert len(variants) > 150
    path = tmp_path / "wrong.ndjson"
    path.write_text("".join(json.dumps(record) + "\n" for *_, record in variants))
    assert main(["ingest", str(path), "--database", database_url]) == 0
    schema = build_schema()._schema
    types = [t for t in schema.type_map.values() if t.name in SAMPLES]
    fragments = " ".join(f"... on {t.name} {{ {_selection(t)} }}" for t in types)
    query = f"""query($after: String) {{
      rollbackDrillNotifications(limit: 500, after: $after) {{
        pageInfo {{ hasNextPage endCursor }} items {{ __typename id {fragments} }} }}
      rollbackDrillNotificationDashboard {{ planCount outstandingAcknowledgementCount
        providerHealth {{ provider attempts }} latest {{ id }} }}
    }}"""
    engine = make_engine(database_url)
    answers: dict[str, dict[str, Any]] = {}
    try:
        # One query asks for every field of every kind: more tokens than a client needs.
        settings = Settings(database_url=database_url, limits=Limits(max_tokens=100_000))
        with TestClient(create_app(settings, engine=engine)) as client:
            after = None
            while True:
                response = client.post(
                    "/graphql", json={"query": query, "variables": {"after": after}}
                )
                body = response.json()
                assert response.status_code == 200 and "errors" not in body, str(body)[:2000]
                page = body["data"]["rollbackDrillNotifications"]
                answers.update((item["id"], item) for item in page["items"])
                if not page["pageInfo"]["hasNextPage"]:
                    break
                after = page["pageInfo"]["endCursor"]
            rest = client.get(HISTORY, params={"limit": "500"})
            assert rest.status_code == 200
    finally:
        engine.dispose()
    # A connector delivery whose source is not a string is stored outside the history.
    outside = {
        r["session_id"] for _, key, inner, r in variants if key == "connector_delivery_source"
    }
    assert set(answers) == {record["session_id"] for *_, record in variants} - outside
    checked = 0
    for type_name, key, inner, record in variants:
        if record["session_id"] in outside:
            continue
        item = answers[record["session_id"]]
        gql_type = schema.type_map[type_name.split("-")[0]]
        field = gql_type.fields.get(camel(key))
        if field is None or camel(key) in {"status", "providers", "record"}:
            continue
        named = get_named_type(field.type)
        value = item[camel(key)]
        if inner is None:
            json_scalar = isinstance(named, GraphQLScalarType) and named.name == "JSON"
            assert value == (record[key] if json_scalar else None), (type_name, key, value)
        elif inner == "[]":
            # Items that fit the item type are kept, the others dropped or read as null.
            assert isinstance(value, list) and len(value) <= 5, (type_name, key, value)
            assert all(v is None or v in record[key] for v in value), (type_name, key, value)
        else:
            if not isinstance(named, GraphQLObjectType):
                continue
            inner_field = named.fields.get(camel(inner))
            if inner_field is None:
                continue
            inner_named = get_named_type(inner_field.type)
            expected = None
            if isinstance(inner_named, GraphQLScalarType) and inner_named.name == "JSON":
                expected = record[key][inner]
            assert value[camel(inner)] == expected, (type_name, key, inner, value)
        checked += 1
    assert checked > 100
