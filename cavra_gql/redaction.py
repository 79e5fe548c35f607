"""The security boundary (SPEC §7): strip secrets from a record before it is stored or served."""

from __future__ import annotations

import ipaddress
import re
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


def redact(record: dict[str, Any]) -> dict[str, Any]:
    """Return a new record with SPEC §7 applied; the input is not modified; key order is kept."""
    out = _walk(record)
    if not isinstance(out, dict):
        return out  # type: ignore[no-any-return]  # callers may hand over non-records anyway
    delivery = out.get("delivery")
    deliveries = delivery.get("deliveries") if isinstance(delivery, dict) else None
    for item in deliveries if isinstance(deliveries, list) else ():
        request = item.get("request") if isinstance(item, dict) else None
        if isinstance(request, dict):
            _redact_request(request)
    return out


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
