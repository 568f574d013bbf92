"""Continuity with the series bible: who may appear, and which beats must stay.

Names are the hard part of "never invent a character": free text has no character
field. The rule here is deliberately simple and explainable: a capitalised word in the
middle of a sentence (or a ``NAME:`` speaker label) must already be known — from the
bible's names and descriptions, the series premise, locations, the brief and shot
manifest in force — or be one of a few ordinary capitalised words (days, months, "I").
A word at the start of a sentence is only checked when it is a speaker label or a
possessive ("Rick's"), because sentence-initial capitals are usually ordinary words.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from typing import Any

from writers_room.guardrails.text import strings_in, words

__all__ = [
    "known_vocabulary",
    "locked_beat_violations",
    "match_character",
    "unknown_cast",
    "unknown_names",
]

_ORDINARY = {
    "i", "i'm", "i've", "i'll", "i'd", "ok", "okay", "tv", "pov", "cta", "ai", "dm", "dms",
    "episode", "ep", "part", "act", "scene", "season", "finale", "pilot", "sequel",
    "mom", "dad", "mum", "god", "sir", "ma'am", "miss", "mr", "mrs", "ms", "dr",
    "monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday",
    "january", "february", "march", "april", "may", "june", "july", "august",
    "september", "october", "november", "december", "christmas", "halloween",
    "tiktok", "reels", "shorts", "youtube", "instagram", "english", "v.o", "o.s",
}  # fmt: skip

# Words common enough that a Title Case headline ("The Night Everything Changed") does
# not read as a list of strangers.
_COMMON = set(
    """
    a about after again against all almost alone already also always am an and another any
    are around as at away back bad be because been before behind being best better between
    big both but by came can can't change come could day dead did didn't do does doesn't done
    don't down each end ending even ever every everything eyes face fall family far final
    find first for found from get gets give go goes going gone good got had has have he
    heart her here hers him his home how i if in inside into is isn't it it's its just
    keep kept know last late left let lie lies life like little long look lost love made
    make man more most much must my never new next night no not nothing now of off old on
    once one only or other our out over own past real right run said same saw say secret
    secrets see seen she should since so some something still stop story such take tell
    than that that's the their them then there these they thing things this those though
    three through time to told too truth try turn two under until up us very wait want
    was wasn't watch way we well went were what when where which while who whole why will
    with without woman won't world would wrong yes yet you your
    """.split()
)

_OPENERS = "'\"“‘([*"
_TERMINATORS = ".!?:;—–/…\n-"
_CAPITALISED = re.compile(r"\b([A-Z][a-z]+)(['’]s)?\b")
_SPEAKER = re.compile(r"(?:^|/\s*)([A-Z][A-Z'’.-]+(?:\s+[A-Z][A-Z'’.-]+)*)\s*(?:\([^)]*\))?\s*:")


def known_vocabulary(texts: Iterable[str], *, extra: Iterable[Any] = ()) -> set[str]:
    """Lower-cased words of every reference text (bible, premise, brief, manifest...)."""
    vocab: set[str] = set()
    for text in texts:
        vocab.update(words(text))
    for value in extra:
        for text in strings_in(value):
            vocab.update(words(text))
    for word in list(vocab):
        vocab.add(re.sub(r"['’]s$", "", word))
    return vocab


def _title_case(text: str) -> bool:
    tokens = re.findall(r"[A-Za-z][A-Za-z'’]*", text)
    capitals = sum(1 for t in tokens if t[0].isupper())
    return len(tokens) >= 3 and capitals / len(tokens) >= 0.6


def _common(word: str) -> bool:
    return word in _COMMON


def _common_stem(word: str, vocabulary: set[str]) -> bool:
    # "Changed", "Burns", "Falling": a known or common word with an inflection.
    for suffix in ("ing", "ed", "es", "s", "d"):
        stem = word[: -len(suffix)]
        if word.endswith(suffix) and len(stem) > 2 and (stem in _COMMON or stem in vocabulary):
            return True
    return False


def _starts_sentence(text: str, position: int) -> bool:
    before = text[:position].rstrip()
    if before and before[-1] in _OPENERS:
        return True  # a quotation or an aside starts its own sentence
    return not before or before[-1] in _TERMINATORS


def unknown_names(text: str, vocabulary: set[str], *, strict: bool = False) -> list[str]:
    """Name-like words in ``text`` that appear nowhere in the reference ``vocabulary``.

    Args:
        text: The text to check.
        vocabulary: Known words (see :func:`known_vocabulary`).
        strict: Also check capitalised words that start a sentence, unless they are common
            English words — for viewer text a writer is about to reuse.

    Returns:
        The offending words in order of appearance, without duplicates.
    """
    found: list[str] = []
    title_case = _title_case(text)
    for match in _SPEAKER.finditer(text):
        for part in re.findall(r"[A-Za-z'’]+", match.group(1)):
            low = part.lower()
            if low not in vocabulary and low not in _ORDINARY and part.title() not in found:
                found.append(part.title())
    for match in _CAPITALISED.finditer(text):
        word, possessive = match.group(1), match.group(2)
        low = word.lower()
        if low in vocabulary or low in _ORDINARY or word in found:
            continue
        if title_case and (_common(low) or _common_stem(low, vocabulary)):
            continue
        if possessive and _starts_sentence(text, match.start()) and _common(low):
            continue  # "There's", "That's", "Here's": a contraction, not someone's
        if _starts_sentence(text, match.start()) and not possessive:
            if not strict or _common(low) or _common_stem(low, vocabulary):
                continue
        found.append(word)
    return found


def match_character(name: str, bible: Sequence[str]) -> str | None:
    """The bible name ``name`` refers to: the full name, or a unique first or last name."""
    wanted = " ".join(name.split()).lower()
    for full in bible:
        if full.lower() == wanted:
            return full
    partial = [full for full in bible if wanted in {part.lower() for part in full.split()}]
    return partial[0] if len(partial) == 1 else None


def unknown_cast(names: Iterable[str], bible: Sequence[str]) -> list[str]:
    """Entries of a shot's ``characters`` list that are not characters of the bible."""
    return [name for name in names if match_character(name, bible) is None]


def locked_beat_violations(base_brief: dict[str, Any], new_brief: dict[str, Any]) -> list[str]:
    """What a change did to the showrunner's locked beats (empty when they are intact).

    A locked beat must keep its exact text and stay among the beats; the list of locked
    beats itself may not be edited by a proposal.
    """
    problems = []
    locked = list(base_brief.get("locked_beats") or [])
    if list(new_brief.get("locked_beats") or []) != locked:
        problems.append(f"the locked_beats list was edited (locked: {locked})")
    beats = list(new_brief.get("beats") or [])
    for beat in locked:
        if beat not in beats:
            problems.append(f"locked beat {beat!r} was changed or removed")
    return problems
