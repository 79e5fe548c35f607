"""The `cavra-gql` command: api, ingest, sync, migrate, token, export-schema and the export
commands."""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
from collections.abc import Sequence
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from cavra_gql import export_cli
from cavra_gql.errors import IngestError

# The heavy modules (SQLAlchemy, Strawberry, ...) are imported by the commands that use them:
# ingest's worker processes import this module again, and need none of them.
if TYPE_CHECKING:
    from cavra_gql.settings import Settings


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="cavra-gql",
        description="GraphQL API over CAVRA's rollback drill notification evidence.",
    )
    commands = parser.add_subparsers(dest="command", required=True)
    database_help = "SQLAlchemy URL (default: $CAVRA_GQL_DATABASE_URL or sqlite:///.cavra/...)"

    api = commands.add_parser("api", help="serve GraphQL, the REST routes and the sandbox UI")
    api.add_argument("--host", default="127.0.0.1")
    api.add_argument("--port", type=int, default=8000)
    api.add_argument("--database", help=database_help)
    api.add_argument("--demo", action="store_true", help="load the bundled demo history first")
    api.add_argument(
        "--workers",
        type=int,
        default=1,
        help="API processes sharing the port and the database (use PostgreSQL for several)",
    )
    api.add_argument(
        "--auth-file",
        type=Path,
        help="TOML file of API tokens (SHA-256) and OIDC settings (default: $CAVRA_GQL_AUTH_FILE;"
        " without one, reads are open and no write is accepted)",
    )
    api.add_argument("--no-graphiql", action="store_true", help="do not serve GraphiQL")
    api.add_argument(
        "--log-format",
        choices=["json", "text"],
        help="server log lines: one JSON object each, or plain text (default: "
        "$CAVRA_GQL_LOG_FORMAT or json)",
    )

    ingest = commands.add_parser("ingest", help="import CAVRA stores and exports")
    ingest.add_argument("paths", nargs="+", type=Path, metavar="PATH")
    ingest.add_argument("--database", help=database_help)

    sync = commands.add_parser(
        "sync", help="keep the database in step with a CAVRA store while CAVRA writes it"
    )
    sync.add_argument(
        "--from", dest="source", required=True, type=Path, metavar="PATH",
        help="CAVRA's JSON metadata store, its SQLite metadata database, or an NDJSON log",
    )  # fmt: skip
    sync.add_argument("--follow", action="store_true", help="pass after pass until stopped")
    sync.add_argument(
        "--interval", type=_seconds, default=2.0, metavar="S",
        help="seconds between passes with --follow (default: 2)",
    )  # fmt: skip
    sync.add_argument("--database", help=database_help)

    migrate = commands.add_parser("migrate", help="upgrade the database to this version's schema")
    migrate.add_argument("--database", help=database_help)

    token = commands.add_parser("token", help="make a new API token and its auth file entry")
    token.add_argument("--name", required=True, help="who uses it (shown in the write audit log)")
    token.add_argument("--role", required=True, choices=["reader", "operator"])

    schema = commands.add_parser("export-schema", help="print the GraphQL schema (SDL)")
    schema.add_argument("--output", type=Path, help="write to this file instead of stdout")
    export_cli.add_parsers(commands, database_help)
    return parser


def _seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not math.isfinite(value) or value <= 0:
        raise argparse.ArgumentTypeError(f"must be a number of seconds above 0, not {text!r}")
    return value


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.command == "export-schema":
        return _export_schema(args.output)
    if args.command == "token":
        return _token(args.name, args.role)
    if args.command in export_cli.COMMANDS:
        return export_cli.main(args)
    from cavra_gql.migrate import SchemaMismatch
    from cavra_gql.settings import Settings

    serving = args.command == "api"
    try:
        settings = Settings.from_env(
            database_url=args.database,
            auth_file=args.auth_file if serving else None,
            graphiql=False if serving and args.no_graphiql else None,
        )
    except ValueError as error:  # a bad limit or auth setting: what and where
        print(f"cavra-gql: {error}", file=sys.stderr)
        return 2
    try:
        if args.command == "migrate":
            return _migrate(settings)
        if args.command == "ingest":
            return _ingest(settings, args.paths)
        if args.command == "sync":
            return _sync(settings, args.source, follow=args.follow, interval=args.interval)
        return _serve(
            settings,
            args.host,
            args.port,
            demo=args.demo,
            workers=args.workers,
            auth_file=args.auth_file,
            log_format=args.log_format,
        )
    except SchemaMismatch as error:  # an outdated database: the message says what to run
        print(f"cavra-gql: {error}", file=sys.stderr)
        return 1


