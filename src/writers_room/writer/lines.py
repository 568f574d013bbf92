"""The offline writer's ear: which of an episode's own lines open it, sell it or slow it.

Rules, not a model. Every line here is either the episode's own words (its dialogue and
captions, picked by markers of conflict, question and reveal) or built from the bible
(names, relations, places) — never a viewer's words, and never the twist or the payoff.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from writers_room.brief.script import (
    STORY_FIELDS,
    content_words,
    parse_dialogue,
    protected_sentences,
    sentences,
    shared_run,
    shot_text,
    stem,
    story_shots,
)

__all__ = [
    "Candidate",
    "StoryMap",
    "complaint_shots",
    "DENSE",
    "density",
    "prop_of",
    "is_slate",
    "line_candidates",
    "relations",
]

_CONFLICT = re.compile(
    r"\b(lie|lied|lying|liar|left|leave|never|stop|hate|kill\w*|steal\w*|stole|force|trust|"
    r"protect\w*|secret\w*|fight\w*|alone|run|get out|let me think|why|all in|mine|owe\w*|"
    r"sell|sold|don't|can't|won't|stay away|fault)\b",
    re.IGNORECASE,
)
_REVEAL = re.compile(
    r"\b(know|knew|truth|letter\w*|found|find|saw|seen|died|dead|night|who|remember|met|"
    r"recogni\w*|real|really|third|hid|hidden|buried|tide|vault|name)\b",
    re.IGNORECASE,
)
_NUMBER_WORDS = frozenset(
    "one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen "
    "sixteen seventeen eighteen nineteen twenty thirty forty fifty hundred thousand million".split()
)
_MONTHS = frozenset(
    "january february march april may june july august september october november december "
    "monday tuesday wednesday thursday friday saturday sunday".split()
)
# A slate: a time card, a place card or a name card ("Three years earlier", "Silas Drummond").
_SLATE = re.compile(
    r"\b(earlier|later|years?|ago|months?|weeks?|days?|hours?|minutes?|morning|tonight|"
    r"yesterday|tomorrow|meanwhile|present day|keeper|harbormaster)\b",
    re.IGNORECASE,
)
# Props a story turns on: what a viewer asks about when one is on screen.
_CONTAINERS = "lockbox|envelope|letter|box|bag|case|safe|drawer|briefcase|suitcase|parcel|package"
_PROPS = (
    _CONTAINERS + "|photo|photograph|tape|cassette|chip|key|ring|deed|map|phone|note|diary|file"
)
_PROP = re.compile(rf"\b(?:a|an|the)\s+((?:[a-z-]+\s+){{0,2}}?(?:{_PROPS})s?)\b", re.IGNORECASE)
_RELATION = re.compile(
    r"\b([A-Z][a-z]+)['’]s\s+(?:[a-z-]+\s+){0,2}?"
    r"(sister|brother|ex-fiancée?|ex|fiancée?|father|mother|daughter|son|husband|wife|partner|"
    r"boss|rival|mentor|friend|handler|crew)\b"
)


@dataclass(frozen=True)
class Candidate:
    """A line the episode already has, scored as hook or headline material."""

    text: str
    speaker: str
    """The speaker's label (``MARA``), or "" for an on-screen caption."""
    shot_index: int
    score: float
    why: str


DENSE = 2.5  # a sentence this dense (numbers, names, lists) is exposition to trim


class StoryMap:
    """Which shots and sentences carry the brief's turns, and which words would spoil them."""

    def __init__(self, brief: dict[str, Any], manifest: dict[str, Any], names: list[str]):
        self.shots = list(manifest.get("shots", []) or [])
        self.carriers = story_shots(brief, manifest)
        self.protected = protected_sentences(brief, manifest)
        secret = [(f, i, s) for f, i, _, s in self.protected if f in ("twist", "payoff")]
        self.secret_sentences = [s for _, _, s in secret]
        self.secret_shots = {
            i for field in ("twist", "payoff") for i in self.carriers.get(field, [])
        }
        known = content_words(
            " ".join(str(brief.get(k, "")) for k in ("premise", "hook", "title"))
        ) | {stem(part) for name in names for part in name.split()}
        turn = " ".join(str(brief.get(k, "")) for k in ("twist", "payoff"))
        turn += " " + " ".join(shot_text(self.shots[i]) for i in sorted(self.secret_shots))
        self.spoiler_words = content_words(turn) - known

    def spoils(self, text: str) -> bool:
        """Whether ``text`` would give away the twist or the payoff."""
        if shared_run(text, self.secret_sentences, 4):
            return True
        if any(s.strip().lower() == text.strip().lower() for s in self.secret_sentences):
            return True
        return len(content_words(text) & self.spoiler_words) >= 2

    def is_protected(self, shot_index: int, sentence: str, *, fields: tuple[str, ...]) -> bool:
        return any(
            f in fields and i == shot_index and s == sentence for f, i, _, s in self.protected
        )


