"""Tests of the reference model (tests/spec_model.py) itself, against hand-checked cases."""

from __future__ import annotations

import json
import random
from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests import record_factory as rf
from tests import spec_model as sm

Record = dict[str, Any]

AUDIT = sm.SOURCE_AUDIT
NOTIFICATION = sm.SOURCE_NOTIFICATION


def ids(records: list[Record]) -> list[str]:
    return [r["session_id"] for r in records]


def match_ids(records: list[Record], **params: str) -> list[str]:
    return ids(sm.matching(records, params))


# ---------------------------------------------------------------------------
# The SPEC's worked example
# ---------------------------------------------------------------------------

AUDIT_ID = "gordackaudit-example00000001"
DELIVERY_ID = "gordackdelivery-example0000001"


@pytest.fixture
def example() -> dict[str, Record]:
    plan = rf.notification_plan(
        session_id="gordn-example",
        created_at="2025-03-01T09:00:00+00:00",
        schedule_id="gordsched-example",
        alert_level="warning",
        selected_providers=["slack"],
        acknowledgement_required_providers=["slack"],
    )
    package = rf.audit_package(
        created_at="2025-03-01T10:00:00+00:00",
        audit_id=AUDIT_ID,
        routes=[
            rf.audit_route(
                schedule_id="gordsched-example",
                provider="slack",
                acknowledgement_state="outstanding",
            )
        ],
        alert_level="critical",
    )
    delivery_plan = rf.audit_delivery_plan(
        created_at="2025-03-01T11:00:00+00:00",
        delivery_id=DELIVERY_ID,
        audit_id=AUDIT_ID,
        selected_providers=["splunk"],
        cadence="hourly",
        alert_level="critical",
        outstanding_count=1,
    )
    delivery = rf.connector_delivery(
        session_id="rcd-example-failed",
        created_at="2025-03-01T12:00:00+00:00",
        source=AUDIT,
        providers=["splunk"],
        failed_providers=["splunk"],
        audit_id=AUDIT_ID,
        delivery_id=DELIVERY_ID,
    )
    return {"plan": plan, "package": package, "delivery_plan": delivery_plan, "delivery": delivery}


def test_example_records_are_realistic(example: dict[str, Record]) -> None:
    assert all(sm.in_history(r) for r in example.values())
    assert example["package"]["session_id"] == AUDIT_ID
    assert example["delivery_plan"]["session_id"] == DELIVERY_ID
    assert example["delivery"]["event_id"] == DELIVERY_ID
    assert example["delivery"]["delivery_success"] is False
    json.dumps(list(example.values()))


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"connector_delivery_source": AUDIT}, ["delivery", "delivery_plan", "package"]),
        ({"connector_delivery_source": AUDIT, "delivery_success": "false"}, ["delivery"]),
        ({"cadence": "hourly"}, ["delivery_plan"]),
        ({"audit_id": AUDIT_ID}, ["delivery", "delivery_plan", "package"]),
        ({"provider": "splunk"}, ["delivery", "delivery_plan"]),
        ({"delivery_id": DELIVERY_ID}, ["delivery", "delivery_plan"]),
        ({"alert_level": "critical"}, ["delivery_plan", "package"]),
        ({"provider": "slack"}, ["package", "plan"]),
        ({"schedule_id": "gordsched-example"}, ["plan"]),
        ({}, ["delivery", "delivery_plan", "package", "plan"]),
    ],
)
def test_example_filters(
    example: dict[str, Record], params: dict[str, str], expected: list[str]
) -> None:
    records = list(example.values())
    page, total, limit, offset = sm.history(records, params)
    assert ids(page) == [example[name]["session_id"] for name in expected]
    assert (total, limit, offset) == (len(expected), 50, 0)


def test_example_dashboard(example: dict[str, Record]) -> None:
    records = list(example.values())
    board = sm.dashboard(records, {})
    assert list(board) == [
        "schema_version",
        "product",
        "alert_level",
        "plan_count",
        "delivery_count",
        "notification_delivery_count",
        "failed_delivery_count",
        "acknowledgement_count",
        "acknowledgement_audit_package_count",
        "acknowledgement_audit_delivery_plan_count",
        "acknowledgement_audit_delivery_count",
        "failed_acknowledgement_audit_delivery_count",
        "acknowledgement_audit_delivery_success_count",
        "acknowledgement_audit_delivery_success_rate",
        "acknowledgement_audit_delivery_providers",
        "acknowledgement_audit_delivery_health",
        "outstanding_acknowledgement_count",
        "outstanding_acknowledgements",
        "latest",
    ]
    assert board["schema_version"] == sm.DASHBOARD_SCHEMA_VERSION
    assert board["product"] == "CAVRA"
    assert board["alert_level"] == "critical"
    assert board["plan_count"] == 1
    assert board["delivery_count"] == 1
    assert board["notification_delivery_count"] == 0
    assert board["failed_delivery_count"] == 1
    assert board["acknowledgement_count"] == 0
    assert board["acknowledgement_audit_package_count"] == 1
    assert board["acknowledgement_audit_delivery_plan_count"] == 1
    assert board["acknowledgement_audit_delivery_count"] == 1
    assert board["failed_acknowledgement_audit_delivery_count"] == 1
    assert board["acknowledgement_audit_delivery_success_count"] == 0
    assert board["acknowledgement_audit_delivery_success_rate"] == 0.0
    assert board["acknowledgement_audit_delivery_providers"] == ["splunk"]
    assert board["acknowledgement_audit_delivery_health"] == "critical"
    assert board["outstanding_acknowledgement_count"] == 1
    assert board["outstanding_acknowledgements"] == [
        {"schedule_id": "gordsched-example", "provider": "slack", "plan_id": "gordn-example"}
    ]
    assert ids(board["latest"]) == ids(sm.matching(records, {}))


