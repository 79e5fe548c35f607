"""Readers for CAVRA's stores: the JSON store, a JSON array, NDJSON and the SQLite database."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path

from cavra_gql import jsontext

SQLITE_HEADER = b"SQLite format 3\x00"

# One item of a file: where it stands (for error messages), the parsed value or the reason it
# could not be parsed, and its JSON text when the reader had it on its own (else None).
Item = tuple[str, object | None, str | None, bytes | None]


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
            if not raw.strip():
                continue
            where = f"line {number}"
            try:
                raw.decode("utf-8")  # orjson would say less about where the bad byte is
                yield where, jsontext.loads(raw), None, raw
            except UnicodeDecodeError as error:
                yield where, None, f"not UTF-8 text (byte {error.start + 1})", None
            except ValueError as error:
                yield where, None, str(error), None


def _read_document(path: Path, kind: str) -> Iterator[Item]:
    try:
        value = jsontext.loads(path.read_bytes().decode("utf-8-sig"))
    except UnicodeDecodeError as error:
        yield "document", None, f"not UTF-8 text (byte {error.start + 1})", None
        return
    except ValueError as error:
        yield "document", None, str(error), None
        return
    if isinstance(value, dict):
        items = value.get("items")
        if not isinstance(items, list):
            yield "document", None, "a JSON object without an `items` list", None
            return
        value = items
    if not isinstance(value, list):
        yield "document", None, f"expected a JSON {kind}, found {type(value).__name__}", None
        return
    for index, item in enumerate(value):
        yield f"index {index}", item, None, None


def _read_sqlite(path: Path) -> Iterator[Item]:
    try:
        connection = sqlite3.connect(f"file:{path.resolve()}?mode=ro", uri=True)
    except sqlite3.Error as error:
        yield "database", None, f"cannot open the SQLite database: {error}", None
        return
    try:
        rows = connection.execute("SELECT rowid, payload FROM evidence_metadata ORDER BY rowid")
        for index, (rowid, payload) in enumerate(rows):
            where = f"index {index} (rowid {rowid})"
            try:
                raw = payload.encode("utf-8") if isinstance(payload, str) else payload
                if not isinstance(raw, bytes):
                    raise ValueError(f"payload is {type(payload).__name__}, not JSON text")
                raw.decode("utf-8")
                yield where, jsontext.loads(raw), None, raw
            except UnicodeError as error:
                yield where, None, f"payload is not UTF-8 text: {error}", None
            except ValueError as error:
                yield where, None, f"payload: {error}", None
    except sqlite3.Error as error:
        yield "database", None, f"no readable evidence_metadata(payload) table: {error}", None
    finally:
        connection.close()
