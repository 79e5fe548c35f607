"""The one definition of SPEC §3's history filters, shared by GraphQL, REST and the dashboard."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, fields
from typing import Any

from sqlalchemy import ColumnElement, FromClause, and_, false, or_, select, true

from cavra_gql import kinds
from cavra_gql.errors import BadInput
from cavra_gql.instants import parse_instant
from cavra_gql.queries.tables import providers, records

TRUE_WORDS = frozenset({"true", "1", "yes", "on", "t", "y"})
FALSE_WORDS = frozenset({"false", "0", "no", "off", "f", "n"})
DEFAULT_LIMIT = 50
MAX_LIMIT = 500
_INTEGER = re.compile(r"[+-]?[0-9]+")

# REST parameter names, in SPEC order; GraphQL arguments are their camelCase forms.
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

Label = Callable[[str], str]


def _same(name: str) -> str:
    return name


def blank(value: str | None) -> bool:
    """SPEC §3: an empty or all-blank value means no filter (or the default)."""
    return value is None or not value.strip()


def refuse_nul(value: str, field: str) -> None:
    """No stored value holds NUL (such values are never indexed), and PostgreSQL refuses it
    in a parameter: say so rather than fail in the driver."""
    if "\x00" in value:
        raise BadInput(field, "must not contain NUL characters")


def parse_bool(value: str, field: str) -> bool:
    word = value.strip().lower()
    if word in TRUE_WORDS:
        return True
    if word in FALSE_WORDS:
        return False
    raise BadInput(field, f"expected true/false, 1/0, yes/no, on/off, t/f or y/n, got {value!r}")


SATURATED = 10**18


def abbreviated(text: str, keep: int = 40) -> str:
    return text if len(text) <= keep else f"{text[:keep]}... ({len(text)} characters)"


def parse_count(value: str | None, field: str, default: int) -> int:
    """A limit or offset: a whole number >= 0; blank means the default."""
    if value is None or blank(value):
        return default
    text = value.strip()
    if not _INTEGER.fullmatch(text):
        raise BadInput(field, f"expected a whole number >= 0, got {value!r}")
    if text.startswith("-") and text.strip("-0"):
        raise BadInput(field, f"must be >= 0, got {abbreviated(text)}")
    digits = text.lstrip("+-").lstrip("0")
    # Saturate rather than convert a huge number (Python refuses over 4,300 digits, and no
    # database takes more than 64 bits): the limit is capped anyway, an offset past every
    # record finds none.
    number = SATURATED if len(digits) > 18 else int(text)
    if number < 0:
        raise BadInput(field, f"must be >= 0, got {number}")
    return number


def parse_limit(value: str | None, label: Label = _same) -> int:
    """SPEC §3's limit: default 50, capped at 500."""
    return min(parse_count(value, label("limit"), DEFAULT_LIMIT), MAX_LIMIT)


def parse_offset(value: str | None, label: Label = _same) -> int:
    return parse_count(value, label("offset"), 0)


