"""The SQL tables: one row per stored record, its provider set, and its required routes."""

from __future__ import annotations

from sqlalchemy import BigInteger, Column, Index, String, Text
from sqlmodel import Field, SQLModel

# Ties in history order are broken by session_id in code-point (byte) order; PostgreSQL's
# default collation follows the locale, so the key column uses "C" there.
SessionKey = String().with_variant(String(collation="C"), "postgresql")


class EvidenceRecord(SQLModel, table=True):
    """One CAVRA evidence record: the redacted JSON plus every column a filter reads."""

    __tablename__ = "evidence_records"

    session_id: str = Field(sa_column=Column(SessionKey, primary_key=True))
    metadata_kind: str = Field(index=True)
    created_us: int = Field(sa_column=Column(BigInteger, nullable=False))
    in_history: bool
    status: str | None = Field(default=None, index=True)
    has_outstanding: bool = False
    schedule_id: str | None = Field(default=None, index=True)
    event_id: str | None = Field(default=None, index=True)
    nested_schedule_id: str | None = Field(default=None, index=True)
    provider: str | None = Field(default=None, index=True)
    acknowledgement_state: str | None = Field(default=None, index=True)
    connector_delivery_source: str | None = Field(default=None, index=True)
    delivery_success: bool | None = None
    alert_level: str | None = Field(default=None, index=True)
    audit_id: str | None = Field(default=None, index=True)
    nested_audit_id: str | None = Field(default=None, index=True)
    delivery_id: str | None = Field(default=None, index=True)
    cadence: str | None = Field(default=None, index=True)
    # Bit per provider category (kinds.CATEGORY_BITS) the record's provider set touches.
    category_mask: int = 0
    # Notification plans only: the schedule their routes belong to, and their plan id.
    route_schedule_key: str | None = None
    route_plan_id: str | None = None
    providers_json: str = Field(sa_column=Column(Text, nullable=False))
    record_json: str = Field(sa_column=Column(Text, nullable=False))

    __table_args__ = (
        Index(
            "ix_evidence_records_history_order",
            "in_history",
            Column("created_us").desc(),
            "session_id",
        ),
    )


class RecordProvider(SQLModel, table=True):
    """One provider of a record's provider set, with the fields it came from."""

    __tablename__ = "record_providers"

    session_id: str = Field(sa_column=Column(SessionKey, primary_key=True))
    provider: str = Field(primary_key=True)
    selected: bool = False  # in selected_providers
    attempted: bool = False  # in providers or failed_providers (connector deliveries)
    failed: bool = False  # in failed_providers

    __table_args__ = (Index("ix_record_providers_provider", "provider", "session_id"),)


class RequiredRoute(SQLModel, table=True):
    """A provider whose acknowledgement a notification plan requires, in plan order."""

    __tablename__ = "plan_required_routes"

    session_id: str = Field(sa_column=Column(SessionKey, primary_key=True))
    position: int = Field(primary_key=True)
    provider: str


class RecordSummary(SQLModel, table=True):
    """History records per UTC hour and filterable outcome, kept exact at every import.

    Its dimension columns carry the names and types of the record columns they summarise,
    so the shared filter conditions apply to it unchanged.
    """

    __tablename__ = "record_summary"

    id: int | None = Field(default=None, primary_key=True)
    hour_us: int = Field(sa_column=Column(BigInteger, nullable=False, index=True))
    metadata_kind: str
    connector_delivery_source: str | None = None
    delivery_success: bool | None = None
    status: str | None = None
    has_outstanding: bool = False
    category_mask: int = 0
    in_history: bool = True
    record_count: int = 0


class ProviderSummary(SQLModel, table=True):
    """Per UTC hour, provider and outcome: records naming the provider and audit attempts."""

    __tablename__ = "provider_summary"

    id: int | None = Field(default=None, primary_key=True)
    hour_us: int = Field(sa_column=Column(BigInteger, nullable=False))
    provider: str
    metadata_kind: str
    connector_delivery_source: str | None = None
    delivery_success: bool | None = None
    status: str | None = None
    has_outstanding: bool = False
    category_mask: int = 0
    in_history: bool = True
    record_count: int = 0
    selected_count: int = 0
    attempts: int = 0
    failures: int = 0
    last_attempt_us: int | None = Field(default=None, sa_column=Column(BigInteger))
    last_success_us: int | None = Field(default=None, sa_column=Column(BigInteger))
    last_failure_us: int | None = Field(default=None, sa_column=Column(BigInteger))
    # The hour's first attempt in history order (newest, then lowest session_id).
    latest_us: int | None = Field(default=None, sa_column=Column(BigInteger))
    latest_session_id: str | None = Field(default=None, sa_column=Column(SessionKey))
    latest_failed: bool | None = None

    __table_args__ = (
        Index("ix_provider_summary_hour", "hour_us"),
        Index("ix_provider_summary_provider", "provider", "hour_us"),
    )
