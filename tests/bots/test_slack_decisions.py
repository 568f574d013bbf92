"""Decision buttons and the edit modal, dispatched as signed Slack requests (#2, #3, #4, #8).

A real bolt app built from the room's settings; its Web API client talks to a local mock
Slack server that records every call.
"""

from __future__ import annotations

import json
import threading
from pathlib import Path
from typing import Any

import pytest
from slack_mock_server import MockSlack
from slack_payloads import (
    CHANNEL,
    block_actions_body,
    bolt_request,
    modal_values,
    view_submission_body,
)
from slack_room import APPROVER, STRANGER, store_hook_proposal
from sqlmodel import func, select

from writers_room.bots.slack.actions import (
    APPROVE_PROPOSAL,
    EDIT_MODAL_CALLBACK,
    EDIT_PROPOSAL,
    REJECT_PROPOSAL,
    change_block_id,
    decide_block_id,
)
from writers_room.bots.slack.app import RoomApp, build_app
from writers_room.config import Settings
from writers_room.store.db import session_scope
from writers_room.store.models import (
    BlindIteration,
    BriefVersion,
    Decision,
    Episode,
    Note,
    Proposal,
    RenderJob,
)
from writers_room.store.proposals import get_proposal


def decisions(settings: Settings) -> list[Decision]:
    with session_scope(settings) as session:
        return list(session.exec(select(Decision)))


def click(
    app: RoomApp,
    p: dict[str, Any],
    user: str,
    action_id: str = APPROVE_PROPOSAL,
    *,
    content_hash: str | None = None,
) -> int:
    body = block_actions_body(
        action_id=action_id,
        proposal_id=p["proposal_id"],
        block_id=decide_block_id(p["proposal_id"], content_hash or p["content_hash"]),
        user=user,
    )
    return app.dispatch(bolt_request(body, form=True)).status


@pytest.fixture
def posted(app: RoomApp, room: Settings, slack: MockSlack) -> dict[str, Any]:
    """A pending proposal posted to the channel with its buttons."""
    p = store_hook_proposal(room)
    assert app.poster.post_proposal(p["proposal_id"], channel=CHANNEL, claim_key="first")
    (post,) = slack.wait_for("chat.postMessage")
    actions = [b for b in post.params["blocks"] if b["type"] == "actions"]
    assert actions[0]["block_id"] == decide_block_id(p["proposal_id"], p["content_hash"])
    assert [e["action_id"] for e in actions[0]["elements"]] == [
        APPROVE_PROPOSAL,
        EDIT_PROPOSAL,
        REJECT_PROPOSAL,
    ]
    assert {e["value"] for e in actions[0]["elements"]} == {p["proposal_id"]}
    slack.reset()
    return p


def test_non_approver_click_is_denied_and_changes_nothing(
    app: RoomApp, room: Settings, slack: MockSlack, posted: dict[str, Any]
) -> None:
    assert click(app, posted, STRANGER) == 200
    (denial,) = slack.wait_for("chat.postEphemeral")
    assert denial.params["user"] == STRANGER and denial.params["channel"] == CHANNEL
    assert "Only approvers" in denial.params["text"]
    app.workers.drain()
    assert decisions(room) == []
    assert get_proposal(room, posted["proposal_id"])["status"] == "pending"
    assert slack.calls_to("chat.update") == []


def test_empty_allowlist_denies_everyone(
    settings: Settings, slack: MockSlack, tiny_series: Any, tmp_path: Any
) -> None:
    from slack_room import build_room, slack_settings

    from writers_room.bots.slack.app import build_app

    tiny_series.write_text(tiny_series.read_text().replace("approvers: [U0SHOW]", "approvers: []"))
    room = build_room(slack_settings(settings, slack), tiny_series, tmp_path)
    app = build_app(room)
    try:
        p = store_hook_proposal(room)
        assert click(app, p, APPROVER) == 200
        (denial,) = slack.wait_for("chat.postEphemeral")
        assert "Only approvers" in denial.params["text"]
        app.workers.drain()
        assert decisions(room) == []
    finally:
        app.workers.drain()
        app.close()


def test_approve_click_decides_applies_and_updates_the_message(
    app: RoomApp, room: Settings, slack: MockSlack, posted: dict[str, Any]
) -> None:
    assert click(app, posted, APPROVER) == 200
    (update,) = slack.wait_for("chat.update")
    assert update.params["channel"] == CHANNEL
    text = json.dumps(update.params["blocks"])
    assert f"Approved* by <@{APPROVER}>" in text and "brief v2 written" in text
    assert all(b["type"] != "actions" for b in update.params["blocks"])
    (decision,) = decisions(room)
    assert decision.decided_by == APPROVER and decision.content_hash == posted["content_hash"]
    with session_scope(room) as session:
        assert session.exec(select(func.count()).select_from(RenderJob)).one() == 1
        assert (
            session.exec(
                select(func.count())
                .select_from(BriefVersion)
                .where(BriefVersion.episode_id == "ep1")
            ).one()
            == 2
        )


