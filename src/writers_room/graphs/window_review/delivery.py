"""Apply an approved proposal and request the render of its new brief version.

One definition for every path a decision takes: the review graph runs the two halves as
its ``apply`` and ``produce`` steps (each checkpointed on its own), a decision outside
any review runs :func:`apply_and_request_render`. Each half is idempotent — ``approved →
applied`` is one conditional update, the render has an idempotency key — so a crash
anywhere is finished by running it again, and nothing happens twice.

``apply_proposal`` and ``request_render`` are looked up on their modules at call time
(the crash tests patch them there to die at those points).
"""

from __future__ import annotations

import logging

from writers_room.config import Settings
from writers_room.errors import GuardrailRefusal
from writers_room.guardrails import approval
from writers_room.jobs import producer
from writers_room.store.db import session_scope
from writers_room.store.models import Proposal, RenderJob

__all__ = ["apply_and_request_render", "apply_approved", "request_render_of_applied"]

log = logging.getLogger(__name__)


def apply_approved(
    settings: Settings, proposal_id: str, *, actor: str | None = None
) -> GuardrailRefusal | None:
    """Write the new brief version of an approved proposal; the refusal, if refused.

    A refusal (already applied by an earlier run, or the brief moved on) changes nothing.
    """
    try:
        if actor is None:
            approval.apply_proposal(settings, proposal_id)
        else:
            approval.apply_proposal(settings, proposal_id, actor=actor)
    except GuardrailRefusal as exc:
        log.warning("approved proposal %s was not applied: %s", proposal_id, exc)
        return exc
    return None


def request_render_of_applied(settings: Settings, proposal_id: str) -> RenderJob | None:
    """The render job of an applied proposal's version (queued once); None when refused.

    A refusal is audited (``render.refused``); the approval stands and
    ``producer.render_refusal`` says why.
    """
    try:
        return producer.request_render(settings, proposal_id)
    except producer.RenderRefused:
        return None


def _status(settings: Settings, proposal_id: str) -> str:
    with session_scope(settings) as session:
        proposal = session.get(Proposal, proposal_id)
        assert proposal is not None
        return proposal.status


def apply_and_request_render(
    settings: Settings, proposal_id: str, *, actor: str | None = None
) -> GuardrailRefusal | None:
    """Both halves for one approved (or already applied) proposal, exactly once.

    Returns the apply step's refusal (e.g. the brief moved on since), if it refused; a
    refused render is audited and reported by ``producer.render_refusal``.
    """
    refused = None
    if _status(settings, proposal_id) == "approved":
        refused = apply_approved(settings, proposal_id, actor=actor)
    if _status(settings, proposal_id) == "applied":
        request_render_of_applied(settings, proposal_id)
    return refused
