"""The producer: turns an applied proposal into a render request for its new brief version.

It holds no power of its own: it reads the brief version that ``apply`` wrote and asks
``tools.render`` for a job, keyed by the proposal and version so a retried step never
renders twice. Rendering runs outside the graph (see ``tools.render.run_render``).
"""

from __future__ import annotations

import logging

from sqlmodel import col, select

from writers_room.config import Settings
from writers_room.errors import GuardrailRefusal, InputError
from writers_room.jobs.render import queue_render
from writers_room.store.db import audit, session_scope
from writers_room.store.models import AuditLog, BriefVersion, Proposal, RenderJob

__all__ = ["RenderRefused", "render_refusal", "request_render"]

log = logging.getLogger(__name__)


class RenderRefused(InputError):
    """The applied brief version cannot be rendered as things stand (e.g. a caption no font
    can draw, or half a C2PA configuration). The approval stands; the refusal is audited."""


def request_render(settings: Settings, proposal_id: str, *, preview: bool = False) -> RenderJob:
    """Queue the render of the brief version an applied proposal produced.

    Raises:
        GuardrailRefusal: the proposal is not applied (nothing to publish yet).
        RenderRefused: the render tool refused the version (recorded as ``render.refused``
            in the audit log, with the reason).
    """
    with session_scope(settings) as session:
        proposal = session.get(Proposal, proposal_id)
        if proposal is None:
            raise InputError(f"no proposal {proposal_id!r}")
        if proposal.status != "applied":
            raise GuardrailRefusal(
                f"proposal {proposal_id} is {proposal.status}; only applied changes are rendered"
            )
        version = session.exec(
            select(BriefVersion.version).where(
                BriefVersion.series_id == proposal.series_id,
                BriefVersion.episode_id == proposal.episode_id,
                BriefVersion.proposal_id == proposal_id,
            )
        ).one()
    try:
        return queue_render(
            settings,
            proposal.series_id,
            proposal.episode_id,
            version,
            proposal_id=proposal_id,
            preview=preview,
            idempotency_key=f"proposal:{proposal_id}:v{version}:{'preview' if preview else 'full'}",
        )
    except InputError as exc:
        where = f"{proposal.series_id}/{proposal.episode_id}"
        message = (
            f"brief version {version} of {where} is applied, but its render was not queued: "
            f"{exc} — fix that, then `writers-room render --series {proposal.series_id} "
            f"--episode {proposal.episode_id}`"
        )
        with session_scope(settings) as session:
            audit(
                session,
                actor="producer",
                action="render.refused",
                subject=proposal_id,
                detail={"episode": where, "brief_version": version, "reason": message},
            )
        log.warning("render of proposal %s refused: %s", proposal_id, exc)
        raise RenderRefused(message, field=exc.field, value=exc.value) from exc


def render_refusal(settings: Settings, proposal_id: str) -> str | None:
    """Why the render of an applied proposal was refused, if no render job exists for it."""
    with session_scope(settings) as session:
        queued = session.exec(
            select(RenderJob.render_id).where(RenderJob.proposal_id == proposal_id)
        ).first()
        if queued is not None:
            return None
        row = session.exec(
            select(AuditLog)
            .where(AuditLog.action == "render.refused", AuditLog.subject == proposal_id)
            .order_by(col(AuditLog.id).desc())
        ).first()
        return str(row.detail.get("reason")) if row is not None else None
