"""State and run-time context of the window-review graph."""

from __future__ import annotations

import operator
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Annotated, Any

from typing_extensions import TypedDict

from writers_room.config import Settings

__all__ = ["ReviewContext", "ReviewState"]


def _merge(left: dict[str, Any], right: dict[str, Any]) -> dict[str, Any]:
    return {**left, **right}


class ReviewState(TypedDict, total=False):
    """What the graph carries between steps (JSON-serialisable; checkpointed each step).

    The database stays the authority for proposals and decisions; the state only
    remembers what this run has done so a resumed step does not redo it.
    """

    series_id: str
    window_end: str
    report: dict[str, Any]
    # Episodes the room may propose for this window, why others are blocked, and those
    # whose proposal from an earlier review still waits for a decision (episode → id).
    episodes: list[str]
    blocked: Annotated[dict[str, str], _merge]
    waiting: dict[str, str]
    # Candidate proposals of the current ideation round, keyed by episode.
    candidates: dict[str, list[dict[str, Any]]]
    feedback: dict[str, list[str]]
    revisions: int
    dropped: Annotated[list[dict[str, Any]], operator.add]
    pending: list[str]
    decisions: Annotated[list[int], operator.add]
    applied: Annotated[list[str], operator.add]
    renders: Annotated[list[str], operator.add]


@dataclass
class ReviewContext:
    """Run-time context (never checkpointed): settings and the agents to call.

    Each agent has the real implementation as its default; tests swap the ideator for a
    scripted one the way they would swap an LLM.
    """

    settings: Settings
    analyst: Callable[..., Any] | None = None
    ideator: Any = None
    guard: Callable[..., Any] | None = None
    extra: dict[str, Any] = field(default_factory=dict)
    guard_contexts: dict[str, Any] = field(default_factory=dict)
    """The guard's context of each episode, built by ``ideate`` together with the
    ideator's and read by ``brand_guard`` in the same run (a run resumed at the guard
    builds it again)."""
