"""Flags on a window's comments: duplicate bursts, author floods, prompt injection.

A flag tells the room what the analyst set aside (kept out of themes and quotes) and why.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

from writers_room.analyst import comments as cm
from writers_room.analyst import diagnosis as dx
from writers_room.brief.report import EpisodeReport, Flag

__all__ = ["MAX_FLAG_IDS", "comment_flags", "traffic_flags"]

MAX_FLAG_IDS = 100
# Comment/view anomaly: an episode's stored comments per starter at least this multiple
# of the series median in the window, with at least ANOMALY_MIN_COMMENTS comments.
ANOMALY_COMMENT_MULTIPLE = 5.0
ANOMALY_MIN_COMMENTS = 20
# Fake-traffic pattern: CTR at least this multiple of target while 3-s retention is below
# FAKE_TRAFFIC_RETENTION_RATIO of target (clicks that never watch).
FAKE_TRAFFIC_CTR_MULTIPLE = 3.0
FAKE_TRAFFIC_RETENTION_RATIO = 0.5


def comment_flags(
    table: cm.CommentTable,
    bursts: Sequence[cm.Burst],
    floods: Sequence[cm.Flood],
    injection: npt.NDArray[np.bool_],
) -> list[Flag]:
    """One flag per burst, per flooding author, and per episode with injection attempts."""
    flags: list[Flag] = []
    index_of = {cid: i for i, cid in enumerate(table.ids)} if bursts else {}
    for b in bursts:
        members = [index_of[cid] for cid in b.comment_ids]
        episodes = np.bincount(table.episode[members], minlength=len(table.episodes))
        episode = sorted(
            (table.episodes[e] for e in np.flatnonzero(episodes == episodes.max())),
        )[0]
        flags.append(
            Flag(
                kind="duplicate_burst",
                detail=f"{len(b.comment_ids)} comments with the same text from {b.authors} "
                f"account(s) within {b.end - b.start:.0f} s: “{b.text[:100]}”",
                episode_id=episode,
                comment_ids=list(b.comment_ids[:MAX_FLAG_IDS]),
                evidence={
                    "comments": float(len(b.comment_ids)),
                    "authors": float(b.authors),
                    "seconds": b.end - b.start,
                    "window_s": float(cm.BURST_WINDOW_S),
                },
            )
        )
    for f in floods:
        flags.append(
            Flag(
                kind="author_flood",
                detail=f"one author ({f.author[:8]}…) posted {len(f.comment_ids)} comments on "
                f"{f.episode_id}, {f.share:.0%} of its comments in the window; their theme "
                "counts once per author",
                episode_id=f.episode_id,
                comment_ids=list(f.comment_ids[:MAX_FLAG_IDS]),
                evidence={"comments": float(len(f.comment_ids)), "share": f.share},
            )
        )
    for episode_id in sorted(table.episodes):
        ids = [table.ids[i] for i in np.flatnonzero(table.episode_mask(episode_id) & injection)]
        if ids:
            flags.append(
                Flag(
                    kind="prompt_injection",
                    detail=f"{len(ids)} comment(s) on {episode_id} address the AI instead of "
                    "the show; kept out of themes and quotes",
                    episode_id=episode_id,
                    comment_ids=ids[:MAX_FLAG_IDS],
                    evidence={"comments": float(len(ids))},
                )
            )
    return flags


def traffic_flags(episodes: Sequence[EpisodeReport], table: cm.CommentTable) -> list[Flag]:
    """Comment/view anomalies (many stored comments per starter) and impossible or
    bot-like traffic (more clicks than impressions; clicks that never watch)."""
    flags = []
    stored = {
        e: int(c)
        for e, c in zip(
            table.episodes, np.bincount(table.episode, minlength=len(table.episodes)), strict=True
        )
    }
    ratios = {
        e.episode_id: stored.get(e.episode_id, 0) / e.metrics.starts
        for e in episodes
        if e.metrics.starts > 0
    }
    typical = sorted(ratios.values())[len(ratios) // 2] if ratios else 0.0
    for e in episodes:
        n = stored.get(e.episode_id, 0)
        if n >= ANOMALY_MIN_COMMENTS and (
            e.metrics.starts == 0
            or (typical > 0 and ratios[e.episode_id] >= ANOMALY_COMMENT_MULTIPLE * typical)
        ):
            ratio = ratios.get(e.episode_id, float(n))
            flags.append(
                Flag(
                    kind="comment_view_anomaly",
                    detail=f"{n} comments for {e.metrics.starts} starters on {e.episode_id} "
                    f"({ratio:.2f} per starter vs a series median of {typical:.2f})",
                    episode_id=e.episode_id,
                    evidence={
                        "comments": float(n),
                        "starts": float(e.metrics.starts),
                        "comments_per_start": ratio,
                        "series_median": typical,
                        "multiple": ANOMALY_COMMENT_MULTIPLE,
                    },
                )
            )
        m = e.metrics
        if m.clicks > m.impressions:
            flags.append(
                Flag(
                    kind="traffic_anomaly",
                    detail=f"{m.clicks} clicks for {m.impressions} impressions on "
                    f"{e.episode_id}: the counts cannot both be right",
                    episode_id=e.episode_id,
                    evidence={"clicks": float(m.clicks), "impressions": float(m.impressions)},
                )
            )
        elif (
            m.impressions >= dx.MIN_IMPRESSIONS
            and m.starts >= dx.MIN_STARTERS
            and m.ctr >= FAKE_TRAFFIC_CTR_MULTIPLE * e.targets["ctr"]
            and m.retention_3s < FAKE_TRAFFIC_RETENTION_RATIO * e.targets["retention_3s"]
        ):
            flags.append(
                Flag(
                    kind="traffic_anomaly",
                    detail=f"CTR {m.ctr:.1%} is {m.ctr / e.targets['ctr']:.1f}x target but only "
                    f"{m.retention_3s:.0%} watch 3 s on {e.episode_id}: clicks that never "
                    "watch look like bought or bot traffic",
                    episode_id=e.episode_id,
                    evidence={
                        "ctr": m.ctr,
                        "target_ctr": e.targets["ctr"],
                        "retention_3s": m.retention_3s,
                        "target_retention_3s": e.targets["retention_3s"],
                    },
                )
            )
    return flags
