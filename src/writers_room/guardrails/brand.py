"""Brand voice rules: banned terms, the series' rating and its sensitive topics.

Every function returns the offending values it found (empty when the text is fine), so
the brand guard can name them in a reason a writer can act on.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from writers_room.guardrails.text import term_pattern, words

__all__ = ["banned_terms_in", "rating_violations", "sensitive_topics_introduced", "topic_hits"]

# Ratings from most to least restrictive; an unknown rating is treated as PG-13, the
# default of a series bundle.
_FAMILY = {"G", "TV-Y", "TV-Y7", "TV-G", "PG", "TV-PG"}
_TEEN = {"PG-13", "TV-14"}
_ADULT = {"R", "NC-17", "TV-MA", "18+", "M"}

# Strong profanity and explicit sexual terms are out for anything up to PG-13; mild
# profanity and graphic gore are out for family ratings as well. Kept short on purpose:
# this is a floor under the series' own banned_terms, not a moderation model.
_STRONG = (
    "fuck", "fucking", "fucked", "motherfucker", "shit", "shitty", "bullshit", "cunt",
    "cock", "dick", "pussy", "porn", "porno", "pornographic", "nsfw", "orgasm", "blowjob",
    "sex scene", "explicit sex", "topless", "nude", "nudes",
)  # fmt: skip
_MILD = (
    "damn", "goddamn", "hell", "crap", "ass", "bitch", "bastard", "piss", "sexy",
    "gore", "gory", "dismember", "dismembered", "decapitated", "disembowel",
)  # fmt: skip

_STOP = {
    "and", "the", "of", "a", "an", "or", "to", "in", "on", "for", "with", "by", "misuse",
    "abuse", "financial", "hardship", "death", "parent", "loss", "related", "content",
}  # fmt: skip


def banned_terms_in(text: str, terms: Iterable[str]) -> list[str]:
    """The series' banned terms that occur in ``text`` (case-insensitive, whole words)."""
    return [term for term in terms if term.strip() and term_pattern(term).search(text)]


def rating_violations(text: str, rating: str) -> list[str]:
    """Words in ``text`` above the series' ``rating`` (e.g. strong profanity for PG-13)."""
    level = rating.strip().upper()
    if level in _ADULT:
        return []
    lexicon = _STRONG + _MILD if level in _FAMILY else _STRONG
    return [term for term in lexicon if term_pattern(term).search(text)]


def _topic_keys(topic: str) -> list[str]:
    # "grief and the death of a parent" -> ["grief and the death of a parent", "grief"]:
    # the whole phrase, or its head word (first content word), stemmed loosely.
    keys = [topic.strip()]
    content = [w for w in words(topic) if w not in _STOP and len(w) > 2]
    if content:
        head = re.sub(r"(ing|s)$", "", content[0]) if len(content[0]) > 5 else content[0]
        keys.append(head)
    return keys


def topic_hits(text: str, topics: Iterable[str]) -> list[str]:
    """The sensitive topics ``text`` touches (by the phrase or its head word)."""
    hits = []
    for topic in topics:
        for key in _topic_keys(topic):
            if not key:
                continue
            body = r"[\s\-]+".join(re.escape(p) for p in re.split(r"[\s\-]+", key) if p)
            if re.search(rf"(?<!\w){body}\w*", text, re.IGNORECASE):
                hits.append(topic)
                break
    return hits


def sensitive_topics_introduced(text: str, topics: Iterable[str], reference: str) -> list[str]:
    """Sensitive topics ``text`` touches that the ``reference`` (the brief in force) does not.

    A series about a drowning may talk about drowning; a proposal that brings a sensitive
    topic into an episode that never touched it needs a human writer, not a rule.
    """
    topics = list(topics)
    already = set(topic_hits(reference, topics))
    return [topic for topic in topic_hits(text, topics) if topic not in already]
