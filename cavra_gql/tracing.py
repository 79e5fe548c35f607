"""Optional OpenTelemetry tracing: one span per GraphQL operation, one per other HTTP request.

Never one per field: Strawberry's own OpenTelemetryExtension traces every resolver, which
multiplies the cost of a page by its field count. Off unless `CAVRA_GQL_OTEL` is on; then
the extension and the middleware below are installed, and nothing otherwise.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from importlib.metadata import entry_points
from typing import Any

from opentelemetry import propagate, trace
from opentelemetry.trace import SpanKind, Status, StatusCode, Tracer
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from strawberry.extensions import SchemaExtension

from cavra_gql import metrics
from cavra_gql.schema.operations import errors_of, operation_name, outcome

ENV = "CAVRA_GQL_OTEL"  # read by Settings.from_env
EXPORTERS_ENV = "OTEL_TRACES_EXPORTER"
GRAPHQL_PATHS = ("/graphql", "/graphql/")
_FAILED = ("error", "timeout")  # outcomes that mark a span as failed


def tracer() -> Tracer:
    """cavra-gql's tracer, from the global provider; with none configured (say, by
    `opentelemetry-instrument`), an SDK provider exporting to `OTEL_TRACES_EXPORTER`."""
    if isinstance(trace.get_tracer_provider(), trace.ProxyTracerProvider):
        trace.set_tracer_provider(_sdk_provider())
    return trace.get_tracer("cavra_gql")


def _sdk_provider() -> trace.TracerProvider:
    try:
        from opentelemetry.sdk.resources import Resource
        from opentelemetry.sdk.trace import TracerProvider
        from opentelemetry.sdk.trace.export import BatchSpanProcessor
    except ImportError:
        raise RuntimeError(
            f"{ENV} is on but opentelemetry-sdk is not installed: pip install 'cavra-gql[otel]'"
        ) from None
    # Resource.create adds OTEL_RESOURCE_ATTRIBUTES; the service name given here wins.
    service = os.environ.get("OTEL_SERVICE_NAME", "").strip() or "cavra-gql"
    provider = TracerProvider(resource=Resource.create({"service.name": service}))
    names = os.environ.get(EXPORTERS_ENV, "otlp").split(",")
    for name in (n.strip() for n in names if n.strip() and n.strip() != "none"):
        found = entry_points(group="opentelemetry_traces_exporter", name=name)
        if not found:
            raise RuntimeError(
                f"{EXPORTERS_ENV} names {name!r}, but no installed package provides that span "
                "exporter (console ships with opentelemetry-sdk; otlp with "
                "opentelemetry-exporter-otlp)"
            )
        exporter = next(iter(found)).load()()
        provider.add_span_processor(BatchSpanProcessor(exporter))
    return provider


def _headers(request: Any) -> dict[str, str]:
    return dict(request.headers) if request is not None else {}


class OperationSpan(SchemaExtension):
    """One server span per GraphQL operation, named by its type and name."""

    def __init__(self, tracer: Tracer) -> None:
        self.tracer = tracer

    def on_operation(self) -> Iterator[None]:
        context = self.execution_context.context
        parent = propagate.extract(_headers(getattr(context, "request", None)))
        with self.tracer.start_as_current_span(
            "graphql", context=parent, kind=SpanKind.SERVER, record_exception=False
        ) as span:
            try:
                yield
            finally:
                self._describe(span)

    def _describe(self, span: trace.Span) -> None:
        ec = self.execution_context
        name = operation_name(ec)
        errors = errors_of(ec)
        found = outcome(errors)
        attributes: dict[str, str | int] = {
            "graphql.operation.name": name,
            "cavra_gql.request_id": getattr(ec.context, "request_id", "-"),
            "cavra_gql.error_count": len(errors),
            "cavra_gql.outcome": found,
        }
        if name != "unknown":
            kind = ec.operation_type.value
            attributes["graphql.operation.type"] = kind
            span.update_name(f"{kind} {name}")
        span.set_attributes(attributes)
        if found in _FAILED:
            span.set_status(Status(StatusCode.ERROR, found))


class RequestSpans:
    """One server span per HTTP request outside GraphQL (whose operations have their own)."""

    def __init__(self, app: ASGIApp, tracer: Tracer) -> None:
        self.app = app
        self.tracer = tracer

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] in GRAPHQL_PATHS:
            await self.app(scope, receive, send)
            return
        headers = {k.decode("latin-1"): v.decode("latin-1") for k, v in scope["headers"]}
        status = 500

        async def send_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        with self.tracer.start_as_current_span(
            scope["method"], context=propagate.extract(headers), kind=SpanKind.SERVER
        ) as span:
            try:
                await self.app(scope, receive, send_status)
            finally:
                route = metrics.route_name(scope)
                span.update_name(f"{scope['method']} {route}")
                span.set_attributes(
                    {
                        "http.request.method": scope["method"],
                        "http.route": route,
                        "url.path": scope["path"],
                        "http.response.status_code": status,
                        "cavra_gql.request_id": scope.get("state", {}).get("request_id", "-"),
                    }
                )
                if status >= 500:
                    span.set_status(Status(StatusCode.ERROR))
