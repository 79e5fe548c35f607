"""The SQL tables: history records with their filter columns, provider sets, required routes,
records outside the history, the hourly/daily summaries, the write audit log, the change
feed, the state of `cavra-gql sync` and the ingest counters."""

from __future__ import annotations

from typing import Any

from sqlalchemy import BigInteger, Column, Index, LargeBinary, String, Text, text
from sqlmodel import Field, SQLModel

# Ties in history order are broken by session_id in code-point (byte) order; PostgreSQL's
# default collation follows the locale, so the key column uses "C" there.
SessionKey = String().with_variant(String(collation="C"), "postgresql")


def sparse(name: str, *columns: Any) -> Index:
    """An index over the rows where the first column is set (most rows leave it null)."""
    first = columns[0] if isinstance(columns[0], str) else columns[0].name
    condition = text(f"{first} IS NOT NULL")
    return Index(name, *columns, sqlite_where=condition, postgresql_where=condition)


class EvidenceRecord(SQLModel, table=True):
    """A history record (SPEC §2): the redacted JSON plus every column a filter reads."""

    __tablename__ = "evidence_records"

    session_id: str = Field(sa_column=Column(SessionKey, primary_key=True))
    metadata_kind: str
    created_us: int = Field(sa_column=Column(BigInteger, nullable=False))
    status: str | None = None
    has_outstanding: bool = False
    schedule_id: str | None = None
    event_id: str | None = None
    nested_schedule_id: str | None = None
    provider: str | None = None
    acknowledgement_state: str | None = None
    connector_delivery_source: str | None = None
    delivery_success: bool | None = None
    alert_level: str | None = None
    audit_id: str | None = None
    nested_audit_id: str | None = None
    delivery_id: str | None = None
    cadence: str | None = None
    # Bit per provider category (kinds.CATEGORY_BITS) / known provider (kinds.PROVIDER_BITS)
    # in the record's provider set: cheap to test while scanning in history order.
    category_mask: int = 0
    provider_mask: int = 0
    # Notification plans only: the schedule their routes belong to, and their plan id.
    route_schedule_key: str | None = None
    route_plan_id: str | None = None
    providers_json: str = Field(sa_column=Column(Text, nullable=False))
    record_json: str = Field(sa_column=Column(Text, nullable=False))
    # The change_batches.id of the write that stored this version of the record (0: stored
    # before the change feed existed): live subscriptions read a write's records by it.
    change_batch: int = Field(
        default=0, sa_column=Column(BigInteger, nullable=False, server_default=text("0"))
    )

    __table_args__ = (
        # History order, covering the common low-selectivity filters so a page scan
        # reads the table only for the rows it returns.
        Index(
            "ix_evidence_records_history_order",
            Column("created_us").desc(),
            "session_id",
            "metadata_kind",
            "connector_delivery_source",
            "delivery_success",
            "status",
            "has_outstanding",
            "category_mask",
            "provider_mask",
        ),
        sparse("ix_evidence_records_schedule_id", "schedule_id"),
        sparse("ix_evidence_records_event_id", "event_id"),
        sparse("ix_evidence_records_nested_schedule_id", "nested_schedule_id"),
        sparse("ix_evidence_records_provider", "provider"),
        sparse("ix_evidence_records_alert_level", "alert_level", Column("created_us").desc()),
        sparse("ix_evidence_records_audit_id", "audit_id"),
        sparse("ix_evidence_records_nested_audit_id", "nested_audit_id"),
        sparse("ix_evidence_records_delivery_id", "delivery_id"),
        sparse("ix_evidence_records_cadence", "cadence", Column("created_us").desc()),
        Index("ix_evidence_records_change_batch", "change_batch"),
        # Acknowledgements by route, for the outstanding-acknowledgement check.
        # (The kind, masks and instants ride along so the check never reads the table:
        # PostgreSQL then answers it by index-only scans.)
        sparse(
            "ix_evidence_records_acknowledgement",
            "acknowledgement_state",
            "schedule_id",
            "provider",
            "metadata_kind",
            "created_us",
            "category_mask",
            "provider_mask",
        ),
        # Notification plans per schedule, newest first: the first plan of each schedule.
        sparse(
            "ix_evidence_records_plan_routes",
            "route_schedule_key",
            Column("created_us").desc(),
            "session_id",
            "category_mask",
            "provider_mask",
        ),
    )


