"""The story stays whole: story_cut, spoiler, copied_comment, speaker and notes.

Each check has a passing and a refused case, on the small test episode (ideation_helpers)
and on episodes of the sample bibles.
"""

from __future__ import annotations

import copy

import pytest
from guardrail_helpers import PARCELS, TWIST_LINE, sample_guard, sample_proposal, with_comments

from ideation_helpers import BRIEF, change, context, guard, proposal, report
from writers_room.brief.proposals import Choice
from writers_room.brief.script import protected_sentences
from writers_room.config import Settings
from writers_room.guardrails.brand_guard import CHECKS, GuardVerdict, check
from writers_room.guardrails.story import CommentIndex, note_conflicts
from writers_room.store.db import session_scope
from writers_room.store.models import Comment, Note
from writers_room.writer.context import build_contexts


def failed(verdict: GuardVerdict) -> set[str]:
    return {name for name, ok in verdict.checks.items() if not ok}


def test_sample_episodes_pass_every_check_unchanged() -> None:
    ctx = sample_guard("neon-heist", "ep04")
    verdict = check(sample_proposal(ctx, "pacing_cut", {"manifest.shots[4].duration_s": 6.0}), ctx)
    assert verdict.passed, verdict.reasons
    assert verdict.checks == dict.fromkeys(CHECKS, True)


# --- story_cut ----------------------------------------------------------------------------


def test_story_cut_refuses_trimming_the_twist_line_and_allows_trimming_exposition() -> None:
    ctx = sample_guard("harbor-hearts", "ep05")
    cut = sample_proposal(
        ctx, "pacing_cut", {"manifest.shots[5].dialogue": f"THEO (V.O.): {PARCELS}"}
    )
    verdict = check(cut, ctx)
    assert failed(verdict) == {"story_cut"}
    assert verdict.reasons == [
        f'story_cut: cuts "{TWIST_LINE}" (THEO, s06), the line that carries the twist'
    ]
    # The parcel numbers and the council exposition go; the lines that turn the story stay.
    trimmed = sample_proposal(
        ctx,
        "pacing_cut",
        {
            "manifest.shots[4].dialogue": "THEO (V.O.): Three years ago your father came to me "
            "about the harbor lease.",
            "manifest.shots[5].dialogue": f"THEO (V.O.): {TWIST_LINE}",
        },
    )
    assert check(trimmed, ctx).passed, check(trimmed, ctx).reasons


def test_story_cut_refuses_removing_a_twist_shot_but_not_a_new_episode() -> None:
    ctx = sample_guard("neon-heist", "ep04")
    shots = [s for s in ctx.manifest["shots"] if s["shot_id"] != "s07"]
    shots[4] = {**shots[4], "duration_s": shots[4]["duration_s"] + 6}  # same runtime
    removed = sample_proposal(ctx, "pacing_cut", {"manifest.shots": shots})
    verdict = check(removed, ctx)
    assert failed(verdict) == {"story_cut"}
    assert (
        'story_cut: removes shot s07 ("A faint smile: he recognizes her"), the shot that '
        "carries the twist"
    ) in verdict.reasons
    assert any('cuts "Your vault held up beautifully, Ms. Okafor."' in r for r in verdict.reasons)
    assert check(removed.model_copy(update={"kind": "new_episode"}), ctx).passed


def test_story_cut_lets_only_a_hook_rewrite_replace_the_opening_line() -> None:
    ctx = sample_guard("neon-heist", "ep04")
    opening = {"manifest.shots[0].dialogue": "KAI: Deal me in."}
    assert check(sample_proposal(ctx, "hook_rewrite", opening), ctx).passed
    verdict = check(sample_proposal(ctx, "packaging", opening), ctx)
    assert verdict.reasons == [
        'story_cut: cuts "All in." (KAI, s01), the line that carries the hook'
    ]


def test_story_cut_refuses_emptying_the_twist_or_dropping_a_payoff_beat() -> None:
    emptied = check(proposal(changes=[change("brief.twist", "")]), guard())
    assert failed(emptied) == {"story_cut"}
    assert "empties brief.twist" in emptied.reasons[0]
    beats = BRIEF["beats"][:4]  # "Theo behind her" carries the payoff
    dropped = check(proposal(changes=[change("brief.beats", beats)]), guard())
    assert dropped.reasons == [
        # Theo is in the twist too: a name counts (the beat "Silas knows" carries a twist).
        'story_cut: removes beat "Theo behind her" (brief.beats[4]), which carries the twist '
        "and the payoff"
    ]
    reworded = [*beats, "Theo waiting behind her on the rocks"]
    assert check(proposal(changes=[change("brief.beats", reworded)]), guard()).passed


