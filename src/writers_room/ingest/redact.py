"""PII redaction at the door: nothing stores, embeds, logs or prompts a comment before this.

Redacted: e-mail addresses, phone numbers, ``@handles``, Slack-style mentions
(``<@U123>``, ``<!channel>``, ``<#C123|name>``), and URLs that carry a query string or
fragment (tokens, tracking ids). Plain URLs without a query keep their host and path:
"watch it on example.com/show" is signal, not personal data. Author ids are pseudonymised
with a keyed hash so the same viewer stays countable without being identifiable.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from dataclasses import dataclass

__all__ = ["Redaction", "pseudonymise", "redact"]

_SLACK_MENTION = re.compile(r"<[@!#][^<>\s]{1,80}>")
_URL_WITH_QUERY = re.compile(r"\b(?:https?://|www\.)[^\s<>\"']*?[?#][^\s<>\"']*", re.IGNORECASE)
_EMAIL = re.compile(r"\b[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}\b")
# 7+ digits in total, optionally with a leading +, separated by spaces, dots, dashes or
# brackets: catches +1 (555) 123-4567, 555.123.4567, 07700 900123; leaves "ep 3" and years.
_PHONE = re.compile(r"(?<![\w/])(?:\+?\d[\s().-]{0,2}){6,14}\d(?![\w/])")
_HANDLE = re.compile(r"(?<![\w.@])@[A-Za-z0-9_](?:[A-Za-z0-9_.]{0,29}[A-Za-z0-9_])?")

_RULES: tuple[tuple[re.Pattern[str], str], ...] = (
    (_SLACK_MENTION, "[mention]"),
    (_URL_WITH_QUERY, "[url]"),
    (_EMAIL, "[email]"),
    (_PHONE, "[phone]"),
    (_HANDLE, "[handle]"),
)


@dataclass(frozen=True, slots=True)
class Redaction:
    text: str
    count: int


def redact(text: str) -> Redaction:
    """Replace personal data in ``text`` with labelled placeholders."""
    total = 0
    for pattern, label in _RULES:
        text, n = pattern.subn(label, text)
        total += n
    return Redaction(text=text, count=total)


def pseudonymise(author_id: str, key: bytes) -> str:
    """A stable, keyed, non-reversible id for an author (16 hex chars)."""
    return hmac.new(key, author_id.encode("utf-8"), hashlib.sha256).hexdigest()[:16]
