"""The offline writer: the diagnosis table of docs/METHOD.md as concrete, deterministic edits.

It reads like a competent junior writer who knows the method and nothing else: for each
finding of the analyst it applies one rule, edits the brief and shot manifest the way the
rule says, and says plainly that a rule did it. It only reuses words already in the
series bible, the brief in force, the shot manifest and (for headlines) viewers' own
comments, so it never invents a character; it keeps locked beats and the runtime window.
"""

from __future__ import annotations

import copy
import math
import re
from collections.abc import Callable
from typing import Any

from writers_room.brief.proposals import BriefChangeProposal, Evidence, FieldChange
from writers_room.brief.report import Finding, Theme
from writers_room.guardrails import brand, continuity, slop
from writers_room.guardrails.fencing import looks_like_injection
from writers_room.guardrails.text import shorten, term_pattern, words
from writers_room.writer.context import CommentSnippet, IdeationContext, known_numbers

__all__ = ["OfflineWriter"]

RULE_ORDER = ("hook_failure", "hook_packaging", "pacing", "low_participation", "resonance")
TEASER_S = 3.0
MIN_SHOT_S = 1.5
CONDENSE = 0.6  # a condensed slow shot keeps 60 % of its length
WORDS_PER_S = 2.5  # how much dialogue a shot of a given length can carry

# Mood words and on-screen verbs that mark a shot as conflict, from the bibles' shot
# lists: the writer looks for the moment that would stop a thumb.
_MOOD_SCORE = {
    **dict.fromkeys(
        "betrayal betrayed menacing menace fear shock shocked panic horror fury furious rage "
        "explosive confrontational frantic desperate chaos chaotic catastrophic bombshell "
        "cornered danger predatory damning unhinged cruel trapped alarming adrenaline "
        "revelation reveal violent terror terrified".split(),
        3.0,
    ),
    **dict.fromkeys(
        "tense tension urgent dread ominous defiant raw haunted chilling electric breathless "
        "heartbreaking gutting devastation excruciating stakes ticking jolt suspense sinister "
        "foreboding wounded icy stunned disbelief charged reckless cliffhanger thrilling epic "
        "heroic triumphant angry grief".split(),
        2.0,
    ),
}
_ACTION_VERBS = re.compile(
    r"\b(slap|rip|tear|tore|smash|scream|shout|yell|grab|punch|crash|collaps|burn|fire|gun|"
    r"blood|drag|plung|shove|slam|kiss|explod|chase|snap|strik|knife|fight|threat|attack|"
    r"fall|falls|drown|break|broke|shatter|steal|stole)\w*",
    re.IGNORECASE,
)
_PLACEHOLDER = re.compile(r"\[(email|phone|handle|mention|url)\]")
_SPEAKER_PREFIX = re.compile(r"^[A-Z][A-Z'’. -]+(?:\s*\([^)]*\))?\s*:\s*")
_COMPLAINT = re.compile(
    r"\b(slow|boring|bored|lost|confus\w*|skip\w*|swip\w*|lecture|hate|worst|ruin\w*|cringe|"
    r"bad|filler|recap|zoned|annoying|why is|why does|too much|a bit much|nearly|almost left)\b"
    r"|[😒😤]",
    re.IGNORECASE,
)
_PRAISE = re.compile(
    r"\b(love|loved|obsessed|chills|best|omg|need|can'?t wait|screaming|iconic|perfect|"
    r"gorgeous|crying|so good)\b|[😭🔥😍🥹❤]",
    re.IGNORECASE,
)
_QUOTED = re.compile(r"'([^']{2,60})'|\"([^\"]{2,60})\"")


def _round_half(value: float) -> float:
    return max(MIN_SHOT_S, math.floor(value * 2 + 1e-9) / 2)


def _pct(value: float) -> str:
    return f"{value * 100:.0f}%"


def _first_sentence(text: str, max_words: int = 12) -> str:
    sentence = re.split(r"(?<=[.!?])\s+", text.strip(), maxsplit=1)[0]
    tokens = sentence.split()
    if len(tokens) > max_words:
        sentence = " ".join(tokens[:max_words]).rstrip(",;:—-") + "…"
    return sentence


