"""The sample's ``series.yaml``: a bible from ``sample/bibles`` as the file `series add` reads."""

from __future__ import annotations

import zlib
from pathlib import Path
from typing import Any

import yaml

from writers_room.sample.bibles import Series

__all__ = ["series_document", "write_series"]


def _character_document(c: Any) -> dict[str, Any]:
    voice = {"voice": dict(c.voice)} if c.voice else {}
    return {"name": c.name, "description": c.description, "look": c.look} | voice


def series_document(series: Series) -> dict[str, Any]:
    cast = {c.short: c for c in series.characters}
    episodes = []
    for episode in series.episodes:
        shots = []
        start = 0.0
        for index, shot in enumerate(episode.shots):
            people = [cast[s] for s in shot.characters.split(",") if s]
            looks = "; ".join(f"{c.name} ({c.look})" for c in people) or "no people in frame"
            shot_id = f"s{index + 1:02d}"
            shots.append(
                {
                    "shot_id": shot_id,
                    "start_s": round(start, 3),
                    "duration_s": float(shot.duration_s),
                    "camera": shot.camera,
                    "action": shot.action,
                    "mood": shot.mood,
                    "framing": shot.framing,
                    "caption": shot.caption,
                    "dialogue": shot.dialogue,
                    "characters": [c.name for c in people],
                    "keyframe_prompt": (
                        f"{series.style}; {shot.framing}, {shot.camera}; {shot.action}; "
                        f"{shot.mood} mood; {looks}"
                    ),
                    # Stable per shot, independent of the sample seed: keyframes of an
                    # unchanged shot must not change between sample runs.
                    "seed": zlib.crc32(
                        f"{series.series_id}/{episode.episode_id}/{shot_id}".encode()
                    )
                    & 0x7FFFFFFF,
                }
            )
            start += shot.duration_s
        episodes.append(
            {
                "episode_id": episode.episode_id,
                "title": episode.title,
                "brief": {
                    "premise": episode.premise,
                    "hook": episode.hook,
                    "twist": episode.twist,
                    "payoff": episode.payoff,
                    "beats": list(episode.beats),
                    "locked_beats": list(episode.locked_beats),
                },
                "variants": list(episode.variants),
                "shots": shots,
            }
        )
    return {
        "series_id": series.series_id,
        "title": series.title,
        "premise": series.premise,
        "audience": series.audience,
        "tone_refs": list(series.tone_refs),
        "brand": series.brand,
        "characters": [_character_document(c) for c in series.characters],
        "constraints": {
            "runtime_s": [45, 90],
            "locations": list(series.locations),
            "cast": [c.name for c in series.characters],
        },
        "approvers": ["U0SHOWRUN1"],
        "episodes": episodes,
    }


def write_series(series: Series, path: Path) -> None:
    text = yaml.safe_dump(series_document(series), sort_keys=False, allow_unicode=True, width=100)
    path.write_text(text, encoding="utf-8")
