"""The sandbox UI's GraphQL operations (apps/sandbox-ui/operations/*.graphql): valid against the
schema, exactly the fields their components render, answered by a real server; and the bundled
sample history is what make-sample.py generates."""

from __future__ import annotations

import json
import runpy
from datetime import UTC, datetime
from typing import Any

import graphql as graphql_core
import pytest
from graphql import parse, validate

from cavra_gql.demo import demo_records
from cavra_gql.redaction import redact
from cavra_gql.schema import build_schema
from tests.browser import (
    SANDBOX,
    component_fields,
    operation_names,
    operation_text,
    root_fields,
    selection_paths,
)
from tests.conftest import GraphQLClient, Loader

# Subscriptions run over WebSocket: tests/test_live.py runs them as the page sends them.
LIVE = {"live-dashboard", "live-history"}
EXPECTED = {"dashboard-cards", "provider-health", "trend", "history-page", "record-detail", *LIVE}


def test_every_component_operation_is_a_file() -> None:
    assert set(operation_names()) == EXPECTED
    assert set(component_fields()) == EXPECTED


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_operation_is_valid_against_the_schema(name: str) -> None:
    document = parse(operation_text(name))
    assert validate(build_schema()._schema, document) == []
    printed = graphql_core.build_schema((SANDBOX.parent.parent / "schema.graphql").read_text())
    assert validate(printed, document) == []


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_operation_selects_exactly_what_its_component_renders(name: str) -> None:
    renders, uses = component_fields()[name]
    assert not renders & uses
    selected = selection_paths(operation_text(name))
    assert selected - (renders | uses) == set(), "selected but never rendered"
    assert (renders | uses) - selected == set(), "declared but not selected"


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_operation_passes_each_argument_from_the_variable_of_its_name(name: str) -> None:
    """One root field, every argument `x: $x`: sample mode answers operations by that rule."""
    [root] = root_fields(operation_text(name))
    for argument in root.arguments:
        value = argument.value
        assert isinstance(value, graphql_core.VariableNode), argument.name.value
        assert value.name.value == argument.name.value


VARIABLES: dict[str, list[dict[str, Any]]] = {
    "dashboard-cards": [{}, {"state": "delivery_failed", "providerCategory": "siem"}],
    "provider-health": [{}, {"connectorDeliverySource": "go_backend_rollback_drill_notification"}],
    "trend": [{"bucket": "DAY"}, {"bucket": "HOUR", "createdAfter": "2026-11-27T12:00:00Z"}],
    "history-page": [{"limit": 50}, {"cadence": "hourly", "metadataKind": "", "limit": 5}],
    "record-detail": [],  # below: it needs an id from the history
}


def _leaves(value: Any, prefix: str, found: set[str]) -> None:
    if isinstance(value, list) and value:
        for item in value:
            _leaves(item, prefix, found)
    elif isinstance(value, dict) and not prefix.endswith(".record"):
        for key, inner in value.items():
            _leaves(inner, f"{prefix}.{key}" if prefix else key, found)
    else:
        found.add(prefix)


def test_operations_run_against_a_real_server(load: Loader, graphql: GraphQLClient) -> None:
    load(demo_records(datetime.now(UTC)))
    answered: dict[str, set[str]] = {name: set() for name in EXPECTED - LIVE}
    for name, cases in VARIABLES.items():
        for variables in cases:
            _leaves(graphql.data(operation_text(name), variables), "", answered[name])
    page = graphql.data(operation_text("history-page"), {"limit": 500})
    kinds: dict[str, dict[str, Any]] = {}
    for item in page["rollbackDrillNotifications"]["items"]:
        kinds.setdefault(item["metadataKind"], item)
    assert len(kinds) == 6
    for item in kinds.values():
        data = graphql.data(operation_text("record-detail"), {"id": item["id"]})
        found = data["rollbackDrillNotification"]
        assert (found["id"], found["record"]["session_id"]) == (item["id"], item["id"])
        _leaves(data, "", answered["record-detail"])
    missing = graphql.data(operation_text("record-detail"), {"id": "no-such-record"})
    assert missing == {"rollbackDrillNotification": None}
    for name in EXPECTED - LIVE:  # every selected field came back from the server at least once
        assert selection_paths(operation_text(name)) <= answered[name], name


def test_sample_data_is_what_make_sample_generates_and_holds_no_secret() -> None:
    # run_path leaves no __pycache__ in apps/sandbox-ui (served as static files, shipped in wheels)
    make_sample = runpy.run_path(str(SANDBOX / "make-sample.py"))
    bundled = json.loads((SANDBOX / "sample-data.json").read_text(encoding="utf-8"))
    assert bundled["items"] == make_sample["sample_records"](), "run apps/sandbox-ui/make-sample.py"
    assert bundled["sample"]["records"] == len(bundled["items"])
    assert 200 <= len(bundled["items"]) <= 600
    assert all(redact(item) == item for item in bundled["items"])
    text = json.dumps(bundled)
    assert "Bearer" not in text and "demo-webhook-token" not in text
