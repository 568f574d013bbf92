"""The window-review graph: the exact stream, the approval gate, and promises 1–7."""

from __future__ import annotations

import multiprocessing
import os
import signal
import threading
import time
from datetime import timedelta
from typing import Any

import pytest
from sqlmodel import func, select

from writers_room.config import Settings
from writers_room.errors import GuardrailRefusal
from writers_room.graphs._checkpoint import checkpointer
from writers_room.graphs.window_review.graph import builder
from writers_room.graphs.window_review.run import (
    decide_and_resume,
    deliver_decisions,
    pending_interrupts,
    resume,
    start_review,
)
from writers_room.graphs.window_review.state import ReviewContext
from writers_room.guardrails.approval import AlreadyDecided, NotAnApprover, decide
from writers_room.store.db import dispose_engines, session_scope
from writers_room.store.models import (
    AuditLog,
    BriefVersion,
    Decision,
    Proposal,
    RenderJob,
    WindowRun,
)
from writers_room.store.runs import thread_id_for

SERIES = "harbor-hearts"


def last_window(bundle: Any) -> Any:
    return bundle.window_start + timedelta(days=3)


def count(settings: Settings, model: Any) -> int:
    with session_scope(settings) as session:
        return int(session.exec(select(func.count()).select_from(model)).one())


def test_the_stream_stops_at_the_gate_and_resumes_exactly(room: Settings, sample_bundle) -> None:  # type: ignore[no-untyped-def]
    end = last_window(sample_bundle)
    thread_id = thread_id_for(SERIES, end)
    from writers_room.store.runs import claim_run

    claim_run(room, SERIES, end)
    config = {"configurable": {"thread_id": thread_id}}
    context = ReviewContext(settings=room)
    with checkpointer(room) as saver:
        graph = builder.compile(checkpointer=saver)
        steps = [
            next(iter(update))
            for update in graph.stream(
                {"series_id": SERIES, "window_end": end.isoformat()},
                config,
                context=context,
                stream_mode="updates",
                durability="sync",
            )
        ]
        assert steps == [
            "analyse",
            "check_iterations",
            "ideate",
            "brand_guard",
            "persist",
            "__interrupt__",
        ]
        state = graph.get_state(config)
        (gate,) = state.interrupts
        pending = gate.value["pending"]
        assert len(pending) >= 3 and state.next == ("await_decision",)
        kinds = {p.kind for p in _proposals(room, pending)}
        assert {"hook_rewrite", "pacing_cut", "sequel"} <= kinds

        outcome = decide(room, pending[0], actor="U0SHOW", approve=True)
        from langgraph.types import Command

        steps = [
            next(iter(update))
            for update in graph.stream(
                Command(resume={gate.id: outcome.decision.id}),
                config,
                context=context,
                stream_mode="updates",
                durability="sync",
            )
        ]
        assert steps == ["await_decision", "apply", "produce", "__interrupt__"]
        after = graph.get_state(config)
        assert after.values["decisions"] == [outcome.decision.id]
        assert after.values["applied"] == [pending[0]]
        assert len(after.values["renders"]) == 1
        assert after.interrupts[0].value["pending"] == pending[1:]
    with session_scope(room) as session:
        job = session.exec(select(RenderJob)).one()
        assert job.status == "queued" and job.proposal_id == pending[0]


def _proposals(settings: Settings, ids: list[str]) -> list[Proposal]:
    with session_scope(settings) as session:
        return [p for pid in ids if (p := session.get(Proposal, pid)) is not None]


def test_start_is_exactly_once_per_window(room: Settings, sample_bundle) -> None:  # type: ignore[no-untyped-def]
    first = start_review(room, SERIES)
    assert first.created and first.status == "waiting"
    assert first.window_end == last_window(sample_bundle)
    second = start_review(room, SERIES)
    assert not second.created and second.pending == first.pending
    assert count(room, WindowRun) == 1
    assert count(room, Proposal) == len(first.pending)


def test_approve_reject_and_finish(room: Settings) -> None:
    review = start_review(room, SERIES)
    *rest, last = review.pending
    approved = decide_and_resume(room, review.pending[0], actor="U0SHOW", approve=True)
    assert approved.applied_version == 2 and len(approved.render_ids) == 1
    for pid in rest[1:]:
        result = decide_and_resume(room, pid, actor="U0SHOW", approve=False, note="not now")
        assert result.applied_version is None and result.render_ids == []
    final = decide_and_resume(room, last, actor="U0SHOW", approve=False, note="no")
    assert final.review is not None and final.review.status == "done"
    with session_scope(room) as session:
        run = session.exec(select(WindowRun)).one()
        assert run.status == "done"
        statuses = [p.status for p in session.exec(select(Proposal))]
    assert sorted(statuses).count("applied") == 1
    assert pending_interrupts(room, review.thread_id) == []


