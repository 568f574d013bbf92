"""The sweeper finishes a decision on a proposal outside any review (RELIABILITY.md 21)."""

from __future__ import annotations

import pytest
from sqlmodel import select

from writers_room.config import Settings
from writers_room.graphs.window_review import sweep as sweeper
from writers_room.guardrails.approval import decide
from writers_room.store.db import session_scope
from writers_room.store.models import AuditLog, BriefVersion, Proposal, RenderJob


def test_a_decision_recorded_before_a_crash_is_applied_and_rendered_once(
    room: Settings, pending: Proposal, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The process that recorded the decision died before applying it.
    decide(room, pending.proposal_id, actor="U0SHOW", approve=True)
    assert [u.proposal_id for u in sweeper.undelivered(room)] == [pending.proposal_id]
    # A fresh decision is left to the process that made it for a few seconds ...
    assert sweeper.sweep(room).delivered == []
    # ... and then finished by whichever process sweeps.
    monkeypatch.setattr(sweeper, "UNTHREADED_GRACE_S", 0.0)
    assert sweeper.sweep(room).delivered == [pending.proposal_id]
    assert sweeper.sweep(room).delivered == []
    with session_scope(room) as session:
        proposal = session.get(Proposal, pending.proposal_id)
        assert proposal is not None and proposal.status == "applied"
        versions = session.exec(
            select(BriefVersion.version).where(BriefVersion.episode_id == pending.episode_id)
        ).all()
        assert sorted(versions) == [1, 2]
        assert len(session.exec(select(RenderJob)).all()) == 1
        marks = session.exec(select(AuditLog).where(AuditLog.action == sweeper.FINISHED)).all()
        assert [m.subject for m in marks] == [pending.proposal_id]
    assert sweeper.undelivered(room) == []
