"""Importing files: records made ready (prepare.py, in worker processes for large files) and
stored in one transaction per file, the summaries kept exact in it."""

from __future__ import annotations

import multiprocessing
import os
import sys
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass
from itertools import islice
from pathlib import Path
from typing import TypeVar

from sqlalchemy import Connection, Engine

from cavra_gql import readers
from cavra_gql.db import lean_sorts, refresh_statistics
from cavra_gql.errors import IngestError
from cavra_gql.instants import now_us
from cavra_gql.prepare import Chunk, prepare_items
from cavra_gql.priority import WORKER_NICENESS, yield_cpu
from cavra_gql.queries import bulk, changes, ingest_totals, summary_upkeep
from cavra_gql.queries.ingest_totals import Via
from cavra_gql.queries.upsert import BATCH, UpsertCounts, upsert
from cavra_gql.tally import Tally

MAX_LISTED_PROBLEMS = 20
# After a large import the planner's statistics are stale; refresh them in the same go.
ANALYZE_AFTER = 10_000
PROGRESS_EVERY_SECONDS = 2.0
# Files this large are parsed, validated and redacted by worker processes while the main
# process writes; below it, starting workers costs more than it saves.
PARALLEL_FROM_BYTES = 16 * 1024 * 1024
MAX_WORKERS = 4


# CAVRA's records take 1 to 3 kB of JSON: a file's size tells about how many it holds.
TYPICAL_RECORD_BYTES = 2048
# The summary rows an import holds in memory before merging them into the stored ones.
TALLY_ROWS_HELD = 25_000

Progress = Callable[[str, int], None]
T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Summary:
    """What one file (or one batch of records) did to the store."""

    origin: str
    read: int
    counts: UpsertCounts

    def line(self) -> str:
        c = self.counts
        return (
            f"{self.origin}: {self.read} records read, {c.new} new, {c.updated} updated, "
            f"{c.unchanged} unchanged"
        )


def chunks(items: Iterable[T]) -> Iterator[list[T]]:
    """`items` a batch (BATCH) at a time."""
    iterator = iter(items)
    while chunk := list(islice(iterator, BATCH)):
        yield chunk


def _prepared(items: Iterable[readers.Item], workers: int) -> Iterator[Chunk]:
    """Prepared chunks in file order; with workers, parsed and redacted in other processes,
    a bounded number of chunks in flight so memory stays flat whatever the file size."""
    if workers <= 1:
        yield from map(prepare_items, chunks(items))
        return
    context = multiprocessing.get_context("spawn")
    pool = ProcessPoolExecutor(
        max_workers=workers, mp_context=context, initializer=yield_cpu, initargs=(WORKER_NICENESS,)
    )
    with pool:
        pending: deque[Future[Chunk]] = deque()
        for chunk in chunks(items):
            pending.append(pool.submit(prepare_items, chunk))
            if len(pending) >= 4 * workers:
                yield pending.popleft().result()
        while pending:
            yield pending.popleft().result()


def store(
    engine: Engine,
    items: Iterable[readers.Item],
    origin: str,
    progress: Progress | None = None,
    *,
    workers: int = 1,
    expected: int = 0,
    via: Via = "file",
) -> Summary:
    """Validate and store every item in one transaction; any problem imports nothing.

    `expected` is about how many records the items hold, when known: an import large next
    to what is stored builds the record indexes once at the end, not row by row. `via` is
    the write path whose ingest counters the write adds to.
    """
    with engine.begin() as conn:
        return store_on(conn, items, origin, progress, workers=workers, expected=expected, via=via)


