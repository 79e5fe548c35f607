"""The database engine: built from a SQLAlchemy URL, its schema created or checked (migrate.py)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.engine import make_url

from cavra_gql import migrate, sqlite_transactions

# SQLite's page cache, which also bounds the memory of each sort (an index build, a GROUP
# BY, a window): large while an import writes rows at random, small once only sorts remain.
CACHE_KIB = 64 * 1024
SORT_CACHE_KIB = 16 * 1024


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    # Records take 1 to 3 kB: 16 kB pages hold several, where 4 kB pages split under them,
    # which roughly halves the cost of writing a large import. Only a new, empty database
    # takes it (an existing one keeps its page size), so it goes before anything is written.
    cursor.execute("PRAGMA page_size=16384")
    # WAL lets readers go on while a file is being imported; the busy timeout makes a
    # writer wait for another writer instead of failing at once.
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.execute(f"PRAGMA cache_size=-{CACHE_KIB}")
    cursor.close()


def make_engine(url: str, *, check_schema: bool = True) -> Engine:
    """An engine for `url`: an empty database gets the tables, one at another schema revision
    is refused (migrate.OutdatedDatabase, migrate.UnknownRevision).

    `check_schema=False` leaves the database as it is (for `cavra-gql migrate`).
    """
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"check_same_thread": False})
        event.listen(engine, "connect", _sqlite_pragmas)
    else:
        engine = create_engine(url, pool_pre_ping=True)
    if check_schema:
        try:
            migrate.prepare(engine)
        except BaseException:
            engine.dispose()
            raise
    return engine


def read_connection(engine: Engine) -> Connection:
    """A connection whose statements share one snapshot, so a page and its total agree.

    SQLite needs its transaction begun before the first SELECT; PostgreSQL needs
    REPEATABLE READ.
    """
    conn = engine.connect()
    if engine.dialect.name == "postgresql":
        conn = conn.execution_options(isolation_level="REPEATABLE READ")
    sqlite_transactions.begin(conn)
    return conn


@contextmanager
def lean_sorts(conn: Connection) -> Iterator[None]:
    """Run the block with SQLite's small page cache, so its sorts take at most that much
    memory each (with the large one, the index builds and summary roll-ups that end a large
    import raised its peak memory by half, and ran no faster)."""
    if conn.dialect.name != "sqlite":
        yield
        return
    conn.exec_driver_sql(f"PRAGMA cache_size=-{SORT_CACHE_KIB}")
    try:
        yield
    finally:
        conn.exec_driver_sql(f"PRAGMA cache_size=-{CACHE_KIB}")


def refresh_statistics(conn: Connection) -> None:
    """Let the query planner know the tables' sizes and selectivities (cheap, sampled)."""
    if conn.dialect.name == "sqlite":
        conn.exec_driver_sql("PRAGMA analysis_limit=1000")
        conn.exec_driver_sql("ANALYZE")
    elif conn.dialect.name == "postgresql":
        conn.exec_driver_sql("ANALYZE")
