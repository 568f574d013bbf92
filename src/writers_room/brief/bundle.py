"""The series bundle (``series.yaml``): premise, brand, bible, constraints, episodes.

These pydantic models are the validated shape of what ``writers-room series add`` takes.
Every AI output traces back to the :class:`Brief` of an episode.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from writers_room.brief.manifest import Shot, ShotManifest
from writers_room.errors import InputError

__all__ = [
    "Brand",
    "Brief",
    "Character",
    "Constraints",
    "EpisodeSpec",
    "SeriesBundle",
    "load_bundle",
]


class Brand(BaseModel):
    model_config = ConfigDict(extra="ignore")

    voice: str = Field(default="", description="How the series sounds, in a sentence.")
    banned_terms: list[str] = Field(default_factory=list)
    sensitive_topics: list[str] = Field(default_factory=list)
    rating: str = Field(default="PG-13")


class Character(BaseModel):
    model_config = ConfigDict(extra="ignore")

    name: str = Field(min_length=1)
    description: str = ""


class Constraints(BaseModel):
    model_config = ConfigDict(extra="ignore")

    runtime_s: tuple[float, float] = Field(default=(45.0, 90.0))
    locations: list[str] = Field(default_factory=list)
    cast: list[str] = Field(default_factory=list)

    @model_validator(mode="after")
    def _check_runtime(self) -> Constraints:
        low, high = self.runtime_s
        if not 0 < low <= high:
            raise ValueError(f"runtime_s must be [min, max] with 0 < min <= max, got {[low, high]}")
        return self


class Brief(BaseModel):
    """The creative brief of one episode; proposals are field-level diffs of it."""

    model_config = ConfigDict(extra="ignore")

    premise: str = Field(min_length=1, description="The episode in one sentence.")
    hook: str = Field(min_length=1, description="What grabs the viewer in the first 3 seconds.")
    twist: str = Field(default="", description="The turn in the middle.")
    payoff: str = Field(default="", description="The ending / cliffhanger.")
    beats: list[str] = Field(default_factory=list, description="Emotional beats, in order.")
    locked_beats: list[str] = Field(
        default_factory=list, description="Beats the showrunner has locked; proposals keep them."
    )


class EpisodeSpec(BaseModel):
    model_config = ConfigDict(extra="ignore")

    episode_id: str = Field(min_length=1)
    title: str = Field(min_length=1)
    brief: Brief
    shots: list[Shot] = Field(min_length=1)
    fps: int = 30
    width: int = 1080
    height: int = 1920
    variants: list[str] = Field(
        default_factory=list, description="Variant ids (thumbnail/hook/caption) in distribution."
    )

    def manifest(self, series_id: str, brief_version: int = 1) -> ShotManifest:
        return ShotManifest(
            series_id=series_id,
            episode_id=self.episode_id,
            brief_version=brief_version,
            fps=self.fps,
            width=self.width,
            height=self.height,
            shots=self.shots,
        )


class SeriesBundle(BaseModel):
    """A whole ``series.yaml``."""

    model_config = ConfigDict(extra="ignore")

    series_id: str = Field(min_length=1, pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")
    title: str = Field(min_length=1)
    premise: str = Field(min_length=1)
    audience: str = ""
    tone_refs: list[str] = Field(default_factory=list)
    brand: Brand = Field(default_factory=Brand)
    characters: list[Character] = Field(default_factory=list)
    constraints: Constraints = Field(default_factory=Constraints)
    approvers: list[str] = Field(default_factory=list)
    episodes: list[EpisodeSpec] = Field(default_factory=list)

    @model_validator(mode="after")
    def _check_episodes(self) -> SeriesBundle:
        seen: set[str] = set()
        for index, episode in enumerate(self.episodes):
            if episode.episode_id in seen:
                raise ValueError(
                    f"episodes[{index}].episode_id {episode.episode_id!r} is used twice"
                )
            seen.add(episode.episode_id)
            # Validates timings, ids and sizes of the shots with the manifest's own rules.
            try:
                episode.manifest(self.series_id)
            except ValidationError as exc:
                first = exc.errors()[0]
                raise ValueError(
                    f"episodes[{index}] ({episode.episode_id}): {first['msg']}"
                ) from None
        return self


def _format_loc(loc: tuple[Any, ...]) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def load_bundle(path: Path) -> SeriesBundle:
    """Read and validate a ``series.yaml``; errors name the file and the field."""
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise InputError(f"{path}: no such file") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else None
        raise InputError(f"{path}: not valid YAML ({exc})", file=str(path), line=line) from None
    if not isinstance(raw, dict):
        raise InputError(f"{path}: expected a mapping at the top level", file=str(path))
    try:
        return SeriesBundle.model_validate(raw)
    except ValidationError as exc:
        err = exc.errors()[0]
        field = _format_loc(err["loc"]) or "(top level)"
        value = err.get("input")
        shown = repr(value) if not isinstance(value, dict | list) else type(value).__name__
        raise InputError(
            f"{path}: field {field}: {err['msg']} (value: {shown})",
            file=str(path),
            field=field,
        ) from None
