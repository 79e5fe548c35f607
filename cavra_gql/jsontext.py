"""Strict, fast JSON: only finite numbers, integers kept exact, clear reasons for refusals."""

from __future__ import annotations

import json
import math
import re
import sys
from itertools import accumulate
from typing import Any

import orjson

# Records nest about six levels deep; deeper text is refused before any parser sees it, as
# orjson 3.8 overflows the C stack on tens of thousands of nested objects, and the recursive
# code that serializes answers must never meet a record it cannot walk.
MAX_DEPTH = 100
# A document (CAVRA's store, a JSON array) is read whole before its records are told apart,
# so its own limit is looser: each record in it is then held to MAX_DEPTH, and named.
DOCUMENT_DEPTH = 500


def nested_too_deeply(limit: int) -> str:
    return f"nested too deeply (more than {limit} levels)"


TOO_DEEP = nested_too_deeply(MAX_DEPTH)

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


_ESCAPE = re.compile(rb"\\.", re.DOTALL)
_NOT_QUOTES_OR_BRACKETS = bytes(set(range(256)) - set(b'"[]{}'))
_STEP = {ord("["): 1, ord("{"): 1, ord("]"): -1, ord("}"): -1}


def too_deep(text: str | bytes, limit: int = MAX_DEPTH) -> bool:
    """Whether JSON text nests arrays and objects more than `limit` levels deep."""
    raw = text.encode("utf-8", "surrogatepass") if isinstance(text, str) else text
    if raw.count(b"{") + raw.count(b"[") <= limit:
        return False  # the common case: too few brackets to be that deep
    if b"\\" in raw:
        raw = _ESCAPE.sub(b"", raw)
    # Brackets outside strings: quotes and brackets kept (C-speed translate), then every other
    # run between quotes dropped. (Removing each string by a regular expression took 11 s
    # for a 240 MB store; this takes under 2.) A last unterminated string's brackets count.
    runs = raw.translate(None, _NOT_QUOTES_OR_BRACKETS).split(b'"')
    outside = runs[::2] + runs[-1:] if len(runs) % 2 == 0 else runs[::2]
    brackets = b"".join(outside)
    return max(accumulate(_STEP[b] for b in brackets), default=0) > limit


_CONSTANT = re.compile(rb"-?(?:NaN|Infinity)")


def loads(text: str | bytes, *, limit: int = MAX_DEPTH) -> Any:
    """Parse JSON text; raise ValueError with a short reason (position included) otherwise.

    Text nesting more than `limit` levels deep is refused before any parser sees it (each
    has a limit of its own, or none).
    """
    raw = text.encode("utf-8", "surrogatepass") if isinstance(text, str) else text
    if too_deep(raw, limit):
        raise ValueError(nested_too_deeply(limit))
    if not _has_long_digit_run(raw):
        try:
            return orjson.loads(raw)
        except orjson.JSONDecodeError as error:
            reason = str(error).replace("number is infinity when parsed as double", _RANGE)
            start = max(error.pos - 1, 0)  # a minus sign is read before the refusal
            constant = _CONSTANT.match(raw, start) or _CONSTANT.match(raw, error.pos)
            if constant:
                reason += f"; {constant.group().decode()} is not a JSON number"
            raise ValueError(f"not JSON: {reason}") from None
    return _exact_loads(raw.decode("utf-8"))


def _exact_loads(text: str) -> Any:
    try:
        return json.loads(text, parse_float=_finite_float, parse_constant=_no_constants)
    except json.JSONDecodeError as error:
        where = f"line {error.lineno} column {error.colno}"
        raise ValueError(f"not JSON: {error.msg} at {where}") from None
    except RecursionError:
        raise ValueError(f"not JSON: {TOO_DEEP}") from None
    except ValueError as error:
        if "integer string conversion" in str(error):
            raise ValueError(f"not JSON: {_long_integer(text)}") from None
        raise ValueError(f"not JSON: {error}") from None


def _long_integer(text: str) -> str:
    """Where the first integer too long for Python's int-str limit stands, and its size."""
    limit = sys.get_int_max_str_digits()
    found = re.search(rf"\d{{{limit + 1},}}", text)
    if found is None:  # cannot happen: the limit only refuses such runs
        return f"an integer of more than {limit} digits"
    line = text.count("\n", 0, found.start()) + 1
    column = found.start() - text.rfind("\n", 0, found.start())
    digits = len(found.group())
    return (
        f"an integer of {digits} digits at line {line} column {column} (at most {limit} are read)"
    )


def dumps(value: Any) -> str:
    """Serialize as compact JSON text, keeping key order."""
    try:
        return orjson.dumps(value).decode("utf-8")
    except TypeError:
        pass  # integers beyond 64 bits, lone surrogates, or very deep nesting
    try:
        return json.dumps(value, separators=(",", ":"))
    except RecursionError:
        raise ValueError(TOO_DEEP) from None
