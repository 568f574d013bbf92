"""The diagnosis rules of docs/METHOD.md: symptom → problem → what to change.

| rule | fires when |
|---|---|
| hook_packaging | CTR low, retention fine |
| hook_failure | CTR low and 8-s retention < 35 % |
| pacing | CTR fine, a cliff between 6 and 20 s at 3x the usual loss there |
| low_participation | retention fine, few comments |
| resonance | strong retention and a shares/saves spike |

"Low", "fine", "sharp", "few", "strong" and "spike" are the constants below, each a ratio
to the episode's target (its cohort baseline, or the benchmark). A rule about a rate only
fires when the window holds enough traffic for that rate to mean something, and
"retention fine" gives the benefit of the doubt: retention is fine unless it is *clearly*
(one-sided 95 %) below the bar — a 24-hour window of ~100 starters has ±5-point noise,
and calling a good episode's retention broken sends the writers after the wrong problem.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

from writers_room.analyst.cliff import BENCHMARK_LOSS_PER_S, CliffPoint, excess_z
from writers_room.brief.report import FindingKind, Metrics

# CTR is "low" below this fraction of the cohort CTR.
CTR_LOW_RATIO = 0.7
# Hook failure: 8-s retention below this (35 %, docs/METHOD.md).
HOOK_FAILURE_RETENTION_8S = 0.35
# Retention is "fine" unless clearly below this fraction of the 10-s target (or clearly
# below the hook-failure bar at 8 s); "clearly" = the one-sided upper confidence bound at
# this z is below the bar.
RETENTION_FINE_RATIO = 0.85
RETENTION_CONFIDENCE_Z = 1.645
# Retention is "strong" at or above this fraction of the 10-s target.
RETENTION_STRONG_RATIO = 1.1
# Pacing: the steepest excess loss inside this span of seconds, compared with the
# cohort's smoothed loss at the same second, is "sharp" when it is at least
# PACING_MIN_LOSS_PP points per second, PACING_COHORT_MULTIPLE times the cohort's, and
# PACING_MIN_Z standard errors above it (Poisson, on the starters who left in the span).
PACING_SPAN = (6, 20)
PACING_MIN_LOSS_PP = 3.0
PACING_COHORT_MULTIPLE = 3.0
PACING_MIN_Z = 3.0
# Few comments: comments per view below this fraction of the target.
LOW_PARTICIPATION_RATIO = 0.5
# A shares+saves spike: at least this multiple of the target rate.
RESONANCE_SPIKE_RATIO = 2.0
# Minimum traffic before a rate is judged.
MIN_IMPRESSIONS = 300
MIN_STARTERS = 50
# A "few comments" or "spike" verdict needs the target rate to predict at least this
# many events in the window; below that, zero comments is just a small window.
MIN_EXPECTED_EVENTS = 5.0
# ...and the difference from the cohort must be significant: a one-sided test of "same
# rate as the cohort" (conditional binomial on the episode's and the cohort's pooled
# counts, so the cohort's own noise counts too) must give p below this. Comments and
# shares are rare events; a median of a few small-count rates is noisy on its own.
RARE_EVENT_P = 0.01

THRESHOLDS: dict[str, float] = {
    "ctr_low_ratio": CTR_LOW_RATIO,
    "hook_failure_retention_8s": HOOK_FAILURE_RETENTION_8S,
    "retention_fine_ratio": RETENTION_FINE_RATIO,
    "retention_strong_ratio": RETENTION_STRONG_RATIO,
    "pacing_span_start_s": PACING_SPAN[0],
    "pacing_span_end_s": PACING_SPAN[1],
    "pacing_min_loss_pp_per_s": PACING_MIN_LOSS_PP,
    "pacing_cohort_multiple": PACING_COHORT_MULTIPLE,
    "pacing_min_z": PACING_MIN_Z,
    "retention_confidence_z": RETENTION_CONFIDENCE_Z,
    "low_participation_ratio": LOW_PARTICIPATION_RATIO,
    "resonance_spike_ratio": RESONANCE_SPIKE_RATIO,
    "min_impressions": MIN_IMPRESSIONS,
    "min_starters": MIN_STARTERS,
    "min_expected_events": MIN_EXPECTED_EVENTS,
    "rare_event_p": RARE_EVENT_P,
}

PROBLEMS: dict[str, tuple[str, str]] = {
    "hook_packaging": (
        "title/hook packaging",
        "new first frame, 2-3 thumbnails, 3-8 headlines",
    ),
    "hook_failure": (
        "hook failure (scenario A)",
        "replace thumbnail, rewrite opening beat",
    ),
    "pacing": (
        "pacing (scenario B)",
        "second cut with key action earlier, condense exposition, 3 alternate scripts for "
        "the first 15 s",
    ),
    "low_participation": (
        "low participation",
        "open questions, cliffhangers that invite reaction",
    ),
    "resonance": (
        "resonance (scenario C)",
        "sequel hooks, behind-the-scenes follow-up, cross-promotion copy",
    ),
}


@dataclass(frozen=True)
class Diagnosis:
    kind: FindingKind
    evidence: dict[str, float]
    summary: str
    shot_id: str | None = None


def _ratio(value: float, target: float) -> float:
    return value / target if target > 0 else 0.0


def upper_bound(p: float, n: int, z: float = RETENTION_CONFIDENCE_Z) -> float:
    """One-sided upper confidence bound of a proportion (Wilson score interval)."""
    if n <= 0:
        return 1.0
    denom = 1 + z * z / n
    centre = p + z * z / (2 * n)
    spread = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    return min(1.0, (centre + spread) / denom)


def _log_pmf(k: int, n: int, p: float) -> float:
    return (
        math.lgamma(n + 1)
        - math.lgamma(k + 1)
        - math.lgamma(n - k + 1)
        + k * math.log(p)
        + (n - k) * math.log1p(-p)
    )


def binomial_tail(k: int, n: int, p: float, *, upper: bool) -> float:
    """P(X >= k) (``upper``) or P(X <= k) for X ~ Binomial(n, p), exact."""
    if n <= 0:
        return 1.0
    if p <= 0:
        return 1.0 if (k <= 0 if upper else True) else 0.0
    if p >= 1:
        return 1.0 if (True if upper else k >= n) else 0.0
    ks = range(max(0, k), n + 1) if upper else range(0, min(k, n) + 1)
    logs = [_log_pmf(i, n, p) for i in ks]
    if not logs:
        return 0.0
    top = max(logs)
    return min(1.0, math.exp(top) * sum(math.exp(v - top) for v in logs))


def poisson_tail(k: int, mean: float, *, upper: bool) -> float:
    """P(X >= k) (``upper``) or P(X <= k) for X ~ Poisson(mean)."""
    if mean <= 0:
        return 1.0 if (k <= 0 or not upper) else 0.0
    limit = k - 1 if upper else k
    if limit < 0:
        return 1.0 if upper else 0.0
    log_terms = [i * math.log(mean) - mean - math.lgamma(i + 1) for i in range(limit + 1)]
    top = max(log_terms)
    below = min(1.0, math.exp(top) * sum(math.exp(v - top) for v in log_terms))
    return max(0.0, 1.0 - below) if upper else below


def rate_p_value(
    events: int,
    starts: int,
    cohort_events: int | None,
    cohort_starts: int | None,
    benchmark_rate: float,
    *,
    higher: bool,
) -> float:
    """One-sided p-value of "the episode's rate equals the cohort's".

    With cohort counts: conditional on the total, the episode's share of the events is
    Binomial(total, starts / (starts + cohort_starts)). Without (benchmark targets): a
    Poisson test against ``benchmark_rate``.
    """
    if cohort_events is not None and cohort_starts:
        total = events + cohort_events
        share = starts / (starts + cohort_starts)
        return binomial_tail(events, total, share, upper=higher)
    return poisson_tail(events, benchmark_rate * starts, upper=higher)


# The pacing test's z is the cliff test's (kept under this name for the rules' readers).
pacing_z = excess_z


@dataclass(frozen=True)
class _Window:
    """What every rule reads: the window's metrics, its targets and the shared verdicts."""

    m: Metrics
    targets: Mapping[str, float]
    cohort_counts: Mapping[str, int]
    ctr_ratio: float
    r10_ratio: float
    enough_views: bool
    ctr_low: bool
    ctr_fine: bool
    retention_fine: bool
    ctr_evidence: dict[str, float]
    retention_evidence: dict[str, float]


