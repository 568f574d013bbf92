"""The offline writer: one rule per diagnosis, evidence on every proposal, guard-clean."""

from __future__ import annotations

import copy
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlmodel import select

from ideation_helpers import (
    COMMENTS,
    EPISODE,
    INJECTIONS,
    context,
    guard,
    manifest,
    report,
    series,
)
from writers_room.brief.bundle import Constraints
from writers_room.brief.proposals import BriefChangeProposal, apply_changes
from writers_room.brief.report import AnalystReport, CommentScope, Finding, Flag, VariantResult
from writers_room.config import Settings
from writers_room.errors import InputError
from writers_room.guardrails import brand_guard
from writers_room.ingest.series import add_series_file
from writers_room.store.db import session_scope
from writers_room.store.models import Comment, Decision, Note, Proposal
from writers_room.writer.context import CommentSnippet, IdeationContext, build_contexts
from writers_room.writer.ideator import Ideator, LLMIdeator, OfflineWriter, get_ideator

ALL_KINDS = ["hook_failure", "hook_packaging", "pacing", "low_participation", "resonance"]
KIND_OF = {
    "hook_failure": "hook_rewrite",
    "hook_packaging": "packaging",
    "pacing": "pacing_cut",
    "low_participation": "participation",
    "resonance": "sequel",
}


def propose(ctx: IdeationContext) -> dict[str, BriefChangeProposal]:
    return {p.kind: p for p in OfflineWriter().propose(ctx)}


def runtime(doc: dict) -> float:
    return sum(float(s["duration_s"]) for s in doc["shots"])


def applied(ctx: IdeationContext, proposal: BriefChangeProposal) -> tuple[dict, dict]:
    return apply_changes(ctx.brief, ctx.manifest, [c.model_dump() for c in proposal.changes])


def assets(proposal: BriefChangeProposal, prefix: str) -> list[str]:
    return [a for a in proposal.assets if a.startswith(prefix)]


def test_the_offline_writer_is_an_ideator_and_the_default() -> None:
    assert isinstance(OfflineWriter(), Ideator)
    assert isinstance(get_ideator(Settings(llm="offline")), OfflineWriter)


def test_get_ideator_builds_an_llm_ideator_for_openai() -> None:
    ideator = get_ideator(Settings(llm="openai", openai_base_url="http://127.0.0.1:9/v1"))
    assert isinstance(ideator, LLMIdeator)
    with pytest.raises(InputError, match="OPENAI_API_KEY"):
        get_ideator(Settings(llm="openai"))


@pytest.mark.parametrize("kind", ALL_KINDS)
def test_each_finding_gets_its_kind_of_proposal_with_evidence(kind: str) -> None:
    ctx = context([kind])
    (proposal,) = OfflineWriter().propose(ctx)
    assert proposal.kind == KIND_OF[kind]
    assert proposal.episode_id == EPISODE
    assert proposal.rationale.endswith("(Rule-based offline writer.)")
    assert "_" not in proposal.rationale  # numbers in words, never variable names
    # The numbers that made the rule fire, as the report has them.
    for key, value in ctx.report.findings[0].evidence.items():
        assert proposal.evidence.metrics[key] == pytest.approx(value)
    assert proposal.evidence.findings == [kind]
    # Comment ids with their (redacted) text as quotes; only comments of the context.
    texts = {c.comment_id: c.text for c in ctx.comments}
    assert proposal.evidence.comment_ids
    for comment_id, quote in zip(
        proposal.evidence.comment_ids, proposal.evidence.quotes, strict=True
    ):
        assert texts[comment_id].startswith(quote.rstrip("…"))


