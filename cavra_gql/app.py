"""The ASGI application: GraphQL, the REST routes, /healthz and the sandbox UI."""

from __future__ import annotations

import gc
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Engine
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles
from strawberry.asgi import GraphQL

from cavra_gql import rest
from cavra_gql.db import make_engine
from cavra_gql.errors import BadInput
from cavra_gql.schema import build_schema
from cavra_gql.schema.context import Context
from cavra_gql.settings import Settings

PACKAGE_DIR = Path(__file__).resolve().parent


def sandbox_dir() -> Path:
    """The sandbox UI: inside the installed package, else in the source checkout."""
    for candidate in (PACKAGE_DIR / "sandbox_ui", PACKAGE_DIR.parent / "apps" / "sandbox-ui"):
        if (candidate / "index.html").is_file():
            return candidate
    raise FileNotFoundError("the sandbox UI (apps/sandbox-ui) is missing from this install")


class GraphQLApp(GraphQL[Context, None]):
    """Strawberry's ASGI app with cavra-gql's request context."""

    def __init__(self, settings: Settings) -> None:
        super().__init__(build_schema(), graphql_ide="graphiql" if settings.graphiql else None)
        self.settings = settings

    async def get_context(self, request: Any, response: Any) -> Context:
        engine: Engine = request.scope["app"].state.engine
        return Context(self.settings, engine, request=request, response=response)


def _home(_request: Request) -> Response:
    return RedirectResponse("/sandbox/")


def create_app(settings: Settings, engine: Engine | None = None) -> Starlette:
    """The app; it opens (or uses) the database engine for its lifetime."""

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        own = engine is None
        app.state.engine = make_engine(settings.database_url) if own else engine
        if settings.freeze_gc:
            # Start-up objects live as long as the process: keep them out of every later
            # full collection, which otherwise shows as tail latency every few hundred
            # requests. (Not for apps made and dropped in tests: frozen objects stay.)
            gc.collect()
            gc.freeze()
        try:
            yield
        finally:
            if own:
                app.state.engine.dispose()

    graphql = GraphQLApp(settings)
    routes = [
        *rest.routes,
        Route("/graphql", graphql),
        Route("/graphql/", graphql),
        Mount("/sandbox", StaticFiles(directory=sandbox_dir(), html=True), name="sandbox"),
        Route("/", _home, methods=["GET"]),
    ]
    middleware = [
        Middleware(
            CORSMiddleware,
            allow_origins=list(settings.cors_origins),
            allow_methods=["GET", "POST", "OPTIONS"],
            allow_headers=["content-type", "authorization"],
        )
    ]
    return Starlette(
        routes=routes,
        middleware=middleware,
        lifespan=lifespan,
        exception_handlers={BadInput: rest.bad_input},
    )


def app_from_env() -> Starlette:
    """The app for `uvicorn --factory` (several worker processes): settings from the environment."""
    return create_app(Settings.from_env(freeze_gc=True))
