"""The offline writer: the diagnosis table of docs/METHOD.md turned into writing.

It works like a careful story editor who knows the method and has no model: for each
finding of the analyst it writes the change the method asks for, with the lines to shoot —
a cold open captioned with the episode's own best line, exposition trimmed sentence by
sentence, a stinger with dialogue, titles and headlines to choose between — and says in a
sentence or two why, quoting the numbers and the viewers. Its rules:

- the data first: a variant that has already won is promoted before anything is rewritten;
- the story stays whole: the lines that carry the twist and the payoff are never cut and
  never used as packaging (``brief.script`` finds them);
- viewers' words are evidence, never copy;
- writers' notes are direction: what a note says to keep is kept, to cut is cut, to open
  on is opened on (``guardrails.directives`` reads them).

Deterministic: the same context gives the same proposals.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from writers_room.brief.proposals import BriefChangeProposal, Choice, FieldChange
from writers_room.brief.report import Finding, VariantResult
from writers_room.brief.script import content_words, format_line, parse_dialogue, sentences
from writers_room.guardrails.text import shorten
from writers_room.writer.context import IdeationContext
from writers_room.writer.lines import DENSE, complaint_shots, density, line_candidates, prop_of
from writers_room.writer.writing import (
    CONDENSE,
    MIN_SHOT_S,
    WORDS_PER_S,
    Writing,
    and_then,
    first_sentence,
    pct,
    round_half,
)

__all__ = ["PROMOTE_P_BEST", "PROMOTE_MIN_STARTS", "OfflineWriter"]

RULE_ORDER = ("hook_failure", "hook_packaging", "pacing", "low_participation", "resonance")
PROMOTE_P_BEST = 0.95
PROMOTE_MIN_STARTS = 30  # every variant needs this many starters before one is promoted
COLD_OPEN_S = 3.0
_PACKAGING_COMPLAINT = re.compile(r"\b(title|thumbnail|cover|recap|clickbait)\b", re.I)
_COMPLAINT = re.compile(
    r"\b(slow|boring|bored|lost me|confus\w*|skip\w*|swip\w*|why does it|why is|too much|"
    r"too long|a bit much|almost (?:quit|left|scrolled)|zoned|didn'?t get|filler|recap)\b",
    re.I,
)


# --- shared sentences ---------------------------------------------------------------------


def _quote(text: str) -> str:
    return f"“{shorten(text.strip(), 90)}”"


def _complaints(w: Writing, finding: Finding | None) -> list[str]:
    quotes = [q.text for q in finding.quotes] if finding is not None else []
    quotes += [c.text for c in w.comments if c.episode_id == w.ctx.episode_id]
    return [q for q in dict.fromkeys(quotes) if _COMPLAINT.search(q)]


def _variant_line(w: Writing) -> str:
    """What the variants already say about this episode, in a sentence (or "")."""
    variants = [v for v in w.report.variants if v.starts > 0]
    if len(variants) < 2:
        return ""
    best = max(variants, key=lambda v: (v.retention_10s, v.variant_id))
    worst = min(variants, key=lambda v: (v.retention_10s, v.variant_id))
    if best.retention_10s < 1.5 * max(worst.retention_10s, 1e-9):
        return ""
    ratio = best.retention_10s / max(worst.retention_10s, 1e-9)
    lead = "doubles" if 1.8 <= ratio < 2.5 else f"has {ratio:.1f} times"
    verdict = (
        "enough to call it"
        if best.p_best_retention >= PROMOTE_P_BEST
        else f"{best.p_best_retention * 100:.0f}% likely the best so far, not yet conclusive"
    )
    return (
        f"Variant {best.variant_id} already {lead} the 10-second hold of {worst.variant_id} "
        f"({pct(best.retention_10s)} against {pct(worst.retention_10s)}; {verdict})."
    )


def _rationale(*sentences_: str) -> str:
    text = " ".join(s.strip() for s in sentences_ if s and s.strip())
    return f"{text} (Rule-based offline writer.)"


def _notes_line(w: Writing, applied: list[str]) -> str:
    if not applied:
        return ""
    return "Notes followed: " + "; ".join(applied) + "."


# --- the data first: promote a winning variant ---------------------------------------------


def _winning_variant(w: Writing) -> tuple[VariantResult, str] | None:
    variants = w.report.variants
    if len(variants) < 2 or min(v.starts for v in variants) < PROMOTE_MIN_STARTS:
        return None
    for variant in sorted(variants, key=lambda v: -v.p_best_retention):
        if variant.p_best_retention >= PROMOTE_P_BEST:
            return variant, "retention"
    share = max(variants, key=lambda v: v.watch_time_share)
    if share.p_best_ctr >= PROMOTE_P_BEST and share.watch_time_share >= 0.5:
        return share, "watch time"
    return None


def promote_variant(w: Writing) -> BriefChangeProposal | None:
    """When one variant has won on 10-s retention (or watch time), make it the default."""
    found = _winning_variant(w)
    if found is None:
        return None
    winner, basis = found
    current = str(w.brief.get("default_variant", "") or "")
    if current == winner.variant_id:
        return None
    others = [v for v in w.report.variants if v.variant_id != winner.variant_id]
    runner = max(others, key=lambda v: v.retention_10s)
    numbers = (
        f"{pct(winner.retention_10s)} still watching at 10 seconds against "
        f"{pct(runner.retention_10s)} for {runner.variant_id}, "
        f"{winner.p_best_retention * 100:.0f}% likely the best, over {winner.starts:,} starters"
        if basis == "retention"
        else f"{winner.watch_time_share * 100:.0f}% of the episode's watch time and the best "
        f"click-through ({winner.ctr * 100:.1f}%, {winner.p_best_ctr * 100:.0f}% likely the best)"
    )
    return BriefChangeProposal(
        episode_id=w.ctx.episode_id,
        kind="promote_variant",
        summary=f"Make variant {winner.variant_id} the default: {numbers}.",
        target=f"10-s retention {pct(w.report.metrics.retention_10s)} across variants",
        expected_effect=(
            f"every new viewer gets the opening that holds {pct(winner.retention_10s)} at 10 s"
        ),
        changes=[
            FieldChange(
                path="brief.default_variant", before=current or None, after=winner.variant_id
            )
        ],
        evidence=w.evidence_for(("retention_10s", "ctr", "impressions"), []),
        rationale=_rationale(
            f"The data already answers the question: {numbers}.",
            "Promote it before rewriting anything; the other variants stop being served.",
        ),
    )


# --- hook failure: a cold open on the episode's own best line --------------------------


def _opening_shots(w: Writing, dropped: dict[int, str], avoid: set[int]) -> list[int]:
    """Shots to open cold on, best first: a note's, the leading hook variant's, then the
    most intense shots that give nothing of the twist or payoff away."""
    allowed = [
        i
        for i in range(1, len(w.shots))
        if i not in w.story.secret_shots and i not in dropped and i not in avoid
    ]
    ranked = [i for i in w.note_targets("open_on") if i in allowed]
    hooks = [v for v in w.report.variants if "hook" in v.variant_id.lower() and v.starts]
    if hooks:
        leader = max(hooks, key=lambda v: (v.retention_10s, v.variant_id))
        others = [v.retention_10s for v in w.report.variants if v is not leader and v.starts]
        if others and leader.retention_10s > max(others):
            slug = {
                word
                for word in content_words(leader.variant_id.replace("-", " "))
                if word not in {"hook", "first", "open"}
            }
            scored = [(len(slug & content_words(w.text_of(i))), -i) for i in allowed]
            best = max(scored)
            if best[0] > 0:
                ranked.append(-best[1])
    ranked += sorted(allowed, key=lambda i: (-w.intensity(w.shots[i]), i))
    return list(dict.fromkeys(ranked))


def _rotate(options: list[str], by: int) -> list[str]:
    """The options with the ``by``-th first: a revision after a near-duplicate refusal
    leads with another one."""
    if not options:
        return options
    k = by % len(options)
    return options[k:] + options[:k]


def _complained_shots(w: Writing, complaints: list[str]) -> tuple[dict[int, str], set[int]]:
    """Opening shots viewers' complaints name: ``(to cut → the word, to shorten)``.

    A shot with a character in it sets someone up: shortened, not cut. Shots that carry
    the twist or payoff, locked beats and what a note keeps are left alone.
    """
    kept = set(w.note_targets("keep"))
    named = {
        i: word
        for i, word in complaint_shots(w.shots, complaints, before_s=15.0).items()
        if i not in w.story.secret_shots and not w.is_locked(w.shots[i]) and i not in kept
    }
    shortened = {i for i in named if w.shots[i].get("characters")}
    return {i: word for i, word in named.items() if i not in shortened}, shortened


def _hook_options(w: Writing, source: dict[str, Any], skip: set[int]) -> list[str]:
    """Two or three captions for a cold open on ``source``: the question its prop raises,
    then the episode's own strongest lines (a line only when its speaker is in the shot)."""
    present = {n.upper() for n in w.first_names(source)}
    candidates = [
        c
        for c in line_candidates(
            w.shots, w.story, skip_shots=skip, acceptable=w.acceptable, names=w.name_words
        )
        if not c.speaker or c.speaker.split()[0] in present
    ]
    options = [c.text for c in candidates[:3]]
    prop = prop_of(str(source.get("action", "")))
    if prop is not None and prop[1]:
        question = f"What is in the {prop[0]}?"
        if not w.story.spoils(question) and w.acceptable(question):
            options = [question, *options][:3]
    return _rotate(options, w.variant)


