"""Schema migrations (Alembic): a database's revision, creating and upgrading it, or refusing."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import URL, Connection, Engine, create_engine, inspect, text

from cavra_gql import sqlite_transactions
from cavra_gql.errors import CavraError

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
FIRST = "0001"
# What cavra-gql made before it had migrations: these tables and no version table.
FIRST_TABLES = frozenset(
    {
        "evidence_records",
        "other_records",
        "record_providers",
        "plan_required_routes",
        "record_summary",
        "provider_summary",
    }
)
# pg_advisory_xact_lock key ("cavra_mg"): one schema change at a time per PostgreSQL database.
_LOCK_KEY = 0x63617672615F6D67


class SchemaMismatch(CavraError):
    """The database's schema is not the one this cavra-gql works with."""


class OutdatedDatabase(SchemaMismatch):
    """The database is at an older schema revision (or none): `cavra-gql migrate` upgrades it."""


class UnknownRevision(SchemaMismatch):
    """The database is at a schema revision this cavra-gql does not know: a newer one."""


def head() -> str:
    """The schema revision this cavra-gql works with."""
    revision = _scripts().get_current_head()
    assert revision is not None, "no migrations in " + str(MIGRATIONS_DIR)
    return revision


def current_revision(conn: Connection) -> str | None:
    """The database's schema revision: FIRST for one made before migrations, None when empty."""
    heads = MigrationContext.configure(conn).get_current_heads()
    if heads:
        return ",".join(heads)
    return FIRST if FIRST_TABLES & set(inspect(conn).get_table_names()) else None


def prepare(engine: Engine) -> None:
    """Create an empty database at the newest revision; refuse one at any other revision."""
    with engine.connect() as conn:
        empty = current_revision(conn) is None
    if empty:
        with _schema_lock(engine) as conn:
            if current_revision(conn) is None:  # no other process created it meanwhile
                command.upgrade(_config(conn), "head")
    check_current(engine)


def check_current(engine: Engine) -> None:
    """Raise OutdatedDatabase or UnknownRevision unless the database is at head()."""
    with engine.connect() as conn:
        revision = current_revision(conn)
        if revision == head():
            return
        _check_known(revision, engine.url)
        if revision is None:
            raise OutdatedDatabase(
                f"this database has no cavra-gql tables: {_run_migrate(engine.url)}"
            )
        made = ""
        if not _versioned(conn):
            _check_first_columns(conn)
            made = " (made before migrations)"
    raise OutdatedDatabase(
        f"this database is at schema revision {revision}{made}, cavra-gql needs {head()}: "
        + _run_migrate(engine.url)
    )


def upgrade(engine: Engine, *, to: str = "head") -> tuple[str | None, str | None]:
    """Bring the database to revision `to` in one transaction; returns the revisions before
    and after. A database made before migrations is first checked against FIRST and stamped.
    """
    with _schema_lock(engine) as conn:
        before = current_revision(conn)
        _check_known(before, engine.url)
        config = _config(conn)
        if before == FIRST and not _versioned(conn):
            _check_first_columns(conn)
            command.stamp(config, FIRST)
        command.upgrade(config, to)
        return before, current_revision(conn)


def _run_migrate(url: URL) -> str:
    return f"run `cavra-gql migrate --database {url.render_as_string(hide_password=True)}`"


def _versioned(conn: Connection) -> bool:
    return bool(MigrationContext.configure(conn).get_current_heads())


def _check_known(revision: str | None, url: URL) -> None:
    if revision is None or revision in _known_revisions():
        return
    raise UnknownRevision(
        f"this database is at schema revision {revision}, which this cavra-gql (at {head()}) "
        f"does not know: a newer cavra-gql has upgraded {url.render_as_string(hide_password=True)}"
        "; run that version, or a copy of the database made before the upgrade"
    )


def _check_first_columns(conn: Connection) -> None:
    """Refuse a pre-migration database whose tables differ from those of revision FIRST."""
    found = inspect(conn)
    tables = set(found.get_table_names())
    for table, expected in sorted(_first_columns().items()):
        have = {column["name"] for column in found.get_columns(table)} if table in tables else set()
        if have == expected:
            continue
        differences = [
            f"lacks {', '.join(sorted(expected - have))}" if expected - have else "",
            f"has unknown {', '.join(sorted(have - expected))}" if have - expected else "",
        ]
        raise OutdatedDatabase(
            f"this database was made by a cavra-gql older than schema revision {FIRST} "
            f"(table {table} {' and '.join(filter(None, differences))}): it cannot be upgraded; "
            "re-create it and ingest the sources again"
        )


@cache
def _first_columns() -> dict[str, frozenset[str]]:
    """The tables and columns revision FIRST makes, read from a scratch in-memory database."""
    scratch = create_engine("sqlite://")
    try:
        with scratch.begin() as conn:
            command.upgrade(_config(conn), FIRST)
            found = inspect(conn)
            return {
                table: frozenset(column["name"] for column in found.get_columns(table))
                for table in FIRST_TABLES
            }
    finally:
        scratch.dispose()


@contextmanager
def _schema_lock(engine: Engine) -> Iterator[Connection]:
    """A transaction holding the database's schema lock: one creator or upgrader at a time.

    The lock waits for another holder's commit, after which the schema is read afresh.
    """
    with engine.connect() as conn:
        if conn.dialect.name == "postgresql":
            conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _LOCK_KEY})
        else:  # SQLite: the write lock, and the DDL inside the same transaction
            sqlite_transactions.begin(conn, "IMMEDIATE")
        yield conn
        conn.commit()


def _config(conn: Connection | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR).replace("%", "%%"))
    config.attributes["connection"] = conn
    return config


@cache
def _scripts() -> ScriptDirectory:
    return ScriptDirectory.from_config(_config())


@cache
def _known_revisions() -> frozenset[str]:
    return frozenset(script.revision for script in _scripts().walk_revisions())
