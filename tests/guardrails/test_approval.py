"""Promises 1–4 and 19 (docs/PROMISES.md): no approval, no change — exactly once."""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path

import pytest
from guardrail_helpers import hook_proposal
from sqlmodel import func, select

from writers_room.config import Settings
from writers_room.errors import GuardrailRefusal
from writers_room.guardrails.approval import (
    AlreadyDecided,
    NotAnApprover,
    apply_proposal,
    decide,
    store_pending,
)
from writers_room.store.db import session_scope
from writers_room.store.models import (
    AuditLog,
    BlindIteration,
    BriefVersion,
    Decision,
    Episode,
    Note,
    Proposal,
)


def versions(settings: Settings) -> list[int]:
    with session_scope(settings) as session:
        rows = session.exec(select(BriefVersion).where(BriefVersion.episode_id == "ep1"))
        return sorted(r.version for r in rows)


def decisions(settings: Settings) -> int:
    with session_scope(settings) as session:
        return session.exec(select(func.count()).select_from(Decision)).one()


def test_storing_is_idempotent(room: Settings, pending: Proposal) -> None:
    with session_scope(room) as session:
        (again,) = store_pending(
            session, series_id="tiny", window_end=None, proposals=[hook_proposal()]
        )
        assert again.proposal_id == pending.proposal_id
        assert session.exec(select(func.count()).select_from(Proposal)).one() == 1
    assert pending.status == "pending" and len(pending.content_hash) == 64


def test_apply_without_approval_is_refused(room: Settings, pending: Proposal) -> None:
    with pytest.raises(GuardrailRefusal, match="no approval"):
        apply_proposal(room, pending.proposal_id)
    decide(room, pending.proposal_id, actor="U0SHOW", approve=False, note="not our tone")
    with pytest.raises(GuardrailRefusal, match="no approval"):
        apply_proposal(room, pending.proposal_id)
    assert versions(room) == [1]


def test_graph_state_is_not_authority(room: Settings, pending: Proposal) -> None:
    # Even if something flips the status by hand, apply still needs the decision row.
    with session_scope(room) as session:
        row = session.get(Proposal, pending.proposal_id)
        assert row is not None
        row.status = "approved"
        session.add(row)
    with pytest.raises(GuardrailRefusal, match="no approval"):
        apply_proposal(room, pending.proposal_id)
    assert versions(room) == [1]


def test_non_approver_changes_nothing(room: Settings, pending: Proposal) -> None:
    with pytest.raises(NotAnApprover, match="mallory is not an approver"):
        decide(room, pending.proposal_id, actor="mallory", approve=True)
    assert decisions(room) == 0
    with session_scope(room) as session:
        assert session.get(Proposal, pending.proposal_id).status == "pending"  # type: ignore[union-attr]


def test_empty_approver_lists_deny_everyone(
    room: Settings, pending: Proposal, tmp_path: Path
) -> None:
    from writers_room.store.models import Series

    with session_scope(room) as session:
        series = session.get(Series, "tiny")
        assert series is not None
        series.approvers = []
        session.add(series)
    for who in ("U0SHOW", "", "admin"):
        with pytest.raises(NotAnApprover):
            decide(room, pending.proposal_id, actor=who, approve=True)
    global_list = room.model_copy(update={"approvers": ["U0SHOW"]})
    decide(global_list, pending.proposal_id, actor="U0SHOW", approve=True)
    assert decisions(room) == 1


def test_approval_is_bound_to_the_content_shown(room: Settings, pending: Proposal) -> None:
    shown = pending.content_hash
    with session_scope(room) as session:
        row = session.get(Proposal, pending.proposal_id)
        assert row is not None
        row.content_hash = "0" * 64  # the proposal changed after it was posted
        session.add(row)
    with pytest.raises(GuardrailRefusal, match="changed after it was shown"):
        decide(room, pending.proposal_id, actor="U0SHOW", approve=True, shown_hash=shown)
    assert decisions(room) == 0


