"""PII redaction at the door: nothing stores, embeds, logs or prompts a comment before this.

The text is first normalised with NFKC, so full-width and other compatibility forms
(``ｊａｎｅ＠ｅｘａｍｐｌｅ．ｃｏｍ``) match the same rules as plain ASCII; the stored text is
the normalised one. Redacted:

* e-mail addresses, also spelled out (``jane dot doe at example dot com``, ``jane [at]
  example [dot] com``);
* IBANs (only those whose mod-97 check digits are right, so other codes stay);
* phone numbers in national and international formats (``+44 20 7946 0958``,
  ``030/12345678``, ``(02) 9876 5432``), but not dates or prices;
* ``@handles`` and Slack-style mentions (``<@U123>``, ``<!channel>``, ``<#C123|name>``);
* URLs, with or without a scheme, that carry a query string or fragment (tokens,
  tracking ids), or a token in their path (``https://x.com/reset/9f8e7d6c5b4a39281706``:
  a long run of letters and digits, or a UUID).

Plain URLs keep their host and path: "watch it on example.com/show" is signal, not
personal data. Author and viewer ids are pseudonymised with a keyed hash so the same
person stays countable without being identifiable.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import unicodedata
from dataclasses import dataclass
from typing import Any

__all__ = ["Redaction", "pseudonymise", "redact", "viewer_hash", "VIEWER_PREFIX"]

_SLACK_MENTION = re.compile(r"<[@!#][^<>\s]{1,80}>")
_URL_CHARS = r"[^\s<>\"']"
# A host name: labels and a TLD of letters (``that.really`` is a host too, so scheme-less
# URLs need a path, query or fragment that looks like one; see _url).
_HOST = r"(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,24}(?::\d{1,5})?"
_URL = re.compile(
    rf"(?:\b(?:https?|ftp)://{_URL_CHARS}+"
    rf"|\bwww\.{_URL_CHARS}+"
    rf"|(?<![\w@.]){_HOST}(?:/{_URL_CHARS}*|[?#]{_URL_CHARS}+))",
    re.IGNORECASE,
)
_HAS_SCHEME = re.compile(r"^(?:(?:https?|ftp)://|www\.)", re.IGNORECASE)
_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", re.IGNORECASE)
_RUN = re.compile(r"[A-Za-z0-9]+")
_EMAIL = re.compile(r"[A-Za-z0-9._%+-]{1,64}@[A-Za-z0-9.-]{1,255}\.[A-Za-z]{2,}\b")
# Spelled out: "dot" / "at" as words or in brackets, and a common top-level domain last.
# With a bracketed "[at]" the dots may be plain; with the bare word "at" every dot of the
# domain must be spelled, so "available at netflix.com" stays.
_SDOT = r"(?:\s*[\[({]\s*dot\s*[\])}]\s*|\s+dot\s+)"
_ANYDOT = rf"(?:{_SDOT}|\.)"
_TLD = (
    r"(?:com|net|org|edu|gov|info|biz|io|co|me|tv|app|dev|ai|uk|us|ca|au|de|fr|es|it|nl"
    r"|be|ch|at|se|no|dk|fi|ie|pl|pt|br|mx|in|jp|cn|ru|nz|za)"
)
# Bounded repeats (an address part is at most 64 characters, a name a few parts) keep
# the match linear in the text: unbounded ones made "a-a-a-…" quadratic.
_PART = r"[A-Za-z0-9_%+-]{1,64}"
_LABEL = r"[A-Za-z0-9-]{1,63}"
_LOCAL = rf"(?<![A-Za-z0-9_%+-]){_PART}(?:{_ANYDOT}{_PART}){{0,6}}"
_SPELLED_EMAIL = re.compile(
    rf"{_LOCAL}\s*[\[({{]\s*at\s*[\])}}]\s*{_LABEL}(?:{_ANYDOT}{_LABEL}){{0,6}}"
    rf"{_ANYDOT}{_TLD}\b"
    rf"|{_LOCAL}\s+at\s+{_LABEL}(?:{_SDOT}{_LABEL}){{0,6}}{_SDOT}{_TLD}\b",
    re.IGNORECASE,
)
_IBAN = re.compile(r"\b[A-Z]{2}\d{2}(?: ?[A-Z0-9]{4}){2,7}(?: ?[A-Z0-9]{1,4})?\b", re.IGNORECASE)
# 7-16 digits, optionally a leading + or (, separated by spaces, dots, dashes, slashes or
# brackets: +1 (555) 123-4567, 555.123.4567, 07700 900123, 030/12345678, +44 (0)20 ...
_PHONE = re.compile(r"(?<![\w/.,-])[+(]?\d(?:[\s()./-]{0,3}\d){6,15}(?![\w/])")
_DATE = re.compile(r"\d{4}[-./]\d{1,2}[-./]\d{1,2}|\d{1,2}[-./]\d{1,2}[-./]\d{2,4}")
_CURRENCY = "$€£¥₹₩₽¢"
_HANDLE = re.compile(r"(?<![\w.@])@[A-Za-z0-9_](?:[A-Za-z0-9_.]{0,29}[A-Za-z0-9_])?")


def _tokenish(path: str) -> bool:
    """Whether a URL path carries something that looks like a secret token."""
    if _UUID.search(path):
        return True
    for run in _RUN.findall(path):
        if len(run) >= 32:
            return True
        if len(run) >= 16 and any(c.isdigit() for c in run) and any(c.isalpha() for c in run):
            return True
    return False


def _url(match: re.Match[str]) -> str:
    url = match.group()
    scheme = _HAS_SCHEME.match(url)
    rest = url[scheme.end() :] if scheme else url
    cut = re.search(r"[/?#]", rest)
    after = rest[cut.start() :] if cut else ""
    path = re.split(r"[?#]", after, maxsplit=1)[0]
    tail = after[len(path) :]
    if scheme and len(tail) > 1:
        return "[url]"  # any query or fragment: tokens, tracking ids
    if not scheme and "=" in tail:
        return "[url]"  # scheme-less: a query that sets something
    return "[url]" if _tokenish(path) else url


def _iban(match: re.Match[str]) -> str:
    code = match.group().replace(" ", "").upper()
    if not 15 <= len(code) <= 34:
        return match.group()
    digits = "".join(str(int(c, 36)) for c in code[4:] + code[:4])
    return "[iban]" if int(digits) % 97 == 1 else match.group()


def _phone(match: re.Match[str]) -> str:
    text = match.group()
    start = match.start()
    before = match.string[max(0, start - 2) : start].strip()
    if before and before[-1] in _CURRENCY:
        return text  # a price: $1 299 999
    parts = [p for p in re.split(r"\s+[-–]?\s*", text.strip("() ")) if p]
    if parts and all(_DATE.fullmatch(p) for p in parts):
        return text  # 2026-11-16, 16.11.2026, a range of dates
    return "[phone]"


# Cheap scans that every text containing a match also matches: the costlier patterns
# (which try many starting points) run only on the few texts that pass.
_SPELLED_HINT = re.compile(r"[\[({]\s*at\s*[\])}]|\bdot\b", re.IGNORECASE)
_URL_HINT = re.compile(r"://|www\.|\.[A-Za-z]{2,24}(?::\d{1,5})?[/?#]", re.IGNORECASE)

_RULES: tuple[tuple[re.Pattern[str], str | object, re.Pattern[str] | None], ...] = (
    (_SLACK_MENTION, "[mention]", None),
    (_EMAIL, "[email]", None),
    (_SPELLED_EMAIL, "[email]", _SPELLED_HINT),
    (_URL, _url, _URL_HINT),
    (_IBAN, _iban, None),
    (_PHONE, _phone, None),
    (_HANDLE, "[handle]", None),
)


@dataclass(frozen=True, slots=True)
class Redaction:
    text: str
    count: int


def redact(text: str) -> Redaction:
    """Replace personal data in ``text`` (NFKC-normalised) with labelled placeholders."""
    text = unicodedata.normalize("NFKC", text)
    total = 0
    for pattern, label, hint in _RULES:
        if hint is not None and hint.search(text) is None:
            continue
        if isinstance(label, str):
            text, n = pattern.subn(label, text)
        else:
            # Rules that may decide a match is not personal data (an IBAN whose check
            # digits fail, a date) count only the spans they replace.
            kept = 0

            def decide(match: re.Match[str], rule: Any = label) -> str:
                nonlocal kept
                replaced: str = rule(match)
                kept += replaced == match.group()
                return replaced

            text, n = pattern.subn(decide, text)
            n -= kept
        total += n
    return Redaction(text=text, count=total)


def pseudonymise(author_id: str, key: bytes) -> str:
    """A stable, keyed, non-reversible id for an author (16 hex chars)."""
    return hmac.new(key, author_id.encode("utf-8"), hashlib.sha256).hexdigest()[:16]


VIEWER_PREFIX = "vh:"


def viewer_hash(viewer_id: str, key: bytes) -> str:
    """How a viewer id is stored: ``vh:`` and its HMAC-SHA256 under the room's key (32 hex).

    The same function as the SQL in ``memory/events.py`` computes for millions of rows.
    """
    return VIEWER_PREFIX + hmac.new(key, viewer_id.encode("utf-8"), hashlib.sha256).hexdigest()[:32]
