"""What the audience responded to, for drafting the next episode.

The drafter wants three things, each weighted by *distinct viewers* (a vocal minority of
one author posting fifty times counts once):

* the story **question** — the most-asked question or most-made prediction about the
  story (one that names a character or something the episodes put on screen: the letter,
  the drive), which the next episode's twist answers;
* the **ship** — the pair of characters viewers talk about together most;
* the **favourites** — the characters viewers mention most.

They come from the analyst's newest saved report (``reports/<series>/<window>/
report.json``: its themes are clusters of comments ranked by distinct authors), or, when
the series has never been reviewed, straight from the comments in SQL (each question or
prediction counted under the characters and story words it names, by distinct authors).
Comments that read like instructions to a model are never read. The texts are kept only
so the drafter can prove it copied none of them; they are never written into a draft.
"""

from __future__ import annotations

import json
import re
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Literal

from sqlmodel import Session, col, select

from writers_room.analyst.comments import facts
from writers_room.analyst.output import report_dir
from writers_room.brief.report import AnalystReport
from writers_room.brief.script import content_words, stem
from writers_room.config import Settings
from writers_room.guardrails.fencing import looks_like_injection
from writers_room.store.models import Comment

__all__ = [
    "AudienceRead",
    "Thread",
    "latest_report",
    "mentioned",
    "read_audience",
]

ThreadKind = Literal["question", "prediction", "ship", "theme"]
# Example comment ids kept per thread (evidence for the approver).
EXAMPLES = 5
# In the SQL fallback, a story word joins a question's thread when at least this share of
# the thread's authors used it too.
CO_MENTION = 1 / 3


@dataclass(frozen=True)
class Thread:
    """One thing viewers responded to, in the bible's terms."""

    kind: ThreadKind
    authors: int
    """Distinct viewers behind it."""
    comments: int
    characters: tuple[str, ...]
    """Bible characters it names (full names), most named first."""
    words: tuple[str, ...]
    """Story words it shares with the episodes (stems, see ``brief.script.stem``)."""
    comment_ids: tuple[str, ...] = ()
    texts: tuple[str, ...] = field(default=(), repr=False)
    """Example comment texts: for the no-copy check only."""
    sentiment: float = 0.0
    """Mean lexicon sentiment of its comments, -1..1."""


@dataclass(frozen=True)
class AudienceRead:
    """What the drafter read about the audience, and where it came from."""

    source: Literal["report", "comments", "none"]
    window_end: str | None = None
    question: Thread | None = None
    """The most shared story question or prediction."""
    questions: tuple[Thread, ...] = ()
    """Every story question and prediction, most distinct viewers first (the drafter takes
    the first one the episodes have not answered yet)."""
    ship: Thread | None = None
    favourites: tuple[tuple[str, int], ...] = ()
    """(bible name, distinct viewers), most mentioned first."""
    threads: tuple[Thread, ...] = ()

    @property
    def comment_ids(self) -> list[str]:
        """Every example comment id the drafter read (what a draft may cite)."""
        ids: list[str] = []
        for thread in self.threads:
            ids += thread.comment_ids
        return list(dict.fromkeys(ids))


def latest_report(settings: Settings, series_id: str) -> AnalystReport | None:
    """The newest saved window report of a series (segment reports are not considered)."""
    fields = {"series_id": series_id, "window_end": "x", "segment": None}
    folder = report_dir(settings, AnalystReport.model_construct(**fields)).parent  # type: ignore[arg-type]
    if not folder.is_dir():
        return None
    candidates = sorted(p for p in folder.glob("*/report.json") if p.is_file())
    if not candidates:
        return None
    return AnalystReport.model_validate(json.loads(candidates[-1].read_text(encoding="utf-8")))


def _name_keys(cast: Sequence[str]) -> dict[str, str]:
    """Lower-case name words that identify one character: first names, unique surnames."""
    counts: dict[str, int] = defaultdict(int)
    for name in cast:
        for part in set(name.lower().split()):
            counts[part] += 1
    keys: dict[str, str] = {}
    for name in cast:
        parts = name.lower().split()
        keys.setdefault(parts[0], name)
        for part in parts[1:]:
            if counts[part] == 1 and len(part) > 2:
                keys.setdefault(part, name)
    return keys


