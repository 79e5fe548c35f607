"""Plain-Python reference model of SPEC.md §3 (history) and §4 (dashboard).

This module is a test oracle: the SQL implementation is compared against it.
It is written to be obviously faithful to the SPEC text, not to be fast:
every function is a simple loop over a list of record dicts, and each rule
quotes the SPEC sentence it implements.  It imports nothing from the package.

Conventions (the project's reading of SPEC, see the brief):

* Records passed in are as stored: one per ``session_id``, already redacted.
* Field lookups read only string values; list fields read only their string
  elements; nested lookups tolerate wrong types (a non-dict parent means "no
  nested value").
* ``params`` use the REST names and raw query-string values.  A blank
  (empty or whitespace-only) value means "no filter" / "the default".
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, date, datetime
from fractions import Fraction
from typing import Any

Record = dict[str, Any]

# ---------------------------------------------------------------------------
# Constants named by SPEC
# ---------------------------------------------------------------------------

KIND_PLAN = "go-backend-rollback-drill-notification-plan"
KIND_ACK = "go-backend-rollback-drill-notification-ack"
KIND_ESCALATION = "go-backend-rollback-drill-notification-escalation-plan"
KIND_AUDIT_PACKAGE = "go-backend-rollback-drill-acknowledgement-audit-package"
KIND_AUDIT_DELIVERY_PLAN = "go-backend-rollback-drill-acknowledgement-audit-delivery-plan"
KIND_CONNECTOR = "release-connector-delivery"

SOURCE_NOTIFICATION = "go_backend_rollback_drill_notification"
SOURCE_AUDIT = "go_backend_rollback_drill_acknowledgement_audit"

DRILL_KINDS = (KIND_PLAN, KIND_ACK, KIND_ESCALATION, KIND_AUDIT_PACKAGE, KIND_AUDIT_DELIVERY_PLAN)
CONNECTOR_SOURCES = (SOURCE_NOTIFICATION, SOURCE_AUDIT)

HISTORY_SCHEMA_VERSION = "cavra.go-backend-pilot.rollback-drill-notification-history.v1"
DASHBOARD_SCHEMA_VERSION = "cavra.go-backend-pilot.rollback-drill-notification-dashboard.v1"
PRODUCT = "CAVRA"

CATEGORIES: dict[str, tuple[str, ...]] = {
    "siem": ("splunk", "sentinel", "datadog"),
    "itsm": ("jira", "servicenow"),
    "chatops": ("slack", "teams"),
    "webhook": ("webhook",),
}

DEFAULT_LIMIT = 50
MAX_LIMIT = 500
LATEST_COUNT = 10
OUTSTANDING_LIST_COUNT = 20

TRUE_WORDS = frozenset({"true", "1", "yes", "on", "t", "y"})
FALSE_WORDS = frozenset({"false", "0", "no", "off", "f", "n"})

# The §3 filter fields, in SPEC table order (legacy table, then the extras).
FILTER_FIELDS = (
    "schedule_id",
    "provider",
    "metadata_kind",
    "acknowledgement_state",
    "connector_delivery_source",
    "delivery_success",
    "alert_level",
    "audit_id",
    "delivery_id",
    "cadence",
    "state",
    "provider_category",
    "created_after",
    "created_before",
)
PAGING_FIELDS = ("limit", "offset")

HEALTHY = "HEALTHY"
DEGRADED = "DEGRADED"
CRITICAL = "CRITICAL"
UNKNOWN = "UNKNOWN"


class SpecError(Exception):
    """A value the REST API answers with 422 (GraphQL: BAD_USER_INPUT)."""

    def __init__(self, field: str, message: str = "") -> None:
        super().__init__(f"{field}: {message}" if message else field)
        self.field = field


# ---------------------------------------------------------------------------
# Small typed lookups
# ---------------------------------------------------------------------------


def _str_field(obj: Any, key: str) -> str | None:
    """``obj[key]`` when ``obj`` is a dict and the value is a string, else None."""
    if not isinstance(obj, dict):
        return None
    value = obj.get(key)
    return value if isinstance(value, str) else None


def _nested_str(record: Record, parent: str, key: str) -> str | None:
    """``record[parent][key]`` as a string, tolerating a missing / non-dict parent."""
    return _str_field(record.get(parent), key)


def _str_list(value: Any) -> list[str]:
    """The string elements of ``value`` in order, or [] when it is not a list."""
    if not isinstance(value, list):
        return []
    return [item for item in value if isinstance(item, str)]


def _dict_list(value: Any) -> list[dict[str, Any]]:
    """The dict elements of ``value`` in order, or [] when it is not a list."""
    if not isinstance(value, list):
        return []
    return [item for item in value if isinstance(item, dict)]


def _is_blank(value: str | None) -> bool:
    return value is None or value.strip() == ""


def _kind(record: Record) -> str | None:
    return _str_field(record, "metadata_kind")


def _is_connector(record: Record) -> bool:
    return _kind(record) == KIND_CONNECTOR


def _source(record: Record) -> str | None:
    return _str_field(record, "connector_delivery_source")


def _delivered(record: Record) -> bool:
    """``delivery_success`` is true (missing, or anything but JSON true, is false)."""
    return record.get("delivery_success") is True


# ---------------------------------------------------------------------------
# Instants
# ---------------------------------------------------------------------------


def parse_instant(value: str) -> datetime:
    """Parse an ISO-8601 date-time; no offset means UTC.  Returns an aware UTC datetime.

    A value without a time part (a bare date) is not a date-time: ValueError.
    """
    if not isinstance(value, str):
        raise ValueError(f"not a string: {value!r}")
    try:
        date.fromisoformat(value)
    except ValueError:
        pass
    else:
        raise ValueError(f"a date without a time: {value!r}")
    parsed = datetime.fromisoformat(value)  # raises ValueError
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)


def created_at_of(record: Record) -> datetime:
    """The record's ``created_at`` instant (stored records always have a parseable one)."""
    return parse_instant(record["created_at"])


