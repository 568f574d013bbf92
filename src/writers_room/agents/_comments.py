"""Comment signals that need no vectors: sentiment, questions, characters, suspicious bursts.

Everything works on :class:`CommentRecord` values (redacted text, pseudonymous author)
and is computed once per distinct text, because copy-paste and bot bursts make many
comments share one text.
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache

from sqlalchemy import select
from sqlmodel import col

from writers_room.config import Settings
from writers_room.memory.db import session_scope
from writers_room.memory.models import Comment

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


@dataclass(frozen=True)
class CommentRecord:
    """One stored comment, as the analyst reads it."""

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


def load_comments(
    settings: Settings,
    series_id: str,
    start: datetime,
    end: datetime,
    platform: str | None = None,
) -> list[CommentRecord]:
    """The series' stored comments with ``start <= ts < end``, ordered by id."""
    query = select(
        col(Comment.comment_id),
        col(Comment.episode_id),
        col(Comment.author_hash),
        col(Comment.text),
        col(Comment.ts),
        col(Comment.likes),
        col(Comment.platform),
    ).where(col(Comment.series_id) == series_id, col(Comment.ts) >= start, col(Comment.ts) < end)
    if platform is not None:
        query = query.where(col(Comment.platform) == platform)
    with session_scope(settings) as session:
        rows = session.execute(query.order_by(col(Comment.comment_id))).all()
    return [
        CommentRecord(
            comment_id=cid,
            episode_id=episode,
            author=author,
            text=text,
            ts=ts.timestamp(),
            likes=int(likes),
            platform=plat or "",
        )
        for cid, episode, author, text, ts, likes, plat in rows
    ]


def tokens(text: str) -> list[str]:
    """Lower-case word tokens (apostrophes kept: "don't")."""
    return _TOKEN.findall(text.lower())


def sentiment(words: Sequence[str], text: str = "") -> float:
    """Lexicon sentiment in [-1, 1]: (positive - negative) / (positive + negative).

    A negator up to two words before a lexicon word flips it ("not good" is negative).
    Emoji count as words. Comments with no lexicon word score 0.
    """
    pos = neg = 0
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
    words = tokens(text)
    normalised = " ".join(tokens(_PLACEHOLDER.sub(" ", text)))
    return TextFacts(
        tokens=tuple(words),
        normalised=normalised,
        sentiment=sentiment(words, text),
        question=is_question(words, text),
        prediction=bool(_PREDICTION.search(text)),
        injection=bool(_INJECTION.search(text)),
    )


@dataclass(frozen=True)
class Burst:
    text: str
    comment_ids: tuple[str, ...]
    authors: int
    start: float
    end: float


def find_bursts(records: Sequence[CommentRecord]) -> list[Burst]:
    """Near-duplicate bursts: many comments with one normalised text in a short time."""
    groups: dict[str, list[CommentRecord]] = defaultdict(list)
    for record in records:
        f = facts(record.text)
        if len(f.normalised.split()) >= BURST_MIN_TOKENS:
            groups[f.normalised].append(record)
    bursts = []
    for _, group in sorted(groups.items()):
        if len(group) < BURST_MIN_COMMENTS:
            continue
        group.sort(key=lambda r: (r.ts, r.comment_id))
        marked = [False] * len(group)
        j = 0
        for i in range(len(group)):
            j = max(j, i)
            while j < len(group) and group[j].ts - group[i].ts <= BURST_WINDOW_S:
                j += 1
            if j - i >= BURST_MIN_COMMENTS:
                for m in range(i, j):
                    marked[m] = True
        # Consecutive marked comments form one burst each.
        runs: list[list[CommentRecord]] = []
        previous = False
        for record, hit in zip(group, marked, strict=True):
            if hit:
                if not previous:
                    runs.append([])
                runs[-1].append(record)
            previous = hit
        for run in runs:
            bursts.append(
                Burst(
                    text=run[0].text,
                    comment_ids=tuple(r.comment_id for r in run),
                    authors=len({r.author for r in run}),
                    start=run[0].ts,
                    end=run[-1].ts,
                )
            )
    return bursts


@dataclass(frozen=True)
class Flood:
    episode_id: str
    author: str
    comment_ids: tuple[str, ...]
    share: float


def find_floods(records: Sequence[CommentRecord]) -> list[Flood]:
    """Single-author floods: one author dominating one episode's conversation."""
    per_episode: Counter[str] = Counter(r.episode_id for r in records)
    by_author: dict[tuple[str, str], list[str]] = defaultdict(list)
    for r in records:
        by_author[(r.episode_id, r.author)].append(r.comment_id)
    floods = []
    for (episode, author), ids in sorted(by_author.items()):
        share = len(ids) / per_episode[episode]
        if len(ids) >= FLOOD_MIN_COMMENTS and share >= FLOOD_MIN_SHARE:
            floods.append(Flood(episode, author, tuple(sorted(ids)), share))
    return floods


@dataclass(frozen=True)
class CharacterCount:
    name: str
    comments: int
    authors: int
    sentiment: float
    episodes: dict[str, int]


def character_mentions(
    records: Sequence[CommentRecord], characters: Sequence[Mapping[str, object]]
) -> list[CharacterCount]:
    """Comments mentioning each character of the series bible, by first name.

    The first name is the key because comments use it ("Theo is hiding something");
    family names are shared inside a cast (two Quinns, two Vances) and would blur.
    """
    out = []
    for character in characters:
        name = str(character.get("name", "")).strip()
        if not name:
            continue
        first = tokens(name)[:1]
        if not first:
            continue
        forms = {first[0], f"{first[0]}'s", f"{first[0]}s'"}  # Theo, Theo's, Theos'
        hits = [r for r in records if forms.intersection(facts(r.text).tokens)]
        episodes = Counter(r.episode_id for r in hits)
        mean = sum(facts(r.text).sentiment for r in hits) / len(hits) if hits else 0.0
        out.append(
            CharacterCount(
                name=name,
                comments=len(hits),
                authors=len({r.author for r in hits}),
                sentiment=mean,
                episodes=dict(sorted(episodes.items())),
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


def cue_matches(kind: str, records: Iterable[CommentRecord]) -> list[CommentRecord]:
    """Comments whose words carry one of the finding's cues, most liked first."""
    cues = CUES.get(kind, frozenset())
    hits = [r for r in records if cues.intersection(facts(r.text).tokens)]
    return sorted(hits, key=lambda r: (-r.likes, r.comment_id))
