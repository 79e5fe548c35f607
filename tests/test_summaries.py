"""The hourly summaries stay exact: after mixed imports and upserts they equal a full recount,
and every aggregate answered from them equals the same aggregate over the records."""

from __future__ import annotations

import json
import random
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, select

from cavra_gql import ingest
from cavra_gql.ingest import ingest_file
from cavra_gql.queries import aggregates, bulk, summary_upkeep, trend
from cavra_gql.queries import dashboard as raw
from cavra_gql.queries.filters import HistoryFilter
from cavra_gql.queries.history import count_matches
from cavra_gql.queries.hours import (
    DAY_US as DAY,
)
from cavra_gql.queries.hours import (
    HOUR_US as HOUR,
)
from cavra_gql.queries.hours import (
    PROVIDER_SUMMARY_FIELDS,
    RECORD_SUMMARY_FIELDS,
    Buckets,
    split,
)
from cavra_gql.queries.tables import provider_summary, record_summary
from tests import record_factory as rf

SUMMARY_FILTERS = [
    {},
    {"provider_category": "siem"},
    {"provider_category": "itsm", "delivery_success": "false"},
    {"created_after": "2025-03-01T10:30:00Z", "created_before": "2025-03-02T07:15:00Z"},
    {"created_after": "2025-03-01T10:00:00Z"},
    {"created_before": "2025-03-01T18:00:00.5Z"},
    {"provider": "splunk"},
    {"provider": "slack", "state": "outstanding"},
    {"state": "delivery_failed", "provider_category": "chatops"},
    {"metadata_kind": rf.KIND_CONNECTOR, "connector_delivery_source": rf.SOURCE_AUDIT},
    {"connector_delivery_source": rf.SOURCE_AUDIT, "created_after": "2025-03-01T12:00:00Z"},
]


def _rows(engine: Engine) -> list[list[tuple[Any, ...]]]:
    with engine.connect() as conn:
        return [
            sorted(
                (tuple(row[1:]) for row in conn.execute(select(table))),
                key=repr,
            )
            for table in (record_summary, provider_summary)
        ]


def _import_in_files(tmp_path: Path, engine: Engine, seed: int) -> None:
    rng = random.Random(seed)
    history = rf.random_history(rng, 150)
    # Three files: the second re-sends some records with other instants and outcomes.
    moved = []
    for record in rng.sample(history, 40):
        changed = dict(record)
        changed["created_at"] = rf.random_history(rng, 1)[0]["created_at"]
        if changed.get("metadata_kind") == rf.KIND_CONNECTOR:
            changed["delivery_success"] = not changed.get("delivery_success")
            changed["failed_providers"] = [] if changed["delivery_success"] else ["splunk"]
        moved.append(changed)
    # Within the second file, some records come twice: the same, or changed again.
    again = [dict(record, alert_level="info") for record in moved[:3]] + moved[3:6]
    files = (history[:100], moved + history[100:] + again, history[:20])
    for index, part in enumerate(files):
        path = tmp_path / f"part-{index}.ndjson"
        path.write_text("\n".join(json.dumps(item) for item in part) + "\n")
        ingest_file(engine, path)


@pytest.fixture(params=["plain", "bulk"])
def import_path(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """`bulk` takes every large-import path at once: worker processes, batches of 7 records
    (so duplicates meet across batches), tallies merged into the stored hours every few rows,
    and (on SQLite) indexes built at the end of every import, the first and later ones."""
    if request.param == "bulk":
        monkeypatch.setattr(ingest, "PARALLEL_FROM_BYTES", 0)
        monkeypatch.setattr(ingest, "BATCH", 7)
        monkeypatch.setattr(ingest, "TALLY_ROWS_HELD", 5)
        monkeypatch.setattr(ingest, "TYPICAL_RECORD_BYTES", 1)
        monkeypatch.setattr(bulk, "BULK_FROM_RECORDS", 0)
    return str(request.param)


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_summaries_equal_a_full_recount_after_upserts(
    seed: int, tmp_path: Path, engine: Engine, import_path: str
) -> None:
    _import_in_files(tmp_path, engine, seed)
    kept = _rows(engine)
    with engine.begin() as conn:
        summary_upkeep.rebuild(conn)
    assert _rows(engine) == kept
    assert kept[0] and kept[1], "the summaries hold rows"


@pytest.mark.parametrize("seed", [4, 5])
def test_summary_answers_equal_record_answers(seed: int, tmp_path: Path, engine: Engine) -> None:
    _import_in_files(tmp_path, engine, seed)
    with engine.connect() as conn:
        for params in SUMMARY_FILTERS:
            flt = HistoryFilter.parse(params)
            assert split(flt, RECORD_SUMMARY_FIELDS | PROVIDER_SUMMARY_FIELDS).buckets, params
            assert aggregates.total(conn, flt) == count_matches(conn, flt), params
            assert aggregates.counts(conn, flt) == raw.Counts.of(raw.kind_counts(conn, flt))
            if flt.provider is None:
                for width in (HOUR, DAY):
                    from_records = sorted(trend._raw(conn, flt, width))
                    assert [
                        (t.bucket_start_us, t.attempts, t.failures)
                        for t in trend.audit_delivery_trend(conn, flt, width)
                    ] == from_records, (params, width)
                assert aggregates.audit_delivery_providers(conn, flt) == sorted(
                    raw.audit_delivery_providers(conn, flt)
                )
                assert aggregates.provider_attempts(conn, flt) == raw.provider_attempts(conn, flt)


def test_split_of_a_time_range() -> None:
    fields = RECORD_SUMMARY_FIELDS
    flt = replace(HistoryFilter(), created_after=2 * DAY + 10 * HOUR + 5)
    flt = replace(flt, created_before=5 * DAY + 3 * HOUR + 7)
    plan = split(flt, fields)
    assert plan.buckets == (
        Buckets(DAY, 3 * DAY, 5 * DAY),
        Buckets(HOUR, 2 * DAY + 11 * HOUR, 3 * DAY),
        Buckets(HOUR, 5 * DAY, 5 * DAY + 3 * HOUR),
    )
    assert [(p.created_after, p.created_before) for p in plan.raw] == [
        (2 * DAY + 10 * HOUR + 5, 2 * DAY + 11 * HOUR),
        (5 * DAY + 3 * HOUR, 5 * DAY + 3 * HOUR + 7),
    ]
    within_a_day = replace(flt, created_before=2 * DAY + 15 * HOUR)
    assert split(within_a_day, fields).buckets == (
        Buckets(HOUR, 2 * DAY + 11 * HOUR, 2 * DAY + 15 * HOUR),
    )
    assert split(replace(flt, created_before=2 * DAY + 10 * HOUR + 9), fields).buckets is None
    assert split(replace(flt, audit_id="x"), fields).buckets is None
    assert split(HistoryFilter(), fields).buckets == (Buckets(DAY, None, None),)
