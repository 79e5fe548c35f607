"""The per-request time limit, enforced where the time goes: in the database.

The HTTP layer sets a deadline for the request (a context variable, so it follows the request
into Starlette's thread pool and into Strawberry's resolvers). Every SQL statement checks it
before it starts; SQLite's progress handler interrupts a statement that runs past it, and
PostgreSQL gets a `statement_timeout` of what is left of it. Either way the caller sees
`TimeLimitExceeded`, never a driver error. Code outside a request (the CLI) has no deadline.
"""

from __future__ import annotations

import math
import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any
from weakref import WeakKeyDictionary

from sqlalchemy import Engine, event

from cavra_gql.errors import TimeLimitExceeded

# (deadline on the monotonic clock, the limit in seconds) of the request being served.
_CURRENT: ContextVar[tuple[float, float] | None] = ContextVar("cavra_deadline", default=None)
# SQLite calls the progress handler every this many virtual machine instructions.
_PROGRESS_STEPS = 2000
_INSTALLED = "cavra_deadline_installed"
# PostgreSQL transactions whose statement_timeout is set already.
_TIMED: WeakKeyDictionary[Any, bool] = WeakKeyDictionary()


@contextmanager
def limit(seconds: float | None) -> Iterator[None]:
    """Run the enclosed request under a time limit (None: no limit)."""
    token = _CURRENT.set(None if seconds is None else (time.monotonic() + seconds, seconds))
    try:
        yield
    finally:
        _CURRENT.reset(token)


def _expired() -> int:
    """SQLite's progress handler: non-zero interrupts the running statement."""
    current = _CURRENT.get()
    return 1 if current is not None and time.monotonic() >= current[0] else 0


def _before_statement(conn: Any, cursor: Any, *_args: Any) -> None:
    current = _CURRENT.get()
    if current is None:
        return
    if _expired():
        raise TimeLimitExceeded(current[1])
    deadline = current[0]
    if conn.dialect.name == "sqlite":
        info = conn.info  # per DB-API connection: the handler reads the deadline itself
        if not info.get(_INSTALLED):
            conn.connection.driver_connection.set_progress_handler(_expired, _PROGRESS_STEPS)
            info[_INSTALLED] = True
    elif conn.dialect.name == "postgresql":
        # SET LOCAL lasts until the transaction ends: once per transaction.
        transaction = conn.get_transaction()
        if transaction is not None and transaction not in _TIMED:
            milliseconds = max(1, math.ceil((deadline - time.monotonic()) * 1000))
            cursor.execute(f"SET LOCAL statement_timeout = {milliseconds}")
            _TIMED[transaction] = True


def _translate(context: Any) -> None:
    """Turn the drivers' "interrupted" and "canceled" into the API's own error."""
    error = context.original_exception
    interrupted = isinstance(error, sqlite3.OperationalError) and str(error) == "interrupted"
    canceled = type(error).__name__ == "QueryCanceled"  # psycopg.errors.QueryCanceled
    if interrupted or canceled:
        current = _CURRENT.get()
        raise TimeLimitExceeded(current[1] if current else None) from None


def install(engine: Engine) -> None:
    """Make `engine`'s statements honour request deadlines (idempotent)."""
    if not event.contains(engine, "before_cursor_execute", _before_statement):
        event.listen(engine, "before_cursor_execute", _before_statement)
        event.listen(engine, "handle_error", _translate)
