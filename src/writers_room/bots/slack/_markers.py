"""Exactly-once markers for the Slack side, kept in the append-only audit log.

The bot adds no table of its own. A marker is an audit row ``(action, subject)``; to
*claim* one, a process checks that no such row exists and inserts it in the same
transaction, serialised against other processes:

* SQLite: the room's sessions start with ``BEGIN IMMEDIATE``, so the check and the
  insert run under the database's single write lock;
* PostgreSQL: a transaction-scoped advisory lock on a hash of ``(action, subject)``.

Two ``serve`` processes (or a Slack retry landing on the other one) therefore never both
claim the same event, review post or proposal post. Event ids are also kept in a small
in-process TTL cache, which answers retries without a database round trip; the audit
check stays the authority across processes and restarts (Slack retries up to about five
minutes after the first delivery, which can straddle a restart).
"""

from __future__ import annotations

import hashlib
import threading
import time
from collections import OrderedDict
from datetime import datetime
from typing import Any

from sqlalchemy import text
from sqlmodel import Session, col, select

from writers_room.config import Settings
from writers_room.store.db import audit, session_scope
from writers_room.store.models import AuditLog

__all__ = ["EventDeduper", "claim", "markers"]

ACTOR = "slack"


def _serialise(session: Session, key: str) -> None:
    bind = session.get_bind()
    if bind.dialect.name == "postgresql":
        digest = hashlib.sha256(key.encode()).digest()[:8]
        session.execute(
            text("SELECT pg_advisory_xact_lock(:key)"),
            {"key": int.from_bytes(digest, "big", signed=True)},
        )
    # SQLite: the session's first statement opens a BEGIN IMMEDIATE transaction, which
    # already holds the one write lock until commit.


def claim(
    settings: Settings, *, action: str, subject: str, detail: dict[str, Any] | None = None
) -> bool:
    """Insert the marker ``(action, subject)`` unless it exists; True if this call did."""
    with session_scope(settings) as session:
        _serialise(session, f"{action}|{subject}")
        found = session.exec(
            select(AuditLog.id)
            .where(AuditLog.action == action, AuditLog.subject == subject)
            .limit(1)
        ).first()
        if found is not None:
            return False
        audit(session, actor=ACTOR, action=action, subject=subject, detail=detail)
        return True


def markers(
    settings: Settings, *, action: str, subject: str
) -> list[tuple[datetime, dict[str, Any]]]:
    """(time, detail) of every marker ``(action, subject)``, oldest first."""
    with session_scope(settings) as session:
        rows = session.exec(
            select(AuditLog)
            .where(AuditLog.action == action, AuditLog.subject == subject)
            .order_by(col(AuditLog.id))
        )
        return [(row.ts, dict(row.detail)) for row in rows]


class EventDeduper:
    """Remembers Slack event ids: the first delivery is processed, retries are not.

    Args:
        settings: the room (its audit log is the cross-process memory).
        ttl_s: how long the in-process cache remembers an id.
        size: the most ids the cache holds.
    """

    def __init__(self, settings: Settings, *, ttl_s: float = 3600.0, size: int = 10_000) -> None:
        self.settings = settings
        self.ttl_s = ttl_s
        self.size = size
        self._seen: OrderedDict[str, float] = OrderedDict()
        self._lock = threading.Lock()

    def first_delivery(self, event_id: str, *, event_type: str = "") -> bool:
        """True exactly once per ``event_id`` across retries, threads and processes."""
        now = time.monotonic()
        with self._lock:
            while self._seen and next(iter(self._seen.values())) < now:
                self._seen.popitem(last=False)
            if event_id in self._seen:
                return False
            # Held across the claim so that concurrent retries in this process wait for
            # the answer instead of racing to the database.
            first = claim(
                self.settings,
                action="slack.event",
                subject=event_id,
                detail={"type": event_type},
            )
            self._seen[event_id] = now + self.ttl_s
            while len(self._seen) > self.size:
                self._seen.popitem(last=False)
            return first
