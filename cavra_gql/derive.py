"""The columns filters and aggregates read, derived once from a record when it is stored."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, NamedTuple

from cavra_gql import jsontext, kinds


class ProviderRole(NamedTuple):
    """How one provider takes part in a record."""

    provider: str
    selected: bool
    attempted: bool
    failed: bool


# The stored columns, in the order derive() fills a row (tuples cross process boundaries and
# reach the database driver far cheaper than dictionaries).
HISTORY_COLUMNS: tuple[str, ...] = (
    "session_id",
    "metadata_kind",
    "created_us",
    "status",
    "has_outstanding",
    "schedule_id",
    "event_id",
    "nested_schedule_id",
    "provider",
    "acknowledgement_state",
    "connector_delivery_source",
    "delivery_success",
    "alert_level",
    "audit_id",
    "nested_audit_id",
    "delivery_id",
    "cadence",
    "route_schedule_key",
    "route_plan_id",
    "category_mask",
    "provider_mask",
    "providers_json",
    "record_json",
)
OTHER_COLUMNS: tuple[str, ...] = ("session_id", "metadata_kind", "created_us", "record_json")
PROVIDER_COLUMNS: tuple[str, ...] = ("session_id", "provider", "selected", "attempted", "failed")
ROUTE_COLUMNS: tuple[str, ...] = ("session_id", "position", "provider")
# Where a row holds what the summaries group by.
COLUMN = {name: index for index, name in enumerate(HISTORY_COLUMNS)}


class Derived(NamedTuple):
    """A record's stored row (HISTORY_COLUMNS, or OTHER_COLUMNS outside the history), its
    provider set and, for notification plans, its required routes."""

    in_history: bool
    row: tuple[Any, ...]
    providers: tuple[ProviderRole, ...]
    required: tuple[str, ...]


# Longer values, or values with NUL characters, are kept in the record but not indexed: no
# index (and no PostgreSQL text column) takes them, so filters never match them.
MAX_INDEXED_LENGTH = 1000


def indexable(value: str) -> bool:
    return len(value) <= MAX_INDEXED_LENGTH and "\x00" not in value


def text(value: object) -> str | None:
    """A string field's value as filters read it; any other type reads as absent."""
    return value if isinstance(value, str) and indexable(value) else None


def nested(record: Mapping[str, Any], key: str) -> Mapping[str, Any]:
    """A nested object, or an empty one when it is missing or not an object."""
    value = record.get(key)
    return value if isinstance(value, Mapping) else {}


def strings(value: object) -> list[str]:
    """The non-empty string items of a list field (anything else reads as none)."""
    if not isinstance(value, list):
        return []
    return [item for item in value if isinstance(item, str) and item and indexable(item)]


def dicts(value: object) -> list[Mapping[str, Any]]:
    """The object items of a list field."""
    if not isinstance(value, list):
        return []
    return [item for item in value if isinstance(item, Mapping)]


def provider_roles(record: Mapping[str, Any]) -> tuple[ProviderRole, ...]:
    """The provider set SPEC §3's `provider` filter reads, sorted, with each one's role."""
    selected = set(strings(record.get("selected_providers")))
    attempted = set(strings(record.get("providers")))
    failed = set(strings(record.get("failed_providers")))
    others = set(strings([record.get("provider")]))
    routes = dicts(nested(record, "acknowledgement_audit_package").get("routes"))
    others.update(strings([route.get("provider") for route in routes]))
    every = selected | attempted | failed | others
    return tuple(
        ProviderRole(name, name in selected, name in attempted or name in failed, name in failed)
        for name in sorted(every)
    )


def status_of(record: Mapping[str, Any]) -> str | None:
    """SPEC §3's derived status."""
    kind = record.get("metadata_kind")
    if kind == kinds.ACKNOWLEDGEMENT:
        return text(record.get("acknowledgement_state"))
    if kind == kinds.CONNECTOR_DELIVERY:
        return "delivered" if record.get("delivery_success") is True else "delivery_failed"
    return text(record.get("alert_level"))


def has_outstanding_route(record: Mapping[str, Any]) -> bool:
    """Whether the record has a route still waiting for acknowledgement (SPEC §3)."""
    kind = record.get("metadata_kind")
    if kind == kinds.ESCALATION_PLAN:
        routes = dicts(nested(record, "escalation_plan").get("routes"))
        return any(route.get("acknowledged") is False for route in routes)
    if kind == kinds.AUDIT_PACKAGE:
        routes = dicts(nested(record, "acknowledgement_audit_package").get("routes"))
        return any(route.get("acknowledgement_state") == "outstanding" for route in routes)
    if kind == kinds.AUDIT_DELIVERY_PLAN:
        count = record.get("outstanding_count")
        return isinstance(count, int | float) and not isinstance(count, bool) and count > 0
    return False


def required_providers(record: Mapping[str, Any]) -> tuple[str, ...]:
    """A notification plan's acknowledgement-required providers, top-level else nested."""
    if record.get("metadata_kind") != kinds.NOTIFICATION_PLAN:
        return ()
    top = record.get("acknowledgement_required_providers")
    if not (isinstance(top, list) and top):
        top = nested(record, "plan").get("acknowledgement_required_providers")
    return tuple(strings(top))


def masks(names: Iterable[str]) -> tuple[int, int]:
    """The category bits and known-provider bits (kinds.*_BITS) of these providers."""
    categories = providers = 0
    for name in names:
        category = kinds.CATEGORY_OF_PROVIDER.get(name)
        if category is not None:
            categories |= kinds.CATEGORY_BITS[category]
            providers |= kinds.PROVIDER_BITS[name]
    return categories, providers


def derive(record: Mapping[str, Any], created_us: int, record_json: str) -> Derived:
    """Everything stored for one validated, redacted record."""
    kind = record["metadata_kind"]
    source = text(record.get("connector_delivery_source"))
    session_id = record["session_id"]
    if not kinds.in_history(kind, source):
        return Derived(False, (session_id, kind, created_us, record_json), (), ())
    plan = nested(record, "plan")
    audit_plan = nested(record, "acknowledgement_audit_delivery_plan")
    is_plan = kind == kinds.NOTIFICATION_PLAN
    roles = provider_roles(record)
    category_mask, provider_mask = masks(role.provider for role in roles)
    schedule_id = text(record.get("schedule_id"))
    row = (
        session_id,
        kind,
        created_us,
        status_of(record),
        has_outstanding_route(record),
        schedule_id,
        text(record.get("event_id")),
        text(plan.get("schedule_id")),
        text(record.get("provider")),
        text(record.get("acknowledgement_state")),
        source,
        record.get("delivery_success") is True if kind == kinds.CONNECTOR_DELIVERY else None,
        text(record.get("alert_level")),
        text(record.get("audit_id")),
        text(audit_plan.get("audit_id")),
        text(record.get("delivery_id")),
        text(audit_plan.get("cadence")),
        schedule_id or text(plan.get("schedule_id")) if is_plan else None,
        text(record.get("plan_id")) or text(plan.get("plan_id")) if is_plan else None,
        category_mask,
        provider_mask,
        jsontext.dumps([role.provider for role in roles]),
        record_json,
    )
    return Derived(True, row, roles, required_providers(record))
