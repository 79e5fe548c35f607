"""The security boundary (SPEC §7): strip secrets from a record before it is stored or served."""

from __future__ import annotations

import ipaddress
import re
from functools import lru_cache
from typing import Any
from urllib.parse import urlsplit

REDACTED = "REDACTED"

_SECRET_KEYS = frozenset(
    {
        "password",
        "secret",
        "token",
        "api_key",
        "apikey",
        "client_secret",
        "access_token",
        "refresh_token",
        "private_key",
    }
)
_SECRET_HEADERS = frozenset({"authorization", "proxy-authorization", "cookie"})
_SECRET_HEADER_PARTS = ("token", "secret", "password", "key")
_BODY_KEYS = frozenset({"body", "data", "json", "payload"})
# Free text that urlsplit happens to accept as a host could carry anything, so a host must look
# like a name (IDN letters allowed) or an IPv6 literal, else the whole value is refused.
_HOST_NAME = re.compile(r"[\w.-]+")


def is_secret_key(name: str) -> bool:
    """True when a value stored under the key `name` must be redacted (§7, second rule)."""
    return name.lower() in _SECRET_KEYS


@lru_cache(maxsize=10_000)  # deliveries repeat a few header names
def is_secret_header(name: str) -> bool:
    """True when an HTTP header called `name` carries a credential (§7, first rule)."""
    lowered = name.strip().lower()
    return lowered in _SECRET_HEADERS or any(part in lowered for part in _SECRET_HEADER_PARTS)


def is_url_key(name: str) -> bool:
    """True when values under the key `name` are reduced to scheme, host and port."""
    lowered = name.lower()
    return lowered == "url" or lowered.endswith("_url")


def reduce_url(value: str) -> str:
    """Keep only scheme, host and port; anything that cannot be parsed that way is redacted."""
    if value == "":
        return value
    try:
        parts = urlsplit(value)
        host, port = parts.hostname, parts.port
    except ValueError:
        return REDACTED
    if not parts.scheme or not host or not _is_host(host):
        return REDACTED
    if ":" in host:
        host = f"[{host}]"
    return f"{parts.scheme}://{host}" + (f":{port}" if port is not None else "")


def _is_host(host: str) -> bool:
    if ":" not in host:
        return _HOST_NAME.fullmatch(host) is not None
    if "%" in host:
        return False  # an IPv6 zone id is free text
    try:
        ipaddress.IPv6Address(host)
    except ValueError:
        return False
    return True


_PLAIN, _SECRET, _URL = 0, 1, 2
_KEY_KINDS: dict[str, int] = {}


def _key_kind(key: object) -> int:
    """Classify a key once; records repeat the same few hundred keys millions of times."""
    if not isinstance(key, str):
        return _PLAIN
    kind = _KEY_KINDS.get(key)
    if kind is None:
        kind = _SECRET if is_secret_key(key) else _URL if is_url_key(key) else _PLAIN
        if len(_KEY_KINDS) < 100_000:
            _KEY_KINDS[key] = kind
    return kind


def _suffix_markers(names: frozenset[str]) -> tuple[bytes, ...]:
    """The ends of the keys `names` as they close in JSON text (`token"`), leaving out those
    another one already finds (`access_token"` ends in `token"`): each search scans the
    whole record, so fewer is faster."""
    ends = {f'{name}"'.encode() for name in names}
    return tuple(sorted(end for end in ends if not any(o != end and end.endswith(o) for o in ends)))


_MARKERS = (*_suffix_markers(_SECRET_KEYS), b'url"', b'"delivery"', b"\\u")


def may_need_redaction(raw: bytes) -> bool:
    """False only when the JSON text `raw` cannot hold anything §7 changes.

    Every key §7 acts on appears literally (in some case) in the text unless it is written
    with escapes, and a `\\u` escape anywhere sends the record through the full walk.
    """
    lowered = raw.lower()
    return any(marker in lowered for marker in _MARKERS)


