"""The chat graph on the sample room: explain, brief, note, decide, status, render, context."""

from __future__ import annotations

import time
import uuid
from typing import Any

from sqlmodel import select

from writers_room.brief.proposals import BriefChangeProposal, FieldChange
from writers_room.config import Settings
from writers_room.graphs.chat import answers as ans
from writers_room.graphs.chat.quotes import Quoted
from writers_room.graphs.chat.run import ChatRoom, chat_thread_id
from writers_room.guardrails.approval import store_pending
from writers_room.ingest.series import current_brief
from writers_room.store.db import session_scope
from writers_room.store.models import BlindIteration, Decision, Note, Proposal, RenderJob

APPROVER = "U0SHOWRUN1"  # the sample series' approver


def thread() -> str:
    return chat_thread_id("test", uuid.uuid4().hex[:8])


def ask(chat: ChatRoom, text: str, thread_id: str, user: str = "U0WRITER") -> Any:
    return chat.ask(text, thread_id=thread_id, user=user)


def pending_proposal(settings: Settings, hook: str) -> str:
    with session_scope(settings) as session:
        brief = current_brief(session, "harbor-hearts", "ep03")
        assert brief is not None
        (row,) = store_pending(
            session,
            series_id="harbor-hearts",
            window_end=None,
            proposals=[
                BriefChangeProposal(
                    episode_id="ep03",
                    kind="hook_rewrite",
                    summary="Open on the lockbox, not on the fog: the question first.",
                    target="retention_3s below the cohort",
                    expected_effect="more starters past second 3",
                    changes=[
                        FieldChange(path="brief.hook", before=brief.brief["hook"], after=hook)
                    ],
                )
            ],
        )
        return row.proposal_id


def test_explain_an_episode_with_numbers_shot_and_comments(chat: ChatRoom) -> None:
    t = thread()
    reply = ask(chat, "series:harbor-hearts why did episode 3 drop?", t)
    assert (reply.intent, reply.series_id, reply.episode_id) == ("explain", "harbor-hearts", "ep03")
    found = ans.latest_report(chat.settings, "harbor-hearts")
    assert found is not None
    report, folder = found
    episode = next(e for e in report["episodes"] if e["episode_id"] == "ep03")
    assert f"Score {episode['score']:.1f}/100 → {episode['band']}" in reply.text
    # ep03's hook fails from the first seconds on: a weak opening, not a cliff at one second.
    assert episode["cliff"] is None and "Biggest drop" not in reply.text
    assert "cm-" in reply.text  # quoted comments carry their ids
    assert reply.files == [str(folder / "retention-ep03.png")]


def test_thread_keeps_its_context(chat: ChatRoom, sample_room: Settings, router: Any) -> None:
    t = thread()
    ask(chat, "series:neon-heist report ep2", t)
    reply = ask(chat, "and episode 4?", t)
    assert (reply.intent, reply.series_id, reply.episode_id) == ("explain", "neon-heist", "ep04")
    reply = ask(chat, "brief", t)
    assert reply.intent == "brief" and "neon-heist · ep04" in reply.text
    # Another conversation starts from scratch: two series, so it must ask which.
    other = ask(chat, "report ep2", thread())
    assert other.intent == "clarify" and "series:<id>" in other.text
    # The context is checkpointed: a new process (a new ChatRoom) continues the thread.
    with ChatRoom(sample_room, router=router) as later:
        reply = ask(later, "and ep5?", t)
    assert (reply.series_id, reply.episode_id, reply.intent) == ("neon-heist", "ep05", "brief")


def test_unknown_series_and_episode_are_named(chat: ChatRoom) -> None:
    reply = ask(chat, "series:nope status", thread())
    assert reply.intent == "clarify" and "no series `nope`" in reply.text
    reply = ask(chat, "series:harbor-hearts report ep42", thread())
    assert reply.intent == "clarify" and "no episode `ep42`" in reply.text


def test_brief_shows_the_version_in_force(chat: ChatRoom, sample_room: Settings) -> None:
    reply = ask(chat, "series:harbor-hearts brief ep03", thread())
    with session_scope(sample_room) as session:
        brief = current_brief(session, "harbor-hearts", "ep03")
        assert brief is not None
    assert f"brief v{brief.version}" in reply.text and brief.brief["hook"] in reply.text
    assert "`s01`" in reply.text


def test_note_is_fresh_human_input(chat: ChatRoom, sample_room: Settings) -> None:
    with session_scope(sample_room) as session:
        row = session.get(BlindIteration, ("harbor-hearts", "ep05"))
        if row is None:
            row = BlindIteration(series_id="harbor-hearts", episode_id="ep05")
        row.count = 3
        session.add(row)
    reply = ask(
        chat, "series:harbor-hearts note ep05 let Bea carry the flashback", thread(), "U0ANA"
    )
    assert reply.intent == "note" and "blind-iteration count" in reply.text
    with session_scope(sample_room) as session:
        blind = session.get(BlindIteration, ("harbor-hearts", "ep05"))
        assert blind is not None and blind.count == 0
        notes = session.exec(select(Note).where(Note.author == "U0ANA")).all()
    assert [n.text for n in notes] == ["let Bea carry the flashback"]


