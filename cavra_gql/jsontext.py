"""Strict, fast JSON: only finite numbers, integers kept exact, clear reasons for refusals."""

from __future__ import annotations

import json
import math
from typing import Any

import orjson

# orjson reads integers beyond 64 bits as floats; text with a long digit run goes through the
# standard parser instead, which keeps every integer exact. (translate + find is a C-speed
# scan, several times faster than a regular expression here.)
_DIGITS_AS_ZERO = bytes.maketrans(b"123456789", b"000000000")
_LONG_RUN = b"0" * 18


def _has_long_digit_run(raw: bytes) -> bool:
    return _LONG_RUN in raw.translate(_DIGITS_AS_ZERO)


_RANGE = "number out of range"


def _finite_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise ValueError(f"{_RANGE}: {text[:40]}")
    return value


def _no_constants(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")


def loads(text: str | bytes) -> Any:
    """Parse JSON text; raise ValueError with a short reason (position included) otherwise."""
    raw = text.encode("utf-8", "surrogatepass") if isinstance(text, str) else text
    if not _has_long_digit_run(raw):
        try:
            return orjson.loads(raw)
        except orjson.JSONDecodeError as error:
            reason = str(error).replace("number is infinity when parsed as double", _RANGE)
            raise ValueError(f"not JSON: {reason}") from None
    return _exact_loads(raw.decode("utf-8"))


def _exact_loads(text: str) -> Any:
    try:
        return json.loads(text, parse_float=_finite_float, parse_constant=_no_constants)
    except json.JSONDecodeError as error:
        where = f"line {error.lineno} column {error.colno}"
        raise ValueError(f"not JSON: {error.msg} at {where}") from None
    except RecursionError:
        raise ValueError("not JSON: nested too deeply") from None
    except ValueError as error:
        raise ValueError(f"not JSON: {error}") from None


def dumps(value: Any) -> str:
    """Serialize as compact JSON text, keeping key order."""
    try:
        return orjson.dumps(value).decode("utf-8")
    except TypeError:
        pass  # integers beyond 64 bits, lone surrogates, or very deep nesting
    try:
        return json.dumps(value, separators=(",", ":"))
    except RecursionError:
        raise ValueError("nested too deeply") from None
