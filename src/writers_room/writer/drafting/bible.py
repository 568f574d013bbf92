"""The material a draft is written from: the series (:class:`StoryBible`), its episodes so
far (:class:`PriorEpisode`), what their keyframe prompts and turns say, and the next
episode's id. :data:`Vetter` is the caller's say on every text that goes into a draft.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from writers_room.brief.bundle import Brand, Constraints
from writers_room.brief.script import content_words, parse_dialogue
from writers_room.writer.drafting.lexicon import COMMON, META
from writers_room.writer.drafting.people import Person

Vetter = Callable[[str], bool]
"""Says whether a text may go into the draft (brand, names, no copied comment)."""


@dataclass(frozen=True)
class PriorEpisode:
    episode_id: str
    title: str
    position: int
    brief: Mapping[str, Any]
    manifest: Mapping[str, Any]

    @property
    def shots(self) -> list[dict[str, Any]]:
        return [dict(s) for s in self.manifest.get("shots", []) or []]

    @property
    def runtime_s(self) -> float:
        return sum(float(s.get("duration_s", 0)) for s in self.shots)


@dataclass(frozen=True)
class StoryBible:
    """Everything the drafter reads about the series (no database handles)."""

    series_id: str
    title: str
    premise: str
    brand: Brand
    constraints: Constraints
    people: tuple[Person, ...]
    locations: tuple[str, ...]
    style: str
    episodes: tuple[PriorEpisode, ...]

    def person(self, name: str) -> Person | None:
        return next((p for p in self.people if p.name == name), None)


def style_from_prompts(episodes: Sequence[PriorEpisode]) -> str:
    """The series' visual style: the part before the first ``;`` its keyframe prompts share."""
    heads = Counter(
        str(s.get("keyframe_prompt", "")).split(";")[0].strip()
        for e in episodes
        for s in e.shots
        if ";" in str(s.get("keyframe_prompt", ""))
    )
    if not heads:
        return ""
    head, count = heads.most_common(1)[0]
    return head if count >= 2 else ""


def looks_from_prompts(episodes: Sequence[PriorEpisode], names: Sequence[str]) -> dict[str, str]:
    """Each character's look as the episodes' keyframe prompts give it: ``Name (look)``."""
    looks: dict[str, str] = {}
    for episode in episodes:
        for shot in episode.shots:
            prompt = str(shot.get("keyframe_prompt", ""))
            for name in names:
                if name in looks:
                    continue
                found = re.search(re.escape(name) + r" \(([^()]{3,120})\)", prompt)
                if found:
                    looks[name] = found.group(1).strip()
    return looks


def story_anchors(episodes: Sequence[PriorEpisode], extra: Sequence[str] = ()) -> set[str]:
    """Stems of the words the episodes put on screen and in their turns (not show talk)."""
    texts = list(extra)
    for episode in episodes:
        brief = episode.brief
        texts += [str(brief.get(k, "")) for k in ("premise", "hook", "twist", "payoff")]
        texts += [str(b) for b in brief.get("beats", []) or []]
        for shot in episode.shots:
            texts += [str(shot.get(k, "")) for k in ("action", "caption")]
            texts += [text for _, _, text in parse_dialogue(str(shot.get("dialogue", "")))]
    words: set[str] = set()
    for text in texts:
        words |= content_words(text)
    return {
        w
        for w in words
        if w not in META and w not in COMMON and len(w) >= 3 and "'" not in w and w.isalpha()
    }


def next_episode_id(existing: Sequence[str]) -> str:
    """The next free id in the series' own pattern (``ep08`` → ``ep09``, ``e7`` → ``e8``)."""
    patterns: Counter[tuple[str, int]] = Counter()
    highest: dict[tuple[str, int], int] = {}
    for episode_id in existing:
        found = re.fullmatch(r"(.*?)(\d+)", episode_id)
        if found:
            key = (found.group(1), len(found.group(2)))
            patterns[key] += 1
            highest[key] = max(highest.get(key, 0), int(found.group(2)))
    taken = set(existing)
    if patterns:
        (prefix, width), _ = patterns.most_common(1)[0]
        number = highest[(prefix, width)] + 1
    else:
        prefix, width, number = "ep", 2, len(existing) + 1
    while True:
        candidate = f"{prefix}{number:0{width}d}"
        if candidate not in taken:
            return candidate
        number += 1
