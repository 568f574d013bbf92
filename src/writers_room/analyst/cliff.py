"""Retention cliffs: the second where viewers leave fastest, mapped to its shot."""

from __future__ import annotations

import statistics
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from writers_room.brief.manifest import ShotManifest

# Losses during seconds 0-1 and 1-2 are the natural swipe-away of any feed video, not a
# property of the episode's content, so a cliff is looked for from second 2 on.
FIRST_CLIFF_SECOND = 2
# The per-second loss is smoothed over this many seconds (centred) so that one noisy
# second cannot be a cliff on its own.
SMOOTHING_S = 3
# Smoothed losses are compared at this many decimals (points per second): curves are
# stored to 0.001 points, so smaller differences are rounding, not audience behaviour.
COMPARE_DECIMALS = 2


@dataclass(frozen=True)
class CliffPoint:
    """The steepest smoothed loss of a curve (seconds index the interval [s, s+1))."""

    second: int
    loss_per_s: float  # smoothed, percentage points per second
    drop_pct: float  # points lost over the SMOOTHING_S seconds centred on `second`
    before: float  # percent watching at the start of that span
    after: float  # percent watching at its end
    span_s: int  # seconds the drop is measured over (SMOOTHING_S, fewer at the edges)


def losses(curve: Sequence[float]) -> list[float]:
    """``loss[s]``: percentage points of starters lost during second ``s`` → ``s+1``."""
    return [curve[s] - curve[s + 1] for s in range(len(curve) - 1)]


def smoothed_losses(curve: Sequence[float]) -> dict[int, float]:
    """Centred moving average of the per-second loss, from :data:`FIRST_CLIFF_SECOND`.

    Losses before the first cliff second are left out of every average (not only out of
    the search), so a big natural opening drop cannot spill into second 2's average.
    """
    loss = losses(curve)
    half = SMOOTHING_S // 2
    out: dict[int, float] = {}
    for second in range(FIRST_CLIFF_SECOND, len(loss)):
        lo = max(FIRST_CLIFF_SECOND, second - half)
        hi = min(len(loss), second + half + 1)
        span = loss[lo:hi]
        out[second] = sum(span) / len(span)
    return out


def find_cliff(
    curve: Sequence[float], *, start: int = FIRST_CLIFF_SECOND, end: int | None = None
) -> CliffPoint | None:
    """The steepest smoothed loss after the opening seconds.

    Ties go to the larger raw loss, then to the earlier second.

    Args:
        curve: Percent still watching per whole second (index 0 = 100).
        start: First second to consider (never before :data:`FIRST_CLIFF_SECOND`).
        end: Last second to consider (default: the end of the curve).

    Returns:
        ``None`` for curves too short to have one in the span.
    """
    smooth = smoothed_losses(curve)
    last = max(smooth, default=-1) if end is None else end
    candidates = [s for s in smooth if max(start, FIRST_CLIFF_SECOND) <= s <= last]
    if not candidates:
        return None
    loss = losses(curve)
    # An isolated one-second drop gives SMOOTHING_S equal averages; the second that holds
    # the drop itself wins the tie.
    second = max(
        candidates,
        key=lambda s: (round(smooth[s], COMPARE_DECIMALS), round(loss[s], COMPARE_DECIMALS), -s),
    )
    half = SMOOTHING_S // 2
    lo = max(FIRST_CLIFF_SECOND, second - half)
    hi = min(len(curve) - 1, second + half + 1)
    return CliffPoint(
        second=second,
        loss_per_s=smooth[second],
        drop_pct=curve[lo] - curve[hi],
        before=curve[lo],
        after=curve[hi],
        span_s=hi - lo,
    )


def typical_losses(curves: Sequence[Sequence[float]]) -> dict[int, float]:
    """Per second, the median smoothed loss of several curves (a cohort's normal shape)."""
    per_curve = [smoothed_losses(c) for c in curves]
    seconds = sorted({s for losses_ in per_curve for s in losses_})
    return {s: statistics.median([p[s] for p in per_curve if s in p]) for s in seconds}


def steepest_excess(
    curve: Sequence[float],
    typical: Mapping[int, float],
    default: float,
    start: int,
    end: int,
) -> tuple[CliffPoint, float] | None:
    """The second in ``[start, end]`` whose smoothed loss most exceeds the typical one.

    Comparing with the cohort's loss *at the same second* matters: viewers leave faster
    at 6 s than at 20 s on every healthy curve, so a span-wide average would call the
    tail of the natural opening drop a cliff.

    Returns:
        The point and the typical loss at its second, or ``None`` if the span is empty.
    """
    smooth = smoothed_losses(curve)
    candidates = [s for s in smooth if start <= s <= end]
    if not candidates:
        return None
    loss = losses(curve)
    second = max(
        candidates,
        key=lambda s: (
            round(smooth[s] - typical.get(s, default), COMPARE_DECIMALS),
            round(loss[s], COMPARE_DECIMALS),
            -s,
        ),
    )
    point = find_cliff(curve, start=second, end=second)
    assert point is not None
    return point, typical.get(second, default)


def shot_at(manifest: ShotManifest | None, second: int) -> tuple[str, float, float, str, str]:
    """(shot_id, start, end, caption, action) of the shot playing during ``second``.

    The middle of the second is looked up, so a shot that starts at 11.0 s owns second 11.
    """
    if manifest is None:
        return ("", 0.0, 0.0, "", "")
    shot = manifest.shot_at(second + 0.5)
    return (shot.shot_id, shot.start_s, shot.end_s, shot.caption, shot.action)