_WORD = re.compile(r"[a-z]+(?:['’][a-z]+)?")


def mentioned(text: str, cast: Sequence[str]) -> list[str]:
    """Bible characters ``text`` names (by first name or a surname no one else has)."""
    keys = _name_keys(cast)
    found: list[str] = []
    for word in _WORD.findall(text.lower()):
        word = re.sub(r"['’]s$", "", word)
        name = keys.get(word)
        if name is not None and name not in found:
            found.append(name)
    return found


def _story_words(texts: Sequence[str], anchors: set[str], cast: Sequence[str]) -> list[str]:
    """Story words of ``texts``, the most used first (names aside)."""
    names = {stem(n) for n in _name_keys(cast)}
    counts: dict[str, int] = defaultdict(int)
    for text in texts:
        for word in content_words(text):
            if word in anchors and word not in names:
                counts[word] += 1
    return sorted(counts, key=lambda w: (-counts[w], w))


def _kind(texts: Sequence[str]) -> ThreadKind:
    read = [facts(t) for t in texts]
    if not read:
        return "theme"
    if sum(f.prediction for f in read) * 2 >= len(read):
        return "prediction"
    if sum(f.question for f in read) * 2 >= len(read):
        return "question"
    return "theme"


def _ranked_names(texts: Iterable[str], cast: Sequence[str]) -> tuple[str, ...]:
    counts: dict[str, int] = defaultdict(int)
    for text in texts:
        for name in mentioned(text, cast):
            counts[name] += 1
    return tuple(sorted(counts, key=lambda n: (-counts[n], cast.index(n))))


def _from_report(report: AnalystReport, cast: Sequence[str], anchors: set[str]) -> AudienceRead:
    flagged = {i for f in report.flags if f.kind == "prompt_injection" for i in f.comment_ids}
    threads: list[Thread] = []
    for theme in sorted(report.themes, key=lambda t: (-t.distinct_authors, t.rank_by_authors)):
        texts = [theme.label, *theme.example_texts]
        if any(looks_like_injection(t) for t in texts):
            continue
        threads.append(
            Thread(
                kind=_kind(theme.example_texts or [theme.label]),
                authors=theme.distinct_authors,
                comments=theme.comments,
                characters=_ranked_names([" ".join(theme.terms), *texts], cast),
                words=tuple(_story_words([" ".join(theme.terms), *texts], anchors, cast)),
                comment_ids=tuple(i for i in theme.examples if i not in flagged)[:EXAMPLES],
                texts=tuple(texts),
                sentiment=theme.sentiment,
            )
        )
    favourites = tuple(
        (c.name, c.distinct_authors)
        for c in sorted(report.characters, key=lambda c: (-c.distinct_authors, c.name))
        if c.name in cast and c.distinct_authors > 0
    )
    return _choose("report", report.window_end, threads, favourites)


def _choose(
    source: Literal["report", "comments"],
    window_end: str | None,
    threads: list[Thread],
    favourites: tuple[tuple[str, int], ...],
) -> AudienceRead:
    questions = tuple(
        t for t in threads if t.kind in ("question", "prediction") and (t.words or t.characters)
    )
    question = questions[0] if questions else None
    # The ship: two characters talked about together, warmly — not a question about them.
    ship = next(
        (
            t
            for t in threads
            if len(t.characters) >= 2 and t.kind in ("theme", "ship") and t.sentiment >= 0
        ),
        None,
    )
    if ship is not None and ship.kind != "ship":
        ship = Thread(
            kind="ship",
            authors=ship.authors,
            comments=ship.comments,
            characters=ship.characters[:2],
            words=ship.words,
            comment_ids=ship.comment_ids,
            texts=ship.texts,
            sentiment=ship.sentiment,
        )
    return AudienceRead(
        source=source,
        window_end=window_end,
        question=question,
        questions=questions,
        ship=ship,
        favourites=favourites,
        threads=tuple(threads),
    )


