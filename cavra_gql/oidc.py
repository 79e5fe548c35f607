"""OIDC bearer JWTs: signature against a JWKS file, then `exp`, `nbf`, issuer and audience."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jwt

from cavra_gql.errors import Forbidden, Unauthenticated
from cavra_gql.principal import AuthConfigError, Role

# Asymmetric algorithms only: a shared-secret (HS*) or unsigned ("none") token is never valid,
# so a public key can never be misused as an HMAC secret.
ASYMMETRIC = ("RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "EdDSA")
LEEWAY_SECONDS = 30


@dataclass(frozen=True, slots=True)
class OidcConfig:
    issuer: str
    audience: str
    jwks_file: Path
    role_claim: str = "roles"
    algorithms: tuple[str, ...] = ASYMMETRIC

    @classmethod
    def parse(cls, values: Mapping[str, Any], where: str, base: Path) -> OidcConfig:
        def text(key: str, default: str | None = None) -> str:
            value = values.get(key, default)
            if not isinstance(value, str) or not value.strip():
                raise AuthConfigError(f"{where}: {key} must be a non-empty string")
            return value.strip()

        unknown = sorted(
            set(values) - {"issuer", "audience", "jwks_file", "role_claim", "algorithms"}
        )
        if unknown:
            raise AuthConfigError(f"{where}: unknown settings {', '.join(unknown)}")
        algorithms = values.get("algorithms", list(ASYMMETRIC))
        if not isinstance(algorithms, list) or not algorithms:
            raise AuthConfigError(f"{where}: algorithms must be a non-empty list")
        bad = [a for a in algorithms if a not in ASYMMETRIC]
        if bad:
            allowed = ", ".join(ASYMMETRIC)
            raise AuthConfigError(f"{where}: algorithms {bad} not allowed; use some of {allowed}")
        jwks = Path(text("jwks_file"))
        return cls(
            issuer=text("issuer"),
            audience=text("audience"),
            jwks_file=jwks if jwks.is_absolute() else base / jwks,
            role_claim=text("role_claim", "roles"),
            algorithms=tuple(algorithms),
        )


def _load_keys(path: Path) -> dict[str | None, jwt.PyJWK]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except OSError as error:
        raise AuthConfigError(f"{path}: cannot read the JWKS file: {error.strerror}") from None
    except ValueError as error:
        raise AuthConfigError(f"{path}: the JWKS file is not JSON: {error}") from None
    try:
        keys = jwt.PyJWKSet.from_dict(data).keys
    except jwt.PyJWTError as error:
        raise AuthConfigError(f"{path}: no usable keys in the JWKS file: {error}") from None
    return {key.key_id: key for key in keys}


class OidcVerifier:
    """Verifies tokens against the keys read once, at start-up, from the JWKS file."""

    def __init__(self, config: OidcConfig) -> None:
        self.config = config
        self.keys = _load_keys(config.jwks_file)

    def verify(self, token: str) -> dict[str, Any]:
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError:
            raise Unauthenticated("the bearer token is not a well-formed JWT") from None
        algorithm = header.get("alg")
        if algorithm not in self.config.algorithms:
            raise Unauthenticated(f"the JWT's algorithm {algorithm!r} is not accepted")
        kid = header.get("kid")
        key = self.keys.get(kid)
        if key is None and kid is None and len(self.keys) == 1:
            key = next(iter(self.keys.values()))
        if key is None:
            raise Unauthenticated("the JWT is signed with a key this server does not know")
        try:
            claims: dict[str, Any] = jwt.decode(
                token,
                key=key.key,
                algorithms=[algorithm],
                audience=self.config.audience,
                issuer=self.config.issuer,
                leeway=LEEWAY_SECONDS,
                options={"require": ["exp", "iss", "aud", "sub"]},
            )
        except jwt.ExpiredSignatureError:
            raise Unauthenticated("the JWT has expired") from None
        except jwt.ImmatureSignatureError:
            raise Unauthenticated("the JWT is not valid yet (nbf)") from None
        except jwt.InvalidAudienceError:
            raise Unauthenticated("the JWT is for another audience") from None
        except jwt.InvalidIssuerError:
            raise Unauthenticated("the JWT comes from another issuer") from None
        except jwt.MissingRequiredClaimError as error:
            raise Unauthenticated(f"the JWT lacks the {error.claim} claim") from None
        except jwt.InvalidSignatureError:
            raise Unauthenticated("the JWT's signature does not verify") from None
        except jwt.PyJWTError:
            raise Unauthenticated("the JWT is not valid") from None
        except (TypeError, ValueError):  # e.g. an ES256 header naming an RSA key
            raise Unauthenticated(
                "the JWT is not valid: its algorithm does not fit its key"
            ) from None
        return claims

    def role(self, claims: Mapping[str, Any]) -> Role:
        value = claims.get(self.config.role_claim)
        names = (
            {value} if isinstance(value, str) else set(value) if isinstance(value, list) else set()
        )
        if Role.OPERATOR.value in names:
            return Role.OPERATOR
        if Role.READER.value in names:
            return Role.READER
        raise Forbidden(
            f"the JWT's {self.config.role_claim} claim grants neither reader nor operator"
        )