def _window(
    m: Metrics, targets: Mapping[str, float], cohort_counts: Mapping[str, int] | None
) -> _Window:
    """The verdicts the rules share: is CTR low or fine, is retention fine, is there traffic."""
    ctr_ratio = _ratio(m.ctr, targets["ctr"])
    r10_ratio = _ratio(m.retention_10s, targets["retention_10s"])
    enough_ctr = m.impressions >= MIN_IMPRESSIONS
    enough_views = m.starts >= MIN_STARTERS
    ctr_low = enough_ctr and ctr_ratio < CTR_LOW_RATIO
    r10_upper = upper_bound(m.retention_10s, m.starts)
    r8_upper = upper_bound(m.retention_8s, m.starts)
    fine_bar = RETENTION_FINE_RATIO * targets["retention_10s"]
    return _Window(
        m=m,
        targets=targets,
        cohort_counts=cohort_counts or {},
        ctr_ratio=ctr_ratio,
        r10_ratio=r10_ratio,
        enough_views=enough_views,
        ctr_low=ctr_low,
        ctr_fine=enough_ctr and not ctr_low,
        retention_fine=(
            enough_views and r10_upper >= fine_bar and r8_upper >= HOOK_FAILURE_RETENTION_8S
        ),
        ctr_evidence={
            "ctr": m.ctr,
            "cohort_ctr": targets["ctr"],
            "ctr_ratio": ctr_ratio,
            "ctr_low_below_ratio": CTR_LOW_RATIO,
            "impressions": float(m.impressions),
        },
        retention_evidence={
            "retention_8s": m.retention_8s,
            "cohort_retention_8s": targets["retention_8s"],
            "retention_10s": m.retention_10s,
            "retention_10s_upper_bound": r10_upper,
            "cohort_retention_10s": targets["retention_10s"],
            "retention_10s_ratio": r10_ratio,
            "starts": float(m.starts),
        },
    )


