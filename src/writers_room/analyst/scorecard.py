"""The 100-point scorecard of docs/METHOD.md, its targets and the cohort baseline.

Each component scores ``min(1, value / target) × points``. Targets are the series' own
cohort baseline — the median over its *earlier* episodes (lower position) of the same
metric in their window of the same age — when at least :data:`MIN_COHORT` earlier
episodes have such a window; otherwise the method's benchmarks below.

Points are capped per component, so a few strong components can carry an episode with a
broken one past 70. Two things keep the score honest: a finding caps the band
(:func:`capped_band`), and a component clearly below its target or the method's aim is
named (:func:`shortfalls`).
"""

from __future__ import annotations

import statistics
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from writers_room.analyst.cliff import BENCHMARK_LOSS_PER_S
from writers_room.analyst.diagnosis import upper_bound
from writers_room.analyst.evidence import pct, times
from writers_room.brief.report import BAND_WORDS, Band, Components, Metrics, Shortfall

POINTS = {
    "retention_10s": 30.0,
    "ctr": 20.0,
    "completion": 20.0,
    "engagement": 15.0,
    "commercial": 15.0,
}
MIN_COHORT = 2

# Benchmarks, used when the series has no cohort yet (its first two episodes).
# Retention at 10 s: the 45-60 % aim, midpoint.
BENCHMARK_RETENTION_10S = 0.525
# Completion: the 30-45 % aim for a 60-90 s episode, midpoint.
BENCHMARK_COMPLETION = 0.375
# CTR of a feed distribution card. The method judges CTR only against the series' own
# cohort; 5 % is a typical short-drama card and only matters for the first episodes.
BENCHMARK_CTR = 0.05
# (comments + shares + saves) per starter: ~1 % comment, ~1.5 % share, ~2.5 % save.
BENCHMARK_ENGAGEMENT = 0.05
# Commercial: purchases/unlocks per starter and revenue per starter (USD).
BENCHMARK_CONVERSIONS = 0.005
BENCHMARK_REVENUE = 0.01
# Used by the diagnosis rules (not scored directly).
BENCHMARK_COMMENTS = 0.01
BENCHMARK_SHARES_SAVES = 0.035
BENCHMARK_RETENTION_8S = 0.55
BENCHMARK_RETENTION_3S = 0.75

BENCHMARKS: dict[str, float] = {
    "retention_3s": BENCHMARK_RETENTION_3S,
    "retention_8s": BENCHMARK_RETENTION_8S,
    "retention_10s": BENCHMARK_RETENTION_10S,
    "ctr": BENCHMARK_CTR,
    "completion": BENCHMARK_COMPLETION,
    "engagement": BENCHMARK_ENGAGEMENT,
    "conversions": BENCHMARK_CONVERSIONS,
    "revenue": BENCHMARK_REVENUE,
    "comments": BENCHMARK_COMMENTS,
    "shares_saves": BENCHMARK_SHARES_SAVES,
}

# Score bands (docs/METHOD.md): < 50 hook/thumbnail iteration now; 50-70 script/pacing change
# in the next episode; > 70 double down.
BAND_HOOK_BELOW = 50.0
BAND_DOUBLE_ABOVE = 70.0
BAND_ORDER: tuple[Band, ...] = ("iterate_hook", "adjust_pacing", "double_down")
# A finding caps the band: however many points the other components earn, an episode
# whose hook fails or whose card loses the click needs its hook or thumbnail fixed now,
# and one with a pacing drop needs a cut before anyone doubles down on it.
BAND_CAPS: dict[str, Band] = {
    "hook_failure": "iterate_hook",
    "hook_packaging": "iterate_hook",
    "pacing": "adjust_pacing",
}
# A component is named as a shortfall when its rate is clearly (one-sided 95 %) below
# SHORTFALL_RATIO of its target, or clearly below the low end of the method's aim.
SHORTFALL_RATIO = 0.8
AIM_FLOORS = {"retention_10s": 0.45, "completion": 0.30}
AIMS = {"retention_10s": "45–60%", "completion": "30–45%"}


