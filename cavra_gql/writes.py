"""Writes through the API (`ingestRecords`, SPEC §5): the CLI's validation, redaction and
upsert, all or nothing per call, each accepted call recorded in the write audit log."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from sqlalchemy import Engine

from cavra_gql.errors import BadInput
from cavra_gql.ingest import finish
from cavra_gql.instants import now_us
from cavra_gql.prepare import Prepared, RecordProblem, batch_of, prepare
from cavra_gql.principal import Principal
from cavra_gql.queries import audit_log
from cavra_gql.queries.changes import PendingChanges
from cavra_gql.queries.upsert import BATCH, UpsertCounts, upsert

OPERATION = "ingestRecords"


@dataclass(frozen=True, slots=True)
class RecordError:
    """Why the record at `index` (0-based) cannot be stored."""

    index: int
    field: str | None
    reason: str


@dataclass(slots=True)
class WriteOutcome:
    accepted: bool
    read: int
    counts: UpsertCounts = field(default_factory=UpsertCounts)
    errors: list[RecordError] = field(default_factory=list)
    audit_id: int | None = None


def ingest_records(
    engine: Engine,
    values: Sequence[object],
    *,
    principal: Principal,
    request_id: str,
    max_records: int,
) -> WriteOutcome:
    """Validate every record, then store them all in one transaction, or store nothing."""
    if not values:
        raise BadInput("records", "must hold at least one record")
    if len(values) > max_records:
        raise BadInput("records", f"at most {max_records} records per call, got {len(values)}")
    ready: list[Prepared] = []
    errors: list[RecordError] = []
    for index, value in enumerate(values):
        try:
            ready.append(prepare(value, f"index {index}"))
        except RecordProblem as problem:
            errors.append(RecordError(index, problem.field, problem.reason))
    if errors:
        return WriteOutcome(accepted=False, read=len(values), errors=errors)
    counts = UpsertCounts()
    pending = PendingChanges(OPERATION)
    with engine.begin() as conn:
        for start in range(0, len(ready), BATCH):
            counts.add(upsert(conn, batch_of(ready[start : start + BATCH]), pending))
        audit_id = audit_log.record_write(
            conn,
            at_us=now_us(),
            principal=principal,
            operation=OPERATION,
            request_id=request_id,
            session_ids=list(dict.fromkeys(item.session_id for item in ready)),
            counts=counts,
        )
        # last: it enters the write in the change feed and the ingest counters
        finish(conn, counts, pending=pending, via="api", read=len(values))
    return WriteOutcome(True, len(values), counts, [], audit_id)
