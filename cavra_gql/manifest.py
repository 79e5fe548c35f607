"""Export manifests: what an export holds, in JSON, optionally signed with Ed25519."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import fields
from typing import TYPE_CHECKING, Any

from cavra_gql import kinds
from cavra_gql.instants import format_instant
from cavra_gql.signing import ALGORITHM, SigningKey

if TYPE_CHECKING:  # verify-export reads manifests without the database layer
    from cavra_gql.queries.filters import HistoryFilter

SCHEMA_VERSION = "cavra.go-backend-pilot.rollback-drill-notification-export.v1"
ORDER = "created_at desc, session_id asc"


def filters_document(flt: HistoryFilter) -> dict[str, Any]:
    """The filters in force, by REST name, as the export applied them (normalised: instants
    in UTC, booleans as JSON booleans)."""
    found: dict[str, Any] = {}
    for item in fields(flt):
        value = getattr(flt, item.name)
        if value is None:
            continue
        if item.name in ("created_after", "created_before"):
            value = format_instant(value)
        found[item.name] = value
    return found


def build(
    *,
    flt: HistoryFilter,
    fmt: str,
    file_name: str,
    generated_us: int,
    record_count: int,
    time_range: tuple[int | None, int | None],
    sha256: str,
    byte_size: int,
    columns: Sequence[str] | None = None,
) -> dict[str, Any]:
    oldest, newest = time_range
    document: dict[str, Any] = {
        "schema_version": SCHEMA_VERSION,
        "history_schema_version": kinds.HISTORY_SCHEMA_VERSION,
        "product": kinds.PRODUCT,
        "generated_at": format_instant(generated_us),
        "format": fmt,
        "file_name": file_name,
        "filters": filters_document(flt),
        "order": ORDER,
        "record_count": record_count,
        "time_range": span(oldest, newest),
        "sha256": sha256,
        "byte_size": byte_size,
    }
    if columns is not None:
        document["columns"] = list(columns)
    return document


def span(oldest_us: int | None, newest_us: int | None) -> dict[str, str] | None:
    """The manifest's `time_range` (verify-export rebuilds it from the file to compare)."""
    if oldest_us is None or newest_us is None:
        return None
    return {"oldest": format_instant(oldest_us), "newest": format_instant(newest_us)}


def canonical(document: dict[str, Any]) -> bytes:
    """The signed bytes: the manifest without `signature`, keys sorted, no spaces, UTF-8."""
    unsigned = {key: value for key, value in document.items() if key != "signature"}
    text = json.dumps(unsigned, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return text.encode("utf-8")


def sign(document: dict[str, Any], key: SigningKey) -> dict[str, Any]:
    signature = {
        "algorithm": ALGORITHM,
        "key_id": key.key_id,
        "value": key.sign(canonical(document)),
    }
    return {**document, "signature": signature}


def dumps(document: dict[str, Any]) -> str:
    """The manifest file's text (what the REST header carries too)."""
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"
