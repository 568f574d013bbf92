"""Promise 8 (docs/PROMISES.md): at most three blind AI iterations; only humans reset it."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

from sqlmodel import select

from writers_room.config import Settings
from writers_room.guardrails.approval import add_note
from writers_room.guardrails.iteration_limit import (
    blocked_reason,
    record_iteration,
)
from writers_room.store.db import session_scope
from writers_room.store.models import AuditLog

SRC = Path(__file__).resolve().parents[2] / "src"


def in_a_new_process(settings: Settings, code: str) -> str:
    """Run ``code`` in a fresh Python process on the same room; return what it printed."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("WRITERS_ROOM_")}
    env.update(WRITERS_ROOM_HOME=str(settings.home), WRITERS_ROOM_PII_KEY="test-key")
    env["PYTHONPATH"] = os.pathsep.join([str(SRC), env.get("PYTHONPATH", "")])
    if settings.database_url:
        env["WRITERS_ROOM_DATABASE_URL"] = settings.database_url
    prelude = (
        "from writers_room.config import Settings\n"
        "from writers_room.store.db import session_scope\n"
        "from writers_room.guardrails.iteration_limit import "
        "blocked_reason, escalate, record_iteration\n"
        "room = Settings()\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", prelude + textwrap.dedent(code)],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_three_blind_iterations_then_blocked_across_a_restart(room: Settings) -> None:
    # One process counts three blind iterations and exits ...
    in_a_new_process(
        room,
        """
        for score in (30.0, 35.0, 41.0):
            with session_scope(room) as session:
                assert blocked_reason(session, "tiny", "ep1") is None
                record_iteration(session, series_id="tiny", episode_id="ep1", score=score)
        """,
    )
    # ... and the next one, started afresh, finds the episode blocked and escalates once.
    said = in_a_new_process(
        room,
        """
        with session_scope(room) as session:
            reason = blocked_reason(session, "tiny", "ep1")
            assert reason is not None
            for _ in range(2):
                escalate(session, series_id="tiny", episode_id="ep1", reason=reason,
                         showrunners=["U9"])
            print(reason)
            print("ep2:", blocked_reason(session, "tiny", "ep2"))
        """,
    )
    assert "3 AI iterations" in said and "ep2: None" in said
    with session_scope(room) as session:
        reason = blocked_reason(session, "tiny", "ep1")
        assert reason is not None and "3 AI iterations" in reason
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
