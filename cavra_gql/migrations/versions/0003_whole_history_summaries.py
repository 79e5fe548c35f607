"""Whole-history summary rows (width 0): the unfiltered dashboard reads a few rows per
provider instead of every day's. Data only: rolled up from the daily rows already stored.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-28
"""

from __future__ import annotations

from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

DAY_US = 24 * 3_600_000_000
RECORD_DIMENSIONS = (
    "metadata_kind, connector_delivery_source, delivery_success, status, has_outstanding, "
    "category_mask"
)
PROVIDER_DIMENSIONS = "metadata_kind, connector_delivery_source, delivery_success, category_mask"


def upgrade() -> None:
    op.execute("DELETE FROM record_summary WHERE width_us = 0")
    op.execute("DELETE FROM provider_summary WHERE width_us = 0")
    op.execute(
        f"INSERT INTO record_summary (width_us, bucket_us, {RECORD_DIMENSIONS}, record_count) "
        f"SELECT 0, 0, {RECORD_DIMENSIONS}, sum(record_count) FROM record_summary "
        f"WHERE width_us = {DAY_US} GROUP BY {RECORD_DIMENSIONS}"
    )
    keys = f"provider, {PROVIDER_DIMENSIONS}"
    op.execute(
        f"INSERT INTO provider_summary (width_us, bucket_us, {keys}, record_count, "
        "selected_count, attempts, failures, last_attempt_us, last_success_us, "
        "last_failure_us, latest_us, latest_session_id, latest_failed) "
        f"SELECT 0, 0, {keys}, sum(record_count), sum(selected_count), sum(attempts), "
        "sum(failures), max(last_attempt_us), max(last_success_us), max(last_failure_us), "
        "max(CASE WHEN position = 1 THEN latest_us END), "
        "max(CASE WHEN position = 1 THEN latest_session_id END), "
        "max(CASE WHEN position = 1 THEN CAST(latest_failed AS INTEGER) END) = 1 "
        f"FROM (SELECT {keys}, record_count, selected_count, attempts, failures, "
        "last_attempt_us, last_success_us, last_failure_us, latest_us, latest_session_id, "
        f"latest_failed, row_number() OVER (PARTITION BY {keys} ORDER BY latest_us IS NULL, "
        "latest_us DESC, latest_session_id) AS position "
        f"FROM provider_summary WHERE width_us = {DAY_US}) AS days GROUP BY {keys}"
    )


def downgrade() -> None:
    op.execute("DELETE FROM record_summary WHERE width_us = 0")
    op.execute("DELETE FROM provider_summary WHERE width_us = 0")
