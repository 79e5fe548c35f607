"""Strict JSON reading: only finite numbers, clear reasons for every refusal."""

from __future__ import annotations

import json
import math
from typing import Any


def _finite_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise ValueError(f"number out of range: {text[:40]}")
    return value


def _no_constants(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")


def loads(text: str) -> Any:
    """Parse JSON text; raise ValueError with a short reason (position included) otherwise."""
    try:
        return json.loads(text, parse_float=_finite_float, parse_constant=_no_constants)
    except json.JSONDecodeError as error:
        raise ValueError(
            f"not JSON: {error.msg} at line {error.lineno} column {error.colno}"
        ) from None
    except RecursionError:
        raise ValueError("not JSON: nested too deeply") from None
    except ValueError as error:
        raise ValueError(f"not JSON: {error}") from None


def dumps(value: Any) -> str:
    """Serialize as compact UTF-8 JSON text, keeping key order."""
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))
