"""A packaging proposal for the tiny series (ep1): three headlines and a thumbnail on s3.

Shared by the tests of the option pictures (``jobs.previews``), the Slack card that shows
them and the review page that shows them.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from writers_room.brief.proposals import BriefChangeProposal, Choice, Evidence, FieldChange
from writers_room.config import Settings
from writers_room.guardrails.approval import store_pending
from writers_room.store.db import session_scope
from writers_room.store.proposals import get_proposal

HEADLINES = ["Who wrote this?", "Next year's letter", "Do not open the door"]


def packaging_proposal(**overrides: Any) -> BriefChangeProposal:
    """Retitle ep1 and test :data:`HEADLINES` on shot s3 (fields overridable)."""
    values: dict[str, Any] = {
        "episode_id": "ep1",
        "kind": "packaging",
        "summary": "Retitle the episode and test three headlines on the knock.",
        "target": "click-through 2.1% against 4.9%",
        "expected_effect": "click-through toward the cohort",
        "changes": [FieldChange(path="brief.title", before=None, after="The Knock")],
        "choices": [Choice(slot="headline", options=HEADLINES)],
        "assets": ["thumbnail: s3, close-up — Theo at the door; text: 'Who wrote this?'"],
        "evidence": Evidence(metrics={"ctr": 0.021}),
    }
    values.update(overrides)
    return BriefChangeProposal(**values)


def store_packaging(
    settings: Settings, proposal: BriefChangeProposal, *, window_end: datetime | None = None
) -> dict[str, Any]:
    """``proposal`` stored pending for the tiny series, as ``proposals --json`` shows it."""
    with session_scope(settings) as session:
        (row,) = store_pending(
            session, series_id="tiny", window_end=window_end, proposals=[proposal]
        )
        proposal_id = row.proposal_id
    return get_proposal(settings, proposal_id)