def _cold_open_cut(
    w: Writing, cold: dict[str, Any], named: dict[int, str], shortened: set[int]
) -> tuple[list[dict[str, Any]], dict[int, str]] | None:
    """The new shot list (cold open first) and the shots it cuts; None when no cut of
    this opening fits the series' runtime window."""
    body = []
    for i, shot in enumerate(w.shots):
        if i in named:
            continue
        shot = copy.deepcopy(shot)
        if i in shortened:
            shot["duration_s"] = min(float(shot["duration_s"]), 2.5)
        body.append(shot)
    new_shots = w.retime([cold, *body])
    cut = dict(named)
    if _runtime(new_shots) < w.low:
        # Too short without them: keep the named shots as a second and a half each.
        body = [
            dict(copy.deepcopy(shot), **({"duration_s": MIN_SHOT_S} if i in named else {}))
            for i, shot in enumerate(w.shots)
        ]
        new_shots, cut = w.retime([cold, *body]), {}
    ceiling = w.high - (1.0 if w.tight_runtime else 0.0)
    runtime = _runtime(new_shots)
    for shot in new_shots[1:]:
        # Too long with the cold open: condense the slow shots of the first 15 s.
        if runtime <= ceiling:
            break
        if float(shot["start_s"]) >= 15 or w.intensity(shot) > 1.5 or w.is_locked(shot):
            continue
        shorter = round_half(float(shot["duration_s"]) * CONDENSE)
        runtime -= float(shot["duration_s"]) - shorter
        shot["duration_s"] = shorter
    new_shots = w.retime(new_shots)
    return (new_shots, cut) if w.within_runtime(_runtime(new_shots)) else None


