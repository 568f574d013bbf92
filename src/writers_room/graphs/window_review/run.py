"""Driving the window-review graph: start a review, deliver human decisions to it.

These are the only entry points the CLI, the Slack app and the scheduler use. They take
the one-writer lease on the thread, run the graph with the room's checkpointer and
``durability="sync"``, and keep the window-run row's status in step.

A decision is *delivered* once the graph has taken it and finished the steps after it
(apply, produce); the driver then appends a ``decision.finished`` audit row for it, under
the thread's lease, so it is marked exactly once. Decisions without that row were cut
off by a crash; ``graphs.window_review.sweep`` finds and delivers them.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from langchain_core.runnables import RunnableConfig
from langgraph.types import Command
from sqlmodel import Session, col, select

from writers_room.config import Settings
from writers_room.errors import GuardrailRefusal, InputError
from writers_room.graphs._checkpoint import checkpointer
from writers_room.graphs.window_review.delivery import apply_and_request_render
from writers_room.graphs.window_review.graph import builder
from writers_room.graphs.window_review.state import ReviewContext, ReviewState
from writers_room.graphs.window_review.sweep import FINISHED, finished_clause
from writers_room.guardrails.approval import decide
from writers_room.jobs.producer import render_refusal
from writers_room.store.db import audit, session_scope
from writers_room.store.models import (
    AuditLog,
    BriefVersion,
    Decision,
    Proposal,
    RenderJob,
    WindowRun,
)
from writers_room.store.runs import (
    claim_run,
    get_run,
    last_closed_window_end,
    set_run_status,
    thread_lease,
)

__all__ = [
    "DecisionResult",
    "ReviewOutcome",
    "decide_and_resume",
    "deliver_decisions",
    "finish_unthreaded",
    "pending_interrupts",
    "resume",
    "start_review",
]

log = logging.getLogger(__name__)

# How long a caller waits for another process's lease before leaving the work to it.
LEASE_WAIT_S = 30.0


@dataclass
class ReviewOutcome:
    """Where a review stands after a call."""

    thread_id: str
    series_id: str
    window_end: datetime
    status: str
    created: bool = True
    report: dict[str, Any] = field(default_factory=dict)
    pending: list[str] = field(default_factory=list)
    blocked: dict[str, str] = field(default_factory=dict)
    waiting: dict[str, str] = field(default_factory=dict)
    """Episodes not proposed for because an earlier review's proposal waits (episode → id)."""
    dropped: list[dict[str, Any]] = field(default_factory=list)
    applied: list[str] = field(default_factory=list)
    renders: list[str] = field(default_factory=list)


def _config(thread_id: str) -> RunnableConfig:
    return {"configurable": {"thread_id": thread_id}}


@contextmanager
def _driving(settings: Settings, thread_id: str, *, wait_s: float = LEASE_WAIT_S) -> Iterator[Any]:
    """The compiled graph on the room's checkpointer, with the thread's one-writer lease."""
    with thread_lease(settings, thread_id, wait_s=wait_s), checkpointer(settings) as saver:
        yield builder.compile(checkpointer=saver)


def _mark_finished(
    session: Session, decision_id: int, proposal_id: str, *, thread_id: str | None
) -> bool:
    """Append the ``decision.finished`` row unless there is one (caller serialises)."""
    done = session.exec(
        select(AuditLog.id).where(AuditLog.action == FINISHED, AuditLog.subject == proposal_id)
    ).first()
    if done is not None:
        return False
    audit(
        session,
        actor="room",
        action=FINISHED,
        subject=proposal_id,
        detail={"decision_id": decision_id, "thread_id": thread_id},
    )
    return True


def _finish_delivered(settings: Settings, thread_id: str, snapshot: Any) -> None:
    """Mark the thread's decisions the graph has taken and finished with (lease held)."""
    if snapshot.next and not snapshot.interrupts:
        return  # stopped between steps: not finished with anything yet
    taken = set(snapshot.values.get("decisions", []))
    with session_scope(settings) as session:
        rows = session.exec(
            select(Decision.id, Decision.proposal_id)
            .join(Proposal, col(Proposal.proposal_id) == col(Decision.proposal_id))
            .where(Proposal.thread_id == thread_id, ~finished_clause(Decision.proposal_id))
        ).all()
        for decision_id, proposal_id in rows:
            # A thread that has ended waits for nothing: whatever it did not take is moot.
            if decision_id is not None and (decision_id in taken or not snapshot.next):
                _mark_finished(session, decision_id, proposal_id, thread_id=thread_id)


def _context(settings: Settings, overrides: dict[str, Any] | None) -> ReviewContext:
    return ReviewContext(settings=settings, **(overrides or {}))