def _hook_failure(w: _Window) -> Diagnosis | None:
    """CTR low and 8-s retention below the hook-failure bar."""
    m, targets = w.m, w.targets
    if not (w.ctr_low and w.enough_views and m.retention_8s < HOOK_FAILURE_RETENTION_8S):
        return None
    return Diagnosis(
        "hook_failure",
        {
            **w.ctr_evidence,
            **w.retention_evidence,
            "retention_8s_below": HOOK_FAILURE_RETENTION_8S,
        },
        f"CTR {m.ctr:.1%} is {w.ctr_ratio:.2f}x the cohort's {targets['ctr']:.1%} and "
        f"only {m.retention_8s:.0%} of starters are still watching at 8 s "
        f"(< {HOOK_FAILURE_RETENTION_8S:.0%}): the hook does not land.",
    )


def _hook_packaging(w: _Window) -> Diagnosis | None:
    """CTR low while retention is fine (only asked when the hook did not fail)."""
    m, targets = w.m, w.targets
    if not (w.ctr_low and w.retention_fine):
        return None
    return Diagnosis(
        "hook_packaging",
        {
            **w.ctr_evidence,
            **w.retention_evidence,
            "retention_fine_ratio": RETENTION_FINE_RATIO,
        },
        f"CTR {m.ctr:.1%} is {w.ctr_ratio:.2f}x the cohort's {targets['ctr']:.1%} while "
        f"10-s retention is {m.retention_10s:.0%} ({w.r10_ratio:.2f}x target): the "
        "episode holds viewers, the card does not win them.",
    )


def _pacing(
    w: _Window, cliff: CliffPoint | None, cohort_loss: float, shot: str, reference_starters: int
) -> Diagnosis | None:
    """CTR fine and a sharp drop inside :data:`PACING_SPAN`."""
    lo, hi = PACING_SPAN
    if not (w.ctr_fine and w.enough_views and cliff is not None and lo <= cliff.second <= hi):
        return None
    typical = cohort_loss
    needed = max(PACING_MIN_LOSS_PP, PACING_COHORT_MULTIPLE * typical)
    z = pacing_z(cliff.drop_pct, typical, cliff.span_s, w.m.starts, reference_starters)
    if not (cliff.loss_per_s >= needed and z >= PACING_MIN_Z):
        return None
    where = f" during shot {shot}" if shot else ""
    ratio = _ratio(cliff.loss_per_s, typical)
    return Diagnosis(
        "pacing",
        {
            **w.ctr_evidence,
            "cliff_second": float(cliff.second),
            "cliff_drop_pct": cliff.drop_pct,
            "cliff_loss_pp_per_s": cliff.loss_per_s,
            "cohort_loss_pp_per_s": typical,
            "loss_ratio": ratio,
            "loss_needed_pp_per_s": needed,
            "z": z,
            "min_z": PACING_MIN_Z,
            "starts": float(w.m.starts),
        },
        f"Retention falls {cliff.drop_pct:.1f} points around {cliff.second} s"
        f"{where} ({cliff.loss_per_s:.1f} pp/s, {ratio:.1f}x the cohort's "
        f"{typical:.1f} pp/s at that second) while CTR is fine "
        f"({w.ctr_ratio:.2f}x).",
        shot_id=shot or None,
    )


