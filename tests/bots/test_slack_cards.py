"""Proposal cards and the edit form within Slack's limits, with every change on screen.

The cards are built from the offline writer's proposals on the sample (recorded in
``tests/proposal_samples.json``; the slow test at the end builds ep03's live) and from a
proposal made larger than any message can hold.
"""

from __future__ import annotations

import copy
import json
import re
from typing import Any

import pytest

from proposal_samples import sample_case
from writers_room.bots.slack import blocks as bk
from writers_room.bots.slack import cards, modals
from writers_room.bots.slack.actions import (
    CHOOSE_OPTION,
    EDIT_VALUE_ACTION,
    choice_block_id,
    decide_block_id,
)
from writers_room.brief.diff import ProposalDiff, build_diff, diff_proposal, edited_changes
from writers_room.brief.proposals import apply_changes, apply_choices, content_hash


def public(episode_id: str, kind: str) -> tuple[dict, dict, dict[str, Any]]:
    """(brief, manifest, the proposal as ``proposals --json`` shows it)."""
    brief, manifest, proposal = sample_case(episode_id, kind)
    return brief, manifest, as_public(proposal)


def as_public(proposal: dict[str, Any], *, series_id: str = "harbor-hearts") -> dict[str, Any]:
    digest = content_hash(
        episode_id=proposal["episode_id"],
        kind=proposal["kind"],
        summary=proposal["summary"],
        changes=proposal["changes"],
        base_version=1,
        choices=proposal.get("choices"),
    )
    return {
        "proposal_id": "p-" + digest[:12],
        "series_id": series_id,
        "episode_id": proposal["episode_id"],
        "window_end": None,
        "status": "pending",
        "kind": proposal["kind"],
        "summary": proposal["summary"],
        "changes": proposal["changes"],
        "choices": proposal.get("choices", []),
        "evidence": {
            **proposal.get("evidence", {}),
            "target": proposal["target"],
            "expected_effect": proposal["expected_effect"],
            "rationale": proposal.get("rationale", ""),
        },
        "assets": proposal.get("assets", []),
        "content_hash": digest,
        "base_version": 1,
        "created_at": "2026-12-06T00:00:00+00:00",
        "decided_by": None,
        "decided_at": None,
    }


def texts(blocks: list[dict[str, Any]]) -> list[str]:
    """Every text object of a message's blocks."""
    out = []
    for block in blocks:
        if "text" in block:
            out.append(block["text"]["text"])
        for element in block.get("elements", []):
            if isinstance(element.get("text"), str):
                out.append(element["text"])
            elif isinstance(element.get("text"), dict):
                out.append(element["text"]["text"])
        for option in (block.get("accessory") or {}).get("options", []):
            out.append(option["text"]["text"])
    return out


def assert_within_limits(messages: list[list[dict[str, Any]]]) -> None:
    for blocks in messages:
        assert 0 < len(blocks) <= bk.MAX_BLOCKS
        for text in texts(blocks):
            assert len(text) <= bk.TEXT_CHARS
        for block in blocks:
            for option in (block.get("accessory") or {}).get("options", []):
                assert len(option["text"]["text"]) <= 75


def plain(text: str) -> str:
    """Slack mrkdwn → the words a reader sees (marks, quotes, escapes and breaks gone)."""
    text = re.sub(r"(?m)^> ", "", text)
    text = text.replace("*", "").replace("~", "").replace("∗", "*").replace("∼", "~")
    text = text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")
    return " ".join(text.split())


def assert_every_item_shown(diff: ProposalDiff, messages: list[list[dict[str, Any]]]) -> None:
    shown = plain("\n".join(t for blocks in messages for t in texts(blocks)))
    words = set(shown.split())
    for item in diff.items:
        assert f"{item.number}. " in shown, item.key
        for line in item.lines:
            for text in (line.text("before"), line.text("after")):
                missing = set(plain(text).split()) - words
                assert not missing, (item.key, line.label, sorted(missing)[:5])