def _outcome(
    run: WindowRun, values: dict[str, Any], interrupts: Any, created: bool
) -> ReviewOutcome:
    return ReviewOutcome(
        thread_id=run.thread_id,
        series_id=run.series_id,
        window_end=run.window_end,
        status="waiting" if interrupts else "done",
        created=created,
        report=values.get("report", {}),
        pending=list(interrupts[0].value.get("pending", [])) if interrupts else [],
        blocked=dict(values.get("blocked", {})),
        waiting=dict(values.get("waiting", {})),
        dropped=list(values.get("dropped", [])),
        applied=list(values.get("applied", [])),
        renders=list(values.get("renders", [])),
    )


def start_review(
    settings: Settings,
    series_id: str,
    *,
    window_end: datetime | None = None,
    agents: dict[str, Any] | None = None,
) -> ReviewOutcome:
    """Run the review of one (series, window) up to the approval gate (exactly once).

    A second start of the same window does nothing and returns where the first stands.

    Raises:
        InputError: the series is unknown or has no closed window with data.
    """
    if window_end is None:
        window_end = last_closed_window_end(settings, series_id)
        if window_end is None:
            raise InputError(
                f"series {series_id!r} has no closed 24-hour window with data yet; "
                "ingest events or metrics first (or pass --window-end)"
            )
    window_end = window_end.astimezone(UTC)
    claim = claim_run(settings, series_id, window_end)
    run = claim.run
    with (
        thread_lease(settings, run.thread_id, wait_s=LEASE_WAIT_S),
        checkpointer(settings) as saver,
    ):
        graph = builder.compile(checkpointer=saver)
        config = _config(run.thread_id)
        before = graph.get_state(config)
        fresh = claim.created or not before.values
        # A run that crashed mid-graph has steps left but no interrupt: continue it from
        # its last checkpoint (input None) instead of leaving it stranded.
        crashed = not fresh and bool(before.next) and not before.interrupts
        if fresh or crashed:
            start: ReviewState | None = (
                {"series_id": series_id, "window_end": window_end.isoformat()} if fresh else None
            )
            try:
                graph.invoke(start, config, context=_context(settings, agents), durability="sync")
            except Exception:
                set_run_status(settings, run.thread_id, "failed")
                raise
        snapshot = graph.get_state(config)
    status = "waiting" if snapshot.interrupts else "done"
    set_run_status(settings, run.thread_id, status)
    return _outcome(run, snapshot.values, snapshot.interrupts, claim.created)


def pending_interrupts(settings: Settings, thread_id: str) -> list[tuple[str, dict[str, Any]]]:
    """(interrupt id, value) of the interrupts the thread waits on now."""
    with checkpointer(settings) as saver:
        snapshot = builder.compile(checkpointer=saver).get_state(_config(thread_id))
    return [(i.id, i.value) for i in snapshot.interrupts]


def resume(
    settings: Settings,
    thread_id: str,
    *,
    interrupt_id: str,
    decision_id: int,
    agents: dict[str, Any] | None = None,
) -> ReviewOutcome:
    """Resume a thread at one interrupt with one recorded decision.

    Raises:
        GuardrailRefusal: the interrupt is not pending (a stale or replayed resume), the
            decision row does not exist, or another process holds the thread.
    """
    run = get_run(settings, thread_id)
    if run is None:
        raise InputError(f"no review thread {thread_id!r}")
    with session_scope(settings) as session:
        decision = session.get(Decision, decision_id)
        proposal = session.get(Proposal, decision.proposal_id) if decision else None
        if decision is None or proposal is None or proposal.thread_id != thread_id:
            raise GuardrailRefusal(
                f"decision {decision_id} is not a recorded decision on review {thread_id}"
            )
    with _driving(settings, thread_id) as graph:
        config = _config(thread_id)
        snapshot = graph.get_state(config)
        if interrupt_id not in {i.id for i in snapshot.interrupts}:
            with session_scope(settings) as session:
                audit(
                    session,
                    actor="room",
                    action="review.stale_resume",
                    subject=thread_id,
                    detail={"interrupt_id": interrupt_id, "decision_id": decision_id},
                )
            raise GuardrailRefusal(
                f"review {thread_id} is not waiting on interrupt {interrupt_id}; "
                "the resume was ignored"
            )
        if decision_id in snapshot.values.get("decisions", []):
            raise GuardrailRefusal(f"decision {decision_id} was already delivered")
        graph.invoke(
            Command(resume={interrupt_id: decision_id}),
            config,
            context=_context(settings, agents),
            durability="sync",
        )
        snapshot = graph.get_state(config)
    set_run_status(settings, thread_id, "waiting" if snapshot.interrupts else "done")
    return _outcome(run, snapshot.values, snapshot.interrupts, created=False)


