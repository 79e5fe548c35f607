"""The ceiling: a plain Starlette JSON endpoint running cavra-gql's history SQL, no GraphQL.

It must run the same SQL as the GraphQL page: `fetch_page` and the function the GraphQL
`total` reads (`count_total` below; keep it in step when that moves). Serve it with
`CAVRA_BENCH_DATABASE_URL=... python -m uvicorn bench.plain_app:app`.
"""

from __future__ import annotations

import json
import os
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from typing import Any

from sqlalchemy import Connection
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from cavra_gql.db import make_engine, read_connection
from cavra_gql.queries.filters import HistoryFilter, parse_limit, parse_offset
from cavra_gql.queries.history import PageRequest, fetch_page

try:  # the total the GraphQL page reads (hourly summaries where the filter allows)
    from cavra_gql.queries.aggregates import total as count_total
except ImportError:  # before the summaries: one COUNT over the records
    from cavra_gql.queries.history import count_matches as count_total

PATH = "/plain/history"
DATABASE_ENV = "CAVRA_BENCH_DATABASE_URL"


def page_document(conn: Connection, params: Mapping[str, str]) -> dict[str, Any]:
    """The page as a plain endpoint answers it: the rows' whole records, total, paging."""
    flt = HistoryFilter.parse(params)
    request = PageRequest(
        limit=parse_limit(params.get("limit")), offset=parse_offset(params.get("offset"))
    )
    page = fetch_page(conn, flt, request)
    total = count_total(conn, flt)
    return {
        "items": [json.loads(row.record_json) for row in page.rows],
        "total": total,
        "limit": request.limit,
        "offset": request.offset,
    }


def history(request: Request) -> Response:
    with read_connection(request.app.state.engine) as conn:
        document = page_document(conn, request.query_params)
    return JSONResponse(document)


def healthz(_request: Request) -> Response:
    return JSONResponse({"status": "ok"})


@asynccontextmanager
async def lifespan(app: Starlette) -> AsyncIterator[None]:
    app.state.engine = make_engine(os.environ[DATABASE_ENV])
    try:
        yield
    finally:
        app.state.engine.dispose()


app = Starlette(
    routes=[Route(PATH, history, methods=["GET"]), Route("/healthz", healthz, methods=["GET"])],
    lifespan=lifespan,
)
