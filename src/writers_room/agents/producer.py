"""The producer: turns an applied proposal into a render request for its new brief version.

It holds no power of its own: it reads the brief version that ``apply`` wrote and asks
``tools.render`` for a job, keyed by the proposal and version so a retried step never
renders twice. Rendering runs outside the graph (see ``tools.render.run_render``).
"""

from __future__ import annotations

from sqlmodel import select

from writers_room.config import Settings
from writers_room.errors import GuardrailRefusal, InputError
from writers_room.memory.db import session_scope
from writers_room.memory.models import BriefVersion, Proposal, RenderJob
from writers_room.tools.render import queue_render

__all__ = ["request_render"]


def request_render(settings: Settings, proposal_id: str, *, preview: bool = False) -> RenderJob:
    """Queue the render of the brief version an applied proposal produced.

    Raises:
        GuardrailRefusal: the proposal is not applied (nothing to publish yet).
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
                BriefVersion.source == f"proposal:{proposal_id}",
            )
        ).one()
    return queue_render(
        settings,
        proposal.series_id,
        proposal.episode_id,
        version,
        proposal_id=proposal_id,
        preview=preview,
        idempotency_key=f"proposal:{proposal_id}:v{version}:{'preview' if preview else 'full'}",
    )
