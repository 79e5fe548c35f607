"""The sandbox UI in headless Chromium against a real `cavra-gql api`: every figure on the page
is the server's, filters are applied by the server and kept in the URL, paging follows cursors,
and without an API the page says so and computes the bundled sample in the browser."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from datetime import UTC, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx
import pytest

from tests.browser import (
    DESKTOP,
    PHONE,
    SANDBOX,
    Page,
    chromium,
    component_fields,
    dead_endpoint,
    graphql,
    run_operation,
    static_server,
)
from tests.server import free_port, running_api

pytestmark = pytest.mark.browser

AUDIT = "go_backend_rollback_drill_acknowledgement_audit"
SIEM = {"splunk", "sentinel", "datadog"}
CARD_FIELDS = {
    "status": "alertLevel",
    "plans": "planCount",
    "deliveries": "deliveryCount",
    "audit-health": "healthStatus",
    "audit-plans": "acknowledgementAuditDeliveryPlanCount",
    "audit-sends": "acknowledgementAuditDeliveryCount",
    "audit-failed": "failedAcknowledgementAuditDeliveryCount",
    "audit-success": "acknowledgementAuditDeliverySuccessRate",
    "failed-delivery": "failedDeliveryCount",
    "acknowledgements": "acknowledgementCount",
    "outstanding": "outstandingAcknowledgementCount",
}
NAMES = ("state", "providerCategory", "provider", "connectorDeliverySource", "createdAfter")
FILTERS = ", ".join(f"${name}: String" for name in NAMES)
PASSED = ", ".join(f"{name}: ${name}" for name in NAMES)
# Written here, not read from the page's operations, so the page is checked independently.
DASHBOARD = f"""query({FILTERS}) {{ rollbackDrillNotificationDashboard({PASSED}) {{
  {" ".join(sorted(set(CARD_FIELDS.values())))}
  providerHealth {{ provider attempts failures status }}
  categoryHealth {{ category attempts failures status }} }} }}"""
HISTORY = f"""query({FILTERS}, $after: String, $limit: Int) {{
  rollbackDrillNotifications({PASSED}, after: $after, limit: $limit) {{
    total pageInfo {{ endCursor }} items {{ id }} }} }}"""
TREND = f"""query($bucket: TrendBucket!, {FILTERS}) {{ auditDeliveryTrend(bucket: $bucket, {PASSED})
  {{ start attempts failures }} }}"""


# ---- fixtures -------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with chromium() as launched:
        yield launched


@pytest.fixture(scope="module")
def site() -> Iterator[str]:
    """apps/sandbox-ui served by `python3 -m http.server`, as the CAVRA docs do."""
    with static_server(SANDBOX, free_port()) as base:
        yield base


@pytest.fixture(scope="module")
def demo_api(tmp_path_factory: pytest.TempPathFactory, site: str) -> Iterator[str]:
    """`cavra-gql api --demo`, allowing the static site's origin."""
    url = f"sqlite:///{tmp_path_factory.mktemp('demo') / 'demo.sqlite3'}"
    with ExitStack() as stack:
        with pytest.MonkeyPatch.context() as env:
            env.setenv("CAVRA_GQL_CORS_ORIGINS", site)
            base = stack.enter_context(running_api(url, "--demo"))
        yield base


