"""Readers for CAVRA's stores: the JSON store, a JSON array, NDJSON and the SQLite database."""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

from cavra_gql import jsontext

SQLITE_HEADER = b"SQLite format 3\x00"
BOM = b"\xef\xbb\xbf"
# The most one record may take, as a line, a payload or its stored JSON: a line is never held
# in memory beyond it. CAVRA's records are a few kilobytes.
MAX_RECORD_BYTES = 16 * 1024 * 1024
TOO_LARGE = f"larger than {MAX_RECORD_BYTES // (1024 * 1024)} MiB, the most one record may take"
# A one-line store too long to parse just to tell its format is told by its first key.
_STORE_START = re.compile(rb'\{\s*"items"\s*:')

# One item of a file: where it stands (for error messages), its JSON text when the reader has
# it on its own (left to parse, possibly in another process), the parsed value (instead, or
# as well when the reader parsed it already), and the reason the reader could not read it.
Item = tuple[str, bytes | None, object, str | None]


def detect(path: Path) -> str:
    """The file's format, told from its content: sqlite, store, array, ndjson, or binary or
    empty (neither is read)."""
    with path.open("rb") as handle:
        head = handle.read(1 << 16)
        if head.startswith(SQLITE_HEADER):
            return "sqlite"
        if b"\x00" in head:  # never in JSON text (UTF-8), always in binaries and UTF-16
            return "binary"
        handle.seek(0)
        first_line = handle.readline(MAX_RECORD_BYTES + 1)
        stripped = first_line.lstrip(BOM + b" \t\r\n")
        while not stripped:
            first_line = handle.readline(MAX_RECORD_BYTES + 1)
            if not first_line:
                return "empty"
            stripped = first_line.lstrip(b" \t\r\n")
        if stripped.startswith(b"["):
            return "array"
        if not stripped.startswith(b"{"):
            return "ndjson"
        if len(first_line) > MAX_RECORD_BYTES:
            return "store" if _STORE_START.match(stripped) else "ndjson"
        alone = not handle.read(1 << 16).strip()
        try:
            value = jsontext.loads(stripped, limit=jsontext.DOCUMENT_DEPTH)
        except ValueError:
            # An object that spans lines is a JSON document, and so is one that starts as
            # CAVRA's store does; any other lone broken line is NDJSON.
            return "store" if not alone or _STORE_START.match(stripped) else "ndjson"
        store = isinstance(value, dict) and "items" in value and "session_id" not in value
        return "store" if store and alone else "ndjson"


def read(path: Path) -> Iterator[Item]:
    """Every item of a file in file order."""
    kind = detect(path)
    if kind == "sqlite":
        yield from _read_sqlite(path)
    elif kind == "ndjson":
        yield from _read_ndjson(path)
    elif kind == "binary":
        yield "document", None, None, "binary content, not UTF-8 JSON text (a NUL byte)"
    elif kind == "empty":
        return  # NDJSON with only blank lines (SPEC §5): nothing to import, nothing wrong
    else:
        yield from _read_document(path, kind)


def _read_ndjson(path: Path) -> Iterator[Item]:
    with path.open("rb") as handle:
        for number, raw in enumerate(lines(handle), start=1):
            if isinstance(raw, int):
                yield f"line {number}", None, None, f"{raw} bytes: {TOO_LARGE}"
                continue
            if number == 1:
                raw = raw.removeprefix(BOM)
            if raw.strip():
                yield f"line {number}", raw, None, None


_CHUNK = 1 << 20


def lines(handle: BinaryIO) -> Iterator[bytes | int]:
    """Each line, or the size of a line over MAX_RECORD_BYTES: read past, never held."""
    while line := handle.readline(_CHUNK):
        if len(line) < _CHUNK or line.endswith(b"\n"):
            yield line  # the common case: a whole line in one read
            continue
        buffer, size = bytearray(line), len(line)
        while chunk := handle.readline(_CHUNK):
            size += len(chunk)
            if size <= MAX_RECORD_BYTES + 2:  # room for a line break
                buffer += chunk
            else:
                buffer = bytearray()
            if chunk.endswith(b"\n"):
                size -= len(chunk) - len(chunk.rstrip(b"\r\n"))
                break
        yield bytes(buffer) if size <= MAX_RECORD_BYTES else size


def _read_document(path: Path, kind: str) -> Iterator[Item]:
    try:
        text = path.read_bytes().decode("utf-8-sig")
        value = jsontext.loads(text, limit=jsontext.DOCUMENT_DEPTH)
    except UnicodeDecodeError as error:
        yield "document", None, None, f"not UTF-8 text at {_position(error.object, error.start)}"
        return
    except ValueError as error:
        yield "document", None, None, str(error)
        return
    if isinstance(value, dict):
        items = value.get("items")
        if not isinstance(items, list):
            yield "document", None, None, "a JSON object without an `items` list"
            return
        value = items
    if not isinstance(value, list):
        yield "document", None, None, f"expected a JSON {kind}, found {type(value).__name__}"
        return
    for index, item in enumerate(value):
        yield f"index {index}", None, item, None


def _position(data: bytes, offset: int) -> str:
    line = data.count(b"\n", 0, offset) + 1
    column = offset - data.rfind(b"\n", 0, offset)
    return f"line {line} column {column} (byte {offset + 1})"


def connect_read_only(path: Path, timeout: float = 5.0) -> sqlite3.Connection:
    """CAVRA's SQLite database, opened read-only (its URI quoted: a path may hold `?` or `#`)."""
    return sqlite3.connect(f"{path.absolute().as_uri()}?mode=ro", uri=True, timeout=timeout)


def _read_sqlite(path: Path) -> Iterator[Item]:
    try:
        connection = connect_read_only(path)
    except sqlite3.Error as error:
        yield "database", None, None, f"cannot open the SQLite database: {error}"
        return
    try:
        # An oversized payload is measured inside SQLite, never fetched; payloads are read as
        # bytes so that text which is not UTF-8 is reported per row, like a line.
        rows = connection.execute(
            "SELECT rowid, typeof(payload), length(CAST(payload AS BLOB)),"
            " CASE WHEN length(CAST(payload AS BLOB)) <= ? THEN CAST(payload AS BLOB) END"
            " FROM evidence_metadata ORDER BY rowid",
            (MAX_RECORD_BYTES,),
        )
        for index, (rowid, kind, size, payload) in enumerate(rows):
            where = f"index {index} (rowid {rowid})"
            if kind not in ("text", "blob"):
                yield where, None, None, f"payload is {kind}, not JSON text"
            elif payload is None:
                yield where, None, None, f"payload of {size} bytes: {TOO_LARGE}"
            else:
                yield where, payload, None, None
    except sqlite3.Error as error:
        yield "database", None, None, f"no readable evidence_metadata(payload) table: {error}"
    finally:
        connection.close()
