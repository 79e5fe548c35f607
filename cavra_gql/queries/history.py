"""History pages: SPEC §3 order, offset or keyset paging, and the match count."""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import cached_property
from typing import Any

from sqlalchemy import ColumnElement, Connection, Select, and_, func, or_, select

from cavra_gql import jsontext
from cavra_gql.errors import BadInput
from cavra_gql.instants import to_datetime
from cavra_gql.queries.filters import HistoryFilter
from cavra_gql.queries.tables import records

ORDER = (records.c.created_us.desc(), records.c.session_id.asc())
ROW_COLUMNS = (
    records.c.session_id,
    records.c.metadata_kind,
    records.c.created_us,
    records.c.status,
    records.c.providers_json,
    records.c.record_json,
)


@dataclass(frozen=True, slots=True)
class Cursor:
    """A position in history order: just after the record with this instant and id."""

    created_us: int
    session_id: str

    def encode(self) -> str:
        raw = json.dumps([self.created_us, self.session_id], ensure_ascii=False)
        return base64.urlsafe_b64encode(raw.encode("utf-8")).decode("ascii")

    @classmethod
    def decode(cls, token: str, field: str = "after") -> Cursor:
        try:
            padded = token + "=" * (-len(token) % 4)
            value = json.loads(base64.urlsafe_b64decode(padded.encode("ascii")).decode("utf-8"))
            created_us, session_id = value
            if type(created_us) is not int or not isinstance(session_id, str):
                raise ValueError("wrong types")
        except (ValueError, TypeError, UnicodeError, binascii.Error):
            raise BadInput(field, f"not a cursor issued by this API: {token[:60]!r}") from None
        return cls(created_us, session_id)

    def after_condition(self) -> ColumnElement[bool]:
        c = records.c
        # The redundant upper bound lets the planner seek in the history index instead of
        # scanning down from the newest record to the cursor.
        return and_(
            c.created_us <= self.created_us,
            or_(
                c.created_us < self.created_us,
                and_(c.created_us == self.created_us, c.session_id > self.session_id),
            ),
        )


class RecordRow:
    """One stored record as read for an answer; the JSON is decoded only when asked for."""

    def __init__(self, row: Any) -> None:
        self.session_id: str = row.session_id
        self.metadata_kind: str = row.metadata_kind
        self.created_us: int = row.created_us
        self.status: str | None = row.status
        self._providers_json: str = row.providers_json
        self.record_json: str = row.record_json

    @cached_property
    def record(self) -> dict[str, Any]:
        value: dict[str, Any] = jsontext.loads(self.record_json)
        return value

    @cached_property
    def providers(self) -> list[str]:
        value: list[str] = jsontext.loads(self._providers_json)
        return value

    @property
    def created_at(self) -> datetime:
        return to_datetime(self.created_us)

    @property
    def cursor(self) -> Cursor:
        return Cursor(self.created_us, self.session_id)


@dataclass(frozen=True, slots=True)
class PageRequest:
    limit: int
    offset: int = 0
    after: Cursor | None = None


@dataclass(frozen=True, slots=True)
class Page:
    rows: list[RecordRow]
    has_next: bool


def fetch_page(conn: Connection, flt: HistoryFilter, request: PageRequest) -> Page:
    """One page of matching records in history order (one statement).

    The matches are ordered and cut by key first, and only the page's rows are read whole:
    a filter answered from sparse indexes then sorts its matches without reading every
    match's JSON (SQLite keeps it in overflow pages, read only when the column is).
    """
    query = page_query(flt, PageRequest(request.limit + 1, request.offset, request.after))
    rows = [RecordRow(row) for row in conn.execute(query)]
    return Page(rows=rows[: request.limit], has_next=len(rows) > request.limit)


def page_query(
    flt: HistoryFilter, request: PageRequest, columns: Sequence[ColumnElement[Any]] = ROW_COLUMNS
) -> Select[Any]:
    """The `columns` of up to `request.limit` matching records in history order."""
    conditions = flt.conditions()
    if request.after is not None:
        conditions.append(request.after.after_condition())
    keys = (
        select(records.c.session_id)
        .where(*conditions)
        .order_by(*ORDER)
        .limit(request.limit)
        .offset(request.offset)
        .subquery("page_keys")
    )
    return (
        select(*columns)
        .join_from(keys, records, records.c.session_id == keys.c.session_id)
        .order_by(*ORDER)
    )


def count_matches(conn: Connection, flt: HistoryFilter) -> int:
    """How many records match, before paging (one statement)."""
    query = select(func.count()).select_from(records).where(*flt.conditions())
    return int(conn.execute(query).scalar_one())


def fetch_record(conn: Connection, session_id: str) -> RecordRow | None:
    """One history record by session_id (records outside the history are not served)."""
    query = select(*ROW_COLUMNS).where(records.c.session_id == session_id)
    row = conn.execute(query).first()
    return None if row is None else RecordRow(row)