def benchmark_curve(seconds: int) -> list[float]:
    """The method's benchmark retention curve, percent per second up to ``seconds``.

    Straight lines through 100 % at 0 s and the benchmarks at 3, 8 and 10 s, then
    ``BENCHMARK_LOSS_PER_S`` points a second: what an episode's losses are compared with
    second by second when its series has neither a cohort nor two other episodes.
    """
    points = [
        (0, 100.0),
        (3, 100 * BENCHMARK_RETENTION_3S),
        (8, 100 * BENCHMARK_RETENTION_8S),
        (10, 100 * BENCHMARK_RETENTION_10S),
    ]
    out = []
    for s in range(seconds + 1):
        if s >= points[-1][0]:
            value = points[-1][1] - BENCHMARK_LOSS_PER_S * (s - points[-1][0])
        else:
            (a, va), (b, vb) = next(
                (p, q) for p, q in zip(points, points[1:], strict=False) if p[0] <= s < q[0]
            )
            value = va + (vb - va) * (s - a) / (b - a)
        out.append(round(max(0.0, value), 3))
    return out


def target_values(m: Metrics) -> dict[str, float]:
    """The values of one episode that targets are medians of."""
    return {
        "retention_3s": m.retention_3s,
        "retention_8s": m.retention_8s,
        "retention_10s": m.retention_10s,
        "ctr": m.ctr,
        "completion": m.completion,
        "engagement": m.engagement_per_view,
        "conversions": m.conversions_per_view,
        "revenue": m.revenue_per_view,
        "comments": m.comments_per_view,
        "shares_saves": m.shares_per_view + m.saves_per_view,
    }


@dataclass(frozen=True)
class Targets:
    values: dict[str, float]
    sources: dict[str, str]
    cohort: list[str]


def cohort_targets(cohort: Mapping[str, Mapping[str, float]]) -> Targets:
    """Targets from earlier episodes' same-age values (``{episode_id: values}``).

    A metric uses the cohort median when at least :data:`MIN_COHORT` episodes have it and
    the median is positive — a zero target would make any value full points — else the
    benchmark.
    """
    values: dict[str, float] = {}
    sources: dict[str, str] = {}
    for name, benchmark in BENCHMARKS.items():
        seen = [v[name] for v in cohort.values() if name in v]
        median = statistics.median(seen) if len(seen) >= MIN_COHORT else 0.0
        if median > 0:
            values[name], sources[name] = median, "cohort"
        else:
            values[name], sources[name] = benchmark, "benchmark"
    members = sorted(cohort) if len(cohort) >= MIN_COHORT else []
    return Targets(values=values, sources=sources, cohort=members)


def fraction(value: float, target: float) -> float:
    """``value / target`` capped at 1 (0 when there is no target)."""
    if target <= 0:
        return 0.0
    return min(1.0, max(0.0, value / target))


def components(m: Metrics, targets: Mapping[str, float]) -> Components:
    """Points per component: its fraction of target × points, capped at full points.

    Commercial is the mean of the conversions and revenue fractions, each capped, so a
    few large purchases cannot make up for no conversions at all (or the reverse).
    """
    commercial = (
        fraction(m.conversions_per_view, targets["conversions"])
        + fraction(m.revenue_per_view, targets["revenue"])
    ) / 2
    return Components(
        retention_10s=POINTS["retention_10s"] * fraction(m.retention_10s, targets["retention_10s"]),
        ctr=POINTS["ctr"] * fraction(m.ctr, targets["ctr"]),
        completion=POINTS["completion"] * fraction(m.completion, targets["completion"]),
        engagement=POINTS["engagement"] * fraction(m.engagement_per_view, targets["engagement"]),
        commercial=POINTS["commercial"] * commercial,
    )


def total(c: Components) -> float:
    """The score, rounded to 2 decimals (the band is decided on this rounded value)."""
    return round(c.retention_10s + c.ctr + c.completion + c.engagement + c.commercial, 2)


