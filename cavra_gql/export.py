"""Exports of the filtered history as NDJSON or CSV, streamed, hashed and counted as written."""

from __future__ import annotations

import csv
import hashlib
import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO

from sqlalchemy import Engine, Row

from cavra_gql import manifest
from cavra_gql.db import read_connection
from cavra_gql.export_formats import CSV_COLUMNS, GUARDED
from cavra_gql.instants import format_instant, now_us
from cavra_gql.queries.export import stream_history
from cavra_gql.queries.filters import HistoryFilter
from cavra_gql.signing import SigningKey


def _flag(value: bool | None) -> str:
    return "" if value is None else "true" if value else "false"


def csv_cells(row: Sequence[Any]) -> list[str]:
    """The cells of a row before its `record`, guarded against formulas (by position: the
    export query's columns are in CSV order, and a Row reads far faster as a tuple)."""
    (sid, kind, created_us, status, outstanding, providers, *texts, success) = row[:13]
    cells = [
        sid,
        kind,
        format_instant(created_us),
        status or "",
        _flag(outstanding),
        providers,
        *(text or "" for text in texts),
        _flag(success),
        *(text or "" for text in row[13:18]),
    ]
    return [("'" + cell) if cell[:1] in GUARDED else cell for cell in cells]


def record_cell(record_json: str) -> str:
    """The `record` cell, quoted (JSON objects always hold quotes), and the row's end.

    str.replace does here what csv.writer does, several times faster on kilobytes of JSON;
    a JSON object starts with `{`, so the formula guard never applies.
    """
    return '"' + record_json.replace('"', '""') + '"\r\n'


@dataclass
class Written:
    """What an export wrote: its size, digest, record count and time range."""

    byte_size: int = 0
    record_count: int = 0
    oldest_us: int | None = None
    newest_us: int | None = None
    digest: Any = field(default_factory=hashlib.sha256)

    @property
    def sha256(self) -> str:
        return str(self.digest.hexdigest())

    def write(self, out: BinaryIO, data: bytes) -> None:
        out.write(data)
        self.digest.update(data)
        self.byte_size += len(data)

    def saw(self, created_us: int) -> None:
        self.record_count += 1
        if self.oldest_us is None or created_us < self.oldest_us:
            self.oldest_us = created_us
        if self.newest_us is None or created_us > self.newest_us:
            self.newest_us = created_us


class _Lines:
    """What csv.writer writes to: each row's text, encoded for the output."""

    def __init__(self) -> None:
        self.text = ""

    def write(self, text: str) -> None:
        self.text = text


def write_rows(rows: Iterable[Row[Any]], fmt: str, out: BinaryIO) -> Written:
    """Write the rows to `out` in `fmt`; NDJSON lines are the stored records byte for byte."""
    written = Written()
    if fmt == "ndjson":
        for row in rows:
            written.write(out, row.record_json.encode("utf-8") + b"\n")
            written.saw(row.created_us)
        return written
    line = _Lines()
    csv.writer(line, lineterminator="\r\n").writerow(CSV_COLUMNS)  # RFC 4180: CRLF, "" for "
    written.write(out, line.text.encode("utf-8"))
    cells = csv.writer(line, lineterminator=",")  # the record cell follows
    for row in rows:
        cells.writerow(csv_cells(row))
        written.write(out, (line.text + record_cell(row.record_json)).encode("utf-8"))
        written.saw(row.created_us)
    return written


@dataclass(frozen=True)
class Export:
    """An export just written, and its manifest (signed when a key was given)."""

    written: Written
    manifest: dict[str, Any]


def export(
    engine: Engine,
    flt: HistoryFilter,
    fmt: str,
    out: BinaryIO,
    *,
    file_name: str,
    signing_key: SigningKey | None = None,
    generated_us: int | None = None,
) -> Export:
    """Write the history matching `flt` to `out` from one snapshot, and describe it."""
    if generated_us is None:
        generated_us = now_us()
    with read_connection(engine) as conn:
        written = write_rows(stream_history(conn, flt), fmt, out)
    document = manifest.build(
        flt=flt,
        fmt=fmt,
        file_name=file_name,
        generated_us=generated_us,
        record_count=written.record_count,
        time_range=(written.oldest_us, written.newest_us),
        sha256=written.sha256,
        byte_size=written.byte_size,
        columns=CSV_COLUMNS if fmt == "csv" else None,
    )
    if signing_key is not None:
        document = manifest.sign(document, signing_key)
    return Export(written, document)


def default_file_name(fmt: str, generated_us: int) -> str:
    stamp = format_instant(generated_us).replace("-", "").replace(":", "")[:15]
    return f"cavra-rollback-drill-notifications-{stamp}Z.{fmt}"


def export_to_files(
    engine: Engine,
    flt: HistoryFilter,
    fmt: str,
    output: Path,
    manifest_path: Path,
    *,
    signing_key: SigningKey | None = None,
) -> Export:
    """Write the export and its manifest; each appears whole (written beside, then renamed)
    or not at all."""
    partials: list[Path] = []
    try:
        data_partial = _partial(output, partials)
        with data_partial.open("wb") as out:
            done = export(engine, flt, fmt, out, file_name=output.name, signing_key=signing_key)
            out.flush()
            os.fsync(out.fileno())
        manifest_partial = _partial(manifest_path, partials)
        manifest_partial.write_text(manifest.dumps(done.manifest), encoding="utf-8")
        data_partial.replace(output)
        manifest_partial.replace(manifest_path)
        return done
    finally:
        for path in partials:
            path.unlink(missing_ok=True)


def _partial(target: Path, made: list[Path]) -> Path:
    """A new file beside `target` (same file system, so the rename is atomic)."""
    path = target.with_name(f".{target.name}.{os.getpid()}.partial")
    path.touch(exist_ok=False)
    made.append(path)
    return path
