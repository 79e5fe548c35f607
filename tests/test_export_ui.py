"""The sandbox UI's export control in headless Chromium against a real `cavra-gql api` (the demo
history, page served at /sandbox/): the filtered history and its manifest are
downloaded, and the pair verifies."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from cavra_gql.cli import main
from tests.browser import Page, chromium
from tests.server import running_api

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with chromium() as launched:
        yield launched


@pytest.fixture(scope="module")
def demo_api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """`cavra-gql api --demo`, serving the sandbox UI at /sandbox/ (same origin)."""
    url = f"sqlite:///{tmp_path_factory.mktemp('export-ui') / 'demo.sqlite3'}"
    with running_api(url, "--demo") as base:
        yield base


HISTORY_URL = "/runtime/go-pilot/rollback-drill-notifications"


def open_sandbox(browser: Any, url: str, *, settle: bool = True) -> tuple[Any, Page, list[Any]]:
    context = browser.new_context(accept_downloads=True)
    page = Page(context.new_page())
    downloads: list[Any] = []
    page.page.on("download", lambda download: downloads.append(download))
    page.page.goto(url)
    if settle:
        page.settle()
    return context, page, downloads


@pytest.mark.parametrize("fmt", ["ndjson", "csv"])
def test_the_export_control_downloads_a_verifiable_export(
    fmt: str, browser: Any, demo_api: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    filters = {"provider_category": "siem", "state": "delivery_failed"}
    context, page, downloads = open_sandbox(
        browser, f"{demo_api}/sandbox/?providerCategory=siem&state=delivery_failed"
    )
    try:
        page.page.select_option("#export-format", fmt)
        page.page.click("#export-button")
        page.page.wait_for_function(
            "document.querySelector('#export-status').dataset.state === 'done'", timeout=20_000
        )
        for _ in range(100):
            if len(downloads) == 2:
                break
            page.page.wait_for_timeout(100)
        names = [download.suggested_filename for download in downloads]
        assert len(names) == 2 and names[1] == f"{names[0]}.manifest.json", names
        assert names[0].endswith(f".{fmt}")
        paths = [tmp_path / name for name in names]
        for download, path in zip(downloads, paths, strict=True):
            download.save_as(path)
        status = page.page.text_content("#export-status") or ""
        assert page.errors == []
    finally:
        context.close()
    total = httpx.get(demo_api + HISTORY_URL, params=filters).json()["total"]
    assert total > 0
    assert f"({total:,} records)" in status and "SHA-256 checked" in status
    capsys.readouterr()
    assert main(["verify-export", str(paths[0])]) == 0
    assert f": {total} records," in capsys.readouterr().out


def test_a_refused_export_says_why(browser: Any, demo_api: str) -> None:
    url = f"{demo_api}/sandbox/?createdAfter=soon"
    context, page, downloads = open_sandbox(browser, url, settle=False)
    try:
        page.page.wait_for_selector("#filter-error:not([hidden])")
        page.page.click("#export-button")
        page.page.wait_for_function(
            "document.querySelector('#export-status').dataset.state === 'error'", timeout=20_000
        )
        status = page.page.text_content("#export-status") or ""
        assert status.startswith("The export was refused: invalid query parameter 'created_after'")
        assert downloads == []
    finally:
        context.close()