def sort_history(records: Iterable[Record]) -> list[Record]:
    """§3 Order: newest ``created_at`` first (instants), ties by ``session_id`` ascending
    in code-point order (Python compares str by code point)."""
    result = list(records)
    # Two stable sorts: first the tie-breaker, then the primary key.
    result.sort(key=lambda r: r["session_id"])
    result.sort(key=created_at_of, reverse=True)
    return result


# ---------------------------------------------------------------------------
# Record-level definitions
# ---------------------------------------------------------------------------


def in_history(record: Record) -> bool:
    """§2: the drill kinds always; a connector delivery only with one of the two sources."""
    kind = _kind(record)
    if kind in DRILL_KINDS:
        return True
    if kind == KIND_CONNECTOR:
        return _source(record) in CONNECTOR_SOURCES
    return False


def providers_of(record: Record) -> list[str]:
    """The set the ``provider`` filter reads: ``provider``, ``selected_providers``,
    ``providers``, ``failed_providers`` and ``acknowledgement_audit_package.routes[].provider``.
    Sorted, de-duplicated, non-empty strings only."""
    found: set[str] = set()
    single = _str_field(record, "provider")
    if single is not None:
        found.add(single)
    for key in ("selected_providers", "providers", "failed_providers"):
        found.update(_str_list(record.get(key)))
    package = record.get("acknowledgement_audit_package")
    routes = package.get("routes") if isinstance(package, dict) else None
    for route in _dict_list(routes):
        name = _str_field(route, "provider")
        if name is not None:
            found.add(name)
    return sorted(name for name in found if name != "")


def status_of(record: Record) -> str | None:
    """Derived status: an acknowledgement's ``acknowledgement_state``; a connector
    delivery's ``delivered`` / ``delivery_failed``; every other kind's ``alert_level``."""
    kind = _kind(record)
    if kind == KIND_ACK:
        return _str_field(record, "acknowledgement_state")
    if kind == KIND_CONNECTOR:
        return "delivered" if _delivered(record) else "delivery_failed"
    return _str_field(record, "alert_level")


