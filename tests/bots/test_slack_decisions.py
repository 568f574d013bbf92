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

from writers_room.bots.slack import modals
from writers_room.bots.slack.actions import (
    APPROVE_PROPOSAL,
    EDIT_MODAL_CALLBACK,
    EDIT_PROPOSAL,
    REJECT_MODAL_CALLBACK,
    REJECT_PROPOSAL,
    REJECT_REASON_BLOCK,
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
    actions = [APPROVE_PROPOSAL, APPROVE_PROPOSAL, APPROVE_PROPOSAL, APPROVE_PROPOSAL]

    def act(a: str, n: int) -> None:
        if mixed and n == 1:  # a rejection with its reason, submitted at the same moment
            statuses.append(submit_reject(app, posted, APPROVER, "not this week"))
        else:
            statuses.append(click(app, posted, APPROVER, a))

    threads = [threading.Thread(target=lambda a=a, n=n: act(a, n)) for n, a in enumerate(actions)]
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


def submit_reject(app: RoomApp, p: dict[str, Any], user: str, reason: str) -> int:
    """Submit the reject form of ``p`` (as Reject… opens it) with ``reason``."""
    view = modals.reject_modal(
        p,
        private_metadata=json.dumps(
            {"proposal_id": p["proposal_id"], "content_hash": p["content_hash"], "channel": CHANNEL}
        ),
    )
    values = modal_values(view, **{REJECT_REASON_BLOCK: reason})
    body = view_submission_body(user=user, view=view, values=values)
    response = app.dispatch(bolt_request(body, form=True))
    assert response.status == 200
    return 400 if response.body else 200


def test_reject_asks_why_and_records_the_reason(
    app: RoomApp, room: Settings, slack: MockSlack, posted: dict[str, Any]
) -> None:
    assert click(app, posted, APPROVER, REJECT_PROPOSAL) == 200
    (opened,) = slack.wait_for("views.open")
    view = opened.params["view"]
    assert view["callback_id"] == REJECT_MODAL_CALLBACK
    (reason_block,) = [b for b in view["blocks"] if b["type"] == "input"]
    assert reason_block["block_id"] == REJECT_REASON_BLOCK and not reason_block.get("optional")
    assert slack.calls_to("chat.update") == [] and decisions(room) == []  # nothing yet

    # A blank reason is refused in the form; nothing is decided.
    blank = modal_values(view, **{REJECT_REASON_BLOCK: "   "})
    response = app.dispatch(
        bolt_request(view_submission_body(user=APPROVER, view=view, values=blank), form=True)
    )
    answer = json.loads(response.body)
    assert answer["response_action"] == "errors" and REJECT_REASON_BLOCK in answer["errors"]
    app.workers.drain()
    assert decisions(room) == []

    values = modal_values(view, **{REJECT_REASON_BLOCK: "Keep the fog; it is the show's look."})
    response = app.dispatch(
        bolt_request(view_submission_body(user=APPROVER, view=view, values=values), form=True)
    )
    assert response.status == 200 and not response.body
    (update,) = slack.wait_for("chat.update")
    text = json.dumps(update.params["blocks"])
    assert f"Rejected* by <@{APPROVER}>" in text and "Keep the fog" in text
    (decision,) = decisions(room)
    assert decision.decision == "rejected"
    assert decision.note == "Keep the fog; it is the show's look."


def test_reject_click_by_a_non_approver_opens_nothing(
    app: RoomApp, room: Settings, slack: MockSlack, posted: dict[str, Any]
) -> None:
    assert click(app, posted, STRANGER, REJECT_PROPOSAL) == 200
    (denial,) = slack.wait_for("chat.postEphemeral")
    assert "Only approvers can reject" in denial.params["text"]
    assert slack.calls_to("views.open") == [] and decisions(room) == []


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
    # One plain-text input per changed field, in words; no JSON.
    hook, duration, note = [b for b in view["blocks"] if b["type"] == "input"]
    assert hook["label"]["text"] == "Hook"
    assert hook["element"]["initial_value"] == posted["changes"][0]["after"]
    assert hook["hint"]["text"] == "was: A wave smashes the lighthouse door open."
    assert duration["label"]["text"].endswith("· Duration")
    assert duration["element"]["initial_value"] == "6"
    assert note["block_id"] == "edit_note"

    new_hook = "Mara wakes on the rocks, the letter already soaked through."
    values = modal_values(
        view, **{change_block_id(0): new_hook, change_block_id(1): "7 s", "edit_note": "warmer"}
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
    assert "a duration in seconds" in answer["errors"][change_block_id(1)]
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


def choice_proposal(room: Settings) -> dict[str, Any]:
    """A pending proposal for ep1 whose hook is one of three written alternatives."""
    from slack_room import hook_proposal

    from writers_room.brief.proposals import Choice
    from writers_room.guardrails.approval import store_pending

    hooks = ["Mara is underwater.", "The letter sinks.", "A hand in the dark water."]
    proposal = hook_proposal(hooks[0]).model_copy(
        update={"choices": [Choice(slot="hook", path="brief.hook", options=hooks)]}
    )
    with session_scope(room) as session:
        (row,) = store_pending(session, series_id="tiny", window_end=None, proposals=[proposal])
        proposal_id = row.proposal_id
    return get_proposal(room, proposal_id)


def test_approve_binds_the_alternative_selected_on_the_card(
    app: RoomApp, room: Settings, slack: MockSlack
) -> None:
    from writers_room.bots.slack.actions import CHOOSE_OPTION, choice_block_id

    p = choice_proposal(room)
    app.poster.post_proposal(p["proposal_id"], channel=CHANNEL)
    (post,) = slack.wait_for("chat.postMessage")
    radio = next(b for b in post.params["blocks"] if b.get("block_id") == choice_block_id(0))
    assert radio["accessory"]["type"] == "radio_buttons"
    second = radio["accessory"]["options"][1]
    state = {"values": {choice_block_id(0): {CHOOSE_OPTION: {"selected_option": second}}}}
    body = block_actions_body(
        action_id=APPROVE_PROPOSAL,
        proposal_id=p["proposal_id"],
        block_id=decide_block_id(p["proposal_id"], p["content_hash"]),
        user=APPROVER,
        state=state,
    )
    assert app.dispatch(bolt_request(body, form=True)).status == 200
    (update,) = slack.wait_for("chat.update")
    assert "*Chosen:* (2)" in json.dumps(update.params["blocks"], ensure_ascii=False)
    (decision,) = decisions(room)
    assert decision.choices == [1] and decision.content_hash == p["content_hash"]
    with session_scope(room) as session:
        brief = session.exec(
            select(BriefVersion).where(BriefVersion.episode_id == "ep1", BriefVersion.version == 2)
        ).one()
    assert brief.brief["hook"] == "The letter sinks."


def test_a_review_is_one_thread_and_a_long_card_continues_in_it(
    app: RoomApp, room: Settings, slack: MockSlack
) -> None:
    from types import SimpleNamespace

    from slack_room import hook_proposal

    from writers_room.bots.slack.blocks import MAX_BLOCKS
    from writers_room.brief.proposals import FieldChange
    from writers_room.guardrails.approval import store_pending

    # A proposal whose diff needs more than one message: sixty long brief notes.
    notes = [
        FieldChange(path=f"brief.note_{n:02d}", after=f"Note {n}: " + "and then " * 180)
        for n in range(60)
    ]
    big = hook_proposal().model_copy(update={"changes": [*hook_proposal().changes, *notes]})
    with session_scope(room) as session:
        (row,) = store_pending(session, series_id="tiny", window_end=None, proposals=[big])
        proposal_id = row.proposal_id
    p = get_proposal(room, proposal_id)
    outcome = SimpleNamespace(
        thread_id="review-tiny-1",
        series_id="tiny",
        report={"series_id": "tiny", "episodes": []},
        pending=[p["proposal_id"]],
        blocked={"ep2": "three blind iterations"},
        dropped=[],
    )
    assert app.poster.post_review(outcome, channel=CHANNEL)
    posts = slack.wait_for("chat.postMessage", count=4)
    summary, card, *rest = posts
    assert "thread_ts" not in summary.params or not summary.params["thread_ts"]
    top = summary.params["blocks"]
    assert top[0]["type"] == "header" and top[-1]["block_id"] == "report_link"
    ts = "1700000000.000001"
    assert card.params["thread_ts"] == ts
    assert all(c.params.get("thread_ts") == ts for c in rest)
    assert any(b["type"] == "actions" for b in card.params["blocks"])
    parts = [c for c in rest if "continued" in c.params.get("text", "")]
    assert parts and all(len(c.params["blocks"]) <= MAX_BLOCKS for c in [card, *parts])
    card_text = json.dumps(card.params["blocks"])
    assert "here," in card_text and "below* in this thread" in card_text
    escalation = next(c for c in rest if "needs a human" in c.params.get("text", ""))
    assert escalation.params["reply_broadcast"] in (True, "true", "True", "1")
    # A decision redraws the card and every continuation.
    slack.reset()
    assert click(app, p, APPROVER) == 200
    slack.wait_for("chat.update", count=1 + len(parts))
    app.workers.drain()
    updated = [u.params["ts"] for u in slack.calls_to("chat.update")]
    assert len(updated) == len(set(updated)) == 1 + len(parts)
    assert "Approved* by" in json.dumps(slack.calls_to("chat.update")[0].params["blocks"])


def test_edit_modal_of_a_drafted_episode_edits_lines_and_keeps_the_shot_list() -> None:
    """A new episode's shot list is longer than a Slack text input: it is edited line by
    line, never as one clipped value, and what is not edited stays as proposed."""
    from writers_room.bots.slack.modals import edit_fields, edit_modal, parse_edit_submission
    from writers_room.brief.diff import diff_proposal, edited_changes
    from writers_room.brief.new_episode import blank_episode

    shots = [
        {"shot_id": f"sh{i:02d}", "start_s": 5.0 * i, "action": "x" * 400, "duration_s": 5}
        for i in range(10)
    ]
    p = {
        "episode_id": "ep3",
        "proposal_id": "p-0123456789ab",
        "summary": "Draft of ep3.",
        "changes": [
            {"path": "brief.title", "before": None, "after": "The Door"},
            {"path": "manifest.shots", "before": None, "after": shots},
        ],
        "choices": [],
    }
    brief, manifest = blank_episode("tiny", "ep3")
    diff = diff_proposal(p, brief, manifest)
    view = edit_modal(p, diff, private_metadata="{}")
    inputs = [b for b in view["blocks"] if b["type"] == "input"]
    assert len(view["blocks"]) <= 100
    assert all(len(b["element"].get("initial_value", "")) <= 3000 for b in inputs)
    title = next(f for f in edit_fields(diff) if f.label == "Title")
    values = modal_values(view, **{title.block_id: "The Open Door"})
    edits, _, _, errors = parse_edit_submission(p, diff, values)
    assert errors == {} and edits == {"brief.title": "The Open Door"}
    changes = edited_changes(brief, manifest, p["changes"], edits)
    assert [c["after"] for c in changes] == ["The Open Door", shots]


def test_an_outcome_is_posted_once_in_its_proposals_thread(
    app: RoomApp, room: Settings, slack: MockSlack
) -> None:
    from types import SimpleNamespace

    from slack_room import hook_proposal

    from writers_room.guardrails.approval import store_pending

    with session_scope(room) as session:
        (row,) = store_pending(
            session, series_id="tiny", window_end=None, proposals=[hook_proposal()]
        )
        proposal_id = row.proposal_id
    card_ts = app.poster.post_proposal(proposal_id, channel=CHANNEL)
    slack.reset()
    result = {
        "proposal_id": proposal_id, "episode_id": "ep1", "variant_id": "v1-thumb",
        "kind": "hook_rewrite", "metric": "retention_10s", "verdict": "improved",
        "label": "improved", "effect": 0.061, "ci_low": 0.021, "ci_high": 0.101,
    }  # fmt: skip
    review = SimpleNamespace(
        thread_id="review-tiny-2",
        series_id="tiny",
        report={"series_id": "tiny", "episodes": [], "window_end": "2026-11-20T00:00:00Z",
                "outcomes": [result]},
        pending=[],
        blocked={},
        dropped=[],
    )  # fmt: skip
    assert app.poster.post_review(review, channel=CHANNEL)
    posts = slack.wait_for("chat.postMessage", count=2)
    said = next(p for p in posts if "Outcome" in p.params.get("text", ""))
    assert said.params["thread_ts"] == card_ts
    text = said.params["text"]
    assert "*improved*" in text and "10-s retention +6.1 points" in text
    assert "(90 % interval +2.1 to +10.1)" in text and "2026-11-20" in text
    # Once per proposal and window, whichever process posts the review again.
    assert not app.poster.post_outcome(result, window_end="2026-11-20T00:00:00Z")


def test_published_as_on_a_render_message_records_the_publication(
    app: RoomApp, room: Settings, slack: MockSlack, monkeypatch: pytest.MonkeyPatch
) -> None:
    from writers_room.bots.slack.actions import PUBLISH_RENDER
    from writers_room.store.models import Publication, RenderJob

    with session_scope(room) as session:
        session.add(
            RenderJob(
                render_id="r-ep1", idempotency_key="r-ep1", series_id="tiny", episode_id="ep1",
                brief_version=1, status="done", artifacts={"episode": "episode.mp4"},
            )
        )  # fmt: skip
    with session_scope(room) as session:
        job = session.get(RenderJob, "r-ep1")
        assert job is not None
        session.expunge(job)
    monkeypatch.setattr(app.poster.settings, "channel", CHANNEL)
    assert app.poster.post_render(job)
    (post,) = slack.wait_for("chat.postMessage")
    (menu,) = [b for b in post.params["blocks"] if b["type"] == "actions"]
    select_ = menu["elements"][0]
    assert select_["action_id"] == PUBLISH_RENDER
    assert [o["value"] for o in select_["options"]] == ["r-ep1|v1-thumb", "r-ep1|v2-hook"]

    def pick(user: str) -> int:
        body = block_actions_body(
            action_id=PUBLISH_RENDER, proposal_id="", block_id=menu["block_id"], user=user,
            selected="r-ep1|v2-hook",
        )  # fmt: skip
        return app.dispatch(bolt_request(body, form=True)).status

    slack.reset()
    assert pick(STRANGER) == 200
    app.workers.drain()
    assert slack.calls_to("chat.postEphemeral")
    with session_scope(room) as session:
        assert session.exec(select(Publication)).all() == []
    assert pick(APPROVER) == 200
    app.workers.drain()
    with session_scope(room) as session:
        (row,) = session.exec(select(Publication)).all()
    assert (row.render_id, row.variant_id, row.published_by) == ("r-ep1", "v2-hook", APPROVER)
    said = [c for c in slack.calls_to("chat.postMessage") if "published render" in c.params["text"]]
    assert len(said) == 1 and "`v2-hook`" in said[0].params["text"]
