"""Figures a scrape reads from the database and the connection pool: records by kind, audit
delivery health, ingest counters, sync passes, the change feed's head, pool state.

They are database-wide (the same from every API process), except the pool's, which is this
process's. One more figure is one more function in `FIGURES`: it gets a read connection and
returns metric families.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable, Sequence
from time import monotonic, perf_counter

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.metrics_core import Metric
from sqlalchemy import Connection, Engine
from sqlalchemy.pool import Pool, QueuePool

from cavra_gql import kinds
from cavra_gql.dashboard import Dashboard, HealthStatus
from cavra_gql.db import read_connection
from cavra_gql.queries import aggregates, changes, ingest_totals, sync_state
from cavra_gql.queries.filters import HistoryFilter

log = logging.getLogger("cavra_gql.metrics")

Figures = Callable[[Connection], Iterable[Metric]]
# Scrapes closer together than this get the figures of the previous one.
CACHE_SECONDS = 5.0


def record_counts(conn: Connection) -> Iterable[Metric]:
    family = GaugeMetricFamily(
        "cavra_gql_records", "History records stored, by metadata_kind.", labels=["kind"]
    )
    counts: dict[str, int] = {}
    for group in aggregates.kind_groups(conn, HistoryFilter()):
        counts[group.metadata_kind] = counts.get(group.metadata_kind, 0) + group.count
    for kind in sorted(kinds.HISTORY_KINDS | set(counts)):
        family.add_metric([kind], counts.get(kind, 0))
    return [family]


def _one_hot(family: GaugeMetricFamily, labels: list[str], status: HealthStatus) -> None:
    for candidate in HealthStatus:
        family.add_metric([*labels, candidate.value], 1 if candidate is status else 0)


def audit_delivery_health(conn: Connection) -> Iterable[Metric]:
    """The dashboard's recovery-aware health over the whole history, as one-hot gauges."""
    dashboard = Dashboard(conn, HistoryFilter())
    overall = GaugeMetricFamily(
        "cavra_gql_audit_delivery_health",
        "Audit delivery health over every provider: 1 for the current status, else 0 "
        "(CRITICAL: some provider's latest attempt failed).",
        labels=["status"],
    )
    _one_hot(overall, [], dashboard.health_status)
    by_category = GaugeMetricFamily(
        "cavra_gql_audit_delivery_category_health",
        "Audit delivery health per provider category: 1 for the current status, else 0.",
        labels=["category", "status"],
    )
    attempts = GaugeMetricFamily(
        "cavra_gql_audit_delivery_attempts",
        "Audit package sends recorded, per provider category.",
        labels=["category"],
    )
    failures = GaugeMetricFamily(
        "cavra_gql_audit_delivery_failures",
        "Failed audit package sends recorded, per provider category.",
        labels=["category"],
    )
    for health in dashboard.category_health:
        _one_hot(by_category, [health.name], health.status)
        attempts.add_metric([health.name], health.attempts)
        failures.add_metric([health.name], health.failures)
    return [overall, by_category, attempts, failures]


def ingested(conn: Connection) -> Iterable[Metric]:
    """What the committed writes of every path (`via`) took in and did, from any process or
    command (ingest_totals: one row a path; counted since the table was made)."""
    writes = CounterMetricFamily(
        "cavra_gql_ingested_writes",
        "Committed writes that read at least one record, by path: file (`cavra-gql ingest`), "
        "sync, api (ingestRecords) or demo.",
        labels=["via"],
    )
    read = CounterMetricFamily(
        "cavra_gql_ingested_records_read",
        "Records committed writes took in, by path (sync: those changed since the file's last "
        "pass; a record given twice in a write counts twice).",
        labels=["via"],
    )
    stored = CounterMetricFamily(
        "cavra_gql_ingested_records",
        "Records committed writes stored, by path and result: new, updated, or unchanged "
        "(found as stored).",
        labels=["via", "result"],
    )
    for row in ingest_totals.figures(conn):
        writes.add_metric([row.via], row.writes)
        read.add_metric([row.via], row.records_read)
        for result, count in (
            ("new", row.records_new),
            ("updated", row.records_updated),
            ("unchanged", row.records_unchanged),
        ):
            stored.add_metric([row.via, result], count)
    return [writes, read, stored]