def band(score: float) -> Band:
    """Band of a score: < 50 ``iterate_hook``, 50-70 ``adjust_pacing``, > 70 ``double_down``."""
    if score < BAND_HOOK_BELOW:
        return "iterate_hook"
    if score > BAND_DOUBLE_ABOVE:
        return "double_down"
    return "adjust_pacing"


def capped_band(score: float, kinds: Sequence[str]) -> tuple[Band, Band, list[str]]:
    """(band, band of the score alone, the finding kinds that capped it).

    The band is the lowest of the score's band and every finding's cap (:data:`BAND_CAPS`).
    """
    by_score = band(score)
    final = by_score
    capped_by: list[str] = []
    for kind in kinds:
        cap = BAND_CAPS.get(kind)
        if cap is not None and BAND_ORDER.index(cap) < BAND_ORDER.index(by_score):
            capped_by.append(kind)
            if BAND_ORDER.index(cap) < BAND_ORDER.index(final):
                final = cap
    return final, by_score, capped_by


def band_reason(score: float, final: Band, by_score: Band, capped_by: Sequence[str]) -> str:
    """Why the band is what it is, in words."""
    if not capped_by:
        return f"{score:.1f} points: “{BAND_WORDS[final]}”."
    kinds = " and ".join(_CAP_NOUNS.get(k, k.replace("_", " ")) for k in capped_by)
    return (
        f"{score:.1f} points alone would say “{BAND_WORDS[by_score]}”; {kinds} caps it at "
        f"“{BAND_WORDS[final]}”."
    )


_CAP_NOUNS = {
    "hook_failure": "an opening that loses viewers",
    "hook_packaging": "a card that loses the click",
    "pacing": "a slow stretch",
}


# Per component: (the rate judged, its target key, the trials it is a share of, words).
_JUDGED = {
    "retention_10s": ("retention_10s", "retention_10s", "starts", "10-second retention"),
    "ctr": ("ctr", "ctr", "impressions", "CTR"),
    "completion": ("completion", "completion", "starts", "Completion"),
    "engagement": (
        "engagement_per_view",
        "engagement",
        "starts",
        "Comments, shares and saves per starter",
    ),
    "commercial": ("conversions_per_view", "conversions", "starts", "Purchases per starter"),
}


def shortfalls(
    m: Metrics, targets: Mapping[str, float], sources: Mapping[str, str]
) -> list[Shortfall]:
    """Components clearly below :data:`SHORTFALL_RATIO` of their target or below the aim.

    "Clearly": the rate's one-sided 95 % upper bound (Wilson) is below the bar, so a
    small window's noise is not named.
    """
    out = []
    for component, (field, key, trials, words) in _JUDGED.items():
        value = float(getattr(m, field))
        target = targets[key]
        n = int(getattr(m, trials))
        if n <= 0 or target <= 0:
            continue
        upper = upper_bound(min(value, 1.0), n)
        floor = AIM_FLOORS.get(component)
        below_target = upper < SHORTFALL_RATIO * target
        below_aim = floor is not None and upper < floor
        if not (below_target or below_aim):
            continue
        source = sources.get(key, "benchmark")
        whose = "the cohort's" if source == "cohort" else "the benchmark"
        sentence = f"{words} {pct(value)} is {times(value / target)} {whose} {pct(target)}"
        if below_aim:
            sentence += f", below the method's {AIMS[component]} aim"
        out.append(
            Shortfall(
                component=component,
                value=value,
                target=target,
                target_source=source,
                ratio=value / target,
                aim_floor=floor,
                sentence=sentence + ".",
            )
        )
    return out


def curve_band(curves: Sequence[Sequence[float]]) -> tuple[list[float], list[float]]:
    """Per-second min and max of cohort curves (over the seconds all of them reach)."""
    if not curves:
        return [], []
    length = min(len(c) for c in curves)
    lows = [min(c[s] for c in curves) for s in range(length)]
    highs = [max(c[s] for c in curves) for s in range(length)]
    return lows, highs
