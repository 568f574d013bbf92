"""The one place that reads the environment.

Every setting the room understands lives on :class:`Settings`. Values come from the
environment (names in the README's Configuration table) and, optionally, from a TOML file named by
``WRITERS_ROOM_CONFIG`` (default ``writers-room.toml`` in the working directory) whose keys
are the field names below. Nothing else in the package reads ``os.environ``.
"""

from __future__ import annotations

import os
import secrets
from datetime import UTC, datetime
from functools import cached_property
from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, field_validator
from pydantic_settings import (
    BaseSettings,
    EnvSettingsSource,
    NoDecode,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

__all__ = ["Settings", "get_settings", "home_secret", "window_slug"]

CommaList = Annotated[list[str], NoDecode]
PathList = Annotated[list[str], NoDecode]


class _ContractEnvironment(EnvSettingsSource):
    """Reads only the contract's environment names, never bare field names."""

    def __init__(self, settings_cls: type[BaseSettings]) -> None:
        super().__init__(settings_cls)
        self.config = {**self.config, "populate_by_name": False, "validate_by_name": False}


class Settings(BaseSettings):
    """Configuration of one room: where its data lives and which external systems it uses."""

    # Each field reads exactly the environment name of the contract; field names work as
    # keyword arguments and TOML keys (populate_by_name), never as environment names —
    # otherwise $HOME would become the room's home.
    model_config = SettingsConfigDict(
        extra="ignore",
        populate_by_name=True,
        case_sensitive=False,
    )

    home: Path = Field(
        default=Path("./room-data"),
        validation_alias="WRITERS_ROOM_HOME",
        description="Folder holding everything the room writes.",
    )
    database_url: str | None = Field(
        default=None,
        validation_alias="WRITERS_ROOM_DATABASE_URL",
        description="SQLAlchemy URL; unset means SQLite at <home>/room.db.",
    )
    chroma_url: str | None = Field(
        default=None,
        validation_alias="WRITERS_ROOM_CHROMA_URL",
        description="http://host:port of a Chroma server; unset means embedded Chroma.",
    )
    llm: Literal["offline", "openai"] = Field(
        default="offline", validation_alias="WRITERS_ROOM_LLM"
    )
    openai_api_key: str | None = Field(default=None, validation_alias="OPENAI_API_KEY", repr=False)
    openai_base_url: str | None = Field(default=None, validation_alias="OPENAI_BASE_URL")
    llm_model: str = Field(default="gpt-4o-mini", validation_alias="WRITERS_ROOM_LLM_MODEL")
    diffusion_model: str | None = Field(
        default=None,
        validation_alias="WRITERS_ROOM_DIFFUSION_MODEL",
        description="Local path or hub id of a diffusers pipeline; unset = storyboard renderer.",
    )
    device: Literal["auto", "cpu", "cuda"] = Field(
        default="auto", validation_alias="WRITERS_ROOM_DEVICE"
    )
    render_backend: Literal["local", "ray"] = Field(
        default="local", validation_alias="WRITERS_ROOM_RENDER_BACKEND"
    )
    ray_address: str | None = Field(default=None, validation_alias="WRITERS_ROOM_RAY_ADDRESS")
    c2pa_cert: str | None = Field(
        default=None,
        validation_alias="WRITERS_ROOM_C2PA_CERT",
        description="PEM certificate chain (signing certificate first) for C2PA Content "
        "Credentials in episode.mp4; needs WRITERS_ROOM_C2PA_KEY too.",
    )
    c2pa_key: str | None = Field(
        default=None,
        validation_alias="WRITERS_ROOM_C2PA_KEY",
        description="PEM private key of the C2PA signing certificate.",
    )
    tts: Literal["espeak", "openai", "off"] = Field(
        default="espeak",
        validation_alias="WRITERS_ROOM_TTS",
        description="Temp voices of rendered dialogue: eSpeak NG (offline, shipped), an "
        "OpenAI-compatible /audio/speech endpoint, or off (subtitles only).",
    )
    tts_base_url: str | None = Field(
        default=None,
        validation_alias="WRITERS_ROOM_TTS_BASE_URL",
        description="Base URL of the speech endpoint (…/v1); unset: OPENAI_BASE_URL, then "
        "https://api.openai.com/v1.",
    )
    tts_model: str = Field(default="gpt-4o-mini-tts", validation_alias="WRITERS_ROOM_TTS_MODEL")
    tts_voices: CommaList = Field(
        default_factory=lambda: ["alloy", "ash", "coral", "echo", "fable", "nova", "onyx", "sage"],
        validation_alias="WRITERS_ROOM_TTS_VOICES",
        description="Voices of the speech endpoint, handed out to characters in cast order "
        "(a bible voice variant that names one of them wins).",
    )
    fonts: PathList = Field(
        default_factory=list,
        validation_alias="WRITERS_ROOM_FONTS",
        description=(
            "Font files for captions, storyboards and thumbnails, tried in order before the "
            "built-in Latin and DejaVu fonts; separated like PATH; file.ttc#N picks a face."
        ),
    )
    slack_bot_token: str | None = Field(
        default=None, validation_alias="SLACK_BOT_TOKEN", repr=False
    )
    slack_signing_secret: str | None = Field(
        default=None,
        validation_alias="SLACK_SIGNING_SECRET",
        repr=False,
    )
    slack_app_token: str | None = Field(
        default=None, validation_alias="SLACK_APP_TOKEN", repr=False
    )
    slack_api_url: str = Field(
        default="https://slack.com/api/",
        validation_alias="SLACK_API_URL",
    )
    approvers: CommaList = Field(
        default_factory=list,
        validation_alias="WRITERS_ROOM_APPROVERS",
        description="Slack user ids (or CLI names) allowed to approve; empty denies everyone.",
    )
    showrunners: CommaList = Field(
        default_factory=list, validation_alias="WRITERS_ROOM_SHOWRUNNERS"
    )
    writers: CommaList = Field(
        default_factory=list,
        validation_alias="WRITERS_ROOM_WRITERS",
        description=(
            "Slack user ids (or CLI names) allowed to add notes, besides the approvers and "
            "showrunners; empty = approvers and showrunners only."
        ),
    )
    channel: str | None = Field(default=None, validation_alias="WRITERS_ROOM_CHANNEL")
    window_hour: int = Field(
        default=0,
        ge=0,
        le=23,
        validation_alias="WRITERS_ROOM_WINDOW_HOUR",
        description="UTC hour at which each 24-hour metric window closes.",
    )
    pii_key: str | None = Field(
        default=None,
        validation_alias="WRITERS_ROOM_PII_KEY",
        repr=False,
        description="Key for pseudonymising author ids; unset = a random key kept in the home.",
    )
    cache_dir: Path = Field(
        default_factory=lambda: Path.home() / ".cache" / "writers-room",
        validation_alias="WRITERS_ROOM_CACHE",
        description="Machine-wide cache (the int8 embedding model built on first use).",
    )
    embed_backend: Literal["auto", "onnx", "torch"] = Field(
        default="auto",
        validation_alias="WRITERS_ROOM_EMBED_BACKEND",
        description="auto = int8 ONNX Runtime on CPU, fp16 torch on CUDA.",
    )
    embed_batch_size: int = Field(default=256, ge=1, validation_alias="WRITERS_ROOM_EMBED_BATCH")
    index_shards: int = Field(
        default=0,
        ge=0,
        le=64,
        validation_alias="WRITERS_ROOM_INDEX_SHARDS",
        description=(
            "Embedded comment index split over this many Chromas, each written by its own "
            "process; 0 = auto (1 on up to 4 cores, else 3/4 of the cores, at most 16). "
            "Applies to a new index or `writers-room index rebuild`."
        ),
    )

    public_url: str | None = Field(
        default=None,
        validation_alias="WRITERS_ROOM_PUBLIC_URL",
        description=(
            "Base URL at which people reach the review pages (a TLS proxy in front of "
            "`serve`), e.g. https://room.example.com; unset = http://127.0.0.1:<pages_port>."
        ),
    )
    pages_port: int = Field(
        default=3001,
        ge=0,
        le=65535,
        validation_alias="WRITERS_ROOM_PAGES_PORT",
        description="Port of the read-only review pages `serve` runs; 0 = no pages.",
    )
    link_ttl_s: int = Field(
        default=7 * 24 * 3600,
        ge=60,
        validation_alias="WRITERS_ROOM_LINK_TTL",
        description="Seconds a signed page link stays valid.",
    )

    @field_validator("approvers", "showrunners", "writers", "tts_voices", mode="before")
    @classmethod
    def _split_commas(cls, value: object) -> object:
        if isinstance(value, str):
            return [part.strip() for part in value.split(",") if part.strip()]
        return value

    @field_validator("fonts", mode="before")
    @classmethod
    def _split_paths(cls, value: object) -> object:
        if isinstance(value, str):
            return [part.strip() for part in value.split(os.pathsep) if part.strip()]
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
        sources: list[PydanticBaseSettingsSource] = [init_settings, _ContractEnvironment(cls)]
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

    @property
    def pages_url(self) -> str:
        """Base URL of the review pages, without a trailing slash."""
        if self.public_url:
            return self.public_url.rstrip("/")
        return f"http://127.0.0.1:{self.pages_port or 3001}"

    @cached_property
    def author_key(self) -> bytes:
        """The key that pseudonymises author ids (stable for a home)."""
        if self.pii_key:
            return self.pii_key.encode()
        return home_secret(self.home, ".pii_key").encode()

    def approver_set(self, extra: list[str] | None = None) -> frozenset[str]:
        """Approvers allowed for a series: the global list plus the series' own list."""
        return frozenset(self.approvers) | frozenset(extra or [])

    def writer_set(self, extra_approvers: list[str] | None = None) -> frozenset[str]:
        """Who may add notes to a series: writers, showrunners and the series' approvers."""
        return (
            frozenset(self.writers)
            | frozenset(self.showrunners)
            | self.approver_set(extra_approvers)
        )


def home_secret(home: Path, name: str) -> str:
    """A random key kept in the home as ``name`` (mode 0600), made on first use.

    Processes racing to make it agree: each writes its own temporary file and links it
    into place; whoever links first wins and the others read that key.
    """
    key_file = home / name
    if not key_file.exists():
        home.mkdir(parents=True, exist_ok=True)
        tmp = key_file.with_name(f"{name}.{os.getpid()}.tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as out:
            out.write(secrets.token_hex(32))
        try:
            os.link(tmp, key_file)  # fails if another process made the key first
        except FileExistsError:
            pass
        finally:
            tmp.unlink()
    return key_file.read_text().strip()


def get_settings(**overrides: object) -> Settings:
    """Build settings from the environment (and TOML), with explicit overrides on top."""
    return Settings(**overrides)  # type: ignore[arg-type]


def window_slug(window_end: str | datetime) -> str:
    """The folder name of a window under ``reports/<series>/``, as the analyst writes it:
    ``2026-11-19T00-00-00Z``.

    Takes a datetime, an ISO time (``…Z`` or ``…+00:00``) or the folder name itself.
    """
    if isinstance(window_end, str):
        try:
            moment = datetime.fromisoformat(window_end)
        except ValueError:
            return window_end  # already a folder name (page_path checks it)
    else:
        moment = window_end
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H-%M-%SZ")
