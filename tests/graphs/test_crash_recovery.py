"""Promises 5 and 21 (docs/PROMISES.md) with real processes: one writer per review thread, and no
recorded decision stranded by a ``kill -9`` anywhere between its row and the new brief.

The processes are ``crash_child.py`` (approve and die at one crash point, hold a lease,
resume once) and ``python -m writers_room status`` (a restart: the CLI sweeps first).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import update
from sqlmodel import col, func, select

from writers_room.config import Settings
from writers_room.graphs._checkpoint import checkpointer
from writers_room.graphs.window_review.graph import builder
from writers_room.graphs.window_review.run import pending_interrupts, start_review
from writers_room.graphs.window_review.sweep import FINISHED, sweep, undelivered
from writers_room.guardrails.approval import decide
from writers_room.store.db import session_scope
from writers_room.store.models import (
    AuditLog,
    BriefVersion,
    Decision,
    Proposal,
    RenderJob,
    WindowRun,
)
from writers_room.store.runs import LeaseBusy, thread_lease

SERIES = "harbor-hearts"
APPROVER = "U0SHOW"
CHILD = Path(__file__).with_name("crash_child.py")
SRC = Path(__file__).resolve().parents[2] / "src"


def child_env(settings: Settings, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("WRITERS_ROOM_", "SLACK_"))}
    env.update(
        {
            "WRITERS_ROOM_HOME": str(settings.home),
            "WRITERS_ROOM_PII_KEY": "test-key",
            "WRITERS_ROOM_APPROVERS": APPROVER,
            "PYTHONPATH": os.pathsep.join([str(SRC), env.get("PYTHONPATH", "")]),
            **extra,
        }
    )
    if settings.database_url:
        env["WRITERS_ROOM_DATABASE_URL"] = settings.database_url
    return env


def child(settings: Settings, *args: str, **extra: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, str(CHILD), *args],
        env=child_env(settings, **extra),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def restart(settings: Settings) -> subprocess.CompletedProcess[str]:
    """A new process: the CLI's ``status`` sweeps for undelivered decisions first."""
    return subprocess.run(
        [sys.executable, "-m", "writers_room", "status", "--json"],
        env=child_env(settings),
        capture_output=True,
        text=True,
        timeout=120,
    )


def brief_versions(settings: Settings, proposal: Proposal) -> list[int]:
    with session_scope(settings) as session:
        return list(
            session.exec(
                select(BriefVersion.version).where(
                    BriefVersion.series_id == proposal.series_id,
                    BriefVersion.episode_id == proposal.episode_id,
                )
            )
        )


def audits(settings: Settings, action: str, subject: str) -> int:
    with session_scope(settings) as session:
        return int(
            session.exec(
                select(func.count())
                .select_from(AuditLog)
                .where(AuditLog.action == action, AuditLog.subject == subject)
            ).one()
        )


def get_proposal(settings: Settings, proposal_id: str) -> Proposal:
    with session_scope(settings) as session:
        proposal = session.get(Proposal, proposal_id)
        assert proposal is not None
        return proposal


def render_jobs(settings: Settings, proposal_id: str) -> int:
    with session_scope(settings) as session:
        return len(
            session.exec(select(RenderJob).where(RenderJob.proposal_id == proposal_id)).all()
        )


@pytest.mark.slow
@pytest.mark.parametrize("point", ["lease", "before-resume", "apply", "produce"])
def test_a_decision_cut_off_by_kill_9_is_delivered_once_after_a_restart(
    room: Settings, point: str
) -> None:
    review = start_review(room, SERIES)
    target = review.pending[0]
    proc = child(room, point, target, APPROVER)
    _, stderr = proc.communicate(timeout=120)
    assert proc.returncode == -signal.SIGKILL, stderr

    # Stranded: the decision is recorded, nothing marks it delivered, and deciding
    # again is refused as already decided.
    assert get_proposal(room, target).status in ("approved", "applied")
    assert [u.proposal_id for u in undelivered(room)] == [target]
    with pytest.raises(Exception, match="already (approved|applied)"):
        decide(room, target, actor=APPROVER, approve=True)
    if point == "lease":
        with session_scope(room) as session:
            run = session.exec(select(WindowRun)).one()
            assert run.lease_until is not None and run.lease_until.replace(
                tzinfo=UTC
            ) > datetime.now(UTC)

    started = time.monotonic()
    again = restart(room)
    elapsed = time.monotonic() - started
    assert again.returncode == 0, again.stderr
    assert elapsed < 60

    proposal = get_proposal(room, target)
    assert proposal.status == "applied"
    assert sorted(brief_versions(room, proposal)) == [1, 2]
    assert render_jobs(room, target) == 1
    assert audits(room, "proposal.applied", target) == 1
    assert audits(room, FINISHED, target) == 1
    assert undelivered(room) == []
    # The review goes on at the gate with the rest, and a second sweep does nothing.
    (interrupt,) = pending_interrupts(room, review.thread_id)
    assert interrupt[1]["pending"] == review.pending[1:]
    assert sweep(room).delivered == []
    assert render_jobs(room, target) == 1 and audits(room, FINISHED, target) == 1


