"""The LLM writer through the room's guard and revision loop, with a scripted model.

Round 1 the model writes four faulty proposals — a headline that spoils the twist, a
pacing cut that cuts the twist's line, a headline lifted from a viewer comment, a cut that
contradicts a writer's note — and round 2 fixes them (or leaves one out). The loop is the
window-review graph's own ``ideate`` and ``brand_guard`` steps; only the database read of
the contexts is replaced by the in-memory sample episode, and the model is a fake at the
network edge.
"""

from __future__ import annotations

import re
from types import SimpleNamespace
from typing import Any

import pytest

from ideation_helpers import (
    COMMENTS,
    EPISODE,
    RecordingFakeChatModel,
    context,
    guard,
    reply,
    report,
)
from writers_room.brief.proposals import BriefChangeProposal
from writers_room.brief.report import Finding, VariantResult
from writers_room.brief.script import script_lines
from writers_room.config import Settings
from writers_room.graphs.window_review import graph as review
from writers_room.graphs.window_review.state import ReviewContext
from writers_room.guardrails import brand_guard
from writers_room.guardrails.brand_guard import GuardVerdict, RejectedIdea
from writers_room.writer.context import IdeationContext, PastDecision, known_numbers
from writers_room.writer.ideator import LLMIdeator
from writers_room.writer.prompts import ideation_messages

NOTE = 'Keep Theo\'s line "The Reyes Group filed its option on the parcels." It pays off in ep05.'
REJECTED_SUMMARY = "Cut the harbor lease flashback out of the episode entirely."
REJECTED_REASON = "the lease is Theo's motive; the flashback stays, only shorter"

# What the analyst writes: sentences with the numbers, and evidence under internal names.
HOOK_FAILURE = Finding(
    kind="hook_failure",
    problem="hook failure",
    proposal="replace thumbnail, rewrite opening beat",
    summary="CTR 2.5% is 0.48x the cohort's 5.2% and only 31% of starters are still "
    "watching at 8 s (< 35%): the hook does not land.",
    evidence={
        "ctr": 0.025,
        "cohort_ctr": 0.052,
        "ctr_ratio": 0.48,
        "ctr_low_below_ratio": 0.6,
        "retention_8s": 0.31,
        "retention_10s_upper_bound": 0.33,
        "retention_8s_below": 0.35,
    },
    baseline="cohort ep01-ep02",
    comment_ids=["c2"],
)
PACING = Finding(
    kind="pacing",
    problem="pacing (scenario B)",
    proposal="second cut with key action earlier, condense exposition",
    summary="Retention falls 14.5 points around 18 s during shot s04 (5.0 pp/s, 4.5x the "
    "cohort's 1.1 pp/s at that second) while CTR is fine (0.98x).",
    evidence={
        "cliff_second": 18.0,
        "cliff_drop_pct": 14.5,
        "cliff_loss_pp_per_s": 5.0,
        "cohort_loss_pp_per_s": 1.1,
        "loss_needed_pp_per_s": 2.2,
        "min_z": 3.0,
    },
    baseline="cohort ep01-ep02",
    shot_id="s04",
    comment_ids=["c4"],
)
VARIANTS = [
    VariantResult(variant_id="v1-fog", impressions=10000, clicks=180, ctr=0.018, starts=180,
                  retention_10s=0.25, avg_view_s=12.0, p_best_ctr=0.02, p_best_retention=0.3,
                  watch_time_share=0.4),
    VariantResult(variant_id="v2-storm", impressions=10000, clicks=410, ctr=0.041, starts=320,
                  retention_10s=0.3, avg_view_s=15.0, p_best_ctr=0.98, p_best_retention=0.7,
                  watch_time_share=0.6),
]  # fmt: skip


def episode() -> IdeationContext:
    """The sample episode with a real-looking report, a writer's note and a rejected idea."""
    ctx = context(
        report=report(
            [], findings=[HOOK_FAILURE, PACING], variants=VARIANTS, winner="v2-storm",
            variant_verdict="v2-storm wins on CTR (P(best) 98%)",
        ),
        notes=[NOTE],
        past_decisions=[
            PastDecision(proposal_id="p-old", kind="pacing_cut", summary=REJECTED_SUMMARY,
                         status="rejected", reason=REJECTED_REASON)
        ],
    )  # fmt: skip
    return ctx


