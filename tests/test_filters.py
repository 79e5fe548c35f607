"""The shared filter table through the query layer, REST and GraphQL: all three agree."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import Engine

from cavra_gql.queries.filters import HistoryFilter
from cavra_gql.queries.history import PageRequest, count_matches, fetch_page
from tests import filter_cases as fc
from tests.conftest import GraphQLClient, Loader
from tests.graphql_ops import HISTORY, camel, variables

HISTORY_URL = "/runtime/go-pilot/rollback-drill-notifications"
ALL_CASES = [(case, "worked") for case in fc.WORKED_CASES] + [
    (case, "extended") for case in fc.E_CASES
]


def _history(name: str) -> list[dict[str, object]]:
    return fc.worked_example() if name == "worked" else fc.extended_history()


@pytest.mark.parametrize(("case", "history"), ALL_CASES, ids=lambda v: getattr(v, "id", v))
def test_query_layer_rest_and_graphql_agree(
    case: fc.Case, history: str, load: Loader, engine: Engine, client, graphql: GraphQLClient
) -> None:
    load(_history(history))
    flt = HistoryFilter.parse(case.params)
    with engine.connect() as conn:
        page = fetch_page(conn, flt, PageRequest(limit=50))
        total = count_matches(conn, flt)
    assert [row.session_id for row in page.rows] == case.expected
    assert total == len(case.expected)

    rest = client.get(HISTORY_URL, params=case.params).json()
    assert [item["session_id"] for item in rest["items"]] == case.expected
    assert rest["total"] == len(case.expected)

    data = graphql.data(HISTORY, variables(case.params))["rollbackDrillNotifications"]
    assert [item["id"] for item in data["items"]] == case.expected
    assert data["total"] == len(case.expected)
    assert [item["record"] for item in data["items"]] == rest["items"]


@pytest.mark.parametrize(("field", "params"), fc.BAD_PARAMS)
def test_bad_values_are_422_and_bad_user_input(
    field: str, params: dict[str, str], client, graphql: GraphQLClient
) -> None:
    response = client.get(HISTORY_URL, params=params)
    assert response.status_code == 422
    assert response.json()["parameter"] == field
    assert field in response.json()["detail"]
    dashboard = client.get(HISTORY_URL + "/dashboard", params=params)
    if field in ("limit", "offset"):
        assert dashboard.status_code == 200  # the dashboard ignores paging
    else:
        assert dashboard.status_code == 422

    body = graphql(HISTORY, variables(params))
    assert body["data"] is None
    [error] = body["errors"]
    typed = field == "delivery_success" or not re.fullmatch(r"-?[0-9]+", params[field])
    if field in ("limit", "offset", "delivery_success") and typed:
        # GraphQL types these Int / Boolean: the value is refused before any resolver runs.
        assert "Variable" in error["message"]
        return
    assert error["extensions"]["code"] == "BAD_USER_INPUT"
    assert error["extensions"]["field"] == camel(field)
    assert camel(field) in error["message"]
