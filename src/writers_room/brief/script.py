"""An episode read as a script: who says which line in which shot, and which shots carry
the story's turns.

The shot manifest keeps dialogue as text — ``"THEO (V.O.): It was legal. Airtight."``, several
speakers in one shot separated by ``" / "``. The writer and the guard both need it as lines
with their speakers, and both need to know which shots carry the brief's hook, twist and
payoff (so a cut never takes them and packaging never gives them away). This module is the one
reading of both, so the writer's idea of "the twist line" is the guard's.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

__all__ = [
    "STORY_FIELDS",
    "Line",
    "carriers",
    "content_words",
    "format_line",
    "parse_dialogue",
    "protected_sentences",
    "script_lines",
    "sentences",
    "shared_run",
    "shot_text",
    "stem",
    "story_shots",
    "word_runs",
]

STORY_FIELDS = ("hook", "twist", "payoff")

_LABEL = re.compile(r"^\s*([A-Z][A-Z'’. -]*[A-Z])\s*(\([^)]*\))?\s*:\s*")
_WORD = re.compile(r"[^\W\d_]+(?:['’][^\W\d_]+)*|\d+", re.UNICODE)
_SENTENCE = re.compile(r"(?<=[.!?…])\s+(?=[^a-z])")
# Words that carry no story on their own (function words, stage directions, fillers).
_STOP = frozenset(
    """a about above after again against all also am an and any are as at be because been
    before being below between both but by can could did do does doing don't down during each
    few for from further had has have having he her here hers herself him himself his how i if
    in into is it its itself just let me more most my myself no nor not now of off on once only
    or other our ours out over own same she should so some such than that the their theirs them
    themselves then there these they this those through to too under until up very was we were
    what when where which while who whom why will with would you your yours yourself yourselves
    one two get got gets go goes going gone back still even ever every way like just across
    toward towards onto upon yet ago away""".split()
) | frozenset(
    # Contractions are function words too ("you'll", "that's"): they carry no story.
    """i'm i'd i'll i've you're you'd you'll you've he's he'd he'll she's she'd she'll it's
    it'd it'll we're we'd we'll we've they're they'd they'll they've that's there's here's
    what's who's where's let's can't won't isn't aren't wasn't weren't didn't doesn't hasn't
    haven't hadn't couldn't wouldn't shouldn't ain't""".split()
)


@dataclass(frozen=True)
class Line:
    """One spoken line: its shot, its speaker and its words."""

    shot_index: int
    shot_id: str
    speaker: str
    """The label as written, upper case (``THEO``), or "" for an unattributed line."""
    text: str
    """The words spoken, without the label."""
    direction: str = ""
    """A parenthetical after the label, e.g. ``(V.O.)``."""

    @property
    def raw(self) -> str:
        return format_line(self.speaker, self.text, self.direction)


def format_line(speaker: str, text: str, direction: str = "") -> str:
    """``"THEO (V.O.): text"`` — the manifest's way of writing a line."""
    if not speaker:
        return text
    label = speaker.upper() + (f" {direction}" if direction else "")
    return f"{label}: {text}"


def parse_dialogue(dialogue: str) -> list[tuple[str, str, str]]:
    """``(speaker, direction, text)`` for each line of a shot's dialogue field."""
    out = []
    for part in dialogue.split(" / "):
        part = part.strip()
        if not part:
            continue
        label = _LABEL.match(part)
        if label:
            out.append((label.group(1).strip(), (label.group(2) or ""), part[label.end() :]))
        else:
            out.append(("", "", part))
    return out


def script_lines(manifest: Mapping[str, Any]) -> list[Line]:
    """Every spoken line of the manifest, in order."""
    lines = []
    for index, shot in enumerate(manifest.get("shots", []) or []):
        for speaker, direction, text in parse_dialogue(str(shot.get("dialogue", ""))):
            lines.append(
                Line(
                    shot_index=index,
                    shot_id=str(shot.get("shot_id", index)),
                    speaker=speaker,
                    text=text,
                    direction=direction,
                )
            )
    return lines


_ABBREVIATION = re.compile(r"\b(?:Mr|Ms|Mrs|Dr|St|Jr|Sr|No|vs)\.$")


def sentences(text: str) -> list[str]:
    """Sentences of a line, punctuation kept ("Ms. Okafor" stays one sentence)."""
    out: list[str] = []
    for piece in _SENTENCE.split(text.strip()):
        if not piece:
            continue
        if out and _ABBREVIATION.search(out[-1]):
            out[-1] = f"{out[-1]} {piece}"
        else:
            out.append(piece)
    return out


def stem(word: str) -> str:
    """A crude English stem, enough to match 'signed' with 'sign', 'chips' with 'chip'."""
    word = word.lower().replace("’", "'")
    for suffix in ("'s", "s'"):
        if word.endswith(suffix):
            word = word[: -len(suffix)]
    for suffix in ("ing", "ed", "es", "s"):
        if len(word) > len(suffix) + 3 and word.endswith(suffix):
            word = word[: -len(suffix)]
            if suffix in ("ing", "ed") and len(word) > 3 and word[-1] == word[-2]:
                word = word[:-1]  # winning → win, stopped → stop
            return word
    return word


