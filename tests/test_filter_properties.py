"""Hypothesis: for random histories and filters, REST, GraphQL and the SPEC model agree.

Records come from the record factory with hypothesis choosing the values: odd providers,
wrong types, missing fields, time offsets, ties and non-ASCII ids. Every example runs on an
emptied database (tables cleared, not recreated) through the real ingest path.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine, text
from starlette.testclient import TestClient

from cavra_gql.redaction import redact
from tests import record_factory as rf
from tests import spec_model as sm
from tests.conftest import TABLES, GraphQLClient, Loader
from tests.graphql_ops import DASHBOARD, HISTORY, camel, variables

HISTORY_URL = "/runtime/go-pilot/rollback-drill-notifications"
DASHBOARD_URL = HISTORY_URL + "/dashboard"
PROPERTY_SETTINGS = settings(
    max_examples=40,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

# -- record values ----------------------------------------------------------------------

ODD_PROVIDERS = ("", "Slack", "SPLUNK", "splunk ", "pager-duty", "日本")
PROVIDER = st.sampled_from(rf.PROVIDER_POOL + ODD_PROVIDERS)
WRONG = st.sampled_from([None, 42, 0.5, True, False, "", "slack", [], ["splunk", 3], {"a": 1}])
PROVIDER_LIST = st.one_of(st.lists(PROVIDER, max_size=3), WRONG)
SCHEDULE = st.one_of(st.sampled_from(rf.SCHEDULE_POOL), WRONG)
AUDIT = st.sampled_from(rf.AUDIT_POOL)
DELIVERY = st.sampled_from(rf.DELIVERY_POOL)
ALERT = st.one_of(st.sampled_from(("critical", "warning", "healthy", "Critical")), WRONG)
SOURCE = st.sampled_from((rf.SOURCE_AUDIT, rf.SOURCE_NOTIFICATION, rf.SOURCE_RELEASE_GOVERNANCE))
SESSION_ID = st.one_of(
    st.sampled_from(rf.SPECIAL_SESSION_IDS + rf.AUDIT_POOL + rf.DELIVERY_POOL),
    st.text(alphabet="aZé日ß-_0", min_size=1, max_size=5),
)
# Few distinct instants (ties), written with any offset, sometimes with a fraction.
INSTANT = st.builds(
    lambda slot, micro, offset, fraction: rf.format_instant(
        rf.BASE_INSTANT + timedelta(minutes=37 * slot, microseconds=micro),
        offset,
        fraction=fraction,
    ),
    st.integers(0, 6),
    st.sampled_from((0, 0, 500_000)),
    st.sampled_from(rf.OFFSETS),
    st.booleans(),
)
# Top-level fields the filters read, broken after the record is built.
BREAKABLE = (
    "schedule_id",
    "provider",
    "alert_level",
    "audit_id",
    "delivery_id",
    "event_id",
    "delivery_success",
    "acknowledgement_state",
    "selected_providers",
    "providers",
    "failed_providers",
    "acknowledgement_required_providers",
    "outstanding_count",
    "plan",
    "acknowledgement_audit_package",
    "acknowledgement_audit_delivery_plan",
    "escalation_plan",
)
BREAKS = st.dictionaries(
    st.sampled_from(BREAKABLE), st.one_of(WRONG, st.just(rf.MISSING)), max_size=2
)


@st.composite
def records(draw: st.DrawFn) -> dict[str, Any]:
    """One record of any kind (or one the history excludes), perhaps with broken fields."""
    head = {"session_id": draw(SESSION_ID), "created_at": draw(INSTANT)}
    kind = draw(st.integers(0, 6))
    if kind == 0:
        record = rf.notification_plan(
            **head,
            schedule_id=draw(SCHEDULE),
            alert_level=draw(ALERT),
            selected_providers=draw(st.lists(PROVIDER, max_size=3)),
            acknowledgement_required_providers=draw(st.lists(PROVIDER, max_size=3)),
        )
    elif kind == 1:
        record = rf.acknowledgement(
            **head,
            schedule_id=draw(SCHEDULE),
            provider=draw(PROVIDER),
            acknowledgement_state=draw(st.sampled_from(rf.ACK_STATES)),
        )
    elif kind == 2:
        route = st.builds(
            rf.escalation_route,
            schedule_id=SCHEDULE,
            provider=PROVIDER,
            acknowledged=st.sampled_from((True, False, "false", None)),
        )
        record = rf.escalation_plan(**head, routes=draw(st.lists(route, max_size=3)))
    elif kind == 3:
        route = st.builds(
            rf.audit_route,
            provider=PROVIDER,
            acknowledgement_state=st.sampled_from(("outstanding", "acknowledged", "Outstanding")),
        )
        record = rf.audit_package(
            **head, audit_id=draw(AUDIT), routes=draw(st.lists(route, max_size=3))
        )
    elif kind == 4:
        record = rf.audit_delivery_plan(
            **head,
            delivery_id=draw(DELIVERY),
            audit_id=draw(AUDIT),
            selected_providers=draw(st.lists(PROVIDER, max_size=3)),
            cadence=draw(st.sampled_from(("hourly", "daily", "on_demand", "Hourly"))),
            alert_level=draw(ALERT),
            outstanding_count=draw(st.sampled_from((0, 1, 3, -1, True, "2", 0.5))),
        )
    elif kind == 5:
        record = rf.connector_delivery(
            **head,
            source=draw(SOURCE),
            providers=draw(PROVIDER_LIST),
            failed_providers=draw(PROVIDER_LIST),
            delivery_success=draw(st.sampled_from((None, True, False, "true", 1))),
            event_id=draw(st.one_of(SCHEDULE, DELIVERY)),
            audit_id=draw(AUDIT),
            delivery_id=draw(DELIVERY),
        )
    else:
        variant = draw(st.sampled_from(("suppression_trend", "release_governance", "no_source")))
        record = rf.excluded_record(variant=variant, **head)
    for key, value in draw(BREAKS).items():
        if value is rf.MISSING:
            record.pop(key, None)
        else:
            record[key] = value
    return record


HISTORIES = st.lists(records(), min_size=8, max_size=30, unique_by=lambda r: r["session_id"])

# -- filter values -------------------------------------------------------------------------

BAD_INSTANT = st.sampled_from(("2025-03-01", "yesterday", "2025-13-01T00:00:00"))
FILTER_VALUES: dict[str, st.SearchStrategy[str]] = {
    "schedule_id": st.sampled_from((*rf.SCHEDULE_POOL, "42", "drill-x")),
    "provider": PROVIDER,
    "metadata_kind": st.sampled_from((rf.KIND_PLAN, rf.KIND_ACK, rf.KIND_SUPPRESSION_TREND)),
    "acknowledgement_state": st.sampled_from((*rf.ACK_STATES, "Resolved ", "pending-review")),
    "connector_delivery_source": SOURCE,
    "delivery_success": st.sampled_from(("true", "False", "0", "yes", "N", " on ", "maybe")),
    "alert_level": st.sampled_from(("critical", "warning", "healthy", "Critical")),
    "audit_id": AUDIT,
    "delivery_id": st.one_of(DELIVERY, st.sampled_from(rf.SPECIAL_SESSION_IDS)),
    "cadence": st.sampled_from(("hourly", "daily", "on_demand", "Hourly")),
    "state": st.sampled_from(
        ("outstanding", "delivered", "delivery_failed", "critical", "acknowledged", "Acked")
    ),
    "provider_category": st.sampled_from(("siem", "ITSM", " ChatOps ", "webhook", "email")),
    "created_after": st.one_of(INSTANT, BAD_INSTANT),
    "created_before": st.one_of(INSTANT, BAD_INSTANT),
    "limit": st.sampled_from(("0", "1", "3", "+2", "501", "-1", "x", " ")),
    "offset": st.sampled_from(("0", "1", "4", " 2 ", "-3", "1.5", "")),
}
BLANK = st.sampled_from(("", "   "))
PARAMS = st.fixed_dictionaries(
    {}, optional={name: st.one_of(values, BLANK) for name, values in FILTER_VALUES.items()}
)


# -- the checks ----------------------------------------------------------------------------


def _empty(engine: Engine) -> None:
    with engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            conn.execute(text(f"TRUNCATE {', '.join(TABLES)}"))
        else:
            for table in TABLES:
                conn.execute(text(f"DELETE FROM {table}"))


def _graphql_can_say(params: dict[str, str]) -> bool:
    """deliverySuccess is a Boolean and limit/offset are Ints: REST words they cannot carry."""
    for name in ("limit", "offset"):
        value = params.get(name, "").strip()
        if value and not value.lstrip("+-").isdigit():
            return False
    word = params.get("delivery_success", "").strip().lower()
    return not word or word in sm.TRUE_WORDS | sm.FALSE_WORDS


def _refused(client: TestClient, graphql: GraphQLClient, url: str, query: str, params: Any) -> None:
    assert client.get(url, params=params).status_code == 422, params
    if _graphql_can_say(params):
        body = graphql(query, variables(params))
        assert body["data"] is None, (params, body)
        assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT", body


def _check_history(
    client: TestClient, graphql: GraphQLClient, stored: list[Any], params: dict[str, str]
) -> None:
    try:
        expected = sm.history_answer(stored, params)
    except sm.SpecError:
        _refused(client, graphql, HISTORY_URL, HISTORY, params)
        return
    answer = client.get(HISTORY_URL, params=params)
    assert answer.status_code == 200, (params, answer.text)
    assert answer.json() == expected, params
    if not _graphql_can_say(params):
        return
    page = graphql.data(HISTORY, variables(params))["rollbackDrillNotifications"]
    assert [item["id"] for item in page["items"]] == [r["session_id"] for r in expected["items"]]
    assert [item["record"] for item in page["items"]] == expected["items"]
    assert [page["total"], page["limit"], page["offset"]] == [
        expected["total"],
        expected["limit"],
        expected["offset"],
    ], params


def _camel_keys(value: Any) -> Any:
    if isinstance(value, dict):
        return {camel(key): _camel_keys(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_camel_keys(item) for item in value]
    return value


def _check_dashboard(
    client: TestClient, graphql: GraphQLClient, stored: list[Any], params: dict[str, str]
) -> None:
    filters = {k: v for k, v in params.items() if k not in ("limit", "offset")}
    try:
        expected = sm.dashboard(stored, filters)
    except sm.SpecError:
        _refused(client, graphql, DASHBOARD_URL, DASHBOARD, filters)
        return
    answer = client.get(DASHBOARD_URL, params=filters)
    assert answer.status_code == 200, (filters, answer.text)
    body = answer.json()
    assert body.pop("generated_at")
    assert body == expected, filters
    if not _graphql_can_say(filters):
        return
    data = graphql.data(DASHBOARD, variables(filters))["rollbackDrillNotificationDashboard"]
    latest = expected.pop("latest")
    assert [item["id"] for item in data["latest"]] == [r["session_id"] for r in latest]
    for name, value in _camel_keys(expected).items():
        assert data[name] == value, (name, filters)
    assert data["healthStatus"] == sm.overall_health_status(stored, filters)
    health = sm.provider_health(stored, filters)
    assert [item["provider"] for item in data["providerHealth"]] == list(health)
    for item in data["providerHealth"]:
        figures = health[item["provider"]]
        assert (item["attempts"], item["failures"], item["status"]) == (
            figures["attempts"],
            figures["failures"],
            figures["status"],
        ), item


def test_random_histories_and_filters_agree_with_the_spec_model(
    engine: Engine, load: Loader, client: TestClient, graphql: GraphQLClient
) -> None:
    examples: list[int] = []

    @PROPERTY_SETTINGS
    @given(history=HISTORIES, combinations=st.lists(PARAMS, min_size=1, max_size=3))
    def agree(history: list[dict[str, Any]], combinations: list[dict[str, str]]) -> None:
        _empty(engine)
        if history:
            load(history)
        stored = [redact(record) for record in history]
        for params in combinations:
            _check_history(client, graphql, stored, params)
            _check_dashboard(client, graphql, stored, params)
        examples.append(len(history))

    agree()
    assert len(examples) == PROPERTY_SETTINGS.max_examples
    assert max(examples) >= 15  # the histories were not all tiny


def test_the_property_checks_can_fail(
    load: Loader, client: TestClient, graphql: GraphQLClient
) -> None:
    record = rf.connector_delivery(
        session_id="rcd-1", providers=["pagerduty", "splunk"], failed_providers=["splunk"]
    )
    load([record])
    wrong = [{**redact(record), "providers": ["jira"], "failed_providers": []}]
    _check_history(client, graphql, [redact(record)], {"provider": "pagerduty"})
    with pytest.raises(AssertionError):
        _check_history(client, graphql, wrong, {"provider": "pagerduty"})
    _check_dashboard(client, graphql, [redact(record)], {})
    with pytest.raises(AssertionError):
        _check_dashboard(client, graphql, wrong, {})