def _then(text: str, addition: str) -> str:
    """``addition`` as a new sentence after ``text``, punctuated once."""
    text = text.strip()
    if not text:
        return addition
    if text[-1] not in ".!?" and not re.search(r"[.!?]['\"’”)]$", text):
        text += "."
    return f"{text} {addition}"


def _fit_dialogue(dialogue: str, seconds: float) -> str:
    """The whole sentences of a shot's first line that can be spoken in ``seconds``.

    Keeps the speaker label; always keeps at least the first sentence, never cuts one.
    """
    first = dialogue.split(" / ")[0].strip()
    label = _SPEAKER_PREFIX.match(first)
    prefix = label.group(0) if label else ""
    sentences = re.split(r"(?<=[.!?…])\s+", first[len(prefix) :].strip())
    budget = seconds * WORDS_PER_S
    kept: list[str] = []
    for sentence in sentences:
        if kept and len(" ".join([*kept, sentence]).split()) > budget:
            break
        kept.append(sentence)
    return prefix + " ".join(kept)


def _line(dialogue: str) -> str:
    """The first spoken line of a shot, without its speaker label."""
    first = dialogue.split(" / ")[0].strip()
    return _SPEAKER_PREFIX.sub("", first).strip()


class _Writing:
    """One episode's material, prepared once for all rules."""

    def __init__(self, ctx: IdeationContext) -> None:
        self.ctx = ctx
        self.report = ctx.report
        self.brief: dict[str, Any] = ctx.brief
        self.shots: list[dict[str, Any]] = [dict(s) for s in ctx.manifest.get("shots", [])]
        self.beats: list[str] = list(self.brief.get("beats") or [])
        self.locked: set[str] = set(self.brief.get("locked_beats") or [])
        self.low, self.high = ctx.series.constraints.runtime_s
        self.runtime = sum(float(s["duration_s"]) for s in self.shots)
        self.bible = [c.name for c in ctx.series.characters]
        self.vocabulary = continuity.known_vocabulary(
            [
                ctx.series.premise,
                ctx.episode_title,
                ctx.series.title,
                *self.bible,
                *(c.description for c in ctx.series.characters),
                *ctx.series.constraints.locations,
            ],
            extra=[ctx.brief, ctx.manifest],
        )
        self.numbers = known_numbers(self.report)
        # What a previous guard round objected to: the first quoted value of each reason.
        self.avoid: list[str] = []
        self.tight_runtime = False
        self.variant = 0
        for reason in ctx.revision_feedback:
            check = reason.split(":", 1)[0].strip().lower()
            if "runtime" in check:
                self.tight_runtime = True
            if "near_duplicate" in reason:
                self.variant += 1
            quoted = _QUOTED.search(reason)
            if quoted and check.split()[-1:] != ["traceability"]:
                value = quoted.group(1) or quoted.group(2)
                if len(value) <= 40:
                    self.avoid.append(value)
        self.scrub_terms = [*ctx.series.brand.banned_terms, *self.avoid]
        self.comments = [c for c in ctx.comments if self._usable_comment(c)]
        self.comments.sort(
            key=lambda c: (c.episode_id not in ("", ctx.episode_id), -c.likes, c.comment_id)
        )

    # --- text hygiene -------------------------------------------------------------------

    def clean(self, text: str) -> str:
        """``text`` without banned or objected-to terms, tidied."""
        for term in self.scrub_terms:
            text = term_pattern(term).sub("", text)
        text = re.sub(r"\s+([,.;:!?])", r"\1", text)
        return " ".join(text.split())

    def acceptable(self, text: str, *, viewer: bool = False) -> bool:
        """Whether a line may be used as is (no banned, unknown or suspicious words).

        ``viewer`` lines (from comments) are held to the strict name check: a viewer who
        starts a sentence with an actor or a rival show's character is still naming them.
        """
        if not text.strip() or looks_like_injection(text) or _PLACEHOLDER.search(text):
            return False
        if brand.banned_terms_in(text, self.scrub_terms):
            return False
        if brand.rating_violations(text, self.ctx.series.brand.rating):
            return False
        if slop.slop_phrases(text):
            return False
        return not continuity.unknown_names(text, self.vocabulary, strict=viewer)

    def _usable_comment(self, comment: CommentSnippet) -> bool:
        return not looks_like_injection(comment.text)

    # --- reading the episode ------------------------------------------------------------

    def intensity(self, shot: dict[str, Any]) -> float:
        mood = str(shot.get("mood", "")).lower()
        score: float = max((_MOOD_SCORE.get(w, 0.0) for w in words(mood)), default=0.0)
        text = f"{shot.get('action', '')} {shot.get('dialogue', '')}"
        score += min(2, len(_ACTION_VERBS.findall(text)))
        if shot.get("dialogue"):
            score += 0.5
        if "!" in text:
            score += 0.5
        return score

    def beat_of(self, shot: dict[str, Any]) -> str | None:
        """The beat a shot plays (most content words in common), if any."""
        shot_words = {
            w
            for w in words(
                f"{shot.get('action', '')} {shot.get('caption', '')} {shot.get('dialogue', '')}"
            )
            if len(w) > 3
        }
        best, best_overlap = None, 0
        for beat in self.beats:
            overlap = len({w for w in words(beat) if len(w) > 3} & shot_words)
            if overlap > best_overlap:
                best, best_overlap = beat, overlap
        return best

    def is_locked(self, shot: dict[str, Any]) -> bool:
        return self.beat_of(shot) in self.locked

    def describe(self, shot: dict[str, Any]) -> str:
        """What a shot shows, in its own words: action, else caption, else its line."""
        for text in (
            str(shot.get("action", "")),
            str(shot.get("caption", "")),
            _line(str(shot.get("dialogue", ""))),
        ):
            if text.strip():
                return self.clean(text.strip().rstrip("."))
        return ""

    def strongest(self, start: int = 1) -> int | None:
        """Index of the most intense shot from ``start``, keeping the last shot's ending.

        ``None`` when no shot there shows any conflict (or says what it shows).
        """
        end = len(self.shots) - 1 if len(self.shots) > 2 else len(self.shots)
        candidates = [
            i
            for i in range(start, end)
            if self.intensity(self.shots[i]) > 0 and self.describe(self.shots[i])
        ]
        if not candidates:
            return None
        ranked = sorted(candidates, key=lambda i: (-self.intensity(self.shots[i]), i))
        return ranked[min(self.variant, len(ranked) - 1)]

    def shot_loss(self, index: int) -> float | None:
        """Percentage points of viewers lost per second while shot ``index`` plays."""
        curve = self.report.retention_curve
        shot = self.shots[index]
        start, end = float(shot["start_s"]), float(shot["start_s"]) + float(shot["duration_s"])
        first, last = int(math.floor(start)), min(int(math.ceil(end)), len(curve) - 1)
        if len(curve) < 2 or first >= last:
            return None
        return (curve[first] - curve[last]) / max(end - start, 1e-9)

    def best_hold(self) -> int | None:
        """The shot that loses the fewest viewers per second (thumbnail material).

        Shots with characters in frame come first (faces sell a thumbnail); among equal
        losses the more intense shot wins.
        """
        losses = [
            (not self.shots[i].get("characters"), round(loss, 2), -self.intensity(self.shots[i]), i)
            for i in range(len(self.shots))
            if (loss := self.shot_loss(i)) is not None
        ]
        return min(losses)[3] if losses else None

    def index_of(self, shot_id: str | None) -> int | None:
        for index, shot in enumerate(self.shots):
            if shot["shot_id"] == shot_id:
                return index
        return None

    def names_in_episode(self) -> list[str]:
        """First names of the bible characters on screen, most screen time first."""
        seen: dict[str, float] = {}
        for shot in self.shots:
            for name in shot.get("characters") or []:
                full = continuity.match_character(str(name), self.bible)
                if full:
                    seen[full] = seen.get(full, 0.0) + float(shot["duration_s"])
        ranked = sorted(seen, key=lambda n: (-seen[n], n))
        return [name.split()[0] for name in ranked]

    # --- evidence -----------------------------------------------------------------------

    def evidence(self, finding: Finding, keys: tuple[str, ...], prefer: list[str]) -> Evidence:
        metrics = {k: self.numbers[k] for k in keys if k in self.numbers}
        metrics.update({k: self.numbers[k] for k in finding.evidence if k in self.numbers})
        by_id = {c.comment_id: c for c in self.comments}
        ordered = [i for i in [*prefer, *finding.comment_ids] if i in by_id]
        ordered += [c.comment_id for c in self.comments if c.episode_id == self.ctx.episode_id]
        chosen = list(dict.fromkeys(ordered))[:3]
        return Evidence(
            metrics=metrics,
            comment_ids=chosen,
            quotes=[shorten(by_id[i].text, 120) for i in chosen],
            findings=[finding.kind],
        )

    def comment_phrase(self) -> tuple[str, str] | None:
        """(comment id, a short phrase) from the most-liked usable comment.

        Headline material is what viewers loved, so comments of warm themes come first and
        complaints ("so slow", "boring") are never used.
        """
        warm = {i for t in self.ctx.themes if t.sentiment > 0 for i in t.examples}
        for comment in self.comments:
            phrase = _first_sentence(comment.text, 10).strip(" \"'“”")
            loved = comment.comment_id in warm or _PRAISE.search(comment.text)
            if not loved or _COMPLAINT.search(comment.text):
                continue
            if len(phrase.split()) >= 4 and self.acceptable(phrase, viewer=True):
                return comment.comment_id, phrase
        return None

    def resonant_theme(self) -> Theme | None:
        """The theme most present on this episode among warm, organic ones.

        Brigades (mostly comments from flagged authors) and complaints are not what an
        episode resonated with.
        """
        episode = self.ctx.episode_id
        organic = [
            t
            for t in self.ctx.episode_themes()
            if t.sentiment >= 0 and t.flagged_comments <= 0.3 * max(t.comments, 1)
        ]
        ranked = sorted(
            organic, key=lambda t: (-t.episodes.get(episode, 0), -t.distinct_authors, t.theme_id)
        )
        return ranked[0] if ranked else None

    def theme_terms(self, theme: Theme | None) -> list[str]:
        if theme is None:
            return []
        names = {n.lower(): n for full in self.bible for n in full.split()}
        terms = [names.get(t.lower(), t) for t in theme.terms if len(t) > 2]
        return [t for t in terms if self.acceptable(t, viewer=True)][:3]

    # --- manifest edits -----------------------------------------------------------------

    def retime(self, shots: list[dict[str, Any]]) -> list[dict[str, Any]]:
        start = 0.0
        for shot in shots:
            shot["start_s"] = round(start, 3)
            start += float(shot["duration_s"])
        return shots

    def shot_changes(self, new_shots: list[dict[str, Any]]) -> list[FieldChange]:
        changes = []
        for index, shot in enumerate(new_shots):
            if index < len(self.shots):
                if shot != self.shots[index]:
                    changes.append(
                        FieldChange(
                            path=f"manifest.shots[{index}]", before=self.shots[index], after=shot
                        )
                    )
            else:
                changes.append(FieldChange(path="manifest.shots[+]", before=None, after=shot))
        return changes

    def within_runtime(self, runtime: float) -> bool:
        high = self.high - 1.0 if self.tight_runtime else self.high
        return self.low <= runtime <= high


