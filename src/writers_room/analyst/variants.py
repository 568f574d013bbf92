"""Variant tests: Beta-Binomial posteriors, P(best), winners and sample-size estimates.

Each variant's rate gets a Beta(1 + successes, 1 + failures) posterior (a uniform
Beta(1, 1) prior). The probability that variant *i* is best,

    P_i = ∫ f_i(x) · ∏_{j≠i} F_j(x) dx,

is integrated numerically on a grid that is dense around every posterior's mass, so the
result is deterministic (no Monte Carlo) and accurate to ~1e-6 for any sample size.

A variant is judged on three things (:func:`judge`): its CTR (does the card win the
click), its 10-second retention (do the viewers it wins stay — a card that promises what
the episode does not keep wins clicks and loses viewers) and its share of the watch time
against its share of the impressions (what the card earns in the end). When the CTRs
are so close that telling them apart would take more than
:data:`NO_DIFFERENCE_TRAFFIC_MULTIPLE` times the traffic seen, the verdict says there is
no detectable difference at this traffic instead of asking for that traffic.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from statistics import NormalDist

import numpy as np

from writers_room.analyst.evidence import count, pct
from writers_room.analyst.metrics import Totals, WindowRow, metrics_of, totals
from writers_room.brief.report import VariantResult

# A winner needs P(best) at or above this, and at least this many impressions per variant.
WINNER_PROBABILITY = 0.95
MIN_IMPRESSIONS_PER_VARIANT = 500
# Retention is compared only when every variant has at least this many starters.
MIN_STARTERS_PER_VARIANT = 50
# "No detectable difference at this traffic": the CTR test would need more than this
# multiple of the impressions the variants have had.
NO_DIFFERENCE_TRAFFIC_MULTIPLE = 10
# Grid points per posterior, placed within this many standard deviations of its mean.
_GRID_POINTS = 2001
_GRID_SDS = 12.0
_EPS = 1e-12


def _grid(alphas: np.ndarray, betas: np.ndarray) -> np.ndarray:
    total = alphas + betas
    means = alphas / total
    sds = np.sqrt(alphas * betas / (total * total * (total + 1)))
    parts = [np.linspace(_EPS, 1 - _EPS, _GRID_POINTS)]
    for mean, sd in zip(means, sds, strict=True):
        lo = max(_EPS, mean - _GRID_SDS * sd)
        hi = min(1 - _EPS, mean + _GRID_SDS * sd)
        parts.append(np.linspace(lo, hi, _GRID_POINTS))
    return np.unique(np.concatenate(parts))


def _cumtrapz(y: np.ndarray, x: np.ndarray) -> np.ndarray:
    steps = (y[1:] + y[:-1]) * np.diff(x) / 2
    return np.concatenate(([0.0], np.cumsum(steps)))


def prob_best(successes: Sequence[int], trials: Sequence[int]) -> list[float]:
    """Posterior probability that each arm has the highest rate (sums to 1).

    Args:
        successes: Successes per arm (clicks, viewers still watching at 10 s).
        trials: Trials per arm (impressions, starters); ``successes <= trials``.
    """
    k = len(trials)
    if k == 0:
        return []
    if k == 1:
        return [1.0]
    s = np.asarray(successes, dtype=np.float64)
    n = np.asarray(trials, dtype=np.float64)
    s = np.clip(s, 0, n)
    alphas, betas = 1.0 + s, 1.0 + n - s
    x = _grid(alphas, betas)
    pdfs = np.empty((k, x.size))
    cdfs = np.empty((k, x.size))
    log_x, log_1mx = np.log(x), np.log1p(-x)
    for i in range(k):
        log_pdf = (alphas[i] - 1) * log_x + (betas[i] - 1) * log_1mx
        pdf = np.exp(log_pdf - log_pdf.max())
        cdf = _cumtrapz(pdf, x)
        norm = cdf[-1]
        pdfs[i] = pdf / norm
        cdfs[i] = cdf / norm
    probs = []
    for i in range(k):
        others = np.prod(np.delete(cdfs, i, axis=0), axis=0)
        integrand = pdfs[i] * others
        probs.append(float(np.sum((integrand[1:] + integrand[:-1]) * np.diff(x)) / 2))
    total = sum(probs)
    return [p / total for p in probs] if total > 0 else [1.0 / k] * k


def impressions_needed(rates: Sequence[float], arms: int) -> int | None:
    """Impressions per arm for the leader to reach P(best) >= 95 % if the rates hold.

    A normal approximation of the leader against its closest rival, with the one-sided
    level split over the ``arms - 1`` comparisons (Bonferroni). ``None`` when the two
    leading rates are equal (no amount of traffic separates them).
    """
    ordered = sorted(rates, reverse=True)
    if len(ordered) < 2:
        return None
    p1, p2 = ordered[0], ordered[1]
    if p1 - p2 <= 0:
        return None
    z = NormalDist().inv_cdf(1 - (1 - WINNER_PROBABILITY) / max(1, arms - 1))
    return math.ceil(z * z * (p1 * (1 - p1) + p2 * (1 - p2)) / (p1 - p2) ** 2)


@dataclass(frozen=True)
class Arm:
    """One variant's counts in the window."""

    variant_id: str
    impressions: int
    clicks: int
    starts: int
    retained_10s: int  # starters still watching at 10 s
    watch_s: float  # seconds watched by all its starters


