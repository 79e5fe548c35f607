"""Random histories and filter combinations: REST and GraphQL agree with the SPEC model."""

from __future__ import annotations

import random
import re
from datetime import datetime
from typing import Any

import pytest

from cavra_gql.redaction import redact
from tests import record_factory as rf
from tests import spec_model as sm
from tests.conftest import GraphQLClient, Loader
from tests.graphql_ops import DASHBOARD, HISTORY, variables

HISTORY_URL = "/runtime/go-pilot/rollback-drill-notifications"
SEEDS = range(6)
COMBINATIONS = 25


def _instant(value: str | None) -> datetime | None:
    return None if value is None else datetime.fromisoformat(value)


def _graphql_can_express(params: dict[str, str]) -> bool:
    """GraphQL types deliverySuccess Boolean and limit/offset Int: skip what those cannot say."""
    for name in ("limit", "offset"):
        value = params.get(name, "").strip()
        if value and not re.fullmatch(r"[+-]?[0-9]+", value):
            return False
    value = params.get("delivery_success", "").strip().lower()
    return not value or value in sm.TRUE_WORDS | sm.FALSE_WORDS


def _check_history(params: dict[str, str], stored: list[dict[str, Any]], client, graphql) -> None:
    try:
        expected = sm.history_answer(stored, params)
    except sm.SpecError:
        assert client.get(HISTORY_URL, params=params).status_code == 422, params
        if _graphql_can_express(params):
            body = graphql(HISTORY, variables(params))
            assert body["data"] is None, params
            assert body["errors"][0]["extensions"]["code"] in (
                "BAD_USER_INPUT",
                "GRAPHQL_VALIDATION_FAILED",
            ), body
        return
    answer = client.get(HISTORY_URL, params=params)
    assert answer.status_code == 200, (params, answer.text)
    assert answer.json() == expected, params
    if _graphql_can_express(params):
        data = graphql.data(HISTORY, variables(params))["rollbackDrillNotifications"]
        assert [item["record"] for item in data["items"]] == expected["items"], params
        assert (data["total"], data["limit"], data["offset"]) == (
            expected["total"],
            expected["limit"],
            expected["offset"],
        )
        assert [item["providers"] for item in data["items"]] == [
            sm.providers_of(record) for record in expected["items"]
        ]
        assert [item["status"] for item in data["items"]] == [
            sm.status_of(record) for record in expected["items"]
        ]


def _check_dashboard(params: dict[str, str], stored: list[dict[str, Any]], client, graphql) -> None:
    filters = {k: v for k, v in params.items() if k not in ("limit", "offset")}
    try:
        expected = sm.dashboard(stored, filters)
    except sm.SpecError:
        assert client.get(HISTORY_URL + "/dashboard", params=filters).status_code == 422
        return
    answer = client.get(HISTORY_URL + "/dashboard", params=filters).json()
    assert answer.pop("generated_at")
    assert answer == expected, filters
    if not _graphql_can_express(filters):
        return
    data = graphql.data(DASHBOARD, variables(filters))["rollbackDrillNotificationDashboard"]
    health = sm.provider_health(stored, filters)
    assert [item["provider"] for item in data["providerHealth"]] == list(health)
    for item in data["providerHealth"]:
        figures = health[item["provider"]]
        assert item["attempts"] == figures["attempts"]
        assert item["failures"] == figures["failures"]
        assert item["successRate"] == figures["success_rate"]
        assert item["status"] == figures["status"]
        assert _instant(item["lastFailureAt"]) == figures["last_failure_at"]
        assert _instant(item["lastSuccessAt"]) == figures["last_success_at"]
    categories = sm.category_health(stored, filters)
    for item in data["categoryHealth"]:
        assert item["status"] == categories[item["category"]]["status"], item
        assert item["attempts"] == categories[item["category"]]["attempts"]
    assert data["healthStatus"] == sm.overall_health_status(stored, filters)


@pytest.mark.parametrize("seed", SEEDS)
def test_random_histories_match_the_spec_model(
    seed: int, load: Loader, client, graphql: GraphQLClient
) -> None:
    rng = random.Random(seed)
    records = rf.random_history(rng, 120)
    load(records)
    stored = [redact(record) for record in records]
    for _ in range(COMBINATIONS):
        params = rf.random_params(rng, records)
        _check_history(params, stored, client, graphql)
        _check_dashboard(params, stored, client, graphql)