def store_on(
    conn: Connection,
    items: Iterable[readers.Item],
    origin: str,
    progress: Progress | None = None,
    *,
    workers: int = 1,
    expected: int = 0,
    via: Via = "file",
) -> Summary:
    """store() in the caller's open transaction (which a problem, raised, rolls back), so
    the caller can write more in it: `cavra-gql sync` records what it has read."""
    problems: list[str] = []
    counts = UpsertCounts()
    written = summary_upkeep.HoursWritten()
    read = 0
    pending = changes.PendingChanges(origin)
    last_report = time.monotonic()
    with bulk.indexes_deferred(conn, bulk.worth_deferring(conn, expected)):
        for chunk in _prepared(items, workers):
            read += chunk.read
            problems.extend(chunk.problems)
            if not problems:  # after the first problem nothing is written, only checked
                counts.add(upsert(conn, chunk.batch, pending))
                if counts.tally.size() >= TALLY_ROWS_HELD:  # keep memory flat
                    summary_upkeep.write_hours(conn, counts.tally, counts.dirty_hours, written)
                    counts.tally = Tally()
            now = time.monotonic()
            if progress and now - last_report >= PROGRESS_EVERY_SECONDS:
                progress(origin, read)
                last_report = now
        if problems:  # raising rolls the caller's transaction back
            raise IngestError(_problem_report(origin, problems))
    with lean_sorts(conn):
        finish(conn, counts, written, pending=pending, via=via, read=read)
    return Summary(origin, read, counts)


def finish(
    conn: Connection,
    counts: UpsertCounts,
    written: summary_upkeep.HoursWritten | None = None,
    *,
    pending: changes.PendingChanges,
    via: Via,
    read: int,
) -> None:
    """Bring the summaries (and, after a big write, the planner's statistics) up to date
    in the write's own transaction, then enter it in the change feed and add it to the
    ingest counters of its path (last: the feed's lock and the counter row's are held from
    there to the commit). A write that read no record counts nothing."""
    summary_upkeep.apply(conn, counts.tally, counts.dirty_hours, written)
    if counts.new + counts.updated >= ANALYZE_AFTER:
        refresh_statistics(conn)
    changes.commit(conn, pending, now_us())
    # The counter row of a path is one hot row: concurrent writers of that path wait for it
    # until the holder commits. Taken after the feed's advisory lock (PostgreSQL), it adds
    # no wait: writers that changed history records take turns from that lock to the commit
    # already, and every writer takes the two in the same order, so none can deadlock. A
    # write that changed no history record takes only the row, from here to its commit (sync:
    # past saving its state, a few statements).
    if read:
        ingest_totals.add(
            conn, via, read=read, new=counts.new, updated=counts.updated, unchanged=counts.unchanged
        )


def _problem_report(origin: str, problems: list[str]) -> str:
    shown = [f"{origin}: {problem}" for problem in problems[:MAX_LISTED_PROBLEMS]]
    if len(problems) > MAX_LISTED_PROBLEMS:
        shown.append(f"{origin}: ... and {len(problems) - MAX_LISTED_PROBLEMS} more problems")
    shown.append(f"{origin}: {len(problems)} invalid, nothing imported from this file")
    return "\n".join(shown)


def ingest_file(engine: Engine, path: Path, progress: Progress | None = None) -> Summary:
    """Import one file of any supported format (SPEC §5)."""
    if not path.is_file():
        raise IngestError(f"{path}: no such file")
    size = path.stat().st_size
    workers = min(os.cpu_count() or 1, MAX_WORKERS) if size >= PARALLEL_FROM_BYTES else 1
    if not _can_spawn():
        workers = 1
    expected = size // TYPICAL_RECORD_BYTES
    return store(
        engine, readers.read(path), str(path), progress, workers=workers, expected=expected
    )


def _can_spawn() -> bool:
    """Spawned workers re-import the main module; a program read from stdin cannot be."""
    main = sys.modules.get("__main__")
    path = getattr(main, "__file__", None)
    return path is None or Path(path).is_file()


def ingest_values(
    engine: Engine, values: Iterable[object], origin: str, *, via: Via = "file"
) -> Summary:
    """Import already-parsed records (the demo history)."""
    items = ((f"index {index}", None, value, None) for index, value in enumerate(values))
    return store(engine, items, origin, via=via)
