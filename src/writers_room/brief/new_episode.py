"""What a ``new_episode`` proposal is a diff of: an episode that does not exist yet.

Every other proposal kind changes the brief version in force of an existing episode. A
drafted episode has no version in force, so its proposal is a diff of the *blank
episode* this module defines: an empty brief and a manifest that holds only the ids and
the frame (``series_id``, ``episode_id``, ``brief_version`` 1, ``fps``, ``width``,
``height`` — no ``shots``). Its changes set ``brief.title``, ``brief.premise``,
``brief.hook``, ``brief.twist``, ``brief.payoff``, ``brief.beats`` and ``manifest.shots``
(and ``manifest.fps|width|height`` when the series is not 30 fps 1080x1920), each with
``before`` = None.

The proposal's ``base_version`` is :data:`BASE_VERSION` (0): "no version yet". Applying
it writes version 1, as ``base_version + 1`` does for every other kind — the writer, the
guard and the approval gate all read the same blank base from here.
"""

from __future__ import annotations

from typing import Any

__all__ = ["BASE_VERSION", "KIND", "blank_episode", "episode_title"]

KIND = "new_episode"
BASE_VERSION = 0
"""The base version of a ``new_episode`` proposal: the episode has no version yet."""


def blank_episode(series_id: str, episode_id: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """``(brief, manifest)`` of an episode before its first version: the diff's base."""
    manifest: dict[str, Any] = {
        "series_id": series_id,
        "episode_id": episode_id,
        "brief_version": BASE_VERSION + 1,
        "fps": 30,
        "width": 1080,
        "height": 1920,
    }
    return {}, manifest


def episode_title(brief: dict[str, Any], episode_id: str) -> str:
    """The title a drafted episode is registered under (its brief's, else its id)."""
    title = str(brief.get("title") or "").strip()
    return title or episode_id
