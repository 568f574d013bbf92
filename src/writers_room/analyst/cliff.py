"""Retention cliffs: a second where viewers leave faster than the comparison curves do.

Every feed video loses viewers fastest in its first seconds, and a healthy curve keeps
losing a little every second after that. A *cliff* is not the steepest part of the
curve — that is nearly always the opening — but a second whose loss is steeper than the
reference curves' loss *at the same second*: the series' cohort (its earlier episodes at
the same age), else the series' other episodes in the same window, else the method's
benchmark curve (``scorecard.benchmark_curve``). :func:`detect_cliff` returns the second
whose loss most exceeds the reference, if that excess passes :func:`is_cliff`'s test;
otherwise the episode has no cliff.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence
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
# A cliff: the smoothed loss is at least CLIFF_MULTIPLE times the reference's at that
# second, at least CLIFF_MIN_EXCESS_PP points per second above it, and CLIFF_MIN_Z
# Poisson standard errors above it (on the starters who left over the smoothing span).
CLIFF_MULTIPLE = 2.0
CLIFF_MIN_EXCESS_PP = 3.0
CLIFF_MIN_Z = 3.0
# Typical smoothed loss per second of a healthy curve once the opening is over, in
# percentage points: what a second past the end of every reference curve is compared
# with, from BENCHMARK_FROM_S on (before it, the opening's decay has no one figure).
BENCHMARK_LOSS_PER_S = 1.0
BENCHMARK_FROM_S = 10


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


def excess_z(
    drop_pct: float,
    typical_per_s: float,
    seconds: int,
    starters: int,
    reference_starters: int = 0,
) -> float:
    """How many Poisson standard errors the starters lost over a span exceed the typical.

    ``drop_pct`` points over ``seconds`` seconds against ``typical_per_s`` points per
    second, of ``starters`` viewers. With ``reference_starters`` (the viewers behind the
    typical loss), the typical loss's own noise counts too; without, it is exact.
    """
    observed = drop_pct / 100 * starters
    expected = max(typical_per_s * seconds / 100 * starters, 1.0)
    variance = expected
    if reference_starters > 0:
        variance += expected * starters / reference_starters
    return (observed - expected) / math.sqrt(variance)


@dataclass(frozen=True)
class Reference:
    """What a curve's losses are compared with, second by second.

    Attributes:
        losses: Typical smoothed loss (pp/s) per second; seconds not in it fall back to
            :data:`BENCHMARK_LOSS_PER_S` from :data:`BENCHMARK_FROM_S` on and are not
            judged before.
        source: ``cohort``, ``series`` (the other episodes in the window) or ``benchmark``.
        label: The same in words, for the report.
        curves: The reference curves themselves (for the chart's band).
        starters: The viewers behind the curves (0 for the benchmark): the reference's
            own noise.
    """

    losses: dict[int, float]
    source: str
    label: str
    curves: tuple[tuple[float, ...], ...] = ()
    starters: int = 0

    def at(self, second: int) -> float | None:
        """The typical loss at ``second``, or ``None`` where nothing says what is typical."""
        if second in self.losses:
            return self.losses[second]
        return BENCHMARK_LOSS_PER_S if second >= BENCHMARK_FROM_S else None


def reference(
    cohort: Sequence[tuple[Sequence[float], int]],
    cohort_label: str,
    peers: Sequence[tuple[Sequence[float], int]],
    peers_label: str,
    minimum: int = 2,
    benchmark: Sequence[float] = (),
) -> Reference:
    """The cohort's curves when there are ``minimum`` of them, else the peers', else the
    ``benchmark`` curve (exact: no noise of its own).

    Curves come with their starters: ``(curve, starters)``.
    """
    for curves, source, label in (
        (cohort, "cohort", cohort_label),
        (peers, "series", peers_label),
    ):
        usable = [(c, n) for c, n in curves if len(c) > FIRST_CLIFF_SECOND + 1 and n > 0]
        if len(usable) >= minimum:
            return Reference(
                typical_losses([c for c, _ in usable]),
                source,
                label,
                tuple(tuple(c) for c, _ in usable),
                sum(n for _, n in usable),
            )
    if benchmark:
        return Reference(smoothed_losses(benchmark), "benchmark", "the method's benchmark curve")
    label = f"the benchmark of {BENCHMARK_LOSS_PER_S:g} pp/s after {BENCHMARK_FROM_S} s"
    return Reference({}, "benchmark", label)


@dataclass(frozen=True)
class CliffTest:
    """A candidate second against its reference: the numbers :func:`is_cliff` reads."""

    point: CliffPoint
    typical: float  # the reference's smoothed loss at that second, pp/s
    excess: float  # point.loss_per_s - typical
    ratio: float  # point.loss_per_s / typical (inf when typical is 0)
    z: float  # Poisson standard errors above typical, over the span


def measure_second(
    curve: Sequence[float], second: int, typical: float, starters: int, reference_starters: int = 0
) -> CliffTest:
    """The cliff test's numbers for one second of a curve."""
    point = find_cliff(curve, start=second, end=second)
    assert point is not None
    ratio = point.loss_per_s / typical if typical > 0 else math.inf
    z = excess_z(point.drop_pct, typical, point.span_s, starters, reference_starters)
    return CliffTest(point, typical, point.loss_per_s - typical, ratio, z)


def is_cliff(t: CliffTest) -> bool:
    """Steeper than the reference by :data:`CLIFF_MULTIPLE`, :data:`CLIFF_MIN_EXCESS_PP`
    and :data:`CLIFF_MIN_Z` all at once."""
    return t.ratio >= CLIFF_MULTIPLE and t.excess >= CLIFF_MIN_EXCESS_PP and t.z >= CLIFF_MIN_Z


def detect_cliff(
    curve: Sequence[float],
    ref: Reference,
    starters: int,
    *,
    start: int = FIRST_CLIFF_SECOND,
    end: int | None = None,
) -> CliffTest | None:
    """The second whose smoothed loss most exceeds the reference's, if it is a cliff.

    Comparing with the reference's loss *at the same second* matters: viewers leave
    faster at 6 s than at 20 s on every healthy curve, so a span-wide average would call
    the tail of the natural opening drop a cliff. ``start`` and ``end`` limit the search
    to a span of seconds (the pacing rule's 6-20 s).

    Only seconds that pass :func:`is_cliff` compete; among them the largest smoothed
    excess wins (ties: the larger raw loss, then the earlier second). Smoothing spreads
    one second's drop over its neighbours (and the first cliff second averages only two
    seconds), so the winner is then moved to whichever passing neighbour holds the
    largest raw excess — the second the drop actually happened in. ``None``: no cliff.
    """
    if starters <= 0:
        return None
    smooth = smoothed_losses(curve)
    loss = losses(curve)
    passing: dict[int, CliffTest] = {}
    last = max(smooth, default=-1) if end is None else end
    for second, value in smooth.items():
        typical = ref.at(second)
        if typical is None or not start <= second <= last:
            continue
        # Cheap pre-checks before the full test: most seconds are nowhere near a cliff.
        if value < CLIFF_MULTIPLE * typical or value - typical < CLIFF_MIN_EXCESS_PP:
            continue
        t = measure_second(curve, second, typical, starters, ref.starters)
        if is_cliff(t):
            passing[second] = t
    if not passing:
        return None
    best = max(
        passing,
        key=lambda s: (
            round(passing[s].excess, COMPARE_DECIMALS),
            round(loss[s], COMPARE_DECIMALS),
            -s,
        ),
    )
    near = [s for s in (best - 1, best, best + 1) if s in passing]  # all inside the span
    chosen = max(
        near, key=lambda s: (round(loss[s] - passing[s].typical, COMPARE_DECIMALS), s == best, -s)
    )
    return passing[chosen]


def typical_losses(curves: Sequence[Sequence[float]]) -> dict[int, float]:
    """Per second, the median smoothed loss of several curves (a cohort's normal shape)."""
    per_curve = [smoothed_losses(c) for c in curves]
    seconds = sorted({s for losses_ in per_curve for s in losses_})
    return {s: statistics.median([p[s] for p in per_curve if s in p]) for s in seconds}


def shot_at(manifest: ShotManifest | None, second: int) -> tuple[str, float, float, str, str]:
    """(shot_id, start, end, caption, action) of the shot playing during ``second``.

    The middle of the second is looked up, so a shot that starts at 11.0 s owns second 11.
    """
    if manifest is None:
        return ("", 0.0, 0.0, "", "")
    shot = manifest.shot_at(second + 0.5)
    return (shot.shot_id, shot.start_s, shot.end_s, shot.caption, shot.action)