def test_hook_failure_opens_cold_on_a_line_of_the_episode_never_the_twist() -> None:
    ctx = context(["hook_failure"])
    proposal = propose(ctx)["hook_rewrite"]
    paths = [c.path for c in proposal.changes]
    assert paths == ["brief.hook", "manifest.shots"]
    new_brief, new_manifest = applied(ctx, proposal)
    first = new_manifest["shots"][0]
    # s06 (the photos of Theo and Walt) carries the twist: the cold open is another shot.
    assert first["shot_id"].endswith("-cold-open") and not first["shot_id"].startswith("s06")
    assert first["start_s"] == 0 and first["duration_s"] <= 3
    # The hook is written text, chosen between alternatives: the first is on screen.
    hook = next(c for c in proposal.choices if c.slot == "hook")
    assert hook.path == "manifest.shots[0].caption" and first["caption"] == hook.options[0]
    assert hook.options[0] == "What is in the second envelope?"
    assert "Mail came." in hook.options
    assert hook.options[0] in new_brief["hook"]
    assert 45 <= runtime(new_manifest) <= 90
    # Headlines to choose between: the episode's own lines, none of them a viewer's words
    # or the twist.
    headlines = next(c for c in proposal.choices if c.slot == "headline").options
    assert 2 <= len(headlines) <= 3
    viewer_texts = {c.text for c in ctx.comments}
    assert not any(h in viewer_texts for h in headlines)
    assert not any("Dad died" in h or "Theo" in h for h in headlines)
    assert assets(proposal, "thumbnail:")
    assert "retention_10s" in proposal.evidence.metrics
    assert "the first 10 seconds were so slow" in proposal.rationale


def test_hook_failure_cuts_the_opening_shot_viewers_complain_about() -> None:
    fog = CommentSnippet(
        comment_id="c6", text="why does it start with like 6 seconds of fog", likes=50,
        episode_id=EPISODE,
    )  # fmt: skip
    ctx = context(["hook_failure"], comments=[fog, *COMMENTS])
    proposal = propose(ctx)["hook_rewrite"]
    _, new_manifest = applied(ctx, proposal)
    ids = [s["shot_id"] for s in new_manifest["shots"]]
    assert "s01" not in ids  # "Dawn fog rolls over the empty harbor", nobody in it
    assert "s01" in proposal.summary and "fog" in proposal.summary
    assert 45 <= runtime(new_manifest) <= 90
    assert brand_guard.check(proposal, guard(ctx)).passed


def test_hook_packaging_gives_a_first_frame_title_and_headlines_that_spoil_nothing() -> None:
    recap = CommentSnippet(
        comment_id="c7", text="the title made me think it was a recap episode", likes=20,
        episode_id=EPISODE,
    )  # fmt: skip
    ctx = context(["hook_packaging"], comments=[recap, *COMMENTS])
    proposal = propose(ctx)["packaging"]
    paths = {c.path for c in proposal.changes}
    assert "brief.title" in paths  # viewers complained about the title: a new one
    title = next(c for c in proposal.choices if c.slot == "title")
    assert 2 <= len(title.options) <= 3 and "Low Tide" not in title.options
    headlines = next(c for c in proposal.choices if c.slot == "headline").options
    assert 2 <= len(headlines) <= 3
    for text in [*title.options, *headlines]:
        assert "Dad died" not in text and "supposed to find" not in text
    assert 1 <= len(assets(proposal, "thumbnail:")) <= 2
    assert "recap" in proposal.rationale


def test_pacing_trims_the_densest_exposition_and_brings_the_key_action_earlier() -> None:
    ctx = context(["pacing"])
    proposal = propose(ctx)["pacing_cut"]
    _, new_manifest = applied(ctx, proposal)
    by_id = {s["shot_id"]: s for s in new_manifest["shots"]}
    assert by_id["s04"]["duration_s"] < 7  # the cliff shot, named by cliff.shot_id
    # The dates and company names go; the line a viewer needs stays.
    assert by_id["s04"]["dialogue"] == "THEO (V.O.): Your father came to me about the harbor lease."
    assert by_id["s06"]["start_s"] < 28  # the key action comes earlier
    assert runtime(new_manifest) >= 45
    assert "s04" in proposal.summary and "18 s" in proposal.summary
    assert "Reyes Group" in proposal.summary  # the cut lines, quoted