def _low_participation(w: _Window) -> Diagnosis | None:
    """Retention fine and significantly few comments."""
    if not w.retention_fine:
        return None
    m, cc = w.m, w.cohort_counts
    target = w.targets["comments"]
    expected = target * m.starts
    ratio = _ratio(m.comments_per_view, target)
    p = rate_p_value(
        m.comments, m.starts, cc.get("comments"), cc.get("starts"), target, higher=False
    )
    if not (
        expected >= MIN_EXPECTED_EVENTS and ratio < LOW_PARTICIPATION_RATIO and p < RARE_EVENT_P
    ):
        return None
    return Diagnosis(
        "low_participation",
        {
            **w.retention_evidence,
            "comments": float(m.comments),
            "comments_per_view": m.comments_per_view,
            "cohort_comments_per_view": target,
            "comments_ratio": ratio,
            "expected_comments": expected,
            "low_below_ratio": LOW_PARTICIPATION_RATIO,
            "p_value": p,
        },
        f"Viewers stay ({m.retention_10s:.0%} at 10 s) but only {m.comments} "
        f"commented ({m.comments_per_view:.2%} per view, {ratio:.2f}x the cohort's "
        f"{target:.2%}; ~{expected:.0f} expected).",
    )


def _resonance(w: _Window) -> Diagnosis | None:
    """Strong retention and a significant shares+saves spike."""
    if not (w.enough_views and w.r10_ratio >= RETENTION_STRONG_RATIO):
        return None
    m, cc = w.m, w.cohort_counts
    target = w.targets["shares_saves"]
    rate = m.shares_per_view + m.saves_per_view
    ratio = _ratio(rate, target)
    p = rate_p_value(
        m.shares + m.saves,
        m.starts,
        cc.get("shares_saves"),
        cc.get("starts"),
        target,
        higher=True,
    )
    if not (
        target * m.starts >= MIN_EXPECTED_EVENTS
        and ratio >= RESONANCE_SPIKE_RATIO
        and p < RARE_EVENT_P
    ):
        return None
    return Diagnosis(
        "resonance",
        {
            **w.retention_evidence,
            "retention_strong_ratio": RETENTION_STRONG_RATIO,
            "shares": float(m.shares),
            "saves": float(m.saves),
            "shares_saves_per_view": rate,
            "cohort_shares_saves_per_view": target,
            "shares_saves_ratio": ratio,
            "spike_ratio": RESONANCE_SPIKE_RATIO,
            "p_value": p,
        },
        f"Strong retention ({m.retention_10s:.0%} at 10 s, {w.r10_ratio:.2f}x target) "
        f"and shares+saves at {rate:.1%} per view, {ratio:.1f}x the cohort's "
        f"{target:.1%}: this one resonates.",
    )


def diagnose(
    m: Metrics,
    targets: Mapping[str, float],
    cliff: CliffPoint | None,
    cohort_loss: float = BENCHMARK_LOSS_PER_S,
    shot: str = "",
    cohort_counts: Mapping[str, int] | None = None,
    reference_starters: int = 0,
) -> list[Diagnosis]:
    """Every rule of the table that fires for one episode's window.

    Args:
        m: The episode's metrics in the window.
        targets: Its targets (cohort medians or benchmarks), keyed as in
            ``_scorecard.BENCHMARKS``.
        cliff: The second inside :data:`PACING_SPAN` whose loss most exceeds the
            cohort's at that second (see ``_cliff.steepest_excess``).
        cohort_loss: The cohort's smoothed loss at that second, pp/s.
        shot: The shot playing at that second, for the summary.
        cohort_counts: The cohort's pooled ``starts``, ``comments`` and ``shares_saves``
            (None when the targets are benchmarks).
        reference_starters: The viewers behind ``cohort_loss`` (0 for a benchmark): its
            own noise counts in the drop's z, as in the cliff test, so both say one number.
    """
    w = _window(m, targets, cohort_counts)
    found = (
        # A hook that fails is not also a packaging problem.
        _hook_failure(w) or _hook_packaging(w),
        _pacing(w, cliff, cohort_loss, shot, reference_starters),
        _low_participation(w),
        _resonance(w),
    )
    return [d for d in found if d is not None]
