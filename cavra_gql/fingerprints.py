"""What `cavra-gql sync` reads of a followed file: a cheap signature telling whether it changed,
and its records each with the digest of its bytes, read no further than needed."""

from __future__ import annotations

import hashlib
import os
import sqlite3
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from cavra_gql import jsontext, readers

DIGEST_BYTES = 16
# A file modified this recently when looked at may change again within the same tick of its
# timestamp without its signature changing (coarse clocks, 1-2 s filesystems): such a look is
# not trusted to skip the next pass (git's "racily clean" index entries, the same remedy).
RACY_NS = 2_000_000_000
# NDJSON: the bytes before the resume position are checked by these samples (its first and
# its last ones), not read whole: a file rewritten rather than appended to fails the check.
SAMPLE_BYTES = 64 * 1024
# SQLite: rows read per statement; between statements CAVRA's writer can commit (in its
# default rollback-journal mode a reader holding the file blocks every commit).
SQLITE_ROWS = 2000
# How long a read of CAVRA's SQLite database waits for its writer before the pass gives up.
SQLITE_WAIT_SECONDS = 1.0

# One record as read: its session_id and digest (None when it cannot be told: the record is
# then stored, which reports it as invalid), and the item ingest stores.
Entry = tuple[str | None, bytes | None, readers.Item]


class Incomplete(Exception):
    """The file is being written (a JSON document cut short, a file changing while read):
    nothing of it is imported, and a later pass reads it again."""


class Locked(Exception):
    """CAVRA's SQLite database stayed locked by its writer: a later pass reads it."""


def digest(data: bytes) -> bytes:
    return hashlib.blake2b(data, digest_size=DIGEST_BYTES).digest()


@dataclass(frozen=True, slots=True)
class Signature:
    """A file as stat() and its first bytes show it; `settled` when it was last modified
    long enough before this look for a later change to show in the signature."""

    size: int
    mtime_ns: int
    file_id: str  # device:inode
    probe: bytes | None  # SQLite: the header's change counter and the WAL file's size and time
    settled: bool

    @property
    def key(self) -> tuple[int, int, str, bytes | None]:
        return (self.size, self.mtime_ns, self.file_id, self.probe)


def look(path: Path) -> Signature:
    """The file's signature (FileNotFoundError when it does not exist)."""
    now = time.time_ns()
    stat = path.stat()
    newest = stat.st_mtime_ns
    with path.open("rb") as handle:
        head = handle.read(100)
    probe, counted = None, False
    if head.startswith(readers.SQLITE_HEADER):
        probe = head[24:28]  # the file change counter: every commit outside WAL mode moves it
        try:
            wal = os.stat(f"{path}-wal")
            probe += f":{wal.st_size}:{wal.st_mtime_ns}".encode()
            newest = max(newest, wal.st_mtime_ns)
        except FileNotFoundError:
            counted = True  # CAVRA's default (rollback journal): no tick can hide a commit
    file_id = f"{stat.st_dev}:{stat.st_ino}"
    settled = counted or now - newest > RACY_NS
    return Signature(stat.st_size, stat.st_mtime_ns, file_id, probe, settled)


def _session_id(value: object) -> str | None:
    if isinstance(value, dict):
        found = value.get("session_id")
        if isinstance(found, str):
            return found
    return None


def _parsed(where: str, raw: bytes) -> tuple[str | None, readers.Item]:
    """A record's session_id and its item, handed to ingest parsed (not parsed twice); one
    that does not parse goes as raw text, for ingest to report why."""
    try:
        value = jsontext.loads(raw)
    except ValueError:
        return None, (where, raw, None, None)
    return _session_id(value), (where, raw, value, None)


def document_entries(data: bytes, kind: str) -> list[Entry]:
    """The records of a JSON store or array, each with the digest of its compact JSON (the
    document is parsed whole: CAVRA rewrites it whole, in session_id order)."""
    if not data or data.isspace():  # isspace stops at the first other byte: no copy
        raise Incomplete("empty")
    try:  # parsed as bytes (the parser checks the UTF-8): no copy decoded first
        value = jsontext.loads(data.removeprefix(readers.BOM), limit=jsontext.DOCUMENT_DEPTH)
    except ValueError as error:  # UnicodeDecodeError too: a multi-byte character cut short
        raise Incomplete(str(error)) from None
    if kind == "store":
        items = value.get("items") if isinstance(value, dict) else None
        if not isinstance(items, list):
            return [(None, None, ("document", None, None, "a JSON object without an `items` list"))]
        value = items
    if not isinstance(value, list):
        problem = f"expected a JSON {kind}, found {type(value).__name__}"
        return [(None, None, ("document", None, None, problem))]
    entries: list[Entry] = []
    for index, item in enumerate(value):
        fingerprint: bytes | None
        try:
            fingerprint = digest(jsontext.dumps(item).encode("utf-8", "surrogatepass"))
        except ValueError:  # too deep to serialize: ingest names the problem
            fingerprint = None
        entries.append((_session_id(item), fingerprint, (f"index {index}", None, item, None)))
    return entries