def test_approve_then_apply_writes_one_new_version(room: Settings, pending: Proposal) -> None:
    outcome = decide(room, pending.proposal_id, actor="U0SHOW", approve=True, note="go")
    assert outcome.decision.content_hash == pending.content_hash
    brief = apply_proposal(room, pending.proposal_id)
    assert brief.version == 2 and brief.source == f"proposal:{pending.proposal_id}"
    assert brief.proposal_id == pending.proposal_id
    assert brief.brief["hook"].startswith("Mara is already underwater")
    assert [s["start_s"] for s in brief.manifest["shots"]] == [0, 5, 11]
    assert brief.manifest["brief_version"] == 2
    with pytest.raises(GuardrailRefusal, match="already applied"):
        apply_proposal(room, pending.proposal_id)
    with pytest.raises(AlreadyDecided, match="already applied by U0SHOW"):
        decide(room, pending.proposal_id, actor="U0SHOW", approve=False)
    with session_scope(room) as session:
        assert session.get(Episode, ("tiny", "ep1")).current_version == 2  # type: ignore[union-attr]
        actions = [a.action for a in session.exec(select(AuditLog).order_by(AuditLog.id))]
    assert actions[-3:] == ["proposal.created", "decision.approved", "proposal.applied"]


def test_a_human_edit_is_creative_input(room: Settings, pending: Proposal) -> None:
    from writers_room.guardrails.iteration_limit import record_iteration

    with session_scope(room) as session:
        record_iteration(session, series_id="tiny", episode_id="ep1", score=40)
        record_iteration(session, series_id="tiny", episode_id="ep1", score=45)
    edited = [{"path": "brief.hook", "before": None, "after": "Theo pulls Mara out of the sea."}]
    outcome = decide(room, pending.proposal_id, actor="U0SHOW", approve=True, edited_changes=edited)
    assert outcome.decision.edited and outcome.proposal.content_hash != pending.content_hash
    assert outcome.decision.content_hash == outcome.proposal.content_hash
    assert (
        apply_proposal(room, pending.proposal_id).brief["hook"] == "Theo pulls Mara out of the sea."
    )
    with session_scope(room) as session:
        assert session.get(BlindIteration, ("tiny", "ep1")).count == 0  # type: ignore[union-attr]
        assert [n.kind for n in session.exec(select(Note))] == ["edit"]


def test_an_approval_alone_is_not_creative_input(room: Settings, pending: Proposal) -> None:
    from writers_room.guardrails.iteration_limit import record_iteration

    with session_scope(room) as session:
        record_iteration(session, series_id="tiny", episode_id="ep1", score=40)
    decide(room, pending.proposal_id, actor="U0SHOW", approve=True)
    with session_scope(room) as session:
        assert session.get(BlindIteration, ("tiny", "ep1")).count == 1  # type: ignore[union-attr]


def _race(n: int, fn: Callable[[int], str]) -> list[str]:
    """Run ``fn(0..n-1)`` in ``n`` threads released together; their results."""
    barrier = threading.Barrier(n)
    results: list[str] = []

    def run(i: int) -> None:
        barrier.wait()
        results.append(fn(i))

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(results) == n
    return results