def has_outstanding_route(record: Record) -> bool:
    """An escalation plan with a route whose ``acknowledged`` is false, an audit package
    with a route whose ``acknowledgement_state`` is ``outstanding``, or an audit delivery
    plan whose ``outstanding_count`` is above 0."""
    kind = _kind(record)
    if kind == KIND_ESCALATION:
        plan = record.get("escalation_plan")
        routes = plan.get("routes") if isinstance(plan, dict) else None
        return any(route.get("acknowledged") is False for route in _dict_list(routes))
    if kind == KIND_AUDIT_PACKAGE:
        package = record.get("acknowledgement_audit_package")
        routes = package.get("routes") if isinstance(package, dict) else None
        return any(
            _str_field(route, "acknowledgement_state") == "outstanding"
            for route in _dict_list(routes)
        )
    if kind == KIND_AUDIT_DELIVERY_PLAN:
        count = record.get("outstanding_count")
        if isinstance(count, bool) or not isinstance(count, int | float):
            return False
        return count > 0
    return False


def category_of(provider: str) -> str | None:
    for category, members in CATEGORIES.items():
        if provider in members:
            return category
    return None


# ---------------------------------------------------------------------------
# Parameter parsing (422 cases)
# ---------------------------------------------------------------------------


def _param(params: Mapping[str, str], name: str) -> str | None:
    """The raw value, or None when absent or blank ("no filter")."""
    value = params.get(name)
    if value is None or _is_blank(value):
        return None
    return value


def parse_bool(value: str) -> bool:
    word = value.strip().lower()
    if word in TRUE_WORDS:
        return True
    if word in FALSE_WORDS:
        return False
    raise SpecError("delivery_success", f"not a boolean: {value!r}")


def normalise_acknowledgement_state(value: str) -> str:
    """Trimmed, lower-cased, ``-`` read as ``_``."""
    return value.strip().lower().replace("-", "_")


def parse_provider_category(value: str) -> str:
    category = value.strip().lower()
    if category not in CATEGORIES:
        raise SpecError("provider_category", f"unknown category: {value!r}")
    return category


_INTEGER = re.compile(r"[+-]?[0-9]+")


def _parse_int(name: str, value: str) -> int:
    text = value.strip()
    if not _INTEGER.fullmatch(text):
        raise SpecError(name, f"not an integer: {value!r}")
    return int(text)


def parse_limit(params: Mapping[str, str]) -> int:
    """Default 50; above 500 read as 500; below 0 or not an integer: 422."""
    raw = _param(params, "limit")
    if raw is None:
        return DEFAULT_LIMIT
    limit = _parse_int("limit", raw)
    if limit < 0:
        raise SpecError("limit", "below 0")
    return min(limit, MAX_LIMIT)


def parse_offset(params: Mapping[str, str]) -> int:
    """Default 0; below 0 or not an integer: 422."""
    raw = _param(params, "offset")
    if raw is None:
        return 0
    offset = _parse_int("offset", raw)
    if offset < 0:
        raise SpecError("offset", "below 0")
    return offset


def _parse_instant_param(params: Mapping[str, str], name: str) -> datetime | None:
    raw = _param(params, name)
    if raw is None:
        return None
    try:
        return parse_instant(raw.strip())
    except ValueError as exc:
        raise SpecError(name, str(exc)) from exc


