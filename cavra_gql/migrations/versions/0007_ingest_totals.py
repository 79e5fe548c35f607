"""Ingest counters: per write path, what the committed writes took in and did. A database
upgraded to this revision starts them at zero (earlier writes are not counted).

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-28
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

COUNTERS = ("writes", "records_read", "records_new", "records_updated", "records_unchanged")


def upgrade() -> None:
    op.create_table(
        "ingest_totals",
        sa.Column("via", sa.Text(), nullable=False),
        *[
            sa.Column(name, sa.BigInteger(), nullable=False, server_default=sa.text("0"))
            for name in COUNTERS
        ],
        sa.PrimaryKeyConstraint("via"),
    )


def downgrade() -> None:
    op.drop_table("ingest_totals")
