"""Chat in Slack: mentions, DMs, thread replies and ``/room``, as signed requests (#10)."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import pytest
from slack_mock_server import MockSlack
from slack_payloads import (
    CHANNEL,
    bolt_request,
    command_body,
    dm_event,
    event_body,
    mention_event,
)
from slack_room import APPROVER, STRANGER, scripted_agents, store_hook_proposal
from sqlmodel import select

from writers_room.bots.slack.app import RoomApp, build_app
from writers_room.config import Settings
from writers_room.graphs.chat.router import Route, Router
from writers_room.graphs.chat.run import ChatRoom
from writers_room.store.db import session_scope
from writers_room.store.models import Decision, Note, Proposal, RenderJob, WindowRun


@pytest.fixture
def sqlite_room(room: Settings) -> Settings:
    if room.database_url:
        pytest.skip("chat formatting does not depend on the database backend")
    return room


@pytest.fixture
def analysed(sqlite_room: Settings) -> Settings:
    from writers_room.analyst.window import analyse

    analyse(sqlite_room, "tiny", write=True)
    return sqlite_room


def send_event(app: RoomApp, event: dict[str, Any], event_id: str) -> int:
    return app.dispatch(bolt_request(event_body(event, event_id=event_id), form=False)).status


def send_command(app: RoomApp, slack: MockSlack, text: str, user: str = "U0WRITER") -> int:
    body = command_body(text, user=user, response_url=slack.response_url())
    return app.dispatch(bolt_request(body, form=True)).status


def test_app_is_built_from_settings(app: RoomApp, room: Settings, slack: MockSlack) -> None:
    assert app.client.base_url == room.slack_api_url
    assert app.client.token == room.slack_bot_token
    (auth,) = slack.calls_to("auth.test")
    assert auth.authorization == f"Bearer {room.slack_bot_token}"


def test_mention_is_answered_in_its_thread(
    analysed: Settings, app: RoomApp, slack: MockSlack
) -> None:
    event = mention_event("why did episode 1 drop?", ts="1700000100.000100")
    assert send_event(app, event, "Ev1") == 200
    (answer,) = slack.wait_for("chat.postMessage")
    assert answer.params["channel"] == CHANNEL
    assert answer.params["thread_ts"] == "1700000100.000100"
    assert "ep1" in answer.params["text"] and "Score" in answer.params["text"]
    assert "Biggest drop" in answer.params["text"]
    # The retention chart goes up as a PNG into the same thread.
    (complete,) = slack.wait_for("files.completeUploadExternal")
    assert complete.params.get("thread_ts") == "1700000100.000100"
    (upload,) = slack.calls_to("upload")
    assert upload.params["bytes"] > 1000

    # A plain reply in that thread (no mention) continues the conversation.
    follow = {
        "type": "message",
        "channel_type": "channel",
        "user": "U0WRITER",
        "text": "and episode 2?",
        "ts": "1700000150.000100",
        "thread_ts": "1700000100.000100",
        "channel": CHANNEL,
    }
    assert send_event(app, follow, "Ev2") == 200
    answers = slack.wait_for("chat.postMessage", count=2)
    assert "ep2" in answers[1].params["text"] and "Score" in answers[1].params["text"]


def test_channel_chatter_outside_room_threads_is_ignored(
    sqlite_room: Settings, app: RoomApp, slack: MockSlack
) -> None:
    chatter = {
        "type": "message",
        "channel_type": "channel",
        "user": "U0WRITER",
        "text": "lunch?",
        "ts": "1700000160.000100",
        "thread_ts": "1700000001.000001",
        "channel": CHANNEL,
    }
    assert send_event(app, chatter, "Ev3") == 200
    assert app.drain(timeout=20)  # the listener and anything it handed off are done
    assert slack.calls_to("chat.postMessage") == []


def test_direct_message_is_chat(sqlite_room: Settings, app: RoomApp, slack: MockSlack) -> None:
    assert send_event(app, dm_event("brief ep1"), "Ev4") == 200
    (answer,) = slack.wait_for("chat.postMessage")
    assert answer.params["channel"] == "D0WRITER"
    assert "A wave smashes the lighthouse door open." in answer.params["text"]


def test_room_command_brief_and_help(sqlite_room: Settings, app: RoomApp, slack: MockSlack) -> None:
    assert send_command(app, slack, "brief ep1") == 200
    (reply,) = slack.wait_for("response_url")
    assert reply.params["response_type"] == "in_channel"
    assert "brief v1" in reply.params["text"]
    assert send_command(app, slack, "help") == 200
    replies = slack.wait_for("response_url", count=2)
    assert replies[1].params["response_type"] == "ephemeral"
    assert "note <episode> <text>" in replies[1].params["text"]


def test_room_command_note_is_fresh_human_input(
    room: Settings, app: RoomApp, slack: MockSlack
) -> None:
    assert send_command(app, slack, "note ep1 open on the storm, not the door") == 200
    (reply,) = slack.wait_for("response_url")
    assert "blind-iteration count" in reply.params["text"]
    with session_scope(room) as session:
        (note,) = session.exec(select(Note)).all()
    assert (note.author, note.episode_id, note.text) == (
        "U0WRITER",
        "ep1",
        "open on the storm, not the door",
    )


def test_room_command_draft_next_posts_a_pending_proposal(
    sqlite_room: Settings, app: RoomApp, slack: MockSlack
) -> None:
    assert send_command(app, slack, "draft next") == 200
    (reply,) = slack.wait_for("response_url")
    assert reply.params["response_type"] == "in_channel"
    assert "Drafted tiny/ep3, after ep2" in reply.params["text"]
    (post,) = slack.wait_for("chat.postMessage")
    app.workers.drain()
    assert any(b.get("type") == "actions" for b in post.params["blocks"])  # approve / reject
    with session_scope(sqlite_room) as session:
        (row,) = session.exec(select(Proposal)).all()
    assert (row.kind, row.status, row.episode_id) == ("new_episode", "pending", "ep3")
    assert row.proposal_id in reply.params["text"]
    assert send_command(app, slack, "draft ep7") == 200
    replies = slack.wait_for("response_url", count=2)
    assert replies[1].params["response_type"] == "ephemeral"
    assert "only the next episode can be drafted" in replies[1].params["text"]


def test_room_command_approve_needs_an_approver(
    room: Settings, app: RoomApp, slack: MockSlack
) -> None:
    p = store_hook_proposal(room)
    app.poster.post_proposal(p["proposal_id"], channel=CHANNEL, claim_key="first")
    assert send_command(app, slack, f"approve {p['proposal_id']}", user=STRANGER) == 200
    (denied,) = slack.wait_for("response_url")
    assert denied.params["response_type"] == "ephemeral"
    assert "Only approvers" in denied.params["text"]
    with session_scope(room) as session:
        assert session.exec(select(Decision)).all() == []

    assert send_command(app, slack, f"reject {p['proposal_id']} off tone", user=APPROVER) == 200
    (update,) = slack.wait_for("chat.update")
    assert f"Rejected* by <@{APPROVER}>" in json.dumps(update.params["blocks"])
    with session_scope(room) as session:
        (decision,) = session.exec(select(Decision)).all()
    assert (decision.decision, decision.note) == ("rejected", "off tone")


def test_room_command_propose_runs_and_posts_the_review(room: Settings, slack: MockSlack) -> None:
    app = build_app(room, review_agents=scripted_agents())
    try:
        assert send_command(app, slack, "propose ep1") == 200
        (reply,) = slack.wait_for("response_url", timeout=60)
        assert "proposal(s) waiting for an approver" in reply.params["text"]
        posts = slack.wait_for("chat.postMessage", count=3, timeout=30)
        app.workers.drain()
        summary = [c for c in posts if c.params.get("blocks", [{}])[0].get("type") == "header"]
        assert len(summary) == 1 and summary[0].params["channel"] == CHANNEL
        proposals = [
            c
            for c in slack.calls_to("chat.postMessage")
            if any(b.get("type") == "actions" for b in c.params.get("blocks", []))
        ]
        # Once in the channel with the review, once in answer to the command.
        assert len(proposals) == 2
        assert slack.calls_to("files.completeUploadExternal")
        with session_scope(room) as session:
            assert len(session.exec(select(WindowRun)).all()) == 1
        # Writers reply under the review post without mentioning the bot: still chat.
        (summary_ts,) = [
            c.response["ts"]
            for c in slack.calls_to("chat.postMessage")
            if c.params.get("blocks", [{}])[0].get("type") == "header"
        ]
        reply = {
            "type": "message",
            "channel_type": "channel",
            "user": "U0WRITER",
            "text": "brief ep1",
            "ts": "1700009999.000100",
            "thread_ts": summary_ts,
            "channel": CHANNEL,
        }
        before = len(slack.calls_to("chat.postMessage"))
        assert send_event(app, reply, "EvThread") == 200
        answers = slack.wait_for("chat.postMessage", count=before + 1)
        assert answers[-1].params["thread_ts"] == summary_ts
        assert "brief v1" in answers[-1].params["text"]
    finally:
        app.close()


class SlowRouter(Router):
    """A router standing in for a slow model: every decision takes two seconds."""

    def route(self, text: str, *, last_intent: str | None = None) -> Route:
        time.sleep(2.0)
        return super().route(text, last_intent=last_intent)


def test_ack_is_fast_even_with_a_slow_model(room: Settings, slack: MockSlack) -> None:
    # On both backends: the ack path reads the database (the event de-duplication row).
    chat = ChatRoom(room, router=SlowRouter(room))
    app = build_app(room, chat=chat)
    try:
        started = time.perf_counter()
        assert send_event(app, mention_event("help"), "Ev5") == 200
        assert time.perf_counter() - started < 1.0
        started = time.perf_counter()
        assert send_command(app, slack, "status") == 200
        assert time.perf_counter() - started < 1.0
        # The answers still come, after the slow part.
        slack.wait_for("chat.postMessage", timeout=20)
        slack.wait_for("response_url", timeout=20)
    finally:
        app.close()


FREE_TEXT = [
    "do not approve that proposal",
    "I don't approve it",
    "Maria said approve it",
    "if the numbers hold I'd approve",
    "lgtm, ship it",
    "nein",
    "non, pas ça",
    "no lo apruebes",
]


def test_free_text_in_a_proposal_thread_never_decides(
    room: Settings, app: RoomApp, slack: MockSlack
) -> None:
    """#14: replies under a proposal's post, as its approver, decide nothing."""
    p = store_hook_proposal(room)
    proposal_id = p["proposal_id"]
    ts = app.poster.post_proposal(proposal_id, channel=CHANNEL, claim_key="first")
    assert ts is not None
    for n, text in enumerate(FREE_TEXT):
        reply = {
            "type": "message",
            "channel_type": "channel",
            "user": APPROVER,
            "text": text,
            "ts": f"1700001{n:03d}.000100",
            "thread_ts": ts,
            "channel": CHANNEL,
        }
        assert send_event(app, reply, f"EvFree{n}") == 200
    assert app.drain(timeout=60)
    answers = [c for c in slack.calls_to("chat.postMessage") if c.params.get("thread_ts") == ts]
    assert len(answers) == len(FREE_TEXT)
    for answer in answers:
        assert answer.params["text"].startswith("Nothing changed")
        assert f"`approve {proposal_id}`" in answer.params["text"]
    assert slack.calls_to("chat.update") == []
    with session_scope(room) as session:
        assert session.exec(select(Decision)).all() == []
        assert session.exec(select(RenderJob)).all() == []
        row = session.get(Proposal, proposal_id)
        assert row is not None and row.status == "pending"

    # The post showed this version, so the exact command in its thread decides.
    command = {
        "type": "message",
        "channel_type": "channel",
        "user": APPROVER,
        "text": f"approve {proposal_id}",
        "ts": "1700002000.000100",
        "thread_ts": ts,
        "channel": CHANNEL,
    }
    assert send_event(app, command, "EvCommand") == 200
    slack.wait_for("chat.update")
    assert app.drain(timeout=60)
    with session_scope(room) as session:
        (decision,) = session.exec(select(Decision)).all()
        assert (decision.decision, decision.decided_by) == ("approved", APPROVER)
        assert len(session.exec(select(RenderJob)).all()) == 1


