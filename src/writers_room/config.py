"""The one place that reads the environment.

Every setting the room understands lives on :class:`Settings`. Values come from the
environment (names in ``CONTRACT.md``) and, optionally, from a TOML file named by
``WRITERS_ROOM_CONFIG`` (default ``writers-room.toml`` in the working directory) whose keys
are the field names below. Nothing else in the package reads ``os.environ``.
"""

from __future__ import annotations

import os
import secrets
from functools import cached_property
from pathlib import Path
from typing import Annotated, Literal

from pydantic import AliasChoices, Field, field_validator
from pydantic_settings import (
    BaseSettings,
    NoDecode,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

__all__ = ["Settings", "get_settings"]

CommaList = Annotated[list[str], NoDecode]


def _env(name: str, *more: str) -> AliasChoices:
    return AliasChoices(name, *more)


class Settings(BaseSettings):
    """Configuration of one room: where its data lives and which external systems it uses."""

    model_config = SettingsConfigDict(
        extra="ignore",
        populate_by_name=True,
        case_sensitive=False,
    )

    home: Path = Field(
        default=Path("./room-data"),
        validation_alias=_env("WRITERS_ROOM_HOME", "home"),
        description="Folder holding everything the room writes.",
    )
    database_url: str | None = Field(
        default=None,
        validation_alias=_env("WRITERS_ROOM_DATABASE_URL", "database_url"),
        description="SQLAlchemy URL; unset means SQLite at <home>/room.db.",
    )
    chroma_url: str | None = Field(
        default=None,
        validation_alias=_env("WRITERS_ROOM_CHROMA_URL", "chroma_url"),
        description="http://host:port of a Chroma server; unset means embedded Chroma.",
    )
    llm: Literal["offline", "openai"] = Field(
        default="offline", validation_alias=_env("WRITERS_ROOM_LLM", "llm")
    )
    openai_api_key: str | None = Field(
        default=None, validation_alias=_env("OPENAI_API_KEY", "openai_api_key"), repr=False
    )
    openai_base_url: str | None = Field(
        default=None, validation_alias=_env("OPENAI_BASE_URL", "openai_base_url")
    )
    llm_model: str = Field(
        default="gpt-4o-mini", validation_alias=_env("WRITERS_ROOM_LLM_MODEL", "llm_model")
    )
    diffusion_model: str | None = Field(
        default=None,
        validation_alias=_env("WRITERS_ROOM_DIFFUSION_MODEL", "diffusion_model"),
        description="Local path or hub id of a diffusers pipeline; unset = storyboard renderer.",
    )
    device: Literal["auto", "cpu", "cuda"] = Field(
        default="auto", validation_alias=_env("WRITERS_ROOM_DEVICE", "device")
    )
    render_backend: Literal["local", "ray"] = Field(
        default="local", validation_alias=_env("WRITERS_ROOM_RENDER_BACKEND", "render_backend")
    )
    ray_address: str | None = Field(
        default=None, validation_alias=_env("WRITERS_ROOM_RAY_ADDRESS", "ray_address")
    )
    slack_bot_token: str | None = Field(
        default=None, validation_alias=_env("SLACK_BOT_TOKEN", "slack_bot_token"), repr=False
    )
    slack_signing_secret: str | None = Field(
        default=None,
        validation_alias=_env("SLACK_SIGNING_SECRET", "slack_signing_secret"),
        repr=False,
    )
    slack_app_token: str | None = Field(
        default=None, validation_alias=_env("SLACK_APP_TOKEN", "slack_app_token"), repr=False
    )
    slack_api_url: str = Field(
        default="https://slack.com/api/",
        validation_alias=_env("SLACK_API_URL", "slack_api_url"),
    )
    approvers: CommaList = Field(
        default_factory=list,
        validation_alias=_env("WRITERS_ROOM_APPROVERS", "approvers"),
        description="Slack user ids (or CLI names) allowed to approve; empty denies everyone.",
    )
    showrunners: CommaList = Field(
        default_factory=list, validation_alias=_env("WRITERS_ROOM_SHOWRUNNERS", "showrunners")
    )
    channel: str | None = Field(
        default=None, validation_alias=_env("WRITERS_ROOM_CHANNEL", "channel")
    )
    window_hour: int = Field(
        default=0,
        ge=0,
        le=23,
        validation_alias=_env("WRITERS_ROOM_WINDOW_HOUR", "window_hour"),
        description="UTC hour at which each 24-hour metric window closes.",
    )
    pii_key: str | None = Field(
        default=None,
        validation_alias=_env("WRITERS_ROOM_PII_KEY", "pii_key"),
        repr=False,
        description="Key for pseudonymising author ids; unset = a random key kept in the home.",
    )
    embed_batch_size: int = Field(
        default=256, ge=1, validation_alias=_env("WRITERS_ROOM_EMBED_BATCH", "embed_batch_size")
    )

    @field_validator("approvers", "showrunners", mode="before")
    @classmethod
    def _split_commas(cls, value: object) -> object:
        if isinstance(value, str):
            return [part.strip() for part in value.split(",") if part.strip()]
        return value

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        toml_path = Path(os.environ.get("WRITERS_ROOM_CONFIG", "writers-room.toml"))
        sources: list[PydanticBaseSettingsSource] = [init_settings, env_settings]
        if toml_path.is_file():
            sources.append(TomlConfigSettingsSource(settings_cls, toml_file=toml_path))
        return tuple(sources)

    @property
    def sqlalchemy_url(self) -> str:
        """The database URL in use: the configured one, or SQLite inside the home."""
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.home / 'room.db').resolve()}"

    @property
    def chroma_path(self) -> Path:
        return self.home / "chroma"

    @property
    def events_path(self) -> Path:
        return self.home / "events"

    @property
    def reports_path(self) -> Path:
        return self.home / "reports"

    @property
    def renders_path(self) -> Path:
        return self.home / "renders"

    @cached_property
    def author_key(self) -> bytes:
        """The key that pseudonymises author ids (stable for a home)."""
        if self.pii_key:
            return self.pii_key.encode()
        key_file = self.home / ".pii_key"
        if not key_file.exists():
            self.home.mkdir(parents=True, exist_ok=True)
            tmp = key_file.with_name(f".pii_key.{os.getpid()}.tmp")
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(fd, "w") as out:
                out.write(secrets.token_hex(32))
            try:
                # link() fails if another process won the race; its key is the key.
                os.link(tmp, key_file)
            except FileExistsError:
                pass
            finally:
                tmp.unlink()
        return key_file.read_text().strip().encode()

    def approver_set(self, extra: list[str] | None = None) -> frozenset[str]:
        """Approvers allowed for a series: the global list plus the series' own list."""
        return frozenset(self.approvers) | frozenset(extra or [])


def get_settings(**overrides: object) -> Settings:
    """Build settings from the environment (and TOML), with explicit overrides on top."""
    return Settings(**overrides)  # type: ignore[arg-type]
