"""State, run-time context and reply of the chat graph."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Annotated, Any

from pydantic import BaseModel, Field
from typing_extensions import TypedDict

from writers_room.config import Settings

__all__ = ["HISTORY", "ChatContext", "ChatReply", "ChatState"]

# Turns of a thread kept in its state (enough for follow-ups, small to checkpoint).
HISTORY = 20


def _merge(left: dict[str, str], right: dict[str, str]) -> dict[str, str]:
    return {**left, **right}


def _recent(left: list[dict[str, Any]], right: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return (left + right)[-HISTORY:]


class ChatReply(BaseModel):
    """What the room answers to one message; front ends (Slack, terminal) render it."""

    text: str = Field(description="The answer, in Slack mrkdwn (readable as plain text).")
    intent: str = Field(description="The intent the router chose.")
    series_id: str | None = None
    episode_id: str | None = None
    proposals: list[str] = Field(
        default_factory=list, description="Proposal ids to present with decision buttons."
    )
    decided: list[str] = Field(
        default_factory=list, description="Proposal ids this turn decided (to update posts)."
    )
    review_thread: str | None = Field(
        default=None, description="Window-review thread this turn started or found."
    )
    files: list[str] = Field(default_factory=list, description="Chart PNGs to attach.")
    refused: bool = Field(default=False, description="A guardrail said no.")


class ChatState(TypedDict, total=False):
    """One conversation (a Slack thread, a DM, a terminal session), checkpointed per turn.

    ``series_id``, ``episode_id`` and ``last_intent`` carry the context between turns
    ("and episode 4?"); ``episode_ids`` are all the episodes the last message named
    (compare); ``pending`` is a read-only question waiting for "which series?"; ``shown``
    remembers the content hash of each proposal shown in this conversation, so a typed
    "approve" is bound to what the person saw.
    """

    text: str
    user: str
    series_id: str | None
    episode_id: str | None
    episode_ids: list[str]
    last_intent: str | None
    pending: str | None
    route: dict[str, Any]
    shown: Annotated[dict[str, str], _merge]
    reply: dict[str, Any]
    turns: Annotated[list[dict[str, Any]], _recent]


@dataclass
class ChatContext:
    """Run-time context (never checkpointed).

    Attributes:
        settings: the room.
        router: a :class:`~writers_room.graphs.chat.router.Router` (shared per process so
            the example vectors are embedded once).
        review_agents: agents passed to ``start_review`` / ``decide_and_resume`` (tests
            swap in scripted ones, as they would swap an LLM).
        search_comments: look up comments near the question in the comment index.
    """

    settings: Settings
    router: Any
    review_agents: dict[str, Any] | None = None
    search_comments: bool = True
    extra: dict[str, Any] = field(default_factory=dict)