def test_example_health(example: dict[str, Record]) -> None:
    records = list(example.values())
    failed_at = datetime(2025, 3, 1, 12, tzinfo=UTC)
    assert sm.provider_health(records, {}) == {
        "splunk": {
            "attempts": 1,
            "failures": 1,
            "successes": 0,
            "success_rate": 0.0,
            "last_attempt_at": failed_at,
            "last_success_at": None,
            "last_failure_at": failed_at,
            "status": "CRITICAL",
        }
    }
    categories = sm.category_health(records, {})
    assert list(categories) == ["siem", "itsm", "chatops", "webhook"]
    assert categories["siem"]["status"] == "CRITICAL"
    assert categories["siem"]["attempts"] == 1
    assert categories["itsm"] == {
        "attempts": 0,
        "failures": 0,
        "successes": 0,
        "success_rate": None,
        "last_attempt_at": None,
        "last_success_at": None,
        "last_failure_at": None,
        "status": "UNKNOWN",
    }
    assert sm.overall_health_status(records, {}) == "CRITICAL"


# ---------------------------------------------------------------------------
# Instants and ordering
# ---------------------------------------------------------------------------


def test_parse_instant() -> None:
    utc = datetime(2025, 3, 1, 4, 30, tzinfo=UTC)
    assert sm.parse_instant("2025-03-01T10:00:00+05:30") == utc
    assert sm.parse_instant("2025-03-01T04:30:00Z") == utc
    assert sm.parse_instant("2025-03-01T04:30:00") == utc  # no offset means UTC
    assert sm.parse_instant("2025-02-28T21:30:00-07:00") == utc
    assert sm.parse_instant("2025-03-01T04:30:00").tzinfo is UTC
    for bad in ("2025-03-01", "yesterday", "", "2025-13-01T00:00:00", "12:00"):
        with pytest.raises(ValueError):
            sm.parse_instant(bad)


def test_order_compares_instants_not_strings() -> None:
    records = [
        rf.acknowledgement(session_id="kolkata", created_at="2025-03-01T10:00:00+05:30"),  # 04:30Z
        rf.acknowledgement(session_id="utc", created_at="2025-03-01T05:00:00Z"),  # 05:00Z
        rf.acknowledgement(session_id="arizona", created_at="2025-02-28T23:00:00-07:00"),  # 06:00Z
        rf.acknowledgement(session_id="naive", created_at="2025-03-01T04:45:00"),  # 04:45Z
    ]
    assert match_ids(records) == ["arizona", "utc", "naive", "kolkata"]


def test_ties_by_session_id_code_point() -> None:
    same_instant = [
        "2025-03-01T12:00:00+00:00",
        "2025-03-01T12:00:00Z",
        "2025-03-01T17:30:00+05:30",
        "2025-03-01T05:00:00-07:00",
        "2025-03-01T12:00:00",
        "2025-03-01T12:00:00.000000Z",
    ]
    names = ["é-1", "a-1", "Z-1", "b-1", "A-1", "日本-1"]
    records = [
        rf.acknowledgement(session_id=name, created_at=at)
        for name, at in zip(names, same_instant, strict=True)
    ]
    records.append(rf.acknowledgement(session_id="zz-old", created_at="2025-03-01T11:59:59Z"))
    assert match_ids(records) == ["A-1", "Z-1", "a-1", "b-1", "é-1", "日本-1", "zz-old"]


# ---------------------------------------------------------------------------
# Paging
# ---------------------------------------------------------------------------


def three_records() -> list[Record]:
    return [
        rf.acknowledgement(session_id=f"ack-{i}", created_at=f"2025-03-01T1{i}:00:00Z")
        for i in range(3)
    ]


