"""Comment signals that need no vectors: sentiment, questions, characters, suspicious bursts.

A window can hold ~100k comments, so they are held column-wise in a
:class:`CommentTable` (numpy arrays, with episodes, authors and texts as integer codes)
and every per-comment question is a vector operation. Text-derived facts (sentiment,
question, prediction, injection, normalised form) are computed once per distinct text,
because copy-paste and bot bursts make many comments share one.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any

import numpy as np
import numpy.typing as npt
from sqlalchemy import func, select
from sqlmodel import col

from writers_room.config import Settings
from writers_room.store.db import session_scope
from writers_room.store.models import Comment

# Near-duplicate bursts: at least BURST_MIN_COMMENTS comments with the same normalised
# text (case, punctuation, emoji, redaction placeholders ignored) inside BURST_WINDOW_S.
# Texts shorter than BURST_MIN_TOKENS words ("facts", "this!!") repeat naturally and are
# never a burst on their own.
BURST_WINDOW_S = 300
BURST_MIN_COMMENTS = 10
BURST_MIN_TOKENS = 3
# Single-author floods: one author with at least FLOOD_MIN_COMMENTS comments on one
# episode in the window, making up at least FLOOD_MIN_SHARE of that episode's comments.
FLOOD_MIN_COMMENTS = 5
FLOOD_MIN_SHARE = 0.05

_TOKEN = re.compile(r"[a-z0-9']+")
_PLACEHOLDER = re.compile(r"\[(?:url|email|phone|handle|mention)\]")
_NEGATORS = frozenset({"not", "no", "never", "don't", "dont", "isn't", "wasn't", "aint"})
# A small hand-made lexicon for short, informal fan comments. Crying emoji and "dying"
# are left out on purpose: in fan speech they mean being moved as often as being upset.
_POSITIVE = frozenset(
    """love loved loving lovely good great best amazing awesome obsessed gorgeous beautiful
    perfect favorite favourite fav incredible brilliant masterpiece chills hot cute
    supremacy endgame iconic fire goat wow excellent fantastic stunning yes finally sob
    sobbing mvp deserves protect binged rewatched rewatch genius slay chemistry""".split()
)
_NEGATIVE = frozenset(
    """boring bored hate hated bad worst cheesy stiff slow confused confusing lost annoying
    ruins ruin ruined ick slimy pathetic mad awful terrible trash cringe lecture zoned
    crazy stupid dumb meh skip skipped scrolled swipe swiped quit fake scam spam
    disappointed disappointing lame""".split()
)
_LEXICON = _POSITIVE | _NEGATIVE
_POSITIVE_EMOJI = ("😍", "🔥", "🙏", "❤", "💕", "🥰", "👏", "💯")
_NEGATIVE_EMOJI = ("👎", "🤮", "😡", "🙄", "😒")
_QUESTION_START = frozenset(
    "who what why when where how which is are does did will can could would should wait".split()
)
_PREDICTION = re.compile(
    r"\b(i bet|bet you|calling it|i'm calling|im calling|theory|theories|what if|i think|"
    r"mark my words|convince me|gonna be|is going to|will turn out|predict|prediction|"
    r"plot twist:|,\s*watch\b)",
    re.IGNORECASE,
)
# Every match of _PREDICTION contains one of these (lower-case) substrings.
_PREDICTION_KEYS = (
    "bet", "calling", "theor", "what if", "think", "mark my", "convince", "gonna",
    "going to", "turn out", "predict", "twist", "watch",
)  # fmt: skip
# Comments that talk to the machine instead of about the show: kept out of themes and
# of every quoted example, and flagged, so a downstream language model never reads them
# as evidence.
_INJECTION = re.compile(
    r"(ignore (all |any )?(the )?(previous|prior|above) instructions|new instructions|"
    r"\bsystem\s*:|#+\s*(assistant|system)|approve_proposal|render_episode|\[\[tool|"
    r"(note|message) to the (ai|analyst|model|assistant)|dear ai|you are now the|"
    r"api keys?)",
    re.IGNORECASE,
)
# Talk about paying: coins, prices, the paywall, unlocking, or paying for episodes (not
# "Theo was paying the debts": paying must reach an episode, the show or the season).
PRICE = re.compile(
    r"\b(coins?|prices?|priced|pricing|pricey|overpriced|expensive|paywall|"
    r"unlock(?:ed|ing|s)?|subscriptions?|refund)\b"
    r"|\bpa(?:y|ying|id)\b[^.!?]{0,30}?\b(episodes?|eps?|season|show|parts?)\b",
    re.IGNORECASE,
)
# Every match of PRICE contains one of these (lower-case) substrings.
_PRICE_KEYS = (
    "coin",
    "pric",
    "expensive",
    "paywall",
    "unlock",
    "subscription",
    "refund",
    "pay",
    "paid",
)
# Every match of _INJECTION contains one of these (lower-case) substrings.
_INJECTION_KEYS = (
    "instructions", "system", "assistant", "approve_proposal", "render_episode", "[[tool",
    "note to the", "message to the", "dear ai", "you are now the", "api key",
)  # fmt: skip


IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]


@dataclass(frozen=True)
class CommentRecord:
    """One stored comment, as quoted in a report."""

    comment_id: str
    episode_id: str
    author: str
    text: str
    ts: float  # epoch seconds
    likes: int
    platform: str = ""


@dataclass(frozen=True)
class TextFacts:
    tokens: tuple[str, ...]
    normalised: str
    sentiment: float
    question: bool
    prediction: bool
    injection: bool
    price: bool = False


def _codes(values: Sequence[str]) -> tuple[IntArray, list[str]]:
    """Integer codes for ``values`` in order of first appearance, and the distinct values."""
    index: dict[str, int] = {}
    codes = np.fromiter(
        (index.setdefault(v, len(index)) for v in values), dtype=np.int64, count=len(values)
    )
    return codes, list(index)


class CommentTable:
    """Comments column-wise, ordered by comment id.

    Attributes:
        ids: Comment ids.
        episode, author, text: Integer codes per comment into ``episodes``, ``authors``
            and ``texts`` (the distinct values).
        ts: Epoch seconds. likes: Likes.
        facts: :class:`TextFacts` per distinct text, with ``sentiment_t``, ``question_t``,
            ``prediction_t``, ``injection_t`` and ``price_t`` as arrays over distinct texts.
    """

    def __init__(
        self,
        ids: Sequence[str],
        episodes: Sequence[str],
        authors: Sequence[str],
        texts: Sequence[str],
        ts: Sequence[float],
        likes: Sequence[int],
    ) -> None:
        if any(ids[i] > ids[i + 1] for i in range(len(ids) - 1)):
            order = sorted(range(len(ids)), key=ids.__getitem__)
            ids, episodes, authors = (
                [ids[i] for i in order],
                [episodes[i] for i in order],
                [authors[i] for i in order],
            )
            texts, ts, likes = (
                [texts[i] for i in order],
                [ts[i] for i in order],
                [likes[i] for i in order],
            )
        self.ids = list(ids)
        self.n = len(self.ids)
        self.episode, self.episodes = _codes(episodes)
        self.author, self.authors = _codes(authors)
        self.text, self.texts = _codes(texts)
        self.ts = np.asarray(ts, dtype=np.float64)
        self.likes = np.asarray(likes, dtype=np.int64)
        self.facts = [facts(t) for t in self.texts]
        self.sentiment_t = np.array([f.sentiment for f in self.facts], dtype=np.float64)
        self.question_t = np.array([f.question for f in self.facts], dtype=bool)
        self.prediction_t = np.array([f.prediction for f in self.facts], dtype=bool)
        self.injection_t = np.array([f.injection for f in self.facts], dtype=bool)
        self.price_t = np.array([f.price for f in self.facts], dtype=bool)
        # Most liked first, then lowest id: the order in which comments get quoted.
        self.quote_rank = np.lexsort((np.arange(self.n), -self.likes))

    @classmethod
    def from_records(cls, records: Sequence[CommentRecord]) -> CommentTable:
        return cls(
            [r.comment_id for r in records],
            [r.episode_id for r in records],
            [r.author for r in records],
            [r.text for r in records],
            [r.ts for r in records],
            [r.likes for r in records],
        )

    def record(self, i: int) -> CommentRecord:
        return CommentRecord(
            comment_id=self.ids[i],
            episode_id=self.episodes[self.episode[i]],
            author=self.authors[self.author[i]],
            text=self.texts[self.text[i]],
            ts=float(self.ts[i]),
            likes=int(self.likes[i]),
        )

    def episode_mask(self, episode_id: str) -> BoolArray:
        """Comments on ``episode_id``."""
        if episode_id not in self.episodes:
            return np.zeros(self.n, dtype=bool)
        return self.episode == self.episodes.index(episode_id)

    def top(self, mask: BoolArray, k: int) -> list[int]:
        """Indices of the ``k`` most liked comments in ``mask`` (ties: lower id)."""
        ranked = self.quote_rank[mask[self.quote_rank]]
        return [int(i) for i in ranked[:k]]

    def distinct_authors(self, mask: BoolArray) -> int:
        return int(np.unique(self.author[mask]).size)


def load_comments(
    settings: Settings,
    series_id: str,
    start: datetime,
    end: datetime,
    platform: str | None = None,
) -> CommentTable:
    """The series' stored comments with ``start <= ts < end``.

    Timestamps come back from the database as epoch seconds: parsing ~100k datetime
    strings in Python would cost more than the whole query.
    """
    with session_scope(settings) as session:
        dialect = session.get_bind().dialect.name
        if dialect == "sqlite":
            # SQLite stores naive UTC text; julianday() reads it as UTC.
            epoch: Any = (func.julianday(col(Comment.ts)) - 2440587.5) * 86400.0
        else:
            epoch = func.extract("epoch", col(Comment.ts))
        query = select(
            col(Comment.comment_id),
            col(Comment.episode_id),
            col(Comment.author_hash),
            col(Comment.text),
            epoch,
            col(Comment.likes),
        ).where(
            col(Comment.series_id) == series_id,
            col(Comment.ts) >= start.astimezone(UTC),
            col(Comment.ts) < end.astimezone(UTC),
        )
        if platform is not None:
            query = query.where(col(Comment.platform) == platform)
        # Plain DBAPI tuples: no value here needs SQLAlchemy's result processing, and
        # building ~100k Row objects would double the cost of the read.
        result = session.connection().execute(query.order_by(col(Comment.comment_id)))
        rows = result.cursor.fetchall() if result.cursor is not None else []
    if not rows:
        return CommentTable([], [], [], [], [], [])
    ids, episodes, authors, texts, ts, likes = zip(*rows, strict=True)
    # julianday() arithmetic is exact to a few microseconds; round to the millisecond the
    # ingest keeps, so both backends give identical times.
    seconds = np.round(np.asarray(ts, dtype=np.float64), 3)
    return CommentTable(ids, episodes, authors, texts, seconds.tolist(), likes)


def tokens(text: str) -> list[str]:
    """Lower-case word tokens (apostrophes kept: "don't")."""
    return _TOKEN.findall(text.lower())


def sentiment(words: Sequence[str], text: str = "") -> float:
    """Lexicon sentiment in [-1, 1]: (positive - negative) / (positive + negative).

    A negator up to two words before a lexicon word flips it ("not good" is negative).
    Emoji count as words. Comments with no lexicon word score 0.
    """
    pos = neg = 0
    if not _LEXICON.isdisjoint(words):
        for i, word in enumerate(words):
            polarity = 1 if word in _POSITIVE else -1 if word in _NEGATIVE else 0
            if not polarity:
                continue
            if any(w in _NEGATORS for w in words[max(0, i - 2) : i]):
                polarity = -polarity
            if polarity > 0:
                pos += 1
            else:
                neg += 1
    if not text.isascii():
        pos += sum(text.count(e) for e in _POSITIVE_EMOJI)
        neg += sum(text.count(e) for e in _NEGATIVE_EMOJI)
    if pos + neg == 0:
        return 0.0
    return (pos - neg) / (pos + neg)


def is_question(words: Sequence[str], text: str) -> bool:
    """A comment that asks: a question mark, or opens with a question word."""
    return "?" in text or (bool(words) and words[0] in _QUESTION_START and len(words) > 2)


@lru_cache(maxsize=200_000)
def facts(text: str) -> TextFacts:
    """Everything the analyst derives from a comment's text alone (cached per text)."""
    lower = text.lower()
    words = _TOKEN.findall(lower)
    normalised = " ".join(_TOKEN.findall(_PLACEHOLDER.sub(" ", lower))) if "[" in text else ""
    # Substring pre-checks keep the two alternation-heavy regexes off most comments.
    prediction = any(k in lower for k in _PREDICTION_KEYS) and bool(_PREDICTION.search(text))
    injection = any(k in lower for k in _INJECTION_KEYS) and bool(_INJECTION.search(text))
    price = any(k in lower for k in _PRICE_KEYS) and bool(PRICE.search(text))
    return TextFacts(
        tokens=tuple(words),
        normalised=normalised or " ".join(words),
        sentiment=sentiment(words, text),
        question=is_question(words, text),
        prediction=prediction,
        injection=injection,
        price=price,
    )


