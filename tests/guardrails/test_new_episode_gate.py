"""A ``new_episode`` proposal goes through the same gate: pending, one decision, applied once.

Applying it registers the episode (next position, its brief's title) with version 1 and
the proposal id on that version; nothing exists before the approval.
"""

from __future__ import annotations

import pytest
from sqlmodel import select

from writers_room.brief import new_episode
from writers_room.brief.proposals import BriefChangeProposal, Evidence, FieldChange
from writers_room.config import Settings
from writers_room.errors import GuardrailRefusal, InputError
from writers_room.guardrails.approval import apply_proposal, decide, store_pending
from writers_room.store.db import session_scope
from writers_room.store.models import AuditLog, BriefVersion, Episode, Proposal

SHOTS = [
    {"shot_id": "sh01", "start_s": 0, "duration_s": 6, "action": "Mara opens the door"},
    {"shot_id": "sh02", "start_s": 6, "duration_s": 8, "action": "Theo steps in from the rain"},
]


def draft(episode_id: str = "ep3", title: str = "The Door") -> BriefChangeProposal:
    changes = [
        FieldChange(path="brief.title", before=None, after=title),
        FieldChange(path="brief.premise", before=None, after="Mara lets Theo in."),
        FieldChange(path="brief.hook", before=None, after="The door opens on its own."),
        FieldChange(path="brief.beats", before=None, after=["the door", "Theo"]),
        FieldChange(path="manifest.shots", before=None, after=SHOTS),
    ]
    return BriefChangeProposal(
        episode_id=episode_id,
        kind="new_episode",
        summary="Draft of the next episode: Mara lets the stranger in.",
        target="the next episode after ep2",
        expected_effect="an episode ready to render",
        changes=changes,
        evidence=Evidence(metrics={"question_viewers": 3.0}),
    )


def store(room: Settings, proposal: BriefChangeProposal) -> Proposal:
    with session_scope(room) as session:
        (row,) = store_pending(session, series_id="tiny", window_end=None, proposals=[proposal])
        return row


def test_a_draft_is_stored_on_base_version_0_and_registers_nothing(room: Settings) -> None:
    row = store(room, draft())
    assert row.status == "pending" and row.kind == "new_episode"
    assert row.base_version == new_episode.BASE_VERSION == 0
    with session_scope(room) as session:
        assert session.get(Episode, ("tiny", "ep3")) is None
    assert store(room, draft()).proposal_id == row.proposal_id  # idempotent


def test_approve_then_apply_registers_the_episode_at_v1(room: Settings) -> None:
    row = store(room, draft())
    with pytest.raises(GuardrailRefusal, match="no approval"):
        apply_proposal(room, row.proposal_id)
    decide(room, row.proposal_id, actor="U0SHOW", approve=True, shown_hash=row.content_hash)
    version = apply_proposal(room, row.proposal_id)
    assert version.version == 1 and version.proposal_id == row.proposal_id
    with session_scope(room) as session:
        episode = session.get(Episode, ("tiny", "ep3"))
        assert episode is not None
        assert (episode.title, episode.position, episode.current_version) == ("The Door", 2, 1)
        stored = session.exec(select(BriefVersion).where(BriefVersion.episode_id == "ep3")).one()
        assert stored.brief["title"] == "The Door" and stored.brief["locked_beats"] == []
        assert stored.manifest["episode_id"] == "ep3" and stored.manifest["brief_version"] == 1
        assert [s["shot_id"] for s in stored.manifest["shots"]] == ["sh01", "sh02"]
        assert session.get(Proposal, row.proposal_id).status == "applied"  # type: ignore[union-attr]
        applied = session.exec(
            select(AuditLog).where(
                AuditLog.action == "proposal.applied", AuditLog.subject == row.proposal_id
            )
        ).one()
        assert applied.detail["new_episode"] == "ep3"
    with pytest.raises(GuardrailRefusal, match="already applied"):
        apply_proposal(room, row.proposal_id)


def test_a_second_draft_of_the_same_episode_is_refused_once_one_is_applied(
    room: Settings,
) -> None:
    first, second = store(room, draft()), store(room, draft(title="Another Door"))
    for row in (first, second):
        decide(room, row.proposal_id, actor="U0SHOW", approve=True)
    apply_proposal(room, first.proposal_id)
    with pytest.raises(GuardrailRefusal, match="has an episode ep3 now"):
        apply_proposal(room, second.proposal_id)
    with session_scope(room) as session:
        assert session.get(Proposal, second.proposal_id).status == "approved"  # type: ignore[union-attr]
        versions = session.exec(select(BriefVersion).where(BriefVersion.episode_id == "ep3"))
        assert [v.proposal_id for v in versions] == [first.proposal_id]


def test_a_draft_of_an_existing_episode_or_series_is_refused(room: Settings) -> None:
    with pytest.raises(InputError, match="already has an episode 'ep2'"):
        store(room, draft(episode_id="ep2"))
    with session_scope(room) as session, pytest.raises(InputError, match="no series"):
        store_pending(session, series_id="nope", window_end=None, proposals=[draft()])


def test_an_edited_draft_is_checked_against_the_blank_episode(room: Settings) -> None:
    row = store(room, draft())
    bad = [{"path": "manifest.shots", "before": None, "after": [{"shot_id": "x"}]}]
    with pytest.raises(InputError, match="does not apply"):
        decide(room, row.proposal_id, actor="U0SHOW", approve=True, edited_changes=bad)
    edited = [c.model_dump() for c in draft(title="The Open Door").changes]
    decide(room, row.proposal_id, actor="U0SHOW", approve=True, edited_changes=edited)
    apply_proposal(room, row.proposal_id)
    with session_scope(room) as session:
        assert session.get(Episode, ("tiny", "ep3")).title == "The Open Door"  # type: ignore[union-attr]
