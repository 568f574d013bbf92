"""What every rule of the offline writer shares: one episode's material, prepared once.

:class:`Writing` holds the bible, the brief in force, the shot manifest and the viewers'
comments of one episode, with the checks every rule's words pass (brand, continuity, slop,
injection); the small helpers below turn them into sentences, shot lengths and rationales.
:mod:`writers_room.writer.offline` applies the rules.
"""

from __future__ import annotations

import math
import re
from typing import Any

from writers_room.brief.proposals import Evidence, FieldChange
from writers_room.brief.report import Finding, Theme
from writers_room.brief.script import (
    content_words,
    format_line,
    sentences,
    shared_run,
    shot_text,
)
from writers_room.guardrails import brand, continuity, slop
from writers_room.guardrails.directives import directives, resolve
from writers_room.guardrails.fencing import looks_like_injection
from writers_room.guardrails.text import shorten, term_pattern, words
from writers_room.writer.context import CommentSnippet, IdeationContext, known_numbers
from writers_room.writer.lines import Candidate, StoryMap, line_candidates, prop_of, relations

__all__ = [
    "CONDENSE",
    "MIN_SHOT_S",
    "SPEAKER_PREFIX",
    "TEASER_S",
    "WORDS_PER_S",
    "Writing",
    "and_then",
    "first_sentence",
    "fit_dialogue",
    "frame_text",
    "pct",
    "round_half",
    "rule_rationale",
    "spoken_line",
]

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
SPEAKER_PREFIX = re.compile(r"^[A-Z][A-Z'’. -]+(?:\s*\([^)]*\))?\s*:\s*")
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


def round_half(value: float) -> float:
    return max(MIN_SHOT_S, math.floor(value * 2 + 1e-9) / 2)


def pct(value: float) -> str:
    return f"{value * 100:.0f}%"


def first_sentence(text: str, max_words: int = 12) -> str:
    sentence = re.split(r"(?<=[.!?])\s+", text.strip(), maxsplit=1)[0]
    tokens = sentence.split()
    if len(tokens) > max_words:
        sentence = " ".join(tokens[:max_words]).rstrip(",;:—-") + "…"
    return sentence


def and_then(text: str, addition: str) -> str:
    """``addition`` as a new sentence after ``text``, punctuated once."""
    text = text.strip()
    if not text:
        return addition
    if text[-1] not in ".!?" and not re.search(r"[.!?]['\"’”)]$", text):
        text += "."
    return f"{text} {addition}"


def fit_dialogue(dialogue: str, seconds: float) -> str:
    """The whole sentences of a shot's first line that can be spoken in ``seconds``.

    Keeps the speaker label; always keeps at least the first sentence, never cuts one.
    """
    first = dialogue.split(" / ")[0].strip()
    label = SPEAKER_PREFIX.match(first)
    prefix = label.group(0) if label else ""
    sentences = re.split(r"(?<=[.!?…])\s+", first[len(prefix) :].strip())
    budget = seconds * WORDS_PER_S
    kept: list[str] = []
    for sentence in sentences:
        if kept and len(" ".join([*kept, sentence]).split()) > budget:
            break
        kept.append(sentence)
    return prefix + " ".join(kept)


def spoken_line(dialogue: str) -> str:
    """The first spoken line of a shot, without its speaker label."""
    first = dialogue.split(" / ")[0].strip()
    return SPEAKER_PREFIX.sub("", first).strip()