@dataclass(frozen=True)
class Burst:
    text: str
    comment_ids: tuple[str, ...]
    authors: int
    start: float
    end: float


def find_bursts(table: CommentTable) -> list[Burst]:
    """Near-duplicate bursts: many comments with one normalised text in a short time."""
    norm_of_text, norms = _codes([f.normalised for f in table.facts])
    long_enough = np.array([len(n.split()) >= BURST_MIN_TOKENS for n in norms], dtype=bool)
    group = norm_of_text[table.text]
    candidate = long_enough[group]
    if not candidate.any():
        return []
    counts = np.bincount(group[candidate], minlength=len(norms))
    bursts = []
    for g in sorted(np.flatnonzero(counts >= BURST_MIN_COMMENTS), key=lambda g: norms[g]):
        members = np.flatnonzero(group == g)
        members = members[np.lexsort((members, table.ts[members]))]
        t = table.ts[members]
        right = np.searchsorted(t, t + BURST_WINDOW_S, side="right")
        hit = (right - np.arange(len(t))) >= BURST_MIN_COMMENTS
        # Mark every comment inside a window that holds enough copies.
        cover = np.zeros(len(t) + 1, dtype=np.int64)
        np.add.at(cover, np.flatnonzero(hit), 1)
        np.add.at(cover, right[hit], -1)
        marked = np.cumsum(cover[:-1]) > 0
        # Consecutive marked comments form one burst each.
        edges = np.flatnonzero(np.diff(np.concatenate(([0], marked.astype(np.int8), [0]))))
        for lo, hi in zip(edges[::2], edges[1::2], strict=True):
            run = members[lo:hi]
            bursts.append(
                Burst(
                    text=table.texts[table.text[run[0]]],
                    comment_ids=tuple(table.ids[i] for i in run),
                    authors=int(np.unique(table.author[run]).size),
                    start=float(table.ts[run[0]]),
                    end=float(table.ts[run[-1]]),
                )
            )
    return bursts


