"""The sweeper: deliver recorded decisions that a crash cut off from their review.

A decision row is written before the review graph is resumed with it, and a
``decision.finished`` audit row once the graph has applied and rendered it (see
``run.deliver_decisions``). A ``kill -9`` anywhere in between — while holding the
review's lease, after the decision row and before the resume, inside apply, inside
produce — leaves a decision without that row. :func:`sweep` finds each one and delivers
it: it runs the review on from its last checkpoint and resumes it with the decision,
exactly once (the lease keeps one driver per review, apply is one conditional update,
the render has an idempotency key).

``serve`` sweeps at start-up and every :data:`SWEEP_EVERY_S` seconds; the CLI sweeps at
the start of ``review``, ``approve`` and ``status``. A review another live process is
driving is left to it (its lease is renewed while it works; a lapsed lease, or one held
by a process of this host that is gone, is taken over).
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import exists
from sqlmodel import col, select

from writers_room.config import Settings
from writers_room.store.db import session_scope
from writers_room.store.models import AuditLog, Decision, Proposal
from writers_room.store.runs import LeaseBusy

__all__ = [
    "FINISHED",
    "SWEEP_EVERY_S",
    "SweepReport",
    "Sweeper",
    "finished_clause",
    "quiet_sweep",
    "sweep",
    "undelivered",
]

log = logging.getLogger(__name__)

# The audit action that marks a decision as delivered (its apply and render are done).
FINISHED = "decision.finished"
# Seconds between sweeps inside ``serve``.
SWEEP_EVERY_S = 15.0
# A decision on a proposal outside any review is left this long to the process that
# recorded it (it applies and renders right away) before the sweeper finishes it.
UNTHREADED_GRACE_S = 10.0


def finished_clause(proposal_id: Any) -> Any:
    """SQL: the proposal's decision has its ``decision.finished`` row."""
    return exists().where(col(AuditLog.action) == FINISHED, col(AuditLog.subject) == proposal_id)


@dataclass(frozen=True)
class Undelivered:
    decision_id: int
    proposal_id: str
    thread_id: str | None
    decided_at: datetime


@dataclass
class SweepReport:
    """What one sweep did."""

    delivered: list[str] = field(default_factory=list)
    """Proposals whose decision this sweep finished delivering."""
    busy: list[str] = field(default_factory=list)
    """Reviews another live process is driving (left to it)."""
    failed: dict[str, str] = field(default_factory=dict)
    """Reviews or proposals whose delivery raised (tried again next sweep), with why."""


def undelivered(settings: Settings) -> list[Undelivered]:
    """Recorded decisions without a ``decision.finished`` row, oldest first."""
    with session_scope(settings) as session:
        rows = session.exec(
            select(Decision.id, Decision.proposal_id, Proposal.thread_id, Decision.decided_at)
            .join(Proposal, col(Proposal.proposal_id) == col(Decision.proposal_id))
            .where(~finished_clause(Decision.proposal_id))
            .order_by(col(Decision.id))
        ).all()
    return [
        Undelivered(
            decision_id=decision_id,
            proposal_id=proposal_id,
            thread_id=thread_id,
            decided_at=decided_at if decided_at.tzinfo else decided_at.replace(tzinfo=UTC),
        )
        for decision_id, proposal_id, thread_id, decided_at in rows
        if decision_id is not None
    ]


def sweep(settings: Settings, *, agents: dict[str, Any] | None = None) -> SweepReport:
    """Deliver every decision a crash left undelivered (safe from any process, any time).

    Never raises for one review's failure: it is logged, reported and tried next time.
    """
    report = SweepReport()
    waiting = undelivered(settings)
    if not waiting:
        return report
    # In the function: ``run`` imports this module (a cycle), and the graph machinery is
    # loaded only when there is something to deliver.
    from writers_room.graphs.window_review.run import deliver_decisions, finish_unthreaded

    threads = list(dict.fromkeys(u.thread_id for u in waiting if u.thread_id))
    for thread_id in threads:
        try:
            deliver_decisions(settings, thread_id, agents=agents, wait_s=0)
        except LeaseBusy:
            report.busy.append(thread_id)
        except Exception as exc:  # noqa: BLE001 - one stuck review must not stop the rest
            log.exception("delivering the decisions of review %s failed", thread_id)
            report.failed[thread_id] = str(exc)
    cutoff = datetime.now(UTC) - timedelta(seconds=UNTHREADED_GRACE_S)
    for item in waiting:
        if item.thread_id or item.decided_at > cutoff:
            continue
        try:
            finish_unthreaded(settings, item.decision_id, item.proposal_id)
        except Exception as exc:  # noqa: BLE001
            log.exception("finishing the decision on %s failed", item.proposal_id)
            report.failed[item.proposal_id] = str(exc)
    left = {u.proposal_id for u in undelivered(settings)}
    report.delivered = [u.proposal_id for u in waiting if u.proposal_id not in left]
    if report.delivered:
        log.warning(
            "delivered %d decision(s) a crash had cut off: %s",
            len(report.delivered),
            ", ".join(report.delivered),
        )
    return report


def quiet_sweep(settings: Settings) -> SweepReport | None:
    """:func:`sweep` for callers that must go on whatever happens (CLI start, serve)."""
    try:
        return sweep(settings)
    except Exception:  # noqa: BLE001 - the database may be down; the caller will say so
        log.warning("the sweep for undelivered decisions failed", exc_info=True)
        return None


class Sweeper:
    """Sweeps now and then every ``every_s`` seconds in a daemon thread (``serve``)."""

    def __init__(self, settings: Settings, *, every_s: float = SWEEP_EVERY_S) -> None:
        self.settings = settings
        self.every_s = every_s
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="decision-sweeper", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        first = True
        while not self._stop.is_set():
            report = quiet_sweep(self.settings)
            if first:
                delivered = len(report.delivered) if report else 0
                log.info("start-up sweep done: %d undelivered decision(s) delivered", delivered)
                first = False
            if self._stop.wait(self.every_s):
                break

    def stop(self, *, wait: bool = True) -> None:
        self._stop.set()
        if wait and self._thread is not None:
            self._thread.join()
