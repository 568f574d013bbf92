"""A proposal reads like a script diff, in Slack mrkdwn, Rich markup and HTML."""

from __future__ import annotations

import copy
import re

from proposal_samples import sample_case
from writers_room.brief.diff import (
    build_diff,
    diff_proposal,
    render,
    render_html,
    render_mrkdwn,
    render_rich,
    word_spans,
)


def test_ep03_hook_rewrite_reads_as_a_cut_a_cold_open_and_a_trim() -> None:
    brief, manifest, proposal = sample_case("ep03", "hook_rewrite")
    # One whole-list change rewrites every shot (12k characters of JSON) …
    assert [c["path"] for c in proposal["changes"]] == ["brief.hook", "manifest.shots"]
    diff = diff_proposal(proposal, brief, manifest)
    # … and reads as four items: the hook, s01 cut, the cold open, s02 shortened.
    assert [(i.key, i.status) for i in diff.items] == [
        ("brief.hook", "changed"),
        ("s01", "cut"),
        ("s06-cold-open", "new"),
        ("s02", "changed"),
    ]
    cold = diff.items[2]
    assert cold.headline == "new: s06 repeated at the top as a 3-s cold open"
    assert diff.runtime == (60.0, 54.5)
    assert diff.hidden_noise > 0  # start times shifted by the cut: not shown

    text = render_mrkdwn(diff)
    assert "*2. Shot s01* — cut (6 s)" in text
    assert "> Action: ~Dawn fog rolls over the empty harbor; gulls circle the moorings~" in text
    assert "> Caption: *What is in the rusted lockbox?*" in text
    assert "> Duration: ~5 s~ *2.5 s*" in text
    # The alternatives, numbered, the proposed one first.
    assert "*Hook — choose one:*\n(1) What is in the rusted lockbox? _(proposed)_\n" in text
    assert "(2) Low tide. The third rock.\n(3) One... two... three." in text
    assert "Headline — choose one (copy to publish with the episode)" in text
    assert "Runtime 60 → 54.5 s" in text
    # No noise, no JSON.
    assert "Seed" not in text and "Keyframe" not in text and "{" not in text


def test_ep05_pacing_strikes_the_cut_sentences_and_keeps_the_twist_line() -> None:
    brief, manifest, proposal = sample_case("ep05", "pacing_cut")
    diff = diff_proposal(proposal, brief, manifest)
    assert [i.key for i in diff.items] == ["s05", "s06"]
    s06 = diff.items[1]
    (line,) = [x for x in s06.lines if x.kind == "dialogue"]
    assert line.label == "THEO (V.O.)" and line.status == "changed"
    assert line.text("before").startswith("Parcel fourteen-B")
    assert line.text("after") == "He signed it all over to me so Callum couldn't force a sale."
    text = render_mrkdwn(diff)
    assert (
        "> THEO (V.O.): ~Parcel fourteen-B, the slip rights, the fuel dock easement.~ "
        "He signed it all over to me so Callum couldn't force a sale." in text
    )
    assert "> Duration: ~7 s~ *5.5 s*" in text
    rich = render_rich(diff)
    assert (
        "[strike red]Parcel fourteen-B, the slip rights, the fuel dock easement.[/strike red]"
        in rich
    )
    html = render_html(diff)
    assert (
        '<del class="wr-del">Parcel fourteen-B, the slip rights, the fuel dock easement.</del>'
        in html
    )
    assert "couldn&#x27;t force a sale." in html


def test_a_new_shot_shows_its_lines_bold_and_the_stinger_choices() -> None:
    brief, manifest, proposal = sample_case("ep07", "sequel")
    assert any(c["path"] == "manifest.shots[+]" for c in proposal["changes"])
    diff = diff_proposal(proposal, brief, manifest)
    shot = next(i for i in diff.items if i.kind == "shot")
    assert shot.status == "new" and shot.headline == "new: 6.5 s, at the end"
    dialogue = [line for line in shot.lines if line.kind == "dialogue"]
    assert [(d.label, d.status) for d in dialogue] == [("THEO", "new"), ("MARA", "new")]
    text = render_mrkdwn(diff)
    assert "> *THEO: There’s something I haven’t told you about Callum.*" in text
    assert "*Stinger — choose one:*" in text
    # The brief's payoff grows by a sentence: only the new words are bold.
    payoff = render(diff, "mrkdwn", start=0, stop=1, choices=False)
    assert "~" not in payoff and "*Stinger: Later that night" in payoff


