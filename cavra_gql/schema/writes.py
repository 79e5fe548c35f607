"""`ingestRecords` (operators only) and the write audit log it fills."""

from __future__ import annotations

from dataclasses import asdict
from typing import Annotated

import strawberry
from strawberry.scalars import JSON

from cavra_gql import metrics, writes
from cavra_gql.auth import require_operator
from cavra_gql.errors import BadInput
from cavra_gql.instants import format_instant
from cavra_gql.queries import audit_log
from cavra_gql.schema.context import Info
from cavra_gql.schema.fields import doc


@strawberry.type(description="A record ingestRecords could not accept, and why.")
class IngestRecordError:
    index: int = doc("Position of the record in `records` (0-based).")
    field: str | None = doc("The field at fault; null when the record as a whole is.")
    reason: str = doc("What is wrong with it.")
    message: str = doc("Index, field and reason in one line.")


@strawberry.type(description="What one ingestRecords call did.")
class IngestRecordsResult:
    accepted: bool = doc(
        "Whether the records were stored. All or nothing: false when any record has an "
        "error, and then nothing is stored."
    )
    read: int = doc("Records received.")
    new: int = doc("Records stored for the first time.")
    updated: int = doc("Records that replaced a stored record with the same session_id.")
    unchanged: int = doc("Records identical to what was stored already.")
    errors: list[IngestRecordError] = doc("Every record that cannot be stored.")
    audit_entry_id: strawberry.ID | None = doc("The write's entry in writeAuditLog, if stored.")


@strawberry.type(description="One accepted write through the API.")
class WriteAuditEntry:
    id: strawberry.ID = doc("The entry's id (pass it as `before` for older entries).")
    at: str = doc("When the write was committed (ISO-8601, UTC).")
    actor: str = doc("Who wrote: the API token's name or the JWT's subject.")
    role: str = doc("The writer's role.")
    operation: str = doc("The GraphQL field that wrote.")
    request_id: str = doc("The HTTP request's id (X-Request-ID), as in the server log.")
    record_count: int = doc("Distinct records (session_ids) written.")
    new: int = doc("Records stored for the first time.")
    updated: int = doc("Records replaced.")
    unchanged: int = doc("Records identical to what was stored already.")
    session_ids: list[str] = doc("The session_ids written, in the order received.")

    @classmethod
    def of(cls, entry: audit_log.AuditEntry) -> WriteAuditEntry:
        values = asdict(entry)
        return cls(
            **values
            | {"id": strawberry.ID(str(entry.id)), "at": format_instant(values.pop("at_us"))}
        )


def ingest_records(
    info: Info,
    records: Annotated[
        list[JSON],
        strawberry.argument(
            description=(
                "CAVRA evidence records (SPEC §5): each needs session_id, metadata_kind and an "
                "ISO-8601 created_at. Redacted (SPEC §7) before anything is stored."
            )
        ),
    ],
) -> IngestRecordsResult:
    context = info.context
    principal = require_operator(context.settings.auth, context.principal)
    outcome = writes.ingest_records(
        context.engine,
        records,
        principal=principal,
        request_id=context.request_id,
        max_records=context.settings.limits.max_write_records,
    )
    metrics.count_ingest(outcome)
    return IngestRecordsResult(
        accepted=outcome.accepted,
        read=outcome.read,
        new=outcome.counts.new,
        updated=outcome.counts.updated,
        unchanged=outcome.counts.unchanged,
        errors=[
            IngestRecordError(
                index=e.index,
                field=e.field,
                reason=e.reason,
                message=f"index {e.index}: " + (f"field {e.field}: " if e.field else "") + e.reason,
            )
            for e in outcome.errors
        ],
        audit_entry_id=strawberry.ID(str(outcome.audit_id)) if outcome.audit_id else None,
    )


def write_audit_log(
    info: Info,
    limit: Annotated[
        int, strawberry.argument(description="Entries to return, newest first (at most 500).")
    ] = 50,
    before: Annotated[
        strawberry.ID | None,
        strawberry.argument(description="Only entries older than this entry id."),
    ] = None,
) -> list[WriteAuditEntry]:
    context = info.context
    require_operator(context.settings.auth, context.principal)
    if limit < 0:
        raise BadInput("limit", f"must be >= 0, got {limit}")
    before_id = None
    if before is not None:
        if not str(before).isdigit():
            raise BadInput("before", f"must be an entry id, got {before!r}")
        before_id = int(before)
    return [WriteAuditEntry.of(e) for e in audit_log.entries(context.conn, limit, before_id)]


@strawberry.type(description="Writes. Each needs an operator's credential.")
class Mutation:
    ingest_records: IngestRecordsResult = strawberry.field(
        resolver=ingest_records,
        description=(
            "Store CAVRA evidence records with the CLI's rules (SPEC §5, §7): validated, "
            "redacted, upserted by session_id, all or nothing. Operators only; a server "
            "without configured credentials accepts no writes."
        ),
    )