def test_an_approval_stands_when_its_render_is_refused(room: Settings, tmp_path: Any) -> None:
    review = start_review(room, SERIES)
    first, second = review.pending[:2]
    # Half a C2PA configuration: the render tool refuses every render until it is fixed.
    refusing = room.model_copy(update={"c2pa_key": str(tmp_path / "signer.key")})
    approved = decide_and_resume(refusing, first, actor="U0SHOW", approve=True)
    assert approved.applied_version == 2 and approved.render_ids == []
    assert approved.render_refused is not None
    assert "WRITERS_ROOM_C2PA_CERT is not set" in approved.render_refused
    assert f"writers-room render --series {SERIES}" in approved.render_refused
    with session_scope(room) as session:
        assert session.exec(select(RenderJob)).all() == []
        (row,) = session.exec(select(AuditLog).where(AuditLog.action == "render.refused")).all()
        assert row.subject == first and row.detail["brief_version"] == 2
        assert session.get(Proposal, first).status == "applied"  # type: ignore[union-attr]
    # The review goes on, and with the settings fixed the next approval renders.
    later = decide_and_resume(room, second, actor="U0SHOW", approve=True)
    assert later.applied_version is not None and len(later.render_ids) == 1
    assert later.render_refused is None


def test_no_approval_no_change(room: Settings) -> None:
    review = start_review(room, SERIES)
    with pytest.raises(NotAnApprover):
        decide_and_resume(room, review.pending[0], actor="mallory", approve=True)
    # A resume with a made-up decision id is not a decision: nothing is applied.
    (interrupt_id, _value), *_ = pending_interrupts(room, review.thread_id)
    with pytest.raises(GuardrailRefusal, match="not a recorded decision"):
        resume(room, review.thread_id, interrupt_id=interrupt_id, decision_id=99999)
    deliver_decisions(room, review.thread_id)
    with session_scope(room) as session:
        assert session.exec(select(BriefVersion).where(BriefVersion.version > 1)).all() == []
        assert session.exec(select(Decision)).all() == []
        assert session.exec(select(RenderJob)).all() == []


def test_a_stale_resume_has_no_effect(room: Settings) -> None:
    review = start_review(room, SERIES)
    (old_interrupt, _), *_ = pending_interrupts(room, review.thread_id)
    first = decide_and_resume(room, review.pending[0], actor="U0SHOW", approve=True)
    second = decide(room, review.pending[1], actor="U0SHOW", approve=True)
    # Replaying the first interrupt id with another decision is refused and changes nothing.
    with pytest.raises(GuardrailRefusal, match="not waiting on interrupt"):
        resume(room, review.thread_id, interrupt_id=old_interrupt, decision_id=second.decision.id)
    with checkpointer(room) as saver:
        values = (
            builder.compile(checkpointer=saver)
            .get_state({"configurable": {"thread_id": review.thread_id}})
            .values
        )
    assert values["decisions"] == [first.decision_id]
    # Re-delivering an already delivered decision is refused too.
    (current, _), *_ = pending_interrupts(room, review.thread_id)
    with pytest.raises(GuardrailRefusal, match="already delivered"):
        resume(room, review.thread_id, interrupt_id=current, decision_id=first.decision_id)
    done = deliver_decisions(room, review.thread_id)
    assert sorted(done.applied) == sorted(review.pending[:2])


