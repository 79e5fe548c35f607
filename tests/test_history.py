"""History order, offset paging, keyset cursors and their errors."""

from __future__ import annotations

from typing import Any

import pytest

from tests import record_factory as rf
from tests.conftest import GraphQLClient, Loader
from tests.graphql_ops import HISTORY

HISTORY_URL = "/runtime/go-pilot/rollback-drill-notifications"


def _plans(*created: tuple[str, str]) -> list[dict[str, Any]]:
    return [rf.notification_plan(session_id=sid, created_at=at) for sid, at in created]


# The same instant written four ways, an earlier one that sorts later as text, and ids that
# order by code point (upper case before lower case, ASCII before "é").
ORDER_CASES = _plans(
    ("b", "2026-11-01T12:00:00Z"),
    ("é", "2026-11-01T17:30:00+05:30"),
    ("B", "2026-11-01T05:00:00-07:00"),
    ("a", "2026-11-01T12:00:00"),
    ("late-text-early-time", "2026-11-01T13:00:00+09:00"),  # 04:00Z
    ("newest", "2026-11-01T12:00:00.000001Z"),
)
EXPECTED_ORDER = ["newest", "B", "a", "b", "é", "late-text-early-time"]


def test_order_compares_instants_then_session_ids_by_code_point(
    load: Loader, client, graphql: GraphQLClient
) -> None:
    load(ORDER_CASES)
    rest = client.get(HISTORY_URL).json()
    assert [item["session_id"] for item in rest["items"]] == EXPECTED_ORDER
    data = graphql.data(HISTORY)["rollbackDrillNotifications"]
    assert [item["id"] for item in data["items"]] == EXPECTED_ORDER
    assert data["items"][0]["createdAt"] == "2026-11-01T12:00:00.000001+00:00"


def test_offset_pages_and_paging_past_the_end(load: Loader, client) -> None:
    load(ORDER_CASES)
    pages = [
        client.get(HISTORY_URL, params={"limit": "2", "offset": str(offset)}).json()
        for offset in (0, 2, 4, 6, 50)
    ]
    assert [[i["session_id"] for i in page["items"]] for page in pages] == [
        EXPECTED_ORDER[0:2],
        EXPECTED_ORDER[2:4],
        EXPECTED_ORDER[4:6],
        [],
        [],
    ]
    assert {page["total"] for page in pages} == {6}
    assert (pages[4]["limit"], pages[4]["offset"]) == (2, 50)


def test_limit_defaults_and_caps(load: Loader, client) -> None:
    load(ORDER_CASES)
    assert client.get(HISTORY_URL).json()["limit"] == 50
    assert client.get(HISTORY_URL, params={"limit": " "}).json()["limit"] == 50
    capped = client.get(HISTORY_URL, params={"limit": "100000"}).json()
    assert (capped["limit"], len(capped["items"])) == (500, 6)
    empty = client.get(HISTORY_URL, params={"limit": "0"}).json()
    assert (empty["items"], empty["total"]) == ([], 6)


CURSOR_WALK = """
query Walk($after: String, $limit: Int) {
  rollbackDrillNotifications(after: $after, limit: $limit) {
    total pageInfo { hasNextPage endCursor } items { id }
  }
}
"""


@pytest.mark.parametrize("size", [1, 2, 4, 6, 7])
def test_cursor_walk_visits_every_record_once(size: int, load: Loader, graphql) -> None:
    load(ORDER_CASES)
    seen: list[str] = []
    after = None
    while True:
        page = graphql.data(CURSOR_WALK, {"after": after, "limit": size})
        page = page["rollbackDrillNotifications"]
        seen += [item["id"] for item in page["items"]]
        assert page["total"] == 6
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    assert seen == EXPECTED_ORDER
    if seen:
        assert page["pageInfo"]["endCursor"] is not None


def test_cursor_of_an_empty_page_is_null(load: Loader, graphql) -> None:
    load(ORDER_CASES)
    page = graphql.data(CURSOR_WALK, {"limit": 0})["rollbackDrillNotifications"]
    assert page["pageInfo"] == {"hasNextPage": True, "endCursor": None}


def test_cursor_page_starts_after_a_record_that_no_longer_matches(load: Loader, graphql) -> None:
    load(ORDER_CASES)
    first = graphql.data(CURSOR_WALK, {"limit": 2})["rollbackDrillNotifications"]
    page = graphql.data(
        'query($after: String) { rollbackDrillNotifications(after: $after, scheduleId: "x") '
        "{ total items { id } } }",
        {"after": first["pageInfo"]["endCursor"]},
    )
    assert page["rollbackDrillNotifications"] == {"total": 0, "items": []}


@pytest.mark.parametrize(
    ("arguments", "field"),
    [
        ('after: "not-a-cursor"', "after"),
        ('after: "WzEsMl0="', "after"),  # decodes, but to the wrong shape
        ('after: "WzEsICJhIl0=", offset: 3', "after"),
        ("limit: -1", "limit"),
        ("offset: -1", "offset"),
    ],
)
def test_bad_paging_is_bad_user_input(arguments: str, field: str, graphql) -> None:
    body = graphql(f"{{ rollbackDrillNotifications({arguments}) {{ total }} }}")
    assert body["data"] is None
    [error] = body["errors"]
    assert error["extensions"] == {"code": "BAD_USER_INPUT", "field": field}


def test_after_with_zero_offset_is_allowed(load: Loader, graphql) -> None:
    load(ORDER_CASES)
    first = graphql.data(CURSOR_WALK, {"limit": 1})["rollbackDrillNotifications"]
    page = graphql.data(
        "query($after: String) { rollbackDrillNotifications(after: $after, offset: 0, limit: 1) "
        "{ items { id } } }",
        {"after": first["pageInfo"]["endCursor"]},
    )
    assert page["rollbackDrillNotifications"]["items"] == [{"id": EXPECTED_ORDER[1]}]


def test_one_record_by_id(load: Loader, graphql: GraphQLClient) -> None:
    load([*ORDER_CASES, rf.excluded_record(session_id="outside")])
    query = "query($id: ID!) { rollbackDrillNotification(id: $id) { id __typename createdAt } }"
    found = graphql.data(query, {"id": "é"})["rollbackDrillNotification"]
    assert found == {
        "id": "é",
        "__typename": "NotificationPlan",
        "createdAt": "2026-11-01T12:00:00+00:00",
    }
    assert graphql.data(query, {"id": "missing"})["rollbackDrillNotification"] is None
    assert graphql.data(query, {"id": "outside"})["rollbackDrillNotification"] is None