@pytest.fixture(scope="module")
def sample_api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The API over the bundled sample, put in with `cavra-gql ingest`."""
    url = f"sqlite:///{tmp_path_factory.mktemp('sample') / 'sample.sqlite3'}"
    command = [sys.executable, "-m", "cavra_gql.cli", "ingest", "--database", url]
    subprocess.run([*command, str(SANDBOX / "sample-data.json")], check=True, capture_output=True)
    with running_api(url) as base:
        yield base


OpenPage = Callable[..., Page]


@pytest.fixture
def open_page(browser: Any) -> Iterator[OpenPage]:
    contexts: list[Any] = []

    def open_page(url: str, viewport: dict[str, int] = DESKTOP, *, settle: bool = True) -> Page:
        context = browser.new_context(viewport=viewport)
        contexts.append(context)
        page = Page(context.new_page())
        page.page.goto(url)
        if settle:
            page.settle()
        return page

    yield open_page
    for context in contexts:
        context.close()


# ---- expectations ---------------------------------------------------------------------------


def _shown(field: str, value: Any) -> str:
    if field in ("alertLevel", "healthStatus"):
        return str(value).lower()
    if field == "acknowledgementAuditDeliverySuccessRate":
        if value is None:
            return "n/a"
        return f"{(Decimal(str(value)) * 100).quantize(Decimal(1), ROUND_HALF_UP)}%"
    return f"{value:,}"


def assert_cards(page: Page, base: str, variables: dict[str, str] | None = None) -> dict[str, Any]:
    dashboard: dict[str, Any] = graphql(base, DASHBOARD, variables)[
        "rollbackDrillNotificationDashboard"
    ]
    cards = page.cards()
    assert set(cards) == set(CARD_FIELDS)
    for key, field in CARD_FIELDS.items():
        assert cards[key] == [dashboard[field], _shown(field, dashboard[field])], key
    tone = page.page.get_attribute("#card-audit-failed", "data-tone")
    assert (tone == "bad") == (dashboard["failedAcknowledgementAuditDeliveryCount"] > 0)
    health_pill = page.page.get_attribute("#card-audit-health .pill", "class") or ""
    tones = {"CRITICAL": "tone-bad", "HEALTHY": "tone-good", "DEGRADED": "tone-warn"}
    assert tones.get(dashboard["healthStatus"], "tone-neutral") in health_pill
    return dashboard


def assert_provider_health(page: Page, dashboard: dict[str, Any]) -> None:
    rows = page.page.eval_on_selector_all(
        "tr.provider-row",
        """rows => rows.map(r => [
            r.dataset.provider,
            r.querySelector("[data-field$='.attempts']").textContent,
            r.querySelector("[data-field$='.failures']").textContent,
            r.dataset.status,
        ])""",
    )
    expected = [
        [p["provider"], f"{p['attempts']:,}", f"{p['failures']:,}", p["status"]]
        for p in dashboard["providerHealth"]
    ]
    assert sorted(rows) == sorted(expected)
    groups = page.page.eval_on_selector_all(
        "tr.group-row[data-category]",
        "rows => rows.map(r => [r.dataset.category, r.querySelector('.pill').textContent])",
    )
    assert groups == [[c["category"], c["status"].lower()] for c in dashboard["categoryHealth"]]


def assert_trend(
    page: Page, base: str, bucket: str, variables: dict[str, str] | None = None
) -> None:
    points = graphql(base, TREND, {"bucket": bucket, **(variables or {})})["auditDeliveryTrend"]
    drawn = page.page.eval_on_selector_all(
        "#trend g.bucket",
        "gs => gs.map(g => [g.dataset.start, +g.querySelector('.bar-hit').dataset.attempts])",
    )
    assert drawn == [[p["start"], p["attempts"]] for p in points]
    assert page.page.locator("#trend .legend").is_visible()


def history_ids(base: str, variables: dict[str, Any], pages: int = 1) -> tuple[int, list[str]]:
    ids: list[str] = []
    after = None
    for _ in range(pages):
        page = graphql(base, HISTORY, {**variables, "after": after, "limit": 50})
        ids += [item["id"] for item in page["rollbackDrillNotifications"]["items"]]
        after = page["rollbackDrillNotifications"]["pageInfo"]["endCursor"]
    return page["rollbackDrillNotifications"]["total"], ids


def assert_history(page: Page, base: str, variables: dict[str, Any]) -> list[str]:
    total, ids = history_ids(base, variables)
    assert page.row_ids() == ids
    assert page.page.text_content("#history-total") == f"{total:,}"
    return ids


def assert_rows_render_their_fields(page: Page, base: str) -> None:
    """Each row shows every non-empty field the history operation returned for it."""
    renders, uses = component_fields()["history-page"]
    answer = run_operation(base, "history-page", {"limit": 50})
    for item in answer["items"]:
        shown = page.fields(f"tr[data-id='{item['id']}']")
        for key, value in item.items():
            path = f"rollbackDrillNotifications.items.{key}"
            if path not in uses and value not in (None, "", []):
                assert path in shown, (item["id"], key)
                assert path in renders


def url_query(page: Page) -> dict[str, list[str]]:
    return parse_qs(urlsplit(page.page.url).query)


# ---- tests ----------------------------------------------------------------------------------


def test_served_by_the_api_every_figure_is_the_servers(demo_api: str, open_page: OpenPage):
    page = open_page(demo_api + "/sandbox/")
    assert page.page.title() == "Go Rollback Drill Notifications"
    assert page.page.text_content("#connection") == "Live API"
    assert page.page.locator("#mode-banner").is_hidden()
    dashboard = assert_cards(page, demo_api)
    assert_provider_health(page, dashboard)
    assert_trend(page, demo_api, "DAY")
    assert_history(page, demo_api, {})
    fields = component_fields()
    for name in ("dashboard-cards", "provider-health", "trend"):
        assert fields[name][0] <= page.fields(), name
    assert_rows_render_their_fields(page, demo_api)
    page.screenshot("sandbox-desktop")
    assert page.errors == []


def test_readable_at_phone_width(demo_api: str, open_page: OpenPage) -> None:
    page = open_page(demo_api + "/sandbox/", PHONE)
    assert page.page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    for selector in ("#card-status", "tr.provider-row", ".trend-chart", "#history-table tbody tr"):
        box = page.page.locator(selector).first.bounding_box()
        assert box and box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"], selector
    page.screenshot("sandbox-phone")
    assert page.errors == []


def test_failed_siem_deliveries(demo_api: str, open_page: OpenPage) -> None:
    page = open_page(demo_api + "/sandbox/")
    page.page.select_option("#f-state", label="delivery failed")
    page.settle()
    page.page.select_option("#f-category", label="SIEM")
    page.settle()
    assert url_query(page) == {"state": ["delivery_failed"], "providerCategory": ["siem"]}
    variables = {"state": "delivery_failed", "providerCategory": "siem"}
    ids = assert_history(page, demo_api, variables)
    assert ids
    statuses = page.page.eval_on_selector_all(
        "#history-table tbody [data-field$='.status']", "els => els.map(e => e.textContent)"
    )
    assert statuses == ["delivery failed"] * len(ids)
    # Every row, read back whole from the API: a connector send that failed, to a SIEM.
    # (Fifteen aliases a request: the server's alias limit.)
    answer: dict[str, Any] = {}
    for start in range(0, len(ids), 15):
        query = " ".join(
            f'r{n}: rollbackDrillNotifications(deliveryId: "{ids[n]}") {{ items {{ id record }} }}'
            for n in range(start, min(start + 15, len(ids)))
        )
        answer.update(graphql(demo_api, f"{{ {query} }}"))
    for n, id_ in enumerate(ids):
        [record] = [i["record"] for i in answer[f"r{n}"]["items"] if i["id"] == id_]
        assert record["metadata_kind"] == "release-connector-delivery"
        assert record.get("delivery_success") is not True
        assert SIEM & set(record.get("providers", []) + record.get("failed_providers", []))
    assert_cards(page, demo_api, variables)
    assert page.errors == []


def test_the_url_round_trips_the_filters(demo_api: str, open_page: OpenPage) -> None:
    since = (datetime.now(UTC) - timedelta(days=10)).strftime("%Y-%m-%dT%H:00:00Z")
    filters = {
        "connectorDeliverySource": AUDIT,
        "provider": "servicenow",
        "state": "delivery_failed",
        "createdAfter": since,
    }
    page = open_page(f"{demo_api}/sandbox/?{urlencode(filters)}")
    controls = {"#f-source": AUDIT, "#f-provider": "servicenow", "#f-state": "delivery_failed"}
    for selector, value in {**controls, "#f-after": since}.items():
        assert page.page.input_value(selector) == value
    assert page.page.text_content("#filters-title") == "Filters (4 active)"
    first = assert_history(page, demo_api, filters)
    assert first
    assert_cards(page, demo_api, filters)
    page.page.select_option("#f-state", "delivered")
    page.settle()
    assert url_query(page)["state"] == ["delivered"]
    delivered = assert_history(page, demo_api, {**filters, "state": "delivered"})
    page.page.go_back()
    page.settle()
    assert url_query(page)["state"] == ["delivery_failed"]
    assert page.page.input_value("#f-state") == "delivery_failed"
    assert page.row_ids() == first
    page.page.go_forward()
    page.settle()
    assert page.page.input_value("#f-state") == "delivered"
    assert page.row_ids() == delivered
    assert page.errors == []


def test_load_more_appends_the_next_page(demo_api: str, open_page: OpenPage) -> None:
    page = open_page(demo_api + "/sandbox/")
    first = page.row_ids()
    assert len(first) == 50
    page.page.click("#load-more")
    page.page.wait_for_function("document.querySelectorAll('#history-table tbody tr').length > 50")
    ids = page.row_ids()
    total, expected = history_ids(demo_api, {}, pages=2)
    assert ids == expected and ids[:50] == first and len(set(ids)) == 100
    assert page.page.text_content("#history-count") == f"Showing 100 of {total:,} records"
    assert page.errors == []


def test_a_refused_filter_shows_the_servers_message(demo_api: str, open_page: OpenPage) -> None:
    answer = httpx.post(
        demo_api + "/graphql",
        json={"query": '{ rollbackDrillNotifications(createdAfter: "yesterday") { total } }'},
    ).json()
    message = answer["errors"][0]["message"]
    page = open_page(demo_api + "/sandbox/")
    page.page.fill("#f-after", "yesterday")
    page.page.press("#f-after", "Enter")
    page.page.wait_for_selector("#filter-error:not([hidden])")
    assert message in (page.page.text_content("#filter-error") or "")
    assert url_query(page) == {"createdAfter": ["yesterday"]}
    page.page.wait_for_selector("#history-table .section-status.is-error")
    page.page.click("text=All time")
    page.settle()
    assert page.page.locator("#filter-error").is_hidden()
    assert page.errors == []


def test_a_row_opens_the_whole_record(demo_api: str, open_page: OpenPage) -> None:
    filters = {"connectorDeliverySource": AUDIT, "state": "delivery_failed"}
    page = open_page(f"{demo_api}/sandbox/?{urlencode(filters)}")
    row_id = page.row_ids()[0]
    page.page.click(f"tr[data-id='{row_id}'] button.row-open")
    page.page.wait_for_selector("#detail pre.json")
    item = run_operation(demo_api, "record-detail", {"id": row_id})
    assert item["id"] == row_id
    assert json.loads(page.page.text_content("#detail pre.json") or "") == item["record"]
    shown = page.fields("#detail")
    for key, value in item.items():
        if value not in (None, "", []) and not isinstance(value, dict):
            assert f"rollbackDrillNotification.{key}" in shown, key
    assert "rollbackDrillNotification.delivery.deliveries.statusCode" in shown
    assert url_query(page)["record"] == [row_id]
    page.page.keyboard.press("Escape")
    page.page.wait_for_selector("#detail", state="hidden")
    assert "record" not in url_query(page)
    focused = page.page.evaluate("document.activeElement.closest('tr')?.dataset.id")
    assert focused == row_id
    page.page.goto(f"{demo_api}/sandbox/?{urlencode({**filters, 'record': row_id})}")
    page.page.wait_for_selector("#detail pre.json")
    assert json.loads(page.page.text_content("#detail pre.json") or "") == item["record"]
    page.screenshot("sandbox-detail", full_page=False)
    assert page.errors == []


def test_from_python_http_server_with_cors(site: str, demo_api: str, open_page: OpenPage):
    page = open_page(f"{site}/index.html?{urlencode({'api': demo_api + '/graphql'})}")
    assert page.page.text_content("#connection") == "Live API"
    assert page.page.locator("#mode-banner").is_hidden()
    assert_cards(page, demo_api)
    assert_history(page, demo_api, {})
    endpoints = page.page.evaluate(
        """() => import('./lib/api.js').then(({ endpointFor }) => [
            endpointFor(new URL('http://127.0.0.1:5173/index.html')),
            endpointFor(new URL('http://127.0.0.1:8000/sandbox/?state=critical')),
            endpointFor(new URL('http://localhost:9999/sandbox/index.html?api=http://127.0.0.1:9000/graphql')),
        ])"""
    )
    assert endpoints == [
        "http://127.0.0.1:8000/graphql",
        "http://127.0.0.1:8000/graphql",
        "http://127.0.0.1:9000/graphql",
    ]
    assert page.errors == []


def test_other_data_served_by_the_api(sample_api: str, open_page: OpenPage) -> None:
    page = open_page(sample_api + "/sandbox/")
    dashboard = assert_cards(page, sample_api)
    assert_provider_health(page, dashboard)
    assert_history(page, sample_api, {})
    assert page.errors == []


def test_sample_mode_when_the_api_cannot_be_reached(
    site: str, sample_api: str, open_page: OpenPage
) -> None:
    """The page says so, and its in-browser figures equal the API's over the same records."""
    down = dead_endpoint()
    page = open_page(f"{site}/index.html?{urlencode({'api': down})}")
    banner = page.page.text_content("#mode-banner") or ""
    assert "The API cannot be reached" in banner and down in banner
    assert "computed in your browser" in banner
    assert page.page.text_content("#connection") == "Sample data"
    assert page.page.locator("#history-title .sample-tag").is_visible()
    dashboard = assert_cards(page, sample_api)
    assert_provider_health(page, dashboard)
    assert_trend(page, sample_api, "HOUR")  # four days: the chart switches to hours
    assert_history(page, sample_api, {})
    page.page.click("#load-more")
    page.page.wait_for_function("document.querySelectorAll('#history-table tbody tr').length > 50")
    assert page.row_ids() == history_ids(sample_api, {}, pages=2)[1]
    page.screenshot("sandbox-sample-desktop")
    page.page.select_option("#f-state", "delivery_failed")
    page.settle()
    page.page.select_option("#f-category", "siem")
    page.settle()
    variables = {"state": "delivery_failed", "providerCategory": "siem"}
    assert_provider_health(page, assert_cards(page, sample_api, variables))
    assert_history(page, sample_api, variables)
    row_id = page.row_ids()[0]  # the detail panel answers from the sample too
    page.page.click(f"tr[data-id='{row_id}'] button.row-open")
    page.page.wait_for_selector("#detail pre.json")
    item = run_operation(sample_api, "record-detail", {"id": row_id})
    assert json.loads(page.page.text_content("#detail pre.json") or "") == item["record"]
    shown = page.fields("#detail")
    for key, value in item.items():
        if value not in (None, "", []) and not isinstance(value, dict):
            assert f"rollbackDrillNotification.{key}" in shown, key
    assert page.errors and all(down in error for error in page.errors)


