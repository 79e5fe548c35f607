"""Live updates: subscriptions over graphql-transport-ws on a real server, fed by real writes."""

from __future__ import annotations

import asyncio
import json
import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine
from websockets.exceptions import ConnectionClosed, InvalidStatus

from cavra_gql.auth import AuthConfig, hash_token
from cavra_gql.db import make_engine
from cavra_gql.demo import demo_records
from cavra_gql.ingest import ingest_values
from cavra_gql.live import ChangeFeed, FellBehind, Subscriber
from cavra_gql.oidc import LEEWAY_SECONDS
from cavra_gql.queries import changes
from cavra_gql.queries.changes import Change
from cavra_gql.settings import Limits, Settings
from tests import record_factory as rf
from tests.browser import operation_text, selection_paths
from tests.conftest import StatementCounter
from tests.live_client import live, opened, served
from tests.test_auth import AUDIENCE, ISSUER, Issuer
from tests.test_metrics import Samples, scrape, value
from tests.test_sandbox_operations import _leaves

ADDED = """
subscription Added($provider: String, $deliverySuccess: Boolean) {
  rollbackDrillNotificationAdded(provider: $provider, deliverySuccess: $deliverySuccess) {
    seq total truncated committedAt
    records { id metadataKind status providers ... on ConnectorDelivery { deliverySuccess } }
  }
}"""
DASHBOARD = """
subscription Cards($provider: String) {
  rollbackDrillNotificationDashboardChanged(provider: $provider) {
    generatedAt deliveryCount failedDeliveryCount latest { id }
  }
}"""
READER, OPERATOR = "a-reader-token", "an-operator-token"


def _at(second: int) -> str:
    return f"2026-12-01T10:00:{second:02d}Z"


def _delivery(session_id: str, second: int, providers: list[str], failed: list[str]) -> Any:
    return rf.connector_delivery(
        session_id=session_id,
        created_at=_at(second),
        providers=providers,
        failed_providers=failed,
    )


@pytest.fixture
def url(database_url: str) -> Iterator[str]:
    with served(Settings(database_url=database_url)) as ws_url:
        yield ws_url


def test_a_subscription_gets_each_writes_matching_records(url: str, engine: Engine) -> None:
    with live(url) as client:
        client.subscribe("1", ADDED, {"provider": "splunk", "deliverySuccess": False})
        client.quiet(0.3)  # subscribed: nothing was written
        ingest_values(
            engine,
            [
                _delivery("splunk-failed-old", 1, ["splunk"], ["splunk"]),
                _delivery("splunk-ok", 2, ["splunk"], []),
                _delivery("jira-failed", 3, ["jira"], ["jira"]),
                _delivery("splunk-failed-new", 4, ["splunk", "jira"], ["splunk"]),
                rf.notification_plan(session_id="plan", selected_providers=["splunk"]),
            ],
            "first file",
        )
        first = client.next("1")["rollbackDrillNotificationAdded"]
        assert [r["id"] for r in first["records"]] == ["splunk-failed-new", "splunk-failed-old"]
        assert (first["total"], first["truncated"]) == (2, False)
        assert all(
            r["deliverySuccess"] is False and "splunk" in r["providers"] for r in first["records"]
        )

        ingest_values(engine, [_delivery("jira-failed-2", 5, ["jira"], ["jira"])], "no match")
        ingest_values(engine, [_delivery("splunk-ok", 2, ["splunk"], ["splunk"])], "update")
        second = client.next("1")["rollbackDrillNotificationAdded"]
        assert second["seq"] == first["seq"] + 2, "the write without a match sent nothing"
        assert [(r["id"], r["status"]) for r in second["records"]] == [
            ("splunk-ok", "delivery_failed")  # updated: it matches now
        ]
        ingest_values(engine, [_delivery("splunk-ok", 2, ["splunk"], ["splunk"])], "same again")
        client.quiet(1.5)  # unchanged records are no change