def sync_passes(conn: Connection) -> Iterable[Metric]:
    """What `cavra-gql sync` did, per followed file (sync_sources: one row a file, so the
    path itself is the label). Its counters only grow, whichever process ran the passes."""
    source = ["source"]
    passes = CounterMetricFamily(
        "cavra_gql_sync_passes",
        "Passes of `cavra-gql sync` that read the followed file and committed.",
        labels=source,
    )
    read = CounterMetricFamily(
        "cavra_gql_sync_records_read",
        "Records sync passes read from the file (those skipped as already synced included).",
        labels=source,
    )
    imported = CounterMetricFamily(
        "cavra_gql_sync_records_imported",
        "Records sync passes stored, by result: new, updated, or unchanged (read again and "
        "found as stored).",
        labels=["source", "result"],
    )
    deletions = CounterMetricFamily(
        "cavra_gql_sync_deletions_seen",
        "Records sync passes found gone from the file (they are kept in the database).",
        labels=source,
    )
    last_pass = GaugeMetricFamily(
        "cavra_gql_sync_last_pass_timestamp_seconds",
        "When a sync pass last found the database in step with the file: a pass that read "
        "it, or one that found it unchanged (noted at most once a minute).",
        labels=source,
    )
    failed = GaugeMetricFamily(
        "cavra_gql_sync_last_pass_failed",
        "1 if the last sync pass over the file failed on an invalid record or file "
        "(sync_sources.last_error says where), else 0.",
        labels=source,
    )
    for row in sync_state.pass_figures(conn):
        labels = [row.source]
        passes.add_metric(labels, row.passes)
        read.add_metric(labels, row.records_read)
        for result, count in (
            ("new", row.imported_new),
            ("updated", row.imported_updated),
            ("unchanged", row.imported_unchanged),
        ):
            imported.add_metric([row.source, result], count)
        deletions.add_metric(labels, row.deletions_seen)
        if row.last_pass_us is not None:
            last_pass.add_metric(labels, row.last_pass_us / 1e6)
        error_us = row.last_error_us
        failed.add_metric(labels, int(error_us is not None and error_us > (row.last_pass_us or 0)))
    return [passes, read, imported, deletions, last_pass, failed]


def change_feed(conn: Connection) -> Iterable[Metric]:
    """The head of the change feed. Its table keeps only a recent tail, so sums over it would
    fall as it is pruned: only the newest batch is reported."""
    newest = changes.newest(conn)
    seq = GaugeMetricFamily(
        "cavra_gql_change_feed_last_seq",
        "The seq of the newest committed write that changed history records (one more per "
        "such write, from any process or command; 0 before the first).",
        value=newest[0] if newest else 0,
    )
    if newest is None:
        return [seq]
    committed = GaugeMetricFamily(
        "cavra_gql_change_feed_last_commit_timestamp_seconds",
        "When the newest write that changed history records committed.",
        value=newest[1] / 1e6,
    )
    return [seq, committed]


FIGURES: tuple[Figures, ...] = (
    record_counts,
    audit_delivery_health,
    ingested,
    sync_passes,
    change_feed,
)


class DatabaseFigures:
    """A prometheus_client collector of `figures`, read in one snapshot, cached briefly."""

    def __init__(
        self,
        engine: Engine,
        figures: Sequence[Figures] = FIGURES,
        cache_seconds: float = CACHE_SECONDS,
    ) -> None:
        self.engine = engine
        self.figures = figures
        self.cache_seconds = cache_seconds
        self._lock = threading.Lock()
        self._read_at = -cache_seconds
        self._families: list[Metric] = []

    def describe(self) -> Iterable[Metric]:
        return ()  # nothing to check at registration; reading them costs queries

    def collect(self) -> Iterable[Metric]:
        with self._lock:
            if monotonic() - self._read_at >= self.cache_seconds:
                self._families = self._read()
                self._read_at = monotonic()
            return list(self._families)

    def _read(self) -> list[Metric]:
        started = perf_counter()
        families: list[Metric] = []
        try:
            with read_connection(self.engine) as conn:
                for figures in self.figures:
                    families.extend(figures(conn))
            up = 1
        except Exception:  # the process's own metrics are still worth a scrape
            log.exception("metrics: the database figures could not be read")
            families, up = [], 0
        families.append(
            GaugeMetricFamily(
                "cavra_gql_database_figures_up",
                "1 if the last read of the database figures succeeded, else 0.",
                value=up,
            )
        )
        families.append(
            GaugeMetricFamily(
                "cavra_gql_database_figures_seconds",
                "How long the last read of the database figures took.",
                value=perf_counter() - started,
            )
        )
        return families


POOL_HELP = {
    "size": "Connections the pool keeps open (its configured size).",
    "checked_out": "Connections in use by requests.",
    "checked_in": "Idle connections in the pool.",
    "overflow": "Connections beyond the pool size (negative: the pool is not yet filled).",
}


def pool_figures(pool: Pool) -> dict[str, int]:
    """Size, connections in use and idle, and overflow of a queue pool (SQLAlchemy's pool for
    PostgreSQL and SQLite files); nothing for other pools."""
    if not isinstance(pool, QueuePool):
        return {}
    return {
        "size": pool.size(),
        "checked_out": pool.checkedout(),
        "checked_in": pool.checkedin(),
        "overflow": pool.overflow(),
    }


class PoolFigures:
    """A single process's pool, read at scrape time (several processes publish theirs as they
    change: metrics._watch_pool)."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def describe(self) -> Iterable[Metric]:
        return ()

    def collect(self) -> Iterable[Metric]:
        for name, value in pool_figures(self.engine.pool).items():
            yield GaugeMetricFamily(f"cavra_gql_db_pool_{name}", POOL_HELP[name], value)