@pytest.mark.parametrize("clicks", ["mixed", "all approve", "all reject"])
def test_twenty_concurrent_clicks_make_one_decision_and_one_apply(
    room: Settings, pending: Proposal, clicks: str
) -> None:
    """Whichever click wins, one decision; then twenty applies write at most one version.

    "mixed" lets either verdict win (both branches are asserted); the other two fix the
    winner so that the approved branch and the rejected branch each run every time.
    """
    room = room.model_copy(update={"approvers": [f"U{i}" for i in range(20)]})

    def verdict(i: int) -> bool:
        return {"mixed": i % 2 == 0, "all approve": True, "all reject": False}[clicks]

    def click(i: int) -> str:
        try:
            decide(room, pending.proposal_id, actor=f"U{i}", approve=verdict(i), note="race")
            return "decided"
        except AlreadyDecided:
            return "already"

    outcomes = _race(20, click)
    assert outcomes.count("decided") == 1 and outcomes.count("already") == 19
    assert decisions(room) == 1
    with session_scope(room) as session:
        (decision,) = session.exec(select(Decision)).all()
        status = session.get(Proposal, pending.proposal_id).status  # type: ignore[union-attr]
    assert status == decision.decision
    assert verdict(int(decision.decided_by[1:])) == (status == "approved")

    refusals: list[str] = []

    def apply(_i: int) -> str:
        try:
            apply_proposal(room, pending.proposal_id)
            return "applied"
        except GuardrailRefusal as exc:
            refusals.append(str(exc))
            return "refused"

    applied = _race(20, apply)
    with session_scope(room) as session:
        final = session.get(Proposal, pending.proposal_id).status  # type: ignore[union-attr]
        current = session.get(Episode, ("tiny", "ep1")).current_version  # type: ignore[union-attr]
    if status == "approved":
        assert applied.count("applied") == 1 and applied.count("refused") == 19
        assert versions(room) == [1, 2] and current == 2 and final == "applied"
    else:
        assert status == "rejected"
        assert applied.count("applied") == 0 and len(refusals) == 20
        assert all("no approval" in r for r in refusals)
        assert versions(room) == [1] and current == 1 and final == "rejected"


HOOKS = [
    "Mara is already underwater when the episode starts.",
    "The letter sinks before Mara can read it.",
    "A hand grabs Mara's ankle in the dark water.",
]


@pytest.fixture
def with_choices(room: Settings) -> Proposal:
    """A hook rewrite whose hook line is one of three written alternatives, plus copy."""
    from writers_room.brief.proposals import Choice

    proposal = hook_proposal(HOOKS[0]).model_copy(
        update={
            "choices": [
                Choice(slot="hook", path="brief.hook", options=HOOKS),
                Choice(slot="headline", path=None, options=["Under.", "The letter."]),
            ]
        }
    )
    with session_scope(room) as session:
        (row,) = store_pending(session, series_id="tiny", window_end=None, proposals=[proposal])
        return row


def test_an_approval_records_the_chosen_alternative_and_apply_writes_it(
    room: Settings, with_choices: Proposal
) -> None:
    from writers_room.brief.proposals import chosen_hash

    pid, digest = with_choices.proposal_id, with_choices.content_hash
    outcome = decide(room, pid, actor="U0SHOW", approve=True, shown_hash=digest, chosen=[2, 1])
    assert outcome.decision.choices == [2, 1]
    assert outcome.decision.content_hash == digest
    version = apply_proposal(room, pid)
    assert version.brief["hook"] == HOOKS[2]  # the third option, written over the first
    assert version.manifest["shots"][1]["duration_s"] == 6  # the rest of the change stands
    with session_scope(room) as session:
        entry = session.exec(select(AuditLog).where(AuditLog.action == "decision.approved")).one()
    # The audit row binds the content and the picks together.
    assert entry.detail["choices"] == [2, 1]
    assert entry.detail["approved_hash"] == chosen_hash(digest, [2, 1]) != digest
    assert chosen_hash(digest, [0, 0]) == digest  # the proposal as written: its own hash


def test_the_first_alternatives_are_the_default_and_bad_picks_decide_nothing(
    room: Settings, with_choices: Proposal
) -> None:
    from writers_room.errors import InputError

    pid = with_choices.proposal_id
    for bad in ([5, 0], [0], [0, 0, 0]):
        with pytest.raises(InputError, match="nothing was decided"):
            decide(room, pid, actor="U0SHOW", approve=True, chosen=bad)
    assert decisions(room) == 0
    outcome = decide(room, pid, actor="U0SHOW", approve=True)
    assert outcome.decision.choices == [0, 0]
    assert apply_proposal(room, pid).brief["hook"] == HOOKS[0]


def test_a_rejection_records_no_picks(room: Settings, with_choices: Proposal) -> None:
    outcome = decide(
        room, with_choices.proposal_id, actor="U0SHOW", approve=False, note="no", chosen=[1, 1]
    )
    assert outcome.decision.choices is None