def test_a_server_with_credentials_asks_for_a_token(
    tmp_path_factory: pytest.TempPathFactory, open_page: OpenPage
) -> None:
    """With an auth file the sandbox's reads need a token: it asks, keeps it for the tab
    only, and then shows the live figures."""
    from cavra_gql.auth import hash_token

    folder = tmp_path_factory.mktemp("guarded")
    token = "reader-token-for-the-sandbox"
    auth_file = folder / "auth.toml"
    auth_file.write_text(
        f'[[tokens]]\nname = "auditor"\nrole = "reader"\nsha256 = "{hash_token(token)}"\n'
    )
    url = f"sqlite:///{folder / 'guarded.sqlite3'}"
    with running_api(url, "--demo", "--auth-file", str(auth_file)) as base:
        page = open_page(base + "/sandbox/", settle=False)
        page.page.wait_for_selector("#token-form:not([hidden])", timeout=20_000)
        assert page.page.text_content("#connection") == "Token needed"
        page.page.fill("#token-input", "not-the-token")
        page.page.click("#token-form button[type=submit]")
        page.page.wait_for_selector("#token-form:not([hidden])", timeout=20_000)
        assert "The saved token was refused" in (page.page.text_content("#token-reason") or "")
        page.page.fill("#token-input", token)
        page.page.click("#token-form button[type=submit]")
        page.settle()
        assert page.page.text_content("#connection") == "Live API"
        answer = httpx.post(
            base + "/graphql",
            json={"query": "{ rollbackDrillNotifications { total } }"},
            headers={"authorization": f"Bearer {token}"},
        ).json()
        total = answer["data"]["rollbackDrillNotifications"]["total"]
        shown = (page.page.text_content("#history-total") or "").replace(",", "")
        assert int(shown) == total
        assert page.cards()  # every card answered
        stored = page.page.evaluate("() => sessionStorage.getItem('cavra-gql-token')")
        assert stored == token
        page.screenshot("sandbox-token")