class Writing:
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
        self.story = StoryMap(self.brief, ctx.manifest, self.bible)
        self.name_words = {part.lower() for full in self.bible for part in full.split()} | {
            w.lower()
            for place in ctx.series.constraints.locations
            for w in re.findall(r"[A-Za-z]+", place)
        }
        # Viewers' words the writer has seen: never reused as copy.
        self.viewer_texts = [c.text for c in ctx.comments] + [
            text for theme in ctx.themes for text in theme.example_texts
        ]
        self.directives = [d for note in ctx.notes for d in directives(note)]
        self.applied_notes: list[str] = []

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
        if not viewer and shared_run(text, self.viewer_texts, 5):
            return False  # viewers quote this line: using it would read as their copy
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
            spoken_line(str(shot.get("dialogue", ""))),
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

    def first_names(self, shot: dict[str, Any]) -> list[str]:
        """First names of the characters in a shot."""
        return [str(n).split()[0] for n in shot.get("characters") or [] if str(n).strip()]

    def pronoun(self, first_name: str) -> str:
        """'He wants', 'She wants' or 'They want', from the bible's description."""
        text = next(
            (c.description for c in self.ctx.series.characters if c.name.split()[0] == first_name),
            "",
        ).lower()
        his = len(re.findall(r"\b(he|his|him)\b", text))
        her = len(re.findall(r"\b(she|her|hers)\b", text))
        return "He wants" if his > her else "She wants" if her > his else "They want"

    def text_of(self, index: int) -> str:
        return shot_text(self.shots[index])

    # --- writers' notes -----------------------------------------------------------------

    def _resolved(self, verb: str) -> list[tuple[int, str | None]]:
        found: list[tuple[int, str | None]] = []
        for directive in self.directives:
            if directive.verb != verb:
                continue
            hits = resolve(directive, self.ctx.manifest)
            if hits:
                said = f"{directive.verb.replace('_', ' ')} {directive.target}"
                if said not in self.applied_notes:
                    self.applied_notes.append(said)
            found += hits
        return found

    def note_targets(self, verb: str) -> list[int]:
        """Shots a standing note names with ``verb`` (keep, cut, open_on, avoid, ...)."""
        return list(dict.fromkeys(index for index, _ in self._resolved(verb)))

    def note_sentences(self, verb: str) -> list[tuple[int, str]]:
        """``(shot index, sentence)`` a standing note names with ``verb``; a note naming a
        whole shot names each of its sentences."""
        out: list[tuple[int, str]] = []
        for index, sentence in self._resolved(verb):
            if sentence is not None:
                out.append((index, sentence))
                continue
            for line in str(self.shots[index].get("dialogue", "")).split(" / "):
                out += [(index, part) for part in _split_spoken(line)]
        return out

    # --- copy: headlines, titles, thumbnails, stingers ----------------------------------

    def headlines(self, *, exclude: set[str] = frozenset()) -> list[str]:  # type: ignore[assignment]
        """Two or three headlines: the episode's own strongest lines that spoil nothing."""
        picked: list[str] = []
        premise = first_sentence(self.clean(str(self.brief.get("premise", ""))), 12)
        premise = re.split(r",\s+(?:where|when|while|as|and)\b", premise)[0].rstrip(".,;…")
        texts = [
            c.text
            for c in line_candidates(
                self.shots, self.story, acceptable=self.acceptable, names=self.name_words
            )
        ]
        if premise and not self.story.spoils(premise) and self.acceptable(premise):
            texts.insert(1, premise + ".")
        for text in texts:
            if text.lower() in exclude or not 2 <= len(text.split()) <= 10:
                continue
            picked.append(text)
            if len(picked) == 3:
                break
        return picked

    def titles(self, candidates: list[Candidate], *, exclude: set[str] = frozenset()) -> list[str]:  # type: ignore[assignment]
        """Two or three short titles from the episode's own lines (no recap words)."""
        out: list[str] = []
        current = (self.brief.get("title") or self.ctx.episode_title or "").lower()
        for index, shot in enumerate(self.shots):
            prop = prop_of(str(shot.get("action", "")))
            if prop is None or index in self.story.secret_shots:
                continue
            title = _title_case(f"the {prop[0]}")
            if not self.story.spoils(title) and title.lower() != current:
                out.append(title)
                break
        for candidate in candidates:
            words_ = candidate.text.rstrip(".!?…").split()
            if not 2 <= len(words_) <= 4 or candidate.text.lower() in exclude:
                continue
            title = _title_case(candidate.text)
            if title.lower() != current and title not in out:
                out.append(title)
            if len(out) == 3:
                break
        return out

    def thumbnails(self, indexes: list[int], text: str, *, spare: bool = True) -> list[str]:
        """Thumbnail briefs: a frame that gives nothing away, with the text to set on it."""
        out = []
        avoid = set(self.note_targets("avoid"))
        # The frames asked for, then any frame with a face that gives nothing away.
        faces = sorted(
            (i for i, shot in enumerate(self.shots) if shot.get("characters")),
            key=lambda i: (-self.intensity(self.shots[i]), i),
        )
        for index in dict.fromkeys([*indexes, *(faces if spare or not indexes else [])]):
            if index in self.story.secret_shots or index in avoid:
                continue
            if not 0 <= index < len(self.shots):
                continue
            shot = self.shots[index]
            out.append(
                f"thumbnail: {shot['shot_id']}, {shot.get('framing') or 'close-up'} — "
                f"{self.describe(shot)}; text: '{text}'"
            )
        return out[:2]

    def stinger(self) -> tuple[dict[str, Any], list[str], str] | None:
        """A stinger shot after the payoff, two or three lines to choose from, and why.

        The pair is the two characters the audience talks about most (the top theme by
        distinct viewers that names two of them), or the two with the most screen time;
        the thread is the bible character the payoff or twist names who is not on screen
        at the end (a rival, a warning), or the relation the bible gives one of the pair.
        """
        firsts = {n.split()[0].lower(): n.split()[0] for n in self.bible}
        pair: list[str] = []
        because = ""
        # Warm, organic themes only: a brigade ("write him out") or a complaint is not a
        # thread viewers want continued.
        organic = [
            t
            for t in self.ctx.themes
            if t.sentiment >= 0 and t.flagged_comments <= 0.3 * max(t.comments, 1)
        ]
        for theme in sorted(organic, key=lambda t: (-t.distinct_authors, t.theme_id)):
            named = [firsts[t.lower()] for t in theme.terms if t.lower() in firsts]
            named += [
                firsts[w.lower()]
                for w in re.findall(r"[A-Za-z]+", theme.label)
                if w.lower() in firsts and firsts[w.lower()] not in named
            ]
            if len(named) >= 2:
                pair = named[:2]
                because = (
                    f"The thread viewers talk about most is {pair[0]} and {pair[1]} "
                    f"({theme.distinct_authors} different viewers)"
                )
                break
        if not pair:
            pair = self.names_in_episode()[:2]
            because = "The stinger stays with the two characters on screen longest"
        if len(pair) < 2:
            return None
        a, b = pair
        last = self.shots[-1] if self.shots else {}
        if str(last.get("shot_id", "")).endswith("-stinger"):
            return None  # it ends on a stinger already: a second one on top reads as a stutter
        on_screen = {n.lower() for n in self.first_names(last)}
        turn = f"{self.brief.get('payoff', '')} {self.brief.get('twist', '')}"
        thread = next(
            (
                firsts[w.lower()]
                for w in re.findall(r"[A-Za-z]+", turn)
                if w.lower() in firsts
                and firsts[w.lower()] not in (a, b)
                and w.lower() not in on_screen
            ),
            None,
        )
        family = thread is None
        if thread is None:
            bonds = relations(
                {c.name.split()[0]: c.description for c in self.ctx.series.characters}
            )
            thread = next(
                (x for x, _, y in bonds if y in (a, b) and x not in (a, b)), None
            ) or next((y for x, _, y in bonds if x in (a, b) and y not in (a, b)), None)
        if thread is not None and not family:
            because += f"; it reopens the {thread} thread the ending leaves hanging."
            lines = [
                f"{format_line(a, f'There’s something I haven’t told you about {thread}.')} / "
                f"{format_line(b, 'Then tell me now.')}",
                f"{format_line(b, f'{thread} called. {self.pronoun(thread)} to meet.')} / "
                f"{format_line(a, 'Then we go together.')}",
                f"{format_line(a, f'If {thread} comes near you again—')} / "
                f"{format_line(b, 'Then what? Then what, ' + a + '?')}",
            ]
        elif thread is not None:
            because += f"; it brings in {thread}, whom the bible ties to them."
            lines = [
                f"{format_line(a, f'There’s something I haven’t told you about {thread}.')} / "
                f"{format_line(b, 'Then tell me now.')}",
                f"{format_line(b, f'Does {thread} know?')} / {format_line(a, 'Not yet.')}",
                f"{format_line(a, f'{thread} isn’t telling us everything.')} / "
                f"{format_line(b, 'Neither are you.')}",
            ]
        else:
            because += "."
            lines = [
                f"{format_line(a, 'There’s something I haven’t told you.')} / "
                f"{format_line(b, 'Then tell me now.')}",
                f"{format_line(b, 'Say it again.')} / {format_line(a, 'Not here. Not yet.')}",
            ]
        lines = [self.clean(line) for line in lines if self.acceptable(line)]
        if not lines:
            return None
        place = next(
            (
                loc
                for loc in self.ctx.series.constraints.locations
                if content_words(loc)
                & content_words(" ".join(self.text_of(i) for i in range(len(self.shots))))
            ),
            "",
        )
        words_ = max(len(line.replace(" / ", " ").split()) for line in lines)
        shot = {
            "shot_id": f"{last.get('shot_id', 's')}-stinger",
            "start_s": self.runtime,
            "duration_s": max(3.0, round_half(words_ / WORDS_PER_S + 1.0)),
            "camera": "slow push-in",
            "action": f"Later that night{' at the ' + place if place else ''}: {a} and {b}, alone",
            "mood": "charged",
            "framing": "two-shot",
            "caption": "",
            "dialogue": lines[0],
            "characters": [a, b],
            # The stinger's own picture, not the last shot's: a keyframe model draws the prompt.
            "keyframe_prompt": f"two-shot at night{' at the ' + place if place else ''}, "
            f"{a} and {b} face each other, alone, charged, slow push-in",
            "seed": int(last.get("seed", 0) or 0) + 1,
        }
        return shot, lines, because

    # --- evidence -----------------------------------------------------------------------

    def evidence_for(self, keys: tuple[str, ...], prefer: list[str]) -> Evidence:
        """Evidence of a proposal no single finding motivates (a promoted variant)."""
        metrics = {k: self.numbers[k] for k in keys if k in self.numbers}
        by_id = {c.comment_id: c for c in self.comments}
        chosen = [i for i in prefer if i in by_id][:3]
        return Evidence(
            metrics=metrics,
            comment_ids=chosen,
            quotes=[shorten(by_id[i].text, 120) for i in chosen],
            findings=[],
        )

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
            phrase = first_sentence(comment.text, 10).strip(" \"'“”")
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


def _split_spoken(line: str) -> list[str]:
    return sentences(SPEAKER_PREFIX.sub("", line.strip()))


def _title_case(text: str) -> str:
    small = {"a", "an", "the", "of", "to", "in", "on", "at", "and", "or", "for"}
    out = []
    for i, word in enumerate(text.rstrip(".!…").split()):
        out.append(word if i and word.lower() in small else word[:1].upper() + word[1:])
    return " ".join(out)


def frame_text(w: Writing, shot: dict[str, Any]) -> str:
    return f"{shot.get('framing') or 'close-up'} — {w.describe(shot)}"


def rule_rationale(rule: str, method: str, extra: str, writing: Writing) -> str:
    notes = len(writing.ctx.notes)
    note_text = (
        f" {notes} writer note(s) on file are not interpreted by the rule-based writer."
        if notes
        else ""
    )
    return f"rule-based offline writer: {rule} rule (the method: {method}). {extra}{note_text}"
