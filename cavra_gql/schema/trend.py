"""`auditDeliveryTrend`: audit delivery attempts and failures per hour or day (for charts)."""

from __future__ import annotations

from datetime import datetime
from enum import Enum
from typing import Annotated, Any

import strawberry

from cavra_gql.errors import BadInput
from cavra_gql.instants import to_datetime
from cavra_gql.queries.hours import DAY_US, HOUR_US
from cavra_gql.queries.trend import audit_delivery_trend
from cavra_gql.schema.arguments import FILTER_PARAMETERS, history_filter, with_arguments
from cavra_gql.schema.context import Info
from cavra_gql.schema.fields import doc

MAX_POINTS = 2000


@strawberry.enum(description="Width of a trend bucket, aligned to UTC.")
class TrendBucket(Enum):
    HOUR = "HOUR"
    DAY = "DAY"


@strawberry.type(description="Audit delivery sends in one bucket.")
class TrendPoint:
    start: datetime = doc("Start of the bucket (UTC).")
    attempts: int = doc("Audit-source connector sends in the bucket.")
    failures: int = doc("Of those, sends whose delivery_success is not true.")
    successes: int = doc("Of those, successful sends.")


def _points(
    counts: dict[int, tuple[int, int]], first: int, last: int, step: int
) -> list[TrendPoint]:
    if (last - first) // step + 1 > MAX_POINTS:
        raise BadInput("bucket", f"more than {MAX_POINTS} buckets: use DAY or a shorter range")
    points = []
    for start in range(first, last + 1, step):
        attempts, failures = counts.get(start, (0, 0))
        points.append(
            TrendPoint(
                start=to_datetime(start),
                attempts=attempts,
                failures=failures,
                successes=attempts - failures,
            )
        )
    return points


@with_arguments(FILTER_PARAMETERS)
def audit_delivery_trend_field(
    info: Info,
    bucket: Annotated[
        TrendBucket, strawberry.argument(description="Bucket width (UTC-aligned).")
    ] = TrendBucket.DAY,
    **values: Any,
) -> list[TrendPoint]:
    flt = history_filter(values)
    step = HOUR_US if bucket is TrendBucket.HOUR else DAY_US
    found = audit_delivery_trend(info.context.conn, flt, step)
    counts = {item.bucket_start_us: (item.attempts, item.failures) for item in found}
    starts = list(counts)
    if flt.created_after is not None:
        starts.append(flt.created_after // step * step)
    if flt.created_before is not None:
        starts.append((flt.created_before - 1) // step * step)
    if not starts:
        return []
    return _points(counts, min(starts), max(starts), step)