class _Filters:
    """The §3 filters parsed from raw params (raises SpecError on a 422 value).

    Validation happens in SPEC table order, so with several bad values the
    first field in that order is the one reported.
    """

    def __init__(self, params: Mapping[str, str]) -> None:
        self.schedule_id = _param(params, "schedule_id")
        self.provider = _param(params, "provider")
        self.metadata_kind = _param(params, "metadata_kind")
        raw_state = _param(params, "acknowledgement_state")
        self.acknowledgement_state = (
            None if raw_state is None else normalise_acknowledgement_state(raw_state)
        )
        self.connector_delivery_source = _param(params, "connector_delivery_source")
        raw_success = _param(params, "delivery_success")
        self.delivery_success = None if raw_success is None else parse_bool(raw_success)
        self.alert_level = _param(params, "alert_level")
        self.audit_id = _param(params, "audit_id")
        self.delivery_id = _param(params, "delivery_id")
        self.cadence = _param(params, "cadence")
        self.state = _param(params, "state")
        raw_category = _param(params, "provider_category")
        self.provider_category = (
            None if raw_category is None else parse_provider_category(raw_category)
        )
        self.created_after = _parse_instant_param(params, "created_after")
        self.created_before = _parse_instant_param(params, "created_before")

    # One method per table row; each returns True when the record matches.

    def match_schedule_id(self, record: Record, value: str) -> bool:
        # its schedule_id, its event_id, or its nested plan.schedule_id equals the value
        return (
            _str_field(record, "schedule_id") == value
            or _str_field(record, "event_id") == value
            or _nested_str(record, "plan", "schedule_id") == value
        )

    def match_provider(self, record: Record, value: str) -> bool:
        # the value is its provider, or is in its selected_providers, providers or
        # failed_providers, or is the provider of one of its nested
        # acknowledgement_audit_package.routes[]
        if _str_field(record, "provider") == value:
            return True
        for key in ("selected_providers", "providers", "failed_providers"):
            if value in _str_list(record.get(key)):
                return True
        package = record.get("acknowledgement_audit_package")
        routes = package.get("routes") if isinstance(package, dict) else None
        return any(_str_field(route, "provider") == value for route in _dict_list(routes))

    def match_metadata_kind(self, record: Record, value: str) -> bool:
        return _kind(record) == value

    def match_acknowledgement_state(self, record: Record, value: str) -> bool:
        # its acknowledgement_state equals the normalised value (the record's is raw)
        return _str_field(record, "acknowledgement_state") == value

    def match_connector_delivery_source(self, record: Record, value: str) -> bool:
        # its connector_delivery_source equals the value; also, when the value is
        # go_backend_rollback_drill_acknowledgement_audit, every audit package and
        # audit delivery plan matches
        if _source(record) == value:
            return True
        return value == SOURCE_AUDIT and _kind(record) in (
            KIND_AUDIT_PACKAGE,
            KIND_AUDIT_DELIVERY_PLAN,
        )

    def match_delivery_success(self, record: Record, value: bool) -> bool:
        # a release-connector-delivery whose delivery_success (missing = false) equals
        # the value; any other kind never matches
        return _is_connector(record) and _delivered(record) == value

    def match_alert_level(self, record: Record, value: str) -> bool:
        return _str_field(record, "alert_level") == value

    def match_audit_id(self, record: Record, value: str) -> bool:
        return (
            _str_field(record, "audit_id") == value
            or _nested_str(record, "acknowledgement_audit_delivery_plan", "audit_id") == value
        )

    def match_delivery_id(self, record: Record, value: str) -> bool:
        return (
            _str_field(record, "delivery_id") == value
            or _str_field(record, "event_id") == value
            or _str_field(record, "session_id") == value
        )

    def match_cadence(self, record: Record, value: str) -> bool:
        return _nested_str(record, "acknowledgement_audit_delivery_plan", "cadence") == value

    def match_state(self, record: Record, value: str) -> bool:
        # its derived status equals the value, or the value is outstanding and the
        # record has an outstanding route
        if status_of(record) == value:
            return True
        return value == "outstanding" and has_outstanding_route(record)

    def match_provider_category(self, record: Record, value: str) -> bool:
        # one of its providers (the same set provider reads) is in that category
        return any(name in CATEGORIES[value] for name in providers_of(record))

    def match_created_after(self, record: Record, value: datetime) -> bool:
        # created_at >= created_after
        return created_at_of(record) >= value

    def match_created_before(self, record: Record, value: datetime) -> bool:
        # created_at < created_before
        return created_at_of(record) < value

    def matches(self, record: Record) -> bool:
        """Filters combine with AND; an absent (or blank) filter accepts every record."""
        checks: list[tuple[Any, Callable[[Record, Any], bool]]] = [
            (self.schedule_id, self.match_schedule_id),
            (self.provider, self.match_provider),
            (self.metadata_kind, self.match_metadata_kind),
            (self.acknowledgement_state, self.match_acknowledgement_state),
            (self.connector_delivery_source, self.match_connector_delivery_source),
            (self.delivery_success, self.match_delivery_success),
            (self.alert_level, self.match_alert_level),
            (self.audit_id, self.match_audit_id),
            (self.delivery_id, self.match_delivery_id),
            (self.cadence, self.match_cadence),
            (self.state, self.match_state),
            (self.provider_category, self.match_provider_category),
            (self.created_after, self.match_created_after),
            (self.created_before, self.match_created_before),
        ]
        return all(match(record, value) for value, match in checks if value is not None)


