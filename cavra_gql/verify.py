"""Checking an export file against its manifest: size, SHA-256, records, time range, signature."""

from __future__ import annotations

import csv
import hashlib
import io
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from cavra_gql import jsontext
from cavra_gql.export_formats import CSV_COLUMNS, FORMATS, unguard_cell
from cavra_gql.instants import parse_instant
from cavra_gql.manifest import SCHEMA_VERSION, canonical, span
from cavra_gql.signing import ALGORITHM, key_id, signature_matches

REQUIRED = ("format", "record_count", "time_range", "sha256", "byte_size")
MAX_RECORD_PROBLEMS = 5  # a damaged file is named by its first few bad records


class ManifestError(ValueError):
    """A manifest that cannot be read or lacks what verification needs."""


def read_manifest(path: Path) -> dict[str, Any]:
    try:
        document = json.loads(path.read_bytes())
    except ValueError as error:
        raise ManifestError(f"{path}: not a JSON manifest ({error})") from None
    if not isinstance(document, dict):
        raise ManifestError(f"{path}: not a JSON manifest (a JSON object is expected)")
    if document.get("schema_version") != SCHEMA_VERSION:
        found = document.get("schema_version")
        raise ManifestError(f"{path}: schema_version is {found!r}, expected {SCHEMA_VERSION!r}")
    missing = [name for name in REQUIRED if name not in document]
    if missing:
        raise ManifestError(f"{path}: the manifest lacks {', '.join(missing)}")
    if document["format"] not in FORMATS:
        raise ManifestError(f"{path}: unknown format {document['format']!r}")
    return document


class _Hashing(io.RawIOBase):
    """A file read once, hashed and counted on the way."""

    def __init__(self, raw: BinaryIO) -> None:
        self.raw = raw
        self.digest = hashlib.sha256()
        self.size = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        count = self.raw.readinto(buffer)  # type: ignore[attr-defined]
        if count:
            self.digest.update(memoryview(buffer)[:count])
            self.size += count
        return int(count or 0)


@dataclass
class Measured:
    """What the file holds, as read."""

    byte_size: int = 0
    sha256: str = ""
    record_count: int = 0
    oldest_us: int | None = None
    newest_us: int | None = None
    problems: list[str] = field(default_factory=list)

    def saw(self, created_at: object, where: str) -> None:
        self.record_count += 1
        try:
            instant = parse_instant(created_at) if isinstance(created_at, str) else None
        except ValueError:
            instant = None
        if instant is None:
            self.problem(f"{where}: no readable created_at")
            return
        self.oldest_us = instant if self.oldest_us is None else min(self.oldest_us, instant)
        self.newest_us = instant if self.newest_us is None else max(self.newest_us, instant)

    def problem(self, text: str) -> None:
        if len(self.problems) < MAX_RECORD_PROBLEMS:
            self.problems.append(text)
        elif len(self.problems) == MAX_RECORD_PROBLEMS:
            self.problems.append("(further record problems not shown)")

    @property
    def time_range(self) -> dict[str, str] | None:
        return span(self.oldest_us, self.newest_us)


def measure(path: Path, fmt: str) -> Measured:
    """Read the file once: its size and SHA-256, and its records parsed and counted."""
    found = Measured()
    with path.open("rb", buffering=0) as raw:
        hashing = _Hashing(raw)
        reader = io.BufferedReader(hashing, buffer_size=1 << 20)
        if fmt == "ndjson":
            _ndjson(reader, found)
        else:
            _csv(reader, found)
        while reader.read(1 << 20):  # whatever the parser left unread is hashed too
            pass
    found.byte_size, found.sha256 = hashing.size, hashing.digest.hexdigest()
    return found


def _ndjson(reader: BinaryIO, found: Measured) -> None:
    for number, line in enumerate(reader, start=1):
        where = f"line {number}"
        if not line.endswith(b"\n"):
            found.problem(f"{where}: the last line does not end with a newline")
        try:
            record = jsontext.loads(line)
        except ValueError as error:
            found.record_count += 1
            found.problem(f"{where}: not a JSON record ({error})")
            continue
        if not isinstance(record, dict):
            found.record_count += 1
            found.problem(f"{where}: not a JSON object")
            continue
        found.saw(record.get("created_at"), where)


