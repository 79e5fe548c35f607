"""The ASGI application: GraphQL (subscriptions too), the REST routes, /healthz and the
sandbox UI."""

from __future__ import annotations

import gc
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from cross_web import HTTPException
from sqlalchemy import Engine
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Mount, Route, WebSocketRoute
from starlette.staticfiles import StaticFiles
from starlette.websockets import WebSocket
from strawberry.asgi import GraphQL
from strawberry.http import GraphQLHTTPResponse
from strawberry.subscriptions import GRAPHQL_TRANSPORT_WS_PROTOCOL
from strawberry.types.unset import UnsetType

from cavra_gql import deadline, jsontext, media, metrics, rest, rest_export
from cavra_gql.auth import Authenticator
from cavra_gql.db import make_engine
from cavra_gql.errors import BadInput, TimeLimitExceeded
from cavra_gql.gate import Gate
from cavra_gql.live import ChangeFeed
from cavra_gql.schema import build_schema
from cavra_gql.schema.context import Context
from cavra_gql.settings import Settings
from cavra_gql.websocket import SocketAdapter, TransportHandler, authenticate

PACKAGE_DIR = Path(__file__).resolve().parent


def sandbox_dir() -> Path:
    """The sandbox UI: inside the installed package, else in the source checkout."""
    for candidate in (PACKAGE_DIR / "sandbox_ui", PACKAGE_DIR.parent / "apps" / "sandbox-ui"):
        if (candidate / "index.html").is_file():
            return candidate
    raise FileNotFoundError("the sandbox UI (apps/sandbox-ui) is missing from this install")


class SubResponse(Response):
    """Strawberry's sub-response (status, headers and background tasks resolvers may set),
    which also carries the response media type negotiated for the request."""

    def __init__(self, negotiated: str) -> None:
        super().__init__()
        self.status_code = None  # type: ignore[assignment]  # unset: Strawberry's 200
        del self.headers["content-length"]
        self.negotiated = negotiated


class GraphQLApp(GraphQL[Context, None]):
    """Strawberry's ASGI app with cavra-gql's request context and GraphQL over HTTP's two
    response media types (see `cavra_gql.media`): with `application/graphql-response+json`
    a request error is a 400 without `data`; `application/json` answers keep 200.

    Subscriptions speak graphql-transport-ws only (not the legacy graphql-ws), to browsers
    only from the CORS origins (or the same origin), with credentials checked at
    connection_init like reads over HTTP.
    """

    websocket_adapter_class = SocketAdapter
    graphql_transport_ws_handler_class = TransportHandler

    def __init__(
        self, settings: Settings, authenticator: Authenticator, tracer: Any = None
    ) -> None:
        super().__init__(
            build_schema(settings.limits, tracer=tracer),
            graphql_ide="graphiql" if settings.graphiql else None,
            subscription_protocols=[GRAPHQL_TRANSPORT_WS_PROTOCOL],
            max_subscriptions_per_connection=settings.limits.max_subscriptions_per_connection,
            allowed_origins=settings.cors_origins,
        )
        self.settings = settings
        self.authenticator = authenticator

    async def get_context(self, request: Any, response: Any) -> Context:
        engine: Engine = request.scope["app"].state.engine
        state = request.scope.get("state", {})
        return Context(
            self.settings,
            engine,
            request=request,
            response=response,
            request_id=state.get("request_id", "-"),  # the Gate's, for HTTP and WebSocket
            principal=state.get("principal"),
            feed=request.scope["app"].state.feed,
        )

    async def on_ws_connect(self, context: Context) -> UnsetType | dict[str, object] | None:
        if self.settings.auth.enabled:
            authenticate(self.authenticator, context)
        return await super().on_ws_connect(context)

    def parse_json(self, data: str | bytes) -> Any:
        """The request body (and GET's `variables`): orjson, with nesting and huge numbers
        refused as a 400 that says why, where the stdlib would raise (a 500)."""
        try:
            return jsontext.loads(data)
        except ValueError as error:
            raise HTTPException(400, f"Unable to parse request body as JSON: {error}") from None

    async def get_sub_response(self, request: Request | WebSocket) -> Response:
        return SubResponse(media.negotiate(request.headers.get("accept")))

    def create_response(
        self,
        response_data: GraphQLHTTPResponse | list[GraphQLHTTPResponse],
        sub_response: Response,
    ) -> Response:
        if not (
            isinstance(sub_response, SubResponse)
            and sub_response.negotiated == media.GRAPHQL_RESPONSE
        ):
            return super().create_response(response_data, sub_response)
        status = None
        if isinstance(response_data, dict) and media.is_request_error(response_data):
            status = media.request_error_status(response_data)
            response_data = response_data.copy()
            del response_data["data"]  # the operation never started: no `data` entry at all
        response = super().create_response(response_data, sub_response)
        response.headers["content-type"] = media.GRAPHQL_RESPONSE_CONTENT_TYPE
        if status is not None and not sub_response.status_code:
            response.status_code = status
        return response


