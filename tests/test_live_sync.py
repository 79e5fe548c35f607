"""The operator's scenario (issue 6), end to end: CAVRA keeps rewriting its JSON store while
`cavra-gql sync --follow` keeps the database in step, and a client follows the API's
subscriptions. Every record CAVRA writes that matches the client's filter arrives, none that
does not, and the live dashboard ends as the REST dashboard says."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx

from cavra_gql.rest import DASHBOARD_FIELDS, DASHBOARD_PATH, HISTORY_PATH
from tests import cavra_writer as cavra
from tests import record_factory as rf
from tests.live_client import Live, live
from tests.server import running_api
from tests.test_metrics import scrape, value

WORKTREE = Path(__file__).resolve().parent.parent
PROVIDERS = ("splunk", "jira", "pagerduty")
FILTER = {"provider": "splunk", "deliverySuccess": False}
ROWS = """
subscription Rows($provider: String, $deliverySuccess: Boolean) {
  rollbackDrillNotificationAdded(provider: $provider, deliverySuccess: $deliverySuccess) {
    seq total truncated
    records { id metadataKind providers ... on ConnectorDelivery { deliverySuccess } }
  }
}"""


def _camel(name: str) -> str:
    first, *rest = name.split("_")
    return first + "".join(part.title() for part in rest)


CARDS = (
    "subscription Cards { rollbackDrillNotificationDashboardChanged { "
    + " ".join(_camel(name) for name in DASHBOARD_FIELDS)
    + " latest { id } } }"
)
Record = dict[str, Any]


def matches(item: Record) -> bool:
    """FILTER, read by hand: a connector delivery naming splunk that did not succeed."""
    return (
        item["metadata_kind"] == rf.KIND_CONNECTOR
        and item["delivery_success"] is False
        and "splunk" in item["providers"]
    )


class Cavra:
    """CAVRA at work: each upsert rewrites its JSON store whole, in place
    (tests/cavra_writer.py); now and then a reader finds the file half-written for a while."""

    def __init__(self, path: Path, seed: int) -> None:
        self.path, self.rng = path, random.Random(seed)
        self.items: dict[str, Record] = {}
        self.ever_matched: set[str] = set()  # ids with a version that matched FILTER
        self.start = datetime(2026, 12, 1, tzinfo=UTC)
        self.count = 0

    def upsert(self, item: Record, halfway_pause: float = 0.0) -> None:
        self.items[item["session_id"]] = item
        if matches(item):
            self.ever_matched.add(item["session_id"])
        text = cavra.store_text(list(self.items.values()))
        with self.path.open("w", encoding="utf-8") as handle:
            handle.write(text[: len(text) // 2])
            handle.flush()
            time.sleep(halfway_pause)
            handle.write(text[len(text) // 2 :])

    def new_record(self) -> Record:
        rng, number = self.rng, self.count
        self.count += 1
        session_id = f"live-{number:04d}"
        created_at = (self.start + timedelta(seconds=number)).isoformat()
        if rng.random() < 0.15:
            chosen = rng.sample(PROVIDERS, 2)
            return rf.notification_plan(
                session_id=session_id, created_at=created_at, selected_providers=chosen
            )
        providers = rng.sample(PROVIDERS, rng.randint(1, 3))
        source = rng.choice((rf.SOURCE_NOTIFICATION, rf.SOURCE_AUDIT))
        extra = (
            {"delivery_id": f"gordackdelivery-{number:016d}"} if source == rf.SOURCE_AUDIT else {}
        )
        return rf.connector_delivery(
            session_id=session_id,
            created_at=created_at,
            source=source,
            providers=providers,
            failed_providers=[p for p in providers if rng.random() < 0.4],
            **extra,
        )

    def retried(self) -> Record | None:
        """A delivery of before, sent again: its failed providers drawn anew."""
        deliveries = [i for i in self.items.values() if i["metadata_kind"] == rf.KIND_CONNECTOR]
        if not deliveries:
            return None
        old = self.rng.choice(sorted(deliveries, key=lambda i: str(i["session_id"])))
        providers = list(old["providers"])
        return rf.connector_delivery(
            session_id=old["session_id"],
            created_at=old["created_at"],
            source=old["connector_delivery_source"],
            providers=providers,
            failed_providers=[p for p in providers if self.rng.random() < 0.4],
            **({"delivery_id": old["delivery_id"]} if "delivery_id" in old else {}),
        )

    def run(self, steps: int) -> None:
        for _ in range(steps):
            item = self.retried() if self.rng.random() < 0.3 else None
            pause = 0.4 if self.rng.random() < 0.08 else 0.0  # caught mid-write
            self.upsert(item or self.new_record(), pause)
            time.sleep(self.rng.uniform(0, 0.05))  # CAVRA's pace


class Received:
    """What the subscription client has been sent so far."""

    def __init__(self, client: Live) -> None:
        self.client = client
        self.rows: dict[str, list[Record]] = {}  # id -> the versions sent
        self.seqs: list[int] = []
        self.cards: dict[str, Any] | None = None

    def take(self, timeout: float) -> None:
        try:
            message = self.client.receive(timeout)
        except TimeoutError:
            return
        assert message["type"] == "next", message
        assert "errors" not in message["payload"], message
        data = message["payload"]["data"]
        if message["id"] == "cards":
            self.cards = data["rollbackDrillNotificationDashboardChanged"]
            return
        change = data["rollbackDrillNotificationAdded"]
        assert not change["truncated"] and change["total"] == len(change["records"])
        self.seqs.append(change["seq"])
        for item in change["records"]:
            self.rows.setdefault(item["id"], []).append(item)


def _cards_of(rest: dict[str, Any]) -> dict[str, Any]:
    figures = {name: rest[name] for name in DASHBOARD_FIELDS}
    return figures | {"latest": [item["session_id"] for item in rest["latest"]]}


def _cards_sent(cards: dict[str, Any] | None) -> dict[str, Any] | None:
    if cards is None:
        return None
    figures = {name: cards[_camel(name)] for name in DASHBOARD_FIELDS}
    return figures | {"latest": [item["id"] for item in cards["latest"]]}


def test_sync_follow_feeds_subscribers_while_cavra_writes(
    database_url: str, tmp_path: Path
) -> None:
    store = tmp_path / "evidence-metadata.json"
    writer = Cavra(store, seed=6)
    for _ in range(3):  # CAVRA was running before anyone followed it
        writer.upsert(writer.new_record())
    sync_out, sync_err = tmp_path / "sync.out", tmp_path / "sync.err"
    with running_api(database_url, stderr=tmp_path / "api.log") as base:
        ws_url = base.replace("http://", "ws://") + "/graphql"
        with live(ws_url) as client:
            received = Received(client)
            client.subscribe("rows", ROWS, FILTER)
            client.subscribe("cards", CARDS)
            deadline = time.monotonic() + 20
            while value(scrape(base), "cavra_gql_subscriptions") < 2:
                received.take(0.05)  # the cards' first answer
                assert time.monotonic() < deadline, "the subscriptions did not start"
            argv = [sys.executable, "-m", "cavra_gql.cli", "sync", "--from", str(store)]
            argv += ["--follow", "--interval", "0.2", "--database", database_url]
            with sync_out.open("w") as out, sync_err.open("w") as err:
                env = {**os.environ, "PYTHONPATH": str(WORKTREE), "PYTHONUNBUFFERED": "1"}
                sync = subprocess.Popen(argv, stdout=out, stderr=err, env=env)
            writing = threading.Thread(target=writer.run, args=(60,))
            try:
                writing.start()
                _follow_until_in_step(base, writer, writing, received, sync)
            finally:
                writing.join()
                sync.send_signal(signal.SIGTERM)
                status = sync.wait(timeout=60)
    assert status == 0
    assert "Traceback" not in sync_err.read_text()

    others = set(writer.items) - writer.ever_matched
    assert _matching(writer) and others  # the scenario tests both sides of the filter
    assert set(received.rows) >= _matching(writer)  # every matching record arrived
    assert set(received.rows) <= writer.ever_matched  # none that never matched
    for versions in received.rows.values():
        for item in versions:
            assert item["deliverySuccess"] is False and "splunk" in item["providers"], item
    assert received.seqs == sorted(set(received.seqs))  # commit order, each write once


def _follow_until_in_step(
    base: str, writer: Cavra, writing: threading.Thread, received: Received, sync: Any
) -> None:
    """Take what the subscriptions send until, the writer done, the database holds the
    store's records as CAVRA left them, every matching one has arrived, and the live cards
    show the REST dashboard."""
    deadline = time.monotonic() + 120
    checked = 0.0
    while True:
        received.take(0.2)
        assert sync.poll() is None, "sync --follow exited"
        assert time.monotonic() < deadline, (
            "not in step: "
            f"{sorted(set(writer.items) - set(_history(base)))} missing, "
            f"{sorted(_matching(writer) - set(received.rows))} not sent, "
            f"cards {_cards_sent(received.cards)} != {_cards_of(_get(base, DASHBOARD_PATH))}"
        )
        if writing.is_alive() or time.monotonic() < checked + 0.5:
            continue
        checked = time.monotonic()
        stored = _history(base)
        if any(stored.get(sid) != _view(item) for sid, item in writer.items.items()):
            continue
        assert set(stored) == set(writer.items)  # nothing else
        filtered = _get(base, HISTORY_PATH, provider="splunk", delivery_success="false")
        assert {item["session_id"] for item in filtered["items"]} == _matching(writer)
        if not _matching(writer) <= set(received.rows):
            continue
        if _cards_sent(received.cards) == _cards_of(_get(base, DASHBOARD_PATH)):
            return


def _matching(writer: Cavra) -> set[str]:
    return {sid for sid, item in writer.items.items() if matches(item)}


def _view(item: Record) -> tuple[Any, ...]:
    return (item["metadata_kind"], item.get("delivery_success"), item.get("failed_providers"))


def _history(base: str) -> dict[str, tuple[Any, ...]]:
    page = _get(base, HISTORY_PATH, limit="500")
    assert page["total"] < 500
    return {item["session_id"]: _view(item) for item in page["items"]}


def _get(base: str, path: str, **params: str) -> Any:
    response = httpx.get(base + path, params=params, timeout=30)
    response.raise_for_status()
    return response.json()