def test_the_ep03_hook_rewrite_card_shows_the_whole_change_in_words() -> None:
    brief, manifest, p = public("ep03", "hook_rewrite")
    diff = diff_proposal(p, brief, manifest)
    messages = cards.proposal_messages(p, diff)
    assert len(messages) == 1  # four items: one message
    assert_within_limits(messages)
    assert_every_item_shown(diff, messages)
    (card,) = messages
    text = "\n".join(texts(card))
    # The key number first, the diff in words, no raw JSON.
    assert ":dart: *10-s retention 14% against a 53% target*" in text
    assert "*2. Shot s01* — cut (6 s)" in text
    assert "new: s06 repeated at the top as a 3-s cold open" in text
    assert '"shot_id"' not in text and "Keyframe prompt:" not in text and "Seed:" not in text
    # Evidence as the viewers' (redacted) words.
    assert "> “sorry but why does it start with like 6 seconds of fog”" in text
    # The alternatives as radio buttons, the proposed one selected.
    hook = next(b for b in card if b.get("block_id") == choice_block_id(0))
    assert hook["accessory"]["type"] == "radio_buttons"
    assert hook["accessory"]["action_id"] == CHOOSE_OPTION
    assert hook["accessory"]["initial_option"]["value"] == "0"
    assert "(1) What is in the rusted lockbox?" in hook["text"]["text"]
    # Without pictures (the poster adds them), the thumbnails are listed as text, saying so.
    assert "the render draws the thumbnails after approval" in text
    assert "thumbnail: s06, close-up" in text
    # The buttons are bound to the content hash.
    (actions,) = [b for b in card if b["type"] == "actions"]
    assert actions["block_id"] == decide_block_id(p["proposal_id"], p["content_hash"])


def big_proposal() -> tuple[dict, dict, dict[str, Any]]:
    """ep05 with 30 shots, every line rewritten, and a 7,000-character premise."""
    brief, manifest, proposal = sample_case("ep05", "pacing_cut")
    manifest = copy.deepcopy(manifest)
    template = manifest["shots"][0]
    shots = []
    for n in range(30):
        shot = {**template, "shot_id": f"x{n:02d}", "start_s": float(n), "duration_s": 1.0}
        shot["dialogue"] = " / ".join(
            f"THEO: Line {k} of shot {n}: " + " ".join(f"word{n}x{k}x{w}" for w in range(40))
            for k in range(3)
        )
        shots.append(shot)
    manifest["shots"] = shots
    after = copy.deepcopy(shots)
    for shot in after:
        shot["dialogue"] = shot["dialogue"].replace("word", "fresh")
        shot["caption"] = f"Caption for {shot['shot_id']}"
    premise = " ".join(f"premise{w}" for w in range(900))
    proposal = {
        **proposal,
        "changes": [
            {"path": "brief.premise", "before": brief.get("premise"), "after": premise},
            {"path": "manifest.shots", "before": shots, "after": after},
        ],
        "choices": [],
    }
    return brief, manifest, as_public(proposal)


def test_a_diff_larger_than_a_message_goes_on_in_the_thread_and_says_so() -> None:
    brief, manifest, p = big_proposal()
    diff = diff_proposal(p, brief, manifest)
    assert diff.count == 31
    messages = cards.proposal_messages(p, diff)
    assert len(messages) > 1
    assert_within_limits(messages)
    assert_every_item_shown(diff, messages)
    card_text = "\n".join(texts(messages[0]))
    shown = sum(1 for item in diff.items if f"*{item.number}. " in card_text)
    assert f"*changes 1–{shown} of 31 here, {shown + 1}–31 below* in this thread" in card_text
    assert any(b["type"] == "actions" for b in messages[0])
    for later in messages[1:]:
        assert not any(b["type"] == "actions" for b in later)
        assert "(continued; decide on the card above)" in texts(later)[0]
    # The 7,000-character premise is split over text objects, none of its words lost.
    assert "premise899" in plain("\n".join(texts(messages[0])))


def test_decided_cards_keep_the_diff_and_show_the_chosen_alternative() -> None:
    brief, manifest, p = public("ep03", "hook_rewrite")
    diff = diff_proposal(p, brief, manifest)
    decided = {**p, "status": "approved", "decided_by": "U0SHOW", "decided_at": "2026-12-06T10:00"}
    card = cards.decided_blocks(decided, diff, picks=[1, 0])
    text = "\n".join(texts(card))
    assert "Approved* by <@U0SHOW>" in text and "*Chosen:* (2)" in text
    assert not any(b["type"] == "actions" for b in card)
    assert not any("accessory" in b for b in card)


