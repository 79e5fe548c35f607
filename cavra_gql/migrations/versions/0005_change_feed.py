"""The change feed for live updates: a row per committed write that changed history records,
and on each record the write that stored its current version.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-28
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "change_batches",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=True),
        sa.Column("committed_us", sa.BigInteger(), nullable=True),
        sa.Column("origin", sa.Text(), nullable=False),
        sa.Column("records", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("seq"),
    )
    # Instant on both engines: a constant default fills the existing rows without rewriting.
    op.add_column(
        "evidence_records",
        sa.Column("change_batch", sa.BigInteger(), nullable=False, server_default=sa.text("0")),
    )
    op.create_index("ix_evidence_records_change_batch", "evidence_records", ["change_batch"])


def downgrade() -> None:
    op.drop_index("ix_evidence_records_change_batch", table_name="evidence_records")
    with op.batch_alter_table("evidence_records") as batch:
        batch.drop_column("change_batch")
    op.drop_table("change_batches")