def test_the_dashboard_comes_at_once_then_after_writes_that_change_it(
    url: str, engine: Engine
) -> None:
    ingest_values(engine, [_delivery("a", 1, ["splunk"], [])], "before")
    with live(url) as client:
        client.subscribe("cards", DASHBOARD, {"provider": "splunk"})
        first = client.next("cards")["rollbackDrillNotificationDashboardChanged"]
        assert (first["deliveryCount"], first["failedDeliveryCount"]) == (1, 0)
        ingest_values(engine, [_delivery("jira", 2, ["jira"], ["jira"])], "other provider")
        ingest_values(engine, [_delivery("b", 3, ["splunk"], ["splunk"])], "matching")
        second = client.next("cards")["rollbackDrillNotificationDashboardChanged"]
        assert (second["deliveryCount"], second["failedDeliveryCount"]) == (2, 1)
        assert [r["id"] for r in second["latest"]] == ["b", "a"]
        ingest_values(engine, [_delivery("jira-2", 4, ["jira"], [])], "other provider")
        client.quiet(2.0)  # the filtered dashboard did not change: nothing sent


def _scrape_until(base: str, done: Callable[[Samples], bool]) -> Samples:
    deadline = time.monotonic() + 20
    while not done(samples := scrape(base)):
        assert time.monotonic() < deadline, samples
        time.sleep(0.05)
    return samples


def test_open_connections_subscriptions_and_events_sent_are_in_the_metrics(
    url: str, engine: Engine
) -> None:
    base = url.replace("ws://", "http://").removesuffix("/graphql")
    connections, subscriptions = "cavra_gql_websocket_connections", "cavra_gql_subscriptions"
    events = "cavra_gql_subscription_events_total"
    added = {"subscription": "rollbackDrillNotificationAdded"}
    cards = {"subscription": "rollbackDrillNotificationDashboardChanged"}
    before = scrape(base)

    def delta(samples: Samples, name: str, **labels: str) -> float:
        return value(samples, name, **labels) - value(before, name, **labels)

    with live(url) as client:
        client.subscribe("rows", ADDED, {"provider": "splunk"})
        client.subscribe("cards", DASHBOARD, {"provider": "splunk"})
        client.next("cards")
        _scrape_until(base, lambda s: delta(s, subscriptions) == 2)
        ingest_values(engine, [_delivery("a", 1, ["splunk"], [])], "matching")
        ingest_values(engine, [_delivery("b", 2, ["jira"], [])], "not matching")
        got = {client.receive()["id"], client.receive()["id"]}
        assert got == {"rows", "cards"}
        opened = scrape(base)
        assert (delta(opened, connections), delta(opened, subscriptions)) == (1, 2)
        assert (delta(opened, events, **added), delta(opened, events, **cards)) == (1, 2)
    closed = _scrape_until(base, lambda s: delta(s, connections) == 0)
    assert delta(closed, subscriptions) == 0


def test_subscriptions_per_connection_are_bounded(database_url: str) -> None:
    limits = Limits(max_subscriptions_per_connection=3)
    with served(Settings(database_url=database_url, limits=limits)) as url, live(url) as client:
        for id in "abc":
            client.subscribe(id, ADDED)
        client.subscribe("d", ADDED)
        refused = client.receive()
        assert (refused["type"], refused["id"]) == ("error", "d")
        [error] = refused["payload"]
        assert error["message"].startswith("at most 3 subscriptions may be open on one connection")
        assert error["extensions"]["code"] == "SUBSCRIPTION_LIMIT"
        client.send({"id": "a", "type": "complete"})
        client.subscribe("d", DASHBOARD)
        assert client.next("d")["rollbackDrillNotificationDashboardChanged"]["deliveryCount"] == 0


@pytest.mark.parametrize(
    ("document", "variables", "code"),
    [
        (
            'subscription { rollbackDrillNotificationAdded(providerCategory: "nope") { seq } }',
            {},
            "BAD_USER_INPUT",
        ),
        ("query { rollbackDrillNotifications { total } }", {}, None),
        (  # deeper than the limit
            "subscription { rollbackDrillNotificationAdded { records { ... on NotificationPlan"
            " { plan { routeDecisions { provider } } } } } }",
            {},
            "GRAPHQL_VALIDATION_FAILED",
        ),
    ],
    ids=["bad filter", "query", "depth"],
)
def test_refused_operations_get_an_error_message(
    database_url: str, document: str, variables: dict[str, Any], code: str | None
) -> None:
    settings = Settings(database_url=database_url, limits=Limits(max_depth=3))
    with served(settings) as url, live(url) as client:
        client.subscribe("x", document, variables)
        message = client.receive()
        assert (message["type"], message["id"]) == ("error", "x"), message
        if code is None:
            assert message["payload"][0]["message"] == "queries are not allowed"
        else:
            assert message["payload"][0]["extensions"]["code"] == code, message


