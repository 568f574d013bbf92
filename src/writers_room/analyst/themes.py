"""Themes: clusters of comment vectors, weighed by distinct authors.

Vectors come from the comment index (the embeddings made at ingest). Identical texts
have identical vectors, so each distinct text is fetched and clustered once, weighted by
how many comments carry it. Clustering is spherical k-means (cosine on unit vectors)
with k-means++ seeding from a fixed seed: the same comments always give the same themes.
"""

from __future__ import annotations

import hashlib
import math
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

import numpy as np

from writers_room.analyst.comments import BoolArray, CommentTable, IntArray, facts

SEED = 20240613
MAX_THEMES = 12
# One theme per this many distinct texts, up to MAX_THEMES.
TEXTS_PER_THEME = 10
MAX_ITERATIONS = 40
# Stop once at most one text in this many changes theme in an iteration.
CONVERGED_FRACTION = 1000
# k-means is run with generous k; themes whose centres are this similar (cosine) are then
# merged, so one opinion split across clusters counts as one theme. Distinct themes of
# real comment feeds sit below ~0.75 (measured on the sample series at k up to 30).
MERGE_COSINE = 0.8
# Above this many distinct texts, themes are fitted on a fixed pseudo-random sample of
# them (the texts with the smallest hash). That bounds the time spent reading vectors
# from the index (~50 µs each through the Chroma client, so ~0.5 s) and clustering them;
# for at most MAX_THEMES themes, 10k texts estimate each theme's share to about ±1 %.
MAX_THEME_TEXTS = 10_000
FETCH_BATCH = 2_000
EXAMPLES = 3
TERMS = 4

_STOPWORDS = frozenset(
    """a an the and or but if of to in on at for with from by about as into is are was were be
    been am i me my you your we our he him his she her they them their it its this that
    these those so just like really very too what who why how when where which there here
    do does did doing have has had not no yes all any some can could would should will
    omg ngl lol lmao fr pls istg lowkey bestie y'all bc wait honestly okay ok im i'm it's
    that's don't can't rn tbh literally one out up get got go going one more than then
    now""".split()
)


@dataclass
class ThemeStats:
    """One fitted theme, before it becomes a report model (indices into the table)."""

    members: IntArray
    label: str
    terms: list[str]
    examples: list[int]
    authors: int = 0
    likes: int = 0
    sentiment: float = 0.0
    flagged: int = 0
    episodes: dict[str, int] = field(default_factory=dict)


def sample_texts(texts: Sequence[str], limit: int) -> list[str]:
    """A fixed pseudo-random subset of ``texts`` (those with the smallest hash)."""
    if len(texts) <= limit:
        return list(texts)

    def key(text: str) -> bytes:
        return hashlib.blake2b(text.encode("utf-8"), digest_size=8).digest()

    return sorted(sorted(texts, key=key)[:limit])


def fetch_vectors(collection: Any, ids_by_text: Mapping[str, str]) -> dict[str, np.ndarray]:
    """Vectors of the given texts, read from the index by one comment id per text."""
    wanted = sorted(ids_by_text.items(), key=lambda kv: kv[1])
    text_of = {cid: text for text, cid in wanted}
    ids = [cid for _, cid in wanted]
    out: dict[str, np.ndarray] = {}
    for start in range(0, len(ids), FETCH_BATCH):
        got = collection.get(ids=ids[start : start + FETCH_BATCH], include=["embeddings"])
        embeddings = got.get("embeddings")
        if embeddings is None:
            continue
        for cid, vector in zip(got["ids"], embeddings, strict=True):
            out[text_of[cid]] = np.asarray(vector, dtype=np.float32)
    return out