@pytest.mark.parametrize(
    ("limit", "offset", "page", "echo"),
    [
        (None, None, ["ack-2", "ack-1", "ack-0"], (50, 0)),
        ("", "", ["ack-2", "ack-1", "ack-0"], (50, 0)),
        ("  ", " ", ["ack-2", "ack-1", "ack-0"], (50, 0)),
        ("1", "1", ["ack-1"], (1, 1)),
        ("+2", "0", ["ack-2", "ack-1"], (2, 0)),
        (" 2 ", " 2 ", ["ack-0"], (2, 2)),
        ("0", None, [], (0, 0)),
        ("10", "3", [], (10, 3)),
        ("10", "99", [], (10, 99)),
        ("600", None, ["ack-2", "ack-1", "ack-0"], (500, 0)),
        ("500", None, ["ack-2", "ack-1", "ack-0"], (500, 0)),
        ("501", None, ["ack-2", "ack-1", "ack-0"], (500, 0)),
        ("-0", "-0", [], (0, 0)),
    ],
)
def test_paging(
    limit: str | None, offset: str | None, page: list[str], echo: tuple[int, int]
) -> None:
    params = {}
    if limit is not None:
        params["limit"] = limit
    if offset is not None:
        params["offset"] = offset
    got, total, got_limit, got_offset = sm.history(three_records(), params)
    assert ids(got) == page
    assert total == 3
    assert (got_limit, got_offset) == echo


def test_history_answer_shape() -> None:
    answer = sm.history_answer(three_records(), {"limit": "1"})
    assert list(answer) == ["schema_version", "product", "items", "total", "limit", "offset"]
    assert answer["schema_version"] == sm.HISTORY_SCHEMA_VERSION
    assert (answer["total"], answer["limit"], answer["offset"]) == (3, 1, 0)
    assert ids(answer["items"]) == ["ack-2"]


def test_page_after_cursor() -> None:
    records = three_records()
    key = (sm.created_at_of(records[2]), "ack-2")
    assert sm.page_after(records, {}, key, 1) == ([records[1]], True)
    assert sm.page_after(records, {}, key, 2) == ([records[1], records[0]], False)
    # the cursor's record need not match any more: its position is enough
    gone = (sm.parse_instant("2025-03-01T16:30:00+05:30"), "ack-1a")  # 11:00Z
    assert sm.page_after(records, {}, gone, 5) == ([records[0]], False)
    last = (sm.created_at_of(records[0]), "ack-0")
    assert sm.page_after(records, {}, last, 5) == ([], False)


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("limit", "-1"),
        ("limit", "abc"),
        ("limit", "1.5"),
        ("limit", "1e2"),
        ("limit", "0x10"),
        ("limit", "٣"),  # a non-ASCII digit is not an integer here
        ("limit", "1_000"),
        ("offset", "-1"),
        ("offset", "x"),
        ("offset", "2.0"),
        ("delivery_success", "maybe"),
        ("delivery_success", "2"),
        ("provider_category", "email"),
        ("provider_category", "pagerduty"),
        ("created_after", "2025-03-01"),
        ("created_after", "yesterday"),
        ("created_before", "2025-13-01T00:00:00"),
        ("created_before", "1741000000"),
    ],
)
def test_422(field: str, value: str) -> None:
    with pytest.raises(sm.SpecError) as caught:
        sm.history(three_records(), {field: value})
    assert caught.value.field == field


def test_dashboard_ignores_limit_and_offset_but_validates_filters() -> None:
    records = three_records()
    board = sm.dashboard(records, {"limit": "abc", "offset": "-4"})
    assert board["acknowledgement_count"] == 3
    assert len(sm.matching(records, {"limit": "1", "offset": "2"})) == 3
    with pytest.raises(sm.SpecError):
        sm.dashboard(records, {"delivery_success": "perhaps"})
    with pytest.raises(sm.SpecError):
        sm.provider_health(records, {"provider_category": "email"})


# ---------------------------------------------------------------------------
# Filters
# ---------------------------------------------------------------------------


def test_blank_values_mean_no_filter() -> None:
    records = three_records()
    everything = match_ids(records)
    for field in sm.FILTER_FIELDS:
        assert match_ids(records, **{field: ""}) == everything
        assert match_ids(records, **{field: "  \t "}) == everything


def test_excluded_records_never_appear() -> None:
    included = rf.connector_delivery(session_id="kept", source=NOTIFICATION)
    excluded = [
        rf.excluded_record(variant=variant, session_id=variant)
        for variant in ("suppression_trend", "release_governance", "no_source", "later_kind")
    ]
    records = [included, *excluded]
    assert not any(sm.in_history(r) for r in excluded)
    assert match_ids(records) == ["kept"]
    assert match_ids(records, provider="splunk") == ["kept"]
    assert match_ids(records, audit_id="gordackaudit-0000000000000001") == []
    board = sm.dashboard(records, {})
    assert board["delivery_count"] == 1
    assert board["failed_delivery_count"] == 0


