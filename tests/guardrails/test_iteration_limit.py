"""Promise 8 (docs/PROMISES.md): at most three blind AI iterations; only humans reset it."""

from __future__ import annotations

from sqlmodel import select

from writers_room.config import Settings
from writers_room.guardrails.approval import add_note
from writers_room.guardrails.iteration_limit import (
    blocked_reason,
    escalate,
    record_iteration,
)
from writers_room.store.db import dispose_engines, session_scope
from writers_room.store.models import AuditLog


def test_three_blind_iterations_then_blocked_across_a_restart(room: Settings) -> None:
    for score in (30.0, 35.0):
        with session_scope(room) as session:
            assert blocked_reason(session, "tiny", "ep1") is None
            record_iteration(session, series_id="tiny", episode_id="ep1", score=score)
    with session_scope(room) as session:
        record_iteration(session, series_id="tiny", episode_id="ep1", score=41.0)
    dispose_engines()  # a restart: nothing is kept in memory
    with session_scope(room) as session:
        reason = blocked_reason(session, "tiny", "ep1")
        assert reason is not None and "3 AI iterations" in reason
        escalate(session, series_id="tiny", episode_id="ep1", reason=reason, showrunners=["U9"])
        escalate(session, series_id="tiny", episode_id="ep1", reason=reason, showrunners=["U9"])
        assert blocked_reason(session, "tiny", "ep2") is None
    with session_scope(room) as session:
        escalations = session.exec(
            select(AuditLog).where(AuditLog.action == "iteration.escalated")
        ).all()
        assert len(escalations) == 1 and escalations[0].detail["showrunners"] == ["U9"]
    writers = room.model_copy(update={"writers": ["ana"]})
    add_note(writers, series_id="tiny", episode_id="ep1", author="ana", text="Make Theo colder.")
    with session_scope(room) as session:
        assert blocked_reason(session, "tiny", "ep1") is None


def test_no_improvement_escalates_early(room: Settings) -> None:
    with session_scope(room) as session:
        record_iteration(session, series_id="tiny", episode_id="ep1", score=48.0)
        assert blocked_reason(session, "tiny", "ep1") is None
        record_iteration(session, series_id="tiny", episode_id="ep1", score=47.5)
        reason = blocked_reason(session, "tiny", "ep1")
    assert reason is not None and "did not improve" in reason and "48.0 → 47.5" in reason
