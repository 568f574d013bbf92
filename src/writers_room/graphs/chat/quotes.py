"""Comments the chat may quote: never one the analyst flagged, always from the window.

The analyst flags prompt injections, duplicate bursts (spam) and single-author floods in
``report.json`` and keeps them out of its own quotes. Chat quotes more than the report
(comments near a question, comments naming a character), so every comment it shows goes
through :class:`Flagged`: the flagged ids, their texts, the normalised text of each burst
(a flag lists at most 100 ids; the rest of a burst shares its text), the (episode, author)
of each flood, and the injection pattern itself. Quotes come from the report's window, so
the flags that window's review raised cover them.

Nothing here reads every comment: candidates come from the comment index (nearest to a
name) or by id, and only a bounded SQL query backs up a character with few comments.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func
from sqlalchemy import select as sa_select
from sqlmodel import col, select

from writers_room.analyst import comments as cm
from writers_room.config import Settings
from writers_room.index.chroma import CommentIndex
from writers_room.store.db import session_scope
from writers_room.store.models import Comment

__all__ = [
    "COMMENT_FLAGS",
    "Flagged",
    "Quoted",
    "character_quotes",
    "flagged_comments",
    "visible",
    "window_bounds",
]

COMMENT_FLAGS = frozenset({"prompt_injection", "duplicate_burst", "author_flood"})
# Nearest comments fetched from the index for a character's name (unfiltered: see
# answers.nearby_comments for why a filtered Chroma query is avoided).
WIDE_K = 256
# The SQL back-up for a character the index did not bring enough comments of.
FALLBACK_ROWS = 200

_cache_lock = threading.Lock()
_cache: dict[tuple[Any, ...], Flagged] = {}


@dataclass(frozen=True)
class Quoted:
    """A stored comment as chat shows it (redacted text, as stored)."""

    comment_id: str
    episode_id: str
    text: str
    likes: int


@dataclass(frozen=True)
class Flagged:
    """What the report flagged, in a form any comment can be checked against."""

    ids: frozenset[str]
    texts: frozenset[str]
    bursts: frozenset[str]  # normalised texts
    floods: frozenset[tuple[str, str]]  # (episode_id, author_hash)
    comments: int  # flagged comments the report counted

    def hides(self, comment_id: str, text: str, episode_id: str, author_hash: str) -> bool:
        """True for a comment that must not be shown."""
        if comment_id in self.ids or text in self.texts:
            return True
        if (episode_id, author_hash) in self.floods:
            return True
        facts = cm.facts(text)
        return facts.injection or (bool(self.bursts) and facts.normalised in self.bursts)

    def hides_text(self, text: str) -> bool:
        """True for a text (a theme label) that is or reads like a flagged comment."""
        facts = cm.facts(text)
        return text in self.texts or facts.injection or facts.normalised in self.bursts


def _comment_flags(report: dict[str, Any]) -> list[dict[str, Any]]:
    return [f for f in report.get("flags", []) if f.get("kind") in COMMENT_FLAGS]


def flagged_comments(settings: Settings, report: dict[str, Any]) -> Flagged:
    """The report's comment flags, resolved against SQL once per report version."""
    flags = _comment_flags(report)
    key = (
        str(settings.home),
        report.get("series_id"),
        report.get("window_end"),
        tuple((f["kind"], tuple(f.get("comment_ids", []))) for f in flags),
    )
    with _cache_lock:
        hit = _cache.get(key)
    if hit is not None:
        return hit
    ids = {cid for f in flags for cid in f.get("comment_ids", [])}
    rows: dict[str, tuple[str, str, str]] = {}
    if ids:
        with session_scope(settings) as session:
            query = select(
                col(Comment.comment_id),
                col(Comment.text),
                col(Comment.episode_id),
                col(Comment.author_hash),
            ).where(col(Comment.comment_id).in_(sorted(ids)))
            rows = {cid: (text, ep, author) for cid, text, ep, author in session.exec(query)}
    bursts = {
        cm.facts(rows[f["comment_ids"][0]][0]).normalised
        for f in flags
        if f["kind"] == "duplicate_burst" and f.get("comment_ids") and f["comment_ids"][0] in rows
    }
    floods = {
        (rows[f["comment_ids"][0]][1], rows[f["comment_ids"][0]][2])
        for f in flags
        if f["kind"] == "author_flood" and f.get("comment_ids") and f["comment_ids"][0] in rows
    }
    found = Flagged(
        ids=frozenset(ids),
        texts=frozenset(text for text, _, _ in rows.values()),
        bursts=frozenset(bursts),
        floods=frozenset(floods),
        comments=sum(
            int(f.get("evidence", {}).get("comments", len(f.get("comment_ids", [])))) for f in flags
        ),
    )
    with _cache_lock:
        if len(_cache) > 64:
            _cache.clear()
        _cache[key] = found
    return found