def _frame(w: _Writing, shot: dict[str, Any]) -> str:
    return f"{shot.get('framing') or 'close-up'} — {w.describe(shot)}"


def _rationale(rule: str, method: str, extra: str, writing: _Writing) -> str:
    notes = len(writing.ctx.notes)
    note_text = (
        f" {notes} writer note(s) on file are not interpreted by the rule-based writer."
        if notes
        else ""
    )
    return f"rule-based offline writer: {rule} rule (the method: {method}). {extra}{note_text}"


def _hook_failure(w: _Writing, finding: Finding) -> BriefChangeProposal | None:
    m = w.report.metrics
    target = w.report.targets.get("retention_10s", 0.5)
    strongest = w.strongest()
    new_hook: str
    changes: list[FieldChange] = []
    summary_parts: list[str] = []
    if strongest is not None:
        source = w.shots[strongest]
        line = _line(str(source.get("dialogue", "")))
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
            shorter = _round_half(float(shot["duration_s"]) * CONDENSE)
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
        new_hook = w.clean(f"Open on the turn: {_first_sentence(twist, 14)}")
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
        for candidate in (_line(str(shot.get("dialogue", ""))), str(shot.get("caption", ""))):
            candidate = w.clean(candidate)
            if len(candidate.split()) >= 2 and w.acceptable(candidate):
                headlines.append(f'headline: "{candidate}"')
    hook_line = _first_sentence(new_hook.split(": ", 1)[-1], 9)
    headlines.append(f"headline: {hook_line}")
    thumbnails = []
    hold = w.best_hold()
    if hold is not None and w.describe(w.shots[hold]):
        shot = w.shots[hold]
        loss = w.shot_loss(hold) or 0.0
        thumbnails.append(
            f"thumbnail: {_frame(w, shot)} ({shot['shot_id']}: loses the fewest viewers, "
            f"{loss:.1f} pp/s)"
        )
    if strongest is not None and strongest != hold:
        shot = w.shots[strongest]
        thumbnails.append(f"thumbnail: {_frame(w, shot)} ({shot['shot_id']}, the cold-open moment)")
    assets = list(dict.fromkeys(headlines))[:3] + thumbnails

    r8 = m.retention_8s
    summary = (
        f"Hook failure: {_pct(m.retention_10s)} are still watching at 10 s "
        f"(target {_pct(target)}), {_pct(r8)} at 8 s, CTR {m.ctr * 100:.1f}%. "
        + (" ".join(summary_parts) + " " if summary_parts else "")
        + f"New hook: {shorten(new_hook, 140)} Replace the thumbnail and test "
        f"{min(3, len(headlines))} headlines."
    )
    return BriefChangeProposal(
        episode_id=w.ctx.episode_id,
        kind="hook_rewrite",
        summary=shorten(summary, 600),
        target=f"retention_10s {_pct(m.retention_10s)} vs {_pct(target)}; ctr {m.ctr * 100:.1f}%",
        expected_effect=(
            f"10-s retention from {_pct(m.retention_10s)} toward {_pct(target)}: the conflict "
            "is on screen before the 3-second swipe"
        ),
        changes=changes,
        evidence=w.evidence(
            finding, ("ctr", "retention_3s", "retention_8s", "retention_10s", "score"), []
        ),
        assets=assets,
        rationale=_rationale(
            "hook-failure",
            "CTR low and 8-s retention < 35% → replace thumbnail, rewrite opening beat",
            "The cold-open shot is the most intense by mood and action; thumbnails come from "
            "the shot that holds viewers best.",
            w,
        ),
    )