def deliver_decisions(
    settings: Settings,
    thread_id: str,
    *,
    agents: dict[str, Any] | None = None,
    wait_s: float = LEASE_WAIT_S,
) -> ReviewOutcome:
    """Resume a thread with every recorded decision it has not seen yet, in order.

    Safe to call from any process at any time: decisions are read from the database,
    the lease keeps one driver per thread, and the graph skips what it already has. A
    thread that a crash stopped between steps (inside apply or produce) is first run on
    from its last checkpoint. Each decision the graph is done with is then marked
    ``decision.finished``.

    Raises:
        LeaseBusy: another live process drives the thread (after ``wait_s`` seconds).
    """
    run = get_run(settings, thread_id)
    if run is None:
        raise InputError(f"no review thread {thread_id!r}")
    with _driving(settings, thread_id, wait_s=wait_s) as graph:
        config = _config(thread_id)
        context = _context(settings, agents)
        before = graph.get_state(config)
        if before.values and before.next and not before.interrupts:
            graph.invoke(None, config, context=context, durability="sync")
        tried: set[int] = set()
        while True:
            snapshot = graph.get_state(config)
            if not snapshot.interrupts:
                break
            seen = set(snapshot.values.get("decisions", []))
            with session_scope(settings) as session:
                waiting = [
                    d.id
                    for d in session.exec(
                        select(Decision)
                        .join(Proposal, col(Proposal.proposal_id) == col(Decision.proposal_id))
                        .where(Proposal.thread_id == thread_id)
                        .order_by(col(Decision.id))
                    )
                    if d.id is not None and d.id not in seen and d.id not in tried
                ]
            if not waiting:
                break
            tried.add(waiting[0])
            graph.invoke(
                Command(resume={snapshot.interrupts[0].id: waiting[0]}),
                config,
                context=context,
                durability="sync",
            )
        snapshot = graph.get_state(config)
        _finish_delivered(settings, thread_id, snapshot)
    set_run_status(settings, thread_id, "waiting" if snapshot.interrupts else "done")
    return _outcome(run, snapshot.values, snapshot.interrupts, created=False)


def finish_unthreaded(
    settings: Settings, decision_id: int, proposal_id: str, *, strict: bool = False
) -> None:
    """Apply and render a decided proposal that belongs to no review (exactly once).

    Each step is idempotent (``approved → applied`` is one conditional update, the
    render has an idempotency key), so a crash anywhere is finished by running it again.

    Raises:
        GuardrailRefusal: with ``strict``, the approved proposal could not be applied
            (the brief moved on since); the decision is marked finished all the same.
    """
    with session_scope(settings) as session:
        decision = session.get(Decision, decision_id)
        assert decision is not None
    refused: GuardrailRefusal | None = None
    if decision.decision == "approved":
        refused = apply_and_request_render(settings, proposal_id, actor=decision.decided_by)
    with session_scope(settings) as session:
        # The row lock (PostgreSQL) or the write lock (SQLite) makes the mark single.
        session.exec(
            select(Proposal).where(Proposal.proposal_id == proposal_id).with_for_update()
        ).first()
        _mark_finished(session, decision_id, proposal_id, thread_id=None)
    if strict and refused is not None:
        raise refused


@dataclass
class DecisionResult:
    """What a human decision led to."""

    proposal_id: str
    decision: str
    decision_id: int
    applied_version: int | None
    render_ids: list[str]
    review: ReviewOutcome | None
    render_refused: str | None = None
    """Why no render was queued for an applied proposal (see ``agents.producer``)."""


def decide_and_resume(
    settings: Settings,
    proposal_id: str,
    *,
    actor: str,
    approve: bool,
    note: str = "",
    shown_hash: str | None = None,
    edited_changes: list[dict[str, Any]] | None = None,
    agents: dict[str, Any] | None = None,
    chosen: list[int | None] | None = None,
) -> DecisionResult:
    """Record a human decision (database first), then resume the review that waits on it.

    ``chosen`` picks an alternative per choice of the proposal (see ``decide``).

    Raises:
        GuardrailRefusal: not an approver, already decided, or the content changed.
    """
    outcome = decide(
        settings,
        proposal_id,
        actor=actor,
        approve=approve,
        note=note,
        shown_hash=shown_hash,
        edited_changes=edited_changes,
        chosen=chosen,
    )
    decision_id = outcome.decision.id
    assert decision_id is not None
    review = None
    if outcome.proposal.thread_id:
        review = deliver_decisions(settings, outcome.proposal.thread_id, agents=agents)
    else:
        finish_unthreaded(settings, decision_id, proposal_id, strict=True)
    with session_scope(settings) as session:
        proposal = session.get(Proposal, proposal_id)
        assert proposal is not None
        applied = session.exec(
            select(BriefVersion.version).where(
                BriefVersion.series_id == proposal.series_id,
                BriefVersion.episode_id == proposal.episode_id,
                BriefVersion.proposal_id == proposal_id,
            )
        ).first()
        renders = list(
            session.exec(
                select(RenderJob.render_id)
                .where(RenderJob.proposal_id == proposal_id)
                .order_by(col(RenderJob.created_at))
            )
        )
    return DecisionResult(
        proposal_id=proposal_id,
        decision=outcome.decision.decision,
        decision_id=decision_id,
        applied_version=applied,
        render_ids=renders,
        review=review,
        render_refused=render_refusal(settings, proposal_id) if applied and not renders else None,
    )