def test_schedule_id_reads_schedule_id_event_id_and_nested_plan() -> None:
    top = rf.notification_plan(session_id="top", schedule_id="S")
    nested = rf.notification_plan(session_id="nested", schedule_id=7)
    nested["plan"]["schedule_id"] = "S"
    event = rf.connector_delivery(session_id="event", source=NOTIFICATION, schedule_id="S")
    ack = rf.acknowledgement(session_id="ack", schedule_id="S")
    wrong_type = rf.acknowledgement(session_id="wrong", schedule_id=7)
    other = rf.acknowledgement(session_id="other", schedule_id="s")
    records = [top, nested, event, ack, wrong_type, other]
    assert sorted(match_ids(records, schedule_id="S")) == ["ack", "event", "nested", "top"]
    assert match_ids(records, schedule_id="7") == []
    assert match_ids(records, schedule_id=" S") == []  # exact, not trimmed


def test_provider_reads_every_provider_field() -> None:
    records = [
        rf.acknowledgement(session_id="ack", provider="jira"),
        rf.notification_plan(session_id="plan", selected_providers=["jira", "slack"]),
        rf.connector_delivery(
            session_id="failed-only",
            providers=["splunk"],
            failed_providers=["jira"],
        ),
        rf.connector_delivery(session_id="attempted", providers=["jira"]),
        rf.audit_package(session_id="package", routes=[rf.audit_route(provider="jira")]),
        rf.escalation_plan(session_id="escalation", routes=[rf.escalation_route(provider="jira")]),
        rf.acknowledgement(session_id="case", provider="Jira"),
    ]
    expected = ["ack", "attempted", "failed-only", "package", "plan"]
    assert sorted(match_ids(records, provider="jira")) == expected
    assert sorted(match_ids(records, provider_category="itsm")) == expected
    assert sorted(match_ids(records, provider_category=" ITSM ")) == expected
    assert sm.providers_of(records[2]) == ["jira", "splunk"]
    assert sm.providers_of(records[-1]) == ["Jira"]


def test_providers_of_is_sorted_unique_non_empty_strings() -> None:
    record = rf.notification_plan(selected_providers=["teams", "", "slack", 3, "teams"])
    record["provider"] = ""
    record["providers"] = "splunk"  # not a list: read as nothing
    record["failed_providers"] = ["webhook", None]
    assert sm.providers_of(record) == ["slack", "teams", "webhook"]


def test_acknowledgement_state_normalisation() -> None:
    records = [
        rf.acknowledgement(session_id="lower", acknowledgement_state="acknowledged"),
        rf.acknowledgement(session_id="title", acknowledgement_state="Acknowledged"),
        rf.acknowledgement(session_id="pending", acknowledgement_state="pending_review"),
    ]
    assert match_ids(records, acknowledgement_state=" ACKNOWLEDGED ") == ["lower"]
    assert match_ids(records, acknowledgement_state="Pending-Review") == ["pending"]
    assert match_ids(records, state="acknowledged") == ["lower"]
    assert match_ids(records, state="Acknowledged") == ["title"]  # state is exact


def test_delivery_success_filter() -> None:
    records = [
        rf.connector_delivery(session_id="ok", providers=["splunk"]),
        rf.connector_delivery(
            session_id="failed", providers=["splunk"], failed_providers=["splunk"]
        ),
        rf.connector_delivery(session_id="missing", delivery_success=True, event_id="m"),
        rf.connector_delivery(session_id="string", delivery_success="true", event_id="s"),
        rf.audit_delivery_plan(session_id="plan", delivery_success=True),
    ]
    del records[2]["delivery_success"]
    for word in ("true", "TRUE", " 1 ", "yes", "On", "t", "Y"):
        assert match_ids(records, delivery_success=word) == ["ok"]
    for word in ("false", "0", "NO", "off", "f", "n"):
        assert sorted(match_ids(records, delivery_success=word)) == ["failed", "missing", "string"]


def test_connector_delivery_source_expands_to_audit_kinds() -> None:
    records = [
        rf.audit_package(session_id="package"),
        rf.audit_delivery_plan(session_id="delivery-plan"),
        rf.connector_delivery(session_id="audit", source=AUDIT),
        rf.connector_delivery(session_id="notification", source=NOTIFICATION),
        rf.notification_plan(session_id="plan"),
    ]
    assert sorted(match_ids(records, connector_delivery_source=AUDIT)) == [
        "audit",
        "delivery-plan",
        "package",
    ]
    assert match_ids(records, connector_delivery_source=NOTIFICATION) == ["notification"]
    assert match_ids(records, connector_delivery_source="release_governance") == []


def test_audit_id_delivery_id_and_cadence() -> None:
    nested_only = rf.audit_delivery_plan(session_id="nested", audit_id="A", cadence="daily")
    del nested_only["audit_id"]
    records = [
        nested_only,
        rf.audit_package(session_id="A", audit_id="A"),
        rf.connector_delivery(session_id="rcd-1", audit_id="A", delivery_id="D", event_id="E"),
        rf.acknowledgement(session_id="D"),
    ]
    assert sorted(match_ids(records, audit_id="A")) == ["A", "nested", "rcd-1"]
    assert sorted(match_ids(records, delivery_id="D")) == ["D", "rcd-1"]
    assert match_ids(records, delivery_id="E") == ["rcd-1"]
    assert match_ids(records, delivery_id="A") == ["A"]  # session_id
    assert match_ids(records, cadence="daily") == ["nested"]
    assert match_ids(records, cadence="Daily") == []


