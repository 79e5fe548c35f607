"""`cavra-gql sync`: each pass reads only what changed in a store CAVRA keeps writing, stores
it as ingest does, reports deletions, retries half-written files, and survives restarts."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import IO, Any

import pytest
from sqlalchemy import Engine, select

from cavra_gql.cli import main
from cavra_gql.db import make_engine
from cavra_gql.errors import IngestError
from cavra_gql.fingerprints import RACY_NS, Incomplete, Locked
from cavra_gql.queries import sync_state
from cavra_gql.queries.sync_state import SourceState
from cavra_gql.queries.tables import other_records, records, sync_records
from cavra_gql.redaction import REDACTED
from cavra_gql.sync import Follower, PassReport
from tests import cavra_writer as cavra
from tests.cavra_writer import record

WORKTREE = Path(__file__).resolve().parent.parent
LAYOUTS = ["store", "ndjson", "sqlite"]


def write(path: Path, layout: str, items: list[dict[str, Any]]) -> Path:
    """The file as CAVRA leaves it holding `items` (NDJSON: appended to)."""
    if layout == "store":
        cavra.write_store(path, items)
    elif layout == "sqlite":
        cavra.sqlite_upsert(path, items)
    else:
        cavra.append_ndjson(path, items)
    return path


def age(path: Path) -> None:
    """Make the file look written a while ago: a look at it now is trusted to skip later
    passes while it stays the same (one written just now is checked again)."""
    past = time.time_ns() - 10 * RACY_NS
    os.utime(path, ns=(past, past))


def stored(engine: Engine) -> dict[str, dict[str, Any]]:
    """Every stored record (history and others) by session_id."""
    with engine.connect() as conn:
        rows = [*conn.execute(select(records.c.session_id, records.c.record_json))]
        rows += [*conn.execute(select(other_records.c.session_id, other_records.c.record_json))]
    return {sid: json.loads(text) for sid, text in rows}


def state(engine: Engine, path: Path) -> SourceState:
    with engine.connect() as conn:
        return sync_state.load(conn, str(path))


def synced_ids(engine: Engine, path: Path) -> set[str]:
    with engine.connect() as conn:
        query = select(sync_records.c.session_id).where(sync_records.c.source == str(path))
        return set(conn.execute(query).scalars())


def run(engine: Engine, path: Path) -> PassReport | None:
    """One pass of a sync started afresh (as a new process would)."""
    return Follower(engine, path).run()


def figures(report: PassReport | None) -> tuple[int, int, int, int, int, int]:
    assert report is not None
    c = report.counts
    return (report.read, report.skipped, c.new, c.updated, c.unchanged, len(report.deleted))


@pytest.mark.parametrize("layout", LAYOUTS)
def test_first_pass_imports_all_then_an_unchanged_file_is_not_read(
    layout: str, tmp_path: Path, engine: Engine
) -> None:
    items = [record(n) for n in range(20)]
    path = write(tmp_path / f"cavra.{layout}", layout, items)
    age(path)
    follower = Follower(engine, path)
    assert figures(follower.run()) == (20, 0, 20, 0, 0, 0)
    assert stored(engine) == {item["session_id"]: item for item in items}
    after_first = state(engine, path)
    assert (after_first.passes, after_first.records_read, after_first.format) == (1, 20, layout)

    assert follower.run() is None
    assert run(engine, path) is None  # a restart: a new engine, the state from the database
    other = make_engine(engine.url.render_as_string(hide_password=False))
    try:
        assert Follower(other, path).run() is None
    finally:
        other.dispose()
    assert state(engine, path) == after_first  # no pass read anything


def test_passes_over_an_unchanged_file_note_the_time_at_most_once_a_heartbeat(
    tmp_path: Path, engine: Engine
) -> None:
    """A follower of a quiet store shows it is alive (last_pass_us, which the sync metrics
    and alerts read), without a write every pass."""
    path = write(tmp_path / "store.json", "store", [record(1)])
    age(path)
    follower = Follower(engine, path, heartbeat_seconds=3600)
    follower.run()
    first = state(engine, path)
    assert first.last_pass_us is not None
    assert follower.run() is None
    assert state(engine, path) == first  # within the heartbeat: nothing written
    follower.heartbeat_seconds = 0
    assert follower.run() is None
    noted = state(engine, path)
    assert noted.last_pass_us is not None and noted.last_pass_us > first.last_pass_us
    assert noted == first.but(last_pass_us=noted.last_pass_us)  # no pass counted

    write(path, "store", [record(1) | {"created_at": "soon"}])
    age(path)
    with pytest.raises(IngestError):
        follower.run()
    assert follower.run() is None  # the failed file, unchanged: no heartbeat over the error
    failed = state(engine, path)
    assert failed.last_error_us is not None and failed.last_pass_us == noted.last_pass_us
    assert failed.last_error_us > failed.last_pass_us


@pytest.mark.parametrize("layout", LAYOUTS)
def test_a_file_written_just_now_is_checked_again_but_nothing_is_stored_twice(
    layout: str, tmp_path: Path, engine: Engine
) -> None:
    """A look at a file modified within RACY_NS is not trusted: the next pass checks its
    content (a rewrite within the same timestamp tick would otherwise go unseen)."""
    path = write(tmp_path / f"cavra.{layout}", layout, [record(n) for n in range(5)])
    follower = Follower(engine, path)
    follower.run()
    again = follower.run()
    assert again is None or figures(again)[2:] == (0, 0, 0, 0)
    if layout == "sqlite":  # without WAL, the header's change counter moves with every commit
        assert again is None
        cavra.sqlite_upsert(path, [record(1, version=1)])
        assert figures(follower.run()) == (5, 4, 0, 1, 0, 0)
    assert state(engine, path).imported_new == 5


def test_a_rewrite_keeping_size_and_time_is_seen_while_the_file_is_recent(
    tmp_path: Path, engine: Engine
) -> None:
    path = write(tmp_path / "store.json", "store", [record(1, version=1)])
    before = path.stat()
    follower = Follower(engine, path)
    follower.run()
    write(path, "store", [record(1, version=2)])  # same size; the same tick, as on a coarse clock
    os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns))
    assert path.stat().st_size == before.st_size
    assert figures(follower.run()) == (1, 0, 0, 1, 0, 0)
    assert stored(engine)["s-00001"]["status"] == "version-2"


def test_appended_ndjson_lines_are_read_alone(tmp_path: Path, engine: Engine) -> None:
    path = write(tmp_path / "log.ndjson", "ndjson", [record(n) for n in range(50)])
    run(engine, path)
    write(path, "ndjson", [record(n) for n in range(50, 53)] + [record(7, version=1)])
    assert figures(run(engine, path)) == (4, 0, 3, 1, 0, 0)
    assert state(engine, path).records_read == 54
    assert stored(engine)["s-00007"]["status"] == "version-1"
    assert len(stored(engine)) == 53


def test_a_partial_last_ndjson_line_is_left_for_the_next_pass(
    tmp_path: Path, engine: Engine
) -> None:
    path = write(tmp_path / "log.ndjson", "ndjson", [record(1)])
    line = json.dumps(record(2)) + "\n"
    with path.open("a") as handle:
        handle.write(line[:20])
    report = run(engine, path)
    assert report is not None and report.partial and figures(report) == (1, 0, 1, 0, 0, 0)
    assert "a partial last line is left for the next pass" in report.line()
    with path.open("a") as handle:
        handle.write(line[20:])
    assert figures(run(engine, path)) == (1, 0, 1, 0, 0, 0)
    assert set(stored(engine)) == {"s-00001", "s-00002"}
    assert state(engine, path).lines == 2


def test_a_later_line_for_the_same_record_wins(tmp_path: Path, engine: Engine) -> None:
    path = write(tmp_path / "log.ndjson", "ndjson", [record(1, version=1)])
    run(engine, path)
    write(path, "ndjson", [record(1, version=2), record(1, version=1)])
    run(engine, path)
    assert stored(engine)["s-00001"]["status"] == "version-1"


def test_a_rotated_or_rewritten_ndjson_log_is_read_again_whole(
    tmp_path: Path, engine: Engine
) -> None:
    path = write(tmp_path / "log.ndjson", "ndjson", [record(n) for n in range(10)])
    run(engine, path)
    path.unlink()  # rotated: a new file where the old one was
    write(path, "ndjson", [record(n) for n in range(5, 12)])
    report = run(engine, path)
    assert figures(report) == (7, 5, 2, 0, 0, 5)
    assert report is not None and report.deleted == [f"s-{n:05d}" for n in range(5)]
    # rewritten in place, longer than before: the bytes before the resume point differ
    path.write_text("".join(json.dumps(record(n, version=3)) + "\n" for n in range(5, 14)))
    assert figures(run(engine, path)) == (9, 0, 2, 7, 0, 0)
    assert len(stored(engine)) == 14  # deleted in the source, kept here


def test_json_store_rewritten_with_a_change_an_addition_and_a_deletion(
    tmp_path: Path, engine: Engine, capsys: pytest.CaptureFixture[str]
) -> None:
    items = [record(n) for n in range(10)]
    path = write(tmp_path / "store.json", "store", items)
    url = engine.url.render_as_string(hide_password=False)
    assert main(["sync", "--from", str(path), "--database", url]) == 0
    capsys.readouterr()
    items = [record(n) for n in range(1, 10) if n != 4] + [record(4, version=1), record(10)]
    write(path, "store", items)
    assert main(["sync", "--from", str(path), "--database", url]) == 0
    out, err = capsys.readouterr()
    assert out == (
        f"{path}: 10 records read, 8 skipped as already synced, 1 new, 1 updated, 0 unchanged,"
        " 1 deleted in the source\n"
    )
    assert err == f"{path}: 1 records deleted in the source (kept here): s-00000\n"
    assert stored(engine)["s-00004"]["status"] == "version-1"
    assert "s-00000" in stored(engine)  # evidence stays
    assert synced_ids(engine, path) == {f"s-{n:05d}" for n in range(1, 11)}
    assert state(engine, path).deletions_seen == 1
    assert state(engine, path).records_read == 20


def test_a_deleted_record_that_reappears_is_read_again(tmp_path: Path, engine: Engine) -> None:
    path = write(tmp_path / "store.json", "store", [record(1), record(2)])
    run(engine, path)
    write(path, "store", [record(2)])
    assert figures(run(engine, path))[5] == 1
    write(path, "store", [record(1), record(2)])
    assert figures(run(engine, path)) == (2, 1, 0, 0, 1, 0)  # stored already as it was


def test_a_truncated_json_store_is_retried_not_misread(
    tmp_path: Path, engine: Engine, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write(tmp_path / "store.json", "store", [record(n) for n in range(6)])
    run(engine, path)
    before = state(engine, path)
    full = cavra.store_text([record(n) for n in range(1, 8)])
    for cut in (0, 1, len(full) // 2, len(full) - 3):
        path.write_text(full[:cut])
        with pytest.raises(Incomplete):
            run(engine, path)
        assert state(engine, path) == before and len(stored(engine)) == 6
    url = engine.url.render_as_string(hide_password=False)
    assert main(["sync", "--from", str(path), "--database", url]) == 1
    assert f"{path}: incomplete (not JSON: " in capsys.readouterr().err
    path.write_text(full)
    assert figures(run(engine, path)) == (7, 5, 2, 0, 0, 1)
    assert len(stored(engine)) == 8


@pytest.mark.parametrize("layout", LAYOUTS)
def test_an_invalid_record_fails_the_pass_and_changes_nothing(
    layout: str, tmp_path: Path, engine: Engine
) -> None:
    path = write(tmp_path / f"cavra.{layout}", layout, [record(1), record(2)])
    run(engine, path)
    before, before_ids = state(engine, path), synced_ids(engine, path)
    bad = record(3) | {"created_at": "soon"}
    if layout == "store":
        write(path, layout, [record(1, version=1), record(2), bad])
        where = "index 2"
    elif layout == "sqlite":
        write(path, layout, [record(1, version=1), bad])
        where = r"index 2 \(rowid 3\)"
    else:
        write(path, layout, [record(1, version=1), bad])
        where = "line 4"
    with pytest.raises(IngestError, match=f"{path}: {where}: field created_at"):
        run(engine, path)
    assert stored(engine)["s-00001"]["status"] == "version-0"  # nothing of the pass stored
    assert synced_ids(engine, path) == before_ids
    failed = state(engine, path)
    assert failed.last_error is not None and "field created_at" in failed.last_error
    assert failed.but(last_error=None, last_error_us=None) == before


def test_a_failed_pass_is_retried_when_the_file_changes(tmp_path: Path, engine: Engine) -> None:
    path = write(tmp_path / "store.json", "store", [record(1) | {"created_at": "soon"}])
    age(path)
    follower = Follower(engine, path)
    with pytest.raises(IngestError):
        follower.run()
    assert follower.run() is None  # the same bytes would fail the same way
    write(path, "store", [record(1)])
    assert figures(follower.run()) == (1, 0, 1, 0, 0, 0)
    assert state(engine, path).last_error is None


def test_sqlite_source_inserts_updates_and_deletes(tmp_path: Path, engine: Engine) -> None:
    path = write(tmp_path / "cavra.db", "sqlite", [record(n) for n in range(30)])
    run(engine, path)
    cavra.sqlite_upsert(path, [record(3, version=1), record(30), record(31)])
    cavra.sqlite_delete(path, "s-00010")
    report = run(engine, path)
    assert figures(report) == (31, 28, 2, 1, 0, 1)
    assert report is not None and report.deleted == ["s-00010"]
    assert stored(engine)["s-00003"]["status"] == "version-1"
    assert len(synced_ids(engine, path)) == 31


def test_sqlite_source_locked_by_its_writer_is_retried(tmp_path: Path, engine: Engine) -> None:
    path = write(tmp_path / "cavra.db", "sqlite", [record(1)])
    writer = sqlite3.connect(path, isolation_level=None)
    writer.execute("BEGIN EXCLUSIVE")
    writer.execute("DELETE FROM evidence_metadata")
    try:
        with pytest.raises(Locked):
            run(engine, path)
    finally:
        writer.execute("ROLLBACK")
        writer.close()
    assert figures(run(engine, path)) == (1, 0, 1, 0, 0, 0)


def test_redaction_applies_to_synced_records(tmp_path: Path, engine: Engine) -> None:
    headers = {"Authorization": "Bearer s3cr3t", "Content-Type": "application/json"}
    secret = record(1) | {"delivery": {"deliveries": [{"request": {"headers": headers}}]}}
    path = write(tmp_path / "log.ndjson", "ndjson", [secret])
    run(engine, path)
    kept = stored(engine)["s-00001"]["delivery"]["deliveries"][0]["request"]["headers"]
    assert kept == {"Authorization": REDACTED, "Content-Type": "application/json"}
    assert "s3cr3t" not in json.dumps(stored(engine))


def test_cli_exit_codes(tmp_path: Path, database_url: str) -> None:
    missing = tmp_path / "missing.json"
    assert main(["sync", "--from", str(missing), "--database", database_url]) == 1
    for interval in ("0", "-1", "nan", "soon"):
        with pytest.raises(SystemExit) as usage:
            main(["sync", "--from", str(missing), "--follow", "--interval", interval])
        assert usage.value.code == 2
    with pytest.raises(SystemExit) as usage:
        main(["sync", "--database", database_url])
    assert usage.value.code == 2


@pytest.mark.parametrize("name", ["damaged.sqlite3", "what?#.sqlite3"])
def test_a_damaged_sqlite_source_fails_the_pass_as_ingest_reports_it(
    tmp_path: Path, sqlite_url: str, name: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """A file that starts as SQLite but is not one is an invalid source, not a crash; and
    a path with URI characters is read as any other."""
    source = tmp_path / name
    source.write_bytes(b"SQLite format 3\x00" + b"\xff" * 4096)
    assert main(["sync", "--from", str(source), "--database", sqlite_url]) == 1
    problem = capsys.readouterr().err
    assert "no readable evidence_metadata(payload) table" in problem, problem
    assert main(["ingest", str(source), "--database", sqlite_url]) == 1
    assert "no readable evidence_metadata(payload) table" in capsys.readouterr().err


def _cli(*argv: str) -> list[str]:
    return [sys.executable, "-m", "cavra_gql.cli", *argv]


def _env() -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(WORKTREE), "PYTHONUNBUFFERED": "1"}


class Lines:
    """A process's output, read as it comes (so the pipe never fills)."""

    def __init__(self, stream: IO[str] | None) -> None:
        assert stream is not None
        self.lines: list[str] = []
        self.thread = threading.Thread(target=self._read, args=(stream,), daemon=True)
        self.thread.start()

    def _read(self, stream: IO[str]) -> None:
        with stream:
            for line in stream:
                self.lines.append(line)

    def text(self) -> str:
        """All of it, once the process has ended."""
        self.thread.join(timeout=10)
        return "".join(self.lines)

    def wait_for(self, found: Callable[[str], bool], after: int = 0, timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        while not any(found(line) for line in self.lines[after:]):
            assert time.monotonic() < deadline, f"not seen within {timeout} s: {self.lines}"
            time.sleep(0.02)


def test_follow_stops_cleanly_on_sigint(tmp_path: Path, database_url: str) -> None:
    path = write(tmp_path / "log.ndjson", "ndjson", [record(1)])
    argv = _cli("sync", "--from", str(path), "--follow", "--interval", "0.2")
    process = subprocess.Popen(
        [*argv, "--database", database_url],
        env=_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    out, err = Lines(process.stdout), Lines(process.stderr)
    out.wait_for(lambda line: "1 new" in line)
    process.send_signal(signal.SIGINT)
    assert process.wait(timeout=30) == 0
    out.text()
    assert "Traceback" not in err.text()


@pytest.mark.parametrize("layout", LAYOUTS)
def test_follow_keeps_up_with_a_live_writer(layout: str, tmp_path: Path, database_url: str) -> None:
    """The acceptance test: `sync --follow` while a writer process upserts, deletes and (the
    JSON store) leaves a half-written file for a while; afterwards the database holds the
    writer's records exactly, and SIGTERM ends sync with status 0."""
    path = tmp_path / f"cavra.{layout}"
    first = record(99_999)  # there before the writer starts (the writer numbers from 0)
    write(path, layout, [first] if layout != "store" else [])
    sync = subprocess.Popen(
        _cli("sync", "--from", str(path), "--follow", "--interval", "0.2")
        + ["--database", database_url],
        env=_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    out, err = Lines(sync.stdout), Lines(sync.stderr)
    with subprocess.Popen(
        [sys.executable, "-m", "tests.cavra_writer", str(path), layout, "--seconds", "3"],
        env=_env(),
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    ) as writer:
        assert writer.stdin is not None and writer.stdout is not None
        if layout == "store":
            assert writer.stdout.readline() == "truncated\n"
            seen = len(err.lines)
            err.wait_for(lambda line: ": incomplete (" in line, after=seen)
            writer.stdin.write("go\n")
            writer.stdin.flush()
        result = json.loads(writer.stdout.readline())
    assert writer.returncode == 0
    final = result["ever" if layout == "ndjson" else "final"]
    if layout != "store":
        final[first["session_id"]] = first

    def in_step(engine: Engine) -> bool:
        """The writer's final records stored exactly; the others it deleted (those a pass
        saw, in the version last seen) kept; the state knows just the final ones."""
        found = stored(engine)
        kept = {sid: found[sid] for sid in found if sid in final}
        gone = set(found) - set(final)
        return (kept, synced_ids(engine, path.absolute())) == (final, set(final)) and all(
            sid in result["ever"] and sid not in result["final"] for sid in gone
        )

    engine = make_engine(database_url)
    try:
        deadline = time.monotonic() + 60
        while not in_step(engine):
            assert sync.poll() is None, "".join(err.lines)
            assert time.monotonic() < deadline, f"not in step: {''.join(err.lines)}"
            time.sleep(0.1)
        assert state(engine, path.absolute()).passes > 1
    finally:
        engine.dispose()
    sync.send_signal(signal.SIGTERM)
    assert sync.wait(timeout=60) == 0
    assert "Traceback" not in err.text()
    assert " new, " in out.text()
