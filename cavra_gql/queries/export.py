"""The whole filtered history in SPEC §3 order, read in keyset batches for exports."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from sqlalchemy import Connection, Row

from cavra_gql.queries.filters import HistoryFilter
from cavra_gql.queries.history import Cursor, PageRequest, page_query
from cavra_gql.queries.tables import records

# Large enough that a round trip per batch costs little, small enough that a batch of the
# largest records (a few kB each) stays a few MB.
BATCH_SIZE = 2000

c = records.c
# In the CSV's column order: export.csv_cells reads a row by position.
EXPORT_COLUMNS = (
    c.session_id,
    c.metadata_kind,
    c.created_us,
    c.status,
    c.has_outstanding,
    c.providers_json,
    c.schedule_id,
    c.event_id,
    c.nested_schedule_id,
    c.provider,
    c.acknowledgement_state,
    c.connector_delivery_source,
    c.delivery_success,
    c.alert_level,
    c.audit_id,
    c.nested_audit_id,
    c.delivery_id,
    c.cadence,
    c.record_json,
)


def stream_history(
    conn: Connection, flt: HistoryFilter, *, batch_size: int = BATCH_SIZE
) -> Iterator[Row[Any]]:
    """Every record matching `flt`, newest first, holding one batch at a time.

    Each batch is a history page that starts after the previous batch's last record (the
    same plan as a deep GraphQL page: keys ordered and cut first, rows read for the batch
    only), so no statement ever sorts whole records. Give it a `db.read_connection`: every
    batch then reads the same snapshot, and the export is one consistent state of the store.
    """
    after: Cursor | None = None
    while True:
        query = page_query(flt, PageRequest(batch_size, after=after), EXPORT_COLUMNS)
        rows = conn.execute(query).all()
        yield from rows
        if len(rows) < batch_size:
            return
        after = Cursor(rows[-1].created_us, rows[-1].session_id)
