"""The sample room's two series bibles: YAML package data, read into typed records.

Each ``bibles/<series_id>.yaml`` holds one series: premise, brand, cast, episodes with
their shot lists, the planted problems, and the comment themes the simulator draws from.
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib import resources
from typing import Any, NamedTuple

import yaml

__all__ = ["SERIES", "Character", "Episode", "Series", "Shot", "load_series"]

# In the order the sample writes them (the seeded streams depend on it).
_SERIES_IDS = ("harbor-hearts", "neon-heist")


class Shot(NamedTuple):
    duration_s: float
    framing: str
    camera: str
    characters: str  # comma-separated short names, expanded with the series' cast map
    action: str
    mood: str
    caption: str = ""
    dialogue: str = ""


class Episode(NamedTuple):
    episode_id: str
    title: str
    premise: str
    hook: str
    twist: str
    payoff: str
    beats: tuple[str, ...]
    locked_beats: tuple[str, ...]
    variants: tuple[str, ...]
    shots: tuple[Shot, ...]


class Character(NamedTuple):
    short: str
    name: str
    description: str
    look: str  # visual shorthand for keyframe prompts and storyboard figures
    voice: dict[str, Any] | None = None  # temp voice: variant, pitch, rate


@dataclass(frozen=True)
class Series:
    series_id: str
    title: str
    premise: str
    audience: str
    tone_refs: tuple[str, ...]
    brand: dict[str, Any]
    characters: tuple[Character, ...]
    locations: tuple[str, ...]
    style: str
    episodes: tuple[Episode, ...]
    planted: dict[str, str]
    impression_weight: float
    # Comment themes: name -> templates; then which themes each episode draws from.
    themes: dict[str, tuple[str, ...]]
    shared_themes: tuple[tuple[str, float], ...]
    episode_themes: dict[str, tuple[tuple[str, float], ...]]
    spam_url: str


def _weights(items: list[list[Any]]) -> tuple[tuple[str, float], ...]:
    return tuple((str(name), weight) for name, weight in items)


def _episode(doc: dict[str, Any]) -> Episode:
    return Episode(
        **{
            **doc,
            "beats": tuple(doc["beats"]),
            "locked_beats": tuple(doc["locked_beats"]),
            "variants": tuple(doc["variants"]),
            "shots": tuple(Shot(**shot) for shot in doc["shots"]),
        }
    )


def load_series(series_id: str) -> Series:
    """One bible, read from the package's ``bibles/<series_id>.yaml``."""
    text = resources.files(__package__).joinpath("bibles", f"{series_id}.yaml").read_text("utf-8")
    doc = yaml.safe_load(text)
    return Series(
        **{
            **doc,
            "tone_refs": tuple(doc["tone_refs"]),
            "characters": tuple(Character(**c) for c in doc["characters"]),
            "locations": tuple(doc["locations"]),
            "episodes": tuple(_episode(e) for e in doc["episodes"]),
            "themes": {name: tuple(texts) for name, texts in doc["themes"].items()},
            "shared_themes": _weights(doc["shared_themes"]),
            "episode_themes": {ep: _weights(w) for ep, w in doc["episode_themes"].items()},
        }
    )


SERIES: tuple[Series, ...] = tuple(load_series(series_id) for series_id in _SERIES_IDS)
