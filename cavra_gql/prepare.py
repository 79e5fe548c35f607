"""Making records ready to store: validation, redaction and derived rows, with the tally of
the summary rows they add. It runs in ingest's worker processes, so it imports nothing
heavier than the JSON parser (no SQLAlchemy)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, NamedTuple

from cavra_gql import jsontext, readers
from cavra_gql.derive import MAX_INDEXED_LENGTH, Derived, derive, indexable
from cavra_gql.instants import parse_instant
from cavra_gql.redaction import may_need_redaction, redact
from cavra_gql.tally import Tally


class RecordProblem(ValueError):
    """One record that cannot be stored: where it is, which field, and why."""

    def __init__(self, where: str, field: str | None, reason: str) -> None:
        self.where, self.field, self.reason = where, field, reason
        place = f"{where}: field {field}" if field else where
        super().__init__(f"{place}: {reason}")


class Prepared(NamedTuple):
    """A validated, redacted record ready to store, with its derived rows."""

    session_id: str
    derived: Derived  # its row ends with the stored JSON text


class Batch(NamedTuple):
    """Records ready to store, as the rows that go into each table: plain tuples, which
    cross from a worker process to the writer far cheaper than objects."""

    history: list[tuple[Any, ...]]  # derive.HISTORY_COLUMNS
    others: list[tuple[Any, ...]]  # derive.OTHER_COLUMNS
    provider_rows: list[tuple[Any, ...]]  # derive.PROVIDER_COLUMNS
    route_rows: list[tuple[Any, ...]]  # derive.ROUTE_COLUMNS
    tally: Tally  # the summary rows the history rows add


def batch_of(items: Iterable[Prepared]) -> Batch:
    """The rows of a batch of records, each session_id once: the last occurrence wins, in
    the place of the first."""
    batch = Batch([], [], [], [], Tally())
    for item in {item.session_id: item for item in items}.values():
        derived = item.derived
        if not derived.in_history:
            batch.others.append(derived.row)
            continue
        batch.history.append(derived.row)
        batch.tally.add(derived.row, derived.providers)
        session_id = item.session_id
        batch.provider_rows.extend((session_id, *role) for role in derived.providers)
        batch.route_rows.extend(
            (session_id, position, name) for position, name in enumerate(derived.required)
        )
    return batch


def _required_text(value: dict[str, object], field: str, where: str) -> str:
    if field not in value:
        raise RecordProblem(where, field, "missing")
    found = value[field]
    if not isinstance(found, str) or not found.strip():
        raise RecordProblem(where, field, "must be a non-empty string")
    if not indexable(found):
        limit = MAX_INDEXED_LENGTH
        raise RecordProblem(where, field, f"must be at most {limit} characters, without NUL")
    return found


def prepare(value: object, where: str, raw: bytes | None = None) -> Prepared:
    """Validate one parsed record, redact it (SPEC §5, §7) and derive its rows.

    `raw` is the record's JSON text when known: without anything §7 acts on in it, the
    redaction walk is skipped.
    """
    if not isinstance(value, dict):
        raise RecordProblem(where, None, f"expected a JSON object, found {type(value).__name__}")
    session_id = _required_text(value, "session_id", where)
    _required_text(value, "metadata_kind", where)
    if "created_at" not in value:
        raise RecordProblem(where, "created_at", "missing")
    created_at = value["created_at"]
    if not isinstance(created_at, str):
        raise RecordProblem(where, "created_at", "must be an ISO-8601 date-time string")
    try:
        created_us = parse_instant(created_at)
    except ValueError as error:
        raise RecordProblem(where, "created_at", str(error)) from None
    record = value if raw is not None and not may_need_redaction(raw) else redact(value)
    try:
        text = jsontext.dumps(record)
    except ValueError as error:
        raise RecordProblem(where, None, str(error)) from None
    # Text read from a file was held to the limit before parsing (redaction never nests
    # deeper); a value handed over parsed is measured here.
    if raw is None and jsontext.too_deep(text):
        raise RecordProblem(where, None, jsontext.TOO_DEEP)
    # A character takes at most 4 bytes: only a record near the limit is measured in bytes.
    if len(text) * 4 > readers.MAX_RECORD_BYTES:
        size = len(text.encode("utf-8", "surrogatepass"))
        if size > readers.MAX_RECORD_BYTES:
            raise RecordProblem(where, None, f"{size} bytes of JSON: {readers.TOO_LARGE}")
    return Prepared(session_id, derive(record, created_us, text))


def _parse(raw: bytes, where: str) -> object:
    try:
        return jsontext.loads(raw)
    except ValueError as error:
        try:
            raw.decode("utf-8")
        except UnicodeDecodeError as bad:
            raise RecordProblem(where, None, f"not UTF-8 text (byte {bad.start + 1})") from None
        raise RecordProblem(where, None, str(error)) from None


class Chunk(NamedTuple):
    """A chunk of a file made ready in one go (in a worker process for large files)."""

    read: int
    problems: list[str]
    batch: Batch  # empty when the chunk has problems: nothing of the file is stored


def prepare_items(items: list[readers.Item]) -> Chunk:
    """A chunk's records made ready to store, or the texts of their problems (run in worker
    processes)."""
    done: list[Prepared] = []
    problems: list[str] = []
    for where, raw, value, reason in items:
        try:
            if reason is not None:
                raise RecordProblem(where, None, reason)
            if raw is not None and value is None:  # `value`: parsed already (sync)
                value = _parse(raw, where)
            done.append(prepare(value, where, raw))
        except RecordProblem as problem:
            problems.append(str(problem))
    return Chunk(len(items), problems, batch_of([] if problems else done))