# ---------------------------------------------------------------------------
# §3 history
# ---------------------------------------------------------------------------


def matching(records: Iterable[Record], params: Mapping[str, str]) -> list[Record]:
    """Every history record matching the §3 filters, in history order, no paging.

    ``limit`` and ``offset`` are ignored entirely (not even validated): this is
    what the dashboard computes over.
    """
    filters = _Filters(params)
    return sort_history(r for r in records if in_history(r) and filters.matches(r))


def history(
    records: Iterable[Record], params: Mapping[str, str]
) -> tuple[list[Record], int, int, int]:
    """§3: ``(page, total, limit, offset)`` as REST answers; SpecError for a 422."""
    records = list(records)
    filters = _Filters(params)  # validate filters before paging fields
    limit = parse_limit(params)
    offset = parse_offset(params)
    matches = sort_history(r for r in records if in_history(r) and filters.matches(r))
    total = len(matches)
    page = matches[offset : offset + limit]
    return page, total, limit, offset


def page_after(
    records: Iterable[Record],
    params: Mapping[str, str],
    after: tuple[datetime, str],
    limit: int,
) -> tuple[list[Record], bool]:
    """§3 GraphQL keyset paging: the page starts right after the cursor's position
    ``after = (created_at instant, session_id)`` (whether or not that record still
    matches).  Returns ``(page, has_next_page)``; ``has_next_page`` is true when
    matches follow the page.  ``limit`` here is already parsed/clamped."""
    after_at, after_id = after
    following = [
        r
        for r in matching(records, params)
        if created_at_of(r) < after_at
        or (created_at_of(r) == after_at and r["session_id"] > after_id)
    ]
    return following[:limit], len(following) > limit


def history_answer(records: Iterable[Record], params: Mapping[str, str]) -> dict[str, Any]:
    """The whole REST history answer."""
    page, total, limit, offset = history(records, params)
    return {
        "schema_version": HISTORY_SCHEMA_VERSION,
        "product": PRODUCT,
        "items": page,
        "total": total,
        "limit": limit,
        "offset": offset,
    }


# ---------------------------------------------------------------------------
# §4 dashboard
# ---------------------------------------------------------------------------


def _round4(numerator: int, denominator: int) -> float | None:
    """numerator / denominator rounded to 4 decimals (half away from zero, computed
    exactly), or None when the denominator is 0."""
    if denominator == 0:
        return None
    scaled = Fraction(numerator, denominator) * 10_000
    whole = int(scaled)  # both operands are non-negative
    if scaled - whole >= Fraction(1, 2):
        whole += 1
    return whole / 10_000


def _schedule_key(plan_record: Record) -> str | None:
    """The record's ``schedule_id``, else its nested ``plan.schedule_id`` (strings only)."""
    return _str_field(plan_record, "schedule_id") or _nested_str(plan_record, "plan", "schedule_id")


def _required_providers(plan_record: Record) -> list[str]:
    """``acknowledgement_required_providers`` top-level, else nested ``plan.``; in order."""
    top = plan_record.get("acknowledgement_required_providers")
    if isinstance(top, list) and top:
        return [p for p in _str_list(top) if p]
    plan = plan_record.get("plan")
    nested = plan.get("acknowledgement_required_providers") if isinstance(plan, dict) else None
    return [p for p in _str_list(nested) if p]


def _plan_id(plan_record: Record) -> str | None:
    return _str_field(plan_record, "plan_id") or _nested_str(plan_record, "plan", "plan_id")


