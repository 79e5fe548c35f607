"""Readers for CAVRA's stores: the JSON store, a JSON array, NDJSON and the SQLite database."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path

from cavra_gql import jsontext

SQLITE_HEADER = b"SQLite format 3\x00"

# One item of a file: where it stands (for error messages), its JSON text when the reader has
# it on its own (left to parse, possibly in another process), else the parsed value, and the
# reason the reader could not read it, if any.
Item = tuple[str, bytes | None, object, str | None]


def detect(path: Path) -> str:
    """The file's format, told from its content: sqlite, store, array or ndjson."""
    with path.open("rb") as handle:
        head = handle.read(len(SQLITE_HEADER))
        if head == SQLITE_HEADER:
            return "sqlite"
        handle.seek(0)
        first_line = handle.readline()
        stripped = first_line.lstrip(b"\xef\xbb\xbf \t\r\n")
        while not stripped:
            first_line = handle.readline()
            if not first_line:
                return "ndjson"
            stripped = first_line.lstrip(b" \t\r\n")
        if stripped.startswith(b"["):
            return "array"
        if not stripped.startswith(b"{"):
            return "ndjson"
        alone = not handle.read(1 << 16).strip()
        try:
            value = jsontext.loads(stripped)
        except ValueError:
            # An object that spans lines is a JSON document; a lone broken line is NDJSON.
            return "ndjson" if alone else "store"
        store = isinstance(value, dict) and "items" in value and "session_id" not in value
        return "store" if store and alone else "ndjson"


def read(path: Path) -> Iterator[Item]:
    """Every item of a file in file order."""
    kind = detect(path)
    if kind == "sqlite":
        yield from _read_sqlite(path)
    elif kind == "ndjson":
        yield from _read_ndjson(path)
    else:
        yield from _read_document(path, kind)


def _read_ndjson(path: Path) -> Iterator[Item]:
    with path.open("rb") as handle:
        for number, raw in enumerate(handle, start=1):
            if number == 1:
                raw = raw.removeprefix(b"\xef\xbb\xbf")
            if raw.strip():
                yield f"line {number}", raw, None, None


def _read_document(path: Path, kind: str) -> Iterator[Item]:
    try:
        value = jsontext.loads(path.read_bytes().decode("utf-8-sig"))
    except UnicodeDecodeError as error:
        yield "document", None, None, f"not UTF-8 text (byte {error.start + 1})"
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


def _read_sqlite(path: Path) -> Iterator[Item]:
    try:
        connection = sqlite3.connect(f"file:{path.resolve()}?mode=ro", uri=True)
    except sqlite3.Error as error:
        yield "database", None, None, f"cannot open the SQLite database: {error}"
        return
    try:
        rows = connection.execute("SELECT rowid, payload FROM evidence_metadata ORDER BY rowid")
        for index, (rowid, payload) in enumerate(rows):
            where = f"index {index} (rowid {rowid})"
            if isinstance(payload, str):
                yield where, payload.encode("utf-8", "surrogatepass"), None, None
            elif isinstance(payload, bytes):
                yield where, payload, None, None
            else:
                yield where, None, None, f"payload is {type(payload).__name__}, not JSON text"
    except sqlite3.Error as error:
        yield "database", None, None, f"no readable evidence_metadata(payload) table: {error}"
    finally:
        connection.close()