def test_room_command_approve_shows_an_unseen_proposal_first(
    room: Settings, app: RoomApp, slack: MockSlack
) -> None:
    p = store_hook_proposal(room)
    proposal_id = p["proposal_id"]
    assert send_command(app, slack, f"approve {proposal_id}", user=APPROVER) == 200
    (shown,) = slack.wait_for("response_url")
    assert shown.params["response_type"] == "ephemeral"
    assert f"`{p['content_hash'][:12]}`" in shown.params["text"]
    assert f"send `approve {proposal_id}` again" in shown.params["text"]
    assert app.drain(timeout=20)
    with session_scope(room) as session:
        assert session.exec(select(Decision)).all() == []

    assert send_command(app, slack, f"approve {proposal_id}", user=APPROVER) == 200
    done = slack.wait_for("response_url", count=2, timeout=60)[1]
    assert f"Approved `{proposal_id}`" in done.params["text"]
    assert app.drain(timeout=60)
    with session_scope(room) as session:
        (decision,) = session.exec(select(Decision)).all()
    assert decision.decision == "approved"


def test_close_is_safe_twice(room: Settings) -> None:
    app = build_app(room)
    app.close()
    app.close()


def test_missing_credentials_are_named(tmp_path: Path) -> None:
    from writers_room.errors import InputError

    with pytest.raises(InputError, match="SLACK_BOT_TOKEN"):
        build_app(Settings(home=tmp_path / "h"))
    with pytest.raises(InputError, match="SLACK_SIGNING_SECRET"):
        build_app(Settings(home=tmp_path / "h", slack_bot_token="xoxb-x"))