def spherical_kmeans(
    vectors: np.ndarray, weights: np.ndarray, k: int, *, seed: int = SEED
) -> np.ndarray:
    """Cluster unit vectors by cosine; returns a label per row (0..k-1, all non-empty).

    k-means++ seeding (weighted by ``weights``) from ``seed``; ties in assignment go to
    the lower cluster index (``argmax``), so the result is a pure function of the input.
    """
    n = vectors.shape[0]
    k = max(1, min(k, n))
    x = vectors.astype(np.float32)
    w = weights.astype(np.float32)
    rng = np.random.default_rng(seed)
    centres = np.empty((k, x.shape[1]), dtype=np.float32)
    first = int(np.argmax(w))  # the most repeated text seeds the first theme
    centres[0] = x[first]
    closest = 1.0 - x @ centres[0]
    for c in range(1, k):
        score = (np.maximum(closest, 0.0) ** 2 * w).astype(np.float64)
        total = score.sum()
        if total <= 0:
            pick = int(np.argmax(closest))
        else:
            pick = int(np.searchsorted(np.cumsum(score), rng.random() * total, side="right"))
            pick = min(pick, n - 1)
        centres[c] = x[pick]
        closest = np.minimum(closest, 1.0 - x @ centres[c])
    labels = np.full(n, -1)
    for _ in range(MAX_ITERATIONS):
        sims = x @ centres.T
        new = np.argmax(sims, axis=1)
        changed = int((new != labels).sum())
        labels = new
        if changed <= n // CONVERGED_FRACTION:
            break
        for c in range(k):
            mask = labels == c
            if not mask.any():
                # An empty theme restarts at the text worst served by its current theme.
                worst = int(np.argmin(sims[np.arange(n), labels]))
                centres[c] = x[worst]
                labels[worst] = c
                continue
            centre = (x[mask] * w[mask, None]).sum(axis=0)
            norm = np.linalg.norm(centre)
            centres[c] = centre / norm if norm > 0 else x[mask][0]
    # Renumber densely (a restarted centre may have left a gap).
    used = sorted(set(labels.tolist()))
    remap = {old: new for new, old in enumerate(used)}
    return np.array([remap[int(v)] for v in labels])


def merge_close(
    vectors: np.ndarray, weights: np.ndarray, labels: np.ndarray, threshold: float = MERGE_COSINE
) -> np.ndarray:
    """Merge clusters whose weighted centres have cosine >= ``threshold`` (closest first)."""
    labels = labels.copy()
    weighted = vectors * weights[:, None]
    while True:
        ids = np.unique(labels)
        if len(ids) < 2:
            break
        # Weighted centres of all clusters at once: one-hot(labels)^T @ (w * x).
        onehot = (labels[:, None] == ids[None, :]).astype(weighted.dtype)
        centres = onehot.T @ weighted
        centres /= np.maximum(np.linalg.norm(centres, axis=1, keepdims=True), 1e-12)
        sims = centres @ centres.T
        np.fill_diagonal(sims, -np.inf)
        i, j = np.unravel_index(int(np.argmax(sims)), sims.shape)
        if sims[i, j] < threshold:
            break
        keep, drop = ids[min(i, j)], ids[max(i, j)]
        labels[labels == drop] = keep
    remap = {old: new for new, old in enumerate(sorted(set(labels.tolist())))}
    return np.array([remap[int(v)] for v in labels])


@lru_cache(maxsize=200_000)
def _terms(text: str) -> frozenset[str]:
    return frozenset(
        t for t in facts(text).tokens if t not in _STOPWORDS and len(t) > 2 and not t.isdigit()
    )


def doc_freq(texts: Mapping[str, int]) -> tuple[Counter[str], int]:
    """Comments containing each term (a text counts ``n`` times), and the comment total."""
    counts: Counter[str] = Counter()
    total = 0
    for text, n in texts.items():
        total += n
        for term in _terms(text):
            counts[term] += n
    return counts, total


def key_terms(
    inside: Mapping[str, int],
    n_in: int,
    everywhere: Mapping[str, int],
    n_all: int,
    top: int = TERMS,
) -> list[str]:
    """Terms frequent in a cluster and rare elsewhere (a TF-IDF-like contrast).

    ``score = p_in · log((p_in + ε) / (p_out + ε))`` with ``p`` the share of comments
    containing the term, inside the cluster and in all other themes (``everywhere``
    minus ``inside``, so the corpus is counted once for all clusters).
    """
    eps = 0.01
    n_out = n_all - n_in
    scored = []
    for term, count in inside.items():
        p_in = count / max(1, n_in)
        if p_in < 0.05:
            continue
        p_out = (everywhere.get(term, 0) - count) / max(1, n_out)
        scored.append((p_in * math.log((p_in + eps) / (p_out + eps)), term))
    scored.sort(key=lambda st: (-st[0], st[1]))
    return [term for _, term in scored[:top]]


