"""Comment intelligence of one window: themes, audience voices, characters and flags.

Reads the comments posted *in the window*: the review is about the last 24 hours, and a
lifetime view would let an old episode's settled conversation drown what viewers said
today. Themes use the vectors embedded at ingest, read from the comment index one per
distinct text (fitted on a fixed sample above ``MAX_THEME_TEXTS`` distinct texts); flags,
questions and character mentions read every comment's text.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import numpy as np
import numpy.typing as npt

from writers_room.analyst import comments as cm
from writers_room.analyst import themes as th
from writers_room.analyst.flags import comment_flags
from writers_room.analyst.output import iso_utc
from writers_room.brief.report import (
    AudienceVoice,
    CharacterMentions,
    CommentScope,
    EpisodeTheme,
    Flag,
    Quote,
    Theme,
)
from writers_room.config import Settings
from writers_room.store.models import Series

__all__ = ["EXAMPLES_PER_VOICE", "IndexOpener", "Intel", "comment_intel", "quote"]

EXAMPLES_PER_VOICE = 3


@dataclass
class Intel:
    table: cm.CommentTable
    themable: cm.BoolArray  # not a burst or an injection
    quotable: cm.BoolArray  # ...nor a flooding author's comment
    comment_theme: npt.NDArray[np.int64]  # theme id per comment, 0 when none
    themes: list[Theme]
    by_volume: list[int]
    by_authors: list[int]
    characters: list[CharacterMentions]
    voices: dict[str, AudienceVoice]
    flags: list[Flag]
    scope: CommentScope


class IndexOpener:
    """Opens the comment index's collection on a background thread."""

    def __init__(self, settings: Settings) -> None:
        self._result: list[Any] = []
        self._error: list[BaseException] = []
        self._thread = threading.Thread(
            target=self._open, args=(settings,), name="analyst-index", daemon=True
        )
        # No embedded index on disk means no comment was ever embedded: don't create one.
        self.exists = bool(settings.chroma_url) or settings.chroma_path.exists()
        if self.exists:
            self._thread.start()

    def _open(self, settings: Settings) -> None:
        try:
            from writers_room.index.chroma import CommentIndex

            collection = CommentIndex(settings).collection
            collection.get(ids=["analyst-warm-up"], include=[])
            self._result.append(collection)
        except BaseException as exc:  # noqa: BLE001 - re-raised in the caller's thread
            self._error.append(exc)

    def collection(self) -> Any:
        if not self.exists:
            return None
        self._thread.join()
        if self._error:
            raise self._error[0]
        return self._result[0]


def quote(table: cm.CommentTable, i: int) -> Quote:
    r = table.record(i)
    return Quote(comment_id=r.comment_id, text=r.text, likes=r.likes, episode_id=r.episode_id)


def _theme_vectors(
    table: cm.CommentTable, themable: npt.NDArray[np.bool_], index: IndexOpener
) -> tuple[list[str], list[str], dict[str, np.ndarray], int]:
    """The distinct texts, the sample of them themed, their vectors, and how many of the
    themable comments' sampled texts have no vector in the index."""
    # One vector per distinct text, read by one comment id per text.
    first_of_text = np.full(len(table.texts), -1, dtype=np.int64)
    candidates = np.flatnonzero(themable)[::-1]  # reversed: the lowest id per text wins
    first_of_text[table.text[candidates]] = candidates
    texts = [table.texts[t] for t in np.flatnonzero(first_of_text >= 0)]
    chosen = th.sample_texts(texts, th.MAX_THEME_TEXTS)
    vectors: dict[str, np.ndarray] = {}
    if chosen:
        text_code = {t: i for i, t in enumerate(table.texts)}
        wanted = {t: table.ids[first_of_text[text_code[t]]] for t in chosen}
        collection = index.collection()
        if collection is not None:
            vectors = th.fetch_vectors(collection, wanted)
    chosen_set = set(chosen)
    chosen_t = np.array([t in chosen_set for t in table.texts], dtype=bool)
    has_vector_t = np.array([t in vectors for t in table.texts], dtype=bool)
    missing = int((themable & chosen_t[table.text] & ~has_vector_t[table.text]).sum())
    return texts, chosen, vectors, missing


