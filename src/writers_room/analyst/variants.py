"""Variant tests: Beta-Binomial posteriors, P(best), winners and sample-size estimates.

Each variant's rate gets a Beta(1 + successes, 1 + failures) posterior (a uniform
Beta(1, 1) prior). The probability that variant *i* is best,

    P_i = ∫ f_i(x) · ∏_{j≠i} F_j(x) dx,

is integrated numerically on a grid that is dense around every posterior's mass, so the
result is deterministic (no Monte Carlo) and accurate to ~1e-6 for any sample size.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from statistics import NormalDist

import numpy as np

# A winner needs P(best) at or above this, and at least this many impressions per variant.
WINNER_PROBABILITY = 0.95
MIN_IMPRESSIONS_PER_VARIANT = 500
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


@dataclass(frozen=True)
class Verdict:
    winner: str | None
    text: str
    more_impressions: int | None


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


def verdict(
    ids: Sequence[str], p_best: Sequence[float], impressions: Sequence[int], clicks: Sequence[int]
) -> Verdict:
    """Declare a CTR winner, or say how many more impressions the test needs."""
    if len(ids) < 2:
        return Verdict(None, "single variant: nothing to compare", None)
    lead = max(range(len(ids)), key=lambda i: (p_best[i], -i))
    fewest = min(impressions)
    if p_best[lead] >= WINNER_PROBABILITY and fewest >= MIN_IMPRESSIONS_PER_VARIANT:
        return Verdict(
            ids[lead],
            f"{ids[lead]} wins on CTR (P(best) {p_best[lead]:.1%}, "
            f">= {WINNER_PROBABILITY:.0%} with >= {MIN_IMPRESSIONS_PER_VARIANT} impressions "
            "per variant)",
            0,
        )
    # Posterior-mean rates: the estimate the Beta(1, 1) prior implies.
    rates = [(c + 1) / (n + 2) for c, n in zip(clicks, impressions, strict=True)]
    per_arm = impressions_needed(rates, len(ids))
    floor = MIN_IMPRESSIONS_PER_VARIANT
    if per_arm is None:
        more = max(0, floor - fewest) * len(ids)
        why = "the leading variants have the same CTR so far"
        text = f"inconclusive: {why}"
        if more:
            text += f"; at least {more} more impressions needed for the minimum sample"
        return Verdict(None, text, None)
    target = max(per_arm, floor)
    more = sum(max(0, target - n) for n in impressions)
    if more == 0:
        # The estimate says there is enough traffic, but the posterior disagrees: the
        # observed gap is right at the edge. Ask for one more window's worth.
        more = int(sum(impressions))
    return Verdict(
        None,
        f"inconclusive (best P(best) {p_best[lead]:.1%} < {WINNER_PROBABILITY:.0%}): "
        f"~{more} more impressions needed (~{target} per variant) if the CTRs hold",
        more,
    )