def test_derived_status_and_state_filter() -> None:
    ack = rf.acknowledgement(session_id="ack", acknowledgement_state="escalated")
    ok = rf.connector_delivery(session_id="ok")
    failed = rf.connector_delivery(session_id="failed", failed_providers=["splunk"])
    plan = rf.notification_plan(session_id="plan", alert_level="warning")
    no_level = rf.notification_plan(session_id="no-level")
    del no_level["alert_level"]
    escalation = rf.escalation_plan(
        session_id="escalation",
        routes=[rf.escalation_route(acknowledged=True), rf.escalation_route(acknowledged=False)],
    )
    escalation_done = rf.escalation_plan(
        session_id="escalation-done",
        routes=[rf.escalation_route(acknowledged=True), rf.escalation_route(acknowledged="false")],
    )
    package = rf.audit_package(
        session_id="package", routes=[rf.audit_route(acknowledgement_state="outstanding")]
    )
    package_case = rf.audit_package(
        session_id="package-case", routes=[rf.audit_route(acknowledgement_state="Outstanding")]
    )
    delivery_plan = rf.audit_delivery_plan(session_id="dplan", outstanding_count=2)
    delivery_plan_bool = rf.audit_delivery_plan(session_id="dplan-bool", outstanding_count=True)
    delivery_plan_zero = rf.audit_delivery_plan(session_id="dplan-zero", outstanding_count=0)
    records = [
        ack,
        ok,
        failed,
        plan,
        no_level,
        escalation,
        escalation_done,
        package,
        package_case,
        delivery_plan,
        delivery_plan_bool,
        delivery_plan_zero,
    ]
    assert sm.status_of(ack) == "escalated"
    assert sm.status_of(ok) == "delivered"
    assert sm.status_of(failed) == "delivery_failed"
    assert sm.status_of(plan) == "warning"
    assert sm.status_of(no_level) is None
    assert sm.status_of(escalation) == "warning"
    assert sorted(match_ids(records, state="outstanding")) == ["dplan", "escalation", "package"]
    assert match_ids(records, state="delivered") == ["ok"]
    assert match_ids(records, state="escalated") == ["ack"]


def test_created_after_and_before() -> None:
    records = [
        rf.acknowledgement(session_id="early", created_at="2025-03-01T10:00:00Z"),
        rf.acknowledgement(session_id="edge", created_at="2025-03-01T15:30:00+05:30"),  # 10:00Z
        rf.acknowledgement(session_id="late", created_at="2025-03-01T11:00:00"),
    ]
    assert match_ids(records, created_after="2025-03-01T10:00:00") == ["late", "early", "edge"]
    assert match_ids(records, created_after="2025-03-01T03:00:01-07:00") == ["late"]
    assert match_ids(records, created_before="2025-03-01T10:00:00Z") == []
    assert match_ids(records, created_before="2025-03-01T10:00:00.000001Z") == ["early", "edge"]
    assert match_ids(
        records, created_after="2025-03-01T10:00:00Z", created_before="2025-03-01T11:00:00Z"
    ) == ["early", "edge"]


def test_non_string_fields_never_match() -> None:
    record = rf.notification_plan(session_id="odd", alert_level=1, schedule_id=3)
    record["plan"] = "not a dict"
    assert match_ids([record], alert_level="1") == []
    assert match_ids([record], schedule_id="3") == []
    assert sm.status_of(record) is None


# ---------------------------------------------------------------------------
# Dashboard details
# ---------------------------------------------------------------------------


