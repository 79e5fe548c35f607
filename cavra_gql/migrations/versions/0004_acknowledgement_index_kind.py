"""The acknowledgement index carries the record kind, so the outstanding-acknowledgement
check is answered from the index alone (PostgreSQL: index-only scans, no heap reads).

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-28
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

NAME = "ix_evidence_records_acknowledgement"
CONDITION = "acknowledgement_state IS NOT NULL"


def _create(columns: list[str]) -> None:
    op.create_index(
        NAME,
        "evidence_records",
        columns,
        sqlite_where=sa.text(CONDITION),
        postgresql_where=sa.text(CONDITION),
    )


def upgrade() -> None:
    op.drop_index(NAME, table_name="evidence_records")
    _create(
        [
            "acknowledgement_state",
            "schedule_id",
            "provider",
            "metadata_kind",
            "created_us",
            "category_mask",
            "provider_mask",
        ]
    )


def downgrade() -> None:
    op.drop_index(NAME, table_name="evidence_records")
    _create(
        [
            "acknowledgement_state",
            "schedule_id",
            "provider",
            "created_us",
            "category_mask",
            "provider_mask",
        ]
    )
