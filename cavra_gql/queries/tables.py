"""Short handles on the SQL tables for query code."""

from __future__ import annotations

from sqlalchemy import Table

from cavra_gql.models import (
    ChangeBatch,
    EvidenceRecord,
    IngestTotal,
    OtherRecord,
    ProviderSummary,
    RecordProvider,
    RecordSummary,
    RequiredRoute,
    SyncRecord,
    SyncSource,
    WriteAuditEntry,
)

records: Table = EvidenceRecord.__table__  # type: ignore[attr-defined]
providers: Table = RecordProvider.__table__  # type: ignore[attr-defined]
required_routes: Table = RequiredRoute.__table__  # type: ignore[attr-defined]
record_summary: Table = RecordSummary.__table__  # type: ignore[attr-defined]
provider_summary: Table = ProviderSummary.__table__  # type: ignore[attr-defined]
other_records: Table = OtherRecord.__table__  # type: ignore[attr-defined]
write_audit_log: Table = WriteAuditEntry.__table__  # type: ignore[attr-defined]
change_batches: Table = ChangeBatch.__table__  # type: ignore[attr-defined]
sync_sources: Table = SyncSource.__table__  # type: ignore[attr-defined]
sync_records: Table = SyncRecord.__table__  # type: ignore[attr-defined]
ingest_totals: Table = IngestTotal.__table__  # type: ignore[attr-defined]
