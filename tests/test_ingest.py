"""Ingest: every CAVRA format, validation errors that say where, atomic files, idempotence."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, select

from cavra_gql.cli import main
from cavra_gql.errors import IngestError
from cavra_gql.ingest import ingest_file
from cavra_gql.queries.tables import other_records, records
from tests import filter_cases as fc
from tests import record_factory as rf


def _write_ndjson(path: Path, items: list[Any]) -> Path:
    path.write_text("\n".join(json.dumps(item) for item in items) + "\n", encoding="utf-8")
    return path


def _write_sqlite(path: Path, items: list[Any]) -> Path:
    connection = sqlite3.connect(path)
    connection.execute("CREATE TABLE evidence_metadata (session_id TEXT PRIMARY KEY, payload TEXT)")
    connection.executemany(
        "INSERT INTO evidence_metadata VALUES (?, ?)",
        [(item.get("session_id"), json.dumps(item)) for item in items],
    )
    connection.commit()
    connection.close()
    return path


def _stored_ids(engine: Engine) -> list[str]:
    """Every stored record: the history and the records kept outside it."""
    with engine.connect() as conn:
        return sorted(
            [*conn.execute(select(records.c.session_id)).scalars()]
            + [*conn.execute(select(other_records.c.session_id)).scalars()]
        )


def _count(engine: Engine) -> int:
    return len(_stored_ids(engine))


WRITERS = {
    "store": lambda p, items: p.write_text(json.dumps({"items": items}, indent=2)) and p,
    "store-one-line": lambda p, items: p.write_text(json.dumps({"items": items})) and p,
    "array": lambda p, items: p.write_text(json.dumps(items, indent=1)) and p,
    "ndjson": _write_ndjson,
    "sqlite": _write_sqlite,
}


@pytest.mark.parametrize("fmt", WRITERS)
def test_every_format_imports_the_same_records(fmt: str, tmp_path: Path, engine: Engine) -> None:
    items = fc.extended_history()
    path = WRITERS[fmt](tmp_path / f"input.{fmt}", items)
    summary = ingest_file(engine, Path(path))
    assert (summary.read, summary.counts.new) == (len(items), len(items))
    assert _stored_ids(engine) == sorted(item["session_id"] for item in items)


def test_reingest_is_idempotent_and_later_duplicates_win(tmp_path: Path, engine: Engine) -> None:
    plan = rf.notification_plan(session_id="gordn-1", alert_level="warning")
    newer = rf.notification_plan(session_id="gordn-1", alert_level="critical")
    path = _write_ndjson(tmp_path / "a.ndjson", [plan, newer])
    first = ingest_file(engine, path)
    second = ingest_file(engine, path)
    assert (first.counts.new, first.counts.updated) == (1, 0)
    assert (second.counts.new, second.counts.updated, second.counts.unchanged) == (0, 0, 1)
    with engine.connect() as conn:
        stored = json.loads(conn.execute(select(records.c.record_json)).scalar_one())
    assert stored["alert_level"] == "critical"
    assert list(stored) == list(newer)  # kept as received: same keys, same order


def test_upsert_across_files_replaces_derived_columns(tmp_path: Path, engine: Engine) -> None:
    old = rf.connector_delivery(
        session_id="rcd-1", providers=["splunk"], failed_providers=["splunk"]
    )
    new = rf.connector_delivery(session_id="rcd-1", providers=["jira"], failed_providers=[])
    ingest_file(engine, _write_ndjson(tmp_path / "1.ndjson", [old]))
    summary = ingest_file(engine, _write_ndjson(tmp_path / "2.ndjson", [new]))
    assert summary.counts.updated == 1
    from cavra_gql.queries.filters import HistoryFilter
    from cavra_gql.queries.history import count_matches

    with engine.connect() as conn:
        assert count_matches(conn, HistoryFilter.parse({"provider": "splunk"})) == 0
        assert count_matches(conn, HistoryFilter.parse({"provider": "jira"})) == 1
        assert count_matches(conn, HistoryFilter.parse({"delivery_success": "true"})) == 1


GOOD = {"session_id": "s-1", "metadata_kind": rf.KIND_PLAN, "created_at": "2026-11-01T10:00:00Z"}
BAD_RECORDS = [
    ({k: v for k, v in GOOD.items() if k != "session_id"}, "session_id", "missing"),
    (GOOD | {"session_id": ""}, "session_id", "non-empty string"),
    (GOOD | {"session_id": 7}, "session_id", "non-empty string"),
    ({k: v for k, v in GOOD.items() if k != "metadata_kind"}, "metadata_kind", "missing"),
    ({k: v for k, v in GOOD.items() if k != "created_at"}, "created_at", "missing"),
    (GOOD | {"created_at": "yesterday"}, "created_at", "ISO-8601"),
    (GOOD | {"created_at": "2026-11-01"}, "created_at", "ISO-8601"),
    (GOOD | {"created_at": 1700000000}, "created_at", "ISO-8601"),
    (["not", "an", "object"], None, "JSON object"),
    (GOOD | {"session_id": "x" * 1001}, "session_id", "at most 1000 characters"),
    (GOOD | {"metadata_kind": "kind\u0000"}, "metadata_kind", "without NUL"),
]


@pytest.mark.parametrize(("bad", "field", "reason"), BAD_RECORDS)
def test_an_invalid_record_names_file_line_field_and_imports_nothing(
    bad: Any, field: str | None, reason: str, tmp_path: Path, engine: Engine
) -> None:
    ingest_file(engine, _write_ndjson(tmp_path / "before.ndjson", [GOOD | {"session_id": "kept"}]))
    path = _write_ndjson(tmp_path / "bad.ndjson", [GOOD | {"session_id": "s-0"}, GOOD, bad])
    with pytest.raises(IngestError) as raised:
        ingest_file(engine, path)
    message = str(raised.value)
    assert f"{path}: line 3" in message
    if field:
        assert f"field {field}" in message
    assert reason in message
    assert _stored_ids(engine) == ["kept"]  # nothing of the bad file, nothing lost


def test_array_errors_name_the_zero_based_index(tmp_path: Path, engine: Engine) -> None:
    path = tmp_path / "items.json"
    path.write_text(json.dumps({"items": [GOOD, GOOD | {"created_at": "soon"}]}))
    with pytest.raises(IngestError, match=r"items.json: index 1: field created_at"):
        ingest_file(engine, path)


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (b'{"session_id": "a"', "not JSON: .*line 1 column 19"),
        (json.dumps(GOOD).encode() + b'\n{"broken": \n', "line 2: not JSON"),
        (json.dumps(GOOD).encode() + b"\n\xff\xfe\n", "line 2: not UTF-8"),
        (b'{"session_id": "a", "n": 1e999}\n', "number out of range"),
        (b'{"session_id": "a", "n": NaN}\n', "line 1: not JSON: unexpected character"),
        (b'{"session_id": "a", "n": 123456789012345678901234567890, "x": NaN}\n', "NaN is not"),
        (
            b'{"session_id": "a", "metadata_kind": "k", "created_at": "2026-11-01T00:00:00Z", "x": '
            + b"[" * 100_000
            + b"]" * 100_000
            + b"}",
            "line 1: nested too deeply",
        ),
        # Too deep for any parser (orjson 3.9 and later stop at 1,024 levels themselves), so
        # the document is refused before its items can be told apart.
        (b"[" * 100_000 + b"]" * 100_000, "document: nested too deeply .more than 500 levels"),
        (b'{"items": 5}', "without an `items` list"),
    ],
)
def test_malformed_files_are_refused_with_a_reason(
    content: bytes, expected: str, tmp_path: Path, engine: Engine
) -> None:
    path = tmp_path / "broken.json"
    path.write_bytes(content)
    with pytest.raises(IngestError, match=expected):
        ingest_file(engine, path)
    assert _count(engine) == 0


def _nested(depth: int) -> dict[str, Any]:
    """A valid record whose JSON nests `depth` levels deep (itself being the first)."""
    value: Any = []
    for _ in range(depth - 2):
        value = [value]
    return GOOD | {"x": value}


@pytest.mark.parametrize("layout", ["store", "array", "ndjson"])
def test_the_depth_limit_counts_levels_inside_a_record(
    layout: str, tmp_path: Path, engine: Engine
) -> None:
    """MAX_DEPTH levels are allowed in a record wherever it sits in a file; one more is
    refused for that record, named by its place."""
    from cavra_gql.jsontext import MAX_DEPTH

    def write(record: dict[str, Any]) -> Path:
        path = tmp_path / f"deep.{layout}"
        if layout == "store":
            path.write_text(json.dumps({"items": [record]}))
        elif layout == "array":
            path.write_text(json.dumps([record]))
        else:
            path.write_text(json.dumps(record) + "\n")
        return path

    ingest_file(engine, write(_nested(MAX_DEPTH)))
    assert _count(engine) == 1
    where = "line 1" if layout == "ndjson" else "index 0"
    with pytest.raises(IngestError, match=f"{where}: nested too deeply"):
        ingest_file(engine, write(_nested(MAX_DEPTH + 1) | {"session_id": "s-2"}))
    assert _count(engine) == 1


def test_partial_file_from_an_interrupted_writer(tmp_path: Path, engine: Engine) -> None:
    lines = [json.dumps(item) for item in fc.worked_example()]
    path = tmp_path / "partial.ndjson"
    path.write_text("\n".join(lines)[:-25])
    with pytest.raises(IngestError, match="line 4: not JSON"):
        ingest_file(engine, path)
    assert _count(engine) == 0


def test_every_problem_is_listed(tmp_path: Path, engine: Engine) -> None:
    path = _write_ndjson(tmp_path / "many.ndjson", [GOOD | {"created_at": "x"}] * 3)
    with pytest.raises(IngestError) as raised:
        ingest_file(engine, path)
    assert [f"line {n}" in str(raised.value) for n in (1, 2, 3)] == [True] * 3
    assert "3 invalid, nothing imported" in str(raised.value)


def test_blank_lines_and_bom_are_skipped(tmp_path: Path, engine: Engine) -> None:
    path = tmp_path / "blank.ndjson"
    path.write_bytes(b"\xef\xbb\xbf" + json.dumps(GOOD).encode() + b"\n\n   \n")
    assert ingest_file(engine, path).counts.new == 1


def test_sqlite_source_errors_name_the_row(tmp_path: Path, engine: Engine) -> None:
    path = _write_sqlite(tmp_path / "cavra.db", [GOOD, GOOD | {"session_id": "b", "created_at": 5}])
    with pytest.raises(IngestError, match=r"index 1 \(rowid 2\): field created_at"):
        ingest_file(engine, path)


def test_cli_ingest_summaries_and_exit_codes(
    tmp_path: Path, database_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    good = _write_ndjson(tmp_path / "good.ndjson", fc.worked_example())
    bad = _write_ndjson(tmp_path / "bad.ndjson", [GOOD | {"created_at": "nope"}])
    assert main(["ingest", str(good), "--database", database_url]) == 0
    assert f"{good}: 4 records read, 4 new, 0 updated, 0 unchanged" in capsys.readouterr().out
    assert main(["ingest", str(good), str(bad), "--database", database_url]) == 1
    captured = capsys.readouterr()
    assert f"{good}: 4 records read, 0 new, 0 updated, 4 unchanged" in captured.out
    assert f"{bad}: line 1: field created_at" in captured.err
    assert main(["ingest", str(tmp_path / "missing.json"), "--database", database_url]) == 1
    assert "no such file" in capsys.readouterr().err


def test_unindexable_values_are_stored_but_never_match(
    tmp_path: Path, engine: Engine, client
) -> None:
    odd = rf.notification_plan(
        session_id="gordn-odd", schedule_id="s" * 5000, selected_providers=["sla\u0000ck", "jira"]
    )
    ingest_file(engine, _write_ndjson(tmp_path / "odd.ndjson", [odd]))
    url = "/runtime/go-pilot/rollback-drill-notifications"
    assert client.get(url, params={"schedule_id": "s" * 5000}).json()["total"] == 0
    [item] = client.get(url, params={"provider": "jira"}).json()["items"]
    assert item == odd  # kept whole, as received


def test_progress_is_reported_on_long_files(
    tmp_path: Path, engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    import cavra_gql.ingest as ingest_module

    monkeypatch.setattr(ingest_module, "PROGRESS_EVERY_SECONDS", 0.0)
    reports: list[tuple[str, int]] = []
    path = _write_ndjson(tmp_path / "long.ndjson", fc.extended_history())
    ingest_file(engine, path, lambda origin, read: reports.append((origin, read)))
    assert reports and reports[-1][0] == str(path)
    assert [read for _, read in reports] == sorted(read for _, read in reports)


def test_worker_processes_import_the_same_and_refuse_the_same(
    tmp_path: Path, engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    import cavra_gql.ingest as ingest_module

    monkeypatch.setattr(ingest_module, "PARALLEL_FROM_BYTES", 0)
    monkeypatch.setattr(ingest_module, "BATCH", 3)  # several chunks in flight
    items = fc.extended_history() * 2  # every record twice: the later copy wins
    path = _write_ndjson(tmp_path / "big.ndjson", items)
    summary = ingest_file(engine, path)
    assert summary.read == len(items)
    assert _stored_ids(engine) == sorted({item["session_id"] for item in items})

    bad = _write_ndjson(tmp_path / "bad.ndjson", [*items[:7], GOOD | {"created_at": "?"}, GOOD])
    with pytest.raises(IngestError, match="line 8: field created_at"):
        ingest_file(engine, bad)


def _index_definitions(sqlite_url: str) -> list[tuple[str, str]]:
    connection = sqlite3.connect(sqlite_url.removeprefix("sqlite:///"))
    try:
        query = "SELECT name, sql FROM sqlite_master WHERE type = 'index' ORDER BY name"
        return [(name, sql) for name, sql in connection.execute(query)]
    finally:
        connection.close()


def test_a_bulk_import_builds_the_same_indexes_and_a_refused_one_keeps_them(
    tmp_path: Path, sqlite_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    import cavra_gql.ingest as ingest_module
    from cavra_gql.db import make_engine
    from cavra_gql.queries import bulk

    engine = make_engine(sqlite_url)
    before = _index_definitions(sqlite_url)
    assert any(name == "ix_evidence_records_history_order" for name, _ in before)
    dropped: list[bool] = []
    real = bulk.indexes_deferred

    def watched(conn: Any, defer: bool) -> Any:
        dropped.append(defer)
        return real(conn, defer)

    monkeypatch.setattr(bulk, "indexes_deferred", watched)
    monkeypatch.setattr(bulk, "BULK_FROM_RECORDS", 1)
    monkeypatch.setattr(ingest_module, "TYPICAL_RECORD_BYTES", 1)
    path = _write_ndjson(tmp_path / "first.ndjson", fc.extended_history())
    ingest_file(engine, path)
    assert dropped == [True], "an import into an empty store defers the indexes"
    assert _index_definitions(sqlite_url) == before
    stored = _stored_ids(engine)

    bad = _write_ndjson(tmp_path / "bad.ndjson", [*fc.extended_history(), {"session_id": "x"}])
    with pytest.raises(IngestError, match="field metadata_kind"):
        ingest_file(engine, bad)
    assert dropped == [True, True]
    assert _index_definitions(sqlite_url) == before, "the refused import rolled back"
    assert _stored_ids(engine) == stored

    monkeypatch.setattr(ingest_module, "TYPICAL_RECORD_BYTES", 1 << 30)
    ingest_file(engine, path)
    assert dropped == [True, True, False], "a small import next to the store keeps them"
    engine.dispose()


def test_derived_rows_name_every_stored_column() -> None:
    """derive() fills rows by position: its column lists must be the tables' columns."""
    from cavra_gql import derive
    from cavra_gql.queries.tables import providers, required_routes
    from cavra_gql.queries.upsert import RECORD_COLUMNS

    for names, table in (
        (RECORD_COLUMNS, records),  # derive's HISTORY_COLUMNS and the write's change batch
        (derive.OTHER_COLUMNS, other_records),
        (derive.PROVIDER_COLUMNS, providers),
        (derive.ROUTE_COLUMNS, required_routes),
    ):
        assert sorted(names) == sorted(table.columns.keys()), table.name
    row = derive.derive(rf.notification_plan(), 1, "{}").row
    assert len(row) == len(derive.HISTORY_COLUMNS)


