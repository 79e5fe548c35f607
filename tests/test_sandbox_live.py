"""The sandbox UI, live, in headless Chromium against a real `cavra-gql api`: records written
while the page is open show up at the top of the history and in the cards, without a reload."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from cavra_gql.db import make_engine
from cavra_gql.ingest import ingest_values
from tests import record_factory as rf
from tests.server import running_api
from tests.test_sandbox_ui import OpenPage, browser, open_page  # noqa: F401  (fixtures)

pytestmark = pytest.mark.browser


def _delivery(session_id: str, minute: int, failed: bool) -> Any:
    return rf.connector_delivery(
        session_id=session_id,
        created_at=f"2026-12-01T10:{minute:02d}:00Z",
        providers=["splunk"],
        failed_providers=["splunk"] if failed else [],
    )


def test_written_records_appear_live(tmp_path: Path, open_page: OpenPage) -> None:  # noqa: F811
    url = f"sqlite:///{tmp_path / 'live.sqlite3'}"
    engine = make_engine(url)
    ingest_values(engine, [_delivery(f"old-{n}", n, False) for n in range(3)], "before")
    try:
        with running_api(url) as base:
            page = open_page(base + "/sandbox/")
            page.page.wait_for_selector('#live[data-state="live"]', timeout=20_000)
            assert page.row_ids() == ["old-2", "old-1", "old-0"]
            assert page.cards()["deliveries"][0] == 3
            page.page.evaluate("window.notReloaded = true")

            ingest_values(
                engine, [_delivery("new-1", 30, True), _delivery("new-2", 31, False)], "x"
            )
            page.page.wait_for_function(
                """() => document.querySelector('#card-deliveries').dataset.value === '5'
                    && document.querySelector('#history-table tbody tr').dataset.id === 'new-2'
                    && document.querySelector('#history-total').textContent === '5'""",
                timeout=20_000,
            )
            assert page.row_ids() == ["new-2", "new-1", "old-2", "old-1", "old-0"]
            assert page.cards()["failed-delivery"][0] == 1

            ingest_values(engine, [_delivery("old-1", 1, True)], "an update")  # now failed
            page.page.wait_for_function(
                "() => document.querySelector('#card-failed-delivery').dataset.value === '2'",
                timeout=20_000,
            )
            assert page.row_ids() == ["new-2", "new-1", "old-2", "old-1", "old-0"], "no twice"
            status = page.page.text_content('#history-table tr[data-id="old-1"] .status-cell')
            assert status is not None and "delivery_failed" in status.replace(" ", "_")
            assert page.page.evaluate("window.notReloaded") is True
            assert page.errors == []
    finally:
        engine.dispose()


def test_the_live_stream_does_not_redraw_unchanged_cards(
    tmp_path: Path,
    open_page: OpenPage,  # noqa: F811
) -> None:
    """The dashboard subscription starts by repeating the figures the page just loaded: the
    cards stay the same elements (no flicker, no lost selection), only their time moves."""
    url = f"sqlite:///{tmp_path / 'live.sqlite3'}"
    engine = make_engine(url)
    ingest_values(engine, [_delivery(f"old-{n}", n, False) for n in range(3)], "before")
    try:
        with running_api(url) as base:
            page = open_page(base + "/sandbox/", settle=False)
            # From the first script on: count card elements taken out of the page, and the
            # times the cards' provenance (their generatedAt) was written.
            page.page.add_init_script(
                """
                window.cardsRemoved = 0;
                window.cardTimes = 0;
                new MutationObserver((changes) => {
                    for (const change of changes) {
                        if (change.target.id === 'cards-provenance') window.cardTimes++;
                        for (const node of change.removedNodes)
                            if (node.querySelector && (node.matches('[id^=card-]')
                                || node.querySelector('[id^=card-]'))) window.cardsRemoved++;
                    }
                }).observe(document, { childList: true, subtree: true });
                """
            )
            page.page.reload()
            # Written once by the page's own query, then by the live dashboard.
            page.page.wait_for_function("() => window.cardTimes >= 2", timeout=20_000)
            assert page.page.evaluate("window.cardsRemoved") == 0
            assert page.cards()["deliveries"][0] == 3
    finally:
        engine.dispose()


def test_changing_filters_keeps_the_one_websocket(
    tmp_path: Path,
    open_page: OpenPage,  # noqa: F811
) -> None:
    """New filters are subscribed on the open connection, not on a new one."""
    url = f"sqlite:///{tmp_path / 'live.sqlite3'}"
    engine = make_engine(url)
    ingest_values(engine, [_delivery(f"old-{n}", n, n == 0) for n in range(3)], "before")
    try:
        with running_api(url) as base:
            page = open_page(base + "/sandbox/", settle=False)
            sockets: list[Any] = []
            page.page.on("websocket", lambda socket: sockets.append(socket))
            page.page.reload()
            page.page.wait_for_selector('#live[data-state="live"]', timeout=20_000)
            page.page.select_option("#f-state", "delivered")
            page.settle()
            assert page.row_ids() == ["old-2", "old-1"]
            ingest_values(engine, [_delivery("new-ok", 40, False)], "matching the new filter")
            page.page.wait_for_function(
                "() => document.querySelector('#history-table tbody tr').dataset.id === 'new-ok'",
                timeout=20_000,
            )
            assert len(sockets) == 1
            assert page.page.get_attribute("#live", "data-state") == "live"
    finally:
        engine.dispose()
