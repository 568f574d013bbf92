"""Drafting the next episode on the seeded sample: continuity, cast, runtime, the audience,
no copied comment, the guard, and the gate (approve → apply → render queued)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlmodel import col, select

from sample_helpers import SampleRoom
from writers_room.analyst.output import report_dir
from writers_room.analyst.window import analyse
from writers_room.brief.manifest import ShotManifest
from writers_room.brief.script import content_words, parse_dialogue, shared_run
from writers_room.config import Settings
from writers_room.graphs.window_review.run import decide_and_resume
from writers_room.guardrails import brand_guard, continuity
from writers_room.store.db import session_scope
from writers_room.store.models import BriefVersion, Comment, Episode, RenderJob, Series
from writers_room.writer.draft import Draft, draft_next_episode, draft_texts, propose_next_episode

pytestmark = pytest.mark.slow

SERIES = "harbor-hearts"
APPROVER = "U0SHOWRUN1"


def comments(settings: Settings, series_id: str = SERIES) -> list[str]:
    with session_scope(settings) as session:
        return list(session.exec(select(Comment.text).where(Comment.series_id == series_id)))


def last_episode(settings: Settings, episode_id: str = "ep08") -> tuple[dict, dict]:
    with session_scope(settings) as session:
        row = session.exec(
            select(BriefVersion)
            .where(BriefVersion.series_id == SERIES, BriefVersion.episode_id == episode_id)
            .order_by(col(BriefVersion.version).desc())
        ).first()
        assert row is not None
        return dict(row.brief), dict(row.manifest)


def assert_a_sound_draft(settings: Settings, draft: Draft) -> None:
    """Everything the issue asks of a draft, checked from the outside."""
    with session_scope(settings) as session:
        series = session.get(Series, SERIES)
        assert series is not None
        bible = [c["name"] for c in series.characters]
        low, high = series.constraints["runtime_s"]
    assert draft.episode_id == "ep09" and draft.after == "ep08"
    assert draft.proposal.kind == "new_episode"
    assert all(c.before is None for c in draft.proposal.changes)
    # The guard, run again from the outside.
    verdict = brand_guard.check(draft.proposal, draft.guard)
    assert verdict.passed, verdict.reasons
    # ... with every stored comment in its copy check, and the story checks run.
    assert len(draft.guard.comment_texts) == len(comments(settings))
    assert verdict.checks["copied_comment"] and verdict.checks["spoiler"]
    manifest = ShotManifest.model_validate(draft.manifest)
    shots = draft.manifest["shots"]
    # Runtime and shape.
    assert low <= manifest.runtime_s <= high
    assert 8 <= len(shots) <= 12
    assert all(3 <= s["duration_s"] <= 8 for s in shots)
    framings = [s["framing"] for s in shots]
    assert len(set(framings)) >= 4
    assert all(framings[i] != framings[i + 1] for i in range(len(framings) - 1))
    assert sum(1 for s in shots if s["caption"]) <= len(shots) // 2  # captions mostly empty
    # Names: only the bible's people in shots and speaker labels, no unknown name anywhere.
    labels = {n.split()[0].upper() for n in bible} | {n.split()[-1].upper() for n in bible}
    spoken = 0
    for shot in shots:
        assert set(shot["characters"]) <= set(bible), shot
        for speaker, _, text in parse_dialogue(shot["dialogue"]):
            assert speaker in labels, (speaker, shot["dialogue"])
            assert text.strip()
            spoken += 1
        assert shot["keyframe_prompt"].startswith("cinematic vertical 9:16 frame, fog-bound")
        assert shot["seed"] > 0
    assert spoken >= 8
    assert len({s["seed"] for s in shots}) == len(shots)
    vocabulary = draft.guard.vocabulary()
    for text in draft_texts(draft.brief, draft.manifest):
        assert continuity.unknown_names(text, vocabulary) == [], text
    # Continuity: it opens on ep08's payoff, with the people of its last frame.
    brief08, manifest08 = last_episode(settings)
    opening = shots[0]
    assert len(content_words(opening["action"]) & content_words(brief08["payoff"])) >= 4
    assert opening["characters"] == manifest08["shots"][-1]["characters"]
    assert "High Water" in draft.brief["hook"] and "Walt" in draft.brief["hook"]
    assert "Walt" in shots[1]["action"]  # the consequence is played next
    # Nothing copied from any viewer: no run of five words in common with a comment.
    stored = comments(settings)
    assert stored
    for text in draft_texts(draft.brief, draft.manifest):
        assert shared_run(text, stored) is None, text


def test_the_draft_from_comments_alone(sample_room: SampleRoom) -> None:
    """No review has run yet: the drafter counts questions in the comments themselves."""
    settings = sample_room.settings
    draft = draft_next_episode(settings, SERIES)
    assert draft.audience.source == "comments"
    assert_a_sound_draft(settings, draft)
    # Who wrote the letters was answered on screen (ep06); the open handwriting question
    # is the one the twist answers, with the family member the last episode brought back.
    assert "letter" in draft.brief["twist"] and "Walt" in draft.brief["twist"]
    assert "Declan wrote the letters" in draft.proposal.rationale
    assert draft_next_episode(settings, SERIES).proposal == draft.proposal  # deterministic


@pytest.fixture
def reviewed(sample_room: SampleRoom) -> Iterator[Settings]:
    """The series with a saved analyst report (removed after the test)."""
    settings = sample_room.settings
    report = analyse(settings, SERIES, write=True)
    yield settings
    folder = report_dir(settings, report)
    for path in sorted(folder.rglob("*"), reverse=True):
        path.unlink() if path.is_file() else path.rmdir()
    folder.rmdir()


def test_the_draft_from_the_latest_report(reviewed: Settings) -> None:
    draft = draft_next_episode(reviewed, SERIES)
    assert draft.audience.source == "report"
    assert_a_sound_draft(reviewed, draft)
    question = draft.episode.question
    assert question is not None and draft.audience.question is not None
    # The most shared story question by distinct viewers (themes are ranked by them).
    assert question.authors == draft.audience.question.authors
    assert draft.proposal.evidence.metrics["question_viewers"] == question.authors
    assert set(draft.proposal.evidence.comment_ids) & set(question.comment_ids)
    assert "handwriting" in " ".join(s["action"] for s in draft.manifest["shots"])
    ship = draft.audience.ship
    assert ship is not None and set(ship.characters) == {"Mara Quinn", "Theo Vance"}
    assert any(
        set(s["characters"]) == {"Mara Quinn", "Theo Vance"} and s["framing"] == "two-shot"
        for s in draft.manifest["shots"]
    )
    assert [c.options for c in draft.proposal.choices if c.slot == "title"]
    assert draft_next_episode(reviewed, SERIES).proposal == draft.proposal


def test_approved_draft_is_episode_9_at_v1_and_its_render_is_queued(
    sample_room: SampleRoom,
) -> None:
    settings = sample_room.settings
    draft, proposal = propose_next_episode(settings, SERIES)
    assert proposal["status"] == "pending" and proposal["base_version"] == 0
    again, same = propose_next_episode(settings, SERIES)
    assert same["proposal_id"] == proposal["proposal_id"]  # one draft, one proposal
    with session_scope(settings) as session:
        assert session.get(Episode, (SERIES, "ep09")) is None  # nothing before approval
    result = decide_and_resume(
        settings,
        proposal["proposal_id"],
        actor=APPROVER,
        approve=True,
        shown_hash=proposal["content_hash"],
    )
    assert result.applied_version == 1 and len(result.render_ids) == 1
    with session_scope(settings) as session:
        episode = session.get(Episode, (SERIES, "ep09"))
        assert episode is not None
        assert (episode.position, episode.current_version) == (8, 1)
        assert episode.title == draft.brief["title"]
        version = session.exec(
            select(BriefVersion).where(
                BriefVersion.series_id == SERIES, BriefVersion.episode_id == "ep09"
            )
        ).one()
        assert version.version == 1 and version.proposal_id == proposal["proposal_id"]
        assert version.manifest["shots"] == draft.manifest["shots"]
        job = session.get(RenderJob, result.render_ids[0])
        assert job is not None
        assert (job.episode_id, job.brief_version, job.status) == ("ep09", 1, "queued")
    # The next draft continues from the new episode.
    following = draft_next_episode(settings, SERIES)
    assert (following.episode_id, following.after) == ("ep10", "ep09")
    assert brand_guard.check(following.proposal, following.guard).passed