def test_decisions_need_an_approver_and_happen_once(chat: ChatRoom, sample_room: Settings) -> None:
    proposal_id = pending_proposal(sample_room, "The lockbox is already open when we arrive.")
    t = thread()
    refused = ask(chat, f"approve {proposal_id}", t, "U0MALLORY")
    assert refused.refused and "Only approvers" in refused.text
    with session_scope(sample_room) as session:
        assert session.exec(select(Decision).where(Decision.proposal_id == proposal_id)).all() == []

    assert ask(chat, f"reject {proposal_id}", t, APPROVER).intent == "clarify"  # needs a reason
    done = ask(chat, f"reject {proposal_id} too early for the lockbox", t, APPROVER)
    assert not done.refused and done.decided == [proposal_id]
    again = ask(chat, f"approve {proposal_id}", t, APPROVER)
    assert again.refused and f"Already decided by {APPROVER}" in again.text
    with session_scope(sample_room) as session:
        decisions = session.exec(select(Decision).where(Decision.proposal_id == proposal_id)).all()
    assert [(d.decision, d.note) for d in decisions] == [("rejected", "too early for the lockbox")]


def test_typed_approval_is_bound_to_what_the_thread_was_shown(
    chat: ChatRoom, sample_room: Settings
) -> None:
    proposal_id = pending_proposal(sample_room, "Mara already holds the photos.")
    t = thread()
    shown = ask(chat, "series:harbor-hearts propose ep03", t)
    assert proposal_id in shown.proposals and proposal_id in shown.text
    with session_scope(sample_room) as session:
        row = session.get(Proposal, proposal_id)
        assert row is not None
        row.summary = "Something else entirely."
        row.content_hash = "e" * 64
        session.add(row)
    reply = ask(chat, f"approve {proposal_id}", t, APPROVER)
    assert reply.refused and "changed after it was shown" in reply.text
    with session_scope(sample_room) as session:
        assert session.exec(select(Decision).where(Decision.proposal_id == proposal_id)).all() == []


def test_draft_the_next_episode_is_a_pending_proposal(
    chat: ChatRoom, sample_room: Settings
) -> None:
    t = thread()
    wrong = ask(chat, "series:harbor-hearts draft episode 12", t)
    assert wrong.intent == "clarify" and "`ep09` comes after `ep08`" in wrong.text
    reply = ask(chat, "series:harbor-hearts draft the next episode", t)
    assert (reply.intent, reply.episode_id) == ("draft", "ep09")
    (proposal_id,) = reply.proposals
    with session_scope(sample_room) as session:
        row = session.get(Proposal, proposal_id)
        assert row is not None
        assert (row.kind, row.status, row.episode_id, row.base_version) == (
            "new_episode",
            "pending",
            "ep09",
            0,
        )
    assert "sh01" in reply.text and "MARA: Dad?" in reply.text
    assert f"approve {proposal_id}" in reply.text
    # The same room drafts the same episode: asking again shows the same proposal.
    again = ask(chat, "draft episode 9", t)
    assert again.intent == "draft" and again.proposals == [proposal_id]
    # The conversation showed it, so the approver's typed approval is bound to it.
    decided = ask(chat, f"approve {proposal_id}", t, user=APPROVER)
    assert decided.intent == "approve" and "version 1" in decided.text, decided.text
    with session_scope(sample_room) as session:
        assert session.get(Proposal, proposal_id).status == "applied"  # type: ignore[union-attr]
        job = session.exec(select(RenderJob).where(RenderJob.proposal_id == proposal_id)).one()
        assert (job.episode_id, job.brief_version) == ("ep09", 1)


def test_render_status_lists_jobs(chat: ChatRoom, sample_room: Settings) -> None:
    with session_scope(sample_room) as session:
        session.add(
            RenderJob(
                render_id="r-test-1",
                idempotency_key="k-test-1",
                series_id="neon-heist",
                episode_id="ep01",
                brief_version=1,
                status="done",
                artifacts={"hls_master": "renders/neon-heist/ep01/r-test-1/hls/master.m3u8"},
            )
        )
    reply = ask(chat, "series:neon-heist is the render done yet", thread())
    assert reply.intent == "render_status"
    assert "`r-test-1`" in reply.text and "done" in reply.text and "master.m3u8" in reply.text


def test_status_and_help(chat: ChatRoom) -> None:
    status = ask(chat, "status", thread())
    assert "harbor-hearts" in status.text and "neon-heist" in status.text
    assert "Talk to the room" in ask(chat, "what can you do", thread()).text


def test_format_episode_quotes_findings() -> None:
    report = {"series_id": "s", "title": "S", "window_start": "a", "window_end": "b", "themes": []}
    episode = {
        "episode_id": "ep1",
        "title": "One",
        "score": 41.0,
        "band": "iterate_hook",
        "components": dict.fromkeys(
            ("retention_10s", "ctr", "completion", "engagement", "commercial"), 1.0
        ),
        "metrics": {
            "retention_10s": 0.2,
            "ctr": 0.05,
            "completion": 0.1,
            "starts": 10,
            "impressions": 100,
        },
        "targets": {"retention_10s": 0.5},
        "cliff": {
            "second": 2,
            "drop_pct": 30.0,
            "shot_id": "s1",
            "shot_start_s": 0,
            "shot_end_s": 4,
            "action": "a door",
        },
        "findings": [
            {
                "kind": "hook_failure",
                "summary": "10-s retention 20% vs 50%",
                "proposal": "rewrite the hook",
                "quotes": [{"comment_id": "c9", "text": "boring start", "likes": 4}],
            }
        ],
    }
    text = ans.format_episode(report, episode, [Quoted("c7", "ep1", "the door scene dragged", 2)])
    assert "`hook_failure` 10-s retention 20% vs 50%" in text
    assert "“boring start” (`c9`, 4 likes)" in text and "(`c7`, 2 likes)" in text
    assert "shot `s1` (0–4 s): _a door_" in text


def test_answers_are_fast(chat: ChatRoom) -> None:
    t = thread()
    ask(chat, "series:harbor-hearts why did episode 3 drop?", t)  # warm: index, report cache
    started = time.perf_counter()
    ask(chat, "why did episode 5 drop?", t)
    assert time.perf_counter() - started < 0.5