def outstanding_acknowledgements(matched: list[Record]) -> list[dict[str, str | None]]:
    """§4 Outstanding acknowledgements over an already filtered, history-ordered list."""
    # take, per schedule_id, the first notification plan in history order
    first_plans: list[tuple[str, Record]] = []
    seen_keys: set[str] = set()
    for record in matched:
        if _kind(record) != KIND_PLAN:
            continue
        key = _schedule_key(record)
        if key is None or key in seen_keys:
            continue
        seen_keys.add(key)
        first_plans.append((key, record))

    acks = [r for r in matched if _kind(r) == KIND_ACK]

    def acknowledged(schedule_id: str, provider: str) -> bool:
        # some acknowledgement for the same schedule_id and provider has state
        # acknowledged or resolved
        for ack in acks:
            if (
                _str_field(ack, "schedule_id") == schedule_id
                and _str_field(ack, "provider") == provider
                and _str_field(ack, "acknowledgement_state") in ("acknowledged", "resolved")
            ):
                return True
        return False

    entries: list[dict[str, str | None]] = []
    for key, plan_record in first_plans:  # plans in history order
        for provider in _required_providers(plan_record):  # then provider order
            if not acknowledged(key, provider):
                entries.append(
                    {"schedule_id": key, "provider": provider, "plan_id": _plan_id(plan_record)}
                )
    return entries


def _audit_deliveries(matched: list[Record]) -> list[Record]:
    return [r for r in matched if _is_connector(r) and _source(r) == SOURCE_AUDIT]


def dashboard_from_matches(matched: list[Record]) -> dict[str, Any]:
    """The REST dashboard (without ``generated_at``) over a filtered, ordered list."""
    plans = [r for r in matched if _kind(r) == KIND_PLAN]
    deliveries = [r for r in matched if _is_connector(r)]
    notification_deliveries = [r for r in deliveries if _source(r) == SOURCE_NOTIFICATION]
    failed_deliveries = [r for r in deliveries if not _delivered(r)]
    acks = [r for r in matched if _kind(r) == KIND_ACK]
    packages = [r for r in matched if _kind(r) == KIND_AUDIT_PACKAGE]
    delivery_plans = [r for r in matched if _kind(r) == KIND_AUDIT_DELIVERY_PLAN]
    audit_deliveries = _audit_deliveries(matched)
    failed_audit = [r for r in audit_deliveries if not _delivered(r)]
    succeeded_audit = [r for r in audit_deliveries if _delivered(r)]

    audit_providers: set[str] = set()
    for plan in delivery_plans:
        audit_providers.update(_str_list(plan.get("selected_providers")))
    for delivery in audit_deliveries:
        audit_providers.update(_str_list(delivery.get("providers")))
        audit_providers.update(_str_list(delivery.get("failed_providers")))
    audit_providers.discard("")

    outstanding = outstanding_acknowledgements(matched)
    alert_level = "critical" if failed_deliveries or outstanding else "healthy"

    return {
        "schema_version": DASHBOARD_SCHEMA_VERSION,
        "product": PRODUCT,
        "alert_level": alert_level,
        "plan_count": len(plans),
        "delivery_count": len(deliveries),
        "notification_delivery_count": len(notification_deliveries),
        "failed_delivery_count": len(failed_deliveries),
        "acknowledgement_count": len(acks),
        "acknowledgement_audit_package_count": len(packages),
        "acknowledgement_audit_delivery_plan_count": len(delivery_plans),
        "acknowledgement_audit_delivery_count": len(audit_deliveries),
        "failed_acknowledgement_audit_delivery_count": len(failed_audit),
        "acknowledgement_audit_delivery_success_count": len(succeeded_audit),
        "acknowledgement_audit_delivery_success_rate": _round4(
            len(succeeded_audit), len(audit_deliveries)
        ),
        "acknowledgement_audit_delivery_providers": sorted(audit_providers),
        "acknowledgement_audit_delivery_health": "critical" if failed_audit else "healthy",
        "outstanding_acknowledgement_count": len(outstanding),
        "outstanding_acknowledgements": outstanding[:OUTSTANDING_LIST_COUNT],
        "latest": matched[:LATEST_COUNT],
    }