def test_a_lapsed_lease_of_another_host_is_taken_over(room: Settings) -> None:
    review = start_review(room, SERIES)
    with session_scope(room) as session:
        session.execute(
            update(WindowRun)
            .where(col(WindowRun.thread_id) == review.thread_id)
            .values(owner="elsewhere:1:abcdef", lease_until=datetime.now(UTC) + timedelta(hours=1))
        )
    with pytest.raises(LeaseBusy):
        with thread_lease(room, review.thread_id, wait_s=0.2):
            pass
    with session_scope(room) as session:
        session.execute(
            update(WindowRun)
            .where(col(WindowRun.thread_id) == review.thread_id)
            .values(lease_until=datetime.now(UTC) - timedelta(seconds=1))
        )
    with thread_lease(room, review.thread_id) as owner:
        assert owner.split(":")[1] == str(os.getpid())


def hold(settings: Settings, proposal_id: str, ttl: float) -> subprocess.Popen[str]:
    holder = child(settings, "hold", proposal_id, LEASE_TTL=str(ttl))
    assert holder.stdout is not None
    line = holder.stdout.readline()
    assert line.strip() == "holding", holder.stderr.read() if holder.stderr else ""
    return holder


def test_a_live_holder_keeps_its_lease_by_heartbeat(room: Settings) -> None:
    review = start_review(room, SERIES)
    holder = hold(room, review.pending[0], ttl=1.0)
    try:
        # Three lease lengths later the holder still has it: the heartbeat renews it.
        with pytest.raises(LeaseBusy):
            with thread_lease(room, review.thread_id, wait_s=3.0):
                pass
    finally:
        holder.kill()
        holder.wait()


def test_the_lease_of_a_dead_process_on_this_host_is_taken_over_at_once(
    room: Settings,
) -> None:
    review = start_review(room, SERIES)
    holder = hold(room, review.pending[0], ttl=300.0)
    holder.kill()
    holder.wait()
    started = time.monotonic()
    with thread_lease(room, review.thread_id, wait_s=0.0):
        pass
    assert time.monotonic() - started < 5
    assert audits(room, "review.lease_taken_over", review.thread_id) == 1


def _history_is_linear(settings: Settings, thread_id: str) -> list[Any]:
    with checkpointer(settings) as saver:
        history = list(
            builder.compile(checkpointer=saver).get_state_history(
                {"configurable": {"thread_id": thread_id}}
            )
        )
    # Linear: every checkpoint's parent is the next older one, no forks.
    for newer, older in zip(history, history[1:], strict=False):
        assert newer.parent_config is not None
        assert (
            newer.parent_config["configurable"]["checkpoint_id"]
            == older.config["configurable"]["checkpoint_id"]
        )
    return history


def test_one_writer_per_thread(room: Settings, tmp_path: Path) -> None:
    """Two processes resume one thread at once: one resumes it, the other is refused."""
    review = start_review(room, SERIES)
    outcome = decide(room, review.pending[0], actor=APPROVER, approve=True)
    assert outcome.decision.id is not None
    (interrupt_id, _), *_ = pending_interrupts(room, review.thread_id)
    go = tmp_path / "go"
    args = ("resume", review.thread_id, interrupt_id, str(outcome.decision.id))
    procs = [child(room, *args, GO_FILE=str(go)) for _ in range(2)]
    time.sleep(3.0)  # both are imported and waiting for the signal
    go.touch()
    results = [p.communicate(timeout=120) for p in procs]
    codes = sorted(p.returncode for p in procs)
    assert codes == [0, 3], results
    refused = next(out for p, (out, _) in zip(procs, results, strict=True) if p.returncode == 3)
    assert "another process is working on review" in refused or "not waiting" in refused
    history = _history_is_linear(room, review.thread_id)
    assert history[0].values["decisions"] == [outcome.decision.id]
    with session_scope(room) as session:
        assert len(session.exec(select(Decision)).all()) == 1
        assert len(session.exec(select(RenderJob)).all()) == 1
        versions = session.exec(select(BriefVersion).where(BriefVersion.version == 2)).all()
        assert len(versions) == 1
