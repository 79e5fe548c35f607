"""Runtime settings, read once from the environment or the command line."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, ClassVar

from cavra_gql.auth import AuthConfig

if TYPE_CHECKING:
    from cavra_gql.signing import SigningKey

DEFAULT_DATABASE_URL = "sqlite:///.cavra/cavra-gql.sqlite3"
DEFAULT_CORS_ORIGINS = ("http://127.0.0.1:5173", "http://localhost:5173")


def _split(value: str) -> tuple[str, ...]:
    return tuple(part.strip() for part in value.split(",") if part.strip())


@dataclass(frozen=True, kw_only=True)
class Limits:
    """What one request may ask for. The defaults suit every documented client."""

    max_depth: int = 10  # nesting of selections, fragments followed
    max_aliases: int = 15  # aliased fields in a document, fragments included
    max_tokens: int = 2000  # lexical tokens in a document
    max_body_bytes: int = 1_000_000  # HTTP request body
    time_limit_seconds: float = 10.0  # per request, enforced in the database
    max_write_records: int = 1000  # records in one ingestRecords call
    max_subscriptions_per_connection: int = 10  # open subscriptions on one WebSocket
    export_time_limit_seconds: float = 1800.0  # per export request (a bulk read, not a page)

    ENV: ClassVar[dict[str, str]] = {
        "max_depth": "CAVRA_GQL_MAX_DEPTH",
        "max_aliases": "CAVRA_GQL_MAX_ALIASES",
        "max_tokens": "CAVRA_GQL_MAX_TOKENS",
        "max_body_bytes": "CAVRA_GQL_MAX_BODY_BYTES",
        "time_limit_seconds": "CAVRA_GQL_TIME_LIMIT_SECONDS",
        "max_write_records": "CAVRA_GQL_MAX_WRITE_RECORDS",
        "max_subscriptions_per_connection": "CAVRA_GQL_MAX_SUBSCRIPTIONS",
        "export_time_limit_seconds": "CAVRA_GQL_EXPORT_TIME_LIMIT_SECONDS",
    }

    def __post_init__(self) -> None:
        for name in self.ENV:
            if not getattr(self, name) > 0:
                raise ValueError(f"{name} must be a positive number, not {getattr(self, name)!r}")

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> Limits:
        values: dict[str, object] = {}
        for name, variable in cls.ENV.items():
            raw = env.get(variable, "").strip()
            if not raw:
                continue
            kind = float if name.endswith("_seconds") else int
            try:
                values[name] = kind(raw)
            except ValueError:
                raise ValueError(f"{variable} must be a positive number, not {raw!r}") from None
        try:
            return cls(**values)  # type: ignore[arg-type]
        except ValueError as error:
            raise ValueError(f"CAVRA_GQL_*: {error}") from None


@dataclass(frozen=True, kw_only=True)
class Settings:
    """Everything the app and the CLI need to know about their environment."""

    database_url: str = DEFAULT_DATABASE_URL
    cors_origins: tuple[str, ...] = field(default=DEFAULT_CORS_ORIGINS)
    graphiql: bool = True
    freeze_gc: bool = False  # for long-running servers (see app.create_app)
    limits: Limits = field(default_factory=Limits)
    auth: AuthConfig = field(default_factory=AuthConfig)
    otel: bool = False  # OpenTelemetry spans per operation (tracing.py), $CAVRA_GQL_OTEL
    export_signing_key: SigningKey | None = None  # signs export manifests when set

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, **overrides: object) -> Settings:
        """Settings from `CAVRA_GQL_*` variables; explicit non-None overrides win.

        An auth file (`CAVRA_GQL_AUTH_FILE`, or the `auth_file` override) replaces the
        credentials given in the environment.
        """
        env = os.environ if environ is None else environ
        values: dict[str, object] = {}
        if url := env.get("CAVRA_GQL_DATABASE_URL", "").strip():
            values["database_url"] = url
        if "CAVRA_GQL_CORS_ORIGINS" in env:
            values["cors_origins"] = _split(env["CAVRA_GQL_CORS_ORIGINS"])
        if env.get("CAVRA_GQL_GRAPHIQL", "").strip().lower() in {"0", "false", "no", "off"}:
            values["graphiql"] = False
        values["limits"] = Limits.from_env(env)
        if env.get("CAVRA_GQL_OTEL", "").strip().lower() in {"1", "true", "yes", "on"}:
            values["otel"] = True
        auth_file = overrides.pop("auth_file", None) or env.get("CAVRA_GQL_AUTH_FILE", "").strip()
        if auth_file:
            values["auth"] = AuthConfig.from_file(Path(str(auth_file)))
        else:
            values["auth"] = AuthConfig.from_env(env)
        key_file = (
            overrides.pop("export_signing_key", None)
            or env.get("CAVRA_GQL_EXPORT_SIGNING_KEY", "").strip()
        )
        if key_file:
            from cavra_gql.signing import SigningKey

            values["export_signing_key"] = SigningKey.from_file(Path(str(key_file)))
        values.update({key: value for key, value in overrides.items() if value is not None})
        return cls(**values)  # type: ignore[arg-type]