def window_bounds(report: dict[str, Any]) -> tuple[datetime, datetime]:
    """The report's window as aware datetimes."""
    return _parse(report["window_start"]), _parse(report["window_end"])


def _parse(value: str) -> datetime:
    moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def visible(
    settings: Settings,
    flagged: Flagged,
    ids: Sequence[str],
    *,
    series_id: str,
    report: dict[str, Any] | None = None,
    episode_id: str | None = None,
) -> list[Quoted]:
    """The comments of ``ids`` that may be shown, in ``ids`` order (one SQL query).

    Only the series' (and the episode's) comments; with ``report``, only its window's.
    """
    if not ids:
        return []
    with session_scope(settings) as session:
        # Columns, not Comment objects: building 1,000 ORM rows would cost more than the rest.
        query = sa_select(
            col(Comment.comment_id),
            col(Comment.episode_id),
            col(Comment.text),
            col(Comment.likes),
            col(Comment.author_hash),
        ).where(col(Comment.comment_id).in_(list(ids)), col(Comment.series_id) == series_id)
        if episode_id:
            query = query.where(col(Comment.episode_id) == episode_id)
        if report is not None:
            start, end = window_bounds(report)
            query = query.where(col(Comment.ts) >= start, col(Comment.ts) < end)
        rows = {row[0]: row.tuple() for row in session.connection().execute(query)}
    return [
        Quoted(cid, episode, text, likes)
        for cid, episode, text, likes, author in (rows[i] for i in ids if i in rows)
        if not flagged.hides(cid, text, episode, author)
    ]


def _names_it(first: str, text: str) -> bool:
    forms = {first, f"{first}'s", f"{first}s'"}
    return not forms.isdisjoint(cm.tokens(text))


# Two quotes sharing this share of their words (Jaccard) say the same thing: one is shown.
SAME_WORDS = 0.7


def _best(rows: Iterable[Quoted], k: int) -> list[Quoted]:
    """The ``k`` most liked (ties: lower id), as the analyst picks quotes, skipping any
    that repeats one already chosen ("Callum is slimy" and "Callum is slimy fr")."""
    out: list[Quoted] = []
    seen: list[set[str]] = []
    for q in sorted(rows, key=lambda q: (-q.likes, q.comment_id)):
        words = set(cm.tokens(q.text))
        if any(len(words & w) >= SAME_WORDS * len(words | w) for w in seen):
            continue
        seen.append(words)
        out.append(q)
        if len(out) == k:
            break
    return out


def character_quotes(
    settings: Settings,
    report: dict[str, Any],
    name: str,
    flagged: Flagged,
    *,
    k: int = 3,
    episode_id: str | None = None,
    use_index: bool = True,
) -> list[Quoted]:
    """Up to ``k`` shown-safe comments of the window that name the character.

    The index brings the :data:`WIDE_K` comments nearest to the name (those that say it
    come first); the series' window comments among them that say the first name, most
    liked first. Only when that finds fewer than ``k`` does a bounded SQL query look.
    """
    series_id = report["series_id"]
    first = cm.tokens(name)[:1]
    if not first:
        return []
    found: list[Quoted] = []
    if use_index:
        try:
            ids = [cid for cid, _ in CommentIndex(settings).query(name, k=WIDE_K)]
            found = visible(
                settings, flagged, ids, series_id=series_id, report=report, episode_id=episode_id
            )
        except Exception:  # noqa: BLE001 - the index is optional for an answer
            found = []
    chosen = _best((q for q in found if _names_it(first[0], q.text)), k)
    if len(chosen) < k:
        chosen = _best(
            [*chosen, *_sql_mentions(settings, report, first[0], flagged, episode_id)], k
        )
    return chosen


def _sql_mentions(
    settings: Settings,
    report: dict[str, Any],
    first: str,
    flagged: Flagged,
    episode_id: str | None,
) -> list[Quoted]:
    start, end = window_bounds(report)
    with session_scope(settings) as session:
        query = select(Comment).where(
            col(Comment.series_id) == report["series_id"],
            col(Comment.ts) >= start,
            col(Comment.ts) < end,
            func.lower(col(Comment.text)).like(f"%{first}%"),
        )
        if episode_id:
            query = query.where(col(Comment.episode_id) == episode_id)
        query = query.order_by(col(Comment.likes).desc(), col(Comment.comment_id))
        rows = list(session.exec(query.limit(FALLBACK_ROWS)))
    return [
        Quoted(c.comment_id, c.episode_id, c.text, c.likes)
        for c in rows
        if _names_it(first, c.text)
        and not flagged.hides(c.comment_id, c.text, c.episode_id, c.author_hash)
    ]
