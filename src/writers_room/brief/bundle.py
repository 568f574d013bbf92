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
from writers_room.render.validate import SAFE_ID_RULE, is_safe_id

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
    title: str = Field(default="", description="Distribution title, when a proposal set one.")
    default_variant: str = Field(
        default="", description="The variant distribution serves by default, once promoted."
    )

    def stored(self) -> dict[str, Any]:
        """The brief as stored: fields only a proposal sets are left out until set."""
        unset = {name for name in ("title", "default_variant") if not getattr(self, name)}
        return self.model_dump(exclude=unset)


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


def _node_line(node: yaml.Node | None, loc: tuple[Any, ...]) -> int | None:
    """The 1-based line of the YAML node at ``loc`` (or of its nearest parent found)."""
    line = node.start_mark.line + 1 if node is not None else None
    for part in loc:
        child: yaml.Node | None = None
        if isinstance(node, yaml.MappingNode):
            for key, value in node.value:
                if isinstance(key, yaml.ScalarNode) and key.value == str(part):
                    child = value
                    break
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int):
            child = node.value[part] if 0 <= part < len(node.value) else None
        if child is None:
            break
        node = child
        line = node.start_mark.line + 1
    return line


def _parse_yaml(path: Path) -> tuple[Any, yaml.Node | None]:
    """The document and its node tree (for line numbers); errors name file and line."""
    if path.is_dir():
        raise InputError(f"{path}: is a directory, not a series.yaml", file=str(path))
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise InputError(f"{path}: no such file", file=str(path)) from None
    except OSError as exc:
        raise InputError(f"{path}: cannot be read ({exc.strerror})", file=str(path)) from None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise InputError(
            f"{path}:{line}: not UTF-8 text (byte 0x{data[exc.start]:02x}); save the file as UTF-8",
            file=str(path),
            line=line,
        ) from None
    loader: yaml.SafeLoader | None = None
    try:
        loader = yaml.SafeLoader(text)  # checks the characters first: may raise
        node = loader.get_single_node()
        return (loader.construct_document(node) if node is not None else None), node
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        at: int | None = mark.line + 1 if mark is not None else None
        where = f"{path}:{at}" if at else str(path)
        raise InputError(f"{where}: not valid YAML ({exc})", file=str(path), line=at) from None
    except (ValueError, TypeError, OverflowError, RecursionError) as exc:
        # A scalar YAML types but cannot build (a 13th month), or nesting too deep.
        reason = "nested too deeply" if isinstance(exc, RecursionError) else str(exc)
        raise InputError(f"{path}: not valid YAML ({reason})", file=str(path)) from None
    finally:
        if loader is not None:
            loader.dispose()


def _check_ids(path: Path, raw: dict[str, Any], node: yaml.Node | None) -> None:
    """Ids must be safe folder names and unique in their list; errors name both lines."""

    def refuse(loc: tuple[Any, ...], message: str, value: Any) -> None:
        line = _node_line(node, loc)
        raise InputError(
            f"{path}:{line}: field {_format_loc(loc)}: {message}",
            file=str(path),
            line=line,
            field=_format_loc(loc),
            value=value,
        )

    def check(loc: tuple[Any, ...], value: Any, seen: dict[str, int | None]) -> None:
        if not isinstance(value, str):
            return  # the model names the wrong type
        if not is_safe_id(value):
            refuse(loc, f"{value!r} is not a safe id: use {SAFE_ID_RULE}", value)
        if value in seen:
            refuse(
                loc,
                f"{value!r} is used twice (lines {seen[value]} and {_node_line(node, loc)})",
                value,
            )
        seen[value] = _node_line(node, loc)

    check(("series_id",), raw.get("series_id"), {})
    episodes = raw.get("episodes")
    if not isinstance(episodes, list):
        return
    episode_ids: dict[str, int | None] = {}
    for index, episode in enumerate(episodes):
        if not isinstance(episode, dict):
            continue
        check(("episodes", index, "episode_id"), episode.get("episode_id"), episode_ids)
        shots = episode.get("shots")
        if not isinstance(shots, list):
            continue
        shot_ids: dict[str, int | None] = {}
        for number, shot in enumerate(shots):
            if isinstance(shot, dict):
                loc = ("episodes", index, "shots", number, "shot_id")
                check(loc, shot.get("shot_id"), shot_ids)


def load_bundle(path: Path) -> SeriesBundle:
    """Read and validate a ``series.yaml``; errors name the file, the line and the field."""
    raw, node = _parse_yaml(path)
    if not isinstance(raw, dict):
        raise InputError(f"{path}: expected a mapping at the top level", file=str(path))
    _check_ids(path, raw, node)
    try:
        return SeriesBundle.model_validate(raw)
    except ValidationError as exc:
        err = exc.errors()[0]
        field = _format_loc(err["loc"]) or "(top level)"
        line = _node_line(node, tuple(err["loc"])) if err["loc"] else None
        value = err.get("input")
        shown = repr(value) if not isinstance(value, dict | list) else type(value).__name__
        where = f"{path}:{line}" if line else str(path)
        raise InputError(
            f"{where}: field {field}: {err['msg']} (value: {shown})",
            file=str(path),
            line=line,
            field=field,
        ) from None