def _home(_request: Request) -> Response:
    return RedirectResponse("/sandbox/")


def create_app(settings: Settings, engine: Engine | None = None) -> Starlette:
    """The app; it opens (or uses) the database engine for its lifetime."""

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        own = engine is None
        app.state.engine = make_engine(settings.database_url) if own else engine
        deadline.install(app.state.engine)
        app.state.metric_collectors = metrics.start(app.state.engine)
        app.state.feed = ChangeFeed(
            app.state.engine, time_limit_seconds=settings.limits.time_limit_seconds
        )
        await app.state.feed.start()
        if settings.freeze_gc:
            # Start-up objects live as long as the process: keep them out of every later
            # full collection, which otherwise shows as tail latency every few hundred
            # requests. (Not for apps made and dropped in tests: frozen objects stay.)
            gc.collect()
            gc.freeze()
        try:
            yield
        finally:
            metrics.process_exit()
            await app.state.feed.stop()
            if own:
                app.state.engine.dispose()

    authenticator = Authenticator(settings.auth)  # reads the JWKS file now: fail at start-up
    tracer = None
    spans: list[Middleware] = []
    if settings.otel:  # optional: opentelemetry is imported only when wanted
        from cavra_gql import tracing

        tracer = tracing.tracer()
        spans.append(Middleware(tracing.RequestSpans, tracer=tracer))
    graphql = GraphQLApp(settings, authenticator, tracer)
    routes = [
        *rest.routes,
        *rest_export.routes(settings),
        Route("/graphql", graphql, name="graphql"),  # the name labels the request metrics
        Route("/graphql/", graphql, name="graphql"),
        Route("/metrics", metrics.endpoint, methods=["GET"], name="metrics"),
        WebSocketRoute("/graphql", graphql, name="graphql"),
        Mount("/sandbox", StaticFiles(directory=sandbox_dir(), html=True), name="sandbox"),
        Route("/", _home, methods=["GET"], name="home"),
    ]
    middleware = [
        # CORS outermost: a browser's preflight is answered before any credential check.
        Middleware(
            CORSMiddleware,
            allow_origins=list(settings.cors_origins),
            allow_methods=["GET", "POST", "OPTIONS"],
            allow_headers=["content-type", "authorization", "x-request-id"],
            # The export manifest travels in a header: pages on the UI origins must read it.
            expose_headers=["x-request-id", "x-cavra-export-manifest", "content-disposition"],
        ),
        Middleware(metrics.Observe),  # outside the Gate: its refusals are counted too
        *spans,
        Middleware(Gate, settings=settings, authenticator=authenticator),
    ]
    return Starlette(
        routes=routes,
        middleware=middleware,
        lifespan=lifespan,
        exception_handlers={
            BadInput: rest.bad_input,
            TimeLimitExceeded: rest.time_limit_exceeded,
            Exception: rest.internal_error,
        },
    )


def app_from_env() -> Starlette:
    """The app for `uvicorn --factory` (several worker processes): settings from the environment."""
    return create_app(Settings.from_env(freeze_gc=True))
