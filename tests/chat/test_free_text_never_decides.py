"""Free text never decides (#14, fault 1): only `approve p-<id>` / `reject p-<id> <reason>`.

Before #14 the router picked the intent by similarity to example utterances, so "do not
approve that proposal" came out as *approve*, and ``decide`` acted on the one proposal the
thread had shown. Every phrasing below is sent by an approver in a thread that showed
exactly one pending proposal: none may decide anything, each gets the one-line answer on
how to decide, and the explicit command still works afterwards.
"""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from sqlmodel import col, select, update

from writers_room.brief.proposals import BriefChangeProposal, FieldChange
from writers_room.config import Settings
from writers_room.graphs.chat.run import ChatRoom, chat_thread_id
from writers_room.guardrails.approval import store_pending
from writers_room.ingest.series import current_brief
from writers_room.store.db import session_scope
from writers_room.store.models import Decision, Proposal, RenderJob

APPROVER = "U0SHOWRUN1"  # the sample series' approver
SERIES, EPISODE = "harbor-hearts", "ep03"

# ``{p}`` becomes the id of the proposal the thread showed.
PHRASINGS = [
    # negations
    "do not approve that proposal",
    "I don't approve it",
    "I do not approve this",
    "never approve this",
    "don't approve {p}",
    "please don't ship it",
    "not approved",
    "I can't approve this one",
    "no, kill that proposal",
    "I disapprove",
    "don't reject it yet",
    # questions
    "can you explain why you approve it",
    "should I approve it?",
    "approve?",
    "approve {p}?",
    "would you approve this?",
    "what happens if I reject it",
    "is it ok to greenlight this?",
    # quotes of other people
    "Maria said approve it",
    '"approve it" is what Theo wrote',
    "the network says ship it",
    "Sam wants us to reject it",
    "Bea: lgtm",
    # hypotheticals and conditions
    "if the numbers hold I'd approve",
    "approve {p} if the numbers hold",
    "I might approve it tomorrow",
    "approve it once legal signs off",
    "we could go with that change later",
    # bare decision words in free text
    "approve it",
    "approve that proposal",
    "looks good, ship it",
    "yes, go with that change",
    "lgtm",
    "ok go",
    "greenlight it",
    "👍",
    "yes",
    "reject it",
    "decline the proposal",
    "<@UBOT> approve it",
    # other languages' yes and no
    "nein",
    "nein, nicht freigeben",
    "non, pas ça",
    "non",
    "no lo apruebes",
    "no",
    "não aprovo",
    "non approvarlo",
    "ja, genehmigt",
    "oui, je valide",
    "sí, apruébalo",
    "нет",
]


def fresh_thread() -> str:
    return chat_thread_id("test", uuid.uuid4().hex[:8])


def ask(chat: ChatRoom, text: str, thread_id: str, user: str = APPROVER) -> Any:
    return chat.ask(text, thread_id=thread_id, user=user)


def new_proposal(settings: Settings, *, keep_pending: bool = False) -> str:
    """A pending hook rewrite for harbor-hearts/ep03: the only one, unless ``keep_pending``."""
    if not keep_pending:
        with session_scope(settings) as session:
            session.exec(  # type: ignore[call-overload]
                update(Proposal).where(col(Proposal.status) == "pending").values(status="dropped")
            )
    with session_scope(settings) as session:
        brief = current_brief(session, SERIES, EPISODE)
        assert brief is not None
        (row,) = store_pending(
            session,
            series_id=SERIES,
            window_end=None,
            proposals=[
                BriefChangeProposal(
                    episode_id=EPISODE,
                    kind="hook_rewrite",
                    summary="Open on the lockbox, not on the fog: the question first.",
                    target="retention_3s below the cohort",
                    expected_effect="more starters past second 3",
                    changes=[
                        FieldChange(
                            path="brief.hook",
                            before=brief.brief["hook"],
                            after=f"The lockbox is open already ({uuid.uuid4().hex[:6]}).",
                        )
                    ],
                )
            ],
        )
        return row.proposal_id


def thread_showing_one(chat: ChatRoom, settings: Settings) -> tuple[str, str]:
    """A conversation whose last answer showed exactly one pending proposal."""
    proposal_id = new_proposal(settings)
    thread_id = fresh_thread()
    shown = ask(chat, f"series:{SERIES} propose {EPISODE}", thread_id)
    assert shown.proposals == [proposal_id]
    return thread_id, proposal_id


def facts(settings: Settings, proposal_id: str) -> tuple[str, int, int, int]:
    """(proposal status, brief version in force, decision rows, render jobs)."""
    with session_scope(settings) as session:
        proposal = session.get(Proposal, proposal_id)
        brief = current_brief(session, SERIES, EPISODE)
        assert proposal is not None and brief is not None
        decisions = session.exec(select(Decision).where(Decision.proposal_id == proposal_id))
        renders = session.exec(select(RenderJob).where(RenderJob.proposal_id == proposal_id))
        return proposal.status, brief.version, len(decisions.all()), len(renders.all())