def _audience_voices(
    table: cm.CommentTable,
    themable: npt.NDArray[np.bool_],
    quotable: npt.NDArray[np.bool_],
    comment_theme: npt.NDArray[np.int64],
    label_of: Mapping[int, str],
) -> dict[str, AudienceVoice]:
    """Each episode's audience: questions, predictions, sentiment and its top themes."""
    voices: dict[str, AudienceVoice] = {}
    asks_all = table.question_t[table.text] if table.n else np.zeros(0, dtype=bool)
    guesses_all = table.prediction_t[table.text] if table.n else np.zeros(0, dtype=bool)
    for episode_id in sorted(table.episodes):
        mine = table.episode_mask(episode_id) & themable
        n = int(mine.sum())
        if n == 0:
            continue
        asks, guesses = mine & asks_all, mine & guesses_all
        authors = table.distinct_authors(mine)
        engaged = table.distinct_authors(asks | guesses)
        tids, counts = np.unique(comment_theme[mine & (comment_theme > 0)], return_counts=True)
        theme_authors = {
            int(tid): table.distinct_authors(mine & (comment_theme == tid)) for tid in tids
        }
        top = sorted(
            zip(tids.tolist(), counts.tolist(), strict=True),
            key=lambda tc: (-theme_authors[tc[0]], -tc[1], tc[0]),
        )[:3]
        asked = table.top(asks & quotable, EXAMPLES_PER_VOICE)
        # A guess asked as a question ("theory: who sent the letter??") is quoted once.
        guessed = guesses & quotable
        guessed[asked] = False
        voices[episode_id] = AudienceVoice(
            comments=n,
            distinct_authors=authors,
            questions=int(asks.sum()),
            predictions=int(guesses.sum()),
            engaged_author_share=engaged / authors if authors else 0.0,
            sentiment=float(table.sentiment_t[table.text[mine]].mean()),
            question_examples=[quote(table, i) for i in asked],
            prediction_examples=[quote(table, i) for i in table.top(guessed, EXAMPLES_PER_VOICE)],
            themes=[
                EpisodeTheme(
                    theme_id=tid,
                    label=label_of[tid],
                    comments=count,
                    distinct_authors=theme_authors[tid],
                )
                for tid, count in top
            ],
        )
    return voices


def comment_intel(
    settings: Settings,
    series: Series,
    start: datetime,
    end: datetime,
    seg: Mapping[str, str | bool] | None,
) -> Intel:
    platform = seg.get("platform") if seg else None
    # Opening the comment index (import, client, first read of its segments) takes seconds
    # in a fresh process and mostly waits on Chroma's own code: start it now, so it runs
    # while the comments are read from SQL and their texts are analysed.
    index = IndexOpener(settings)
    table = cm.load_comments(
        settings, series.series_id, start, end, platform if isinstance(platform, str) else None
    )
    bursts = cm.find_bursts(table)
    floods = cm.find_floods(table)
    index_of = {cid: i for i, cid in enumerate(table.ids)} if bursts else {}
    in_burst = np.zeros(table.n, dtype=bool)
    for b in bursts:
        in_burst[[index_of[cid] for cid in b.comment_ids]] = True
    injection = table.injection_t[table.text] if table.n else np.zeros(0, dtype=bool)
    keys = cm.flood_keys(table)
    flood_pairs = [
        table.episodes.index(f.episode_id) * max(1, len(table.authors))
        + table.authors.index(f.author)
        for f in floods
    ]
    flooded = np.isin(keys, flood_pairs)
    themable = ~in_burst & ~injection
    quotable = themable & ~flooded

    texts, chosen, vectors, missing = _theme_vectors(table, themable, index)
    stats, theme_index = th.build_themes(table, themable, vectors, flooded)

    authors_rank = th.rank_by_authors(stats)
    volume_rank = th.rank_by_volume(stats)
    theme_id = {index: rank + 1 for rank, index in enumerate(authors_rank)}
    volume_pos = {index: rank + 1 for rank, index in enumerate(volume_rank)}
    themes = [
        Theme(
            theme_id=theme_id[i],
            label=stats[i].label,
            terms=stats[i].terms,
            comments=len(stats[i].members),
            distinct_authors=stats[i].authors,
            likes=stats[i].likes,
            sentiment=stats[i].sentiment,
            examples=[table.ids[c] for c in stats[i].examples],
            example_texts=[table.texts[table.text[c]] for c in stats[i].examples],
            episodes=stats[i].episodes,
            flagged_comments=stats[i].flagged,
            rank_by_authors=theme_id[i],
            rank_by_volume=volume_pos[i],
        )
        for i in authors_rank
    ]
    to_id = np.array([0] + [theme_id[i] for i in range(len(stats))], dtype=np.int64)
    comment_theme = to_id[theme_index + 1]
    label_of = {t.theme_id: t.label for t in themes}

    voices = _audience_voices(table, themable, quotable, comment_theme, label_of)

    flags = comment_flags(table, bursts, floods, injection)

    characters = [
        CharacterMentions(
            name=c.name,
            comments=c.comments,
            distinct_authors=c.authors,
            sentiment=c.sentiment,
            episodes=c.episodes,
        )
        for c in cm.character_mentions(table, series.characters, themable)
    ]
    scope = CommentScope(
        start=iso_utc(start),
        end=iso_utc(end),
        comments=table.n,
        themed=sum(len(s.members) for s in stats),
        excluded=int((~themable).sum()),
        missing_vectors=missing,
        sampled=len(chosen) < len(texts),
    )
    return Intel(
        table=table,
        themable=themable,
        quotable=quotable,
        comment_theme=comment_theme,
        themes=themes,
        by_volume=[theme_id[i] for i in volume_rank],
        by_authors=[theme_id[i] for i in authors_rank],
        characters=characters,
        voices=voices,
        flags=flags,
        scope=scope,
    )
