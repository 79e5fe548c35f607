"""A stand-in for CAVRA writing its metadata stores (src/cavra/evidence.py): the JSON store
rewritten whole, in place, on every upsert; the SQLite store upserted ON CONFLICT (rows keep
their rowid); and NDJSON appended to. Run as a program, it keeps writing for a while."""

from __future__ import annotations

import argparse
import json
import random
import sqlite3
import sys
import time
from pathlib import Path
from typing import Any, TextIO

Record = dict[str, Any]
KIND = "go-backend-rollback-drill-notification-plan"

# CAVRA's SQLiteEvidenceMetadataStore, as it creates and upserts its table.
SQLITE_SCHEMA = """
CREATE TABLE IF NOT EXISTS evidence_metadata (
    session_id TEXT PRIMARY KEY,
    created_at TEXT,
    signer TEXT,
    decision_count INTEGER NOT NULL,
    blocked_count INTEGER NOT NULL,
    approval_required_count INTEGER NOT NULL,
    payload TEXT NOT NULL
)
"""
SQLITE_UPSERT = """
INSERT INTO evidence_metadata (
    session_id, created_at, signer, decision_count, blocked_count, approval_required_count, payload
) VALUES (?, ?, ?, ?, ?, ?, ?)
ON CONFLICT(session_id) DO UPDATE SET
    created_at=excluded.created_at,
    signer=excluded.signer,
    decision_count=excluded.decision_count,
    blocked_count=excluded.blocked_count,
    approval_required_count=excluded.approval_required_count,
    payload=excluded.payload
"""


def record(number: int, version: int = 0, **extra: Any) -> Record:
    return {
        "session_id": f"s-{number:05d}",
        "metadata_kind": KIND,
        "created_at": f"2026-11-{1 + number % 28:02d}T10:{number % 60:02d}:00Z",
        "status": f"version-{version}",
        **extra,
    }


def store_text(items: list[Record]) -> str:
    """CAVRA's write_json of its store: sorted by session_id, indented, keys sorted."""
    ordered = sorted(items, key=lambda item: str(item.get("session_id")))
    return json.dumps({"items": ordered}, indent=2, sort_keys=True) + "\n"


def write_store(path: Path, items: list[Record]) -> None:
    path.write_text(store_text(items), encoding="utf-8")  # in place, as CAVRA does


def sqlite_upsert(path: Path, items: list[Record]) -> None:
    with sqlite3.connect(path) as connection:
        connection.execute(SQLITE_SCHEMA)
        for item in items:
            values = (item["session_id"], item.get("created_at"), item.get("signer"), 0, 0, 0)
            connection.execute(SQLITE_UPSERT, (*values, json.dumps(item, sort_keys=True)))
    connection.close()


def sqlite_delete(path: Path, session_id: str) -> None:
    with sqlite3.connect(path) as connection:
        connection.execute("DELETE FROM evidence_metadata WHERE session_id = ?", (session_id,))
    connection.close()


def append_ndjson(path: Path, items: list[Record]) -> None:
    with path.open("a", encoding="utf-8") as handle:
        handle.write("".join(json.dumps(item) + "\n" for item in items))


class Writer:
    """Random upserts (and, but for NDJSON, deletions) of small records."""

    def __init__(self, path: Path, layout: str, seed: int) -> None:
        self.path, self.layout, self.rng = path, layout, random.Random(seed)
        self.items: dict[str, Record] = {}
        self.ever: dict[str, Record] = {}  # the last version of every record ever written
        self.count = 0

    def step(self) -> None:
        rng = self.rng
        if self.items and rng.random() < 0.15 and self.layout != "ndjson":
            gone = rng.choice(sorted(self.items))
            del self.items[gone]
            if self.layout == "sqlite":
                sqlite_delete(self.path, gone)
            else:
                write_store(self.path, list(self.items.values()))
            return
        if self.items and rng.random() < 0.4:
            number = int(rng.choice(sorted(self.items)).removeprefix("s-"))
        else:
            number, self.count = self.count, self.count + 1
        version = int(self.ever.get(f"s-{number:05d}", {"status": "version--1"})["status"][8:])
        item = record(number, version + 1)
        self.items[item["session_id"]] = self.ever[item["session_id"]] = item
        if self.layout == "sqlite":
            sqlite_upsert(self.path, [item])
        elif self.layout == "store":
            write_store(self.path, list(self.items.values()))
        else:
            self._append_slowly(json.dumps(item) + "\n")

    def _append_slowly(self, line: str) -> None:
        """An append in two writes with a pause between: a reader may see half a line."""
        with self.path.open("a", encoding="utf-8") as handle:
            half = len(line) // 2
            handle.write(line[:half])
            handle.flush()
            time.sleep(self.rng.uniform(0, 0.05))
            handle.write(line[half:])

    def truncated_write(self, control: TextIO) -> None:
        """Rewrite the store in place but stop halfway until told to go on (a line on
        `control`), as a reader would find CAVRA's store if it looked mid-write."""
        number, self.count = self.count, self.count + 1
        item = record(number)
        self.items[item["session_id"]] = self.ever[item["session_id"]] = item
        text = store_text(list(self.items.values()))
        with self.path.open("w", encoding="utf-8") as handle:
            handle.write(text[: len(text) // 2])
            handle.flush()
            print("truncated", flush=True)
            control.readline()
            handle.write(text[len(text) // 2 :])


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("path", type=Path)
    parser.add_argument("layout", choices=["store", "ndjson", "sqlite"])
    parser.add_argument("--seconds", type=float, default=3.0)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    writer = Writer(args.path, args.layout, args.seed)
    deadline = time.monotonic() + args.seconds
    halfway = time.monotonic() + args.seconds / 2
    truncated = args.layout != "store"
    while time.monotonic() < deadline:
        if not truncated and time.monotonic() > halfway:
            writer.truncated_write(sys.stdin)
            truncated = True
        writer.step()
        time.sleep(writer.rng.uniform(0, 0.03))
    json.dump({"final": writer.items, "ever": writer.ever}, sys.stdout)
    print(flush=True)


if __name__ == "__main__":
    main()