def _migrate(settings: Settings) -> int:
    from cavra_gql.db import make_engine
    from cavra_gql.migrate import upgrade

    engine = make_engine(settings.database_url, check_schema=False)
    try:
        before, after = upgrade(engine)
    finally:
        engine.dispose()
    done = "created" if before is None else "already current" if before == after else "upgraded"
    url = engine.url.render_as_string(hide_password=True)
    print(f"{url}: schema revision {before or 'none'} -> {after} ({done})", flush=True)
    return 0


def _token(name: str, role: str) -> int:
    from cavra_gql.auth import hash_token, new_token

    token = new_token()
    print(f"token (give it to {name}; it is not stored anywhere): {token}")
    print("auth file entry:")
    # A TOML basic string reads JSON's escapes: json.dumps quotes any name safely.
    print(f"[[tokens]]\nname = {json.dumps(name)}\nrole = {json.dumps(role)}")
    print(f'sha256 = "{hash_token(token)}"')
    return 0


def _export_schema(output: Path | None) -> int:
    from cavra_gql.schema import build_schema

    text = build_schema().as_str() + "\n"
    if output is None:
        sys.stdout.write(text)
    else:
        output.write_text(text, encoding="utf-8")
    return 0


def _progress(origin: str, read: int) -> None:
    """Where a long import stands (ingest and sync), on stderr."""
    print(f"{origin}: {read} records read...", file=sys.stderr, flush=True)


def _ingest(settings: Settings, paths: list[Path]) -> int:
    from cavra_gql.db import make_engine
    from cavra_gql.ingest import ingest_file
    from cavra_gql.priority import IMPORT_NICENESS, yield_cpu

    # An import is background work: on a busy machine the API's readers go first, on an idle
    # one this changes nothing.
    yield_cpu(IMPORT_NICENESS)

    engine = make_engine(settings.database_url)
    failed = 0
    try:
        for path in paths:
            try:
                print(ingest_file(engine, path, _progress).line(), flush=True)
            except IngestError as error:
                failed += 1
                print(error, file=sys.stderr, flush=True)
    finally:
        engine.dispose()
    if failed:
        print(f"{failed} of {len(paths)} files not imported", file=sys.stderr)
    return 1 if failed else 0


def _sync(settings: Settings, source: Path, *, follow: bool, interval: float) -> int:
    from cavra_gql import sync
    from cavra_gql.db import make_engine
    from cavra_gql.priority import IMPORT_NICENESS, yield_cpu

    yield_cpu(IMPORT_NICENESS)  # background work, as an import is
    engine = make_engine(settings.database_url)
    try:
        follower = sync.Follower(engine, source, _progress)
        return sync.follow(follower, interval) if follow else sync.sync_once(follower)
    finally:
        engine.dispose()


def _serve(
    settings: Settings,
    host: str,
    port: int,
    *,
    demo: bool,
    workers: int,
    auth_file: Path | None = None,
    log_format: str | None = None,
) -> int:
    import uvicorn

    from cavra_gql.app import create_app
    from cavra_gql.db import make_engine
    from cavra_gql.logs import log_config
    from cavra_gql.logs import log_format as chosen_format
    from cavra_gql.metrics import multiprocess_directory

    try:
        log_setup = log_config(chosen_format(log_format))
    except ValueError as error:  # a bad $CAVRA_GQL_LOG_FORMAT
        print(f"cavra-gql: {error}", file=sys.stderr)
        return 2

    if demo:
        from cavra_gql.demo import demo_records
        from cavra_gql.ingest import ingest_values

        engine = make_engine(settings.database_url)
        try:
            summary = ingest_values(
                engine, demo_records(datetime.now(UTC)), "demo history", via="demo"
            )
            print(summary.line(), flush=True)
        finally:
            engine.dispose()
    else:  # an outdated database stops here, with its message, not in each worker
        make_engine(settings.database_url).dispose()
    print(f"cavra-gql: GraphiQL at http://{host}:{port}/graphql, sandbox at /sandbox/", flush=True)
    if workers > 1:
        # Worker processes build their own app from the environment.
        os.environ["CAVRA_GQL_DATABASE_URL"] = settings.database_url
        if auth_file is not None:
            os.environ["CAVRA_GQL_AUTH_FILE"] = str(auth_file.resolve())
        if not settings.graphiql:
            os.environ["CAVRA_GQL_GRAPHIQL"] = "off"
        with multiprocess_directory():  # the workers' metrics, summed by every scrape
            uvicorn.run(
                "cavra_gql.app:app_from_env",
                factory=True,
                host=host,
                port=port,
                workers=workers,
                log_config=log_setup,
                ws_max_size=settings.limits.max_body_bytes,  # a WebSocket message, as a body
            )
    else:
        app = create_app(replace(settings, freeze_gc=True))
        uvicorn.run(
            app,
            host=host,
            port=port,
            log_level="info",
            log_config=log_setup,
            ws_max_size=settings.limits.max_body_bytes,
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