def test_worker_processes_import_nothing_heavy() -> None:
    """Spawned ingest workers import the command's module and prepare.py again: neither may
    pull in SQLAlchemy or the GraphQL stack, or every worker costs ~55 MB more."""
    import subprocess
    import sys

    code = (
        "import sys, cavra_gql.cli, cavra_gql.prepare, cavra_gql.priority\n"
        "heavy = ('sqlalchemy', 'sqlmodel', 'strawberry', 'starlette', 'pydantic', 'alembic')\n"
        "print(sorted({m.split('.')[0] for m in sys.modules if m.startswith(heavy)}))"
    )
    found = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    assert found.strip() == "[]"


def test_imports_run_at_a_lower_priority_and_never_raise_it() -> None:
    import subprocess
    import sys

    code = (
        "import os\n"
        "from cavra_gql.priority import yield_cpu\n"
        "yield_cpu(7); yield_cpu(3)\n"
        "print(os.getpriority(os.PRIO_PROCESS, 0))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert int(out.stdout) == 7


def test_readers_keep_the_last_state_with_its_indexes_during_a_bulk_import(
    tmp_path: Path, sqlite_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Mid-import, with the indexes dropped inside the import's transaction, another
    connection still sees the store as it was, indexes included."""
    import cavra_gql.ingest as ingest_module
    from cavra_gql.db import make_engine
    from cavra_gql.queries import bulk

    monkeypatch.setattr(bulk, "BULK_FROM_RECORDS", 1)
    monkeypatch.setattr(ingest_module, "TYPICAL_RECORD_BYTES", 1)
    monkeypatch.setattr(ingest_module, "BATCH", 5)
    monkeypatch.setattr(ingest_module, "PROGRESS_EVERY_SECONDS", 0.0)
    engine = make_engine(sqlite_url)
    first = fc.extended_history()[:4]
    ingest_file(engine, _write_ndjson(tmp_path / "first.ndjson", first))
    indexes = _index_definitions(sqlite_url)
    more = [item | {"session_id": f"{item['session_id']}-more"} for item in fc.extended_history()]
    seen: list[tuple[int, int]] = []

    def look(origin: str, read: int) -> None:  # runs inside the import, between batches
        reader = sqlite3.connect(sqlite_url.removeprefix("sqlite:///"))
        try:
            (count,) = reader.execute("SELECT count(*) FROM evidence_records").fetchone()
            (named,) = reader.execute(
                "SELECT count(*) FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL"
            ).fetchone()
        finally:
            reader.close()
        seen.append((count, named))

    ingest_file(engine, _write_ndjson(tmp_path / "more.ndjson", more), look)
    stored_before = len([item for item in first if _in_history(item)])
    named_before = len([sql for _, sql in indexes if sql])
    assert seen and set(seen) == {(stored_before, named_before)}, seen
    assert _index_definitions(sqlite_url) == indexes
    engine.dispose()


def _in_history(item: dict[str, Any]) -> bool:
    from cavra_gql.kinds import in_history

    return in_history(item["metadata_kind"], item.get("connector_delivery_source"))


def test_lean_sorts_shrink_the_sqlite_cache_for_the_block_only(sqlite_url: str) -> None:
    """SQLite bounds each sort's memory by the page cache: the end of a large import runs
    with the small one, and the connection gets its usual cache back, even after an error."""
    from cavra_gql.db import CACHE_KIB, SORT_CACHE_KIB, lean_sorts, make_engine

    engine = make_engine(sqlite_url)
    with engine.connect() as conn:

        def cache() -> int:
            return int(conn.exec_driver_sql("PRAGMA cache_size").scalar_one())

        assert cache() == -CACHE_KIB
        with lean_sorts(conn):
            assert cache() == -SORT_CACHE_KIB
        assert cache() == -CACHE_KIB
        with pytest.raises(ZeroDivisionError), lean_sorts(conn):
            1 / 0  # noqa: B018
        assert cache() == -CACHE_KIB
    engine.dispose()
