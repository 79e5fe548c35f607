"""Typed GraphQL objects read lazily from stored JSON, tolerant of wrongly typed fields.

Stored records are kept as received, so a field can hold any JSON type. Instead of copying
each record into dataclasses, an object is a `View` over its JSON; the schema's default
resolver reads a field from it and coerces the value to the field's declared type, or to
null when it does not fit, so one odd record never fails a whole answer.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

from strawberry.types.base import (
    StrawberryList,
    StrawberryOptional,
    get_object_definition,
)

from cavra_gql.queries.history import RecordRow

Coerce = Callable[[Any], Any]


class View:
    """A GraphQL object of type `cls` read from the JSON object `data`."""

    __slots__ = ("cls", "data")

    def __init__(self, data: Mapping[str, Any], cls: type) -> None:
        self.data = data
        self.cls = cls

    def get(self, name: str) -> Any:
        key, coerce = _plan(self.cls)[name]
        return coerce(self.data.get(key))


class RecordView(View):
    """A whole stored record: interface fields come from its row, the rest from its JSON."""

    __slots__ = ("row",)

    def __init__(self, row: RecordRow, cls: type) -> None:
        super().__init__(row.record, cls)
        self.row = row

    def get(self, name: str) -> Any:
        if name in ROW_FIELDS:
            return ROW_FIELDS[name](self.row)
        return super().get(name)


ROW_FIELDS: dict[str, Callable[[RecordRow], Any]] = {
    "id": lambda row: row.session_id,
    "session_id": lambda row: row.session_id,
    "metadata_kind": lambda row: row.metadata_kind,
    "created_at": lambda row: row.created_at,
    "status": lambda row: row.status,
    "providers": lambda row: row.providers,
    "record": lambda row: row.record,
}


def default_resolver(source: Any, name: str) -> Any:
    """The schema's resolver for fields without one of their own."""
    if isinstance(source, View):
        return source.get(name)
    return getattr(source, name)


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def _integer(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int) and -(2**31) <= value < 2**31:
        return value
    return None


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value)


def _boolean(value: Any) -> bool | None:
    return value if isinstance(value, bool) else None


def _as_is(value: Any) -> Any:
    return value


def _instant(value: Any) -> datetime | None:
    return value if isinstance(value, datetime) else None


_SCALARS: dict[Any, Coerce] = {
    str: _text,
    int: _integer,
    float: _number,
    bool: _boolean,
    datetime: _instant,
}


def _coercer(field_type: Any) -> Coerce:
    if isinstance(field_type, StrawberryOptional):
        return _coercer(field_type.of_type)
    if isinstance(field_type, StrawberryList):
        item = _coercer(field_type.of_type)
        keep_nulls = isinstance(field_type.of_type, StrawberryOptional)

        def each(value: Any) -> list[Any] | None:
            if not isinstance(value, list):
                return None
            coerced = [item(entry) for entry in value]
            # Items of a non-null item type that do not fit are left out, not nulled.
            return coerced if keep_nulls else [entry for entry in coerced if entry is not None]

        return each
    if field_type in _SCALARS:
        return _SCALARS[field_type]
    if get_object_definition(field_type) is not None:

        def view(value: Any) -> View | None:
            return View(value, field_type) if isinstance(value, Mapping) else None

        return view
    return _as_is  # JSON and other scalars: the stored value itself


_PLANS: dict[type, dict[str, tuple[str, Coerce]]] = {}


def _plan(cls: type) -> dict[str, tuple[str, Coerce]]:
    """Per field of `cls`: the JSON key it reads and how its value is coerced."""
    plan = _PLANS.get(cls)
    if plan is None:
        definition = get_object_definition(cls, strict=True)
        plan = {
            field.python_name: (field.metadata.get("key", field.python_name), _coercer(field.type))
            for field in definition.fields
        }
        _PLANS[cls] = plan
    return plan