def redact(record: dict[str, Any]) -> dict[str, Any]:
    """Return a new record with SPEC §7 applied; the input is not modified; key order is kept."""
    try:
        out = _clean(record, False)
    except RecursionError:
        out = _walk(record)  # deeper than the fast path's recursion allows
    if not isinstance(out, dict):
        return out  # type: ignore[no-any-return]  # callers may hand over non-records anyway
    delivery = out.get("delivery")
    deliveries = delivery.get("deliveries") if isinstance(delivery, dict) else None
    if not isinstance(deliveries, list) or not deliveries:
        return out
    # Unchanged parts are shared with the input, so copy the path down to each request
    # before changing it in place.
    out = dict(out)
    out["delivery"] = delivery = dict(delivery)  # type: ignore[arg-type]
    delivery["deliveries"] = deliveries = list(deliveries)
    for index, item in enumerate(deliveries):
        request = item.get("request") if isinstance(item, dict) else None
        if isinstance(request, dict):
            request = dict(request)
            if isinstance(request.get("headers"), dict | list):
                request["headers"] = type(request["headers"])(request["headers"])
            _redact_request(request)
            deliveries[index] = {**item, "request": request}
    return out


def _clean(value: Any, in_url: bool) -> Any:
    """The key rules, copying only what changes (recursive: the common, fast path)."""
    kind = type(value)
    if kind is dict:
        out: dict[Any, Any] | None = None
        for key, child in value.items():
            key_kind = _key_kind(key)
            if key_kind == _SECRET:
                new: Any = REDACTED
            elif type(child) in (dict, list, tuple) or (
                (in_url or key_kind == _URL) and type(child) is str
            ):
                new = _clean(child, in_url or key_kind == _URL)
            else:
                new = child
            if new is not child and out is None:
                out = dict(value)
            if out is not None:
                out[key] = new
        return value if out is None else out
    if kind is list or kind is tuple:
        items: list[Any] | None = None
        for index, child in enumerate(value):
            new = _clean(child, in_url)
            if (new is not child or kind is tuple) and items is None:
                items = list(value)
            if items is not None:
                items[index] = new
        return value if items is None else items
    if in_url and kind is str:
        return reduce_url(value)
    return value


def _walk(value: Any) -> Any:
    """Copy `value` applying the key rules; a work stack keeps any nesting depth safe."""
    root: list[Any] = [None]
    stack: list[tuple[Any, Any, Any, bool]] = [(value, root, 0, False)]
    while stack:
        src, parent, slot, in_url = stack.pop()
        if isinstance(src, dict):
            copy: dict[Any, Any] = {}
            parent[slot] = copy
            for key, child in src.items():
                named = isinstance(key, str)
                if named and is_secret_key(key):
                    copy[key] = REDACTED
                    continue
                copy[key] = None  # holds the key's place so order survives the stack
                stack.append((child, copy, key, in_url or (named and is_url_key(key))))
        elif isinstance(src, list | tuple):
            items: list[Any] = [None] * len(src)
            parent[slot] = items
            stack.extend((child, items, i, in_url) for i, child in enumerate(src))
        elif in_url and isinstance(src, str):
            parent[slot] = reduce_url(src)
        else:
            parent[slot] = src
    return root[0]


def _redact_request(request: dict[str, Any]) -> None:
    """Drop bodies and redact credential headers in an already copied connector request."""
    for key in [k for k in request if isinstance(k, str) and k.lower() in _BODY_KEYS]:
        del request[key]
    headers = request.get("headers")
    if isinstance(headers, dict):
        for name in headers:
            if isinstance(name, str) and is_secret_header(name):
                headers[name] = REDACTED
    elif isinstance(headers, list):
        for i, header in enumerate(headers):
            headers[i] = _redact_header_entry(header)
    elif isinstance(headers, str) and headers:
        # A raw header block cannot be split into names reliably, so none of it is trusted.
        request["headers"] = REDACTED


def _redact_header_entry(header: Any) -> Any:
    """Redact one entry of a header list: a [name, value] pair or a {name, value} object."""
    if isinstance(header, list) and header and _secret_name(header[0]):
        # Everything after the name is the value, however many parts it arrived in.
        return [header[0]] + [REDACTED] * (len(header) - 1)
    if isinstance(header, dict) and _secret_name(header.get("name")):
        return {k: v if k == "name" else REDACTED for k, v in header.items()}
    if isinstance(header, str) and header:
        return REDACTED
    return header


def _secret_name(name: Any) -> bool:
    return isinstance(name, str) and is_secret_header(name)