def test_pacing_never_cuts_the_line_that_carries_the_twist() -> None:
    shots = copy.deepcopy(manifest()["shots"])
    shots[3]["dialogue"] = (
        "THEO (V.O.): Parcel fourteen-B, the slip rights, the fuel dock easement. "
        "He signed the lockbox photos over to me so nobody could see Theo and Walt fighting."
    )
    ctx = context(["pacing"], manifest=manifest(shots))
    ctx.brief["locked_beats"] = []
    proposal = propose(ctx)["pacing_cut"]
    _, new_manifest = applied(ctx, proposal)
    line = new_manifest["shots"][3]["dialogue"]
    assert "Parcel fourteen-B" not in line
    assert "He signed the lockbox photos over to me" in line
    assert brand_guard.check(proposal, guard(ctx)).passed


def test_pacing_leaves_a_shot_of_a_locked_beat_alone() -> None:
    ctx = context(["pacing"])
    ctx.brief["locked_beats"] = ["the harbor lease flashback", "the photos of Theo and Walt"]
    proposal = propose(ctx).get("pacing_cut")
    if proposal is not None:
        assert not any(c.path.startswith("manifest.shots[3]") for c in proposal.changes)


def test_low_participation_ends_on_a_question_about_bible_characters() -> None:
    ctx = context(["low_participation"])
    proposal = propose(ctx)["participation"]
    new_brief, new_manifest = applied(ctx, proposal)
    question = new_manifest["shots"][-1]["caption"]
    assert question.endswith("?") and question in new_brief["payoff"]
    assert "Mara" in question and "Theo" in question
    assert "c3" in proposal.evidence.comment_ids  # the audience's own question


def test_resonance_writes_a_stinger_with_lines_to_choose_between() -> None:
    ctx = context(["resonance"])
    proposal = propose(ctx)["sequel"]
    assert [c.path for c in proposal.changes] == ["brief.payoff", "manifest.shots[+]"]
    stinger = proposal.changes[1].after
    choice = next(c for c in proposal.choices if c.slot == "stinger")
    assert choice.path == f"manifest.shots[{len(ctx.manifest['shots'])}].dialogue"
    assert 2 <= len(choice.options) <= 3 and stinger["dialogue"] == choice.options[0]
    # Every option is spoken by the characters in the stinger shot.
    cast = {name.split()[0].upper() for name in stinger["characters"]}
    for option in choice.options:
        speakers = {line.split(":")[0] for line in option.split(" / ")}
        assert speakers <= cast, option
    # The warm theme, not the brigade ("Declan ruins this show", mostly flagged authors).
    assert "Declan" not in proposal.model_dump_json()
    assert [a.split(":")[0] for a in proposal.assets] == ["cross-promotion copy"]
    # The shot reads as a complete direction and has a picture of its own.
    assert stinger["action"].endswith(", alone") and "since" not in stinger["action"]
    assert stinger["keyframe_prompt"].startswith("two-shot at night")


def test_an_episode_that_ends_on_a_stinger_gets_no_second_one() -> None:
    ctx = context(["resonance"])
    first = propose(ctx)["sequel"]
    _, manifest = applied(ctx, first)
    assert manifest["shots"][-1]["shot_id"].endswith("-stinger")
    again = ctx.model_copy(update={"manifest": manifest})
    assert "sequel" not in propose(again)


def test_same_context_gives_the_same_proposals() -> None:
    ctx = context(ALL_KINDS)
    first = [p.model_dump() for p in OfflineWriter().propose(ctx)]
    again = [p.model_dump() for p in OfflineWriter().propose(ctx)]
    rebuilt = IdeationContext.model_validate_json(ctx.model_dump_json())
    assert first == again == [p.model_dump() for p in OfflineWriter().propose(rebuilt)]
    assert [p["kind"] for p in first] == [KIND_OF[k] for k in ALL_KINDS]


def test_every_proposal_passes_the_brand_guard_for_a_clean_context() -> None:
    ctx = context(ALL_KINDS)
    guard_ctx = guard(ctx)
    proposals = OfflineWriter().propose(ctx)
    assert len(proposals) == 5
    for proposal, verdict in zip(
        proposals, brand_guard.check_all(proposals, guard_ctx), strict=True
    ):
        assert verdict.passed, (proposal.kind, verdict.reasons)
        assert set(verdict.checks) == set(brand_guard.CHECKS)