def samples(path: Path, end: int) -> bytes:
    """A digest of the first and the last SAMPLE_BYTES before `end`, and of `end` itself."""
    with path.open("rb") as handle:
        first = handle.read(min(end, SAMPLE_BYTES))
        start = max(end - SAMPLE_BYTES, len(first))
        handle.seek(start)
        last = handle.read(end - start)
    return digest(b"%d:" % end + first + last)


class LineTail:
    """The complete lines of an NDJSON file from `position` on, numbered on from `lines`. A
    last line without its line break is being written: it is left for the next pass."""

    def __init__(self, path: Path, position: int = 0, lines: int = 0) -> None:
        self.path, self.position, self.lines = path, position, lines
        self.partial = False

    def entries(self) -> Iterator[Entry]:
        with self.path.open("rb") as handle:
            handle.seek(self.position)
            for raw in readers.lines(handle):
                end = handle.tell()
                if not _ends_line(handle, raw, end):
                    self.partial = True
                    return
                self.position, self.lines = end, self.lines + 1
                where = f"line {self.lines}"
                if isinstance(raw, int):
                    yield None, None, (where, None, None, f"{raw} bytes: {readers.TOO_LARGE}")
                    continue
                if self.lines == 1:
                    raw = raw.removeprefix(readers.BOM)
                if raw.strip():
                    sid, item = _parsed(where, raw)
                    yield sid, digest(raw.strip()), item


def _ends_line(handle: BinaryIO, raw: bytes | int, end: int) -> bool:
    if isinstance(raw, bytes):
        return raw.endswith(b"\n")
    handle.seek(end - 1)  # a line too long to hold was read past: look at its last byte
    last = handle.read(1)
    handle.seek(end)
    return last == b"\n"


def sqlite_entries(path: Path) -> Iterator[Entry]:
    """Every row of CAVRA's evidence_metadata table in rowid order, each with the digest of
    its payload, read a chunk of rows per statement (so CAVRA's writer is never held up
    for long). Raises Locked when the database stays locked."""
    if path.stat().st_size == 0:
        raise Incomplete("an empty file, not yet a SQLite database")
    try:
        connection = readers.connect_read_only(path, SQLITE_WAIT_SECONDS)
    except sqlite3.Error as error:
        yield None, None, ("database", None, None, f"cannot open the SQLite database: {error}")
        return
    try:
        yield from _rows(connection)
    except sqlite3.Error as error:  # as readers.read reports it (a damaged file included)
        busy = "locked" in str(error) or "busy" in str(error)
        if isinstance(error, sqlite3.OperationalError) and busy:
            raise Locked(str(error)) from None
        problem = f"no readable evidence_metadata(payload) table: {error}"
        yield None, None, ("database", None, None, problem)
    finally:
        connection.close()


def _rows(connection: sqlite3.Connection) -> Iterator[Entry]:
    columns = {row[1] for row in connection.execute("PRAGMA table_info(evidence_metadata)")}
    # CAVRA's table keys its rows by session_id: no payload needs parsing to tell its record.
    session_id = "session_id" if "session_id" in columns else "NULL"
    query = (
        f"SELECT rowid, {session_id}, typeof(payload), length(CAST(payload AS BLOB)),"
        " CASE WHEN length(CAST(payload AS BLOB)) <= ? THEN CAST(payload AS BLOB) END"
        " FROM evidence_metadata WHERE rowid > ? ORDER BY rowid LIMIT ?"
    )
    after, index = -(2**63), 0
    while rows := connection.execute(
        query, (readers.MAX_RECORD_BYTES, after, SQLITE_ROWS)
    ).fetchall():
        for rowid, sid, kind, size, payload in rows:
            where = f"index {index} (rowid {rowid})"
            index += 1
            if kind not in ("text", "blob"):
                yield None, None, (where, None, None, f"payload is {kind}, not JSON text")
            elif payload is None:
                problem = f"payload of {size} bytes: {readers.TOO_LARGE}"
                yield None, None, (where, None, None, problem)
            else:
                if isinstance(sid, str):
                    yield sid, digest(payload), (where, payload, None, None)
                else:  # no session_id column: the payload tells
                    found, item = _parsed(where, payload)
                    yield found, digest(payload), item
        after = rows[-1][0]
