"""Window runs: one review per (series, window), and one writer per review thread.

The unique ``(series_id, window_end)`` key makes a review exactly-once however many
schedulers or retries start it. A short lease on the run row (a conditional update that
works on SQLite and PostgreSQL alike) keeps a single process driving a review's graph
thread at a time; the others are refused and leave the work to the holder.

The holder renews the lease while it works (a heartbeat every third of the lease), so a
long step keeps it and a ``kill -9`` loses it within :data:`LEASE_SECONDS`. A lease whose
owner was a process on this host that no longer exists is taken over at once.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
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
    "LEASE_SECONDS",
    "LeaseBusy",
    "RunClaim",
    "claim_run",
    "last_closed_window_end",
    "owner_is_dead",
    "set_run_status",
    "thread_id_for",
    "thread_lease",
]

log = logging.getLogger(__name__)

# A lease lapses this long after its holder's last heartbeat.
LEASE_SECONDS = 30


class LeaseBusy(GuardrailRefusal):
    """Another process is driving this review thread right now."""


def _now() -> datetime:
    return datetime.now(UTC)


def new_owner() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"


def owner_is_dead(owner: str) -> bool:
    """True when ``owner`` names a process on this host that no longer runs.

    Owners elsewhere (another host, or a name this module did not write) are never
    called dead: their leases lapse on their own.
    """
    host, _, rest = owner.partition(":")
    pid_text = rest.partition(":")[0]
    if host != socket.gethostname() or not pid_text.isdigit():
        return False
    pid = int(pid_text)
    if pid == os.getpid():
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    try:  # a killed child its parent has not reaped yet still has a pid
        with open(f"/proc/{pid}/stat", encoding="ascii", errors="replace") as stat:
            return stat.read().rpartition(")")[2].split()[0] in ("Z", "X")
    except (OSError, IndexError):
        return False


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


def _take(settings: Settings, thread_id: str, owner: str, ttl_s: float) -> bool:
    """Take the lease if it is free, lapsed, or held by a dead process on this host."""
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
            return True
        holder = session.exec(
            select(WindowRun.owner).where(WindowRun.thread_id == thread_id)
        ).first()
        if not holder or not owner_is_dead(holder):
            return False
        taken = session.execute(
            update(WindowRun)
            .where(col(WindowRun.thread_id) == thread_id, col(WindowRun.owner) == holder)
            .values(owner=owner, lease_until=now + timedelta(seconds=ttl_s))
            .execution_options(synchronize_session=False)
        )
        if taken.rowcount != 1:  # type: ignore[attr-defined]
            return False
        audit(
            session,
            actor="room",
            action="review.lease_taken_over",
            subject=thread_id,
            detail={"from": holder, "to": owner},
        )
        log.warning("took over review %s from %s, which is no longer running", thread_id, holder)
        return True


def _renew(settings: Settings, thread_id: str, owner: str, ttl_s: float) -> bool:
    with session_scope(settings) as session:
        renewed = session.execute(
            update(WindowRun)
            .where(col(WindowRun.thread_id) == thread_id, col(WindowRun.owner) == owner)
            .values(lease_until=_now() + timedelta(seconds=ttl_s))
            .execution_options(synchronize_session=False)
        )
        return bool(renewed.rowcount == 1)  # type: ignore[attr-defined]


def _heartbeat(
    settings: Settings, thread_id: str, owner: str, ttl_s: float, stop: threading.Event
) -> None:
    """Renew the lease every third of its length until ``stop`` is set."""
    while not stop.wait(ttl_s / 3):
        try:
            if not _renew(settings, thread_id, owner, ttl_s):
                log.error("lost the lease on review %s (held by %s now)", thread_id, owner)
                return
        except Exception:  # noqa: BLE001 - a missed beat is retried; the lease has slack
            log.warning("could not renew the lease on review %s", thread_id, exc_info=True)


@contextmanager
def thread_lease(
    settings: Settings, thread_id: str, *, wait_s: float = 0.0, ttl_s: float = LEASE_SECONDS
) -> Iterator[str]:
    """Hold the one-writer lease on a review thread for the duration of the block.

    A background heartbeat renews it every ``ttl_s / 3`` seconds while the block runs.

    Raises:
        LeaseBusy: another process holds the lease (after waiting ``wait_s`` seconds).
    """
    owner = new_owner()
    deadline = time.monotonic() + wait_s
    while not _take(settings, thread_id, owner, ttl_s):
        if time.monotonic() >= deadline:
            raise LeaseBusy(
                f"another process is working on review {thread_id}; it will pick this up"
            )
        time.sleep(0.05)
    stop = threading.Event()
    beat = threading.Thread(
        target=_heartbeat,
        args=(settings, thread_id, owner, ttl_s, stop),
        name=f"lease-{thread_id}",
        daemon=True,
    )
    beat.start()
    try:
        yield owner
    finally:
        stop.set()
        beat.join()
        with session_scope(settings) as session:
            session.execute(
                update(WindowRun)
                .where(col(WindowRun.thread_id) == thread_id, col(WindowRun.owner) == owner)
                .values(lease_until=None)
                .execution_options(synchronize_session=False)
            )