def test_the_review_summary_speaks_a_writers_language_and_holds_the_report_link() -> None:
    report = {
        "series_id": "harbor-hearts",
        "title": "Harbor Hearts",
        "window_start": "2026-11-18T00:00:00Z",
        "window_end": "2026-11-19T00:00:00Z",
        "episodes": [
            {
                "episode_id": "ep03",
                "score": 38.2,
                "band": "iterate_hook",
                "cliff": {"second": 3, "drop_pct": 41.0, "shot_id": "s01"},
                "findings": [{"kind": "hook_failure"}],
            },
            {"episode_id": "ep07", "score": 81.0, "band": "double_down", "findings": []},
        ],
    }
    blocks = bk.review_summary_blocks(report, pending=3, blocked={}, dropped=0)
    text = "\n".join(texts(blocks))
    assert "double_down" not in text and "iterate_hook" not in text
    assert "*ep03* 38/100 — losing viewers at the start — rework the hook or thumbnail" in text
    assert "viewers leave at 3 s, in s01 (−41 points) · the opening loses them" in text
    assert "*ep07* 81/100 — working — do more of what this episode does" in text
    link = next(b for b in blocks if b.get("block_id") == "report_link")
    assert "appears here once it is published" in texts([link])[0]
    linked = bk.review_summary_blocks(
        report, pending=3, blocked={}, dropped=0, report_url="https://room.example/r/1"
    )
    assert "<https://room.example/r/1|the review page>" in "\n".join(texts(linked))


def submitted(view: dict[str, Any], **overrides: str) -> dict[str, Any]:
    from slack_payloads import modal_values

    return modal_values(view, **overrides)


def test_the_edit_form_of_ep03_is_plain_lines_and_comes_back_as_changes() -> None:
    brief, manifest, p = public("ep03", "hook_rewrite")
    diff = diff_proposal(p, brief, manifest)
    view = modals.edit_modal(p, diff, private_metadata="{}")
    assert len(view["blocks"]) <= bk.MAX_MODAL_BLOCKS
    inputs = [b for b in view["blocks"] if b["type"] == "input"]
    labels = [b["label"]["text"] for b in inputs]
    assert labels == [
        "Hook",
        "Shot s06-cold-open · Action",
        "Shot s06-cold-open · Caption · Hook (a choice)",
        "Shot s06-cold-open · Duration",
        "Shot s02 · Duration",
        "Headline — choose one",
        "Note for the room",
    ]
    for block in inputs:
        value = block["element"].get("initial_value", "")
        assert not value.startswith(("{", "[")), block["label"]["text"]

    # Unchanged: nothing to edit, the first options.
    edits, picks, note, errors = modals.parse_edit_submission(p, diff, submitted(view))
    assert (edits, picks, errors) == ({}, [0, 0], {})

    # A new caption in the approver's words, a shorter s02, the third headline.
    fields = modals.edit_fields(diff)
    caption = next(f for f in fields if f.label.endswith("(a choice)"))
    s02 = next(f for f in fields if f.label == "Shot s02 · Duration")
    values = submitted(
        view,
        **{
            caption.block_id: "Why would Dad bury this?",
            s02.block_id: "2",
            choice_block_id(1): "2",
            "edit_note": "my words",
        },
    )
    edits, picks, note, errors = modals.parse_edit_submission(p, diff, values)
    assert errors == {} and note == "my words"
    assert edits == {
        "manifest.shots[0].caption": "Why would Dad bury this?",
        "manifest.shots[1].duration_s": 2.0,
    }
    assert picks == [None, 2]  # the hook is the approver's own; headline (3)
    changes = edited_changes(brief, manifest, p["changes"], edits)
    assert [c["path"] for c in changes] == ["brief.hook", "manifest.shots"]
    new_brief, new_manifest = apply_changes(brief, manifest, changes)
    new_brief, new_manifest = apply_choices(new_brief, new_manifest, p["choices"], picks)
    assert new_manifest["shots"][0]["caption"] == "Why would Dad bury this?"
    assert new_manifest["shots"][1]["duration_s"] == 2.0
    assert "s01" not in [s["shot_id"] for s in new_manifest["shots"]]

    # Picking another hook by pasting it is the same as choosing it.
    values = submitted(view, **{caption.block_id: "Low tide. The third rock."})
    edits, picks, _, _ = modals.parse_edit_submission(p, diff, values)
    assert edits == {} and picks == [1, 0]


def test_dialogue_lines_are_one_input_each_and_an_emptied_line_is_cut() -> None:
    brief, manifest, p = public("ep05", "pacing_cut")
    diff = diff_proposal(p, brief, manifest)
    fields = modals.edit_fields(diff)
    lines = [f for f in fields if f.edit.line is not None]
    assert [f.label for f in lines] == [
        "Shot s05 · THEO (V.O.) (line 1)",
        "Shot s06 · THEO (V.O.) (line 1)",
    ]
    assert lines[1].value == "He signed it all over to me so Callum couldn't force a sale."
    view = modals.edit_modal(p, diff, private_metadata="{}")
    values = submitted(view, **{lines[0].block_id: "Your father came to me about the lease."})
    edits, _, _, errors = modals.parse_edit_submission(p, diff, values)
    assert errors == {}
    assert edits == {
        "manifest.shots[4].dialogue": "THEO (V.O.): Your father came to me about the lease."
    }
    changes = edited_changes(brief, manifest, p["changes"], edits)
    assert changes[0]["after"] == "THEO (V.O.): Your father came to me about the lease."
    assert changes[0]["before"] == p["changes"][0]["before"]
    values = submitted(view, **{lines[1].block_id: ""})
    edits, _, _, _ = modals.parse_edit_submission(p, diff, values)
    assert edits == {"manifest.shots[5].dialogue": ""}