@dataclass(frozen=True)
class Verdict:
    winner: str | None
    text: str
    more_impressions: int | None
    winner_retention: str | None = None
    detectable: bool = True
    p_ctr: tuple[float, ...] = ()
    p_retention: tuple[float, ...] = ()
    p_worst_retention: tuple[float, ...] = ()


def _below(p: float) -> str:
    """A probability under the winner bar, never rounded up to it (94.96 % is not 95.0 %)."""
    return f"{math.floor(p * 1000) / 10:.1f}%"


def _ratio(num: float, den: float) -> float:
    return num / den if den > 0 else 0.0


def _ctr_shortfall(arms: Sequence[Arm], p_lead: float) -> tuple[str, int | None, bool]:
    """No CTR winner: how much more traffic the test needs, or that none would do."""
    impressions = [a.impressions for a in arms]
    seen = sum(impressions)
    ctrs = ", ".join(pct(_ratio(a.clicks, a.impressions)) for a in arms)
    # Posterior-mean rates: the estimate the Beta(1, 1) prior implies.
    rates = [(a.clicks + 1) / (a.impressions + 2) for a in arms]
    per_arm = impressions_needed(rates, len(arms))
    floor = MIN_IMPRESSIONS_PER_VARIANT
    target = max(per_arm or 0, floor)
    more = sum(max(0, target - n) for n in impressions)
    if more == 0:
        # The estimate says there is enough traffic, but the posterior disagrees: the
        # observed gap is right at the edge. Ask for one more window's worth.
        more = seen
    if per_arm is None or more > NO_DIFFERENCE_TRAFFIC_MULTIPLE * seen:
        return (
            f"no detectable difference at this traffic: CTR {ctrs} on {count(seen)} "
            f"impressions; telling them apart would take over "
            f"{NO_DIFFERENCE_TRAFFIC_MULTIPLE}× the traffic seen",
            None,
            False,
        )
    if p_lead >= WINNER_PROBABILITY:
        # The posterior is clear but the sample is short of the minimum.
        more = sum(max(0, floor - n) for n in impressions)
        return (
            f"inconclusive: at least {more} more impressions needed for the minimum sample "
            f"({floor} per variant)",
            more,
            True,
        )
    return (
        f"inconclusive (best P(best) {_below(p_lead)} < {WINNER_PROBABILITY:.0%}): "
        f"~{more} more impressions needed (~{target} per variant) if the CTRs hold",
        more,
        True,
    )


