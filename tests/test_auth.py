"""Authentication and roles (issue 5): API tokens as SHA-256 hashes, OIDC bearer JWTs checked
against a JWKS file, reads open only without an auth configuration, writes for operators only."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from sqlalchemy import Engine
from starlette.testclient import TestClient

from cavra_gql.app import create_app
from cavra_gql.auth import AuthConfig, hash_token
from cavra_gql.principal import AuthConfigError
from cavra_gql.settings import Settings
from tests import record_factory as rf
from tests.conftest import Loader

HISTORY_URL = "/runtime/go-pilot/rollback-drill-notifications"
TOTAL = "{ rollbackDrillNotifications { total } }"
WRITE = "mutation($r: [JSON!]!) { ingestRecords(records: $r) { accepted new errors { message } } }"
AUDIT_LOG = "{ writeAuditLog { actor role recordCount sessionIds } }"
READER_TOKEN = "reader-token-for-tests"
OPERATOR_TOKEN = "operator-token-for-tests"
ISSUER = "https://idp.example.test/"
AUDIENCE = "cavra-gql"


@pytest.fixture
def database_url(sqlite_url: str) -> str:
    """Credentials are checked before any SQL: one database engine is enough here."""
    return sqlite_url


@pytest.fixture
def stored(load: Loader) -> int:
    return load([rf.audit_package(session_id=f"pkg-{i}") for i in range(3)]).counts.new


def _auth_file(tmp_path: Path, extra: str = "") -> Path:
    path = tmp_path / "auth.toml"
    path.write_text(
        f"""
[[tokens]]
name = "soc-dashboard"
role = "reader"
sha256 = "{hash_token(READER_TOKEN)}"

