"""Flags on a window's comments: duplicate bursts, author floods, prompt injection.

A flag tells the room what the analyst set aside (kept out of themes and quotes) and why.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

from writers_room.analyst import comments as cm
from writers_room.brief.report import Flag

__all__ = ["MAX_FLAG_IDS", "comment_flags"]

MAX_FLAG_IDS = 100


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