def test_outstanding_acknowledgements() -> None:
    newer = rf.notification_plan(
        session_id="plan-new",
        created_at="2025-03-01T12:00:00Z",
        schedule_id="S",
        acknowledgement_required_providers=["slack", "jira", "teams", "slack"],
    )
    older = rf.notification_plan(
        session_id="plan-old",
        created_at="2025-03-01T11:00:00Z",
        schedule_id="S",
        acknowledgement_required_providers=["webhook"],
    )
    nested = rf.notification_plan(
        session_id="plan-nested",
        created_at="2025-03-01T10:00:00Z",
        schedule_id="T",
        plan_id="nested-plan-id",
        acknowledgement_required_providers=["splunk"],
    )
    del nested["schedule_id"]
    del nested["plan_id"]
    nested["acknowledgement_required_providers"] = []
    records = [
        newer,
        older,
        nested,
        rf.acknowledgement(session_id="a1", schedule_id="S", provider="jira"),
        rf.acknowledgement(
            session_id="a2", schedule_id="S", provider="teams", acknowledgement_state="Acknowledged"
        ),
        rf.acknowledgement(
            session_id="a3", schedule_id="T", provider="slack", acknowledgement_state="resolved"
        ),
        rf.acknowledgement(
            session_id="a4", schedule_id="S", provider="slack", acknowledgement_state="dismissed"
        ),
    ]
    board = sm.dashboard(records, {})
    assert board["outstanding_acknowledgements"] == [
        {"schedule_id": "S", "provider": "slack", "plan_id": "plan-new"},
        {"schedule_id": "S", "provider": "teams", "plan_id": "plan-new"},
        {"schedule_id": "S", "provider": "slack", "plan_id": "plan-new"},
        {"schedule_id": "T", "provider": "splunk", "plan_id": "nested-plan-id"},
    ]
    assert board["outstanding_acknowledgement_count"] == 4
    assert board["alert_level"] == "critical"
    # Computed over the filtered set only: without the acks every route is outstanding.
    plans_only = sm.dashboard(records, {"metadata_kind": sm.KIND_PLAN})
    assert plans_only["outstanding_acknowledgement_count"] == 5
    # ... and with only the older plan matching, it is the first plan for S.
    old_only = sm.dashboard(records, {"created_before": "2025-03-01T11:30:00Z"})
    assert old_only["outstanding_acknowledgements"][0] == {
        "schedule_id": "S",
        "provider": "webhook",
        "plan_id": "plan-old",
    }


def test_outstanding_list_holds_twenty_and_healthy_when_all_acknowledged() -> None:
    providers = [f"p{i:02d}" for i in range(25)]
    plan = rf.notification_plan(schedule_id="S", acknowledgement_required_providers=providers)
    board = sm.dashboard([plan], {})
    assert board["outstanding_acknowledgement_count"] == 25
    assert [e["provider"] for e in board["outstanding_acknowledgements"]] == providers[:20]

    acks = [
        rf.acknowledgement(session_id=f"ack-{p}", schedule_id="S", provider=p) for p in providers
    ]
    board = sm.dashboard([plan, *acks], {})
    assert board["outstanding_acknowledgement_count"] == 0
    assert board["outstanding_acknowledgements"] == []
    assert board["alert_level"] == "healthy"
    assert board["acknowledgement_audit_delivery_success_rate"] is None
    assert board["acknowledgement_audit_delivery_health"] == "healthy"


def test_latest_is_ten_newest_whole_records() -> None:
    records = [
        rf.acknowledgement(session_id=f"ack-{i:02d}", created_at=f"2025-03-01T{i:02d}:00:00Z")
        for i in range(15)
    ]
    board = sm.dashboard(records, {})
    assert ids(board["latest"]) == [f"ack-{i:02d}" for i in range(14, 4, -1)]
    assert board["latest"][0] == records[14]


def test_success_rate_rounding_and_counts() -> None:
    records = [
        rf.connector_delivery(session_id="s1", created_at="2025-03-01T10:00:00Z"),
        rf.connector_delivery(session_id="s2", created_at="2025-03-01T11:00:00Z"),
        rf.connector_delivery(
            session_id="f1", created_at="2025-03-01T12:00:00Z", failed_providers=["splunk"]
        ),
        rf.connector_delivery(
            session_id="n1", source=NOTIFICATION, providers=["slack"], delivery_success="yes"
        ),
    ]
    board = sm.dashboard(records, {})
    assert board["acknowledgement_audit_delivery_success_rate"] == 0.6667
    assert board["acknowledgement_audit_delivery_success_count"] == 2
    assert board["failed_acknowledgement_audit_delivery_count"] == 1
    assert board["delivery_count"] == 4
    assert board["notification_delivery_count"] == 1
    assert board["failed_delivery_count"] == 2  # "yes" is not true
    assert board["acknowledgement_audit_delivery_providers"] == ["splunk"]
    one_third = sm.dashboard(records, {"created_after": "2025-03-01T11:00:00Z"})
    assert one_third["acknowledgement_audit_delivery_success_rate"] == 0.5
    assert sm._round4(1, 3) == 0.3333
    assert sm._round4(1, 8) == 0.125
    assert sm._round4(1, 20000) == 0.0001  # half rounds up


def test_audit_delivery_providers_sources() -> None:
    records = [
        rf.audit_delivery_plan(session_id="p", selected_providers=["webhook", ""]),
        rf.connector_delivery(session_id="d", providers=["splunk"], failed_providers=["jira"]),
        rf.connector_delivery(session_id="n", source=NOTIFICATION, providers=["teams"]),
        rf.notification_plan(session_id="np", selected_providers=["slack"]),
    ]
    board = sm.dashboard(records, {})
    assert board["acknowledgement_audit_delivery_providers"] == ["jira", "splunk", "webhook"]


# ---------------------------------------------------------------------------
# Provider / category health
# ---------------------------------------------------------------------------


