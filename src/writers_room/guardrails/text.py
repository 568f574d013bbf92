"""Small text helpers shared by the brand, continuity, slop and fencing rules."""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from typing import Any

__all__ = ["WORD", "first_match", "shorten", "strings_in", "term_pattern", "words"]

WORD = re.compile(r"[A-Za-z][A-Za-z'’-]*[A-Za-z]|[A-Za-z]")


def strings_in(value: Any) -> Iterator[str]:
    """Every string inside ``value`` (nested dicts and lists included), in order."""
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from strings_in(item)
    elif isinstance(value, list | tuple):
        for item in value:
            yield from strings_in(item)


def words(text: str) -> list[str]:
    """Lower-cased words of ``text`` (letters, inner apostrophes and hyphens)."""
    return [m.group(0).lower() for m in WORD.finditer(text)]


def term_pattern(term: str) -> re.Pattern[str]:
    """A case-insensitive, whole-word pattern for ``term``.

    Spaces and hyphens inside the term match each other ("insta-love" also catches
    "insta love"), so a writer cannot dodge a banned term with punctuation.
    """
    parts = [re.escape(part) for part in re.split(r"[\s\-]+", term.strip()) if part]
    body = r"[\s\-]+".join(parts)
    return re.compile(rf"(?<![\w]){body}(?![\w])", re.IGNORECASE)


def shorten(text: str, limit: int = 80) -> str:
    """``text`` on one line, cut to ``limit`` characters with an ellipsis."""
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1].rstrip() + "…"


def first_match(patterns: Iterable[re.Pattern[str]], text: str) -> str | None:
    """The text of the first match of any pattern in ``text``, or ``None``."""
    for pattern in patterns:
        found = pattern.search(text)
        if found:
            return found.group(0)
    return None