def test_locked_opening_beat_and_characters_are_respected() -> None:
    ctx = context(["hook_failure", "low_participation"])
    ctx.brief["locked_beats"] = ["a quiet foggy morning"]
    proposals = OfflineWriter().propose(ctx)
    for proposal in proposals:
        assert "brief.beats[0]" not in [c.path for c in proposal.changes]
        new_brief, new_manifest = applied(ctx, proposal)
        assert "a quiet foggy morning" in new_brief["beats"]
        bible = {c.name for c in ctx.series.characters}
        for shot in new_manifest["shots"]:
            assert set(shot["characters"]) <= bible
        assert brand_guard.check(proposal, guard(ctx)).passed


def test_runtime_stays_inside_a_tight_window() -> None:
    # 50 s now, at most 51 s allowed: a 3-s flash-forward only fits with the condensing.
    ctx = context(
        ["hook_failure", "pacing"], series=series(constraints=Constraints(runtime_s=(48, 51)))
    )
    proposals = OfflineWriter().propose(ctx)
    assert "hook_rewrite" in [p.kind for p in proposals]
    for proposal in proposals:
        _, new_manifest = applied(ctx, proposal)
        assert 48 <= runtime(new_manifest) <= 51, proposal.kind
        assert brand_guard.check(proposal, guard(ctx)).checks["runtime"]


def test_banned_terms_in_the_source_material_are_never_written() -> None:
    shots = copy.deepcopy(manifest()["shots"])
    shots[5]["action"] = "Photo after photo: Theo, a hot mess, shouting at Walt on the dock"
    ctx = context(["hook_failure", "hook_packaging"], manifest=manifest(shots))
    for proposal in OfflineWriter().propose(ctx):
        written = [proposal.summary, *proposal.assets]
        written += [c.after for c in proposal.changes if c.path.startswith("brief.")]
        assert not any("hot mess" in text.lower() for text in written)
        verdict = brand_guard.check(proposal, guard(ctx))
        assert verdict.checks["brand_voice"], verdict.reasons


def test_comments_that_look_like_instructions_or_name_strangers_are_not_used() -> None:
    hostile = [
        CommentSnippet(comment_id="x1", text=INJECTIONS[0], likes=999, episode_id=EPISODE),
        CommentSnippet(
            comment_id="x2",
            text="Rick from the other show would fix this mess",
            likes=500,
            episode_id=EPISODE,
        ),
    ]
    ctx = context(ALL_KINDS, comments=hostile + list(COMMENTS))
    for proposal in OfflineWriter().propose(ctx):
        # The injection is neither used nor cited; the stranger's name may be quoted as
        # what a viewer said, but never written into the episode or its packaging.
        assert "approve every" not in proposal.model_dump_json().lower()
        assert "x1" not in proposal.evidence.comment_ids
        written = proposal.model_dump_json(include={"summary", "assets", "changes"})
        assert "Rick" not in written
        assert brand_guard.check(proposal, guard(ctx)).passed


def test_revision_feedback_is_honoured() -> None:
    ctx = context(["hook_failure", "low_participation"])
    before = {p.kind: p for p in OfflineWriter().propose(ctx)}
    assert "envelope" in before["hook_rewrite"].choices[0].options[0]
    feedback = [
        "brand_voice: banned term 'envelope' in manifest.shots[0].caption: 'What is in...'",
        "near_duplicate: similarity 0.95 >= 0.92 with rejected proposal p-1 ('Who do you "
        "believe...'; rejected because: we did this last week)",
        "runtime: 91.0 s after the changes is outside the series' 45-90 s (now 50.0 s)",
    ]
    revised = {
        p.kind: p
        for p in OfflineWriter().propose(ctx.model_copy(update={"revision_feedback": feedback}))
    }
    hook = revised["hook_rewrite"]
    assert "envelope" not in " ".join(hook.choices[0].options).lower()
    assert "envelope" not in hook.changes[0].after.lower()
    # A near-duplicate of a rejected idea: the writer takes its next option.
    assert revised["participation"].summary != before["participation"].summary
    # Runtime feedback: a shorter cold open, still inside the window with a margin.
    _, new_manifest = applied(ctx, hook)
    assert new_manifest["shots"][0]["duration_s"] == 2.0
    assert runtime(new_manifest) <= 89
    for proposal in revised.values():
        assert brand_guard.check(proposal, guard(ctx)).passed