def _hook_packaging(w: _Writing, finding: Finding) -> BriefChangeProposal | None:
    m = w.report.metrics
    if not w.shots:
        return None
    first = w.shots[0]
    strongest = w.strongest(start=0)
    captions = []
    for shot in sorted(w.shots, key=lambda s: -w.intensity(s)):
        for candidate in (str(shot.get("caption", "")), _line(str(shot.get("dialogue", "")))):
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
            _then(hook, f"First frame: a close-up with the caption '{first_frame}'.")
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
        headlines.append(f"headline: {_first_sentence(twist, 9)}")
    if w.ctx.episode_title:
        headlines.append(f"headline: {w.ctx.episode_title}: {_first_sentence(w.clean(hook), 8)}")
    headlines = list(dict.fromkeys(headlines))[:8]
    # A bare brief still gets three lines to test: its own premise, hook and payoff.
    for spare in ("premise", "hook", "payoff"):
        text = w.clean(str(w.brief.get(spare, "")))
        if len(headlines) < 3 and text and w.acceptable(text):
            headlines = list(dict.fromkeys([*headlines, f"headline: {_first_sentence(text, 9)}"]))
    thumbs: list[str] = []
    for index in dict.fromkeys(i for i in (w.best_hold(), strongest, 0) if i is not None):
        shot = w.shots[index]
        if not w.describe(shot):
            continue
        thumbs.append(f"thumbnail: {_frame(w, shot)} ({shot['shot_id']})")
    thumbs = thumbs[:3]
    ctr_target = w.report.targets.get("ctr", 0.0)
    summary = (
        f"Packaging: CTR is {m.ctr * 100:.1f}%"
        + (f" against a cohort target of {ctr_target * 100:.1f}%" if ctr_target else "")
        + f" while {_pct(m.retention_10s)} still watch at 10 s, so the episode holds viewers "
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
        rationale=_rationale(
            "hook-packaging",
            "CTR low, retention fine → new first frame, 2-3 thumbnails, 3-8 headlines",
            "Headlines reuse the episode's own captions and lines and the most-liked viewer "
            "phrase.",
            w,
        ),
    )


