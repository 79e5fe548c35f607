"""Subscriptions (graphql-transport-ws): new and updated history records, dashboard changes."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from datetime import datetime
from typing import Any

import strawberry
from sqlalchemy import Connection

from cavra_gql import metrics
from cavra_gql.dashboard import Dashboard
from cavra_gql.instants import to_datetime
from cavra_gql.live import ChangeFeed
from cavra_gql.queries.changes import Change, changed_records
from cavra_gql.queries.filters import MAX_LIMIT, HistoryFilter
from cavra_gql.schema.arguments import FILTER_PARAMETERS, history_filter, with_arguments
from cavra_gql.schema.context import Info
from cavra_gql.schema.dashboard import DashboardAnswer, RollbackDrillNotificationDashboard
from cavra_gql.schema.fields import doc
from cavra_gql.schema.records import TYPE_OF_KIND, DrillRecord
from cavra_gql.schema.views import RecordView

# A dashboard subscription recomputes at most this often, however fast writes come.
DASHBOARD_EVERY_SECONDS = 1.0


@strawberry.type(
    description=(
        "The history records one committed write added or replaced that match the "
        "subscription's filters."
    )
)
class HistoryChange:
    seq: int = doc(
        "The write's position in commit order: increasing, not always by one (a write that "
        "changed no matching record is skipped)."
    )
    committed_at: datetime = doc("When the write committed (UTC).")
    total: int = doc("Matching records the write added or replaced.")
    truncated: bool = doc(
        "Whether `records` holds only the newest 500 of them (a bulk import): query "
        "`rollbackDrillNotifications` for the rest."
    )
    records: list[DrillRecord] = doc(
        "The records, newest first (history order), typed by kind. A record replaced again "
        "by a later write comes with that write instead."
    )


def _history_change(conn: Connection, flt: HistoryFilter, change: Change) -> HistoryChange | None:
    rows, total = changed_records(conn, flt, change.batch_id, MAX_LIMIT)
    if not total:
        return None
    return HistoryChange(
        seq=change.seq,
        committed_at=to_datetime(change.committed_us),
        total=total,
        truncated=total > len(rows),
        records=[RecordView(row, TYPE_OF_KIND[row.metadata_kind]) for row in rows],  # type: ignore[misc]
    )


def _loaded_dashboard(conn: Connection, flt: HistoryFilter) -> tuple[Dashboard, Any]:
    """A dashboard with every figure read (its fields are resolved after the connection is
    closed), and what it shows, to tell whether it changed."""
    dashboard = Dashboard(conn, flt)
    return dashboard, dashboard.load()


def _feed(info: Info) -> ChangeFeed:
    feed = info.context.feed
    assert feed is not None, "subscriptions need the app's change feed"
    return feed


@with_arguments(FILTER_PARAMETERS)
async def rollback_drill_notification_added(
    info: Info, **values: Any
) -> AsyncIterator[HistoryChange]:
    flt = history_filter(values)  # a bad filter is refused before the subscription starts
    return _history_changes(_feed(info), flt)


async def _history_changes(feed: ChangeFeed, flt: HistoryFilter) -> AsyncIterator[HistoryChange]:
    async with feed.subscribe() as subscriber:
        while True:
            change = await subscriber.next()
            found = await feed.read(_history_change, flt, change)
            if found is not None:
                metrics.SUBSCRIPTION_EVENTS.labels("rollbackDrillNotificationAdded").inc()
                yield found


@with_arguments(FILTER_PARAMETERS)
async def rollback_drill_notification_dashboard_changed(
    info: Info, **values: Any
) -> AsyncIterator[RollbackDrillNotificationDashboard]:
    flt = history_filter(values)
    return _dashboard_changes(_feed(info), flt)


async def _dashboard_changes(
    feed: ChangeFeed, flt: HistoryFilter
) -> AsyncIterator[RollbackDrillNotificationDashboard]:
    async with feed.subscribe() as subscriber:
        shown = None
        while True:
            started = time.monotonic()
            dashboard, figures = await feed.read(_loaded_dashboard, flt)
            if figures != shown:
                shown = figures
                metrics.SUBSCRIPTION_EVENTS.labels(
                    "rollbackDrillNotificationDashboardChanged"
                ).inc()
                yield DashboardAnswer(dashboard)  # type: ignore[misc]
            await subscriber.any()
            # Writes that come meanwhile are taken in by the next computation.
            await asyncio.sleep(max(0.0, started + DASHBOARD_EVERY_SECONDS - time.monotonic()))
            subscriber.drain()


@strawberry.type(description="Live updates over graphql-transport-ws (see the README).")
class Subscription:
    rollback_drill_notification_added: HistoryChange = strawberry.subscription(
        resolver=rollback_drill_notification_added,
        description=(
            "New and replaced history records matching the filters (the arguments of "
            "`rollbackDrillNotifications`, without paging), one event per committed write in "
            "commit order, whichever process or command wrote it."
        ),
    )
    rollback_drill_notification_dashboard_changed: RollbackDrillNotificationDashboard = (
        strawberry.subscription(
            resolver=rollback_drill_notification_dashboard_changed,
            description=(
                "`rollbackDrillNotificationDashboard` over the same filters: once at the "
                "start, then after writes that change it (at most once a second)."
            ),
        )
    )
