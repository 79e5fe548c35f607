"""Runtime settings, read once from the environment or the command line."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field

DEFAULT_DATABASE_URL = "sqlite:///.cavra/cavra-gql.sqlite3"
DEFAULT_CORS_ORIGINS = ("http://127.0.0.1:5173", "http://localhost:5173")


def _split(value: str) -> tuple[str, ...]:
    return tuple(part.strip() for part in value.split(",") if part.strip())


@dataclass(frozen=True, kw_only=True)
class Settings:
    """Everything the app and the CLI need to know about their environment."""

    database_url: str = DEFAULT_DATABASE_URL
    cors_origins: tuple[str, ...] = field(default=DEFAULT_CORS_ORIGINS)
    graphiql: bool = True
    freeze_gc: bool = False  # for long-running servers (see app.create_app)

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, **overrides: object) -> Settings:
        """Settings from `CAVRA_GQL_*` variables; explicit non-None overrides win."""
        env = os.environ if environ is None else environ
        values: dict[str, object] = {}
        if url := env.get("CAVRA_GQL_DATABASE_URL", "").strip():
            values["database_url"] = url
        if "CAVRA_GQL_CORS_ORIGINS" in env:
            values["cors_origins"] = _split(env["CAVRA_GQL_CORS_ORIGINS"])
        if env.get("CAVRA_GQL_GRAPHIQL", "").strip().lower() in {"0", "false", "no", "off"}:
            values["graphiql"] = False
        values.update({key: value for key, value in overrides.items() if value is not None})
        return cls(**values)  # type: ignore[arg-type]