def content_words(text: str) -> set[str]:
    """Stems of the words that carry meaning (no function words, at least three letters)."""
    return {
        stem(w)
        for w in _WORD.findall(text)
        if len(w) >= 3 and w.lower().replace("’", "'") not in _STOP
    }


def shot_text(shot: Mapping[str, Any]) -> str:
    """Everything a shot says and shows, as one text."""
    spoken = " ".join(text for _, _, text in parse_dialogue(str(shot.get("dialogue", ""))))
    return " ".join(str(shot.get(key, "")) for key in ("action", "caption") if shot.get(key)) + (
        " " + spoken if spoken else ""
    )


def _names_in(shot: Mapping[str, Any]) -> list[str]:
    """Every word of the names in a shot's ``characters`` (a list, or "A,B" text)."""
    value = shot.get("characters") or []
    names = value.split(",") if isinstance(value, str) else [str(n) for n in value]
    return [part for name in names for part in name.split() if part]


def carriers(beat: str, shots: Sequence[Mapping[str, Any]], *, ending: bool = False) -> list[int]:
    """Indexes of the shots that carry ``beat`` (a hook, twist or payoff sentence).

    The best-matching shot by shared content words (character names count for half), and
    every shot between it and the other strong matches: a turn plays over a run of shots.
    With ``ending`` (the payoff) the run goes on to the last shot.
    """
    words = content_words(beat)
    if not words or not shots:
        return []
    names = {stem(part) for shot in shots for part in _names_in(shot)}
    scores, plain = [], []
    for shot in shots:
        shared = words & content_words(shot_text(shot))
        scores.append(sum(0.5 if w in names else 1.0 for w in shared))
        plain.append(shared - names)
    best = max(scores)
    if best < 1.5:
        return []
    top = scores.index(best)

    def joins(index: int) -> bool:
        # A neighbour joins the run when it shares a word besides names, and enough of them;
        # a shot right next to the best one also joins when it plays a part of the beat the
        # best one does not ("Silas ... on the last card" then "he recognizes her").
        if not plain[index]:
            return False
        if scores[index] >= 0.4 * best:
            return True
        return abs(index - top) == 1 and bool(plain[index] - plain[top])

    first = top
    while first > 0 and joins(first - 1):
        first -= 1
    last = top
    while last < len(shots) - 1 and joins(last + 1):
        last += 1
    if ending:
        last = len(shots) - 1
    return list(range(first, last + 1))


def protected_sentences(
    brief: Mapping[str, Any], manifest: Mapping[str, Any]
) -> list[tuple[str, int, str, str]]:
    """``(field, shot_index, speaker, sentence)`` for each spoken sentence that carries the
    hook, twist or payoff: in a carrying shot, the sentences sharing two content words with
    the brief's words for it (or the one sharing the most), or all its sentences when none
    shares any."""
    shots = list(manifest.get("shots", []) or [])
    out = []
    for field, indexes in story_shots(brief, manifest).items():
        words = content_words(str(brief.get(field, "")))
        for index in indexes:
            spoken = [
                (speaker, sentence)
                for speaker, _, text in parse_dialogue(str(shots[index].get("dialogue", "")))
                for sentence in sentences(text)
            ]
            shares = [len(words & content_words(se)) for _, se in spoken]
            most = max(shares, default=0)
            # A sentence carries the beat when it shares two of its words, or the most.
            sharing = [
                line for line, n in zip(spoken, shares, strict=True) if n >= 2 or (n and n == most)
            ]
            # No sentence names the beat: the shot's lines play it, all of them.
            for speaker, sentence in sharing or spoken:
                out.append((field, index, speaker, sentence))
    return out


def story_shots(brief: Mapping[str, Any], manifest: Mapping[str, Any]) -> dict[str, list[int]]:
    """For each of hook, twist and payoff the brief states, the shots that carry it."""
    shots = list(manifest.get("shots", []) or [])
    out: dict[str, list[int]] = {}
    for field in STORY_FIELDS:
        text = str(brief.get(field, "") or "")
        # The hook is the opening: look for it in the first third of the episode only.
        pool = shots[: max(1, len(shots) // 3)] if field == "hook" else shots
        found = carriers(text, pool, ending=field == "payoff")
        if found:
            out[field] = found
    return out


def _tokens(text: str) -> list[str]:
    return [w.lower().replace("’", "'") for w in _WORD.findall(text)]


def word_runs(text: str, length: int = 5) -> set[tuple[str, ...]]:
    """Every run of ``length`` words in ``text`` (lower-cased, punctuation dropped): the
    shingles :func:`shared_run` compares, for callers that index many texts once."""
    tokens = _tokens(text)
    return {tuple(tokens[i : i + length]) for i in range(len(tokens) - length + 1)}


def shared_run(text: str, others: Iterable[str], length: int = 5) -> str | None:
    """The first run of ``length`` words ``text`` shares with any of ``others``, or None."""
    mine = word_runs(text, length)
    if not mine:
        return None
    for other in others:
        theirs = _tokens(other)
        for i in range(len(theirs) - length + 1):
            run = tuple(theirs[i : i + length])
            if run in mine:
                return " ".join(run)
    return None
