"""Tests for the SPEC §7 security boundary in cavra_gql.redaction."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cavra_gql.redaction import (
    REDACTED,
    is_secret_header,
    is_secret_key,
    is_url_key,
    may_need_redaction,
    redact,
    reduce_url,
)


def _request(**request: Any) -> dict[str, Any]:
    return {"session_id": "rcd-1", "delivery": {"deliveries": [{"request": request}]}}


def _redacted_request(record: dict[str, Any]) -> Any:
    return redact(record)["delivery"]["deliveries"][0]["request"]


@pytest.mark.parametrize(
    ("name", "secret"),
    [
        ("Authorization", True),
        ("authorization", True),
        ("AUTHORIZATION", True),
        ("Proxy-Authorization", True),
        ("Cookie", True),
        ("cookie", True),
        ("X-Api-Key", True),
        ("x-api-key", True),
        ("X-Auth-Token", True),
        ("X-Client-Secret", True),
        ("X-Password", True),
        ("Ocp-Apim-Subscription-Key", True),
        ("DD-API-KEY", True),
        (" Authorization ", True),
        ("Content-Type", False),
        ("Accept", False),
        ("User-Agent", False),
        ("Set-Cookie2", False),
        ("X-Request-Id", False),
    ],
)
def test_is_secret_header(name: str, secret: bool) -> None:
    assert is_secret_header(name) is secret


@pytest.mark.parametrize(
    ("name", "secret"),
    [
        *[(k, True) for k in ("password", "secret", "token", "api_key", "apikey")],
        *[(k, True) for k in ("client_secret", "access_token", "refresh_token", "private_key")],
        ("Password", True),
        ("API_KEY", True),
        ("ApiKey", True),
        ("Access_Token", True),
        ("token_type", False),
        ("secret_ref", False),
        ("provider", False),
        ("key", False),
        ("passwords", False),
    ],
)
def test_is_secret_key(name: str, secret: bool) -> None:
    assert is_secret_key(name) is secret


@pytest.mark.parametrize(
    ("name", "is_url"),
    [
        ("url", True),
        ("URL", True),
        ("webhook_url", True),
        ("callback_URL", True),
        ("_url", True),
        ("urls", False),
        ("url_template", False),
        ("curl", False),
        ("webhookurl", False),
    ],
)
def test_is_url_key(name: str, is_url: bool) -> None:
    assert is_url_key(name) is is_url


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("https://hooks.slack.com/services/T0/B0/xyz", "https://hooks.slack.com"),
        ("https://user:pw@example.com:8443/a?token=x#f", "https://example.com:8443"),
        ("http://[::1]:9000/x", "http://[::1]:9000"),
        ("http://[2001:db8::7]/x?y=1", "http://[2001:db8::7]"),
        ("https://example.com", "https://example.com"),
        ("https://example.com?sig=abc", "https://example.com"),
        ("https://example.com#frag", "https://example.com"),
        ("HTTPS://Example.COM:443/Path", "https://example.com:443"),
        ("https://user:p@ss@example.com/x", "https://example.com"),
        ("https://bücher.de/x", "https://bücher.de"),
        ("", ""),
        ("hooks.slack.com/services/T0/x", REDACTED),
        ("not a url", REDACTED),
        ("mailto:x@y", REDACTED),
        ("//example.com/path", REDACTED),
        ("localhost:8080", REDACTED),
        ("https://not a url/x", REDACTED),
        ("https:///path-only", REDACTED),
        ("http://[::1/x", REDACTED),
        ("http://[fe80::1%25eth0]/x", REDACTED),
        ("https://example.com:99999/x", REDACTED),
        ("https://example.com:port/x", REDACTED),
        ("   ", REDACTED),
        (REDACTED, REDACTED),
    ],
)
def test_reduce_url(value: str, expected: str) -> None:
    assert reduce_url(value) == expected


@pytest.mark.parametrize(
    "headers",
    [
        {"Authorization": "Bearer s3cr3t", "Content-Type": "application/json"},
        [["Authorization", "Bearer s3cr3t"], ["Content-Type", "application/json"]],
        [("Authorization", "Bearer s3cr3t"), ("Content-Type", "application/json")],
        [
            {"name": "Authorization", "value": "Bearer s3cr3t"},
            {"name": "Content-Type", "value": "application/json"},
        ],
    ],
    ids=["object", "pairs", "tuple-pairs", "name-value-objects"],
)
def test_header_forms(headers: Any) -> None:
    out = _redacted_request(_request(method="POST", headers=headers))["headers"]
    assert "s3cr3t" not in json.dumps(out)
    assert "application/json" in json.dumps(out)


@pytest.mark.parametrize(
    ("name", "kept"),
    [
        ("Authorization", False),
        ("proxy-authorization", False),
        ("Proxy-Authorization", False),
        ("Cookie", False),
        ("COOKIE", False),
        ("X-Api-Key", False),
        ("X-Auth-Token", False),
        ("X-Webhook-Secret", False),
        ("X-Basic-Password", False),
        ("Content-Type", True),
        ("X-Request-Id", True),
    ],
)
@pytest.mark.parametrize("form", ["object", "pairs", "name-value-objects"])
def test_header_names(name: str, kept: bool, form: str) -> None:
    headers: Any = {
        "object": {name: "v4lue"},
        "pairs": [[name, "v4lue"]],
        "name-value-objects": [{"name": name, "value": "v4lue"}],
    }[form]
    expected: Any = {
        "object": {name: "v4lue" if kept else REDACTED},
        "pairs": [[name, "v4lue" if kept else REDACTED]],
        "name-value-objects": [{"name": name, "value": "v4lue" if kept else REDACTED}],
    }[form]
    assert _redacted_request(_request(headers=headers))["headers"] == expected


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        ({"Authorization": {"scheme": "Bearer", "credentials": "x"}}, {"Authorization": REDACTED}),
        ({"Cookie": ["a=1", "b=2"]}, {"Cookie": REDACTED}),
        ({"X-Api-Key": None}, {"X-Api-Key": REDACTED}),
        ([["Authorization", "Bearer", "x"]], [["Authorization", REDACTED, REDACTED]]),
        ([["Authorization"]], [["Authorization"]]),
        (
            [{"name": "Cookie", "value": "a", "values": ["b"]}],
            [{"name": "Cookie", "value": REDACTED, "values": REDACTED}],
        ),
        ("Authorization: Bearer x", REDACTED),
        ("", ""),
        (["Authorization: Bearer x", 7, None, []], [REDACTED, 7, None, []]),
        ([[1, "x"], {"value": "no-name"}], [[1, "x"], {"value": "no-name"}]),
        (42, 42),
        (None, None),
    ],
)
def test_header_odd_shapes(headers: Any, expected: Any) -> None:
    assert _redacted_request(_request(headers=headers))["headers"] == expected


@pytest.mark.parametrize("key", ["body", "data", "json", "payload", "Body", "PAYLOAD"])
def test_request_body_dropped(key: str) -> None:
    out = _redacted_request(_request(method="POST", **{key: {"text": "s3cr3t"}}, url=""))
    assert out == {"method": "POST", "url": ""}


def test_body_kept_outside_connector_requests() -> None:
    record = {"session_id": "x", "body": "notes", "delivery": {"body": "b", "deliveries": []}}
    assert redact(record) == record


@pytest.mark.parametrize(
    "key",
    [
        "password",
        "secret",
        "token",
        "api_key",
        "apikey",
        "client_secret",
        "access_token",
        "refresh_token",
        "private_key",
        "PASSWORD",
        "Api_Key",
    ],
)
@pytest.mark.parametrize(
    "value", ["s3cr3t", 12345, None, True, {"nested": "s3cr3t"}, ["s3cr3t", {"a": 1}]]
)
@pytest.mark.parametrize(
    "wrap",
    [
        lambda d: d,
        lambda d: {"config": d},
        lambda d: {"a": [{"b": [d]}]},
        lambda d: {"plan": {"route_decisions": [{"owner": "x"}, d]}},
    ],
    ids=["top", "nested", "in-lists", "in-plan"],
)
def test_secret_keys_any_depth(key: str, value: Any, wrap: Any) -> None:
    record = wrap({key: value, "provider": "slack"})
    assert redact(record) == wrap({key: REDACTED, "provider": "slack"})


@pytest.mark.parametrize(
    ("record", "expected"),
    [
        ({"url": "https://h.example/a?b"}, {"url": "https://h.example"}),
        ({"webhook_url": "https://h.example/a"}, {"webhook_url": "https://h.example"}),
        ({"callback_URL": "https://h.example/a"}, {"callback_URL": "https://h.example"}),
        ({"x": [{"URL": "not a url"}]}, {"x": [{"URL": REDACTED}]}),
        ({"url": ""}, {"url": ""}),
        ({"url": 8080}, {"url": 8080}),
        ({"url": None}, {"url": None}),
        ({"url": False}, {"url": False}),
        (
            {"url": ["https://a.example/x", "b.example/y", 3]},
            {"url": ["https://a.example", REDACTED, 3]},
        ),
        (
            {"base_url": {"primary": "https://a.example/x", "list": ["ftp://u:p@b.example:21/f"]}},
            {"base_url": {"primary": "https://a.example", "list": ["ftp://b.example:21"]}},
        ),
        (
            {"url": {"href": "https://a.example/x", "token": "t0k"}},
            {"url": {"href": "https://a.example", "token": REDACTED}},
        ),
        (
            {"urls": ["https://a.example/x?k=1"], "url_template": "https://a.example/{id}"},
            {"urls": ["https://a.example/x?k=1"], "url_template": "https://a.example/{id}"},
        ),
        ({"token_url": "https://a.example/oauth"}, {"token_url": "https://a.example"}),
    ],
)
def test_url_keys(record: dict[str, Any], expected: dict[str, Any]) -> None:
    assert redact(record) == expected


def test_request_url_reduced() -> None:
    out = _redacted_request(_request(method="POST", url="https://hooks.slack.com/services/T/B/x"))
    assert out == {"method": "POST", "url": "https://hooks.slack.com"}


def test_input_not_mutated_and_order_kept() -> None:
    record = _planted_record()
    before = copy.deepcopy(record)
    out = redact(record)
    assert record == before
    assert out is not record
    assert list(out) == list(record)
    assert list(out["delivery"]) == list(record["delivery"])
    request = out["delivery"]["deliveries"][0]["request"]
    assert list(request) == ["method", "url", "headers"]
    assert list(request["headers"]) == list(
        before["delivery"]["deliveries"][0]["request"]["headers"]
    )


@pytest.mark.parametrize(
    "record",
    [
        {},
        {"delivery": None},
        {"delivery": "text"},
        {"delivery": []},
        {"delivery": {"deliveries": None}},
        {"delivery": {"deliveries": {"slack": {"request": {"body": "b"}}}}},
        {"delivery": {"deliveries": "x"}},
        {"delivery": {"deliveries": [None, 1, "x", [], {"request": None}, {"request": "GET /"}]}},
        {"delivery": {"deliveries": [{"request": {"headers": {1: "x", None: "y"}}}]}},
        {1: "x", None: {"password": "p"}},
    ],
)
def test_odd_types_do_not_raise(record: dict[str, Any]) -> None:
    before = copy.deepcopy(record)
    redact(record)
    assert record == before


def test_non_record_input_does_not_raise() -> None:
    records: Any = [{"password": "p"}]
    out: Any = redact(records)
    assert out == [{"password": REDACTED}]


def test_deep_nesting_from_json() -> None:
    depth = 900
    text = '{"a": ' * depth + '{"password": "s3cr3t", "url": "https://x.example/p"}' + "}" * depth
    out = redact(json.loads(text))
    for _ in range(depth):
        out = out["a"]
    assert out == {"password": REDACTED, "url": "https://x.example"}


def test_deeper_than_recursion_limit() -> None:
    record: dict[str, Any] = {"token": "s3cr3t"}
    for _ in range(50_000):
        record = {"n": [record]}
    out = redact(record)
    for _ in range(50_000):
        out = out["n"][0]
    assert out == {"token": REDACTED}


PLANTED = [
    "Bearer pl4nted-auth",
    "pl4nted-proxy",
    "session=pl4nted-cookie",
    "pl4nted-api-key",
    "pl4nted-auth-token",
    "pl4nted-pair-secret",
    "pl4nted-nv-password",
    "pl4nted-nv-extra",
    "pl4nted-url-user",
    "pl4nted-url-pass",
    "pl4nted-url-path",
    "pl4nted-url-query",
    "pl4nted-url-fragment",
    "pl4nted-webhook-path",
    "pl4nted-callback-query",
    "pl4nted-body",
    "pl4nted-data",
    "pl4nted-json",
    "pl4nted-payload",
    "pl4nted-client-secret",
    "pl4nted-access-token",
    "pl4nted-refresh-token",
    "pl4nted-private-key",
    "pl4nted-password-object",
    "pl4nted-apikey-list",
    "pl4nted-bare-host",
]


def _planted_record() -> dict[str, Any]:
    """A release-connector-delivery (RECORDS.md §2.6) with a secret planted in every form."""
    return {
        "schema_version": "cavra.evidence.metadata.v1",
        "product": "CAVRA",
        "session_id": "rcd-gordackdelivery-1-abc123",
        "created_at": "2026-02-01T10:00:00Z",
        "signer": "go_backend_rollback_drill_acknowledgement_audit",
        "metadata_kind": "release-connector-delivery",
        "connector_delivery_source": "go_backend_rollback_drill_acknowledgement_audit",
        "event_id": "gordackdelivery-1",
        "delivery_success": False,
        "providers": ["jira", "slack", "splunk"],
        "failed_providers": ["splunk"],
        "status_codes": [201, 200, 0],
        "audit_id": "gordackaudit-1",
        "delivery_id": "gordackdelivery-1",
        "delivery": {
            "schema_version": "cavra.connector.delivery.v1",
            "product": "CAVRA",
            "success": False,
            "deliveries": [
                {
                    "provider": "slack",
                    "success": True,
                    "status_code": 200,
                    "request": {
                        "method": "POST",
                        "url": "https://hooks.slack.com/services/T0/B0/pl4nted-webhook-path",
                        "headers": {
                            "Content-Type": "application/json",
                            "Authorization": "Bearer pl4nted-auth",
                            "Proxy-Authorization": "pl4nted-proxy",
                            "Cookie": "session=pl4nted-cookie",
                            "X-Api-Key": "pl4nted-api-key",
                        },
                        "body": {"text": "pl4nted-body"},
                    },
                },
                {
                    "provider": "jira",
                    "success": True,
                    "status_code": 201,
                    "request": {
                        "method": "POST",
                        "url": (
                            "https://pl4nted-url-user:pl4nted-url-pass@jira.example.com:8443"
                            "/rest/pl4nted-url-path?token=pl4nted-url-query#pl4nted-url-fragment"
                        ),
                        "headers": [
                            ["Content-Type", "application/json"],
                            ["X-Auth-Token", "pl4nted-auth-token"],
                            ["x-webhook-secret", "pl4nted-pair-secret"],
                        ],
                        "data": "pl4nted-data",
                        "json": {"fields": {"summary": "pl4nted-json"}},
                    },
                },
                {
                    "provider": "splunk",
                    "success": False,
                    "status_code": 0,
                    "error": "connection refused",
                    "request": {
                        "method": "POST",
                        "url": "http://[::1]:8088/services/collector",
                        "headers": [
                            {"name": "Accept", "value": "*/*"},
                            {
                                "name": "X-Splunk-Password",
                                "value": "pl4nted-nv-password",
                                "extra": "pl4nted-nv-extra",
                            },
                        ],
                        "payload": "pl4nted-payload",
                    },
                },
            ],
        },
        "connector": {
            "callback_URL": "https://cb.example.com/hook?sig=pl4nted-callback-query",
            "mirror_url": "pl4nted-bare-host.example.com/x",
            "client_secret": "pl4nted-client-secret",
            "oauth": [
                {"access_token": "pl4nted-access-token"},
                {"Refresh_Token": "pl4nted-refresh-token"},
            ],
            "private_key": ["-----BEGIN KEY-----", "pl4nted-private-key"],
            "password": {"value": "pl4nted-password-object"},
            "apikey": ["pl4nted-apikey-list"],
        },
    }


def test_planted_secrets_never_survive() -> None:
    record = _planted_record()
    text = json.dumps(redact(record))
    survivors = [secret for secret in PLANTED if secret in text]
    assert survivors == []
    assert "pl4nted" not in text
    # Every plant must have been in the input, or the test proves nothing.
    assert all(secret in json.dumps(record) for secret in PLANTED)


def test_planted_record_keeps_public_metadata() -> None:
    out = redact(_planted_record())
    deliveries = out["delivery"]["deliveries"]
    assert [d["request"]["url"] for d in deliveries] == [
        "https://hooks.slack.com",
        "https://jira.example.com:8443",
        "http://[::1]:8088",
    ]
    assert deliveries[0]["request"]["headers"]["Content-Type"] == "application/json"
    assert deliveries[1]["request"]["headers"][0] == ["Content-Type", "application/json"]
    assert deliveries[2]["request"]["headers"][0] == {"name": "Accept", "value": "*/*"}
    assert deliveries[2]["error"] == "connection refused"
    assert out["connector"]["callback_URL"] == "https://cb.example.com"
    assert out["connector"]["mirror_url"] == REDACTED
    assert out["providers"] == ["jira", "slack", "splunk"]


_json = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text("ab:/@?#[]. ", max_size=30),
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.dictionaries(
            st.sampled_from(
                ["url", "x_url", "token", "deliveries", "request", "headers", "body", "name"]
            ),
            inner,
            max_size=4,
        )
    ),
    max_leaves=25,
)


@settings(database=None)
@given(st.dictionaries(st.sampled_from(["delivery", "deliveries", "url", "a"]), _json))
def test_never_raises_and_is_idempotent(record: dict[str, Any]) -> None:
    before = copy.deepcopy(record)
    once = redact(record)
    assert record == before
    assert redact(once) == once


# Keys that differ from the secret and URL keys only in case or a prefix, and plain keys
# that merely look like them: the text pre-check must never let through a record the walk
# would change. One such key per record, so no other one hides a miss.
_SPECIAL_KEYS = st.sampled_from(
    [
        "Password",
        "CLIENT_SECRET",
        "x_access_token",
        "Api_Key",
        "apiKey",
        "Private_Key",
        "secret",
        "token",
        "webhook_URL",
        "url",
        "token_url",
        "delivery",
    ]
)
_PLAIN_KEYS = st.sampled_from(["name", "route_key", "urls", "keys", "tokens", "r\u00e9sum\u00e9"])
_PLAIN_DOC = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text("ab:/ h.", max_size=12),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(_PLAIN_KEYS, inner, max_size=3),
    max_leaves=10,
)


@settings(database=None, max_examples=500)
@given(
    st.dictionaries(_PLAIN_KEYS, _PLAIN_DOC, max_size=3),
    _SPECIAL_KEYS,
    _PLAIN_DOC | st.just({"deliveries": [{"request": {"body": "x", "headers": "Cookie: c"}}]}),
    st.integers(0, 2),
    st.booleans(),
)
def test_text_pre_check_never_skips_a_record_the_walk_changes(
    plain: dict[str, Any], key: str, value: Any, depth: int, ascii_only: bool
) -> None:
    node: dict[str, Any] = {key: value}
    for _ in range(depth):
        node = {"name": [node]}
    record = {**plain, **node}
    raw = json.dumps(record, ensure_ascii=ascii_only).encode()
    if redact(record) != record:
        assert may_need_redaction(raw), raw