def _pacing(w: _Writing, finding: Finding) -> BriefChangeProposal | None:
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
        duration = _round_half(float(shot["duration_s"]) * keep)
        dialogue = str(shot.get("dialogue", ""))
        line = None
        if len(dialogue.split()) > duration * WORDS_PER_S:
            line = w.clean(_fit_dialogue(dialogue, duration))
            spoken = len(_SPEAKER_PREFIX.sub("", line).split())
            duration = max(duration, _round_half(spoken / WORDS_PER_S))
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
                or _line(str(shot.get("dialogue", "")))
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
            f"{_pct(w.report.metrics.completion)}"
        ),
        changes=changes,
        evidence=w.evidence(
            finding, ("retention_10s", "completion", "cliff_second", "cliff_drop_pct"), []
        ),
        assets=scripts,
        rationale=_rationale(
            "pacing",
            "CTR fine, sharp drop between 6-20 s → second cut with key action earlier, "
            "condense exposition, 3 alternate scripts for the first 15 s",
            "Shots mapped to locked beats are left as they are."
            + (f" Dialogue trimmed to fit in {', '.join(trimmed_lines)}." if trimmed_lines else ""),
            w,
        ),
    )


def _question(w: _Writing) -> str:
    names = w.names_in_episode()
    options = []
    if len(names) >= 2:
        options.append(f"Who do you believe, {names[0]} or {names[1]}?")
    if names:
        options.append(f"What would you do in {names[0]}'s place?")
    options.append("What do you think happens next?")
    return options[min(w.variant, len(options) - 1)]