def _runtime(shots: list[dict[str, Any]]) -> float:
    return sum(float(s["duration_s"]) for s in shots)


def _cut_text(w: Writing, cut: dict[int, str], shortened: set[int]) -> str:
    text = ""
    if cut:
        text += (
            "Cut "
            + " and ".join(
                f"{w.shots[i]['shot_id']} ({float(w.shots[i]['duration_s']):g} s of {word})"
                for i, word in sorted(cut.items())
            )
            + ", the opening viewers complain about. "
        )
    if shortened:
        text += f"Shorten {', '.join(str(w.shots[i]['shot_id']) for i in sorted(shortened))}"
        text += " to 2.5 s. "
    return text


def hook_failure(w: Writing, finding: Finding) -> BriefChangeProposal | None:
    m = w.report.metrics
    target = w.report.targets.get("retention_10s", 0.5)
    complaints = _complaints(w, finding)
    named, shortened = _complained_shots(w, complaints)
    openings = _opening_shots(w, named, set(w.note_targets("avoid")))
    if not openings:
        return None
    # A near-duplicate of a rejected idea: open on the next shot instead.
    opening = openings[min(w.variant, len(openings) - 1)]
    shortened.discard(opening)
    source = w.shots[opening]
    options = _hook_options(w, source, set(named))
    if not options:
        return None
    cold = dict(
        copy.deepcopy(source),
        shot_id=f"{source['shot_id']}-cold-open",
        duration_s=2.0 if w.tight_runtime else min(COLD_OPEN_S, float(source["duration_s"])),
        caption=options[0],
        dialogue="",
    )
    fitted = _cold_open_cut(w, cold, named, shortened)
    if fitted is None:
        return None
    new_shots, cut = fitted
    runtime = _runtime(new_shots)
    first_kept = new_shots[1]
    cut_text = _cut_text(w, cut, shortened)
    action = w.describe(source)
    new_hook = w.clean(
        f"Cold open, 0-{cold['duration_s']:g} s: {action}, captioned '{options[0]}'; "
        f"then back to the episode as written: {w.describe(first_kept)}."
    )
    changes = [
        FieldChange(path="brief.hook", before=w.brief.get("hook"), after=new_hook),
        FieldChange(path="manifest.shots", before=w.shots, after=new_shots),
    ]
    headlines = w.headlines(exclude={options[0].lower()})
    choices = [Choice(slot="hook", path="manifest.shots[0].caption", options=options)]
    if headlines:
        choices.append(Choice(slot="headline", options=headlines))
    summary = (
        f"{cut_text}Open cold on {source['shot_id']} — {action} — for "
        f"{cold['duration_s']:g} s with the caption '{options[0]}', then the episode as "
        f"before. Runtime {w.runtime:g} → {runtime:g} s."
    )
    quote = _quote(complaints[0]) if complaints else ""
    return BriefChangeProposal(
        episode_id=w.ctx.episode_id,
        kind="hook_rewrite",
        summary=shorten(summary, 600),
        target=f"10-s retention {pct(m.retention_10s)} against a {pct(target)} target",
        expected_effect=(
            f"10-s retention from {pct(m.retention_10s)} toward {pct(target)}: "
            "the question is on screen before the 3-second swipe"
        ),
        changes=changes,
        evidence=w.evidence(finding, ("retention_10s", "retention_8s", "ctr"), []),
        assets=w.thumbnails([opening], options[0], spare=False),
        rationale=_rationale(
            f"Only {pct(m.retention_10s)} are still watching at 10 seconds against a "
            f"{pct(target)} target" + (f", and viewers say why: {quote}." if quote else "."),
            _variant_line(w),
            _notes_line(w, w.applied_notes),
        ),
        choices=choices,
    )