class OtherRecord(SQLModel, table=True):
    """A stored record outside the history (other kinds and sources): kept, never served."""

    __tablename__ = "other_records"

    session_id: str = Field(sa_column=Column(SessionKey, primary_key=True))
    metadata_kind: str
    created_us: int = Field(sa_column=Column(BigInteger, nullable=False))
    record_json: str = Field(sa_column=Column(Text, nullable=False))


class RecordProvider(SQLModel, table=True):
    """One provider of a history record's provider set, with the fields it came from."""

    __tablename__ = "record_providers"

    session_id: str = Field(sa_column=Column(SessionKey, primary_key=True))
    provider: str = Field(primary_key=True)
    selected: bool = False  # in selected_providers
    attempted: bool = False  # in providers or failed_providers (connector deliveries)
    failed: bool = False  # in failed_providers

    __table_args__ = (
        Index("ix_record_providers_provider", "provider", "session_id"),
        {"sqlite_with_rowid": False},
    )


class RequiredRoute(SQLModel, table=True):
    """A provider whose acknowledgement a notification plan requires, in plan order."""

    __tablename__ = "plan_required_routes"

    session_id: str = Field(sa_column=Column(SessionKey, primary_key=True))
    position: int = Field(primary_key=True)
    provider: str

    __table_args__ = ({"sqlite_with_rowid": False},)


class RecordSummary(SQLModel, table=True):
    """History records per UTC hour or day and filterable outcome, exact at every import.

    Its dimension columns carry the names and types of the record columns they summarise,
    so the shared filter conditions apply to it unchanged.
    """

    __tablename__ = "record_summary"

    id: int | None = Field(default=None, primary_key=True)
    width_us: int = Field(sa_column=Column(BigInteger, nullable=False))
    bucket_us: int = Field(sa_column=Column(BigInteger, nullable=False))
    metadata_kind: str
    connector_delivery_source: str | None = None
    delivery_success: bool | None = None
    status: str | None = None
    has_outstanding: bool = False
    category_mask: int = 0
    record_count: int = 0

    __table_args__ = (Index("ix_record_summary_bucket", "width_us", "bucket_us"),)


class ProviderSummary(SQLModel, table=True):
    """Per UTC hour or day, provider and outcome: records naming the provider, audit attempts."""

    __tablename__ = "provider_summary"

    id: int | None = Field(default=None, primary_key=True)
    width_us: int = Field(sa_column=Column(BigInteger, nullable=False))
    bucket_us: int = Field(sa_column=Column(BigInteger, nullable=False))
    provider: str
    metadata_kind: str
    connector_delivery_source: str | None = None
    delivery_success: bool | None = None
    category_mask: int = 0
    record_count: int = 0
    selected_count: int = 0
    attempts: int = 0
    failures: int = 0
    last_attempt_us: int | None = Field(default=None, sa_column=Column(BigInteger))
    last_success_us: int | None = Field(default=None, sa_column=Column(BigInteger))
    last_failure_us: int | None = Field(default=None, sa_column=Column(BigInteger))
    # The bucket's first attempt in history order (newest, then lowest session_id).
    latest_us: int | None = Field(default=None, sa_column=Column(BigInteger))
    latest_session_id: str | None = Field(default=None, sa_column=Column(SessionKey))
    latest_failed: bool | None = None

    __table_args__ = (Index("ix_provider_summary_bucket", "width_us", "bucket_us"),)