def _rows(reader: BinaryIO) -> Iterator[list[str]]:
    text = io.TextIOWrapper(reader, encoding="utf-8", newline="")
    try:
        yield from csv.reader(text, strict=True)
    finally:
        text.detach()  # the rest of the file is still to be hashed


def _csv(reader: BinaryIO, found: Measured) -> None:
    rows = _rows(reader)
    try:
        header = next(rows, None)
        if header is None:
            found.problem("the file is empty: no CSV header")
            return
        if tuple(header) != CSV_COLUMNS:
            found.problem(f"the CSV header is not the export's columns: {header[:4]}...")
        created, record = CSV_COLUMNS.index("created_at"), CSV_COLUMNS.index("record")
        for number, cells in enumerate(rows, start=2):
            where = f"row {number}"
            if len(cells) != len(CSV_COLUMNS):
                found.record_count += 1
                found.problem(f"{where}: {len(cells)} cells, expected {len(CSV_COLUMNS)}")
                continue
            try:
                value = jsontext.loads(unguard_cell(cells[record]))
            except ValueError as error:
                found.record_count += 1
                found.problem(f"{where}: the record cell is not JSON ({error})")
                continue
            if not isinstance(value, dict):
                found.problem(f"{where}: the record cell is not a JSON object")
            found.saw(unguard_cell(cells[created]), where)
    except (csv.Error, UnicodeDecodeError) as error:
        found.problem(f"not a readable CSV file: {error}")


@dataclass
class Verdict:
    """The outcome: problems (invalid), and whether the signature was checked."""

    measured: Measured
    problems: list[str]
    signature: str  # "valid", "absent", "unchecked" (signed, but no public key given)
    key_id: str | None = None

    @property
    def valid(self) -> bool:
        return not self.problems


def _differs(name: str, stated: object, actual: object) -> str:
    return f"{name} differs: manifest {_shown(stated)}, file {_shown(actual)}"


def _shown(value: object) -> str:
    return json.dumps(value, ensure_ascii=False) if not isinstance(value, str) else value


def verify(path: Path, document: dict[str, Any], public_key: Ed25519PublicKey | None) -> Verdict:
    measured = measure(path, document["format"])
    problems: list[str] = []
    for name, actual in (
        ("byte size", measured.byte_size),
        ("sha256", measured.sha256),
        ("record count", measured.record_count),
        ("time range", measured.time_range),
    ):
        stated = document[name.replace(" ", "_")]
        if stated != actual:
            problems.append(_differs(name, stated, actual))
    problems += measured.problems
    signature = document.get("signature")
    if signature is None:
        if public_key is not None:
            problems.append("the manifest is not signed, but a public key was given")
        return Verdict(measured, problems, "absent")
    if public_key is None:
        return Verdict(measured, problems, "unchecked", _signed_key(signature))
    given = key_id(public_key)
    refused = _signature_problem(document, signature, public_key, given)
    if refused is not None:
        problems.append(refused)
    return Verdict(measured, problems, "invalid" if refused else "valid", given)


def _signature_problem(
    document: dict[str, Any], signature: object, public_key: Ed25519PublicKey, given: str
) -> str | None:
    if not isinstance(signature, dict) or signature.get("algorithm") != ALGORITHM:
        return f"the manifest's signature is not an {ALGORITHM} signature"
    if signature.get("key_id") != given:
        return (
            f"the manifest was signed with key {signature.get('key_id')}, "
            f"the public key given is {given}"
        )
    if not signature_matches(public_key, str(signature.get("value")), canonical(document)):
        return "the signature does not match the manifest (it was edited after signing)"
    return None


def _signed_key(signature: object) -> str | None:
    return str(signature.get("key_id")) if isinstance(signature, dict) else None
