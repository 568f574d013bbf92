""" "No AI slop": the stock phrases and tics that mark text nobody wrote on purpose.

The rules are heuristics a writer can argue with, so each one reports exactly what it
saw: the phrase, or the word repeated and how often.
"""

from __future__ import annotations

import re
from collections import Counter

from writers_room.guardrails.text import words

__all__ = ["SLOP_PHRASES", "empty_slots", "repetition", "slop_phrases"]

SLOP_PHRASES: tuple[str, ...] = (
    r"in a world where",
    r"a journey of",
    r"journey of self[- ]discovery",
    r"unleash(es|ed|ing)?",
    r"game[- ]?changer",
    r"game[- ]?changing",
    r"elevat(e|es|ed|ing)",
    r"delv(e|es|ed|ing)",
    r"tapestry",
    r"testament to",
    r"roller ?coaster of emotions",
    r"like never before",
    r"buckle up",
    r"next level",
    r"embark(s|ed|ing)? on",
    r"synerg(y|ies)",
    r"a symphony of",
    r"navigat(e|es|ing) the complexities",
    r"it'?s important to note",
    r"as an ai( language model)?",
    r"nestled",
    r"in today'?s fast[- ]paced",
    r"captivat(e|es|ing) audiences",
    r"edge[- ]of[- ](your|their)[- ]seat",
    r"must[- ]watch",
)
_SLOP = tuple(re.compile(rf"(?<!\w){p}(?!\w)", re.IGNORECASE) for p in SLOP_PHRASES)

_FUNCTION_WORDS = {
    "the", "a", "an", "and", "or", "but", "of", "to", "in", "on", "at", "for", "with",
    "by", "from", "as", "is", "are", "was", "were", "be", "it", "its", "this", "that",
    "her", "his", "she", "he", "they", "them", "their", "then", "than", "so", "not", "no",
}  # fmt: skip


# A template whose blank was never filled: "()", "''", "caption ''", "open: ." and the like.
_EMPTY_SLOT = re.compile(r"\(\s*\)|(?<!\w)''(?!\w)|\"\"|:\s*[.,;]|—\s*\(|\{\w*\}")


def empty_slots(text: str) -> list[str]:
    """Unfilled template slots in ``text`` (empty brackets or quotes, a colon with nothing)."""
    return [m.group(0) for m in _EMPTY_SLOT.finditer(text)]


def slop_phrases(text: str) -> list[str]:
    """Stock phrases found in ``text``, as written there."""
    found = []
    for pattern in _SLOP:
        match = pattern.search(text)
        if match:
            found.append(match.group(0))
    return found


def repetition(text: str, *, min_count: int = 4, max_share: float = 0.25) -> str | None:
    """Describe an excessive repetition in ``text``, or ``None`` if there is none.

    Flags a content word used at least ``min_count`` times that makes up more than
    ``max_share`` of the content words, and any three-word phrase used three times.
    """
    tokens = words(text)
    content = [t for t in tokens if t not in _FUNCTION_WORDS and len(t) > 2]
    if content:
        word, count = Counter(content).most_common(1)[0]
        if count >= min_count and count / len(content) > max_share:
            return f"{word!r} {count} times in {len(content)} content words"
    # Single letters ("s" of "3 s", "s01") are units and ids, not prose.
    prose = [t for t in tokens if len(t) > 1]
    trigrams = Counter(zip(prose, prose[1:], prose[2:], strict=False))
    if trigrams:
        gram, count = trigrams.most_common(1)[0]
        if count >= 3:
            return f"{' '.join(gram)!r} repeated {count} times"
    return None