def dashboard(records: Iterable[Record], params: Mapping[str, str]) -> dict[str, Any]:
    """§4 REST dashboard dict, SPEC field order, without ``generated_at``."""
    return dashboard_from_matches(matching(records, params))


# ---------------------------------------------------------------------------
# §4 GraphQL extras: per-provider / per-category audit delivery health
# ---------------------------------------------------------------------------


class _Attempt:
    __slots__ = ("at", "failed")

    def __init__(self, at: datetime, failed: bool) -> None:
        self.at = at
        self.failed = failed


def _attempts_by_provider(matched: list[Record]) -> dict[str, list[_Attempt]]:
    """Each audit-source connector delivery is one attempt for every provider in its
    providers ∪ failed_providers, a failure for those in failed_providers, a success
    for the rest.  Lists keep history order, so [0] is the provider's latest attempt."""
    attempts: dict[str, list[_Attempt]] = {}
    for delivery in _audit_deliveries(matched):
        at = created_at_of(delivery)
        failed = {name for name in _str_list(delivery.get("failed_providers")) if name}
        attempted = {name for name in _str_list(delivery.get("providers")) if name} | failed
        for name in sorted(attempted):
            attempts.setdefault(name, []).append(_Attempt(at, name in failed))
    return attempts


def _figures(attempts: list[_Attempt]) -> dict[str, Any]:
    failures = [a for a in attempts if a.failed]
    successes = [a for a in attempts if not a.failed]
    return {
        "attempts": len(attempts),
        "failures": len(failures),
        "successes": len(successes),
        "success_rate": _round4(len(successes), len(attempts)),
        "last_attempt_at": max((a.at for a in attempts), default=None),
        "last_success_at": max((a.at for a in successes), default=None),
        "last_failure_at": max((a.at for a in failures), default=None),
    }


def _status(attempts_per_provider: list[list[_Attempt]]) -> str:
    """UNKNOWN no attempts; HEALTHY no failures; CRITICAL some provider's latest attempt
    failed; DEGRADED failures but every provider's latest attempt succeeded."""
    if not any(attempts_per_provider):
        return UNKNOWN
    if not any(a.failed for attempts in attempts_per_provider for a in attempts):
        return HEALTHY
    if any(attempts and attempts[0].failed for attempts in attempts_per_provider):
        return CRITICAL
    return DEGRADED


def provider_health(
    records: Iterable[Record], params: Mapping[str, str]
) -> dict[str, dict[str, Any]]:
    """Per provider, sorted by name.  The providers listed are the dashboard's
    ``acknowledgement_audit_delivery_providers`` (so a provider only selected by an
    audit delivery plan and never attempted is UNKNOWN); every attempted provider is
    in that list."""
    matched = matching(records, params)
    attempts = _attempts_by_provider(matched)
    names = dashboard_from_matches(matched)["acknowledgement_audit_delivery_providers"]
    assert set(attempts) <= set(names)
    result: dict[str, dict[str, Any]] = {}
    for name in names:
        provider_attempts = attempts.get(name, [])
        result[name] = _figures(provider_attempts) | {"status": _status([provider_attempts])}
    return result


def category_health(
    records: Iterable[Record], params: Mapping[str, str]
) -> dict[str, dict[str, Any]]:
    """Keys siem, itsm, chatops, webhook: the figures summed over the category's
    providers (last_* = the latest), status over its providers."""
    attempts = _attempts_by_provider(matching(records, params))
    result: dict[str, dict[str, Any]] = {}
    for category, members in CATEGORIES.items():
        per_provider = [attempts.get(name, []) for name in members]
        pooled = [a for provider_attempts in per_provider for a in provider_attempts]
        result[category] = _figures(pooled) | {"status": _status(per_provider)}
    return result


def overall_health_status(records: Iterable[Record], params: Mapping[str, str]) -> str:
    """The same status over every provider, including providers in no category."""
    attempts = _attempts_by_provider(matching(records, params))
    return _status(list(attempts.values()))
