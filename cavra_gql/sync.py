"""`cavra-gql sync`: keep the database in step with a store CAVRA keeps writing. Each pass reads
only what changed since the last one (fingerprints.py) and stores it as ingest does, in one
transaction with the sync state (queries/sync_state.py)."""

from __future__ import annotations

import signal
import sys
import threading
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from time import monotonic

from sqlalchemy import Connection, Engine
from sqlalchemy.exc import DBAPIError

from cavra_gql import fingerprints, ingest, readers
from cavra_gql.errors import IngestError
from cavra_gql.fingerprints import Entry, Incomplete, Locked, Signature
from cavra_gql.instants import now_us
from cavra_gql.queries import sync_state
from cavra_gql.queries.sync_state import SourceState
from cavra_gql.queries.upsert import UpsertCounts

# Deleted records named in a pass's report; the rest are counted.
LISTED_DELETIONS = 5
# A pass that finds the file unchanged notes so (last_pass_us) at most this often: a follower
# of a quiet store still shows it is alive, without a write every pass.
HEARTBEAT_SECONDS = 60.0

Lookup = Callable[[list[str]], dict[str, bytes]]


@dataclass(slots=True)
class PassReport:
    """What one pass read, and did to the database."""

    source: str
    read: int = 0  # records read from the file
    skipped: int = 0  # of them, as they were at the last pass: not stored again
    counts: UpsertCounts = field(default_factory=UpsertCounts)
    deleted: list[str] = field(default_factory=list)  # gone from the file, kept here
    partial: bool = False  # an NDJSON line still being written, left for the next pass

    @property
    def changed(self) -> bool:
        c = self.counts
        return bool(c.new or c.updated or c.unchanged or self.deleted)

    def line(self) -> str:
        c = self.counts
        text = (
            f"{self.source}: {self.read} records read, {self.skipped} skipped as already"
            f" synced, {c.new} new, {c.updated} updated, {c.unchanged} unchanged,"
            f" {len(self.deleted)} deleted in the source"
        )
        return text + ("; a partial last line is left for the next pass" if self.partial else "")

    def deletions(self) -> str:
        shown = ", ".join(self.deleted[:LISTED_DELETIONS])
        more = len(self.deleted) - LISTED_DELETIONS
        return (
            f"{self.source}: {len(self.deleted)} records deleted in the source (kept here): "
            + shown
            + (f" and {more} more" if more > 0 else "")
        )


class _Changes:
    """Passes on the records whose digest differs from the last one known for them (later
    occurrences of a session_id in the file win, as in ingest)."""

    def __init__(self, lookup: Lookup) -> None:
        self.lookup = lookup
        self.seen: dict[str, bytes] = {}
        self.changed: dict[str, bytes] = {}
        self.replaced: set[str] = set()  # changed records that had a digest stored
        self.read = self.skipped = 0

    def filter(self, entries: Iterable[Entry]) -> Iterator[readers.Item]:
        for chunk in ingest.chunks(entries):
            stored = self.lookup([sid for sid, _, _ in chunk if sid and sid not in self.seen])
            for sid, fingerprint, item in chunk:
                self.read += 1
                if sid is None or fingerprint is None:  # ingest tells what is wrong with it
                    yield item
                    continue
                before = self.seen[sid] if sid in self.seen else stored.get(sid)
                if sid not in self.seen and before is not None:
                    self.replaced.add(sid)
                self.seen[sid] = fingerprint
                if fingerprint == before:
                    self.skipped += 1
                    continue
                self.changed[sid] = fingerprint
                yield item