# --- packaging: the card, the first frame and the title ------------------------------------


def hook_packaging(w: Writing, finding: Finding) -> BriefChangeProposal | None:
    m = w.report.metrics
    if not w.shots:
        return None
    first = w.shots[0]
    present = {n.upper() for n in w.first_names(first)}
    candidates = line_candidates(w.shots, w.story, acceptable=w.acceptable, names=w.name_words)
    on_first = [
        c
        for c in candidates
        if c.text != first.get("caption")
        and (c.speaker.split()[0] in present if c.speaker else c.shot_index == 0)
        and len(c.text.split()) <= 8
    ]
    changes: list[FieldChange] = []
    choices: list[Choice] = []
    if on_first:
        caption = on_first[0].text
        changes.append(
            FieldChange(
                path="manifest.shots[0].caption", before=first.get("caption", ""), after=caption
            )
        )
    else:
        caption = ""
    complaints = [q.text for q in finding.quotes if _PACKAGING_COMPLAINT.search(q.text)] + [
        c.text for c in w.comments if _PACKAGING_COMPLAINT.search(c.text)
    ]
    complaints = list(dict.fromkeys(complaints))
    titles = _rotate(w.titles(candidates, exclude={caption.lower()}), w.variant)
    title_before = w.brief.get("title") or w.ctx.episode_title
    if titles and (complaints or not changes):
        changes.append(
            FieldChange(path="brief.title", before=w.brief.get("title"), after=titles[0])
        )
        choices.append(Choice(slot="title", path="brief.title", options=titles))
    if not changes:
        return None
    headlines = w.headlines(exclude={caption.lower(), *(t.lower() for t in titles)})
    if headlines:
        choices.append(Choice(slot="headline", options=headlines))
    ctr_target = w.report.targets.get("ctr", 0.0)
    said = (
        f" and viewers say the packaging misleads them ({_quote(complaints[0])})"
        if complaints
        else ""
    )
    parts = []
    if titles and any(c.path == "brief.title" for c in changes):
        parts.append(f"retitle '{title_before}' as '{titles[0]}'")
    if caption:
        parts.append(f"put '{caption}' on the first frame")
    if headlines:
        parts.append(f"test {len(headlines)} headlines")
    summary = (
        f"The episode holds viewers ({pct(m.retention_10s)} at 10 s) but its card loses the "
        f"click ({m.ctr * 100:.1f}% against {ctr_target * 100:.1f}% for the cohort): "
        + ", ".join(parts)
        + ". None of them gives away the twist or the ending."
    )
    return BriefChangeProposal(
        episode_id=w.ctx.episode_id,
        kind="packaging",
        summary=shorten(summary, 600),
        target=f"click-through {m.ctr * 100:.1f}% against {ctr_target * 100:.1f}%",
        expected_effect="click-through up toward the cohort, the 10-second hold unchanged",
        changes=changes,
        evidence=w.evidence(finding, ("ctr", "impressions", "retention_10s"), []),
        assets=w.thumbnails(
            [i for i in (w.best_hold(), 0) if i is not None], titles[0] if titles else caption
        ),
        rationale=_rationale(
            f"Viewers who start it stay ({pct(m.retention_10s)} at 10 s), so the episode works "
            f"and the card does not: {m.ctr * 100:.1f}% click against {ctr_target * 100:.1f}%"
            + (f"{said}." if said else "."),
            _notes_line(w, w.applied_notes),
        ),
        choices=choices,
    )


