"""Helpers for the sandbox UI tests: headless Chromium, a static file server, the page's
operations and components as files, and GraphQL requests to a running API."""

from __future__ import annotations

import json
import os
import re
import shutil
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
from graphql import (
    DocumentNode,
    FieldNode,
    InlineFragmentNode,
    OperationDefinitionNode,
    SelectionSetNode,
    parse,
)

from tests.conftest import IN_CI
from tests.server import free_port, running

ROOT = Path(__file__).resolve().parent.parent
SANDBOX = ROOT / "apps" / "sandbox-ui"
OPERATIONS = SANDBOX / "operations"
COMPONENTS = SANDBOX / "components"
ARTIFACTS = ROOT / "test-artifacts"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
DESKTOP = {"width": 1366, "height": 768}
PHONE = {"width": 390, "height": 844}


def chromium_path() -> str | None:
    """Debian's chromium (or $CAVRA_GQL_CHROMIUM); Playwright's own download is not used."""
    candidates = [os.environ.get("CAVRA_GQL_CHROMIUM", ""), "/usr/bin/chromium"]
    candidates += [shutil.which(name) or "" for name in ("chromium", "chromium-browser")]
    return next((path for path in candidates if path and os.access(path, os.X_OK)), None)


def skip_or_fail(reason: str) -> None:
    """Browser tests skip on a developer machine without a browser; CI must run them."""
    if IN_CI:
        pytest.fail(f"CI must run the browser tests: {reason}")
    pytest.skip(reason)


# ---- the page's operations and components, as files ------------------------------------------


def operation_names() -> list[str]:
    return sorted(path.stem for path in OPERATIONS.glob("*.graphql"))


def operation_text(name: str) -> str:
    return (OPERATIONS / f"{name}.graphql").read_text(encoding="utf-8")


def _operation(document: DocumentNode) -> OperationDefinitionNode:
    [operation] = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    return operation


def selection_paths(text: str) -> set[str]:
    """Dotted paths of every leaf field an operation selects (inline fragments are transparent)."""
    paths: set[str] = set()

    def walk(selection_set: SelectionSetNode, prefix: str) -> None:
        for selection in selection_set.selections:
            if isinstance(selection, InlineFragmentNode):
                walk(selection.selection_set, prefix)
            elif isinstance(selection, FieldNode):
                path = prefix + selection.name.value
                if selection.selection_set is None:
                    paths.add(path)
                else:
                    walk(selection.selection_set, path + ".")

    walk(_operation(parse(text)).selection_set, "")
    return paths


def root_fields(text: str) -> list[FieldNode]:
    operation = _operation(parse(text))
    return [s for s in operation.selection_set.selections if isinstance(s, FieldNode)]


def component_sources() -> dict[str, str]:
    return {path.stem: path.read_text(encoding="utf-8") for path in COMPONENTS.glob("*.js")}


def js_constant(source: str, name: str) -> Any:
    """A component's exported constant written as a JSON literal (OPERATION, RENDERS, USES);
    a trailing comma, as formatters write it, is allowed."""
    match = re.search(rf"^export const {name} = (.*?);$", source, re.MULTILINE | re.DOTALL)
    assert match, f"no `export const {name} = ...;`"
    return json.loads(re.sub(r",\s*\]$", "]", match.group(1)))


def component_fields() -> dict[str, tuple[set[str], set[str]]]:
    """Operation name -> (fields it renders, fields it only reads), per component."""
    found: dict[str, tuple[set[str], set[str]]] = {}
    for source in component_sources().values():
        if "export const OPERATION" not in source:
            continue
        name = js_constant(source, "OPERATION")
        renders, uses = js_constant(source, "RENDERS"), js_constant(source, "USES")
        assert len(set(renders)) == len(renders) and len(set(uses)) == len(uses)
        assert name not in found, f"two components send {name}"
        found[name] = (set(renders), set(uses))
    return found


# ---- GraphQL against a running API ------------------------------------------------------------


def graphql(base: str, query: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
    answer = httpx.post(base + "/graphql", json={"query": query, "variables": variables or {}})
    body: dict[str, Any] = answer.json()
    assert "errors" not in body, body["errors"]
    data: dict[str, Any] = body["data"]
    return data


def run_operation(base: str, name: str, variables: dict[str, Any] | None = None) -> Any:
    """An operation of the page, as the page sends it; returns its root field's value."""
    text = operation_text(name)
    [root] = root_fields(text)
    return graphql(base, text, variables)[root.name.value]


# ---- processes ----------------------------------------------------------------------------


@contextmanager
def static_server(directory: Path, port: int) -> Iterator[str]:
    """`python3 -m http.server` over `directory`, as the CAVRA docs serve the sandbox UI."""
    base = f"http://127.0.0.1:{port}"
    argv = [sys.executable, "-m", "http.server", str(port), "--bind", "127.0.0.1"]
    with running(argv, base + "/index.html", cwd=directory, timeout=20):
        yield base


def dead_endpoint() -> str:
    """A GraphQL URL nobody listens on."""
    return f"http://127.0.0.1:{free_port()}/graphql"


@contextmanager
def chromium() -> Iterator[Any]:
    """Headless Chromium (Debian's), skipped (or failed in CI) when it cannot run here."""
    path = chromium_path()
    if path is None:
        skip_or_fail("Chromium is not installed (apt-get install chromium)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        skip_or_fail("the playwright package is missing (pip install -e '.[test]')")
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=path, args=CHROMIUM_ARGS)
        yield launched
        launched.close()


# ---- pages --------------------------------------------------------------------------------

SETTLED = """() => !!document.querySelector('#history-total')
    && !document.querySelector('[aria-busy]')
    && !!document.querySelector('#cards .card')"""


class Page:
    """A Playwright page that records console errors and uncaught exceptions."""

    def __init__(self, page: Any) -> None:
        self.page = page
        self.errors: list[str] = []
        page.on("console", self._console)
        page.on("pageerror", lambda error: self.errors.append(f"uncaught: {error}"))

    def _console(self, message: Any) -> None:
        if message.type == "error":
            self.errors.append(f"{message.text} @ {message.location.get('url', '')}")

    def settle(self) -> None:
        """Wait until every component has answered."""
        self.page.wait_for_function(SETTLED, timeout=20_000)

    def cards(self) -> dict[str, tuple[Any, str]]:
        """Card key -> (the server value it shows, the text shown)."""
        cards: dict[str, tuple[Any, str]] = self.page.eval_on_selector_all(
            "#cards .card",
            """cards => Object.fromEntries(cards.map(card => [card.dataset.card, [
                JSON.parse(card.dataset.value),
                card.querySelector('.card-value').textContent,
            ]]))""",
        )
        return cards

    def row_ids(self) -> list[str]:
        ids: list[str] = self.page.eval_on_selector_all(
            "#history-table tbody tr", "rows => rows.map(r => r.dataset.id)"
        )
        return ids

    def fields(self, selector: str = "body") -> set[str]:
        found: list[str] = self.page.eval_on_selector_all(
            f"{selector} [data-field]", "els => els.map(e => e.dataset.field)"
        )
        return set(found)

    def screenshot(self, name: str, *, full_page: bool = True) -> None:
        """Save a PNG under test-artifacts/ (git-ignored) for people to look at."""
        ARTIFACTS.mkdir(exist_ok=True)
        self.page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=full_page)