def test_no_findings_no_proposals() -> None:
    assert OfflineWriter().propose(context([])) == []


# --- contexts from the database -----------------------------------------------------------


def _analyst_report(kinds: list[str]) -> dict:
    episode = report(kinds, episode_id="ep1", cliff=None, title="The Letter")
    episode.findings = [
        Finding(**{**f.model_dump(), "comment_ids": ["cm-1", "cm-2"]}) for f in episode.findings
    ]
    return AnalystReport(
        series_id="tiny",
        title="Tiny Tides",
        window_start="2026-11-16T00:00:00Z",
        window_end="2026-11-17T00:00:00Z",
        spans={},
        episodes=[episode],
        themes=[],
        themes_by_volume=[],
        themes_by_authors=[],
        characters=[],
        flags=[
            Flag(
                kind="prompt_injection", detail="1 comment", episode_id="ep1", comment_ids=["cm-3"]
            )
        ],  # fmt: skip
        comment_scope=CommentScope(
            start="2026-11-16T00:00:00Z",
            end="2026-11-17T00:00:00Z",
            comments=3,
            themed=0,
            excluded=1,
            missing_vectors=0,
            sampled=False,
        ),
        thresholds={},
    ).model_dump(mode="json")


@pytest.fixture
def tiny_room(settings: Settings, tiny_series: Path) -> Settings:
    add_series_file(settings, tiny_series)
    when = datetime(2026, 11, 16, 12, tzinfo=UTC)
    with session_scope(settings) as session:
        for comment_id, text, likes in (
            ("cm-1", "the storm opening is so slow, mail me at jane@example.com", 5),
            ("cm-2", "Mara finding the letter gave me chills", 9),
            ("cm-3", INJECTIONS[1], 50),
        ):
            session.add(
                Comment(comment_id=comment_id, series_id="tiny", episode_id="ep1",
                        author_hash=f"a{likes}", text=text, ts=when, likes=likes)
            )  # fmt: skip
        session.add(
            Proposal(proposal_id="p-old", series_id="tiny", episode_id="ep1", status="rejected",
                     kind="hook_rewrite", summary="Open on the knock at the door instead.",
                     content_hash="h")
        )  # fmt: skip
        session.flush()
        session.add(
            Decision(proposal_id="p-old", decision="rejected", decided_by="U0SHOW",
                     content_hash="h", note="the knock is the payoff; keep it for the end")
        )  # fmt: skip
        session.add(Note(series_id="tiny", episode_id="ep1", author="U0SHOW",
                         text="Make Theo scarier. Ping <@U123> about it."))  # fmt: skip
    return settings


def test_build_contexts_reads_the_episode_from_the_database(tiny_room: Settings) -> None:
    vectors: list[list[str]] = []

    def embed(texts: list[str]):
        import numpy as np

        vectors.append(texts)
        return np.ones((len(texts), 3), dtype="float32") / np.sqrt(3)

    with session_scope(tiny_room) as session:
        ictx, gctx = build_contexts(
            tiny_room, session, "tiny", "ep1", _analyst_report(["hook_failure"]),
            ["slop: stock phrase 'unleash' in summary"], embed=embed,
        )  # fmt: skip
    assert ictx.series.premise.startswith("A lighthouse keeper")
    assert ictx.brief["hook"] == "A wave smashes the lighthouse door open."
    assert len(ictx.manifest["shots"]) == 3 and ictx.base_version == 1
    # Comments behind the findings, redacted again; the injection is kept out.
    assert [c.comment_id for c in ictx.comments] == ["cm-2", "cm-1"]
    assert "jane@example.com" not in ictx.model_dump_json()
    assert ictx.past_decisions[0].status == "rejected"
    assert ictx.past_decisions[0].reason.startswith("the knock is the payoff")
    assert ictx.notes == ["Make Theo scarier. Ping [mention] about it."]
    assert ictx.revision_feedback == ["slop: stock phrase 'unleash' in summary"]
    assert gctx.rejected[0].summary == "Open on the knock at the door instead."
    assert gctx.known_comment_ids is not None and "cm-1" in gctx.known_comment_ids
    assert INJECTIONS[1] in gctx.untrusted_texts
    assert gctx.constraints.runtime_s == (10, 90)
    # The offline writer and the guard work on what was read.
    proposals = OfflineWriter().propose(ictx)
    verdicts = brand_guard.check_all(proposals, gctx)
    assert proposals and vectors  # the rejected idea was compared by embedding
    # Every test embedding is the same vector: the guard sees a near-duplicate.
    assert all(not v.checks["near_duplicate"] for v in verdicts)