def test_a_new_shot_is_edited_inside_the_change_that_appends_it() -> None:
    brief, manifest, p = public("ep07", "sequel")
    diff = diff_proposal(p, brief, manifest)
    fields = modals.edit_fields(diff)
    stinger = next(f for f in fields if f.choice is not None)
    assert stinger.edit.path == "manifest.shots[10].dialogue" and stinger.multiline
    action = next(f for f in fields if f.label.endswith("· Action"))
    view = modals.edit_modal(p, diff, private_metadata="{}")
    values = submitted(view, **{action.block_id: "Night. The lighthouse. Theo waits."})
    edits, picks, _, _ = modals.parse_edit_submission(p, diff, values)
    changes = edited_changes(brief, manifest, p["changes"], edits)
    appended = next(c for c in changes if c["path"] == "manifest.shots[+]")
    assert appended["after"]["action"] == "Night. The lighthouse. Theo waits."
    assert picks == [0]


def test_the_edit_form_of_a_huge_proposal_stays_within_100_blocks() -> None:
    brief, manifest, p = big_proposal()
    diff = diff_proposal(p, brief, manifest)
    view = modals.edit_modal(p, diff, private_metadata="{}")
    assert len(view["blocks"]) <= bk.MAX_MODAL_BLOCKS
    assert "can't be edited here" in json.dumps(view["blocks"])
    for block in view["blocks"]:
        if block["type"] == "input" and "initial_value" in block["element"]:
            assert len(block["element"]["initial_value"]) <= 3000
            assert len(block["label"]["text"]) <= 2000


def test_picks_come_from_the_cards_state() -> None:
    brief, manifest, p = public("ep03", "hook_rewrite")
    diff = diff_proposal(p, brief, manifest)
    state = {
        "values": {
            choice_block_id(0): {CHOOSE_OPTION: {"selected_option": {"value": "2"}}},
            "other": {EDIT_VALUE_ACTION: {"value": "x"}},
        }
    }
    assert cards.picks_from_state(diff, state) == [2, 0]
    assert cards.picks_from_state(diff, None) == [0, 0]
    bogus = {"values": {choice_block_id(0): {CHOOSE_OPTION: {"selected_option": {"value": "9"}}}}}
    assert cards.picks_from_state(diff, bogus) == [0, 0]


def test_nothing_in_a_card_can_inject_markup() -> None:
    brief, manifest, p = public("ep04", "packaging")
    p = {
        **p,
        "summary": "<!channel> look & see",
        "evidence": {**p["evidence"], "quotes": ["<@U1> hi"]},
    }
    diff = build_diff(brief, manifest, [{"path": "brief.title", "after": "<http://x|click>"}])
    text = "\n".join(texts(cards.proposal_blocks(p, diff)))
    assert "<!channel>" not in text and "<@U1>" not in text and "<http" not in text
    assert "&lt;!channel&gt; look &amp; see" in text


@pytest.mark.slow
def test_the_live_ep03_proposal_fits_slack(sample_room: Any) -> None:
    """ep03's hook rewrite as the offline writer writes it now, on the ingested sample."""
    from writers_room.analyst.window import analyse
    from writers_room.sample.notes import add_sample_notes
    from writers_room.store.db import session_scope
    from writers_room.writer.ideator import OfflineWriter, build_contexts

    settings = sample_room.settings
    add_sample_notes(settings, list(sample_room.bundle.planted))
    report = analyse(settings, "harbor-hearts", write=False).model_dump(mode="json")
    with session_scope(settings) as session:
        ictx, _ = build_contexts(settings, session, "harbor-hearts", "ep03", report)
    proposals = OfflineWriter().propose(ictx)
    hook = next(x for x in proposals if x.kind == "hook_rewrite")
    p = as_public(hook.model_dump(mode="json"))
    assert len(json.dumps(p["changes"])) > 3000  # what used to be cut mid-shot
    diff = diff_proposal(p, ictx.brief, ictx.manifest)
    messages = cards.proposal_messages(p, diff)
    assert_within_limits(messages)
    assert_every_item_shown(diff, messages)
    view = modals.edit_modal(p, diff, private_metadata="{}")
    assert len(view["blocks"]) <= bk.MAX_MODAL_BLOCKS
