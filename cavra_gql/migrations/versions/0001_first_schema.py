"""The first schema: history records, records outside the history, provider sets, required
routes and the hourly/daily summaries (as cavra-gql made them before it had migrations).

Revision ID: 0001
Revises:
Create Date: 2026-11-20
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

# Session ids order in code-point (byte) order: PostgreSQL's "C" collation.
SESSION_KEY = sa.String().with_variant(sa.String(collation="C"), "postgresql")


def _newest() -> sa.ColumnElement[object]:
    return sa.literal_column("created_us DESC")


def _sparse(name: str, *columns: str | sa.ColumnElement[object]) -> None:
    """An index over the history records where the first column is set."""
    condition = sa.text(f"{columns[0]} IS NOT NULL")
    op.create_index(
        name,
        "evidence_records",
        list(columns),
        sqlite_where=condition,
        postgresql_where=condition,
    )


def _optional(*names: str) -> list[sa.Column[str]]:
    return [sa.Column(name, sa.String(), nullable=True) for name in names]


def upgrade() -> None:
    op.create_table(
        "evidence_records",
        sa.Column("session_id", SESSION_KEY, nullable=False),
        sa.Column("metadata_kind", sa.String(), nullable=False),
        sa.Column("created_us", sa.BigInteger(), nullable=False),
        sa.Column("status", sa.String(), nullable=True),
        sa.Column("has_outstanding", sa.Boolean(), nullable=False),
        *_optional(
            "schedule_id",
            "event_id",
            "nested_schedule_id",
            "provider",
            "acknowledgement_state",
            "connector_delivery_source",
        ),
        sa.Column("delivery_success", sa.Boolean(), nullable=True),
        *_optional("alert_level", "audit_id", "nested_audit_id", "delivery_id", "cadence"),
        sa.Column("category_mask", sa.Integer(), nullable=False),
        sa.Column("provider_mask", sa.Integer(), nullable=False),
        *_optional("route_schedule_key", "route_plan_id"),
        sa.Column("providers_json", sa.Text(), nullable=False),
        sa.Column("record_json", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("session_id"),
    )
    op.create_index(
        "ix_evidence_records_history_order",
        "evidence_records",
        [
            _newest(),
            "session_id",
            "metadata_kind",
            "connector_delivery_source",
            "delivery_success",
            "status",
            "has_outstanding",
            "category_mask",
            "provider_mask",
        ],
    )
    _sparse("ix_evidence_records_schedule_id", "schedule_id")
    _sparse("ix_evidence_records_event_id", "event_id")
    _sparse("ix_evidence_records_nested_schedule_id", "nested_schedule_id")
    _sparse("ix_evidence_records_provider", "provider")
    _sparse("ix_evidence_records_alert_level", "alert_level", _newest())
    _sparse("ix_evidence_records_audit_id", "audit_id")
    _sparse("ix_evidence_records_nested_audit_id", "nested_audit_id")
    _sparse("ix_evidence_records_delivery_id", "delivery_id")
    _sparse("ix_evidence_records_cadence", "cadence", _newest())
    _sparse(
        "ix_evidence_records_acknowledgement",
        "acknowledgement_state",
        "schedule_id",
        "provider",
        "created_us",
        "category_mask",
        "provider_mask",
    )
    _sparse(
        "ix_evidence_records_plan_routes",
        "route_schedule_key",
        _newest(),
        "session_id",
        "category_mask",
        "provider_mask",
    )

    op.create_table(
        "other_records",
        sa.Column("session_id", SESSION_KEY, nullable=False),
        sa.Column("metadata_kind", sa.String(), nullable=False),
        sa.Column("created_us", sa.BigInteger(), nullable=False),
        sa.Column("record_json", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("session_id"),
    )

    op.create_table(
        "record_providers",
        sa.Column("session_id", SESSION_KEY, nullable=False),
        sa.Column("provider", sa.String(), nullable=False),
        sa.Column("selected", sa.Boolean(), nullable=False),
        sa.Column("attempted", sa.Boolean(), nullable=False),
        sa.Column("failed", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("session_id", "provider"),
        sqlite_with_rowid=False,
    )
    op.create_index("ix_record_providers_provider", "record_providers", ["provider", "session_id"])

    op.create_table(
        "plan_required_routes",
        sa.Column("session_id", SESSION_KEY, nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("provider", sa.String(), nullable=False),
        sa.PrimaryKeyConstraint("session_id", "position"),
        sqlite_with_rowid=False,
    )

    op.create_table(
        "record_summary",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("width_us", sa.BigInteger(), nullable=False),
        sa.Column("bucket_us", sa.BigInteger(), nullable=False),
        sa.Column("metadata_kind", sa.String(), nullable=False),
        sa.Column("connector_delivery_source", sa.String(), nullable=True),
        sa.Column("delivery_success", sa.Boolean(), nullable=True),
        sa.Column("status", sa.String(), nullable=True),
        sa.Column("has_outstanding", sa.Boolean(), nullable=False),
        sa.Column("category_mask", sa.Integer(), nullable=False),
        sa.Column("record_count", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_record_summary_bucket", "record_summary", ["width_us", "bucket_us"])

    op.create_table(
        "provider_summary",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("width_us", sa.BigInteger(), nullable=False),
        sa.Column("bucket_us", sa.BigInteger(), nullable=False),
        sa.Column("provider", sa.String(), nullable=False),
        sa.Column("metadata_kind", sa.String(), nullable=False),
        sa.Column("connector_delivery_source", sa.String(), nullable=True),
        sa.Column("delivery_success", sa.Boolean(), nullable=True),
        sa.Column("category_mask", sa.Integer(), nullable=False),
        sa.Column("record_count", sa.Integer(), nullable=False),
        sa.Column("selected_count", sa.Integer(), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("last_attempt_us", sa.BigInteger(), nullable=True),
        sa.Column("last_success_us", sa.BigInteger(), nullable=True),
        sa.Column("last_failure_us", sa.BigInteger(), nullable=True),
        sa.Column("latest_us", sa.BigInteger(), nullable=True),
        sa.Column("latest_session_id", SESSION_KEY, nullable=True),
        sa.Column("latest_failed", sa.Boolean(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_provider_summary_bucket", "provider_summary", ["width_us", "bucket_us"])


def downgrade() -> None:
    for table in (
        "provider_summary",
        "record_summary",
        "plan_required_routes",
        "record_providers",
        "other_records",
        "evidence_records",
    ):
        op.drop_table(table)