def _low_participation(w: _Writing, finding: Finding) -> BriefChangeProposal | None:
    if not w.shots:
        return None
    question = w.clean(_question(w))
    payoff = str(w.brief.get("payoff", ""))
    new_payoff = w.clean(_then(payoff, f"End on a direct question to viewers: {question}"))
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
        f"Low participation: {_pct(m.retention_10s)} watch past 10 s but only "
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
        rationale=_rationale(
            "low-participation",
            "retention fine, few comments → open questions, cliffhangers that invite reaction",
            "The question names the characters with the most screen time.",
            w,
        ),
    )


def _resonance(w: _Writing, finding: Finding) -> BriefChangeProposal | None:
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
    new_payoff = w.clean(_then(payoff, stinger))
    strongest = w.strongest(start=0)
    bts = (
        f"behind-the-scenes follow-up: 30-s making-of on {w.shots[strongest]['shot_id']} "
        f"({shorten(w.describe(w.shots[strongest]), 60)})"
        if strongest is not None
        else "behind-the-scenes follow-up: 30-s making-of on the episode's last scene"
    )
    title = w.ctx.episode_title or w.ctx.episode_id
    premise_clause = _first_sentence(w.clean(w.ctx.series.premise), 14)
    assets = [
        f"sequel hook: {pair} pick up where '{title}' leaves off{thread}",
        bts,
        f"cross-promotion copy: If '{title}' got you, start {w.ctx.series.title or 'the series'} "
        f"from the top: {premise_clause}",
    ]
    m = w.report.metrics
    hold = f"{_pct(m.retention_10s)} at 10 s, {_pct(m.completion)} completion"
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
        rationale=_rationale(
            "resonance",
            "strong retention + shares/saves spike → sequel hooks, behind-the-scenes "
            "follow-up, cross-promotion copy",
            "The stinger points at the warmest comment theme on this episode (brigades and "
            "complaints left out).",
            w,
        ),
    )


_RULES: dict[str, Callable[[_Writing, Finding], BriefChangeProposal | None]] = {
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
        writing = _Writing(ctx)
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
