"""At most three blind AI iterations on an episode without fresh human creative input.

An *iteration* is one round of AI proposals for an episode. *Fresh human creative input*
is a writer's note or a human edit of a proposal — an approve click alone is not. The
count lives in the database (``blinditeration``), so it survives restarts. When the count
reaches the limit, or the scores of the last iterations did not improve, the room stops
proposing for that episode and escalates to the showrunners until someone writes a note.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from sqlmodel import Session

from writers_room.store.db import audit
from writers_room.store.models import BlindIteration, Note

__all__ = [
    "MAX_BLIND_ITERATIONS",
    "Escalation",
    "blocked_reason",
    "record_human_input",
    "record_iteration",
]

MAX_BLIND_ITERATIONS = 3


@dataclass(frozen=True)
class Escalation:
    episode_id: str
    reason: str
    count: int


def _row(session: Session, series_id: str, episode_id: str) -> BlindIteration:
    row = session.get(BlindIteration, (series_id, episode_id))
    if row is None:
        row = BlindIteration(series_id=series_id, episode_id=episode_id)
        session.add(row)
        session.flush()
    return row


def blocked_reason(session: Session, series_id: str, episode_id: str) -> str | None:
    """Why the room may not propose for this episode now, or ``None`` if it may."""
    row = session.get(BlindIteration, (series_id, episode_id))
    if row is None:
        return None
    if row.count >= MAX_BLIND_ITERATIONS:
        return (
            f"{row.count} AI iterations in a row without fresh human creative input "
            f"(limit {MAX_BLIND_ITERATIONS}); waiting for a writer's note"
        )
    # Each iteration records the score of the window it reacted to; if the window after
    # an AI change scored no better, more blind iterations are unlikely to help.
    if len(row.scores) >= 2 and row.scores[-1] <= row.scores[-2]:
        before, after = row.scores[-2], row.scores[-1]
        return (
            f"the last AI iteration did not improve the score ({before:.1f} → {after:.1f}); "
            "waiting for a writer's note"
        )
    return None


def record_iteration(
    session: Session, *, series_id: str, episode_id: str, score: float | None
) -> BlindIteration:
    """Count one AI iteration (proposals made without new human input) on an episode."""
    row = _row(session, series_id, episode_id)
    row.count += 1
    if score is not None:
        row.scores = [*row.scores, round(float(score), 2)]
    row.updated_at = datetime.now(UTC)
    session.add(row)
    audit(
        session,
        actor="room",
        action="iteration.recorded",
        subject=f"{series_id}/{episode_id}",
        detail={"count": row.count, "score": score},
    )
    return row


def escalate(
    session: Session, *, series_id: str, episode_id: str, reason: str, showrunners: list[str]
) -> Escalation:
    """Record an escalation to the showrunners (once per blocked stretch)."""
    row = _row(session, series_id, episode_id)
    if row.escalated_at is None:
        row.escalated_at = datetime.now(UTC)
        session.add(row)
        audit(
            session,
            actor="room",
            action="iteration.escalated",
            subject=f"{series_id}/{episode_id}",
            detail={"reason": reason, "showrunners": showrunners, "count": row.count},
        )
    return Escalation(episode_id=episode_id, reason=reason, count=row.count)


def record_human_input(
    session: Session,
    *,
    series_id: str,
    episode_id: str,
    author: str,
    text: str,
    kind: str = "note",
) -> Note:
    """Store a note or edit and reset the episode's blind-iteration count."""
    note = Note(series_id=series_id, episode_id=episode_id, author=author, text=text, kind=kind)
    session.add(note)
    row = _row(session, series_id, episode_id)
    row.count = 0
    row.scores = []
    row.escalated_at = None
    row.last_human_input_at = datetime.now(UTC)
    row.updated_at = row.last_human_input_at
    session.add(row)
    audit(
        session,
        actor=author,
        action=f"human.{kind}",
        subject=f"{series_id}/{episode_id}",
        detail={"chars": len(text)},
    )
    session.flush()
    return note
