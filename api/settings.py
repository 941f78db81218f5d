"""Service settings, read from the environment (prefix ``CAREALLOC_``) by :func:`get_settings`.

Nothing is read at import time: the app factory and the CLI ask for settings when they start,
so tests and benchmarks build apps with their own settings side by side.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Literal

from pydantic import AliasChoices, Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

MIB = 1024 * 1024


def _default_data_dir() -> Path:
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "carealloc"


class Settings(BaseSettings):
    """Where data lives and the limits the service enforces."""

    model_config = SettingsConfigDict(env_prefix="CAREALLOC_", extra="ignore")

    data_dir: Path = Field(
        default_factory=_default_data_dir,
        description="Folder for the embedded SQLite database when no database URL is given.",
    )
    database_url: str | None = Field(
        default=None,
        validation_alias=AliasChoices("CAREALLOC_DATABASE_URL", "DATABASE_URL", "database_url"),
        description="SQLAlchemy URL; postgresql://... uses PostgreSQL through psycopg 3.",
    )
    max_body_bytes: int = Field(default=MIB, gt=0, description="Largest request body.")
    max_import_bytes: int = Field(
        default=256 * MIB, gt=0, description="Largest snapshot accepted by POST /v1/imports."
    )
    db_pool_size: int = Field(default=10, ge=1, le=200)
    reoptimise_workers: int = Field(
        default=2,
        ge=1,
        le=64,
        description="Worker processes a re-optimisation job spreads providers' runs over.",
    )
    batch_time_limit_s: float = Field(
        default=10.0,
        gt=0,
        le=300,
        description="Solver budget of a joint placement (POST /v1/placements with "
        "referral_ids); the council's other writes wait meanwhile.",
    )
    sqlite_synchronous: Literal["FULL", "NORMAL"] = Field(
        default="FULL",
        description="FULL: an acknowledged write survives a power cut; NORMAL: it survives a "
        "crash of the process (never half-written either way), with fewer disk flushes.",
    )

    @field_validator("database_url")
    @classmethod
    def _psycopg_driver(cls, url: str | None) -> str | None:
        """``postgres://`` and ``postgresql://`` URLs use psycopg 3, not psycopg2."""
        if not url:
            return None
        for prefix in ("postgres://", "postgresql://"):
            if url.startswith(prefix):
                return "postgresql+psycopg://" + url.removeprefix(prefix)
        return url

    @property
    def sqlalchemy_url(self) -> str:
        """The database URL in use: the configured one, else SQLite under ``data_dir``."""
        if self.database_url:
            return self.database_url
        return f"sqlite:///{self.data_dir / 'carealloc.db'}"


def get_settings(**overrides: object) -> Settings:
    """Settings from the environment, with explicit ``overrides`` (CLI options) on top."""
    given = {k: v for k, v in overrides.items() if v is not None}
    return Settings(**given)  # type: ignore[arg-type]
