"""Reading proposals the way users see them (``proposals --json``, Slack, chat)."""

from __future__ import annotations

from typing import Any

from sqlmodel import col, select

from writers_room.config import Settings
from writers_room.errors import InputError
from writers_room.store.db import session_scope
from writers_room.store.models import Proposal

__all__ = ["STATUSES", "get_proposal", "list_proposals", "public_view"]

STATUSES = ("pending", "approved", "rejected", "applied", "dropped")


def public_view(row: Proposal) -> dict[str, Any]:
    """The contract's JSON shape of a proposal."""
    return {
        "proposal_id": row.proposal_id,
        "series_id": row.series_id,
        "episode_id": row.episode_id,
        "window_end": row.window_end.isoformat() if row.window_end else None,
        "status": row.status,
        "kind": row.kind,
        "summary": row.summary,
        "changes": row.changes.get("items", []),
        "choices": row.changes.get("choices", []),
        "evidence": {
            "metrics": row.evidence.get("metrics", {}),
            "comment_ids": row.evidence.get("comment_ids", []),
            "quotes": row.evidence.get("quotes", []),
            "target": row.evidence.get("target", ""),
            "expected_effect": row.evidence.get("expected_effect", ""),
            "rationale": row.evidence.get("rationale", ""),
        },
        "assets": list(row.assets),
        "content_hash": row.content_hash,
        "base_version": row.base_version,
        "created_at": row.created_at.isoformat(),
        "decided_by": row.decided_by,
        "decided_at": row.decided_at.isoformat() if row.decided_at else None,
    }


def list_proposals(
    settings: Settings, *, status: str | None = None, series_id: str | None = None
) -> list[dict[str, Any]]:
    """Proposals, newest first, optionally filtered by status and series."""
    if status is not None and status not in STATUSES:
        raise InputError(f"--status must be one of {', '.join(STATUSES)}, got {status!r}")
    with session_scope(settings) as session:
        query = select(Proposal).order_by(
            col(Proposal.created_at).desc(), col(Proposal.proposal_id)
        )
        if status:
            query = query.where(Proposal.status == status)
        if series_id:
            query = query.where(Proposal.series_id == series_id)
        return [public_view(row) for row in session.exec(query)]


def get_proposal(settings: Settings, proposal_id: str) -> dict[str, Any]:
    with session_scope(settings) as session:
        row = session.get(Proposal, proposal_id)
        if row is None:
            raise InputError(f"no proposal {proposal_id!r}; see `writers-room proposals`")
        return public_view(row)