@dataclass(frozen=True)
class Flood:
    episode_id: str
    author: str
    comment_ids: tuple[str, ...]
    share: float


def flood_keys(table: CommentTable) -> IntArray:
    """One key per comment for its (episode, author) pair."""
    return table.episode * max(1, len(table.authors)) + table.author


def find_floods(table: CommentTable) -> list[Flood]:
    """Single-author floods: one author dominating one episode's conversation."""
    if table.n == 0:
        return []
    keys = flood_keys(table)
    pairs, counts = np.unique(keys, return_counts=True)
    per_episode = np.bincount(table.episode, minlength=len(table.episodes))
    episode_of_pair = pairs // max(1, len(table.authors))
    share = counts / per_episode[episode_of_pair]
    floods = []
    for pair, count, part in zip(pairs, counts, share, strict=True):
        if count >= FLOOD_MIN_COMMENTS and part >= FLOOD_MIN_SHARE:
            members = np.flatnonzero(keys == pair)
            floods.append(
                Flood(
                    episode_id=table.episodes[int(pair) // max(1, len(table.authors))],
                    author=table.authors[int(pair) % max(1, len(table.authors))],
                    comment_ids=tuple(table.ids[i] for i in members),
                    share=float(part),
                )
            )
    return sorted(floods, key=lambda f: (f.episode_id, f.author))


@dataclass(frozen=True)
class CharacterCount:
    name: str
    comments: int
    authors: int
    sentiment: float
    episodes: dict[str, int]


def character_mentions(
    table: CommentTable, characters: Sequence[Mapping[str, object]], mask: BoolArray
) -> list[CharacterCount]:
    """Comments in ``mask`` mentioning each character of the series bible, by first name.

    The first name is the key because comments use it ("Theo is hiding something");
    family names are shared inside a cast (two Quinns, two Vances) and would blur.
    """
    out = []
    for character in characters:
        name = str(character.get("name", "")).strip()
        first = tokens(name)[:1]
        if not first:
            continue
        forms = {first[0], f"{first[0]}'s", f"{first[0]}s'"}  # Theo, Theo's, Theos'
        named = np.array([bool(forms.intersection(f.tokens)) for f in table.facts], dtype=bool)
        hits = mask & named[table.text] if table.n else np.zeros(0, dtype=bool)
        n = int(hits.sum())
        episodes = np.bincount(table.episode[hits], minlength=len(table.episodes))
        out.append(
            CharacterCount(
                name=name,
                comments=n,
                authors=table.distinct_authors(hits),
                sentiment=float(table.sentiment_t[table.text[hits]].mean()) if n else 0.0,
                episodes={
                    table.episodes[e]: int(c)
                    for e, c in sorted(enumerate(episodes), key=lambda ec: table.episodes[ec[0]])
                    if c
                },
            )
        )
    return out


# Cue words that tie a comment to a diagnosis: what viewers say when a hook, the pacing
# or the packaging fails, or when an episode resonates.
CUES: dict[str, frozenset[str]] = {
    "hook_failure": frozenset(
        "start started opening intro beginning boring slow scroll scrolled swipe swiped "
        "skip skipped sleep forever fog".split()
    ),
    "hook_packaging": frozenset(
        "thumbnail title cover clickbait almost nearly scroll scrolled swipe swiped "
        "didn't expected".split()
    ),
    "pacing": frozenset(
        "middle flashback lost confused confusing long slow zoned explaining exposition "
        "lecture drag dragged boring quit earlier".split()
    ),
    "low_participation": frozenset(),
    "resonance": frozenset(
        "sending send sent share sharing tag tagging rewatch rewatched rewatching season "
        "part more need cried crying sob obsessed everyone".split()
    ),
}


def cue_mask(kind: str, table: CommentTable, within: BoolArray) -> BoolArray:
    """Comments in ``within`` whose words carry one of the finding's cues."""
    cues = CUES.get(kind, frozenset())
    out = np.zeros(table.n, dtype=bool)
    rows = np.flatnonzero(within)
    texts = np.unique(table.text[rows])
    hit = [t for t in texts.tolist() if cues.intersection(table.facts[t].tokens)]
    out[rows] = np.isin(table.text[rows], hit)
    return out