def test_a_document_over_the_token_limit_closes_the_connection(database_url: str) -> None:
    settings = Settings(database_url=database_url, limits=Limits(max_tokens=20))
    fields = " ".join(["seq"] * 30)
    with served(settings) as url, live(url) as client:
        client.subscribe("x", f"subscription {{ rollbackDrillNotificationAdded {{ {fields} }} }}")
        with pytest.raises(ConnectionClosed) as closed:
            client.receive()
        assert closed.value.rcvd is not None and closed.value.rcvd.code == 4400
        assert "more than 20 tokens" in closed.value.rcvd.reason


@pytest.fixture
def secured(sqlite_url: str) -> Iterator[str]:
    tokens = f"dash:reader:{hash_token(READER)},bot:operator:{hash_token(OPERATOR)}"
    auth = AuthConfig.from_env({"CAVRA_GQL_TOKENS": tokens})
    with served(Settings(database_url=sqlite_url, auth=auth)) as url:
        yield url


@pytest.mark.parametrize(
    ("payload", "code"),
    [({}, 4401), ({"authorization": "Bearer wrong"}, 4401), ({"authorization": 7}, 4401)],
    ids=["none", "wrong token", "not a string"],
)
def test_credentials_are_required_when_configured(
    secured: str, payload: dict[str, Any], code: int
) -> None:
    with opened(secured) as socket:
        socket.send('{"type": "connection_init", "payload": ' + json.dumps(payload) + "}")
        with pytest.raises(ConnectionClosed) as closed:
            socket.recv(timeout=10)
        assert closed.value.rcvd is not None and closed.value.rcvd.code == code


def test_a_token_in_connection_init_or_in_the_upgrade_request_is_accepted(secured: str) -> None:
    with live(secured, {"authorization": f"Bearer {READER}"}) as client:
        client.subscribe("d", DASHBOARD)
        assert "rollbackDrillNotificationDashboardChanged" in client.next("d")
    with live(secured, headers={"authorization": f"Bearer {OPERATOR}"}) as client:
        client.subscribe("d", DASHBOARD)
        assert "rollbackDrillNotificationDashboardChanged" in client.next("d")


def test_a_connection_closes_when_its_jwt_expires(sqlite_url: str, tmp_path: Path) -> None:
    """A stream must not outlive the OIDC token that opened it; a lasting one stays open."""
    issuer = Issuer(tmp_path)
    oidc = f'[oidc]\nissuer = "{ISSUER}"\naudience = "{AUDIENCE}"\njwks_file = "jwks.json"\n'
    (tmp_path / "auth.toml").write_text(oidc, encoding="utf-8")
    auth = AuthConfig.from_file(tmp_path / "auth.toml")
    # Accepted within the clock leeway, and no longer valid two seconds later.
    expiring = issuer.token(exp=int(time.time()) - LEEWAY_SECONDS + 2, roles=["reader"])
    lasting = issuer.token(roles=["reader"])
    with (
        served(Settings(database_url=sqlite_url, auth=auth)) as url,
        live(url, {"authorization": f"Bearer {lasting}"}) as steady,
        live(url, {"authorization": f"Bearer {expiring}"}) as client,
    ):
        for connection in (client, steady):
            connection.subscribe("d", DASHBOARD)
            assert "rollbackDrillNotificationDashboardChanged" in connection.next("d")
        with pytest.raises(ConnectionClosed) as closed:
            client.receive(timeout=15)
        assert closed.value.rcvd is not None and closed.value.rcvd.code == 4401
        assert "expired" in closed.value.rcvd.reason
        steady.subscribe("again", DASHBOARD)
        assert "rollbackDrillNotificationDashboardChanged" in steady.next("again")


def test_only_graphql_transport_ws_is_spoken(url: str) -> None:
    with opened(url, protocol="graphql-ws") as socket:
        assert socket.subprotocol is None
        with pytest.raises(ConnectionClosed) as closed:
            socket.recv(timeout=10)
        assert closed.value.rcvd is not None and closed.value.rcvd.code == 4406


