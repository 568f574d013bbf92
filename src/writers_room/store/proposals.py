"""Reading proposals the way users see them (``proposals --json``, Slack, chat)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlmodel import col, select

from writers_room.brief import new_episode
from writers_room.brief.diff import ProposalDiff, diff_proposal
from writers_room.config import Settings
from writers_room.errors import InputError
from writers_room.store.db import session_scope
from writers_room.store.models import BriefVersion, Decision, Episode, Proposal

__all__ = [
    "STATUSES",
    "base_documents",
    "chosen_options",
    "get_proposal",
    "list_proposals",
    "proposal_diff",
    "proposal_diffs",
    "public_view",
]

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
    settings: Settings,
    *,
    status: str | None = None,
    series_id: str | None = None,
    window_end: datetime | None = None,
) -> list[dict[str, Any]]:
    """Proposals, newest first, optionally filtered by status, series and review window."""
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
        if window_end is not None:
            query = query.where(Proposal.window_end == window_end)
        return [public_view(row) for row in session.exec(query)]


def get_proposal(settings: Settings, proposal_id: str) -> dict[str, Any]:
    with session_scope(settings) as session:
        row = session.get(Proposal, proposal_id)
        if row is None:
            raise InputError(f"no proposal {proposal_id!r}; see `writers-room proposals`")
        return public_view(row)


def proposal_diff(
    settings: Settings, proposal: dict[str, Any], *, show_noise: bool = False
) -> ProposalDiff:
    """The readable diff of a proposal (its :func:`public_view`) against the brief version
    it was written on."""
    brief, manifest = base_documents(settings, proposal)
    return diff_proposal(proposal, brief, manifest, show_noise=show_noise)


def base_documents(
    settings: Settings, proposal: dict[str, Any]
) -> tuple[dict[str, Any], dict[str, Any]]:
    """``(brief, manifest)`` of the brief version a proposal was written on (for a drafted
    episode, the blank episode)."""
    if proposal.get("kind") == new_episode.KIND:
        return new_episode.blank_episode(proposal["series_id"], proposal["episode_id"])
    with session_scope(settings) as session:
        base = session.exec(
            select(BriefVersion).where(
                BriefVersion.series_id == proposal["series_id"],
                BriefVersion.episode_id == proposal["episode_id"],
                BriefVersion.version == proposal["base_version"],
            )
        ).first()
        if base is None:
            return {}, {"shots": []}
        episode = session.get(Episode, (proposal["series_id"], proposal["episode_id"]))
        return _titled(base.brief, episode.title if episode else ""), dict(base.manifest)


def _titled(brief: dict[str, Any], title: str) -> dict[str, Any]:
    """A brief without a ``title`` of its own goes by its episode's: a retitle then reads
    "Double Down" → "Have We Met?", not a title from nowhere."""
    out = dict(brief)
    if not out.get("title") and title:
        out["title"] = title
    return out


def proposal_diffs(
    settings: Settings, proposals: list[dict[str, Any]], *, show_noise: bool = False
) -> dict[str, ProposalDiff]:
    """:func:`proposal_diff` of many proposals of one series, their bases read in one query
    (a review's page shows twenty at once)."""
    wanted = {
        (p["episode_id"], p["base_version"]) for p in proposals if p["kind"] != new_episode.KIND
    }
    bases: dict[tuple[str, int], tuple[dict[str, Any], dict[str, Any]]] = {}
    series = {p["series_id"] for p in proposals}
    if wanted and len(series) == 1:
        with session_scope(settings) as session:
            series_id = next(iter(series))
            episodes = {e for e, _ in wanted}
            titles = {
                row.episode_id: row.title
                for row in session.exec(
                    select(Episode).where(
                        Episode.series_id == series_id, col(Episode.episode_id).in_(episodes)
                    )
                )
            }
            rows = session.exec(
                select(BriefVersion).where(
                    BriefVersion.series_id == series_id,
                    col(BriefVersion.episode_id).in_(episodes),
                    col(BriefVersion.version).in_({v for _, v in wanted}),
                )
            )
            for row in rows:
                bases[(row.episode_id, row.version)] = (
                    _titled(row.brief, titles.get(row.episode_id, "")),
                    dict(row.manifest),
                )
    out: dict[str, ProposalDiff] = {}
    for p in proposals:
        key = (p["episode_id"], p["base_version"])
        if p["kind"] == new_episode.KIND or len(series) != 1:
            brief, manifest = base_documents(settings, p)
        else:
            brief, manifest = bases.get(key, ({}, {"shots": []}))
        out[p["proposal_id"]] = diff_proposal(p, brief, manifest, show_noise=show_noise)
    return out


def chosen_options(settings: Settings, proposal_id: str) -> list[int | None] | None:
    """The alternatives an approval chose (one per choice), or ``None``."""
    with session_scope(settings) as session:
        decision = session.exec(select(Decision).where(Decision.proposal_id == proposal_id)).first()
        return list(decision.choices) if decision and decision.choices is not None else None