# --- spoiler ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("headline", "spoils"),
    [
        ("Your vault held up beautifully, Ms. Okafor.", "twist"),
        ("Say hello to your brother.", "payoff"),
        ("Silas knows her, and lets her win anyway.", "twist"),
        ("I admire recklessness.", None),
        ("Have we met?", None),
        ("Silas Drummond vs Kai Okafor", None),  # names alone never spoil
    ],
)
def test_spoiler_headlines_on_the_sample(headline: str, spoils: str | None) -> None:
    ctx = sample_guard("neon-heist", "ep04")
    packaging = sample_proposal(
        ctx,
        "packaging",
        {"manifest.shots[0].duration_s": 4.0},
        assets=[f'headline: "{headline}"'],
    )
    verdict = check(packaging, ctx)
    if spoils is None:
        assert verdict.passed, verdict.reasons
    else:
        assert failed(verdict) == {"spoiler"}
        assert verdict.reasons[0].startswith(
            f'spoiler: assets[0] (headline) "{headline}" gives away the {spoils}'
        )


def test_spoiler_reads_titles_choices_and_the_first_caption() -> None:
    ctx = guard()
    title = check(
        proposal(changes=[change("brief.title", "Theo and Walt: The Photos")], assets=[]), ctx
    )
    assert failed(title) == {"spoiler"} and "brief.title" in title.reasons[0]
    caption = check(
        proposal(changes=[change("manifest.shots[0].caption", "Photos of Walt, fighting")]), ctx
    )
    assert failed(caption) == {"spoiler"}
    assert caption.reasons[0].startswith('spoiler: manifest.shots[0].caption "Photos of Walt')
    choice = Choice(slot="headline", options=["Mara's second letter", "The lockbox photos"])
    # The lockbox is the premise's; the photos alone are one word of the twist: no spoiler.
    assert check(proposal(choices=[choice]), ctx).passed
    spoiling = Choice(slot="thumbnail", options=["Low Tide", "Walt and Theo fighting"])
    verdict = check(proposal(choices=[spoiling]), ctx)
    assert verdict.reasons[0].startswith(
        'spoiler: choices[0] (thumbnail, option 2) "Walt and Theo fighting" gives away the twist'
    )


# --- copied_comment -----------------------------------------------------------------------


def test_copied_comment_refuses_lifting_five_words_from_any_comment_of_the_series() -> None:
    comments = ["honestly the first ten seconds were so slow I almost left", "love June"]
    ctx = with_comments(guard(), comments)
    lifted = proposal(assets=["headline: The first ten seconds were so slow."])
    verdict = check(lifted, ctx)
    assert failed(verdict) == {"copied_comment"}
    assert verdict.reasons == [
        'copied_comment: assets[0] lifts "first ten seconds were so" from a viewer comment '
        '("honestly the first ten seconds were so slow I almost left"); write it in the '
        "room's own words"
    ]
    own_words = proposal(assets=["headline: Ten slow seconds, then the storm."])
    assert check(own_words, ctx).passed


def test_copied_comment_allows_keeping_a_line_a_comment_quotes() -> None:
    ctx = with_comments(guard(), ["when he said you weren't supposed to find that I screamed"])
    quiet = proposal(
        changes=[
            change(
                "manifest.shots[6].dialogue", "THEO (quietly): You weren't supposed to find that."
            )
        ]
    )
    assert check(quiet, ctx).passed, check(quiet, ctx).reasons


def test_comment_index_checks_by_lookup() -> None:
    index = CommentIndex(f"comment number {i} says the storm scene was great" for i in range(5000))
    assert len(index) == 5000
    assert index.lifted("Honestly the storm scene was great.") == (
        "the storm scene was great",
        "comment number 0 says the storm scene was great",
    )
    assert index.lifted("The storm scene was loud.") is None


def test_build_contexts_gives_the_guard_every_comment_and_the_notes(room: Settings) -> None:
    from datetime import UTC, datetime

    when = datetime(2026, 11, 16, 12, tzinfo=UTC)
    with session_scope(room) as session:
        for number in range(40):
            session.add(
                Comment(
                    comment_id=f"cm-{number}",
                    series_id="tiny",
                    episode_id="ep1" if number % 2 else "ep2",
                    author_hash=f"a{number}",
                    text=f"comment {number}: the lighthouse door scene made me cry",
                    ts=when,
                )
            )
        session.add(Note(series_id="tiny", episode_id="ep1", author="U0SHOW", text="keep the wave"))
    with session_scope(room) as session:
        ictx, gctx = build_contexts(room, session, "tiny", "ep1", report([], episode_id="ep1"))
    assert len(gctx.comment_texts) == 40
    assert gctx.notes == ictx.notes == ["keep the wave"]
    assert gctx.episode_title == ictx.episode_title


# --- speaker ------------------------------------------------------------------------------


def test_speaker_refuses_a_caption_quoting_a_line_away_from_its_speaker() -> None:
    ctx = sample_guard("neon-heist", "ep04")
    away = sample_proposal(
        ctx, "packaging", {"manifest.shots[0].caption": "I admire recklessness."}
    )
    verdict = check(away, ctx)
    assert failed(verdict) == {"speaker"}
    assert verdict.reasons == [
        'speaker: the caption of s01 quotes SILAS\'s line "I admire recklessness." but SILAS is '
        "not in the shot (Kai Okafor)"
    ]
    on_him = sample_proposal(
        ctx, "packaging", {"manifest.shots[1].caption": "I admire recklessness."}
    )
    assert check(on_him, ctx).passed, check(on_him, ctx).reasons


