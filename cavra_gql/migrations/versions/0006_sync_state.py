"""The state of `cavra-gql sync`: the files it follows, and the digest of every record each
holds, so a pass reads only what changed (and a restart does not read everything again).

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-28
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

# Session ids order in code-point (byte) order: PostgreSQL's "C" collation.
SESSION_KEY = sa.String().with_variant(sa.String(collation="C"), "postgresql")
COUNTERS = (
    "position",
    "lines",
    "passes",
    "records_read",
    "imported_new",
    "imported_updated",
    "imported_unchanged",
    "deletions_seen",
)


def upgrade() -> None:
    op.create_table(
        "sync_sources",
        sa.Column("source", sa.String(), nullable=False),
        sa.Column("format", sa.String(), nullable=True),
        sa.Column("file_size", sa.BigInteger(), nullable=False),
        sa.Column("mtime_ns", sa.BigInteger(), nullable=False),
        sa.Column("file_id", sa.String(), nullable=False),
        sa.Column("settled", sa.Boolean(), nullable=False),
        sa.Column("probe", sa.LargeBinary(), nullable=True),
        sa.Column("digest", sa.LargeBinary(), nullable=True),
        *[sa.Column(name, sa.BigInteger(), nullable=False) for name in COUNTERS],
        sa.Column("last_pass_us", sa.BigInteger(), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("last_error_us", sa.BigInteger(), nullable=True),
        sa.PrimaryKeyConstraint("source"),
    )
    op.create_table(
        "sync_records",
        sa.Column("source", sa.String(), nullable=False),
        sa.Column("session_id", SESSION_KEY, nullable=False),
        sa.Column("fingerprint", sa.LargeBinary(), nullable=False),
        sa.PrimaryKeyConstraint("source", "session_id"),
        sqlite_with_rowid=False,
    )


def downgrade() -> None:
    op.drop_table("sync_records")
    op.drop_table("sync_sources")