def test_browser_pages_of_other_origins_cannot_connect(url: str) -> None:
    with pytest.raises(InvalidStatus) as refused, opened(url, origin="http://evil.example"):
        pass
    assert refused.value.response.status_code == 403
    with live(url, origin="http://127.0.0.1:5173") as client:  # a CORS origin
        client.subscribe("d", DASHBOARD)
        client.next("d")


def test_a_subscription_that_falls_behind_is_ended() -> None:
    async def scenario() -> None:
        subscriber = Subscriber(bound=2)
        for seq in (1, 2):
            subscriber.offer(Change(seq, seq, 1, 0))
        assert (await subscriber.next()).seq == 1
        for seq in (3, 4):
            subscriber.offer(Change(seq, seq, 1, 0))
        with pytest.raises(FellBehind):
            await subscriber.next()
        subscriber.drain()  # a consumer that only needs to know of a change loses nothing
        subscriber.offer(Change(5, 5, 1, 0))
        await subscriber.any()

    asyncio.run(scenario())


def test_a_process_without_subscriptions_does_not_read_the_feed(
    database_url: str, engine: Engine
) -> None:
    """Writes cost an API process nothing until someone subscribes; a subscription then
    starts at the newest batch and gets every later one."""
    feed_engine = make_engine(database_url)
    counter = StatementCounter(feed_engine)

    async def scenario() -> None:
        feed = ChangeFeed(feed_engine, poll_seconds=0.05)
        await feed.start()
        try:
            ingest_values(engine, [_delivery("before", 1, ["splunk"], [])], "unwatched")
            await asyncio.sleep(0.5)  # PostgreSQL: its NOTIFY has arrived by now
            assert counter.statements == []
            async with feed.subscribe() as subscriber:
                ingest_values(engine, [_delivery("during", 2, ["splunk"], [])], "watched")
                change = await asyncio.wait_for(subscriber.next(), timeout=10)
                assert change.records == 1
            counter.reset()
            ingest_values(engine, [_delivery("after", 3, ["splunk"], [])], "unwatched")
            await asyncio.sleep(0.5)
            assert counter.statements == []
        finally:
            await feed.stop()

    try:
        asyncio.run(scenario())
    finally:
        feed_engine.dispose()


def test_concurrent_writers_get_seqs_in_commit_order(engine: Engine) -> None:
    """A reader that remembers the last seq it read, reading while several writers commit,
    sees every batch: a seq is only ever taken after every smaller one committed."""
    seen: list[int] = []
    done = threading.Event()

    def read() -> None:
        last = 0
        while True:
            finished = done.is_set()
            with engine.connect() as conn:
                for change in changes.changes_after(conn, last):
                    seen.append(change.seq)
                    last = change.seq
            if finished:
                return

    def write(writer: int) -> None:
        for n in range(15):
            record = _delivery(f"w{writer}-{n}", n % 60, ["splunk"], [])
            ingest_values(engine, [record], f"writer {writer}")

    reader = threading.Thread(target=read)
    reader.start()
    writers = [threading.Thread(target=write, args=(w,)) for w in range(3)]
    for thread in writers:
        thread.start()
    for thread in writers:
        thread.join()
    done.set()
    reader.join()
    assert seen == list(range(1, 46))


def test_the_sandbox_pages_live_operations_as_it_sends_them(url: str, engine: Engine) -> None:
    with live(url) as client:
        client.subscribe("cards", operation_text("live-dashboard"))
        client.subscribe("rows", operation_text("live-history"))
        cards = client.next("cards")
        ingest_values(engine, demo_records(datetime.now(UTC)), "demo history")
        message = client.receive()
        while message["id"] != "rows":  # the cards may change first
            message = client.receive()
        rows = message["payload"]["data"]
        assert rows["rollbackDrillNotificationAdded"]["records"]
        answered: set[str] = set()
        _leaves(cards, "", answered)
        _leaves(rows, "", answered)
        for name in ("live-dashboard", "live-history"):
            assert selection_paths(operation_text(name)) <= answered, name


def test_subscriptions_over_http_are_refused(client: Any) -> None:
    answer = client.post(
        "/graphql", json={"query": "subscription { rollbackDrillNotificationAdded { seq } }"}
    )
    assert answer.status_code == 400
    assert "subscriptions are not allowed" in answer.text