def health_records() -> list[Record]:
    return [
        # splunk: failed, then recovered -> DEGRADED
        rf.connector_delivery(
            session_id="d1",
            created_at="2025-03-01T10:00:00Z",
            providers=["splunk", "slack"],
            failed_providers=["splunk"],
        ),
        rf.connector_delivery(
            session_id="d2", created_at="2025-03-01T11:00:00Z", providers=["splunk"]
        ),
        # slack: succeeded, then failed -> CRITICAL
        rf.connector_delivery(
            session_id="d3",
            created_at="2025-03-01T12:00:00Z",
            providers=["jira"],
            failed_providers=["slack"],
        ),
        # notification-source deliveries never count
        rf.connector_delivery(
            session_id="n1",
            created_at="2025-03-01T13:00:00Z",
            source=NOTIFICATION,
            providers=["jira"],
            failed_providers=["jira"],
        ),
        # teams is only selected by a delivery plan -> UNKNOWN
        rf.audit_delivery_plan(session_id="p1", selected_providers=["teams"]),
    ]


def test_provider_health_statuses() -> None:
    health = sm.provider_health(health_records(), {})
    assert list(health) == ["jira", "slack", "splunk", "teams"]
    at = {h: datetime(2025, 3, 1, h, tzinfo=UTC) for h in (10, 11, 12)}
    assert health["splunk"] == {
        "attempts": 2,
        "failures": 1,
        "successes": 1,
        "success_rate": 0.5,
        "last_attempt_at": at[11],
        "last_success_at": at[11],
        "last_failure_at": at[10],
        "status": "DEGRADED",
    }
    assert health["slack"]["status"] == "CRITICAL"
    assert health["slack"]["last_success_at"] == at[10]
    assert health["slack"]["last_failure_at"] == at[12]
    assert health["jira"]["status"] == "HEALTHY"
    assert health["jira"]["attempts"] == 1
    assert health["teams"]["status"] == "UNKNOWN"
    assert health["teams"]["success_rate"] is None

    categories = sm.category_health(health_records(), {})
    assert categories["siem"]["status"] == "DEGRADED"
    assert categories["chatops"]["status"] == "CRITICAL"
    assert categories["itsm"]["status"] == "HEALTHY"
    assert categories["webhook"]["status"] == "UNKNOWN"
    assert categories["chatops"]["attempts"] == 2
    assert categories["chatops"]["success_rate"] == 0.5
    assert categories["chatops"]["last_attempt_at"] == at[12]
    assert sm.overall_health_status(health_records(), {}) == "CRITICAL"
    only_siem = sm.overall_health_status(health_records(), {"provider": "splunk"})
    assert only_siem == "DEGRADED"
    assert sm.overall_health_status([], {}) == "UNKNOWN"


def test_category_degraded_when_one_provider_recovered_and_other_never_failed() -> None:
    records = [
        rf.connector_delivery(
            session_id="a",
            created_at="2025-03-01T10:00:00Z",
            failed_providers=["jira"],
            providers=["jira"],
        ),
        rf.connector_delivery(
            session_id="b", created_at="2025-03-01T11:00:00Z", providers=["jira", "servicenow"]
        ),
    ]
    assert sm.category_health(records, {})["itsm"]["status"] == "DEGRADED"


def test_uncategorised_provider_counts_only_overall() -> None:
    records = [
        rf.connector_delivery(
            session_id="a", created_at="2025-03-01T10:00:00Z", providers=["splunk"]
        ),
        rf.connector_delivery(
            session_id="b",
            created_at="2025-03-01T11:00:00Z",
            providers=["pagerduty"],
            failed_providers=["pagerduty"],
        ),
    ]
    categories = sm.category_health(records, {})
    assert {c: v["status"] for c, v in categories.items()} == {
        "siem": "HEALTHY",
        "itsm": "UNKNOWN",
        "chatops": "UNKNOWN",
        "webhook": "UNKNOWN",
    }
    assert sm.overall_health_status(records, {}) == "CRITICAL"
    assert sm.provider_health(records, {})["pagerduty"]["status"] == "CRITICAL"


def test_latest_attempt_tie_broken_by_session_id() -> None:
    at = "2025-03-01T10:00:00Z"
    same_instant = "2025-03-01T15:30:00+05:30"
    records = [
        rf.connector_delivery(session_id="b-ok", created_at=at, providers=["splunk"]),
        rf.connector_delivery(
            session_id="a-failed",
            created_at=same_instant,
            providers=["splunk"],
            failed_providers=["splunk"],
        ),
    ]
    # history order: a-failed first, so it is splunk's latest attempt
    assert sm.provider_health(records, {})["splunk"]["status"] == "CRITICAL"
    records[1]["session_id"] = "c-failed"
    assert sm.provider_health(records, {})["splunk"]["status"] == "DEGRADED"


