"""ISO-8601 instants as integer microseconds since the epoch, in UTC."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
HOUR_US = 3_600_000_000  # an hour in microseconds: the finest summary bucket


def parse_instant(text: str) -> int:
    """Read an ISO-8601 date-time (no offset means UTC) as microseconds since the epoch.

    Raises ValueError with a short reason when the text is not a date-time.
    """
    value = text.strip()
    # A bare date is not a date-time; ISO-8601 needs the time part.
    if len(value) <= 10 or not any(sep in value[8:] for sep in ("T", "t", " ")):
        raise ValueError(f"not an ISO-8601 date-time: {text!r}")
    try:
        moment = datetime.fromisoformat(value)
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=UTC)
        micros = (moment - _EPOCH) // timedelta(microseconds=1)
        to_datetime(micros)  # an instant must also be representable in UTC
        return micros
    except (ValueError, OverflowError) as error:
        raise ValueError(f"not an ISO-8601 date-time: {text!r}") from error


def to_datetime(micros: int) -> datetime:
    """The aware UTC datetime of an instant."""
    return _EPOCH + timedelta(microseconds=micros)


def now_us() -> int:
    """The current instant."""
    return (datetime.now(UTC) - _EPOCH) // timedelta(microseconds=1)


def format_instant(micros: int) -> str:
    """ISO-8601 in UTC with a `Z`: `2026-11-28T07:31:39.123456Z`."""
    return to_datetime(micros).isoformat(timespec="microseconds").replace("+00:00", "Z")