REJECTED = [RejectedIdea(proposal_id="p-old", summary=REJECTED_SUMMARY, reason=REJECTED_REASON)]

FLASHBACK = (
    "THEO (V.O.): Your father came to me about the harbor lease. The Reyes Group filed its "
    "option on the parcels."
)
HOOK = "A second envelope hits the diner counter and Mara's coffee goes cold."
HOOKS = [
    HOOK,
    "June's hand slams a second envelope flat on the counter.",
    "Mail came twice this week, and only Mara's name is on it.",
]


def proposal(kind: str, summary: str, changes: list[dict[str, Any]], **extra: Any) -> dict:
    base: dict[str, Any] = {
        "kind": kind,
        "summary": summary,
        "target": "10-s retention: 28% still watching against a 50% target",
        "expected_effect": "more viewers still watching at 10 s",
        "changes": changes,
        "evidence": {"findings": ["hook_failure"], "comment_ids": ["c2"]},
        "rationale": "Only 31% are still watching at 8 s; c2 says the opening is slow.",
    }
    base.update(extra)
    return base


def packaging(headlines: list[str]) -> dict:
    return proposal(
        "packaging",
        "A title and headlines that sell the second letter, not the fog.",
        [{"path": "brief.title", "after": "The Second Letter"}],
        choices=[
            {"slot": "title", "path": "brief.title",
             "options": ["The Second Letter", "Return to Sender", "Mail Came Twice"]},
            {"slot": "headline", "path": None, "options": headlines},
        ],
    )  # fmt: skip


def pacing_cut(*, cut_twist_line: bool) -> dict:
    changes: list[dict[str, Any]] = [
        {"path": "manifest.shots[3].dialogue", "after": FLASHBACK},
        {"path": "manifest.shots[3].duration_s", "after": 5.0},
    ]
    if cut_twist_line:
        changes.append({"path": "manifest.shots[5].dialogue", "after": ""})
    return proposal(
        "pacing_cut",
        "Condense the lease flashback to two sentences so the photos land before 30 s.",
        changes,
        target="14.5 points lost around 18 s, in the flashback",
        evidence={"findings": ["pacing"], "comment_ids": ["c4"]},
        rationale="Retention falls 14.5 points around 18 s during shot s04; c4 calls the "
        "flashback a lecture.",
    )


def hook_rewrite(headlines: list[str]) -> dict:
    return proposal(
        "hook_rewrite",
        "Open on the second envelope hitting the counter instead of the empty harbor.",
        [
            {"path": "brief.hook", "after": HOOK},
            {"path": "manifest.shots[0].duration_s", "after": 3.0},
        ],
        choices=[
            {"slot": "hook", "path": "brief.hook", "options": HOOKS},
            {"slot": "headline", "path": None, "options": headlines},
        ],
    )


def note_breaker() -> dict:
    return proposal(
        "pacing_cut",
        "Trim the flashback to the council vote so the exposition is one breath.",
        [
            {"path": "manifest.shots[3].dialogue",
             "after": "THEO (V.O.): Your father came to me about the harbor lease. The "
                      "council had voted on the rezoning in March."},
            {"path": "manifest.shots[3].duration_s", "after": 5.0},
        ],
        evidence={"findings": ["pacing"], "comment_ids": ["c4"]},
    )  # fmt: skip


SPOILER = "Theo and Walt fought on the dock the night Dad died"
# c1 says "Theo shouting on the dock gave me chills".
LIFTED = "Theo shouting on the dock gave us chills"
ROUND_1 = [
    packaging([SPOILER, "Mara opens the second letter"]),
    pacing_cut(cut_twist_line=True),
    hook_rewrite([LIFTED, "Mail came twice."]),
    note_breaker(),
]
ROUND_2 = [
    packaging(["Mara opens the second letter", "Who writes to a drowned man's daughter?"]),
    pacing_cut(cut_twist_line=False),
    hook_rewrite(["Mail came twice.", "The second envelope has no stamp."]),
]
FAULTS = ["spoiler", "story_cut", "copied_comment", "notes"]


Checked = list[tuple[int, BriefChangeProposal, GuardVerdict]]
"""(round, proposal, verdict) for every proposal the guard saw."""