def test_the_corpus_is_big_enough() -> None:
    assert len(set(PHRASINGS)) == len(PHRASINGS) >= 40


@pytest.mark.parametrize("phrasing", PHRASINGS)
def test_free_text_never_decides(chat: ChatRoom, sample_room: Settings, phrasing: str) -> None:
    thread_id, proposal_id = thread_showing_one(chat, sample_room)
    before = facts(sample_room, proposal_id)
    assert before[0] == "pending" and before[2:] == (0, 0)

    reply = ask(chat, phrasing.format(p=proposal_id), thread_id)

    assert facts(sample_room, proposal_id) == before  # no decision, brief unchanged, no render
    assert reply.decided == [] and not reply.refused
    assert reply.intent == "how_to_decide", reply
    # One line that says exactly how to decide the proposal the thread showed.
    assert "\n" not in reply.text
    assert f"`approve {proposal_id}`" in reply.text
    assert f"`reject {proposal_id} <reason>`" in reply.text
    assert reply.text.startswith("Nothing changed")


def test_a_thread_that_showed_two_names_neither(chat: ChatRoom, sample_room: Settings) -> None:
    first = new_proposal(sample_room)
    second = new_proposal(sample_room, keep_pending=True)
    thread_id = fresh_thread()
    assert sorted(ask(chat, f"series:{SERIES} propose {EPISODE}", thread_id).proposals) == sorted(
        [first, second]
    )
    reply = ask(chat, "approve it", thread_id)
    assert reply.intent == "how_to_decide" and "\n" not in reply.text
    assert "`approve p-<id>`" in reply.text
    assert f"`{first}`" in reply.text and f"`{second}`" in reply.text
    assert facts(sample_room, first)[2:] == facts(sample_room, second)[2:] == (0, 0)


def test_the_explicit_command_still_decides(chat: ChatRoom, sample_room: Settings) -> None:
    thread_id, proposal_id = thread_showing_one(chat, sample_room)
    _, version, _, _ = facts(sample_room, proposal_id)
    assert ask(chat, "do not approve that proposal", thread_id).decided == []
    assert ask(chat, "approve it", thread_id).decided == []

    reply = ask(chat, f"approve {proposal_id}", thread_id)

    assert reply.decided == [proposal_id] and not reply.refused
    assert f"The brief is at version {version + 1} now" in reply.text
    assert facts(sample_room, proposal_id) == ("applied", version + 1, 1, 1)


def test_explicit_reject_needs_a_reason(chat: ChatRoom, sample_room: Settings) -> None:
    thread_id, proposal_id = thread_showing_one(chat, sample_room)
    before = facts(sample_room, proposal_id)
    for bare in (f"reject {proposal_id}", f"reject {proposal_id}  ", f"reject {proposal_id} :"):
        reply = ask(chat, bare, thread_id)
        assert reply.decided == [] and "\n" not in reply.text
        assert f"`reject {proposal_id} <reason>`" in reply.text and "reason" in reply.text
    assert facts(sample_room, proposal_id) == before

    reply = ask(chat, f"reject {proposal_id} the fog is the brand", thread_id)
    assert reply.decided == [proposal_id]
    assert facts(sample_room, proposal_id) == ("rejected", before[1], 1, 0)


def test_approving_a_proposal_the_thread_never_showed_shows_it_first(
    chat: ChatRoom, sample_room: Settings
) -> None:
    proposal_id = new_proposal(sample_room)
    thread_id = fresh_thread()
    before = facts(sample_room, proposal_id)
    with session_scope(sample_room) as session:
        row = session.get(Proposal, proposal_id)
        assert row is not None
        content_hash = row.content_hash

    first = ask(chat, f"approve {proposal_id}", thread_id)

    assert first.decided == [] and first.intent == "confirm"
    assert facts(sample_room, proposal_id) == before
    # The change set and the short hash the CLI's `proposals show` prints, then the ask.
    assert f"`{content_hash[:12]}`" in first.text
    assert "`brief.hook`" in first.text and "The lockbox is open already" in first.text
    assert f"send `approve {proposal_id}` again" in first.text
    # Someone else's conversation has not seen it either.
    other = ask(chat, f"approve {proposal_id}", fresh_thread())
    assert other.decided == [] and other.intent == "confirm"

    second = ask(chat, f"approve {proposal_id}", thread_id)

    assert second.decided == [proposal_id]
    assert facts(sample_room, proposal_id) == ("applied", before[1] + 1, 1, 1)


def test_shown_then_changed_is_not_approved(chat: ChatRoom, sample_room: Settings) -> None:
    proposal_id = new_proposal(sample_room)
    thread_id = fresh_thread()
    assert ask(chat, f"approve {proposal_id}", thread_id).intent == "confirm"
    with session_scope(sample_room) as session:
        row = session.get(Proposal, proposal_id)
        assert row is not None
        row.content_hash = "e" * 64  # what an edit elsewhere would do
        session.add(row)
    reply = ask(chat, f"approve {proposal_id}", thread_id)
    assert reply.refused and "changed after it was shown" in reply.text
    assert facts(sample_room, proposal_id)[2] == 0