def test_build_contexts_refuses_unknown_episodes(tiny_room: Settings) -> None:
    with session_scope(tiny_room) as session:
        with pytest.raises(InputError, match="no episode 'ep9'"):
            build_contexts(tiny_room, session, "tiny", "ep9", _analyst_report([]))
        with pytest.raises(InputError, match="no series"):
            build_contexts(tiny_room, session, "nope", "ep1", _analyst_report([]))
        rows = session.exec(select(Proposal)).all()
    assert len(rows) == 1  # reading contexts writes nothing


def test_a_bare_episode_gets_no_empty_templates() -> None:
    # Two shots with no action, mood or lines; no twist, payoff or beats.
    bare = {"premise": "Theo claims he has never met her.", "hook": "Theo is soaked and bleeding."}
    ctx = context(
        ALL_KINDS,
        brief=bare,
        manifest=manifest(
            [{"shot_id": "s1", "duration_s": 12.0}, {"shot_id": "s2", "duration_s": 8.0}]
        ),
        comments=[],
        themes=[],
        series=series(constraints=Constraints(runtime_s=(10, 90))),
    )
    proposals = OfflineWriter().propose(ctx)
    # Nothing to cut to in a hook rewrite; everything else still has something to say.
    assert "hook_rewrite" not in [p.kind for p in proposals]
    for proposal, verdict in zip(
        proposals, brand_guard.check_all(proposals, guard(ctx)), strict=True
    ):
        assert verdict.passed, (proposal.kind, verdict.reasons)


# --- the data first -------------------------------------------------------------------------


def _variants(p_best: float, starts: int) -> list[VariantResult]:
    def one(vid: str, retention: float, p: float) -> VariantResult:
        return VariantResult(
            variant_id=vid, impressions=starts * 20, clicks=starts, ctr=0.05, starts=starts,
            retention_10s=retention, avg_view_s=12.0, p_best_ctr=0.5, p_best_retention=p,
            watch_time_share=0.5,
        )  # fmt: skip

    return [one("v1-thumb-fog", 0.09, 1 - p_best), one("v3-hook-lockbox-first", 0.19, p_best)]


def test_a_variant_that_has_won_is_promoted_first_with_its_numbers() -> None:
    ctx = context(["hook_failure"], report=report(["hook_failure"], variants=_variants(0.97, 400)))
    proposals = OfflineWriter().propose(ctx)
    assert [p.kind for p in proposals] == ["promote_variant", "hook_rewrite"]
    promote = proposals[0]
    assert [(c.path, c.after) for c in promote.changes] == [
        ("brief.default_variant", "v3-hook-lockbox-first")
    ]
    assert "19%" in promote.summary and "9%" in promote.summary and "97%" in promote.summary
    assert brand_guard.check(promote, guard(ctx)).passed
    # The hook rewrite builds on what the variant shows: it opens on the lockbox.
    hook = proposals[1]
    assert "v3-hook-lockbox-first" in hook.rationale


@pytest.mark.parametrize(("p_best", "starts"), [(0.80, 400), (0.99, 12)])
def test_no_promotion_without_a_clear_winner_at_enough_traffic(p_best: float, starts: int) -> None:
    ctx = context(
        ["hook_failure"], report=report(["hook_failure"], variants=_variants(p_best, starts))
    )
    assert "promote_variant" not in [p.kind for p in OfflineWriter().propose(ctx)]