def judge(arms: Sequence[Arm]) -> Verdict:
    """The variant to keep, judged on CTR, 10-s retention and watch time per impression.

    A winner has the best CTR at P(best) >= :data:`WINNER_PROBABILITY` with at least
    :data:`MIN_IMPRESSIONS_PER_VARIANT` impressions per variant, is not the clear loser on
    10-s retention (P(worst) below the same bar, judged when every variant has
    :data:`MIN_STARTERS_PER_VARIANT` starters) and earns the most watch time per
    impression.
    """
    if len(arms) < 2:
        return Verdict(None, "single variant: nothing to compare", None)
    ids = [a.variant_id for a in arms]
    p_ctr = prob_best([a.clicks for a in arms], [a.impressions for a in arms])
    p_ret = prob_best([a.retained_10s for a in arms], [a.starts for a in arms])
    p_worst = prob_best([a.starts - a.retained_10s for a in arms], [a.starts for a in arms])
    enough_views = min(a.starts for a in arms) >= MIN_STARTERS_PER_VARIANT
    ret_lead = max(range(len(arms)), key=lambda i: (p_ret[i], -i))
    winner_retention = (
        ids[ret_lead] if enough_views and p_ret[ret_lead] >= WINNER_PROBABILITY else None
    )
    watch = [_ratio(a.watch_s, a.impressions) for a in arms]
    watch_total = sum(a.watch_s for a in arms)
    impressions_total = sum(a.impressions for a in arms)
    lead = max(range(len(arms)), key=lambda i: (p_ctr[i], -i))
    a = arms[lead]
    shares = (
        f"{pct(_ratio(a.watch_s, watch_total), 0)} of the watch time from "
        f"{pct(_ratio(a.impressions, impressions_total), 0)} of the impressions"
    )
    winner: str | None = None
    more: int | None = 0
    detectable = True
    clear_ctr = p_ctr[lead] >= WINNER_PROBABILITY and min(x.impressions for x in arms) >= (
        MIN_IMPRESSIONS_PER_VARIANT
    )
    if not clear_ctr:
        text, more, detectable = _ctr_shortfall(arms, p_ctr[lead])
    elif enough_views and p_worst[lead] >= WINNER_PROBABILITY:
        text = (
            f"{ids[lead]} wins the click (CTR P(best) {p_ctr[lead]:.1%}) but loses viewers: "
            f"10-s retention {pct(_ratio(a.retained_10s, a.starts), 0)}, the worst at "
            f"P {p_worst[lead]:.1%}; not a winner"
        )
    elif watch[lead] < max(watch):
        best = ids[max(range(len(arms)), key=lambda i: (watch[i], -i))]
        text = (
            f"{ids[lead]} wins the click (CTR P(best) {p_ctr[lead]:.1%}) but {best} earns more "
            f"watch time per impression ({watch[lead]:.2f} s vs {max(watch):.2f} s); not a winner"
        )
    else:
        winner = ids[lead]
        held = (
            f"10-s retention {pct(_ratio(a.retained_10s, a.starts), 0)} holds up "
            f"(P(worst) {p_worst[lead]:.0%})"
            if enough_views
            else "too few starters per variant to compare retention"
        )
        text = (
            f"{winner} wins on CTR (P(best) {p_ctr[lead]:.1%}, >= {WINNER_PROBABILITY:.0%} "
            f"with >= {MIN_IMPRESSIONS_PER_VARIANT} impressions per variant); {held}; "
            f"{shares}"
        )
    if winner is None and winner_retention is not None:
        text += f"; {winner_retention} holds viewers best at 10 s (P(best) {max(p_ret):.1%})"
    return Verdict(
        winner,
        text,
        more if winner is None else 0,
        winner_retention,
        detectable,
        tuple(p_ctr),
        tuple(p_ret),
        tuple(p_worst),
    )


def arm_of(variant_id: str, t: Totals) -> Arm:
    """A variant's arm from its summed window rows."""
    r10 = t.curve[min(10, len(t.curve) - 1)] / 100 if t.curve else 0.0
    return Arm(
        variant_id=variant_id,
        impressions=t.impressions,
        clicks=t.clicks,
        starts=t.views,
        retained_10s=round(t.views * r10),
        watch_s=t.view_seconds,
    )


def variant_results(rows: Sequence[WindowRow]) -> tuple[list[VariantResult], Verdict]:
    """Each variant of one episode's window rows, and the verdict on them."""
    by_variant = {
        variant_id: totals(r for r in rows if r.variant_id == variant_id)
        for variant_id in sorted({r.variant_id for r in rows})
    }
    arms = [arm_of(v, t) for v, t in by_variant.items()]
    verdict = judge(arms)
    single = len(arms) < 2
    watch_total = sum(a.watch_s for a in arms)
    impressions_total = sum(a.impressions for a in arms)
    results = []
    for i, (variant_id, t) in enumerate(by_variant.items()):
        m = metrics_of(t)
        results.append(
            VariantResult(
                variant_id=variant_id,
                impressions=m.impressions,
                clicks=m.clicks,
                ctr=m.ctr,
                starts=m.starts,
                retention_10s=m.retention_10s,
                avg_view_s=m.avg_view_s,
                p_best_ctr=1.0 if single else verdict.p_ctr[i],
                p_best_retention=1.0 if single else verdict.p_retention[i],
                p_worst_retention=1.0 if single else verdict.p_worst_retention[i],
                watch_time_share=_ratio(arms[i].watch_s, watch_total),
                impression_share=_ratio(arms[i].impressions, impressions_total),
                watch_s_per_impression=_ratio(arms[i].watch_s, arms[i].impressions),
            )
        )
    return results, verdict
