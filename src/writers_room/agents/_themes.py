"""Themes: clusters of comment vectors, weighed by distinct authors.

Vectors come from the comment index (the embeddings made at ingest). Identical texts
have identical vectors, so each distinct text is fetched and clustered once, weighted by
how many comments carry it. Clustering is spherical k-means (cosine on unit vectors)
with k-means++ seeding from a fixed seed: the same comments always give the same themes.
"""

from __future__ import annotations

import hashlib
import math
from collections import Counter, defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from writers_room.agents._comments import CommentRecord, facts

SEED = 20240613
MAX_THEMES = 12
# One theme per this many distinct texts, up to MAX_THEMES.
TEXTS_PER_THEME = 10
MAX_ITERATIONS = 60
# k-means is run with generous k; themes whose centres are this similar (cosine) are then
# merged, so one opinion split across clusters counts as one theme. Distinct themes of
# real comment feeds sit below ~0.75 (measured on the sample series at k up to 30).
MERGE_COSINE = 0.8
# Above this many distinct texts, themes are fitted on a fixed pseudo-random sample of
# them (the texts with the smallest hash), which bounds the time spent reading vectors
# from the index (~35 µs each through the Chroma client).
MAX_THEME_TEXTS = 20_000
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
    """One fitted theme, before it becomes a report model."""

    members: list[CommentRecord]
    label: str
    terms: list[str]
    examples: list[CommentRecord]
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
    x = vectors.astype(np.float64)
    w = weights.astype(np.float64)
    rng = np.random.default_rng(seed)
    centres = np.empty((k, x.shape[1]))
    first = int(np.argmax(w))  # the most repeated text seeds the first theme
    centres[0] = x[first]
    closest = 1.0 - x @ centres[0]
    for c in range(1, k):
        score = np.maximum(closest, 0.0) ** 2 * w
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
        if np.array_equal(new, labels):
            break
        labels = new
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
    while True:
        ids = sorted(set(labels.tolist()))
        if len(ids) < 2:
            break
        centres = np.stack(
            [(vectors[labels == c] * weights[labels == c, None]).sum(0) for c in ids]
        )
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


def key_terms(
    cluster_texts: Mapping[str, int], other_texts: Mapping[str, int], top: int = TERMS
) -> list[str]:
    """Terms frequent in a cluster and rare elsewhere (a TF-IDF-like contrast).

    ``score = p_in · log((p_in + ε) / (p_out + ε))`` with ``p`` the share of comments
    containing the term, inside the cluster and in all other themes.
    """

    def doc_freq(texts: Mapping[str, int]) -> tuple[Counter[str], int]:
        counts: Counter[str] = Counter()
        total = 0
        for text, n in texts.items():
            total += n
            for term in set(facts(text).tokens):
                if term not in _STOPWORDS and len(term) > 2 and not term.isdigit():
                    counts[term] += n
        return counts, total

    inside, n_in = doc_freq(cluster_texts)
    outside, n_out = doc_freq(other_texts)
    eps = 0.01
    scored = []
    for term, count in inside.items():
        p_in = count / max(1, n_in)
        if p_in < 0.05:
            continue
        p_out = outside.get(term, 0) / max(1, n_out)
        scored.append((p_in * math.log((p_in + eps) / (p_out + eps)), term))
    scored.sort(key=lambda st: (-st[0], st[1]))
    return [term for _, term in scored[:top]]


def build_themes(
    records: Sequence[CommentRecord],
    vectors: Mapping[str, np.ndarray],
    flagged_authors: frozenset[tuple[str, str]] = frozenset(),
) -> list[ThemeStats]:
    """Cluster ``records`` (those whose text has a vector) into themes.

    Args:
        records: The comments to cluster.
        vectors: Unit vector per distinct text.
        flagged_authors: (episode_id, author) pairs flagged as floods; their comments
            stay in the themes (a vocal minority is still an opinion) but are counted.

    Returns:
        Themes in no particular order; callers rank them.
    """
    by_text: dict[str, list[CommentRecord]] = defaultdict(list)
    for record in records:
        if record.text in vectors:
            by_text[record.text].append(record)
    texts = sorted(by_text)
    if not texts:
        return []
    matrix = np.stack([vectors[t] for t in texts])
    norms = np.linalg.norm(matrix, axis=1, keepdims=True)
    matrix = matrix / np.where(norms > 0, norms, 1.0)
    weights = np.array([len(by_text[t]) for t in texts], dtype=np.float64)
    k = min(MAX_THEMES, max(1, len(texts) // TEXTS_PER_THEME))
    labels = merge_close(matrix, weights, spherical_kmeans(matrix, weights, k))
    clusters: dict[int, list[int]] = defaultdict(list)
    for index, label in enumerate(labels.tolist()):
        clusters[label].append(index)
    counts_all = {t: len(by_text[t]) for t in texts}
    themes = []
    for label in sorted(clusters):
        idx = clusters[label]
        centre = (matrix[idx] * weights[idx, None]).sum(axis=0)
        centre /= np.linalg.norm(centre) or 1.0
        closeness = matrix[idx] @ centre
        order = sorted(range(len(idx)), key=lambda i: (-float(closeness[i]), texts[idx[i]]))
        ranked = [texts[idx[i]] for i in order]
        members = [r for t in ranked for r in by_text[t]]
        inside = {t: counts_all[t] for t in ranked}
        outside = {t: c for t, c in counts_all.items() if t not in inside}
        examples = [
            min(by_text[t], key=lambda r: (-r.likes, r.comment_id)) for t in ranked[:EXAMPLES]
        ]
        themes.append(
            ThemeStats(
                members=sorted(members, key=lambda r: r.comment_id),
                label=ranked[0][:120],
                terms=key_terms(inside, outside),
                examples=examples,
                authors=len({r.author for r in members}),
                likes=sum(r.likes for r in members),
                sentiment=sum(facts(r.text).sentiment for r in members) / len(members),
                flagged=sum((r.episode_id, r.author) in flagged_authors for r in members),
                episodes=dict(sorted(Counter(r.episode_id for r in members).items())),
            )
        )
    return themes


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