def build_themes(
    table: CommentTable,
    mask: BoolArray,
    vectors: Mapping[str, np.ndarray],
    flagged: BoolArray | None = None,
) -> tuple[list[ThemeStats], IntArray]:
    """Cluster the comments in ``mask`` whose text has a vector into themes.

    Args:
        table: The window's comments.
        mask: Which of them may form themes (bursts and injections are left out).
        vectors: Unit vector per distinct text.
        flagged: Comments of flagged authors (floods); they stay in the themes (a vocal
            minority is still an opinion) but are counted.

    Returns:
        The themes (in no particular order; callers rank them) and, per comment, the
        index of its theme in that list or -1.
    """
    comment_theme = np.full(table.n, -1, dtype=np.int64)
    if table.n == 0:
        return [], comment_theme
    has_vector = np.array([t in vectors for t in table.texts], dtype=bool)
    use = mask & has_vector[table.text]
    weights_t = np.bincount(table.text[use], minlength=len(table.texts)).astype(np.float64)
    text_ids = np.flatnonzero(weights_t > 0)
    if text_ids.size == 0:
        return [], comment_theme
    # A fixed order of texts (by text, not by arrival) keeps the clustering reproducible.
    text_ids = np.array(sorted(text_ids.tolist(), key=lambda t: table.texts[t]), dtype=np.int64)
    matrix = np.stack([vectors[table.texts[t]] for t in text_ids]).astype(np.float32)
    norms = np.linalg.norm(matrix, axis=1, keepdims=True)
    matrix /= np.where(norms > 0, norms, 1.0)
    weights = weights_t[text_ids]
    k = min(MAX_THEMES, max(1, len(text_ids) // TEXTS_PER_THEME))
    labels = merge_close(matrix, weights, spherical_kmeans(matrix, weights, k))
    theme_of_text = np.full(len(table.texts), -1, dtype=np.int64)
    theme_of_text[text_ids] = labels
    comment_theme = np.where(use, theme_of_text[table.text], -1)

    counts_all = {table.texts[t]: int(weights_t[t]) for t in text_ids}
    everywhere, n_all = doc_freq(counts_all)
    # The comment quoted for a text: its most liked, then lowest id.
    quote_of_text = np.full(len(table.texts), -1, dtype=np.int64)
    ranked_comments = table.quote_rank[use[table.quote_rank]]
    first = np.unique(table.text[ranked_comments], return_index=True)
    quote_of_text[first[0]] = ranked_comments[first[1]]
    flagged = flagged if flagged is not None else np.zeros(table.n, dtype=bool)
    themes = []
    for label in range(int(labels.max()) + 1):
        rows = np.flatnonzero(labels == label)
        centre = (matrix[rows] * weights[rows, None]).sum(axis=0)
        centre /= np.linalg.norm(centre) or 1.0
        closeness = matrix[rows] @ centre
        order = sorted(
            range(len(rows)), key=lambda i: (-round(float(closeness[i]), 6), int(text_ids[rows[i]]))
        )
        ranked = [int(text_ids[rows[i]]) for i in order]
        members = np.flatnonzero(comment_theme == label)
        inside, n_in = doc_freq({table.texts[t]: int(weights_t[t]) for t in ranked})
        episodes = np.bincount(table.episode[members], minlength=len(table.episodes))
        themes.append(
            ThemeStats(
                members=members,
                label=table.texts[ranked[0]][:120],
                terms=key_terms(inside, n_in, everywhere, n_all),
                examples=[int(quote_of_text[t]) for t in ranked[:EXAMPLES]],
                authors=table.distinct_authors(members_mask := comment_theme == label),
                likes=int(table.likes[members].sum()),
                sentiment=float(table.sentiment_t[table.text[members]].mean()),
                flagged=int((flagged & members_mask).sum()),
                episodes={
                    table.episodes[e]: int(c)
                    for e, c in sorted(enumerate(episodes), key=lambda ec: table.episodes[ec[0]])
                    if c
                },
            )
        )
    return themes, comment_theme


def rank_by_authors(themes: Sequence[ThemeStats]) -> list[int]:
    """Theme indices by distinct authors (the silent majority's ranking)."""
    return sorted(
        range(len(themes)),
        key=lambda i: (-themes[i].authors, -len(themes[i].members), themes[i].label),
    )


def rank_by_volume(themes: Sequence[ThemeStats]) -> list[int]:
    """Theme indices by comment count (what a naive reader of the feed sees)."""
    return sorted(
        range(len(themes)),
        key=lambda i: (-len(themes[i].members), -themes[i].authors, themes[i].label),
    )
