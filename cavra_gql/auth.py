"""Who is asking: API tokens (stored as SHA-256 hashes) and OIDC bearer JWTs, with a role each.

The configuration is a TOML file (`CAVRA_GQL_AUTH_FILE` or `cavra-gql api --auth-file`):

    [[tokens]]
    name = "soc-dashboard"          # recorded in the write audit log
    role = "reader"                 # reader | operator
    sha256 = "9f86d0...0f00a08"     # hex SHA-256 of the token; the token itself is never stored

    [oidc]                          # optional
    issuer = "https://idp.example.com/"
    audience = "cavra-gql"
    jwks_file = "/etc/cavra-gql/jwks.json"
    role_claim = "roles"            # a string or a list holding "reader" and/or "operator"
    algorithms = ["RS256", "ES256", "EdDSA"]

or the environment: `CAVRA_GQL_TOKENS="name:role:sha256,..."` and `CAVRA_GQL_OIDC_ISSUER`,
`CAVRA_GQL_OIDC_AUDIENCE`, `CAVRA_GQL_OIDC_JWKS_FILE`, `CAVRA_GQL_OIDC_ROLE_CLAIM`.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from cavra_gql.errors import Forbidden, Unauthenticated
from cavra_gql.oidc import LEEWAY_SECONDS, OidcConfig, OidcVerifier
from cavra_gql.principal import AuthConfigError, Principal, Role


@dataclass(frozen=True, slots=True)
class TokenEntry:
    name: str
    role: Role
    sha256: bytes


_HEX64 = re.compile(r"[0-9a-fA-F]{64}")


def _role(value: object, where: str) -> Role:
    try:
        return Role(value)
    except ValueError:
        raise AuthConfigError(f"{where}: role must be reader or operator, not {value!r}") from None


def _token(entry: object, where: str) -> TokenEntry:
    if not isinstance(entry, Mapping):
        raise AuthConfigError(f"{where}: expected a table with name, role and sha256")
    name, digest = entry.get("name"), entry.get("sha256")
    if not isinstance(name, str) or not name.strip():
        raise AuthConfigError(f"{where}: name must be a non-empty string")
    if not isinstance(digest, str) or not _HEX64.fullmatch(digest):
        raise AuthConfigError(f"{where}: sha256 must be 64 hexadecimal digits")
    return TokenEntry(name, _role(entry.get("role"), where), bytes.fromhex(digest))


@dataclass(frozen=True, slots=True)
class AuthConfig:
    """Credentials the server accepts. Empty: reads are open and no write is accepted."""

    tokens: tuple[TokenEntry, ...] = ()
    oidc: OidcConfig | None = None

    @property
    def enabled(self) -> bool:
        return bool(self.tokens) or self.oidc is not None

    @classmethod
    def from_file(cls, path: Path) -> AuthConfig:
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        except OSError as error:
            raise AuthConfigError(f"{path}: cannot read: {error.strerror}") from None
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as error:
            raise AuthConfigError(f"{path}: not valid TOML: {error}") from None
        unknown = sorted(set(data) - {"tokens", "oidc"})
        if unknown:
            raise AuthConfigError(f"{path}: unknown settings {', '.join(unknown)}")
        entries = data.get("tokens", [])
        if not isinstance(entries, list):
            raise AuthConfigError(f"{path}: tokens must be an array of tables ([[tokens]])")
        tokens = tuple(_token(e, f"{path}: tokens[{i}]") for i, e in enumerate(entries))
        oidc = data.get("oidc")
        if oidc is not None and not isinstance(oidc, Mapping):
            raise AuthConfigError(f"{path}: oidc must be a table")
        base = path.parent
        return cls(tokens, OidcConfig.parse(oidc, f"{path}: oidc", base) if oidc else None)

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> AuthConfig:
        tokens = []
        for i, part in enumerate(p.strip() for p in env.get("CAVRA_GQL_TOKENS", "").split(",")):
            if not part:
                continue
            pieces = part.split(":")
            where = f"CAVRA_GQL_TOKENS item {i + 1}"
            if len(pieces) != 3:
                raise AuthConfigError(f"{where}: expected name:role:sha256")
            tokens.append(_token(dict(zip(("name", "role", "sha256"), pieces, strict=True)), where))
        oidc_values = {
            key: env[f"CAVRA_GQL_OIDC_{key.upper()}"]
            for key in ("issuer", "audience", "jwks_file", "role_claim")
            if env.get(f"CAVRA_GQL_OIDC_{key.upper()}", "").strip()
        }
        oidc = (
            OidcConfig.parse(oidc_values, "CAVRA_GQL_OIDC_*", Path.cwd()) if oidc_values else None
        )
        return cls(tuple(tokens), oidc)


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def new_token() -> str:
    """A fresh random API token (256 bits)."""
    return "cavra_" + secrets.token_urlsafe(32)


class Authenticator:
    """Turns an `Authorization` header into a Principal, or says why it cannot."""

    def __init__(self, config: AuthConfig) -> None:
        self.config = config
        self._oidc = OidcVerifier(config.oidc) if config.oidc else None

    def authenticate(self, header: str | None) -> Principal | None:
        """The caller, None for an anonymous one; Unauthenticated for a bad credential."""
        if header is None:
            return None
        scheme, _, credential = header.strip().partition(" ")
        credential = credential.strip()
        if scheme.lower() != "bearer" or not credential:
            raise Unauthenticated("the Authorization header must be `Bearer <token>`")
        if credential.count(".") == 2 and self._oidc is not None:
            claims = self._oidc.verify(credential)
            role = self._oidc.role(claims)
            expires_at = float(claims["exp"]) + LEEWAY_SECONDS  # the leeway `verify` allows
            return Principal(str(claims.get("sub", "unknown")), role, "oidc", expires_at)
        digest = hashlib.sha256(credential.encode("utf-8")).digest()
        found = None
        for entry in self.config.tokens:  # compare with every entry: no early exit to time
            if hmac.compare_digest(entry.sha256, digest):
                found = entry
        if found is None:
            raise Unauthenticated("the bearer token is not valid on this server")
        return Principal(found.name, found.role, "token")


def require_reader(config: AuthConfig, principal: Principal | None) -> None:
    """Reads are open without an auth configuration; with one they need any role."""
    if config.enabled and principal is None:
        raise Unauthenticated("this server requires a bearer token (reader or operator)")


def require_operator(config: AuthConfig, principal: Principal | None) -> Principal:
    """Writes always need an operator; a server without credentials accepts none."""
    if not config.enabled:
        raise Forbidden(
            "this server has no credentials configured, so nobody is an operator: it accepts "
            "no writes and shows no write audit log (configure operator tokens: "
            "CAVRA_GQL_AUTH_FILE)"
        )
    if principal is None:
        raise Unauthenticated("writes need an operator's bearer token")
    if principal.role is not Role.OPERATOR:
        raise Forbidden(
            f"{principal.name} has the {principal.role.value} role; this needs operator"
        )
    return principal
