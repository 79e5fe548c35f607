"""Tests for the bundled demo history (cavra_gql.demo)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from functools import cache
from typing import Any

import pytest

from cavra_gql.demo import demo_records

NOW = datetime(2026, 3, 1, 12, 0, 0, tzinfo=UTC)
NOTIFICATION_SOURCE = "go_backend_rollback_drill_notification"
AUDIT_SOURCE = "go_backend_rollback_drill_acknowledgement_audit"
HISTORY_KINDS = (
    "go-backend-rollback-drill-notification-plan",
    "go-backend-rollback-drill-notification-ack",
    "go-backend-rollback-drill-notification-escalation-plan",
    "go-backend-rollback-drill-acknowledgement-audit-package",
    "go-backend-rollback-drill-acknowledgement-audit-delivery-plan",
    "release-connector-delivery",
)
PROVIDERS = {"splunk", "sentinel", "datadog", "jira", "servicenow", "slack", "teams", "webhook"}
COMMON_FIELDS = (
    "schema_version",
    "product",
    "session_id",
    "created_at",
    "signer",
    "decision_count",
    "blocked_count",
    "approval_required_count",
    "metadata_kind",
)


@cache
def _records() -> tuple[dict[str, Any], ...]:
    return tuple(demo_records(NOW))


def _created(record: dict[str, Any]) -> datetime:
    return datetime.fromisoformat(record["created_at"])


def _of_kind(kind: str, source: str | None = None) -> list[dict[str, Any]]:
    return [
        r
        for r in _records()
        if r["metadata_kind"] == kind
        and (source is None or r["connector_delivery_source"] == source)
    ]


def _providers(record: dict[str, Any]) -> Iterator[str]:
    yield from [record["provider"]] if "provider" in record else []
    for field in ("selected_providers", "providers", "failed_providers"):
        yield from record.get(field, [])
    yield from (
        r["provider"] for r in record.get("acknowledgement_audit_package", {}).get("routes", [])
    )


def test_same_now_gives_identical_records() -> None:
    first, second = demo_records(NOW), demo_records(NOW)
    assert first == second
    assert json.dumps(first) == json.dumps(second)


def test_session_ids_do_not_depend_on_now() -> None:
    later = demo_records(NOW + timedelta(days=3, hours=5, seconds=17))
    assert sorted(r["session_id"] for r in later) == sorted(r["session_id"] for r in _records())


def test_naive_now_is_rejected() -> None:
    with pytest.raises(ValueError):
        demo_records(datetime(2026, 3, 1, 12, 0, 0))


def test_enough_records_with_unique_session_ids() -> None:
    ids = [r["session_id"] for r in _records()]
    assert len(ids) >= 2200
    assert len(set(ids)) == len(ids)


def test_every_record_has_the_common_fields() -> None:
    for record in _records():
        assert all(field in record for field in COMMON_FIELDS), record["session_id"]
        assert record["schema_version"] == "cavra.evidence.metadata.v1"
        assert record["product"] == "CAVRA"


@pytest.mark.parametrize("kind", HISTORY_KINDS)
def test_every_history_kind_is_present(kind: str) -> None:
    assert len(_of_kind(kind)) >= 20


def test_records_the_history_must_exclude_are_present() -> None:
    assert _of_kind("go-backend-rollback-drill-routing-suppression-trend")
    assert _of_kind("release-connector-delivery", "release_governance")


def test_every_provider_appears() -> None:
    assert {p for r in _records() for p in _providers(r)} == PROVIDERS


def test_created_at_is_within_the_last_30_days() -> None:
    assert all(NOW - timedelta(days=30) < _created(r) <= NOW for r in _records())


def test_created_at_uses_several_utc_offsets() -> None:
    offsets = {_created(r).utcoffset() for r in _records()}
    suffixes = {r["created_at"][19:] for r in _records()}
    assert {"Z", "+00:00"} <= suffixes
    assert len(offsets) >= 3


def test_last_day_has_every_kind_and_a_failure() -> None:
    recent = [r for r in _records() if _created(r) > NOW - timedelta(days=1)]
    kinds = {(r["metadata_kind"], r.get("connector_delivery_source")) for r in recent}
    assert {k for k, _ in kinds} >= set(HISTORY_KINDS)
    assert ("release-connector-delivery", AUDIT_SOURCE) in kinds
    assert ("release-connector-delivery", NOTIFICATION_SOURCE) in kinds
    assert any(r.get("delivery_success") is False for r in recent)


@pytest.mark.parametrize("source", [NOTIFICATION_SOURCE, AUDIT_SOURCE])
def test_both_connector_sources_have_failures_and_successes(source: str) -> None:
    outcomes = {r["delivery_success"] for r in _of_kind("release-connector-delivery", source)}
    assert outcomes == {True, False}


def test_connector_figures_agree_with_their_deliveries() -> None:
    for record in _of_kind("release-connector-delivery"):
        deliveries = record["delivery"]["deliveries"]
        assert record["providers"] == [d["provider"] for d in deliveries]
        assert record["failed_providers"] == [d["provider"] for d in deliveries if not d["success"]]
        assert record["delivery_success"] == (not record["failed_providers"])
        assert record["attempt_count"] == sum(d["attempt_count"] for d in deliveries)
        assert record["status_codes"] == [d["status_code"] for d in deliveries]


def test_connector_requests_carry_headers_the_server_must_redact() -> None:
    requests = [
        d["request"]
        for r in _of_kind("release-connector-delivery")
        for d in r["delivery"]["deliveries"]
    ]
    assert all(q["headers"]["Authorization"].startswith("Bearer demo-") for q in requests)
    assert all(q["headers"]["Content-Type"] == "application/json" for q in requests)
    assert any(q["url"].startswith("https://hooks.slack.com/services/") for q in requests)


def test_event_ids_point_at_schedules_and_delivery_plans() -> None:
    schedules = {r["schedule_id"] for r in _of_kind(HISTORY_KINDS[0])}
    plans = {r["delivery_id"]: r["audit_id"] for r in _of_kind(HISTORY_KINDS[4])}
    for record in _of_kind("release-connector-delivery", NOTIFICATION_SOURCE):
        assert record["event_id"] in schedules
    for record in _of_kind("release-connector-delivery", AUDIT_SOURCE):
        assert record["event_id"] == record["delivery_id"]
        assert plans[record["delivery_id"]] == record["audit_id"]


def test_schedule_count_is_realistic() -> None:
    assert 20 <= len({r["schedule_id"] for r in _of_kind(HISTORY_KINDS[0])}) <= 40


def test_every_acknowledgement_state_is_present() -> None:
    states = {r["acknowledgement_state"] for r in _of_kind(HISTORY_KINDS[1])}
    assert states == {"acknowledged", "dismissed", "escalated", "resolved"}


def test_some_routes_stay_outstanding() -> None:
    routes = [
        route
        for r in _of_kind(HISTORY_KINDS[3])
        for route in r["acknowledgement_audit_package"]["routes"]
    ]
    assert any(route["acknowledgement_state"] == "outstanding" for route in routes)
    assert any(route["acknowledged"] for route in routes)
    escalation_routes = [
        route for r in _of_kind(HISTORY_KINDS[2]) for route in r["escalation_plan"]["routes"]
    ]
    assert any(route["breached"] for route in escalation_routes)


def test_every_cadence_is_present() -> None:
    cadences = {
        r["acknowledgement_audit_delivery_plan"]["cadence"] for r in _of_kind(HISTORY_KINDS[4])
    }
    assert cadences == {"on_demand", "hourly", "daily", "weekly"}


def _latest_audit_outcome(provider: str) -> bool:
    sends = sorted(_of_kind("release-connector-delivery", AUDIT_SOURCE), key=_created)
    latest = [r for r in sends if provider in r["providers"]][-1]
    return provider not in latest["failed_providers"]


def test_sentinel_recovered_and_servicenow_is_still_failing() -> None:
    sentinel_failures = [
        r
        for r in _of_kind("release-connector-delivery", AUDIT_SOURCE)
        if "sentinel" in r["failed_providers"]
    ]
    assert sentinel_failures
    assert _latest_audit_outcome("sentinel")
    assert not _latest_audit_outcome("servicenow")