def test_failed_provider_outside_providers_is_an_attempt() -> None:
    record = rf.connector_delivery(providers=["splunk"], failed_providers=["sentinel", ""])
    health = sm.provider_health([record], {})
    assert list(health) == ["sentinel", "splunk"]
    assert health["sentinel"]["failures"] == 1
    assert health["splunk"]["successes"] == 1


# ---------------------------------------------------------------------------
# Properties over random histories
# ---------------------------------------------------------------------------

SEEDS = st.integers(min_value=0, max_value=2**32 - 1)


@settings(max_examples=150, deadline=None, database=None)
@given(SEEDS)
def test_random_history_is_well_formed(seed: int) -> None:
    rng = random.Random(seed)
    records = rf.random_history(rng, rng.randint(0, 60))
    json.dumps(records)
    session_ids = [r["session_id"] for r in records]
    assert len(session_ids) == len(set(session_ids))
    for record in records:
        sm.parse_instant(record["created_at"])
        assert isinstance(record["metadata_kind"], str)


@settings(max_examples=200, deadline=None, database=None)
@given(SEEDS)
def test_paging_slices_matching(seed: int) -> None:
    rng = random.Random(seed)
    records = rf.random_history(rng, rng.randint(0, 40))
    params = rf.random_params(rng, records)
    try:
        page, total, limit, offset = sm.history(records, params)
    except sm.SpecError as error:
        assert error.field in sm.FILTER_FIELDS + sm.PAGING_FIELDS
        return
    everything = sm.matching(records, params)
    assert total == len(everything)
    assert page == everything[offset : offset + limit]
    assert 0 <= limit <= 500 and offset >= 0
    assert all(sm.in_history(r) for r in everything)
    keys = [(sm.created_at_of(r), r["session_id"]) for r in everything]
    for (at_a, id_a), (at_b, id_b) in zip(keys, keys[1:], strict=False):
        assert at_a > at_b or (at_a == at_b and id_a < id_b)


@settings(max_examples=200, deadline=None, database=None)
@given(SEEDS)
def test_filters_combine_with_and(seed: int) -> None:
    rng = random.Random(seed)
    records = rf.random_history(rng, rng.randint(0, 40))
    first = rf.random_params(rng, records)
    second = {k: v for k, v in rf.random_params(rng, records).items() if k not in first}
    try:
        both = ids(sm.matching(records, first | second))
        one = set(ids(sm.matching(records, first)))
        two = set(ids(sm.matching(records, second)))
    except sm.SpecError:
        return
    assert set(both) == one & two


@settings(max_examples=200, deadline=None, database=None)
@given(SEEDS)
def test_dashboard_figures_are_consistent(seed: int) -> None:
    rng = random.Random(seed)
    records = rf.random_history(rng, rng.randint(0, 50))
    params = rf.random_params(rng, records)
    try:
        board = sm.dashboard(records, params)
        providers = sm.provider_health(records, params)
        categories = sm.category_health(records, params)
        overall = sm.overall_health_status(records, params)
    except sm.SpecError:
        return
    matched = sm.matching(records, params)
    audit = board["acknowledgement_audit_delivery_count"]
    assert board["delivery_count"] == board["notification_delivery_count"] + audit
    assert audit == (
        board["failed_acknowledgement_audit_delivery_count"]
        + board["acknowledgement_audit_delivery_success_count"]
    )
    assert board["failed_delivery_count"] >= board["failed_acknowledgement_audit_delivery_count"]
    assert board["latest"] == matched[:10]
    assert board["outstanding_acknowledgements"] == board["outstanding_acknowledgements"][:20]
    assert len(board["outstanding_acknowledgements"]) == min(
        20, board["outstanding_acknowledgement_count"]
    )
    assert board["acknowledgement_audit_delivery_health"] == (
        "critical" if board["failed_acknowledgement_audit_delivery_count"] else "healthy"
    )
    if board["failed_delivery_count"] or board["outstanding_acknowledgement_count"]:
        assert board["alert_level"] == "critical"
    else:
        assert board["alert_level"] == "healthy"
    assert sorted(providers) == board["acknowledgement_audit_delivery_providers"]
    for figures in [*providers.values(), *categories.values()]:
        assert figures["attempts"] == figures["failures"] + figures["successes"]
        assert (figures["attempts"] == 0) == (figures["status"] == "UNKNOWN")
        assert (figures["failures"] == 0 and figures["attempts"] > 0) == (
            figures["status"] == "HEALTHY"
        )
    for category, members in sm.CATEGORIES.items():
        in_category = [providers[p] for p in members if p in providers]
        assert categories[category]["attempts"] == sum(p["attempts"] for p in in_category)
        assert categories[category]["failures"] == sum(p["failures"] for p in in_category)
    statuses = {figures["status"] for figures in providers.values()}
    if "CRITICAL" in statuses:
        assert overall == "CRITICAL"
    elif "DEGRADED" in statuses:
        assert overall == "DEGRADED"
    elif "HEALTHY" in statuses:
        assert overall == "HEALTHY"
    else:
        assert overall == "UNKNOWN"