def test_a_title_change_and_a_first_frame_caption() -> None:
    brief, manifest, proposal = sample_case("ep04", "packaging")
    diff = diff_proposal(proposal, brief, manifest)
    assert [(i.key, i.status) for i in diff.items] == [("brief.title", "new"), ("s01", "changed")]
    text = render_mrkdwn(diff)
    assert "*1. Title (brief)*\n> *Have We Met?*" in text
    assert "> Caption: *All in.*" in text
    assert "*Title — choose one:*\n(1) Have We Met? _(proposed)_\n(2) I'd Remember" in text


def test_noise_is_hidden_unless_asked() -> None:
    brief, manifest, _ = sample_case("ep05", "pacing_cut")
    shots = copy.deepcopy(manifest["shots"])
    shots[2]["seed"] += 1
    shots[2]["keyframe_prompt"] += ", rain"
    shots[3]["shot_id"] = "s04b"  # renumbered, nothing else
    changes = [{"path": "manifest.shots", "before": manifest["shots"], "after": shots}]
    quiet = build_diff(brief, manifest, changes)
    assert quiet.items == () and quiet.hidden_noise == 2
    assert "no changes" in render_mrkdwn(quiet)
    loud = build_diff(brief, manifest, changes, show_noise=True)
    assert [(i.key, i.noise_only) for i in loud.items] == [("s03", True), ("s04b", True)]
    text = render_mrkdwn(loud)
    assert "Seed: ~" in text and "Shot id: ~s04~ *s04b*" in text


def test_a_moved_shot_is_a_move_and_the_shots_it_passes_are_not() -> None:
    brief, manifest, _ = sample_case("ep05", "pacing_cut")
    shots = copy.deepcopy(manifest["shots"])
    last = shots.pop()
    last["duration_s"] = 3.0
    shots.insert(0, last)
    diff = build_diff(brief, manifest, [{"path": "manifest.shots", "after": shots}])
    (item,) = diff.items
    assert item.status == "moved" and item.key == last["shot_id"]
    assert item.headline.startswith("moves to the top as a 3-s cold open (was ")
    assert "Duration: ~" in render_mrkdwn(diff)


def test_items_split_into_parts_and_every_format_escapes() -> None:
    brief, manifest, _ = sample_case("ep05", "pacing_cut")
    changes = [
        {"path": f"manifest.shots[{n}].caption", "after": f"<b>{n}</b> & *bold* ~x~"}
        for n in range(len(manifest["shots"]))
    ]
    diff = build_diff(brief, manifest, changes)
    assert diff.count == len(manifest["shots"]) == 11
    assert diff.part(0, 6) == "changes 1–6 of 11" and diff.part(10, 11) == "change 11 of 11"
    first = render_mrkdwn(diff, start=0, stop=6)
    assert "*6. Shot" in first and "*7. Shot" not in first
    assert "&lt;b&gt;0&lt;/b&gt; &amp; ∗bold∗ ∼x∼" in first  # markup cannot leak out
    html = render_html(diff, start=6, stop=11)
    assert "changes 7–11 of 11" in html and "<b>" not in html and "&lt;b&gt;" in html
    rich = render_rich(diff, markers=True)
    assert "{+<b>0</b> & *bold* ~x~+}" in rich


def test_word_spans_keep_whitespace_outside_the_marks() -> None:
    spans = word_spans("Open on the fog today.", "Open on the fire today.")
    assert [(s.op, s.text) for s in spans] == [
        ("same", "Open on the "),
        ("del", "fog"),
        ("ins", "fire"),
        ("same", " today."),
    ]
    assert render_mrkdwn(
        build_diff(
            {"hook": "a fog b"}, {"shots": []}, [{"path": "brief.hook", "after": "a fire b"}]
        )
    ).startswith("*1. Hook (brief)*\n> a ~fog~ *fire* b")
    assert not re.search(r"~\s|\s~(?=\S)", "a ~fog~ *fire* b".replace(" ~fog~", ""))


def test_a_change_set_that_no_longer_applies_is_shown_change_by_change() -> None:
    brief, manifest, _ = sample_case("ep05", "pacing_cut")
    diff = build_diff(brief, manifest, [{"path": "manifest.shots[40].caption", "after": "x"}])
    assert not diff.applies and diff.items[0].kind == "raw"
    assert "do not apply" in render_mrkdwn(diff)