def _score(text: str) -> tuple[float, str]:
    score, why = 0.0, []
    if "?" in text:
        score += 2.0
        why.append("a question")
    if _CONFLICT.search(text):
        score += 2.0
        why.append("conflict")
    if _REVEAL.search(text):
        score += 1.5
        why.append("a reveal")
    if "!" in text:
        score += 0.5
    n = len(text.split())
    if n <= 8:
        score += 1.0
    elif n > 14:
        score -= 2.0
    if n < 2:
        score -= 1.0
    return score, " and ".join(why) or "short"


def is_slate(text: str, names: set[str]) -> bool:
    """A caption that only says when, where or who (not a line to sell the episode)."""
    if _SLATE.search(text):
        return True
    words = [w.lower() for w in re.findall(r"[A-Za-z]+", text)]
    return bool(words) and all(w in names for w in words)


def line_candidates(
    shots: list[dict[str, Any]],
    story: StoryMap,
    *,
    skip_shots: set[int] = frozenset(),  # type: ignore[assignment]
    acceptable: Any = None,
    names: set[str] = frozenset(),  # type: ignore[assignment]
) -> list[Candidate]:
    """Sentences and captions of the episode that could open or sell it, best first.

    Never a sentence that carries the twist or the payoff, never one from a shot that
    does, never one that would spoil them.
    """
    found: dict[str, Candidate] = {}
    for index, shot in enumerate(shots):
        if index in skip_shots or index in story.secret_shots:
            continue
        texts = [("", str(shot.get("caption", "")).strip())]
        texts += [
            (speaker, sentence)
            for speaker, _, line in parse_dialogue(str(shot.get("dialogue", "")))
            for sentence in sentences(line)
        ]
        for speaker, text in texts:
            if not text or story.spoils(text):
                continue
            if len(text.split()) >= 6 and density(text, names) >= DENSE:
                continue  # exposition: it sells nothing
            if not speaker and is_slate(text, names):
                continue
            if acceptable is not None and not acceptable(text):
                continue
            score, why = _score(text)
            if not speaker:
                score += 0.5  # a caption reads without a voice
            key = text.lower()
            if key not in found or found[key].score < score:
                found[key] = Candidate(text, speaker, index, score, why)
    return sorted(found.values(), key=lambda c: (-c.score, c.shot_index, c.text))


def prop_of(action: str) -> tuple[str, bool] | None:
    """The first prop an action line shows, and whether it holds something.

    "She digs under the kelp and drags out a rusted lockbox" → ``("rusted lockbox", True)``.
    """
    match = _PROP.search(action)
    if match is None:
        return None
    phrase = " ".join(match.group(1).split())
    noun = phrase.split()[-1].lower().rstrip("s")
    return phrase, noun in _CONTAINERS.split("|")


def density(sentence: str, names: set[str]) -> float:
    """How much a sentence asks a viewer to hold: numbers, proper names, lists, length."""
    tokens = re.findall(r"[\w'’-]+", sentence)
    if not tokens:
        return 0.0
    numbers = sum(
        1
        for t in tokens
        if any(ch.isdigit() for ch in t)
        or t.lower().split("-")[0] in _NUMBER_WORDS
        or t.lower() in _MONTHS
    )
    proper = sum(
        1
        for position, t in enumerate(tokens)
        if position > 0
        and t[:1].isupper()
        and t.lower() not in names
        and t.lower() not in _MONTHS
        and len(t) > 1
    )
    commas = sentence.count(",") + sentence.count(";")
    return 2.0 * numbers + 1.5 * proper + commas + 0.1 * len(tokens)


def complaint_shots(
    shots: list[dict[str, Any]], complaints: list[str], *, before_s: float
) -> dict[int, str]:
    """Shots starting before ``before_s`` that viewers' complaints name, with the word.

    A complaint names a shot when a content word of the complaint (fog, flashback, ...)
    is in the shot's action or caption.
    """
    said = set()
    for text in complaints:
        said |= content_words(text)
    named: dict[int, str] = {}
    for index, shot in enumerate(shots):
        if float(shot.get("start_s", 0.0)) >= before_s:
            continue
        shown = content_words(f"{shot.get('action', '')} {shot.get('caption', '')}")
        common = sorted(said & shown)
        if common:
            named[index] = common[0]
    return named


def relations(descriptions: dict[str, str]) -> list[tuple[str, str, str]]:
    """``(character, relation, to_whom)`` read from bible descriptions.

    "June: Mara's younger sister, who stayed ..." → ``("June", "sister", "Mara")``.
    """
    found = []
    for name, text in descriptions.items():
        for match in _RELATION.finditer(text):
            other, relation = match.group(1), match.group(2).lower()
            if other != name:
                found.append((name, relation, other))
    return found


STORY_TURNS = tuple(f for f in STORY_FIELDS if f != "hook")