def _from_comments(
    session: Session, series_id: str, cast: Sequence[str], anchors: set[str]
) -> AudienceRead:
    """Questions, predictions, pairs and favourites counted straight from SQL."""
    asked: dict[str, set[str]] = defaultdict(set)  # key (name or story word) -> authors
    asked_by: dict[str, dict[str, set[str]]] = defaultdict(lambda: defaultdict(set))
    kinds: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    examples: dict[str, list[tuple[int, str, str]]] = defaultdict(list)
    pairs: dict[tuple[str, str], set[str]] = defaultdict(set)
    pair_examples: dict[tuple[str, str], list[tuple[int, str, str]]] = defaultdict(list)
    named: dict[str, set[str]] = defaultdict(set)
    query = (
        select(Comment.comment_id, Comment.author_hash, Comment.text, Comment.likes)
        .where(Comment.series_id == series_id)
        .order_by(col(Comment.comment_id))
        .execution_options(yield_per=5000)
    )
    for comment_id, author, text, likes in session.exec(query):
        if looks_like_injection(text):
            continue
        names = mentioned(text, cast)
        for name in names:
            named[name].add(author)
        read = facts(text)
        if not (read.question or read.prediction) and read.sentiment >= 0:
            for pair in {(a, b) for a in names for b in names if cast.index(a) < cast.index(b)}:
                pairs[pair].add(author)
                pair_examples[pair].append((-likes, comment_id, text))
        if not (read.question or read.prediction):
            continue
        keys = names + _story_words([text], anchors, cast)
        for key in keys:
            asked[key].add(author)
            kinds[key]["prediction" if read.prediction else "question"] += 1
            examples[key].append((-likes, comment_id, text))
            for other in keys:
                if other != key:
                    asked_by[key][other].add(author)
    threads: list[Thread] = []
    for key in sorted(asked, key=lambda k: (-len(asked[k]), k)):
        authors = asked[key]
        together = [
            other
            for other, who in sorted(asked_by[key].items(), key=lambda kv: (-len(kv[1]), kv[0]))
            if len(who) >= CO_MENTION * len(authors)
        ]
        keys = [key, *together]
        chosen = sorted(examples[key])[:EXAMPLES]
        counts = kinds[key]
        threads.append(
            Thread(
                kind="prediction" if counts["prediction"] > counts["question"] else "question",
                authors=len(authors),
                comments=len(examples[key]),
                characters=tuple(k for k in keys if k in cast),
                words=tuple(k for k in keys if k not in cast),
                comment_ids=tuple(c for _, c, _ in chosen),
                texts=tuple(t for _, _, t in chosen),
            )
        )
    for pair in sorted(pairs, key=lambda p: (-len(pairs[p]), p)):
        chosen = sorted(pair_examples[pair])[:EXAMPLES]
        threads.append(
            Thread(
                kind="ship",
                authors=len(pairs[pair]),
                comments=len(pair_examples[pair]),
                characters=pair,
                words=(),
                comment_ids=tuple(c for _, c, _ in chosen),
                texts=tuple(t for _, _, t in chosen),
            )
        )
        break
    favourites = tuple(
        (name, len(named[name]))
        for name in sorted(named, key=lambda n: (-len(named[n]), cast.index(n)))
    )
    threads.sort(key=lambda t: -t.authors)
    return _choose("comments", None, threads, favourites)


def read_audience(
    settings: Settings,
    session: Session,
    series_id: str,
    cast: Sequence[str],
    anchors: Iterable[str],
) -> AudienceRead:
    """What the audience responded to: from the newest report, else from the comments.

    Args:
        cast: the bible's character names (full names).
        anchors: story words (stems) the episodes put on screen; a question counts as a
            story question when it names a character or one of these.
    """
    anchor_set = set(anchors)
    report = latest_report(settings, series_id)
    if report is not None and report.themes:
        return _from_report(report, list(cast), anchor_set)
    read = _from_comments(session, series_id, list(cast), anchor_set)
    if not read.threads and not read.favourites:
        return AudienceRead(source="none")
    return read
