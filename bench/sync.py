"""What a `cavra-gql sync` pass costs next to a first import: over an unchanged store, and
after CAVRA added 100 records to it (NDJSON appended to, the JSON store rewritten whole, the
SQLite database upserted), each on a fresh database.

    python -m bench.sync [--records 100000] [--database URL --reset]
"""

from __future__ import annotations

import argparse
import os
import sqlite3
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import orjson
from sqlalchemy import Engine

from bench.generate import DEFAULT_NOW, Generator, parse_now
from cavra_gql.db import make_engine
from cavra_gql.fingerprints import RACY_NS
from cavra_gql.sync import Follower
from tests import cavra_writer
from tests.conftest import drop_tables

ADDED = 100


def records(count: int) -> list[bytes]:
    """Generated records, one per session_id (a re-sent one keeps its last version)."""
    latest: dict[str, bytes] = {}
    for record in Generator(count + ADDED, 7, parse_now(DEFAULT_NOW), 60.0).records():
        latest[record["session_id"]] = orjson.dumps(record)
    return list(latest.values())


def write(path: Path, layout: str, items: list[bytes]) -> None:
    """`items` as CAVRA leaves them (NDJSON and SQLite: added to what is there)."""
    if layout == "ndjson":
        with path.open("ab") as handle:
            handle.write(b"".join(item + b"\n" for item in items))
    elif layout == "store":  # CAVRA's layout: sorted by session_id, indented, keys sorted
        parsed = sorted((orjson.loads(item) for item in items), key=lambda r: r["session_id"])
        option = orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS
        path.write_bytes(orjson.dumps({"items": parsed}, option=option) + b"\n")
    else:
        with sqlite3.connect(path) as connection:
            connection.execute(cavra_writer.SQLITE_SCHEMA)
            for item in items:
                record = orjson.loads(item)
                values = (record["session_id"], record.get("created_at"), None, 0, 0, 0)
                connection.execute(cavra_writer.SQLITE_UPSERT, (*values, item.decode()))
        connection.close()


def settle(path: Path) -> None:
    """Age the file past RACY_NS, as one written a while ago (else a pass checks it again)."""
    past = time.time_ns() - 2 * RACY_NS
    os.utime(path, ns=(past, past))


def timed(action: Callable[[], object]) -> float:
    started = time.perf_counter()
    action()
    return time.perf_counter() - started


def measure(layout: str, items: list[bytes], url: str, workdir: Path) -> dict[str, float]:
    path = workdir / f"cavra.{layout}"
    path.unlink(missing_ok=True)
    base, added = items[:-ADDED], items[-ADDED:]
    write(path, layout, base)
    settle(path)
    engine = make_engine(url)
    try:
        first = timed(lambda: _pass(engine, path, expect=len(base)))
        unchanged = min(timed(lambda: _pass(engine, path, expect=0)) for _ in range(5))
        write(path, layout, base + added if layout == "store" else added)
        recent = timed(lambda: _pass(engine, path, expect=ADDED))
        # The file was written just now: the next pass checks its content again.
        recheck = timed(lambda: _pass(engine, path, expect=0))
        settle(path)
        settled = min(timed(lambda: _pass(engine, path, expect=0)) for _ in range(5))
    finally:
        engine.dispose()
    return {
        "first": first,
        "unchanged": unchanged,
        "added": recent,
        "recheck": recheck,
        "after": settled,
    }


def _pass(engine: Engine, path: Path, *, expect: int) -> None:
    """A pass by a sync started afresh (the state read from the database, as on a restart)."""
    report = Follower(engine, path).run()
    new = 0 if report is None else report.counts.new + report.counts.updated
    assert new == expect, (path, report)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--records", type=int, default=100_000)
    parser.add_argument("--database", help="a PostgreSQL URL (default: a new SQLite file)")
    parser.add_argument("--reset", action="store_true", help="drop its tables before each run")
    parser.add_argument("--layouts", default="ndjson,store,sqlite")
    args = parser.parse_args()
    items = records(args.records)
    print(f"{len(items) - ADDED} records, then {ADDED} more")
    with tempfile.TemporaryDirectory(prefix="cavra-sync-bench-") as scratch:
        workdir = Path(scratch)
        for layout in args.layouts.split(","):
            url = args.database or f"sqlite:///{workdir / f'{layout}.sqlite3'}"
            if args.reset and args.database:
                drop_tables(url)
            f = measure(layout, items, url, workdir)
            print(
                f"{layout:>7}: first import {f['first']:.2f} s; a pass over the unchanged file"
                f" {f['unchanged'] * 1000:.2f} ms (1/{f['first'] / f['unchanged']:,.0f} of it);"
                f" after {ADDED} records added {f['added']:.3f} s"
                f" ({f['added'] / f['first']:.1%} of it); a pass over it unchanged while"
                f" recent {f['recheck'] * 1000:.1f} ms, once settled {f['after'] * 1000:.2f} ms"
            )


if __name__ == "__main__":
    main()
