"""The window-review graph: from a closed 24-hour window to approved, applied brief changes.

    analyse → check_iterations → ideate ⇄ brand_guard (revise at most twice) → persist
            → await_decision (interrupt) → apply → produce → await_decision … → END

The approval gate cannot be talked past: proposals are stored ``pending`` before the
interrupt, a human decision is written to the database by ``guardrails.approval`` before
the thread is resumed, the resumed step re-checks that decision row, and ``apply`` refuses
without an approved decision bound to the proposal's content — whatever the state says.
Every side effect is idempotent (content-addressed proposal ids, conditional updates,
render idempotency keys), so a step that re-runs after a crash does nothing twice.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from langgraph.config import get_config
from langgraph.graph import START, StateGraph
from langgraph.runtime import Runtime
from langgraph.types import interrupt
from sqlmodel import col, or_, select

from writers_room.analyst.window import analyse as analyse_window
from writers_room.brief.proposals import BriefChangeProposal
from writers_room.graphs.window_review.delivery import apply_approved, request_render_of_applied
from writers_room.graphs.window_review.state import ReviewContext, ReviewState
from writers_room.guardrails import brand_guard as guard_module
from writers_room.guardrails.approval import store_pending
from writers_room.guardrails.iteration_limit import blocked_reason, escalate, record_iteration
from writers_room.store.db import session_scope
from writers_room.store.models import Decision, Proposal
from writers_room.writer.ideator import build_contexts, get_ideator

__all__ = ["MAX_REVISIONS", "builder", "graph"]

# The brand guard sends failing proposals back to the ideator at most this many times.
MAX_REVISIONS = 2


def _thread() -> str:
    """The thread id of the run this step belongs to."""
    return str(get_config()["configurable"]["thread_id"])


def _episode_reports(state: ReviewState) -> dict[str, dict[str, Any]]:
    return {e["episode_id"]: e for e in state.get("report", {}).get("episodes", [])}


def analyse(state: ReviewState, runtime: Runtime[ReviewContext]) -> dict[str, Any]:
    """Run the analyst on the window (deterministic; writes the report files)."""
    ctx = runtime.context
    analyst = ctx.analyst if ctx.analyst is not None else analyse_window
    report = analyst(
        ctx.settings, state["series_id"], window_end=datetime.fromisoformat(state["window_end"])
    )
    return {"report": report.model_dump(mode="json")}


def _waiting(session: Any, series_id: str, episode_ids: list[str]) -> dict[str, str]:
    """Episodes whose proposal from an earlier review still waits for a decision: the
    room does not pile a second change on top of one nobody has read yet."""
    if not episode_ids:
        return {}
    thread = _thread()
    rows = session.exec(
        select(Proposal.episode_id, Proposal.proposal_id)
        .where(
            Proposal.series_id == series_id,
            col(Proposal.episode_id).in_(episode_ids),
            Proposal.status == "pending",
            or_(col(Proposal.thread_id).is_(None), col(Proposal.thread_id) != thread),
        )
        .order_by(col(Proposal.created_at), col(Proposal.proposal_id))
    ).all()
    return {episode_id: proposal_id for episode_id, proposal_id in rows}


def check_iterations(state: ReviewState, runtime: Runtime[ReviewContext]) -> dict[str, Any]:
    """Pick the episodes to propose for; escalate those at the blind-iteration limit and
    leave alone those whose earlier proposal still waits for a decision."""
    settings = runtime.context.settings
    wanted = [eid for eid, ep in _episode_reports(state).items() if ep.get("findings")]
    allowed: list[str] = []
    blocked: dict[str, str] = {}
    with session_scope(settings) as session:
        waiting = _waiting(session, state["series_id"], wanted)
        for episode_id in wanted:
            reason = blocked_reason(session, state["series_id"], episode_id)
            if reason is None:
                if episode_id not in waiting:
                    allowed.append(episode_id)
                continue
            escalate(
                session,
                series_id=state["series_id"],
                episode_id=episode_id,
                reason=reason,
                showrunners=settings.showrunners,
            )
            blocked[episode_id] = reason
    waiting = {eid: pid for eid, pid in waiting.items() if eid not in blocked}
    return {
        "episodes": allowed,
        "blocked": blocked,
        "waiting": waiting,
        "revisions": 0,
        "candidates": {},
    }


def ideate(state: ReviewState, runtime: Runtime[ReviewContext]) -> dict[str, Any]:
    """Ask the ideator for proposals (again, with the guard's reasons, for failed ones)."""
    ctx = runtime.context
    ideator = ctx.ideator or get_ideator(ctx.settings)
    feedback = state.get("feedback", {})
    previous = state.get("candidates", {})
    redo = (
        [eid for eid in state.get("episodes", []) if feedback.get(eid)]
        if state.get("revisions", 0)
        else list(state.get("episodes", []))
    )
    candidates = {eid: props for eid, props in previous.items() if eid not in redo}
    # Contexts are read in one short transaction; the ideator runs outside it (an LLM
    # call may take seconds and writes its own token accounting). Both contexts are
    # built at once: the guard's is kept for ``brand_guard``.
    contexts = {}
    with session_scope(ctx.settings) as session:
        for episode_id in redo:
            contexts[episode_id], ctx.guard_contexts[episode_id] = build_contexts(
                ctx.settings,
                session,
                state["series_id"],
                episode_id,
                state["report"],
                revision_feedback=feedback.get(episode_id, []),
            )
    for episode_id in redo:
        proposals = ideator.propose(contexts[episode_id])
        candidates[episode_id] = [p.model_dump(mode="json") for p in proposals]
    return {"candidates": candidates}


def brand_guard(state: ReviewState, runtime: Runtime[ReviewContext]) -> dict[str, Any]:
    """Check every candidate; keep the passing ones, collect reasons for the others."""
    ctx = runtime.context
    check = ctx.guard or guard_module.check
    kept: dict[str, list[dict[str, Any]]] = {}
    feedback: dict[str, list[str]] = {}
    failed: dict[str, list[tuple[dict[str, Any], list[str]]]] = {}
    with session_scope(ctx.settings) as session:
        for episode_id, proposals in state.get("candidates", {}).items():
            guard_ctx = ctx.guard_contexts.get(episode_id)
            if guard_ctx is None:
                _, guard_ctx = build_contexts(
                    ctx.settings, session, state["series_id"], episode_id, state["report"]
                )
                ctx.guard_contexts[episode_id] = guard_ctx
            kept[episode_id] = []
            for raw in proposals:
                verdict = check(BriefChangeProposal.model_validate(raw), guard_ctx)
                if verdict.passed:
                    kept[episode_id].append(raw)
                else:
                    failed.setdefault(episode_id, []).append((raw, list(verdict.reasons)))
    for episode_id, items in failed.items():
        feedback[episode_id] = [reason for _, reasons in items for reason in reasons]
    revisions = state.get("revisions", 0)
    out: dict[str, Any] = {"candidates": kept, "feedback": feedback}
    if failed and revisions >= MAX_REVISIONS:
        out["dropped"] = [
            {"episode_id": eid, "proposal": raw, "reasons": reasons}
            for eid, items in failed.items()
            for raw, reasons in items
        ]
        out["feedback"] = {eid: [] for eid in failed}
    elif failed:
        out["revisions"] = revisions + 1
    return out


def route_after_guard(state: ReviewState) -> Literal["ideate", "persist"]:
    """Back to the ideator while some episode has guard reasons to act on."""
    return "ideate" if any(state.get("feedback", {}).values()) else "persist"


def persist(state: ReviewState, runtime: Runtime[ReviewContext]) -> dict[str, Any]:
    """Store the surviving proposals as ``pending`` and count one AI iteration each."""
    settings = runtime.context.settings
    reports = _episode_reports(state)
    window_end = datetime.fromisoformat(state["window_end"])
    thread_id = _thread()
    pending: list[str] = []
    with session_scope(settings) as session:
        for episode_id, raws in sorted(state.get("candidates", {}).items()):
            if not raws:
                continue
            proposals = [BriefChangeProposal.model_validate(raw) for raw in raws]
            before = {
                p.proposal_id
                for p in session.exec(select(Proposal).where(Proposal.thread_id == thread_id))
            }
            rows = store_pending(
                session,
                series_id=state["series_id"],
                window_end=window_end,
                proposals=proposals,
                thread_id=thread_id,
            )
            pending.extend(r.proposal_id for r in rows)
            # Content-addressed ids: a re-run of this step creates nothing new and so
            # counts nothing twice.
            if any(r.proposal_id not in before for r in rows):
                record_iteration(
                    session,
                    series_id=state["series_id"],
                    episode_id=episode_id,
                    score=reports[episode_id].get("score"),
                )
    return {"pending": pending}


def _open(settings: Any, thread_id: str) -> list[str]:
    with session_scope(settings) as session:
        rows = session.exec(
            select(Proposal.proposal_id)
            .where(Proposal.thread_id == thread_id, Proposal.status == "pending")
            .order_by(col(Proposal.proposal_id))
        )
        return list(rows)


def await_decision(state: ReviewState, runtime: Runtime[ReviewContext]) -> dict[str, Any]:
    """The approval gate: wait for one human decision, then verify it in the database."""
    settings = runtime.context.settings
    thread_id = _thread()
    open_ids = _open(settings, thread_id)
    if not open_ids:
        return {}
    decision_id = interrupt(
        {
            "series_id": state["series_id"],
            "window_end": state["window_end"],
            "pending": open_ids,
        }
    )
    with session_scope(settings) as session:
        decision = session.get(Decision, int(decision_id)) if decision_id is not None else None
        proposal = session.get(Proposal, decision.proposal_id) if decision else None
        valid = (
            decision is not None
            and proposal is not None
            and proposal.thread_id == thread_id
            and decision.id not in state.get("decisions", [])
        )
    return {"decisions": [int(decision_id)]} if valid else {}


def apply(state: ReviewState, runtime: Runtime[ReviewContext]) -> dict[str, Any]:
    """Write new brief versions for approved proposals (each exactly once)."""
    settings = runtime.context.settings
    with session_scope(settings) as session:
        approved = list(
            session.exec(
                select(Proposal.proposal_id).where(
                    Proposal.thread_id == _thread(), Proposal.status == "approved"
                )
            )
        )
    # A refusal: already applied by an earlier run of this step, or no longer applicable.
    return {"applied": [pid for pid in approved if apply_approved(settings, pid) is None]}


def produce(state: ReviewState, runtime: Runtime[ReviewContext]) -> dict[str, Any]:
    """Request a render of each applied proposal's new brief version (idempotent)."""
    settings = runtime.context.settings
    with session_scope(settings) as session:
        applied = list(
            session.exec(
                select(Proposal.proposal_id).where(
                    Proposal.thread_id == _thread(), Proposal.status == "applied"
                )
            )
        )
    done = set(state.get("renders", []))
    renders = []
    for proposal_id in applied:
        job = request_render_of_applied(settings, proposal_id)
        # None: refused and audited; the approval stands and the decision reply says why.
        if job is not None and job.render_id not in done:
            renders.append(job.render_id)
    return {"renders": renders}


def route_after_produce(
    state: ReviewState, runtime: Runtime[ReviewContext]
) -> Literal["await_decision", "__end__"]:
    if _open(runtime.context.settings, _thread()):
        return "await_decision"
    return "__end__"


builder: StateGraph[ReviewState, ReviewContext, ReviewState, ReviewState] = StateGraph(
    ReviewState, context_schema=ReviewContext
)
builder.add_node("analyse", analyse)
builder.add_node("check_iterations", check_iterations)
builder.add_node("ideate", ideate)
builder.add_node("brand_guard", brand_guard)
builder.add_node("persist", persist)
builder.add_node("await_decision", await_decision)
builder.add_node("apply", apply)
builder.add_node("produce", produce)
builder.add_edge(START, "analyse")
builder.add_edge("analyse", "check_iterations")
builder.add_edge("check_iterations", "ideate")
builder.add_edge("ideate", "brand_guard")
builder.add_conditional_edges("brand_guard", route_after_guard)
builder.add_edge("persist", "await_decision")
builder.add_edge("await_decision", "apply")
builder.add_edge("apply", "produce")
builder.add_conditional_edges("produce", route_after_produce)

# Compiled without a checkpointer for inspection; runs compile it with the room's saver.
graph = builder.compile()
