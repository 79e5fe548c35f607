"""The demo history through the API: every typed field resolves, every filter finds something,
and the number of SQL statements does not grow with the page."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from graphql import GraphQLObjectType, get_named_type

from cavra_gql import kinds
from cavra_gql.demo import demo_records
from cavra_gql.schema import build_schema
from cavra_gql.schema.records import RECORD_TYPES
from tests.conftest import GraphQLClient, Loader, StatementCounter
from tests.graphql_ops import DASHBOARD

HISTORY_URL = "/runtime/go-pilot/rollback-drill-notifications"
NOW = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)


def _selection(graphql_type: GraphQLObjectType) -> str:
    """Every field of a type, nested objects included."""
    parts = []
    for name, field in graphql_type.fields.items():
        named = get_named_type(field.type)
        if isinstance(named, GraphQLObjectType):
            parts.append(f"{name} {{ {_selection(named)} }}")
        else:
            parts.append(name)
    return " ".join(parts)


def _all_fields_query() -> str:
    schema = build_schema()._schema
    fragments = " ".join(
        f"... on {cls.__name__} {{ {_selection(schema.type_map[cls.__name__])} }}"  # type: ignore[arg-type]
        for cls in RECORD_TYPES
    )
    return (
        "query($after: String) { rollbackDrillNotifications(limit: 500, after: $after) "
        f"{{ total pageInfo {{ hasNextPage endCursor }} items {{ __typename {fragments} }} }} }}"
    )


@pytest.fixture
def demo(load: Loader) -> int:
    return load(demo_records(NOW)).counts.new


def test_demo_loads_idempotently(demo: int, load: Loader) -> None:
    assert demo >= 2000
    again = load(demo_records(NOW)).counts
    assert (again.new, again.updated, again.unchanged) == (0, 0, demo)


def test_every_typed_field_of_every_record_resolves(demo: int, graphql: GraphQLClient) -> None:
    query = _all_fields_query()
    seen: dict[str, int] = {}
    after = None
    while True:
        page = graphql.data(query, {"after": after})["rollbackDrillNotifications"]
        for item in page["items"]:
            seen[item["__typename"]] = seen.get(item["__typename"], 0) + 1
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    assert set(seen) == {cls.__name__ for cls in RECORD_TYPES}
    assert sum(seen.values()) == page["total"]


def test_typed_fields_read_the_record(demo: int, graphql: GraphQLClient) -> None:
    data = graphql.data(
        """{ rollbackDrillNotifications(connectorDeliverySource:
               "go_backend_rollback_drill_acknowledgement_audit",
               metadataKind: "release-connector-delivery", limit: 5) {
             items { record ... on ConnectorDelivery {
               auditId deliveryId attemptedProviders failedProviders deliverySuccess
               delivery { deliveries { provider statusCode } } } } } }"""
    )
    for item in data["rollbackDrillNotifications"]["items"]:
        record = item["record"]
        assert item["auditId"] == record["audit_id"]
        assert item["deliveryId"] == record["delivery_id"]
        assert item["attemptedProviders"] == record["providers"]
        assert item["failedProviders"] == record["failed_providers"]
        assert item["deliverySuccess"] is record["delivery_success"]
        assert [d["provider"] for d in item["delivery"]["deliveries"]] == [
            d["provider"] for d in record["delivery"]["deliveries"]
        ]


FILTERS_THAT_MUST_FIND_SOMETHING = (
    [
        {"state": state}
        for state in (
            "delivered",
            "delivery_failed",
            "critical",
            "healthy",
            "warning",
            "outstanding",
            "resolved",
            "escalated",
            "acknowledged",
            "dismissed",
        )
    ]
    + [{"provider": p} for p in kinds.CATEGORY_OF_PROVIDER]
    + [{"provider_category": c} for c in kinds.PROVIDER_CATEGORIES]
    + [{"metadata_kind": k} for k in sorted(kinds.HISTORY_KINDS)]
    + [{"cadence": c} for c in ("on_demand", "hourly", "daily", "weekly")]
    + [
        {"connector_delivery_source": kinds.NOTIFICATION_SOURCE},
        {"connector_delivery_source": kinds.AUDIT_SOURCE, "delivery_success": "false"},
        {"created_after": "2026-11-27T12:00:00Z", "delivery_success": "false"},
    ]
)


def test_every_filter_finds_demo_records(demo: int, client) -> None:
    empty = [
        params
        for params in FILTERS_THAT_MUST_FIND_SOMETHING
        if client.get(HISTORY_URL, params=params).json()["total"] == 0
    ]
    assert empty == []


def test_demo_dashboard_shows_failure_recovery_and_outstanding(demo: int, graphql) -> None:
    dashboard = graphql.data(DASHBOARD)["rollbackDrillNotificationDashboard"]
    statuses = {item["provider"]: item["status"] for item in dashboard["providerHealth"]}
    assert set(statuses.values()) >= {"HEALTHY", "DEGRADED", "CRITICAL"}
    assert dashboard["outstandingAcknowledgementCount"] > 0
    assert dashboard["healthStatus"] == "CRITICAL"
    assert 0 < dashboard["acknowledgementAuditDeliverySuccessRate"] < 1


def test_statement_counts_do_not_grow_with_the_page(
    demo: int, graphql: GraphQLClient, client, statements: StatementCounter
) -> None:
    query = _all_fields_query()
    for limit in (5, 500):
        statements.reset()
        graphql.data(query.replace("limit: 500", f"limit: {limit}"))
        assert statements.count == 2, statements.statements  # the page and its total
    statements.reset()
    graphql.data("{ rollbackDrillNotifications { items { id } } }")
    assert statements.count == 1  # no total asked, none counted
    statements.reset()
    graphql.data(DASHBOARD)
    # counts, providers, provider attempts, first plans, outstanding routes, latest
    assert statements.count == 6, statements.statements
    statements.reset()
    graphql.data("{ rollbackDrillNotificationDashboard { planCount deliveryCount } }")
    assert statements.count == 1
    statements.reset()
    client.get(HISTORY_URL, params={"limit": "500"})
    assert statements.count == 2
    statements.reset()
    client.get(HISTORY_URL + "/dashboard")
    assert statements.count == 5  # REST has no provider health


TREND = """query($bucket: TrendBucket!, $after: String, $before: String, $category: String) {
  auditDeliveryTrend(bucket: $bucket, createdAfter: $after, createdBefore: $before,
                     providerCategory: $category) { start attempts failures successes } }"""


def test_trend_buckets_add_up_to_the_dashboard(demo: int, graphql: GraphQLClient) -> None:
    for bucket, variables in [
        ("DAY", {}),
        ("HOUR", {"after": "2026-11-27T12:00:00Z", "before": "2026-11-28T12:00:00Z"}),
        ("DAY", {"category": "itsm"}),
    ]:
        data = graphql.data(TREND, {"bucket": bucket, **variables})
        points = data["auditDeliveryTrend"]
        dashboard = graphql.data(
            "query($after: String, $before: String, $category: String) {"
            " rollbackDrillNotificationDashboard(createdAfter: $after, createdBefore: $before,"
            " providerCategory: $category) { acknowledgementAuditDeliveryCount"
            " failedAcknowledgementAuditDeliveryCount } }",
            variables,
        )["rollbackDrillNotificationDashboard"]
        assert sum(p["attempts"] for p in points) == dashboard["acknowledgementAuditDeliveryCount"]
        assert (
            sum(p["failures"] for p in points)
            == (dashboard["failedAcknowledgementAuditDeliveryCount"])
        )
        starts = [datetime.fromisoformat(p["start"]) for p in points]
        step = starts[1] - starts[0]
        assert all(b - a == step for a, b in zip(starts, starts[1:], strict=False))
        if bucket == "HOUR":
            assert len(points) == 24 and starts[0].hour == 12


def test_trend_refuses_too_many_buckets(graphql: GraphQLClient) -> None:
    body = graphql(
        TREND, {"bucket": "HOUR", "after": "2020-01-01T00:00:00Z", "before": "2026-01-01T00:00:00Z"}
    )
    assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