def test_twenty_concurrent_clicks_one_decision_one_apply_one_render(room: Settings) -> None:
    review = start_review(room, SERIES)
    target = review.pending[0]
    clickers = room.model_copy(update={"approvers": [f"U{i}" for i in range(20)]})
    barrier = threading.Barrier(20)
    results: list[str] = []

    def click(i: int) -> None:
        barrier.wait()
        try:
            decide_and_resume(
                clickers, target, actor=f"U{i}", approve=i % 3 != 0, note="not for this episode"
            )
            results.append("decided")
        except AlreadyDecided:
            results.append("already")

    threads = [threading.Thread(target=click, args=(i,)) for i in range(20)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results.count("decided") == 1 and len(results) == 20
    with session_scope(room) as session:
        assert len(session.exec(select(Decision)).all()) == 1
        approved = session.get(Proposal, target).status == "applied"  # type: ignore[union-attr]
        versions = session.exec(select(BriefVersion).where(BriefVersion.version == 2)).all()
        jobs = session.exec(select(RenderJob)).all()
    assert len(versions) == (1 if approved else 0)
    assert len(jobs) == (1 if approved else 0)


def _review_then_hang(home: str, database_url: str | None, ready: Any) -> None:
    settings = Settings(home=home, database_url=database_url, pii_key="test-key")
    start_review(settings, SERIES)
    ready.set()
    time.sleep(600)


def test_a_pending_approval_survives_kill_9(room: Settings) -> None:
    ctx = multiprocessing.get_context("spawn")
    ready = ctx.Event()
    child = ctx.Process(target=_review_then_hang, args=(str(room.home), room.database_url, ready))
    child.start()
    assert ready.wait(180), "the review did not reach the gate"
    os.kill(child.pid, signal.SIGKILL)  # type: ignore[arg-type]
    child.join()
    dispose_engines()
    again = start_review(room, SERIES)  # a restart: finds the run, does not review twice
    assert not again.created and again.pending
    result = decide_and_resume(room, again.pending[0], actor="U0SHOW", approve=True)
    assert result.applied_version == 2 and len(result.render_ids) == 1
    assert count(room, WindowRun) == 1 and count(room, RenderJob) == 1


@pytest.mark.slow
def test_blind_iterations_escalate_across_restarts(
    settings: Settings,
    sample_bundle: Any,
) -> None:
    """The offline writer always proposes; the room stops it and escalates to showrunners.

    Each window is reviewed (and its proposals rejected) by a process of its own, so the
    count can only come from the database.
    """
    import json
    import subprocess
    import sys

    from test_crash_recovery import CHILD, child_env

    from writers_room.guardrails.approval import add_note
    from writers_room.guardrails.iteration_limit import MAX_BLIND_ITERATIONS, blocked_reason
    from writers_room.ingest.events import ingest_events
    from writers_room.ingest.series import add_series_file
    from writers_room.store.models import AuditLog, BlindIteration

    for path in sample_bundle.series_files:
        add_series_file(settings, path)
    ingest_events(settings, sample_bundle.events)
    room = settings.model_copy(update={"approvers": ["U0SHOW"], "showrunners": ["U0RUNNER"]})
    env = child_env(room, WRITERS_ROOM_SHOWRUNNERS="U0RUNNER")
    episodes_with_proposals: list[set[str]] = []
    for day in (1, 2, 3):
        end = sample_bundle.window_start + timedelta(days=day)
        done = subprocess.run(
            [sys.executable, str(CHILD), "window", SERIES, end.isoformat(), "U0SHOW"],
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert done.returncode == 0, done.stderr
        episodes_with_proposals.append(set(json.loads(done.stdout.strip().splitlines()[-1])))
    with session_scope(room) as session:
        counts = {b.episode_id: b.count for b in session.exec(select(BlindIteration))}
        escalations = session.exec(
            select(AuditLog).where(AuditLog.action == "iteration.escalated")
        ).all()
        blocked = {e: blocked_reason(session, SERIES, e) for e in counts}
    assert max(counts.values()) <= MAX_BLIND_ITERATIONS
    assert "ep03" in episodes_with_proposals[0]
    # By the third window the hook-failure episode is blocked and escalated, not proposed.
    assert "ep03" not in episodes_with_proposals[2]
    assert blocked["ep03"] is not None
    assert any(
        e.subject == f"{SERIES}/ep03" and e.detail["showrunners"] == ["U0RUNNER"]
        for e in escalations
    )
    add_note(room, series_id=SERIES, episode_id="ep03", author="U0RUNNER", text="Open on the fire.")
    with session_scope(room) as session:
        assert blocked_reason(session, SERIES, "ep03") is None


def test_a_run_that_crashed_mid_graph_continues_on_the_next_start(sqlite_room: Settings) -> None:
    from writers_room.writer.ideator import get_ideator

    class Crashing:
        def propose(self, _ctx: Any) -> list[Any]:
            raise RuntimeError("model server went away")

    with pytest.raises(RuntimeError, match="went away"):
        start_review(sqlite_room, SERIES, agents={"ideator": Crashing()})
    with session_scope(sqlite_room) as session:
        assert session.exec(select(WindowRun)).one().status == "failed"
    again = start_review(sqlite_room, SERIES, agents={"ideator": get_ideator(sqlite_room)})
    assert not again.created and again.status == "waiting" and again.pending
    with session_scope(sqlite_room) as session:
        assert session.exec(select(WindowRun)).one().status == "waiting"


def test_an_episode_whose_proposal_still_waits_gets_no_second_one(
    room: Settings, sample_bundle: Any
) -> None:
    """The next window's review does not pile a new change on a proposal nobody decided."""
    end = last_window(sample_bundle)
    first = start_review(room, SERIES, window_end=end - timedelta(days=1))
    with session_scope(room) as session:
        waiting = {
            p.episode_id: p.proposal_id
            for p in session.exec(select(Proposal).where(Proposal.status == "pending"))
        }
    assert "ep03" in waiting, first.pending  # the planted hook failure
    # Decide one of them: its episode is no longer waiting.
    decided = waiting.pop("ep05")
    decide_and_resume(room, decided, actor="U0SHOW", approve=False, note="not this")
    second = start_review(room, SERIES, window_end=end)
    assert second.waiting == waiting
    with session_scope(room) as session:
        new = session.exec(select(Proposal).where(Proposal.thread_id == second.thread_id)).all()
    assert not {p.episode_id for p in new} & set(waiting)
    assert "ep05" not in second.waiting  # decided: the room may write for it again