def run_review(
    monkeypatch: pytest.MonkeyPatch, settings: Settings, rounds: list[list[dict]]
) -> tuple[dict[str, Any], RecordingFakeChatModel, Checked]:
    """The graph's ideate ⇄ brand_guard loop on the sample episode until it moves on."""
    base = episode()

    def contexts(settings, session, series_id, episode_id, report, revision_feedback=(), **kw):  # type: ignore[no-untyped-def]
        ictx = base.model_copy(update={"revision_feedback": list(revision_feedback)})
        return ictx, guard(ictx, rejected=REJECTED)

    monkeypatch.setattr(review, "build_contexts", contexts)
    model = RecordingFakeChatModel(messages=iter([reply({"proposals": r}) for r in rounds]))
    checked: Checked = []

    def check(proposal: BriefChangeProposal, ctx: Any) -> GuardVerdict:
        verdict = brand_guard.check(proposal, ctx)
        checked.append((len(model.calls), proposal, verdict))
        return verdict

    runtime = SimpleNamespace(
        context=ReviewContext(settings=settings, ideator=LLMIdeator(model), guard=check)
    )
    state: dict[str, Any] = {
        "series_id": "tides",
        "window_end": "2026-11-18T00:00:00+00:00",
        "report": base.report.model_dump(mode="json"),
        "episodes": [EPISODE],
        "revisions": 0,
        "candidates": {},
        "dropped": [],
    }
    while True:
        state.update(review.ideate(state, runtime))  # type: ignore[arg-type]
        out = review.brand_guard(state, runtime)  # type: ignore[arg-type]
        state["dropped"] += out.pop("dropped", [])
        state.update(out)
        if review.route_after_guard(state) == "persist":  # type: ignore[arg-type]
            return state, model, checked


def human(messages: list[Any]) -> str:
    return "\n".join(str(m.content) for m in messages if m.type == "human")


def test_round_one_faults_are_refused_and_round_two_fixes_them(
    monkeypatch: pytest.MonkeyPatch, sqlite_settings: Settings
) -> None:
    state, model, checked = run_review(monkeypatch, sqlite_settings, [ROUND_1, ROUND_2])
    assert len(model.calls) == 2

    # Round 1: each fault refused by its check, with a reason naming what and where.
    first = [(p, v) for n, p, v in checked if n == 1]
    assert len(first) == 4
    for (proposal, verdict), fault in zip(first, FAULTS, strict=True):
        assert not verdict.passed, (fault, proposal.summary)
        assert verdict.checks[fault] is False, (fault, verdict.reasons)
        assert any(r.startswith(f"{fault}: ") for r in verdict.reasons), verdict.reasons
    reasons = {fault: [r for r in v.reasons if r.startswith(fault)] for (_, v), fault in
               zip(first, FAULTS, strict=True)}  # fmt: skip
    assert "Theo and Walt fought" in reasons["spoiler"][0]
    assert "Theo..." in reasons["story_cut"][0] and "twist" in reasons["story_cut"][0]
    assert COMMENTS[0].text in reasons["copied_comment"][0]  # the comment it lifts from
    assert "The Reyes Group filed its option on the parcels." in reasons["notes"][0]

    # Round 2's prompt carries every reason back (inside the fenced guard feedback).
    second_prompt = human(model.calls[1][0])
    feedback = re.search(
        r"<<<BEGIN UNTRUSTED GUARD FEEDBACK (\w+)>>>\n(.*?)\n<<<END UNTRUSTED GUARD FEEDBACK \1>>>",
        second_prompt,
        re.S,
    )
    assert feedback is not None
    for _, verdict in first:
        for reason in verdict.reasons:
            assert reason in feedback.group(2), reason
    assert "GUARD FEEDBACK" not in human(model.calls[0][0])

    # The result: round 2's three proposals, all clean; nothing faulty survives.
    final = [BriefChangeProposal.model_validate(p) for p in state["candidates"][EPISODE]]
    assert [p.kind for p in final] == ["packaging", "pacing_cut", "hook_rewrite"]
    assert all(v.passed for n, _, v in checked if n == 2)
    assert state["dropped"] == [] and state["feedback"] == {}
    texts = [o for p in final for c in p.choices for o in c.options]
    assert SPOILER not in texts and LIFTED not in texts
    cut = final[1]
    assert "manifest.shots[5].dialogue" not in [c.path for c in cut.changes]
    assert cut.evidence.metrics == {k: known_numbers(episode().report)[k]
                                    for k in PACING.evidence}  # fmt: skip
    # The hook choice leads with what the change writes; headlines are copy.
    hook = final[2]
    assert hook.choices[0].options[0] == hook.changes[0].after == HOOK
    assert hook.choices[1].path is None and len(hook.choices[1].options) == 2