# --- pacing: trim the exposition, sentence by sentence -------------------------------------


@dataclass
class _Trim:
    """What trimming the exposition did: the changes, the sentences cut, what stayed."""

    changes: list[FieldChange] = field(default_factory=list)
    cut: list[tuple[str, str]] = field(default_factory=list)  # (shot id, sentence)
    kept_protected: list[str] = field(default_factory=list)  # a note's cut the story needs
    touched: set[int] = field(default_factory=set)
    saved: float = 0.0


def _cliff_shot(w: Writing, finding: Finding) -> int:
    cliff = w.report.cliff
    assert cliff is not None
    start = w.index_of(finding.shot_id or cliff.shot_id)
    if start is not None:
        return start
    return next(
        (
            i
            for i, s in enumerate(w.shots)
            if float(s["start_s"]) <= cliff.second < float(s["start_s"]) + float(s["duration_s"])
        ),
        len(w.shots) - 1,
    )


def _trim_shot(w: Writing, index: int, trim: _Trim, notes: tuple[set[Any], set[Any]]) -> None:
    """Cut the dense (or noted) sentences of one shot, keep the protected ones, and tighten
    the shot to what is still said."""
    cut_by_note, keep_by_note = notes
    shot = w.shots[index]
    new_lines = []
    for speaker, direction, text in parse_dialogue(str(shot.get("dialogue", ""))):
        keep = []
        for sentence in sentences(text):
            guarded = w.story.is_protected(index, sentence, fields=("twist", "payoff", "hook"))
            noted_cut = (index, sentence) in cut_by_note
            dense = density(sentence, w.name_words) >= DENSE
            if (noted_cut or dense) and not (guarded or (index, sentence) in keep_by_note):
                trim.cut.append((str(shot["shot_id"]), sentence))
                continue
            if noted_cut and guarded:
                trim.kept_protected.append(sentence)
            keep.append(sentence)
        if keep:
            new_lines.append(format_line(speaker, " ".join(keep), direction))
    dialogue = " / ".join(new_lines)
    if dialogue == shot.get("dialogue", ""):
        return
    spoken = sum(len(line.split(":", 1)[-1].split()) for line in new_lines)
    before = float(shot["duration_s"])
    duration = min(before, max(MIN_SHOT_S, round_half(spoken / WORDS_PER_S + 0.5)))
    trim.touched.add(index)
    trim.changes.append(
        FieldChange(
            path=f"manifest.shots[{index}].dialogue", before=shot["dialogue"], after=dialogue
        )
    )
    if duration < before:
        trim.changes.append(
            FieldChange(
                path=f"manifest.shots[{index}].duration_s",
                before=shot["duration_s"],
                after=duration,
            )
        )
        trim.saved += before - duration


