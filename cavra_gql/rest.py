"""The legacy REST routes: query parameters -> the same filter and queries as GraphQL."""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from cavra_gql import kinds
from cavra_gql.dashboard import Dashboard
from cavra_gql.db import read_connection
from cavra_gql.errors import BadInput
from cavra_gql.queries import aggregates
from cavra_gql.queries.filters import HistoryFilter, parse_limit, parse_offset
from cavra_gql.queries.history import PageRequest, fetch_page

log = logging.getLogger("cavra_gql.rest")

HISTORY_PATH = "/runtime/go-pilot/rollback-drill-notifications"
DASHBOARD_PATH = HISTORY_PATH + "/dashboard"

# SPEC §4's REST dashboard fields, in order, after schema_version, product and generated_at.
DASHBOARD_FIELDS = (
    "alert_level",
    "plan_count",
    "delivery_count",
    "notification_delivery_count",
    "failed_delivery_count",
    "acknowledgement_count",
    "acknowledgement_audit_package_count",
    "acknowledgement_audit_delivery_plan_count",
    "acknowledgement_audit_delivery_count",
    "failed_acknowledgement_audit_delivery_count",
    "acknowledgement_audit_delivery_success_count",
    "acknowledgement_audit_delivery_success_rate",
    "acknowledgement_audit_delivery_providers",
    "acknowledgement_audit_delivery_health",
    "outstanding_acknowledgement_count",
)


def history(request: Request) -> Response:
    params = request.query_params
    flt = HistoryFilter.parse(params)
    page_request = PageRequest(
        limit=parse_limit(params.get("limit")), offset=parse_offset(params.get("offset"))
    )
    with read_connection(request.app.state.engine) as conn:
        page = fetch_page(conn, flt, page_request)
        total = aggregates.total(conn, flt)
    # Stored records are already JSON text: splice them in rather than decode and re-encode.
    head = json.dumps({"schema_version": kinds.HISTORY_SCHEMA_VERSION, "product": kinds.PRODUCT})
    items = ",".join(row.record_json for row in page.rows)
    tail = json.dumps({"total": total, "limit": page_request.limit, "offset": page_request.offset})
    body = f'{head[:-1]}, "items": [{items}], {tail[1:]}'
    return Response(body, media_type="application/json")


def dashboard(request: Request) -> Response:
    flt = HistoryFilter.parse(request.query_params)
    with read_connection(request.app.state.engine) as conn:
        figures = dashboard_document(Dashboard(conn, flt))
    return JSONResponse(figures)


def dashboard_document(d: Dashboard) -> dict[str, Any]:
    """The legacy dashboard JSON, fields in SPEC §4 order."""
    document: dict[str, Any] = {
        "schema_version": kinds.DASHBOARD_SCHEMA_VERSION,
        "product": kinds.PRODUCT,
        "generated_at": datetime.now(UTC).isoformat(),
    }
    document.update((name, getattr(d, name)) for name in DASHBOARD_FIELDS)
    document["outstanding_acknowledgements"] = [
        {"schedule_id": item.schedule_id, "provider": item.provider, "plan_id": item.plan_id}
        for item in d.outstanding_acknowledgements
    ]
    document["latest"] = [row.record for row in d.latest]
    return document


def bad_input(_request: Request, error: Exception) -> Response:
    assert isinstance(error, BadInput)
    detail = f"invalid query parameter {error.field!r}: {error.reason}"
    return JSONResponse({"detail": detail, "parameter": error.field}, status_code=422)


def time_limit_exceeded(_request: Request, error: Exception) -> Response:
    return JSONResponse({"detail": str(error), "code": "TIME_LIMIT_EXCEEDED"}, status_code=503)


def internal_error(request: Request, error: Exception) -> Response:
    """Anything unexpected: logged with its stack and the request id, never shown."""
    request_id = request.scope.get("state", {}).get("request_id", "-")
    log.error("request %s: unexpected error on %s", request_id, request.url.path, exc_info=error)
    body = {"detail": "internal error", "code": "INTERNAL_SERVER_ERROR", "request_id": request_id}
    return JSONResponse(body, status_code=500)


def healthz(request: Request) -> Response:
    with read_connection(request.app.state.engine) as conn:
        conn.exec_driver_sql("SELECT 1")
    return JSONResponse({"status": "ok"})


routes = [
    Route(HISTORY_PATH, history, methods=["GET"]),
    Route(DASHBOARD_PATH, dashboard, methods=["GET"]),
    Route("/healthz", healthz, methods=["GET"]),
]
