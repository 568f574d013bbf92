"""At most three blind AI iterations on an episode without fresh human creative input.

An *iteration* is one round of AI proposals for an episode. *Fresh human creative input*
is a writer's note or a human edit of a proposal — an approve click alone is not. The
count lives in the database (``blinditeration``), so it survives restarts. When the count
reaches the limit, or the scores of the last iterations did not improve, the room stops
proposing for that episode and escalates to the showrunners until someone writes a note.

The same happens when the outcome of a published AI change is in and it did not work: the
window review stores one :class:`Outcome` per published change (``analyst.outcomes``), and
a final ``no_change`` or ``worse`` on the newest change published since the last human
input blocks the episode like a non-improving score — the room's theory of the problem was
wrong, and another blind guess is not the answer.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from sqlmodel import Session, select

from writers_room.store.db import audit
from writers_room.store.models import BlindIteration, Note, Outcome

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
    failed = _failed_outcome(session, series_id, episode_id, row)
    if row is None:
        return failed
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
    return failed


def _failed_outcome(
    session: Session, series_id: str, episode_id: str, row: BlindIteration | None
) -> str | None:
    """Why the newest published change since the last human input did not count as
    working (``no_change`` or ``worse`` in its newest review), or ``None``."""
    since = row.last_human_input_at if row is not None else None
    outcomes = session.exec(
        select(Outcome)
        .where(
            Outcome.series_id == series_id,
            Outcome.episode_id == episode_id,
            Outcome.verdict != "too_early",
        )
        .order_by(Outcome.published_at.desc(), Outcome.window_end.desc())  # type: ignore[attr-defined]
    ).first()
    if outcomes is None or outcomes.verdict not in ("no_change", "worse"):
        return None
    if since is not None and outcomes.published_at <= since:
        return None
    label = outcomes.detail.get("summary") or f"{outcomes.metric}: {outcomes.verdict}"
    return (
        f"the last published change ({outcomes.proposal_id}) did not work: {label}; "
        "waiting for a writer's note"
    )


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
