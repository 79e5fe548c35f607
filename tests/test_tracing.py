"""OpenTelemetry (issue 6): one span per GraphQL operation however many fields it reads, one
per other HTTP request, and nothing installed when tracing is off."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from opentelemetry import trace
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind, StatusCode
from sqlalchemy import Engine
from starlette.testclient import TestClient

from cavra_gql import tracing
from cavra_gql.app import GraphQLApp, create_app
from cavra_gql.auth import Authenticator
from cavra_gql.schema.operations import OperationMetrics
from cavra_gql.settings import Settings
from cavra_gql.tracing import OperationSpan
from tests import record_factory as rf
from tests.conftest import Loader

HISTORY_URL = "/runtime/go-pilot/rollback-drill-notifications"
MANY_FIELDS = """
query Audit {
  rollbackDrillNotifications(limit: 50) {
    total
    items { id sessionId createdAt metadataKind status providers record }
  }
  rollbackDrillNotificationDashboard {
    planCount deliveryCount healthStatus
    categoryHealth { category attempts failures status providers }
  }
}"""

_EXPORTER = InMemorySpanExporter()


@pytest.fixture(scope="module", autouse=True)
def provider() -> None:
    """The process's tracer provider (set once per process, as an operator's SDK would be)."""
    if not isinstance(trace.get_tracer_provider(), TracerProvider):
        sdk = TracerProvider()
        sdk.add_span_processor(SimpleSpanProcessor(_EXPORTER))
        trace.set_tracer_provider(sdk)


@pytest.fixture
def traced(engine: Engine, database_url: str, load: Loader) -> Iterator[TestClient]:
    load([rf.notification_plan(), rf.audit_package(), rf.connector_delivery()])
    with TestClient(create_app(Settings(database_url=database_url, otel=True), engine)) as client:
        _EXPORTER.clear()
        yield client


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_one_span_per_operation_however_many_fields(traced: TestClient) -> None:
    response = traced.post(
        "/graphql", json={"query": MANY_FIELDS}, headers={"X-Request-Id": "trace-1"}
    )
    assert "errors" not in response.json()
    [span] = _EXPORTER.get_finished_spans()
    assert (span.name, span.kind) == ("query Audit", SpanKind.SERVER)
    assert span.attributes == {
        "graphql.operation.name": "Audit",
        "graphql.operation.type": "query",
        "cavra_gql.request_id": "trace-1",
        "cavra_gql.error_count": 0,
        "cavra_gql.outcome": "ok",
    }
    assert span.status.status_code is StatusCode.UNSET


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_failed_operations_and_rest_requests_get_their_span(traced: TestClient) -> None:
    traceparent = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"
    traced.post(
        "/graphql",
        json={"query": "{ rollbackDrillNotifications(limit: -1) { total } }"},
        headers={"traceparent": traceparent},
    )
    assert traced.get(HISTORY_URL, params={"limit": "2"}).status_code == 200
    graphql, rest = _EXPORTER.get_finished_spans()
    assert graphql.name == "query anonymous_query"
    assert graphql.attributes is not None and graphql.attributes["cavra_gql.error_count"] == 1
    assert graphql.attributes["cavra_gql.outcome"] == "bad_input"
    # The caller's trace continues through the operation.
    assert f"{graphql.context.trace_id:032x}" == traceparent.split("-")[1]
    assert graphql.parent is not None and f"{graphql.parent.span_id:016x}" == "b7ad6b7169203331"
    assert rest.name == "GET history"
    assert rest.attributes is not None and rest.attributes["http.response.status_code"] == 200
    assert rest.attributes["cavra_gql.request_id"]


def test_without_otel_no_tracing_extension_is_installed(sqlite_url: str) -> None:
    settings = Settings(database_url=sqlite_url)
    app = GraphQLApp(settings, Authenticator(settings.auth))
    extensions = [e() for e in app.schema.extensions]  # type: ignore[operator, attr-defined]
    assert not any(isinstance(e, OperationSpan) for e in extensions)
    assert any(isinstance(e, OperationMetrics) for e in extensions)
    middleware = create_app(Settings(database_url=sqlite_url)).user_middleware
    assert "RequestSpans" not in [m.cls.__name__ for m in middleware]  # type: ignore[attr-defined]


def test_without_a_configured_provider_the_sdk_exports_as_otel_traces_exporter_says(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("OTEL_TRACES_EXPORTER", "console")
    monkeypatch.setenv("OTEL_SERVICE_NAME", "cavra-gql-test")
    provider = tracing._sdk_provider()
    assert provider.resource.attributes["service.name"] == "cavra-gql-test"
    provider.shutdown()
    monkeypatch.setenv("OTEL_TRACES_EXPORTER", "console,no_such_exporter")
    with pytest.raises(RuntimeError, match="names 'no_such_exporter', but no installed package"):
        tracing._sdk_provider()