def pacing(w: Writing, finding: Finding) -> BriefChangeProposal | None:
    cliff = w.report.cliff
    if cliff is None or not w.shots:
        return None
    start = _cliff_shot(w, finding)
    notes = (set(w.note_sentences("cut")), set(w.note_sentences("keep")))
    trim = _Trim()
    for index in range(start, len(w.shots)):
        if index > start and w.intensity(w.shots[index]) >= 2.5:
            break  # the key action: everything after it plays as written
        if not w.is_locked(w.shots[index]):
            _trim_shot(w, index, trim, notes)
    changes, trimmed, saved = trim.changes, trim.cut, trim.saved
    kept_protected, touched = trim.kept_protected, trim.touched
    if not changes or w.runtime - saved < w.low:
        return None
    complaints = _complaints(w, finding)
    quote = _quote(complaints[0]) if complaints else ""
    cut_list = "; ".join(f"{sid}: '{shorten(text, 80)}'" for sid, text in trimmed)
    story_kept = [s for f, i, _, s in w.story.protected if f == "twist" and i in touched][-1:]
    summary = (
        f"Viewers leave at {cliff.second} s, in the exposition of {w.shots[start]['shot_id']}. "
        f"Cut the lines that ask them to hold numbers and names ({cut_list}) and tighten the "
        f"shots to what is still said: {saved:g} s shorter."
        + (
            f" The line that carries the twist stays: '{shorten(story_kept[0], 90)}'."
            if story_kept
            else ""
        )
    )
    return BriefChangeProposal(
        episode_id=w.ctx.episode_id,
        kind="pacing_cut",
        summary=shorten(summary, 600),
        target=f"{cliff.drop_pct:.0f} points of viewers lost around {cliff.second} s",
        expected_effect=(
            f"a flatter curve through {cliff.second} s and completion up from "
            f"{pct(w.report.metrics.completion)}"
        ),
        changes=changes,
        evidence=w.evidence(finding, ("completion", "retention_10s", "cliff_drop_pct"), []),
        rationale=_rationale(
            f"{cliff.drop_pct:.0f} points of the audience leave around {cliff.second} s"
            + (f", and they say why: {quote}." if quote else "."),
            (
                "A note asked to cut "
                + ", ".join(f"'{s}'" for s in kept_protected)
                + ", but it carries the twist, so it stays."
                if kept_protected
                else ""
            ),
            _notes_line(w, w.applied_notes),
        ),
    )


# --- participation: end on a question -------------------------------------------------------


def _question(w: Writing) -> str:
    names = w.names_in_episode()
    options = []
    if len(names) >= 2:
        options.append(f"Who do you believe, {names[0]} or {names[1]}?")
    if names:
        options.append(f"What would you do in {names[0]}'s place?")
    options.append("What do you think happens next?")
    return options[min(w.variant, len(options) - 1)]


def low_participation(w: Writing, finding: Finding) -> BriefChangeProposal | None:
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
    assets = [f"pinned comment: {question} Tell us below.", f"end card: {question}"]
    if len(names) >= 2:
        assets.append(f"poll: {names[0]} or {names[1]}?")
    audience = w.report.audience
    prefer = [q.comment_id for q in audience.question_examples] if audience else []
    m = w.report.metrics
    return BriefChangeProposal(
        episode_id=w.ctx.episode_id,
        kind="participation",
        summary=shorten(
            f"{pct(m.retention_10s)} watch past 10 s but only {m.comments_per_view * 1000:.1f} "
            f"comment per 1,000 views. End on a question viewers can answer — '{question}' — "
            "as the last shot's caption, and pin it as the first comment.",
            600,
        ),
        target=f"{m.comments_per_view * 1000:.1f} comments per 1,000 views",
        expected_effect="more comments and replies per view; the cliffhanger gets talked about",
        changes=changes,
        evidence=w.evidence(finding, ("comments_per_view", "retention_10s"), prefer),
        assets=assets,
        rationale=_rationale(
            f"Viewers stay ({pct(m.retention_10s)} at 10 s) but hardly talk "
            f"({m.comments_per_view * 1000:.1f} comments per 1,000 views); a question naming "
            "the two characters with the most screen time gives them something to answer.",
        ),
    )


