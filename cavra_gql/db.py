"""The database engine: built from a SQLAlchemy URL, with its tables created on first use."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event, inspect
from sqlalchemy.engine import make_url
from sqlmodel import SQLModel

from cavra_gql import models  # noqa: F401  (registers the tables on SQLModel.metadata)


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    # WAL lets readers go on while a file is being imported; the busy timeout makes a
    # writer wait for another writer instead of failing at once.
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.execute("PRAGMA cache_size=-65536")  # 64 MiB: index inserts of big imports
    cursor.close()


def make_engine(url: str) -> Engine:
    """An engine for `url` with the tables created (idempotent)."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"check_same_thread": False})
        event.listen(engine, "connect", _sqlite_pragmas)
    else:
        engine = create_engine(url, pool_pre_ping=True)
    SQLModel.metadata.create_all(engine)
    _check_columns(engine)
    return engine


class OutdatedDatabase(RuntimeError):
    """The database was created by an older cavra-gql and lacks columns this one needs."""


def _check_columns(engine: Engine) -> None:
    found = inspect(engine)
    for table in SQLModel.metadata.sorted_tables:
        have = {column["name"] for column in found.get_columns(table.name)}
        missing = sorted(set(table.columns.keys()) - have)
        if missing:
            raise OutdatedDatabase(
                f"table {table.name} lacks columns {', '.join(missing)}: this database was "
                "created by an older cavra-gql; re-create it and ingest the sources again"
            )


def read_connection(engine: Engine) -> Connection:
    """A connection whose statements share one snapshot, so a page and its total agree.

    SQLite gives that inside one transaction already; PostgreSQL needs REPEATABLE READ.
    """
    conn = engine.connect()
    if engine.dialect.name == "postgresql":
        conn = conn.execution_options(isolation_level="REPEATABLE READ")
    return conn


def refresh_statistics(conn: Connection) -> None:
    """Let the query planner know the tables' sizes and selectivities (cheap, sampled)."""
    if conn.dialect.name == "sqlite":
        conn.exec_driver_sql("PRAGMA analysis_limit=1000")
        conn.exec_driver_sql("ANALYZE")
    elif conn.dialect.name == "postgresql":
        conn.exec_driver_sql("ANALYZE")
