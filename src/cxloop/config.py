"""One typed settings object, read from the environment (prefix ``CXLOOP_``)."""

from __future__ import annotations

import secrets
from functools import cached_property
from pathlib import Path
from typing import Literal

from pydantic import Field, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

_INSECURE_SECRETS = {"", "changeme", "change-me", "secret", "dev", "development"}


class SettingsError(RuntimeError):
    """A setting has a bad value; the message names the environment variable."""


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="CXLOOP_", extra="ignore")

    env: Literal["development", "production", "test"] = "development"
    data_dir: Path = Path("data")
    database_url: str | None = None
    redis_url: str | None = None
    secret_key: str | None = None
    previous_secret_keys: str | None = Field(
        None,
        description="comma-separated keys that still verify after a rotation",
    )
    base_url: str = "http://127.0.0.1:8000"
    host: str = "127.0.0.1"
    port: int = Field(8000, ge=1, le=65535)
    workers: int = Field(2, ge=0, le=64, description="job-queue worker threads inside serve")
    smtp_host: str = "127.0.0.1"
    smtp_port: int = Field(25, ge=1, le=65535)
    smtp_user: str | None = None
    smtp_password: str | None = None
    smtp_starttls: bool = False
    smtp_from: str = "cxloop <cx@localhost>"
    max_body_bytes: int = Field(8_388_608, ge=1024)
    session_hours: int = Field(12, ge=1, le=24 * 30)
    login_max_failures: int = Field(5, ge=1, le=100)
    login_lockout_minutes: int = Field(15, ge=1)
    audit_retention_days: int = Field(365, ge=1)
    pulse_min_group: int = Field(5, ge=3)
    default_language: Literal["en", "ja"] = "en"
    text_threads: int = Field(
        1, ge=1, le=64, description="threads for each accurate or precise text analysis"
    )

    @field_validator(
        "database_url",
        "redis_url",
        "secret_key",
        "previous_secret_keys",
        "smtp_user",
        "smtp_password",
    )
    @classmethod
    def _blank_is_none(cls, value: str | None) -> str | None:
        return value or None

    @field_validator("database_url")
    @classmethod
    def _known_database(cls, value: str | None) -> str | None:
        if value and not value.startswith(("sqlite", "postgresql")):
            raise ValueError("must be a sqlite:/// or postgresql:// URL")
        if value and value.startswith("postgresql://"):
            value = "postgresql+psycopg://" + value.removeprefix("postgresql://")
        return value

    @field_validator("redis_url")
    @classmethod
    def _known_redis(cls, value: str | None) -> str | None:
        if value and not value.startswith(("redis://", "rediss://", "unix://")):
            raise ValueError("must be a redis:// URL")
        return value

    @model_validator(mode="after")
    def _secure_secret(self) -> Settings:
        if self.env == "production":
            key = self.secret_key or ""
            if key.lower() in _INSECURE_SECRETS or len(key) < 32:
                raise ValueError(
                    "CXLOOP_SECRET_KEY must be set to at least 32 random characters in production"
                )
            if any(len(old) < 32 for old in self.previous_keys):
                raise ValueError(
                    "CXLOOP_PREVIOUS_SECRET_KEYS: every previous key must be at least 32 "
                    "characters in production"
                )
        return self

    @cached_property
    def resolved_database_url(self) -> str:
        return self.database_url or f"sqlite:///{(self.data_dir / 'cxloop.db').resolve()}"

    @cached_property
    def resolved_secret_key(self) -> str:
        """The configured secret, or outside production one generated once into the data dir."""
        if self.secret_key:
            return self.secret_key
        path = self.data_dir / "secret_key"
        if path.exists():
            return path.read_text().strip()
        self.data_dir.mkdir(parents=True, exist_ok=True)
        key = secrets.token_urlsafe(48)
        path.write_text(key)
        path.chmod(0o600)
        return key

    @property
    def previous_keys(self) -> tuple[str, ...]:
        raw = self.previous_secret_keys or ""
        return tuple(k for k in (part.strip() for part in raw.split(",")) if k)

    @property
    def secret_keys(self) -> tuple[str, ...]:
        """The key ring: the current secret first (the only one that signs), then the
        previous ones, which still verify what was signed before a rotation."""
        current = self.resolved_secret_key
        return (current, *(k for k in self.previous_keys if k != current))

    @property
    def is_sqlite(self) -> bool:
        return self.resolved_database_url.startswith("sqlite")


def load_settings(**overrides: object) -> Settings:
    """Read the settings, turning a validation failure into one message per bad variable."""
    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        lines = []
        for err in exc.errors():
            loc = [str(part) for part in err["loc"] if part != "__root__"]
            name = "CXLOOP_" + loc[0].upper() if loc else "settings"
            lines.append(f"{name}: {err['msg']}")
        raise SettingsError("invalid configuration:\n  " + "\n  ".join(lines)) from None
