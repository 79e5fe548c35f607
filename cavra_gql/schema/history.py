"""`rollbackDrillNotifications`: the typed, filtered, paged history (SPEC §3)."""

from __future__ import annotations

from functools import cached_property
from typing import Annotated, Any

import strawberry
from sqlalchemy import Connection

from cavra_gql.errors import BadInput
from cavra_gql.queries import aggregates
from cavra_gql.queries.filters import MAX_LIMIT, HistoryFilter, refuse_nul
from cavra_gql.queries.history import Cursor, Page, PageRequest, fetch_page, fetch_record
from cavra_gql.schema.arguments import (
    FILTER_PARAMETERS,
    PAGING_PARAMETERS,
    history_filter,
    with_arguments,
)
from cavra_gql.schema.context import Info
from cavra_gql.schema.fields import doc
from cavra_gql.schema.records import TYPE_OF_KIND, DrillRecord
from cavra_gql.schema.views import RecordView


@strawberry.type(description="Where a page stands in the whole result.")
class PageInfo:
    has_next_page: bool = doc("Whether matches follow this page.")
    end_cursor: str | None = doc(
        "Cursor of the page's last item (pass it as `after`); null if empty."
    )


@strawberry.type(description="One page of rollback drill notification history, newest first.")
class RollbackDrillNotificationPage:
    total: int = doc("Every match, before paging.")
    limit: int = doc("Page size used (at most 500).")
    offset: int = doc("Matches skipped.")
    page_info: PageInfo = doc("Paging position.")
    items: list[DrillRecord] = doc("The page's records, typed by kind.")


class PageAnswer:
    """What `RollbackDrillNotificationPage` reads; the total is counted only when asked for."""

    def __init__(self, conn: Connection, flt: HistoryFilter, request: PageRequest) -> None:
        self._conn, self._filter, self._request = conn, flt, request
        self.limit, self.offset = request.limit, request.offset

    @cached_property
    def _page(self) -> Page:
        return fetch_page(self._conn, self._filter, self._request)

    @cached_property
    def total(self) -> int:
        return aggregates.total(self._conn, self._filter)

    @property
    def page_info(self) -> PageInfo:
        rows = self._page.rows
        return PageInfo(
            has_next_page=self._page.has_next,
            end_cursor=rows[-1].cursor.encode() if rows else None,
        )

    @property
    def items(self) -> list[RecordView]:
        return [RecordView(row, TYPE_OF_KIND[row.metadata_kind]) for row in self._page.rows]


def _page_request(limit: int | None, offset: int | None, after: str | None) -> PageRequest:
    if limit is not None and limit < 0:
        raise BadInput("limit", f"must be >= 0, got {limit}")
    if offset is not None and offset < 0:
        raise BadInput("offset", f"must be >= 0, got {offset}")
    cursor = Cursor.decode(after) if after is not None and after.strip() else None
    if cursor is not None and offset:
        raise BadInput("after", "cannot be combined with a non-zero offset")
    size = 50 if limit is None else min(limit, MAX_LIMIT)
    return PageRequest(limit=size, offset=offset or 0, after=cursor)


@with_arguments(FILTER_PARAMETERS, PAGING_PARAMETERS)
def rollback_drill_notifications(info: Info, **values: Any) -> RollbackDrillNotificationPage:
    flt = history_filter(values)
    request = _page_request(values.get("limit"), values.get("offset"), values.get("after"))
    return PageAnswer(info.context.conn, flt, request)  # type: ignore[return-value]


def rollback_drill_notification(
    info: Info,
    id: Annotated[strawberry.ID, strawberry.argument(description="The record's session_id.")],
) -> DrillRecord | None:
    refuse_nul(str(id), "id")
    row = fetch_record(info.context.conn, str(id))
    if row is None:
        return None
    return RecordView(row, TYPE_OF_KIND[row.metadata_kind])  # type: ignore[return-value]
