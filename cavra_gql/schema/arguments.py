"""The history filter arguments, declared once and shared by every field that filters."""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Annotated, Any

import strawberry
from strawberry.utils.str_converters import to_camel_case

from cavra_gql.queries.filters import HistoryFilter

_FILTER_DOCS: dict[str, tuple[Any, str]] = {
    "schedule_id": (
        str,
        "Records whose `schedule_id`, `event_id` or nested `plan.schedule_id` equals this.",
    ),
    "provider": (
        str,
        "Records naming this provider (`provider`, `selected_providers`, `providers`, "
        "`failed_providers` or an audit package route's provider).",
    ),
    "metadata_kind": (str, "Records of this kind."),
    "acknowledgement_state": (
        str,
        "Acknowledgements in this state (trimmed, lower-cased, `-` read as `_`).",
    ),
    "connector_delivery_source": (
        str,
        "Connector deliveries of this source; `go_backend_rollback_drill_acknowledgement_audit` "
        "also matches every audit package and audit delivery plan.",
    ),
    "delivery_success": (bool, "Connector deliveries that succeeded (true) or failed (false)."),
    "alert_level": (str, "Records whose top-level `alert_level` equals this."),
    "audit_id": (
        str,
        "Records whose `audit_id` or nested delivery plan `audit_id` equals this.",
    ),
    "delivery_id": (str, "Records whose `delivery_id`, `event_id` or `session_id` equals this."),
    "cadence": (str, "Audit delivery plans with this cadence (`hourly`, `daily`, ...)."),
    "state": (
        str,
        "Records whose derived status equals this (`delivered`, `delivery_failed`, "
        "`acknowledged`, `critical`, ...); `outstanding` also matches records with a route "
        "awaiting acknowledgement.",
    ),
    "provider_category": (
        str,
        "Records naming a provider of this category: `siem`, `itsm`, `chatops` or `webhook` "
        "(case-insensitive).",
    ),
    "created_after": (
        str,
        "Records created at or after this ISO-8601 date-time (UTC if no offset).",
    ),
    "created_before": (str, "Records created before this ISO-8601 date-time (UTC if no offset)."),
}

_PAGING_DOCS: dict[str, tuple[Any, Any, str]] = {
    "limit": (int, 50, "Page size, 0 to 500 (larger values read as 500)."),
    "offset": (int, 0, "Matches to skip; cannot be combined with `after`."),
    "after": (str, None, "Start right after the record of this cursor (`pageInfo.endCursor`)."),
}


def _parameter(name: str, kind: Any, default: Any, description: str) -> inspect.Parameter:
    annotation = Annotated[kind | None, strawberry.argument(description=description)]
    return inspect.Parameter(
        name, inspect.Parameter.KEYWORD_ONLY, default=default, annotation=annotation
    )


FILTER_PARAMETERS = [
    _parameter(name, kind, None, doc) for name, (kind, doc) in _FILTER_DOCS.items()
]
PAGING_PARAMETERS = [_parameter(name, *spec) for name, spec in _PAGING_DOCS.items()]


def with_arguments(*groups: list[inspect.Parameter]) -> Callable[[Any], Any]:
    """Give a `(info, **values)` resolver the keyword arguments of `groups` in its signature."""

    def decorate(resolver: Any) -> Any:
        own = [
            parameter
            for parameter in inspect.signature(resolver).parameters.values()
            if parameter.kind is not inspect.Parameter.VAR_KEYWORD
        ]
        extra = [parameter for group in groups for parameter in group]
        resolver.__signature__ = inspect.signature(resolver).replace(parameters=own + extra)
        return resolver

    return decorate


def history_filter(values: dict[str, Any]) -> HistoryFilter:
    """The shared filter from GraphQL argument values (BadInput names the camelCase argument)."""
    raw = {
        name: _as_text(values.get(name)) for name in _FILTER_DOCS if values.get(name) is not None
    }
    return HistoryFilter.parse(raw, label=to_camel_case)


def _as_text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)