class Follower:
    """Passes over one file. A pass that finds the file as the last one left it (by its
    signature) reads nothing; a pass that fails is not retried until the file changes."""

    def __init__(
        self,
        engine: Engine,
        path: Path,
        progress: ingest.Progress | None = None,
        heartbeat_seconds: float = HEARTBEAT_SECONDS,
    ) -> None:
        self.engine, self.path, self.progress = engine, path.absolute(), progress
        self.source = str(self.path)
        with engine.connect() as conn:
            state = sync_state.load(conn, self.source)
        self.done_at = _key(state) if state.stored and state.settled else None
        self.failed_at: object = None
        self.heartbeat_seconds = heartbeat_seconds
        self.noted_at = monotonic()  # when last_pass_us was last written, or we started

    def run(self) -> PassReport | None:
        """One pass: its report, or None when it read nothing. Raises FileNotFoundError,
        Incomplete, Locked or IngestError (a record or the file invalid) and then changes
        nothing."""
        signature = fingerprints.look(self.path)
        if signature.settled and signature.key == self.done_at:
            self._heartbeat()
            return None
        if signature.settled and signature.key == self.failed_at:
            return None
        try:
            with self.engine.begin() as conn:
                report = self._pass(conn, signature)
        except (Incomplete, IngestError) as error:
            self.failed_at = signature.key if signature.settled else None
            if isinstance(error, IngestError):
                with self.engine.begin() as conn:
                    sync_state.record_error(conn, self.source, str(error), now_us())
            raise
        self.failed_at = None
        self.done_at = signature.key if signature.settled else None
        self.noted_at = monotonic()
        return report

    def _heartbeat(self) -> None:
        """The file is as the last pass left it: say so in last_pass_us, once in a while."""
        if monotonic() - self.noted_at < self.heartbeat_seconds:
            return
        with self.engine.begin() as conn:
            sync_state.note_pass(conn, self.source, now_us())
        self.noted_at = monotonic()

    def _pass(self, conn: Connection, signature: Signature) -> PassReport | None:
        state = sync_state.lock(conn, self.source)
        kind = state.format or readers.detect(self.path)
        if kind == "empty":
            return None  # nothing written yet
        if kind == "binary":
            raise IngestError(f"{self.source}: document: binary content, not UTF-8 JSON text")
        tail = None
        if kind == "ndjson":
            tail = self._tail(state, signature)
            entries: Iterable[Entry] = tail.entries()
            full = tail.position == 0
        elif kind == "sqlite":
            entries, full = fingerprints.sqlite_entries(self.path), True
        else:
            data = self.path.read_bytes()
            if fingerprints.look(self.path).key != signature.key or len(data) != signature.size:
                raise Incomplete("it changed while it was read")
            whole = fingerprints.digest(data)
            if state.format == kind and state.digest == whole:  # the same bytes again
                sync_state.save(conn, _at(state, signature).but(last_pass_us=now_us()), {}, ())
                return None
            entries, full = fingerprints.document_entries(data, kind), True
            state = state.but(digest=whole)
        known = sync_state.fingerprints(conn, self.source) if full else {}
        changes = _Changes(
            (lambda _: known) if full else partial(sync_state.fingerprints_of, conn, self.source)
        )
        expected = 0 if state.stored else signature.size // ingest.TYPICAL_RECORD_BYTES
        summary = ingest.store_on(
            conn, changes.filter(entries), self.source, self.progress, expected=expected, via="sync"
        )
        report = PassReport(self.source, changes.read, changes.skipped, summary.counts)
        report.deleted = sorted(known.keys() - changes.seen.keys()) if full else []
        if tail is not None:
            report.partial = tail.partial
            digest = fingerprints.samples(self.path, tail.position)
            state = state.but(position=tail.position, lines=tail.lines, digest=digest)
        c = report.counts
        state = _at(state, signature).but(
            format=kind,
            passes=state.passes + 1,
            records_read=state.records_read + report.read,
            imported_new=state.imported_new + c.new,
            imported_updated=state.imported_updated + c.updated,
            imported_unchanged=state.imported_unchanged + c.unchanged,
            deletions_seen=state.deletions_seen + len(report.deleted),
            last_pass_us=now_us(),
            last_error=None,
            last_error_us=None,
        )
        replaced = changes.replaced & changes.changed.keys()
        sync_state.save(conn, state, changes.changed, [*replaced, *report.deleted])
        return report

    def _tail(self, state: SourceState, signature: Signature) -> fingerprints.LineTail:
        """Where to read the NDJSON file from: on after the last complete line read, unless
        the file was replaced, cut shorter, or rewritten before it (then from the start)."""
        if (
            state.format == "ndjson"
            and signature.file_id == state.file_id
            and signature.size >= state.position
            and fingerprints.samples(self.path, state.position) == state.digest
        ):
            return fingerprints.LineTail(self.path, state.position, state.lines)
        return fingerprints.LineTail(self.path)


def _key(state: SourceState) -> tuple[int, int, str, bytes | None]:
    return (state.file_size, state.mtime_ns, state.file_id, state.probe)


def _at(state: SourceState, signature: Signature) -> SourceState:
    return state.but(
        file_size=signature.size,
        mtime_ns=signature.mtime_ns,
        file_id=signature.file_id,
        probe=signature.probe,
        settled=signature.settled,
    )


class _Reporter:
    """Prints what passes did: a line per pass that changed anything, problems on stderr
    (with --follow, a problem met pass after pass is printed once)."""

    def __init__(self, follower: Follower, following: bool) -> None:
        self.follower, self.following = follower, following
        self.last_problem: str | None = None

    def run_pass(self) -> bool:
        """One pass, reported; False when it failed."""
        source, again = self.follower.source, "; will retry" if self.following else ""
        try:
            report = self.follower.run()
        except FileNotFoundError:
            return self._problem(f"{source}: no such file{again}")
        except Incomplete as error:
            return self._problem(f"{source}: incomplete ({error}), nothing imported{again}")
        except Locked as error:
            return self._problem(f"{source}: SQLite database locked by its writer ({error}){again}")
        except IngestError as error:
            return self._problem(str(error) + ("; retried when the file changes" if again else ""))
        except DBAPIError as error:
            return self._problem(f"{source}: database error: {error.orig}{again}")
        self.last_problem = None
        if report is not None and report.changed:
            print(report.line(), flush=True)
            if report.deleted:
                print(report.deletions(), file=sys.stderr, flush=True)
        return True

    def _problem(self, message: str) -> bool:
        if message != self.last_problem or not self.following:
            print(message, file=sys.stderr, flush=True)
        self.last_problem = message
        return False


def sync_once(follower: Follower) -> int:
    """One pass: exit status 0 when it succeeded (whether or not anything changed), else 1."""
    return 0 if _Reporter(follower, following=False).run_pass() else 1


def follow(follower: Follower, interval: float) -> int:
    """A pass every `interval` seconds until SIGINT or SIGTERM, after which the pass under
    way commits (or fails and rolls back) and the loop ends; a second signal rolls it back
    at once. Exit status 0."""
    reporter = _Reporter(follower, following=True)
    stop = threading.Event()

    def on_signal(_signum: int, _frame: object) -> None:
        if stop.is_set():
            raise KeyboardInterrupt
        stop.set()

    previous = {number: signal.signal(number, on_signal) for number in _STOP_SIGNALS}
    try:
        while not stop.is_set():
            reporter.run_pass()
            stop.wait(interval)
    except KeyboardInterrupt:
        print(f"{follower.source}: stopped, the pass under way rolled back", file=sys.stderr)
    finally:
        for number, handler in previous.items():
            signal.signal(number, handler)
    return 0


_STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)