def test_a_fault_the_model_keeps_making_is_dropped_with_its_reasons(
    monkeypatch: pytest.MonkeyPatch, sqlite_settings: Settings
) -> None:
    stubborn = [pacing_cut(cut_twist_line=False), note_breaker()]
    state, model, _ = run_review(
        monkeypatch, sqlite_settings, [stubborn] * (review.MAX_REVISIONS + 1)
    )
    assert len(model.calls) == review.MAX_REVISIONS + 1
    (kept,) = state["candidates"][EPISODE]
    assert brand_guard.check(kept, guard(episode(), rejected=REJECTED)).passed
    (dropped,) = state["dropped"]
    assert dropped["episode_id"] == EPISODE
    assert dropped["proposal"]["summary"] == note_breaker()["summary"]
    assert any(r.startswith("notes: ") and NOTE[:40] in r for r in dropped["reasons"])


def test_the_prompt_is_the_whole_script_the_evidence_in_words_and_the_humans() -> None:
    ctx = episode()
    system, user = ideation_messages(ctx, canary="WR-CANARY-0")
    prompt = f"{system.content}\n{user.content}"

    # Every shot, with its time, framing and characters, and every line with its speaker.
    for index, shot in enumerate(ctx.manifest["shots"]):
        start, end = shot["start_s"], shot["start_s"] + shot["duration_s"]
        assert f"shots[{index}] {shot['shot_id']} | {start:g}-{end:g} s | {shot['framing']}" in (
            prompt
        )
        if shot.get("caption"):
            assert f'caption: "{shot["caption"]}"' in prompt
        assert shot["action"] in prompt
    lines = script_lines(ctx.manifest)
    assert len(lines) == 5
    for line in lines:
        assert f"  {line.raw}" in prompt, line.raw
    assert "THEO (V.O.): Your father came to me about the harbor lease." in prompt
    assert "MARA (whispering): Theo..." in prompt
    # The shots that carry the turns are marked, and the twist/payoff rule is stated.
    assert "carries the twist — never cut this shot or its lines" in prompt
    assert (
        "never cut or give away the twist/payoff; never put them in headlines, titles, "
        "thumbnail text or the first caption"
    ) in prompt
    # The bible.
    for character in ctx.series.characters:
        assert f"- {character.name}: {character.description}" in prompt
    assert "Banned terms (never write them): hot mess, babe, insta-love" in prompt
    assert "Rating: PG-13" in prompt and "self-harm, alcohol misuse" in prompt

    # The evidence as sentences, numbers in words; no internal names of the report.
    assert HOOK_FAILURE.summary in prompt and PACING.summary in prompt
    assert "28% still watching at 10 s against a 50% target" in prompt
    assert "2.5% of 20,000 impressions clicked against a 5.2% target" in prompt
    assert "v2-storm: 4.1% click-through on 10,000 impressions" in prompt
    assert "98% chance it has the best click-through" in prompt
    internal = set(known_numbers(ctx.report)) | {k for f in ctx.report.findings
                                                 for k in f.evidence}  # fmt: skip
    for name in sorted(n for n in internal if "_" in n):
        assert name not in prompt, name

    # The writers' note verbatim and binding; the rejected idea with its reason.
    assert f"- {NOTE}" in prompt
    assert "obey each note; a proposal that contradicts a note is refused" in prompt
    assert REJECTED_SUMMARY in prompt and REJECTED_REASON in prompt
    assert "do not propose these again" in prompt
    # Comments only inside their fence; the copy rule and the choices rule are stated.
    outside = re.sub(r"<<<BEGIN UNTRUSTED (.*?) (\w+)>>>.*?<<<END UNTRUSTED \1 \2>>>", "", prompt,
                     flags=re.S)  # fmt: skip
    for comment in COMMENTS:
        assert comment.text in prompt and comment.text not in outside
    assert "5 or more words in a row in common is refused" in prompt
    assert "keep a caption on its speaker's shot" in prompt
    assert "give 2-3 alternatives in `choices`" in prompt