@dataclass(frozen=True, kw_only=True, slots=True)
class HistoryFilter:
    """Parsed, normalised filter values; None means "no filter"."""

    schedule_id: str | None = None
    provider: str | None = None
    metadata_kind: str | None = None
    acknowledgement_state: str | None = None
    connector_delivery_source: str | None = None
    delivery_success: bool | None = None
    alert_level: str | None = None
    audit_id: str | None = None
    delivery_id: str | None = None
    cadence: str | None = None
    state: str | None = None
    provider_category: str | None = None
    created_after: int | None = None  # microseconds since the epoch
    created_before: int | None = None

    @classmethod
    def parse(cls, values: Mapping[str, str | None], label: Label = _same) -> HistoryFilter:
        """Read raw values keyed by REST name; bad ones raise BadInput naming `label(field)`."""
        parsed: dict[str, Any] = {}
        for name in FILTER_FIELDS:
            raw = values.get(name)
            if raw is None or blank(raw):
                continue
            parsed[name] = _parse_one(name, raw, label(name))
        return cls(**parsed)

    def fields_set(self) -> frozenset[str]:
        """The names of the filters in force."""
        return frozenset(item.name for item in fields(self) if getattr(self, item.name) is not None)

    def conditions(
        self, table: FromClause = records, *, per_provider: bool = False, time: bool = True
    ) -> list[ColumnElement[bool]]:
        """SQL conditions (AND-ed) selecting the matching history rows of `table`.

        `table` is the records table (or an alias) or a summary table with the same column
        names; `per_provider` says its rows are per provider (a `provider` column naming one
        member of the record's provider set); `time=False` leaves the created range out.
        Only history records are in these tables, so no condition selects the history itself.
        """
        c = table.c
        found: list[ColumnElement[bool]] = []
        if self.schedule_id is not None:
            v = self.schedule_id
            found.append(or_(c.schedule_id == v, c.event_id == v, c.nested_schedule_id == v))
        if self.provider is not None:
            bit = kinds.PROVIDER_BITS.get(self.provider)
            if per_provider:
                found.append(c.provider == self.provider)
            elif bit is not None:
                found.append(c.provider_mask.op("&")(bit) != 0)
            else:
                found.append(_has_provider(table, self.provider))
        if self.provider_category is not None:
            bit = kinds.CATEGORY_BITS[self.provider_category]
            found.append(c.category_mask.op("&")(bit) != 0)
        if self.metadata_kind is not None:
            found.append(c.metadata_kind == self.metadata_kind)
        if self.acknowledgement_state is not None:
            found.append(c.acknowledgement_state == self.acknowledgement_state)
        if self.connector_delivery_source is not None:
            found.append(_source_condition(table, self.connector_delivery_source))
        if self.delivery_success is not None:
            found.append(
                and_(
                    c.metadata_kind == kinds.CONNECTOR_DELIVERY,
                    c.delivery_success == (true() if self.delivery_success else false()),
                )
            )
        if self.alert_level is not None:
            found.append(c.alert_level == self.alert_level)
        if self.cadence is not None:
            found.append(c.cadence == self.cadence)
        if self.audit_id is not None:
            found.append(or_(c.audit_id == self.audit_id, c.nested_audit_id == self.audit_id))
        if self.delivery_id is not None:
            v = self.delivery_id
            found.append(or_(c.delivery_id == v, c.event_id == v, c.session_id == v))
        if self.state is not None:
            found.append(_state_condition(table, self.state))
        if time and self.created_after is not None:
            found.append(c.created_us >= self.created_after)
        if time and self.created_before is not None:
            found.append(c.created_us < self.created_before)
        return found


def _parse_one(name: str, raw: str, field: str) -> Any:
    refuse_nul(raw, field)
    if name == "acknowledgement_state":
        return raw.strip().lower().replace("-", "_")
    if name == "delivery_success":
        return parse_bool(raw, field)
    if name == "provider_category":
        category = raw.strip().lower()
        if category not in kinds.PROVIDER_CATEGORIES:
            choices = ", ".join(kinds.PROVIDER_CATEGORIES)
            raise BadInput(field, f"expected one of {choices}, got {raw!r}")
        return category
    if name in ("created_after", "created_before"):
        try:
            return parse_instant(raw)
        except ValueError as error:
            raise BadInput(field, str(error)) from None
    return raw


def _has_provider(table: FromClause, provider: str) -> ColumnElement[bool]:
    # A fresh alias keeps the subquery from correlating with a providers join around it.
    inner = providers.alias()
    return table.c.session_id.in_(select(inner.c.session_id).where(inner.c.provider == provider))


def _source_condition(table: FromClause, source: str) -> ColumnElement[bool]:
    c = table.c
    if source == kinds.AUDIT_SOURCE:
        return or_(
            c.connector_delivery_source == source, c.metadata_kind.in_(kinds.AUDIT_SOURCE_KINDS)
        )
    return c.connector_delivery_source == source


def _state_condition(table: FromClause, state: str) -> ColumnElement[bool]:
    if state == "outstanding":
        return or_(table.c.status == state, table.c.has_outstanding == true())
    return table.c.status == state
