"""Window runs: one review per (series, window), and one writer per review thread.

The unique ``(series_id, window_end)`` key makes a review exactly-once however many
schedulers or retries start it. A short lease on the run row (a conditional update that
works on SQLite and PostgreSQL alike) keeps a single process driving a review's graph
thread at a time; the others are refused and leave the work to the holder.
"""

from __future__ import annotations

import os
import socket
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, or_, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import col, select

from writers_room.config import Settings
from writers_room.errors import GuardrailRefusal
from writers_room.store.db import audit, session_scope
from writers_room.store.models import MetricWindow, WindowRun

__all__ = [
    "LeaseBusy",
    "RunClaim",
    "claim_run",
    "last_closed_window_end",
    "set_run_status",
    "thread_id_for",
    "thread_lease",
]

LEASE_SECONDS = 300


class LeaseBusy(GuardrailRefusal):
    """Another process is driving this review thread right now."""


def _now() -> datetime:
    return datetime.now(UTC)


def new_owner() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"


def thread_id_for(series_id: str, window_end: datetime) -> str:
    return f"review:{series_id}:{window_end.astimezone(UTC).strftime('%Y-%m-%dT%H:%MZ')}"


def last_closed_window_end(
    settings: Settings, series_id: str, *, now: datetime | None = None
) -> datetime | None:
    """End of the newest 24-hour window that has data and has closed by ``now``."""
    cutoff = (now or _now()) - timedelta(hours=24)
    with session_scope(settings) as session:
        start = session.exec(
            select(func.max(MetricWindow.window_start)).where(
                MetricWindow.series_id == series_id,
                MetricWindow.window_hours == 24,
                MetricWindow.window_start <= cutoff,
            )
        ).one()
    if start is None:
        return None
    if start.tzinfo is None:
        start = start.replace(tzinfo=UTC)
    return start + timedelta(hours=24)


@dataclass(frozen=True)
class RunClaim:
    run: WindowRun
    created: bool


def claim_run(settings: Settings, series_id: str, window_end: datetime) -> RunClaim:
    """Create the run for (series, window), or return the one that exists."""
    thread_id = thread_id_for(series_id, window_end)
    try:
        with session_scope(settings) as session:
            run = WindowRun(series_id=series_id, window_end=window_end, thread_id=thread_id)
            session.add(run)
            audit(
                session,
                actor="room",
                action="review.started",
                subject=thread_id,
                detail={"series_id": series_id, "window_end": window_end.isoformat()},
            )
            session.flush()
            return RunClaim(run=run, created=True)
    except IntegrityError:
        with session_scope(settings) as session:
            existing = session.exec(
                select(WindowRun).where(
                    WindowRun.series_id == series_id, WindowRun.window_end == window_end
                )
            ).one()
            return RunClaim(run=existing, created=False)


def get_run(settings: Settings, thread_id: str) -> WindowRun | None:
    with session_scope(settings) as session:
        return session.exec(select(WindowRun).where(WindowRun.thread_id == thread_id)).first()


def set_run_status(settings: Settings, thread_id: str, status: str) -> None:
    with session_scope(settings) as session:
        run = session.exec(select(WindowRun).where(WindowRun.thread_id == thread_id)).one()
        run.status = status
        if status in ("done", "failed"):
            run.finished_at = _now()
        session.add(run)


@contextmanager
def thread_lease(
    settings: Settings, thread_id: str, *, wait_s: float = 0.0, ttl_s: float = LEASE_SECONDS
) -> Iterator[str]:
    """Hold the one-writer lease on a review thread for the duration of the block.

    Raises:
        LeaseBusy: another process holds the lease (after waiting ``wait_s`` seconds).
    """
    owner = new_owner()
    deadline = time.monotonic() + wait_s
    while True:
        now = _now()
        with session_scope(settings) as session:
            taken = session.execute(
                update(WindowRun)
                .where(
                    col(WindowRun.thread_id) == thread_id,
                    or_(
                        col(WindowRun.lease_until).is_(None),
                        col(WindowRun.lease_until) < now,
                    ),
                )
                .values(owner=owner, lease_until=now + timedelta(seconds=ttl_s))
                .execution_options(synchronize_session=False)
            )
        if taken.rowcount == 1:  # type: ignore[attr-defined]
            break
        if time.monotonic() >= deadline:
            raise LeaseBusy(
                f"another process is working on review {thread_id}; it will pick this up"
            )
        time.sleep(0.05)
    try:
        yield owner
    finally:
        with session_scope(settings) as session:
            session.execute(
                update(WindowRun)
                .where(col(WindowRun.thread_id) == thread_id, col(WindowRun.owner) == owner)
                .values(lease_until=None)
                .execution_options(synchronize_session=False)
            )
