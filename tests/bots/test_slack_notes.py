"""Notes from Slack (promise 22): only writers, showrunners and approvers; denials are private."""

from __future__ import annotations

import pytest
from slack_mock_server import MockSlack
from slack_payloads import CHANNEL, bolt_request, command_body, event_body, mention_event
from slack_room import APPROVER, STRANGER, WRITER
from sqlmodel import select

from writers_room.bots.slack.app import RoomApp
from writers_room.config import Settings
from writers_room.store.db import session_scope
from writers_room.store.models import Note


@pytest.fixture
def sqlite_room(room: Settings) -> Settings:
    if room.database_url:
        pytest.skip("the note guard itself is tested on both databases in tests/guardrails")
    return room


def command(app: RoomApp, slack: MockSlack, text: str, user: str) -> None:
    body = command_body(text, user=user, response_url=slack.response_url())
    assert app.dispatch(bolt_request(body, form=True)).status == 200


def notes(room: Settings) -> list[tuple[str, str]]:
    with session_scope(room) as session:
        return [(n.author, n.text) for n in session.exec(select(Note))]


def test_room_note_from_a_stranger_is_denied_privately(
    sqlite_room: Settings, app: RoomApp, slack: MockSlack
) -> None:
    command(app, slack, "note ep1 open on the storm, not the door", STRANGER)
    (denial,) = slack.wait_for("response_url")
    assert denial.params["response_type"] == "ephemeral"
    assert "may not add notes" in denial.params["text"]
    assert "WRITERS_ROOM_WRITERS" in denial.params["text"]
    app.workers.drain()
    assert notes(sqlite_room) == []


def test_room_note_needs_three_words(sqlite_room: Settings, app: RoomApp, slack: MockSlack) -> None:
    command(app, slack, "note ep1 fire", WRITER)
    (refusal,) = slack.wait_for("response_url")
    assert refusal.params["response_type"] == "ephemeral"
    assert "at least 3 words" in refusal.params["text"]
    command(app, slack, "note ep1 open on the storm", APPROVER)
    replies = slack.wait_for("response_url", count=2)
    assert "blind-iteration count" in replies[1].params["text"]
    app.workers.drain()
    assert notes(sqlite_room) == [(APPROVER, "open on the storm")]


def test_mentioned_note_from_a_stranger_is_denied_in_an_ephemeral(
    sqlite_room: Settings, app: RoomApp, slack: MockSlack
) -> None:
    event = mention_event("note ep1 open on the storm please", user=STRANGER, ts="1700000300.1")
    assert app.dispatch(bolt_request(event_body(event, event_id="EvN1"), form=False)).status == 200
    (denial,) = slack.wait_for("chat.postEphemeral")
    assert denial.params["user"] == STRANGER and denial.params["channel"] == CHANNEL
    assert denial.params["thread_ts"] == "1700000300.1"
    assert "may not add notes" in denial.params["text"]
    app.workers.drain()
    assert slack.calls_to("chat.postMessage") == []
    assert notes(sqlite_room) == []