[[tokens]]
name = "release-bot"
role = "operator"
sha256 = "{hash_token(OPERATOR_TOKEN)}"
{extra}
""",
        encoding="utf-8",
    )
    return path


def _client(engine: Engine, url: str, auth: AuthConfig) -> TestClient:
    return TestClient(create_app(Settings(database_url=url, auth=auth), engine=engine))


@pytest.fixture
def guarded(engine: Engine, database_url: str, tmp_path: Path, stored: int) -> Iterator[TestClient]:
    with _client(engine, database_url, AuthConfig.from_file(_auth_file(tmp_path))) as client:
        yield client


@pytest.fixture
def open_server(engine: Engine, database_url: str, stored: int) -> Iterator[TestClient]:
    with _client(engine, database_url, AuthConfig()) as client:
        yield client


def _bearer(token: str) -> dict[str, str]:
    return {"authorization": f"Bearer {token}"}


def _gql(
    client: TestClient, query: str, token: str | None = None, **variables: Any
) -> tuple[int, dict[str, Any]]:
    headers = _bearer(token) if token else {}
    response = client.post(
        "/graphql", json={"query": query, "variables": variables}, headers=headers
    )
    return response.status_code, response.json()


def _codes(body: dict[str, Any]) -> list[str]:
    return [error["extensions"]["code"] for error in body.get("errors", [])]


def test_without_auth_reads_are_open_and_writes_refused(open_server: TestClient) -> None:
    status, body = _gql(open_server, TOTAL)
    assert (status, body["data"]["rollbackDrillNotifications"]["total"]) == (200, 3)
    assert open_server.get(HISTORY_URL).json()["total"] == 3
    _, body = _gql(open_server, WRITE, r=[rf.audit_package(session_id="new")])
    assert _codes(body) == ["FORBIDDEN"]
    assert "accepts no writes" in body["errors"][0]["message"]
    _, body = _gql(open_server, AUDIT_LOG)
    assert _codes(body) == ["FORBIDDEN"]
    assert open_server.get(HISTORY_URL).json()["total"] == 3  # nothing was written


def test_with_tokens_every_read_needs_a_credential(guarded: TestClient) -> None:
    status, body = _gql(guarded, TOTAL)
    assert status == 401
    assert _codes(body) == ["UNAUTHENTICATED"]
    for path in (HISTORY_URL, HISTORY_URL + "/dashboard"):
        response = guarded.get(path)
        assert response.status_code == 401
        assert response.headers["www-authenticate"].startswith("Bearer")
        assert response.json()["code"] == "UNAUTHENTICATED"
    graphiql = guarded.get("/graphql", headers={"accept": "text/html"})
    assert graphiql.status_code == 401
    # What serves no evidence stays open: the liveness probe and the sandbox's files.
    assert guarded.get("/healthz").status_code == 200
    assert guarded.get("/sandbox/").status_code == 200
    # With a token, every read works, GraphiQL included.
    for token in (READER_TOKEN, OPERATOR_TOKEN):
        status, body = _gql(guarded, TOTAL, token)
        assert (status, body["data"]["rollbackDrillNotifications"]["total"]) == (200, 3)
        assert guarded.get(HISTORY_URL, headers=_bearer(token)).json()["total"] == 3
        page = guarded.get("/graphql", headers={"accept": "text/html", **_bearer(token)})
        assert page.status_code == 200
        assert "graphiql" in page.text.lower()


@pytest.mark.parametrize(
    "header",
    [
        "Bearer not-a-token-we-know",
        f"Bearer {READER_TOKEN}x",
        f"Basic {READER_TOKEN}",
        "Bearer",
        f"bearer  {READER_TOKEN[:-1]}",
    ],
)
def test_wrong_tokens_are_refused(guarded: TestClient, header: str) -> None:
    response = guarded.post("/graphql", json={"query": TOTAL}, headers={"authorization": header})
    assert response.status_code == 401
    assert _codes(response.json()) == ["UNAUTHENTICATED"]
    assert READER_TOKEN not in response.text


def test_readers_cannot_write_and_operators_can(guarded: TestClient) -> None:
    record = rf.audit_package(session_id="written-by-the-bot")
    _, body = _gql(guarded, WRITE, READER_TOKEN, r=[record])
    assert _codes(body) == ["FORBIDDEN"]
    assert "reader role" in body["errors"][0]["message"]
    _, body = _gql(guarded, AUDIT_LOG, READER_TOKEN)
    assert _codes(body) == ["FORBIDDEN"]
    _, body = _gql(guarded, WRITE, None, r=[record])  # 401 before any resolver runs
    assert _codes(body) == ["UNAUTHENTICATED"]
    _, body = _gql(guarded, TOTAL, READER_TOKEN)
    assert body["data"]["rollbackDrillNotifications"]["total"] == 3

    _, body = _gql(guarded, WRITE, OPERATOR_TOKEN, r=[record])
    assert body["data"]["ingestRecords"] == {"accepted": True, "new": 1, "errors": []}
    _, body = _gql(guarded, TOTAL, READER_TOKEN)
    assert body["data"]["rollbackDrillNotifications"]["total"] == 4
    _, body = _gql(guarded, AUDIT_LOG, OPERATOR_TOKEN)
    assert body["data"]["writeAuditLog"] == [
        {
            "actor": "release-bot",
            "role": "operator",
            "recordCount": 1,
            "sessionIds": ["written-by-the-bot"],
        }
    ]


def test_mutations_never_run_over_get(guarded: TestClient) -> None:
    record = json.dumps([rf.audit_package(session_id="sneaky")])
    response = guarded.get(
        "/graphql",
        params={"query": WRITE, "variables": json.dumps({"r": json.loads(record)})},
        headers=_bearer(OPERATOR_TOKEN),
    )
    assert response.status_code in {400, 405}
    _, body = _gql(guarded, TOTAL, READER_TOKEN)
    assert body["data"]["rollbackDrillNotifications"]["total"] == 3


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            '[[tokens]]\nname = "a"\nrole = "admin"\nsha256 = "' + "0" * 64 + '"',
            "reader or operator",
        ),
        ('[[tokens]]\nname = "a"\nrole = "reader"\nsha256 = "abc"', "64 hexadecimal digits"),
        ('[[tokens]]\nrole = "reader"\nsha256 = "' + "0" * 64 + '"', "name must be"),
        ("tokens = 5", "array of tables"),
        ("[tokns]\n", "unknown settings tokns"),
        ("[[tokens]\n", "not valid TOML"),
        ('[oidc]\nissuer = "x"\naudience = "y"\njwks_file = "missing.json"', "cannot read"),
        (
            '[oidc]\nissuer = "x"\naudience = "y"\njwks_file = "k.json"\nalgorithms = ["HS256"]',
            "not allowed",
        ),
    ],
)
def test_bad_auth_files_say_what_and_where(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "auth.toml"
    path.write_text(text, encoding="utf-8")
    (tmp_path / "k.json").write_text('{"keys": []}', encoding="utf-8")
    with pytest.raises(AuthConfigError, match=message) as caught:
        settings = Settings.from_env({"CAVRA_GQL_AUTH_FILE": str(path)})
        if settings.auth.oidc is not None:  # the JWKS file is read when the server starts
            create_app(settings)
    assert str(path) in str(caught.value) or "missing.json" in str(caught.value)


def test_tokens_from_the_environment(engine: Engine, database_url: str, stored: int) -> None:
    env = {"CAVRA_GQL_TOKENS": f"ops:operator:{hash_token(OPERATOR_TOKEN)}"}
    settings = Settings.from_env(env, database_url=database_url)
    with TestClient(create_app(settings, engine=engine)) as client:
        assert _gql(client, TOTAL)[0] == 401
        _, body = _gql(client, AUDIT_LOG, OPERATOR_TOKEN)
        assert body["data"]["writeAuditLog"] == []
    with pytest.raises(AuthConfigError, match="name:role:sha256"):
        Settings.from_env({"CAVRA_GQL_TOKENS": "just-a-token"})


# --- OIDC ---------------------------------------------------------------------------------


class Issuer:
    """A test identity provider: an RSA key in a JWKS file, and tokens signed with it."""

    def __init__(self, tmp_path: Path) -> None:
        self.key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        public = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(self.key.public_key()))
        public.update(kid="key-1", use="sig", alg="RS256")
        self.jwks = tmp_path / "jwks.json"
        self.jwks.write_text(json.dumps({"keys": [public]}), encoding="utf-8")

    def claims(self, **changes: Any) -> dict[str, Any]:
        now = int(time.time())
        claims = {
            "iss": ISSUER,
            "aud": AUDIENCE,
            "sub": "alice@example.test",
            "iat": now,
            "nbf": now - 5,
            "exp": now + 300,
            "roles": ["operator"],
        }
        claims.update(changes)
        return {k: v for k, v in claims.items() if v is not None}

    def token(self, key: Any = None, kid: str = "key-1", alg: str = "RS256", **changes: Any) -> str:
        return jwt.encode(
            self.claims(**changes), key or self.key, algorithm=alg, headers={"kid": kid}
        )


@pytest.fixture
def issuer(tmp_path: Path) -> Issuer:
    return Issuer(tmp_path)


@pytest.fixture
def oidc_server(
    engine: Engine, database_url: str, tmp_path: Path, stored: int, issuer: Issuer
) -> Iterator[TestClient]:
    extra = f'\n[oidc]\nissuer = "{ISSUER}"\naudience = "{AUDIENCE}"\njwks_file = "jwks.json"\n'
    with _client(engine, database_url, AuthConfig.from_file(_auth_file(tmp_path, extra))) as c:
        yield c


def test_valid_jwts_read_and_write_by_role(oidc_server: TestClient, issuer: Issuer) -> None:
    operator = issuer.token()
    reader = issuer.token(roles="reader", sub="bob@example.test")
    assert _gql(oidc_server, TOTAL, reader)[1]["data"]["rollbackDrillNotifications"]["total"] == 3
    _, body = _gql(oidc_server, WRITE, reader, r=[rf.audit_package(session_id="jwt-write")])
    assert _codes(body) == ["FORBIDDEN"]
    _, body = _gql(oidc_server, WRITE, operator, r=[rf.audit_package(session_id="jwt-write")])
    assert body["data"]["ingestRecords"]["accepted"] is True
    _, body = _gql(oidc_server, AUDIT_LOG, operator)
    assert body["data"]["writeAuditLog"][0]["actor"] == "alice@example.test"
    # API tokens keep working beside OIDC.
    assert _gql(oidc_server, TOTAL, READER_TOKEN)[0] == 200


def test_forged_and_stale_jwts_are_refused(oidc_server: TestClient, issuer: Issuer) -> None:
    now = int(time.time())
    other_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    cases = {
        "expired": issuer.token(exp=now - 3600),
        "not valid yet": issuer.token(nbf=now + 3600),
        "another audience": issuer.token(aud="someone-else"),
        "another issuer": issuer.token(iss="https://evil.example/"),
        "lacks the exp claim": issuer.token(exp=None),
        "does not verify": issuer.token(key=other_key),
        "key this server does not know": issuer.token(kid="key-2"),
        # The public key used as an HMAC secret: the classic algorithm confusion.
        "'HS256' is not accepted": jwt.encode(
            issuer.claims(),
            "a-secret-that-is-long-enough-for-hs256",
            algorithm="HS256",
            headers={"kid": "key-1"},
        ),
        # Signed with an EC key under the RSA key's id.
        "not valid|does not verify": issuer.token(
            key=ec.generate_private_key(ec.SECP256R1()), alg="ES256"
        ),
    }
    unsigned = jwt.encode(issuer.claims(), None, algorithm="none")  # type: ignore[arg-type]
    cases["'none' is not accepted"] = unsigned
    for reason, token in cases.items():
        status, body = _gql(oidc_server, TOTAL, token)
        assert status == 401, reason
        assert _codes(body) == ["UNAUTHENTICATED"], reason
        message = body["errors"][0]["message"]
        assert any(part in message for part in reason.split("|")), (reason, message)
    # A well-signed token granting no known role is authenticated but forbidden.
    status, body = _gql(oidc_server, TOTAL, issuer.token(roles=["viewer"]))
    assert (status, _codes(body)) == (403, ["FORBIDDEN"])
