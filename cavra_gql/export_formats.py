"""The export formats: media types, the CSV columns and the CSV formula guard."""

from __future__ import annotations

from cavra_gql.errors import BadInput

MEDIA_TYPES = {
    "ndjson": "application/x-ndjson",
    "csv": "text/csv; charset=utf-8; header=present",
}
FORMATS = tuple(MEDIA_TYPES)

# The CSV columns, in order: the fields filters read (as stored for them: a value that is not
# a string, or is over 1,000 characters, is empty here), then the whole record as JSON.
CSV_COLUMNS = (
    "session_id",
    "metadata_kind",
    "created_at",
    "status",
    "has_outstanding_route",
    "providers",
    "schedule_id",
    "event_id",
    "plan_schedule_id",
    "provider",
    "acknowledgement_state",
    "connector_delivery_source",
    "delivery_success",
    "alert_level",
    "audit_id",
    "delivery_plan_audit_id",
    "delivery_id",
    "cadence",
    "record",
)
# A spreadsheet runs a cell starting with one of these as a formula (CSV injection): such a
# cell gets a leading apostrophe, and so does a cell that starts with one, so that dropping
# one leading apostrophe always gives the value back.
GUARDED = frozenset("=+-@\t\r'")


def parse_format(value: str | None) -> str:
    """`ndjson` (the default when blank) or `csv`, case-insensitive."""
    chosen = (value or "").strip().lower() or "ndjson"
    if chosen not in MEDIA_TYPES:
        raise BadInput("format", f"expected ndjson or csv, got {value!r}")
    return chosen


def unguard_cell(cell: str) -> str:
    return cell[1:] if cell.startswith("'") else cell