def test_speaker_refuses_moving_a_line_to_another_mouth() -> None:
    moved = proposal(
        changes=[
            change(
                "manifest.shots[7].dialogue",
                "MARA: Stay away from me. / JUNE: You weren't supposed to find that.",
            )
        ]
    )
    verdict = check(moved, guard())
    assert failed(verdict) == {"speaker"}
    assert verdict.reasons == [
        'speaker: gives "You weren\'t supposed to find that." to JUNE in s08; in the brief in '
        "force it is THEO's line"
    ]
    reworded = proposal(
        changes=[change("manifest.shots[7].dialogue", "MARA: Stay away from me. Please.")]
    )
    assert check(reworded, guard()).passed


# --- notes --------------------------------------------------------------------------------


NOTE = "keep the line about Callum, cut the parcel numbers"


def test_notes_refuse_cutting_what_a_note_keeps_and_allow_what_it_asks() -> None:
    ctx = sample_guard("harbor-hearts", "ep05", notes=[NOTE])
    against = sample_proposal(
        ctx, "pacing_cut", {"manifest.shots[5].dialogue": f"THEO (V.O.): {PARCELS}"}
    )
    verdict = check(against, ctx)
    assert failed(verdict) == {"story_cut", "notes"}
    assert (
        f'notes: cuts "{TWIST_LINE}" (s06), which a writer\'s note says "{NOTE}"'
    ) in verdict.reasons
    obeys = sample_proposal(
        ctx, "note_followup", {"manifest.shots[5].dialogue": f"THEO (V.O.): {TWIST_LINE}"}
    )
    assert check(obeys, ctx).passed, check(obeys, ctx).reasons


def test_notes_refuse_bringing_back_what_a_note_cut() -> None:
    base = sample_guard("harbor-hearts", "ep05")
    manifest = copy.deepcopy(base.manifest)
    manifest["shots"][5]["dialogue"] = f"THEO (V.O.): {TWIST_LINE}"
    manifest["shots"][5]["caption"] = "Harbor Deed Transfer"
    ctx = base.model_copy(update={"manifest": manifest, "notes": [NOTE]})
    back = sample_proposal(
        ctx,
        "pacing_cut",
        {"manifest.shots[5].dialogue": f"THEO (V.O.): {TWIST_LINE} All fourteen parcels."},
    )
    verdict = check(back, ctx)
    assert failed(verdict) == {"notes"}
    assert verdict.reasons == [
        f'notes: brings back "All fourteen parcels." (s06), where a writer\'s note says "{NOTE}"'
    ]
    other = sample_proposal(
        ctx, "pacing_cut", {"manifest.shots[5].dialogue": f"THEO (V.O.): {TWIST_LINE} All of it."}
    )
    assert check(other, ctx).passed, check(other, ctx).reasons


def test_notes_refuse_opening_on_what_a_note_avoids() -> None:
    ictx = context(notes=["do not open on the fog; more June"])
    fog = proposal(changes=[change("manifest.shots[0].action", "Fog swallows the harbor whole")])
    verdict = check(fog, guard(ictx))
    assert failed(verdict) == {"notes"}
    assert verdict.reasons[0].startswith(
        'notes: opens on the fog (s01: "Fog swallows the harbor whole"), where a writer\'s note'
    )
    lockbox = proposal(
        changes=[change("manifest.shots[0].action", "Mara pries open the rusted lockbox")]
    )
    assert check(lockbox, guard(ictx)).passed
    # The episode already opens on the fog: a proposal that leaves the picture alone passes.
    assert check(proposal(), guard(ictx)).passed
    captioned = proposal(changes=[change("manifest.shots[0].caption", "Maine, dawn")])
    assert check(captioned, guard(ictx)).passed
    # A note that asks to open on the fog is contradicted by the lockbox opening.
    verdict = check(lockbox, guard(context(notes=["Open on the fog."])))
    assert verdict.reasons == [
        'notes: no longer opens on the fog, where a writer\'s note says "Open on the fog."'
    ]


def test_the_newest_note_wins() -> None:
    manifest = context().manifest
    shorter = copy.deepcopy(manifest)
    shorter["shots"] = shorter["shots"][1:]
    assert note_conflicts(["cut the fog shot", "keep the fog shot"], manifest, shorter) == []
    assert note_conflicts(["keep the fog shot", "cut the fog shot"], manifest, shorter) == [
        'removes shot s01, which a writer\'s note says "keep the fog shot"'
    ]


def test_protected_sentences_of_the_sample_twist() -> None:
    """The twist of neon-heist ep04 plays over the card, the recognition and the pot."""
    ctx = sample_guard("neon-heist", "ep04")
    twist = [(i, s) for f, i, _, s in protected_sentences(ctx.brief, ctx.manifest) if f == "twist"]
    assert (6, "Your vault held up beautifully, Ms. Okafor.") in twist