# --- resonance: a stinger that carries the audience into the next episode ------------------


def resonance(w: Writing, finding: Finding) -> BriefChangeProposal | None:
    stinger = w.stinger()
    if stinger is None:
        return None
    shot, options, because = stinger
    options = _rotate(options, w.variant)
    shot = dict(shot, dialogue=options[0])
    n = len(w.shots)
    runtime = w.runtime + float(shot["duration_s"])
    if runtime > w.high:
        return None
    payoff = str(w.brief.get("payoff", ""))
    first_line = options[0].split(" / ")[0]
    new_payoff = w.clean(and_then(payoff, f"Stinger: {w.describe(shot)} — {first_line}"))
    shot = dict(shot, start_s=w.runtime)
    changes = [
        FieldChange(path="brief.payoff", before=payoff, after=new_payoff),
        FieldChange(path="manifest.shots[+]", before=None, after=shot),
    ]
    m = w.report.metrics
    title = w.ctx.episode_title or w.ctx.episode_id
    premise_clause = first_sentence(w.clean(w.ctx.series.premise), 14)
    return BriefChangeProposal(
        episode_id=w.ctx.episode_id,
        kind="sequel",
        summary=shorten(
            f"This one resonates ({pct(m.completion)} finish it, "
            f"{m.shares_per_view * 1000:.0f} shares and {m.saves_per_view * 1000:.0f} saves per "
            f"1,000 views). Add a {float(shot['duration_s']):g}-second stinger after the payoff: "
            f"{w.describe(shot)}. {options[0]}",
            600,
        ),
        target=f"{m.shares_per_view * 1000:.0f} shares and {m.saves_per_view * 1000:.0f} saves "
        "per 1,000 views",
        expected_effect="carry this episode's audience into the next one; more follows",
        changes=changes,
        evidence=w.evidence(finding, ("shares_per_view", "saves_per_view", "completion"), []),
        assets=[
            f"cross-promotion copy: If '{title}' got you, start "
            f"{w.ctx.series.title or 'the series'} from the top: {premise_clause}",
        ],
        rationale=_rationale(
            f"{pct(m.completion)} finish it and they share and save it at "
            f"{m.shares_per_view * 1000:.0f} and {m.saves_per_view * 1000:.0f} per 1,000 views.",
            because,
        ),
        choices=[Choice(slot="stinger", path=f"manifest.shots[{n}].dialogue", options=options)],
    )


_RULES: dict[str, Callable[[Writing, Finding], BriefChangeProposal | None]] = {
    "hook_failure": hook_failure,
    "hook_packaging": hook_packaging,
    "pacing": pacing,
    "low_participation": low_participation,
    "resonance": resonance,
}


class OfflineWriter:
    """The default ideator: rule-based writing, deterministic, honest about it."""

    name = "offline"

    def propose(self, ctx: IdeationContext) -> list[BriefChangeProposal]:
        """A promoted variant first (when the data has a winner), then one proposal per
        finding of the episode's report, in the method's order."""
        writing = Writing(ctx)
        proposals = []
        promoted = promote_variant(writing)
        if promoted is not None:
            proposals.append(promoted)
        findings: dict[str, Finding] = {f.kind: f for f in reversed(ctx.report.findings)}
        for kind in RULE_ORDER:
            finding = findings.get(kind)
            if finding is None:
                continue
            writing.applied_notes = []
            proposal = _RULES[kind](writing, finding)
            if proposal is not None:
                proposals.append(proposal)
        return [_with_precedent(ctx, p) for p in proposals]


def _with_precedent(ctx: IdeationContext, proposal: BriefChangeProposal) -> BriefChangeProposal:
    """Cite how the series' last published change of the same kind worked out (the one
    that addressed the same finding first), so the approver weighs the idea by its record."""
    same = [o for o in ctx.past_outcomes if o.kind == proposal.kind and o.summary]
    if not same:
        return proposal
    findings = set(proposal.evidence.findings)
    last = next((o for o in same if o.finding in findings), same[0])
    text = f"{proposal.rationale} Last time: {last.summary[0].lower()}{last.summary[1:]}."
    return proposal.model_copy(update={"rationale": text})
