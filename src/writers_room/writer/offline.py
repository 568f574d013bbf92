"""The offline writer: the diagnosis table of docs/METHOD.md as concrete, deterministic edits.

It reads like a competent junior writer who knows the method and nothing else: for each
finding of the analyst it applies one rule, edits the brief and shot manifest the way the
rule says, and says plainly that a rule did it. It only reuses words already in the
series bible, the brief in force, the shot manifest and (for headlines) viewers' own
comments, so it never invents a character; it keeps locked beats and the runtime window.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

from writers_room.brief.proposals import BriefChangeProposal, FieldChange
from writers_room.brief.report import Finding
from writers_room.guardrails.text import shorten
from writers_room.writer.context import IdeationContext
from writers_room.writer.writing import (
    CONDENSE,
    SPEAKER_PREFIX,
    TEASER_S,
    WORDS_PER_S,
    Writing,
    and_then,
    first_sentence,
    fit_dialogue,
    frame_text,
    pct,
    round_half,
    rule_rationale,
    spoken_line,
)

__all__ = ["OfflineWriter"]

RULE_ORDER = ("hook_failure", "hook_packaging", "pacing", "low_participation", "resonance")


def _hook_failure(w: Writing, finding: Finding) -> BriefChangeProposal | None:
    m = w.report.metrics
    target = w.report.targets.get("retention_10s", 0.5)
    strongest = w.strongest()
    new_hook: str
    changes: list[FieldChange] = []
    summary_parts: list[str] = []
    if strongest is not None:
        source = w.shots[strongest]
        line = spoken_line(str(source.get("dialogue", "")))
        action = w.describe(source)
        said = f" ('{line}')" if line and w.acceptable(line) else ""
        new_hook = w.clean(
            f"Cold open, 0-3 s: {action}{said}. Then rewind to how it started."
            if float(source["start_s"]) > 6
            else f"Start on the conflict, 0-3 s: {action}{said}."
        )
        flash_forward = float(source["start_s"]) > 6
        body = copy.deepcopy(w.shots)
        if flash_forward:
            # A 2-3 s flash-forward of the conflict, then the episode as it was.
            teaser_s = 2.0 if w.tight_runtime else min(TEASER_S, float(source["duration_s"]))
            opening = copy.deepcopy(source)
            opening_id = f"{source['shot_id']}-cold-open"
            while any(s["shot_id"] == opening_id for s in w.shots):
                opening_id += "-x"
            opening.update(shot_id=opening_id, duration_s=teaser_s)
        else:
            # The conflict is only seconds in: play it first instead of repeating it.
            opening = body.pop(strongest)
        # The slow run at the top is what viewers swipe away from: condense it, giving
        # seconds back (last shot first) if that would take the runtime under the minimum.
        slow: list[tuple[dict[str, Any], float, float]] = []
        for shot in body:
            if w.intensity(shot) > 1.5 or w.is_locked(shot) or float(shot["start_s"]) >= 15:
                break
            shorter = round_half(float(shot["duration_s"]) * CONDENSE)
            if shorter < float(shot["duration_s"]):
                slow.append((shot, float(shot["duration_s"]), shorter))
                shot["duration_s"] = shorter
        new_shots = w.retime([opening, *body])
        runtime = sum(float(s["duration_s"]) for s in new_shots)
        while slow and runtime < w.low:
            shot, original, _ = slow.pop()
            shot["duration_s"] = original
            new_shots = w.retime([opening, *body])
            runtime = sum(float(s["duration_s"]) for s in new_shots)
        if not w.within_runtime(runtime):
            new_shots = []  # no cut of this opening fits the series' runtime window
        condensed = [
            f"{shot['shot_id']} {original:g}→{short:g} s" for shot, original, short in slow
        ]
        if new_shots:
            changes += w.shot_changes(new_shots)
            how = (
                f"Open on a {opening['duration_s']:g}-second flash-forward of {source['shot_id']}"
                if flash_forward
                else f"Move {source['shot_id']} to the top"
            )
            summary_parts.append(
                f"{how} ({shorten(action, 70)})"
                + (f", condense the slow opening ({', '.join(condensed)})" if condensed else "")
                + (f"; runtime {w.runtime:g}→{runtime:g} s." if runtime != w.runtime else ".")
            )
        opener = w.beats[0] if w.beats else None
        moment = w.beat_of(source)
        if opener and opener not in w.locked and moment and moment != opener:
            changes.insert(
                0,
                FieldChange(
                    path="brief.beats[0]",
                    before=opener,
                    after=w.clean(f"cold open on {moment}; {opener}, cut short"),
                ),
            )
    else:
        twist = w.clean(str(w.brief.get("twist", "")))
        if not twist:
            return None
        new_hook = w.clean(f"Open on the turn: {first_sentence(twist, 14)}")
    if new_hook == w.brief.get("hook"):
        return None
    changes.insert(0, FieldChange(path="brief.hook", before=w.brief.get("hook"), after=new_hook))

    headlines = []
    phrase = w.comment_phrase()
    if phrase:
        headlines.append(
            f'headline: "{phrase[1]}" — viewers on {w.ctx.episode_title or w.ctx.episode_id}'
        )
    for shot in sorted(w.shots, key=lambda s: -w.intensity(s)):
        for candidate in (spoken_line(str(shot.get("dialogue", ""))), str(shot.get("caption", ""))):
            candidate = w.clean(candidate)
            if len(candidate.split()) >= 2 and w.acceptable(candidate):
                headlines.append(f'headline: "{candidate}"')
    hook_line = first_sentence(new_hook.split(": ", 1)[-1], 9)
    headlines.append(f"headline: {hook_line}")
    thumbnails = []
    hold = w.best_hold()
    if hold is not None and w.describe(w.shots[hold]):
        shot = w.shots[hold]
        loss = w.shot_loss(hold) or 0.0
        thumbnails.append(
            f"thumbnail: {frame_text(w, shot)} ({shot['shot_id']}: loses the fewest viewers, "
            f"{loss:.1f} pp/s)"
        )
    if strongest is not None and strongest != hold:
        shot = w.shots[strongest]
        thumbnails.append(
            f"thumbnail: {frame_text(w, shot)} ({shot['shot_id']}, the cold-open moment)"
        )
    assets = list(dict.fromkeys(headlines))[:3] + thumbnails

    r8 = m.retention_8s
    summary = (
        f"Hook failure: {pct(m.retention_10s)} are still watching at 10 s "
        f"(target {pct(target)}), {pct(r8)} at 8 s, CTR {m.ctr * 100:.1f}%. "
        + (" ".join(summary_parts) + " " if summary_parts else "")
        + f"New hook: {shorten(new_hook, 140)} Replace the thumbnail and test "
        f"{min(3, len(headlines))} headlines."
    )
    return BriefChangeProposal(
        episode_id=w.ctx.episode_id,
        kind="hook_rewrite",
        summary=shorten(summary, 600),
        target=f"retention_10s {pct(m.retention_10s)} vs {pct(target)}; ctr {m.ctr * 100:.1f}%",
        expected_effect=(
            f"10-s retention from {pct(m.retention_10s)} toward {pct(target)}: the conflict "
            "is on screen before the 3-second swipe"
        ),
        changes=changes,
        evidence=w.evidence(
            finding, ("ctr", "retention_3s", "retention_8s", "retention_10s", "score"), []
        ),
        assets=assets,
        rationale=rule_rationale(
            "hook-failure",
            "CTR low and 8-s retention < 35% → replace thumbnail, rewrite opening beat",
            "The cold-open shot is the most intense by mood and action; thumbnails come from "
            "the shot that holds viewers best.",
            w,
        ),
    )


def _hook_packaging(w: Writing, finding: Finding) -> BriefChangeProposal | None:
    m = w.report.metrics
    if not w.shots:
        return None
    first = w.shots[0]
    strongest = w.strongest(start=0)
    captions = []
    for shot in sorted(w.shots, key=lambda s: -w.intensity(s)):
        for candidate in (str(shot.get("caption", "")), spoken_line(str(shot.get("dialogue", "")))):
            candidate = w.clean(candidate)
            if 3 <= len(candidate.split()) <= 8 and w.acceptable(candidate):
                captions.append(candidate)
    captions = list(dict.fromkeys(captions))
    new_caption = next(
        (c for c in captions if c != first.get("caption") and len(c.split()) >= 3), None
    )
    changes: list[FieldChange] = []
    if new_caption:
        changes.append(
            FieldChange(
                path="manifest.shots[0].caption", before=first.get("caption", ""), after=new_caption
            )
        )
    framing = str(first.get("framing", ""))
    if "close" not in framing:
        changes.append(
            FieldChange(path="manifest.shots[0].framing", before=framing, after="close-up")
        )
    hook = str(w.brief.get("hook", ""))
    first_frame = (new_caption or w.describe(first)).rstrip(".!")
    if first_frame:
        new_hook = w.clean(
            and_then(hook, f"First frame: a close-up with the caption '{first_frame}'.")
        )
        changes.insert(0, FieldChange(path="brief.hook", before=hook, after=new_hook))
    if not changes:
        return None

    headlines = [f'headline: "{c}"' for c in captions[:4]]
    phrase = w.comment_phrase()
    if phrase:
        headlines.append(f'headline: "{phrase[1]}" — viewers')
    twist = w.clean(str(w.brief.get("twist", "")))
    if twist and w.acceptable(twist):
        headlines.append(f"headline: {first_sentence(twist, 9)}")
    if w.ctx.episode_title:
        headlines.append(f"headline: {w.ctx.episode_title}: {first_sentence(w.clean(hook), 8)}")
    headlines = list(dict.fromkeys(headlines))[:8]
    # A bare brief still gets three lines to test: its own premise, hook and payoff.
    for spare in ("premise", "hook", "payoff"):
        text = w.clean(str(w.brief.get(spare, "")))
        if len(headlines) < 3 and text and w.acceptable(text):
            headlines = list(dict.fromkeys([*headlines, f"headline: {first_sentence(text, 9)}"]))
    thumbs: list[str] = []
    for index in dict.fromkeys(i for i in (w.best_hold(), strongest, 0) if i is not None):
        shot = w.shots[index]
        if not w.describe(shot):
            continue
        thumbs.append(f"thumbnail: {frame_text(w, shot)} ({shot['shot_id']})")
    thumbs = thumbs[:3]
    ctr_target = w.report.targets.get("ctr", 0.0)
    summary = (
        f"Packaging: CTR is {m.ctr * 100:.1f}%"
        + (f" against a cohort target of {ctr_target * 100:.1f}%" if ctr_target else "")
        + f" while {pct(m.retention_10s)} still watch at 10 s, so the episode holds viewers "
        "but the card does not win the click. New first frame"
        + (f" captioned '{new_caption}'" if new_caption else "")
        + (f", {len(thumbs)} thumbnails" if thumbs else "")
        + f" and {len(headlines)} headlines to test."
    )
    return BriefChangeProposal(
        episode_id=w.ctx.episode_id,
        kind="packaging",
        summary=shorten(summary, 600),
        target=f"ctr {m.ctr * 100:.1f}%" + (f" vs {ctr_target * 100:.1f}%" if ctr_target else ""),
        expected_effect="CTR up toward the cohort with 10-s retention unchanged",
        changes=changes,
        evidence=w.evidence(finding, ("ctr", "impressions", "retention_10s", "score"), []),
        assets=headlines + thumbs,
        rationale=rule_rationale(
            "hook-packaging",
            "CTR low, retention fine → new first frame, 2-3 thumbnails, 3-8 headlines",
            "Headlines reuse the episode's own captions and lines and the most-liked viewer "
            "phrase.",
            w,
        ),
    )


def _pacing(w: Writing, finding: Finding) -> BriefChangeProposal | None:
    cliff = w.report.cliff
    if cliff is None or not w.shots:
        return None
    index = w.index_of(finding.shot_id or cliff.shot_id)
    if index is None:
        index = next(
            (
                i
                for i, s in enumerate(w.shots)
                if float(s["start_s"])
                <= cliff.second
                < float(s["start_s"]) + float(s["duration_s"])
            ),
            len(w.shots) - 1,
        )
    new_shots = copy.deepcopy(w.shots)

    def cut(i: int, keep: float) -> tuple[int, float, str | None] | None:
        # Shorter, but long enough for the whole sentences of the line that stay.
        shot = new_shots[i]
        duration = round_half(float(shot["duration_s"]) * keep)
        dialogue = str(shot.get("dialogue", ""))
        line = None
        if len(dialogue.split()) > duration * WORDS_PER_S:
            line = w.clean(fit_dialogue(dialogue, duration))
            spoken = len(SPEAKER_PREFIX.sub("", line).split())
            duration = max(duration, round_half(spoken / WORDS_PER_S))
            line = line if line and line != dialogue else None
        if duration >= float(shot["duration_s"]):
            return None
        return i, duration, line

    cuts: list[tuple[int, float, str | None]] = []
    if not w.is_locked(new_shots[index]) and (trim := cut(index, 0.5)):
        cuts.append(trim)
    key = None
    for later in range(index + 1, len(new_shots)):
        if w.intensity(new_shots[later]) >= 2.5:
            key = later
            break
        if not w.is_locked(new_shots[later]) and (trim := cut(later, CONDENSE)):
            cuts.append(trim)
    # Never below the series' minimum: give seconds back, last cut first.
    floor = w.low + (1.0 if w.tight_runtime else 0.0)
    while cuts:
        saved = sum(float(new_shots[i]["duration_s"]) - d for i, d, _ in cuts)
        if w.runtime - saved >= floor:
            break
        cuts.pop()
    if not cuts:
        return None
    changes: list[FieldChange] = []
    trimmed_lines = []
    for i, duration, line in cuts:
        shot = new_shots[i]
        changes.append(
            FieldChange(
                path=f"manifest.shots[{i}].duration_s", before=shot["duration_s"], after=duration
            )
        )
        if line is not None:
            changes.append(
                FieldChange(
                    path=f"manifest.shots[{i}].dialogue", before=shot["dialogue"], after=line
                )
            )
            trimmed_lines.append(shot["shot_id"])
        shot["duration_s"] = duration
    w.retime(new_shots)
    saved = w.runtime - sum(float(s["duration_s"]) for s in new_shots)
    key_text = ""
    if key is not None:
        before = float(w.shots[key]["start_s"])
        after = float(new_shots[key]["start_s"])
        key_text = (
            f" The key action ({w.shots[key]['shot_id']}: "
            f"{shorten(w.clean(str(w.shots[key].get('action', ''))), 60)}) now lands at "
            f"{after:g} s instead of {before:g} s."
        )

    def first_15(shots: list[dict[str, Any]]) -> str:
        parts = []
        for shot in shots:
            if float(shot["start_s"]) >= 15:
                break
            what = (
                shot.get("caption")
                or spoken_line(str(shot.get("dialogue", "")))
                or shot.get("action", "")
                or f"shot {shot['shot_id']}"
            )
            parts.append(f"{float(shot['start_s']):g}s {shorten(w.clean(str(what)), 48)}")
        return "; ".join(parts)

    # Three different openings to test; each is the first 15 s of a concrete shot order.
    options = [("this cut", new_shots)]
    if key is not None:
        teaser = dict(copy.deepcopy(new_shots[key]), duration_s=2.0)
        options.append(("key action first", [teaser, *copy.deepcopy(new_shots)]))
    if not w.is_locked(new_shots[index]):
        card = dict(copy.deepcopy(new_shots[index]), duration_s=2.0, dialogue="")
        rest = [s for i, s in enumerate(copy.deepcopy(new_shots)) if i != index]
        options.append(
            (
                f"{w.shots[index]['shot_id']} as a 2-s caption card",
                rest[:index] + [card] + rest[index:],
            )
        )
    ending = copy.deepcopy(new_shots[-1])
    options.append(
        ("cliffhanger line first", [dict(ending, duration_s=2.0), *copy.deepcopy(new_shots)])
    )
    scripts: list[str] = []
    seen_scripts: set[str] = set()
    for label, order in options:
        script = first_15(w.retime(order))
        if script not in seen_scripts and len(scripts) < 3:
            seen_scripts.add(script)
            scripts.append(f"alt script {'ABC'[len(scripts)]} (0-15 s, {label}): {script}")
    cut_list = ", ".join(
        f"{w.shots[i]['shot_id']} {w.shots[i]['duration_s']:g}→{d:g} s" for i, d, _ in cuts
    )
    summary = (
        f"Pacing: viewers drop fastest at {cliff.second} s ({cliff.drop_pct:.1f} points over 3 s), "
        f"during {w.shots[index]['shot_id']}"
        + (
            f" ({shorten(w.clean(str(w.shots[index].get('action', ''))), 60)})"
            if w.shots[index].get("action")
            else ""
        )
        + f". Second cut: shorten it and condense the exposition after it ({cut_list}), "
        f"{saved:g} s shorter.{key_text} Three alternate scripts for the first 15 s attached."
    )
    return BriefChangeProposal(
        episode_id=w.ctx.episode_id,
        kind="pacing_cut",
        summary=shorten(summary, 600),
        target=f"cliff at {cliff.second} s: {cliff.drop_pct:.1f} points lost"
        + (f" in {cliff.shot_id}" if cliff.shot_id else ""),
        expected_effect=(
            f"a flatter curve through {cliff.second} s and completion up from "
            f"{pct(w.report.metrics.completion)}"
        ),
        changes=changes,
        evidence=w.evidence(
            finding, ("retention_10s", "completion", "cliff_second", "cliff_drop_pct"), []
        ),
        assets=scripts,
        rationale=rule_rationale(
            "pacing",
            "CTR fine, sharp drop between 6-20 s → second cut with key action earlier, "
            "condense exposition, 3 alternate scripts for the first 15 s",
            "Shots mapped to locked beats are left as they are."
            + (f" Dialogue trimmed to fit in {', '.join(trimmed_lines)}." if trimmed_lines else ""),
            w,
        ),
    )


def _question(w: Writing) -> str:
    names = w.names_in_episode()
    options = []
    if len(names) >= 2:
        options.append(f"Who do you believe, {names[0]} or {names[1]}?")
    if names:
        options.append(f"What would you do in {names[0]}'s place?")
    options.append("What do you think happens next?")
    return options[min(w.variant, len(options) - 1)]


def _low_participation(w: Writing, finding: Finding) -> BriefChangeProposal | None:
    if not w.shots:
        return None
    question = w.clean(_question(w))
    payoff = str(w.brief.get("payoff", ""))
    new_payoff = w.clean(and_then(payoff, f"End on a direct question to viewers: {question}"))
    last = len(w.shots) - 1
    changes = [
        FieldChange(path="brief.payoff", before=payoff, after=new_payoff),
        FieldChange(
            path=f"manifest.shots[{last}].caption",
            before=w.shots[last].get("caption", ""),
            after=question,
        ),
    ]
    names = w.names_in_episode()
    assets = [
        f"pinned comment: {question} Tell us below.",
        f"end card: {question}",
    ]
    if len(names) >= 2:
        assets.append(f"poll: {names[0]} or {names[1]}?")
    audience = w.report.audience
    prefer = [q.comment_id for q in audience.question_examples] if audience else []
    m = w.report.metrics
    summary = (
        f"Low participation: {pct(m.retention_10s)} watch past 10 s but only "
        f"{m.comments_per_view * 1000:.1f} comments per 1,000 views. End on a question that "
        f"invites an answer ('{question}') in the payoff and on the last shot's caption, and "
        "pin it as the first comment."
    )
    return BriefChangeProposal(
        episode_id=w.ctx.episode_id,
        kind="participation",
        summary=shorten(summary, 600),
        target=f"comments_per_view {m.comments_per_view:.4f}",
        expected_effect="more comments and replies per view; the cliffhanger gets talked about",
        changes=changes,
        evidence=w.evidence(
            finding, ("comments_per_view", "engagement_per_view", "retention_10s"), prefer
        ),
        assets=assets,
        rationale=rule_rationale(
            "low-participation",
            "retention fine, few comments → open questions, cliffhangers that invite reaction",
            "The question names the characters with the most screen time.",
            w,
        ),
    )


def _resonance(w: Writing, finding: Finding) -> BriefChangeProposal | None:
    payoff = str(w.brief.get("payoff", ""))
    theme = w.resonant_theme()
    terms = w.theme_terms(theme)
    names = w.names_in_episode()
    pair = " and ".join(names[:2]) if names else "the leads"
    thread = f" ({', '.join(terms)})" if terms else ""
    stinger = (
        f"After it, a 3-second stinger that reopens the thread viewers keep sharing{thread}."
        if w.variant == 0
        else f"After it, a 3-second stinger: {pair}, the morning after, one unanswered line."
    )
    new_payoff = w.clean(and_then(payoff, stinger))
    strongest = w.strongest(start=0)
    bts = (
        f"behind-the-scenes follow-up: 30-s making-of on {w.shots[strongest]['shot_id']} "
        f"({shorten(w.describe(w.shots[strongest]), 60)})"
        if strongest is not None
        else "behind-the-scenes follow-up: 30-s making-of on the episode's last scene"
    )
    title = w.ctx.episode_title or w.ctx.episode_id
    premise_clause = first_sentence(w.clean(w.ctx.series.premise), 14)
    assets = [
        f"sequel hook: {pair} pick up where '{title}' leaves off{thread}",
        bts,
        f"cross-promotion copy: If '{title}' got you, start {w.ctx.series.title or 'the series'} "
        f"from the top: {premise_clause}",
    ]
    m = w.report.metrics
    hold = f"{pct(m.retention_10s)} at 10 s, {pct(m.completion)} completion"
    summary = (
        f"Resonance: {hold}, {m.shares_per_view * 1000:.1f} shares and "
        f"{m.saves_per_view * 1000:.1f} saves per 1,000 views. Double down: a sequel stinger "
        "after the payoff, a behind-the-scenes follow-up and cross-promotion copy."
    )
    theme_ids = list(theme.examples) if theme is not None else []
    return BriefChangeProposal(
        episode_id=w.ctx.episode_id,
        kind="sequel",
        summary=shorten(summary, 600),
        target=f"shares_per_view {m.shares_per_view:.4f}, saves_per_view {m.saves_per_view:.4f}",
        expected_effect="carry this episode's audience into the next one; more follows",
        changes=[FieldChange(path="brief.payoff", before=payoff, after=new_payoff)],
        evidence=w.evidence(
            finding, ("shares_per_view", "saves_per_view", "completion", "retention_10s"), theme_ids
        ),
        assets=assets,
        rationale=rule_rationale(
            "resonance",
            "strong retention + shares/saves spike → sequel hooks, behind-the-scenes "
            "follow-up, cross-promotion copy",
            "The stinger points at the warmest comment theme on this episode (brigades and "
            "complaints left out).",
            w,
        ),
    )


_RULES: dict[str, Callable[[Writing, Finding], BriefChangeProposal | None]] = {
    "hook_failure": _hook_failure,
    "hook_packaging": _hook_packaging,
    "pacing": _pacing,
    "low_participation": _low_participation,
    "resonance": _resonance,
}


class OfflineWriter:
    """The default ideator: one rule per diagnosis, deterministic, honest about it.

    Same context in, same proposals out. Each proposal's ``rationale`` names the rule
    that wrote it.
    """

    name = "offline"

    def propose(self, ctx: IdeationContext) -> list[BriefChangeProposal]:
        """Write one proposal per finding of the episode's report (method order)."""
        writing = Writing(ctx)
        findings: dict[str, Finding] = {f.kind: f for f in reversed(ctx.report.findings)}
        proposals = []
        for kind in RULE_ORDER:
            finding = findings.get(kind)
            if finding is None:
                continue
            proposal = _RULES[kind](writing, finding)
            if proposal is not None:
                proposals.append(proposal)
        return proposals
