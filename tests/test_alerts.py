"""The sample alert rules (docs/prometheus-alerts.yml) name only metrics and labels that a
real scrape of /metrics has, so the documentation cannot drift from the code."""

from __future__ import annotations

import re
from pathlib import Path

import yaml
from sqlalchemy import Engine
from starlette.testclient import TestClient

from cavra_gql.dashboard import HealthStatus
from cavra_gql.metrics import OUTCOMES
from cavra_gql.sync import Follower
from tests import cavra_writer as cavra
from tests import record_factory as rf
from tests.conftest import Loader
from tests.test_metrics import scrape

RULES = Path(__file__).resolve().parent.parent / "docs" / "prometheus-alerts.yml"
SELECTOR = re.compile(r"(cavra_gql_[a-z_]+)(?:\{([^}]*)\})?")
MATCHER = re.compile(r'(\w+)="([^"]*)"')
KNOWN = {"outcome": set(OUTCOMES), "status": {status.value for status in HealthStatus}}


def test_alert_rules_name_metrics_and_labels_a_scrape_has(
    client: TestClient, load: Loader, engine: Engine, tmp_path: Path
) -> None:
    load([rf.connector_delivery(failed_providers=("splunk",))])
    store = tmp_path / "evidence-metadata.json"
    cavra.write_store(store, [cavra.record(1)])
    assert Follower(engine, store).run() is not None  # a followed store: the sync figures
    client.get("/nope")  # some request with a non-ok outcome
    samples = scrape(client)
    rules = [r for g in yaml.safe_load(RULES.read_text())["groups"] for r in g["rules"]]
    assert any("audit_delivery_health" in rule["expr"] for rule in rules)
    assert any("cavra_gql_sync_" in rule["expr"] for rule in rules)
    for rule in rules:
        selectors = SELECTOR.findall(rule["expr"])
        assert selectors, rule["alert"]
        for name, matchers in selectors:
            found = [dict(labels) for sample, labels in samples if sample == name]
            assert found, f"{rule['alert']}: no {name} in /metrics"
            for label, wanted in MATCHER.findall(matchers):
                seen = {labels[label] for labels in found if label in labels}
                assert seen, f"{rule['alert']}: {name} has no label {label}"
                # A counter's series appears with its first count: its values are known.
                assert wanted in seen | KNOWN.get(label, set()), (rule["alert"], label, wanted)