def test_an_approval_whose_render_is_refused_says_so(
    room: Settings, slack: MockSlack, posted: dict[str, Any], tmp_path: Path
) -> None:
    # Half a C2PA configuration: the render tool refuses the render. The approval and the
    # new brief version stand, and the approver is told why and what to run.
    refusing = build_app(room.model_copy(update={"c2pa_key": str(tmp_path / "signer.key")}))
    try:
        assert click(refusing, posted, APPROVER) == 200
        (reply,) = slack.wait_for("chat.postEphemeral")
        refusing.workers.drain()
    finally:
        refusing.close()
    text = reply.params["text"]
    assert text.startswith("Approved and applied as brief version 2, but no render was queued")
    assert "WRITERS_ROOM_C2PA_CERT is not set" in text
    assert "writers-room render --series tiny --episode ep1" in text
    (decision,) = decisions(room)
    assert decision.decision == "approved"
    assert get_proposal(room, posted["proposal_id"])["status"] == "applied"
    with session_scope(room) as session:
        assert session.exec(select(func.count()).select_from(RenderJob)).one() == 0


@pytest.mark.parametrize("mixed", [False, True], ids=["all approve", "approve and reject"])
def test_double_click_makes_one_decision_and_says_who_decided(
    app: RoomApp, room: Settings, slack: MockSlack, posted: dict[str, Any], mixed: bool
) -> None:
    statuses: list[int] = []
    second = REJECT_PROPOSAL if mixed else APPROVE_PROPOSAL
    actions = [APPROVE_PROPOSAL, second, APPROVE_PROPOSAL, APPROVE_PROPOSAL]
    threads = [
        threading.Thread(target=lambda a=a: statuses.append(click(app, posted, APPROVER, a)))
        for a in actions
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert statuses == [200] * len(actions)
    replies = slack.wait_for("chat.postEphemeral", count=len(actions) - 1)
    app.workers.drain()
    (decision,) = decisions(room)
    assert all(f"Already decided by <@{APPROVER}>" in r.params["text"] for r in replies)
    # An approval renders exactly once, however many clicks; a winning reject never does.
    approved = decision.decision == "approved"
    assert approved or mixed
    with session_scope(room) as session:
        jobs = session.exec(select(func.count()).select_from(RenderJob)).one()
        episode = session.get(Episode, ("tiny", "ep1"))
        assert episode is not None
    assert (jobs, episode.current_version) == ((1, 2) if approved else (0, 1))


def test_click_after_the_content_changed_is_refused(
    app: RoomApp, room: Settings, slack: MockSlack, posted: dict[str, Any]
) -> None:
    # Someone edits the proposal after it was posted: the posted buttons carry the old hash.
    with session_scope(room) as session:
        row = session.get(Proposal, posted["proposal_id"])
        assert row is not None
        row.summary = "A different idea than the one on screen."
        row.content_hash = "f" * 64
        session.add(row)
    assert click(app, posted, APPROVER) == 200
    (refusal,) = slack.wait_for("chat.postEphemeral")
    assert "changed after it was shown" in refusal.params["text"]
    # The message is redrawn with the current content, bound to the new hash.
    (update,) = slack.wait_for("chat.update")
    (block,) = [b for b in update.params["blocks"] if b["type"] == "actions"]
    assert block["block_id"] == decide_block_id(posted["proposal_id"], "f" * 64)
    app.workers.drain()
    assert decisions(room) == []


def test_button_without_a_bound_hash_is_refused(
    app: RoomApp, room: Settings, slack: MockSlack, posted: dict[str, Any]
) -> None:
    body = block_actions_body(
        action_id=APPROVE_PROPOSAL, proposal_id=posted["proposal_id"], block_id="x", user=APPROVER
    )
    assert app.dispatch(bolt_request(body, form=True)).status == 200
    (refusal,) = slack.wait_for("chat.postEphemeral")
    assert "not bound" in refusal.params["text"]
    app.workers.drain()
    assert decisions(room) == []


def test_reject_click_records_the_rejection(
    app: RoomApp, room: Settings, slack: MockSlack, posted: dict[str, Any]
) -> None:
    assert click(app, posted, APPROVER, REJECT_PROPOSAL) == 200
    (update,) = slack.wait_for("chat.update")
    assert f"Rejected* by <@{APPROVER}>" in json.dumps(update.params["blocks"])
    (decision,) = decisions(room)
    assert decision.decision == "rejected"


def open_modal(app: RoomApp, slack: MockSlack, p: dict[str, Any], user: str) -> None:
    body = block_actions_body(
        action_id=EDIT_PROPOSAL,
        proposal_id=p["proposal_id"],
        block_id=decide_block_id(p["proposal_id"], p["content_hash"]),
        user=user,
        trigger_id="1337.42.edit",
    )
    assert app.dispatch(bolt_request(body, form=True)).status == 200


def test_edit_modal_records_a_human_edit_and_resets_the_blind_count(
    app: RoomApp, room: Settings, slack: MockSlack, posted: dict[str, Any]
) -> None:
    with session_scope(room) as session:
        session.add(BlindIteration(series_id="tiny", episode_id="ep1", count=2))
    open_modal(app, slack, posted, APPROVER)
    (opened,) = slack.wait_for("views.open")
    view = opened.params["view"]
    assert opened.params["trigger_id"] == "1337.42.edit"
    assert view["callback_id"] == EDIT_MODAL_CALLBACK
    first = view["blocks"][1]
    assert first["label"]["text"] == "brief.hook"
    assert first["element"]["initial_value"] == posted["changes"][0]["after"]

    new_hook = "Mara wakes on the rocks, the letter already soaked through."
    values = modal_values(
        view, **{change_block_id(0): new_hook, change_block_id(1): "7", "edit_note": "warmer"}
    )
    body = view_submission_body(user=APPROVER, view=view, values=values)
    response = app.dispatch(bolt_request(body, form=True))
    assert response.status == 200 and not response.body  # closes the modal

    (update,) = slack.wait_for("chat.update")
    assert f"Edited and approved* by <@{APPROVER}>" in json.dumps(update.params["blocks"])
    (decision,) = decisions(room)
    assert decision.edited and decision.decided_by == APPROVER and decision.note == "warmer"
    stored = get_proposal(room, posted["proposal_id"])
    assert [c["after"] for c in stored["changes"]] == [new_hook, 7]
    assert stored["content_hash"] == decision.content_hash != posted["content_hash"]
    with session_scope(room) as session:
        blind = session.get(BlindIteration, ("tiny", "ep1"))
        assert blind is not None and blind.count == 0
        notes = session.exec(select(Note).where(Note.kind == "edit")).all()
        assert [n.author for n in notes] == [APPROVER]
        brief = session.exec(
            select(BriefVersion).where(BriefVersion.episode_id == "ep1", BriefVersion.version == 2)
        ).one()
        assert brief.brief["hook"] == new_hook


def test_edit_modal_rejects_a_bad_value_without_deciding(
    app: RoomApp, room: Settings, slack: MockSlack, posted: dict[str, Any]
) -> None:
    open_modal(app, slack, posted, APPROVER)
    (opened,) = slack.wait_for("views.open")
    view = opened.params["view"]
    values = modal_values(view, **{change_block_id(1): "six seconds"})
    response = app.dispatch(
        bolt_request(view_submission_body(user=APPROVER, view=view, values=values), form=True)
    )
    assert response.status == 200
    answer = json.loads(response.body)
    assert answer["response_action"] == "errors"
    assert "JSON value" in answer["errors"][change_block_id(1)]
    app.workers.drain()
    assert decisions(room) == []


def test_edit_click_by_a_non_approver_opens_nothing(
    app: RoomApp, room: Settings, slack: MockSlack, posted: dict[str, Any]
) -> None:
    open_modal(app, slack, posted, STRANGER)
    (denial,) = slack.wait_for("chat.postEphemeral")
    assert "Only approvers" in denial.params["text"]
    assert slack.calls_to("views.open") == []
    assert decisions(room) == []


def test_edit_modal_keeps_a_drafted_shot_list_it_cannot_hold() -> None:
    """A new episode's shot list is longer than a Slack text input: shown, kept, not clipped."""
    from writers_room.bots.slack.blocks import edit_modal, parse_edit_submission

    shots = [{"shot_id": f"sh{i:02d}", "action": "x" * 400, "duration_s": 5} for i in range(10)]
    p = {
        "episode_id": "ep3",
        "proposal_id": "p-0123456789ab",
        "summary": "Draft of ep3.",
        "changes": [
            {"path": "brief.title", "before": None, "after": "The Door"},
            {"path": "manifest.shots", "before": None, "after": shots},
        ],
    }
    view = edit_modal(p, private_metadata="{}")
    inputs = [b for b in view["blocks"] if b["type"] == "input"]
    assert [b["block_id"] for b in inputs] == [change_block_id(0), "edit_note"]
    assert any("too long to edit here" in json.dumps(b) for b in view["blocks"])
    values = {change_block_id(0): {"after": {"value": "The Open Door"}}}
    changes, _, errors = parse_edit_submission(p, values)
    assert errors == {}
    assert [c["after"] for c in changes] == ["The Open Door", shots]