class WriteAuditEntry(SQLModel, table=True):
    """One accepted write through the API: who made it, when, and which records it carried."""

    __tablename__ = "write_audit_log"

    id: int | None = Field(default=None, primary_key=True)
    at_us: int = Field(sa_column=Column(BigInteger, nullable=False, index=True))
    actor: str  # the token's name or the JWT's subject
    role: str
    operation: str
    request_id: str
    record_count: int = 0
    new: int = 0
    updated: int = 0
    unchanged: int = 0
    session_ids_json: str = Field(sa_column=Column(Text, nullable=False))


class ChangeBatch(SQLModel, table=True):
    """One committed write that added or changed history records (the change feed).

    `id` is taken when the write stores its first history record and stamps them
    (evidence_records.change_batch); `seq` is given just before the write commits, under a
    lock held until the commit, so that seq order is commit order and a reader that remembers
    the last seq it read misses no write. Uncommitted batches have no seq.
    """

    __tablename__ = "change_batches"

    id: int | None = Field(default=None, primary_key=True)
    seq: int | None = Field(default=None, sa_column=Column(BigInteger, unique=True))
    committed_us: int | None = Field(default=None, sa_column=Column(BigInteger))
    origin: str = Field(sa_column=Column(Text, nullable=False))  # file, ingestRecords, ...
    records: int = 0  # history records new or updated


def _counter() -> Any:
    return Field(default=0, sa_column=Column(BigInteger, nullable=False))


class SyncSource(SQLModel, table=True):
    """A file `cavra-gql sync` follows: what it last saw of it, and what its passes did."""

    __tablename__ = "sync_sources"

    source: str = Field(primary_key=True)  # the file's absolute path
    format: str | None = None  # store, array, ndjson or sqlite; set by the first pass
    # The file as the last pass found it before reading it: a pass that finds it the same
    # (and the last one `settled`: written long enough before it was read) reads nothing.
    file_size: int = _counter()
    mtime_ns: int = _counter()
    file_id: str = ""  # device:inode, so a replaced file is told from a rewritten one
    settled: bool = False
    probe: bytes | None = Field(default=None, sa_column=Column(LargeBinary))
    # store/array: digest of the whole file; ndjson: digest of samples of the bytes before
    # `position`, which is where the first line not yet read starts (its number: lines + 1).
    digest: bytes | None = Field(default=None, sa_column=Column(LargeBinary))
    position: int = _counter()
    lines: int = _counter()
    passes: int = _counter()  # passes that read the file and committed
    records_read: int = _counter()
    imported_new: int = _counter()
    imported_updated: int = _counter()
    imported_unchanged: int = _counter()
    deletions_seen: int = _counter()
    # When a pass last found the database in step with the file: one that read it, or (at
    # most once a minute, sync.HEARTBEAT_SECONDS) one that found it unchanged.
    last_pass_us: int | None = Field(default=None, sa_column=Column(BigInteger))
    last_error: str | None = Field(default=None, sa_column=Column(Text))
    last_error_us: int | None = Field(default=None, sa_column=Column(BigInteger))


class SyncRecord(SQLModel, table=True):
    """A record a followed file holds, by the digest of its bytes there: a record whose
    digest is unchanged is not read again."""

    __tablename__ = "sync_records"

    source: str = Field(primary_key=True)
    session_id: str = Field(sa_column=Column(SessionKey, primary_key=True))
    fingerprint: bytes = Field(sa_column=Column(LargeBinary, nullable=False))

    __table_args__ = ({"sqlite_with_rowid": False},)


def _total() -> Any:
    return Field(default=0, sa_column=Column(BigInteger, nullable=False, server_default=text("0")))


class IngestTotal(SQLModel, table=True):
    """What the committed writes of one path (`via`) took in and did, since the table was
    made: only ever added to, in each write's own transaction (queries/ingest_totals.py)."""

    __tablename__ = "ingest_totals"

    via: str = Field(sa_column=Column(Text, primary_key=True))  # file, sync, api or demo
    writes: int = _total()
    records_read: int = _total()
    records_new: int = _total()
    records_updated: int = _total()
    records_unchanged: int = _total()
