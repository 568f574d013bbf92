"""Beta-Binomial variant tests against a closed form and a large simulation."""

from __future__ import annotations

import math

import numpy as np
import pytest

from writers_room.analyst import variants as vr


def log_beta(a: float, b: float) -> float:
    return math.lgamma(a) + math.lgamma(b) - math.lgamma(a + b)


def p_b_beats_a(a_a: int, b_a: int, a_b: int, b_b: int) -> float:
    """Closed form of P(p_B > p_A) for Beta posteriors with integer alpha_B (E. Miller)."""
    total = 0.0
    for i in range(a_b):
        total += math.exp(
            log_beta(a_a + i, b_a + b_b)
            - math.log(b_b + i)
            - log_beta(1 + i, b_b)
            - log_beta(a_a, b_a)
        )
    return total


@pytest.mark.parametrize(
    ("clicks", "impressions"),
    [
        ((50, 30), (1000, 1000)),
        ((3, 5), (10, 12)),
        ((0, 0), (0, 0)),
        ((120, 131), (2400, 2500)),
        ((7, 1), (40, 3)),
    ],
)
def test_two_variants_match_the_closed_form(
    clicks: tuple[int, int], impressions: tuple[int, int]
) -> None:
    probs = vr.prob_best(list(clicks), list(impressions))
    a_a, b_a = 1 + clicks[0], 1 + impressions[0] - clicks[0]
    a_b, b_b = 1 + clicks[1], 1 + impressions[1] - clicks[1]
    expected = p_b_beats_a(a_a, b_a, a_b, b_b)
    assert probs[1] == pytest.approx(expected, abs=1e-6)
    assert sum(probs) == pytest.approx(1.0)


def test_large_samples_stay_accurate() -> None:
    # Posteriors ~0.0007 wide: a grid over [0, 1] alone would miss them.
    probs = vr.prob_best([5000, 5100], [100_000, 100_000])
    expected = p_b_beats_a(5001, 95001, 5101, 94901)
    assert probs[1] == pytest.approx(expected, abs=1e-5)


def test_three_variants_match_a_big_simulation() -> None:
    clicks, impressions = [40, 52, 47], [1000, 1100, 950]
    probs = vr.prob_best(clicks, impressions)
    rng = np.random.default_rng(1234)
    draws = np.stack(
        [
            rng.beta(1 + c, 1 + n - c, size=1_000_000)
            for c, n in zip(clicks, impressions, strict=True)
        ]
    )
    simulated = np.bincount(draws.argmax(axis=0), minlength=3) / draws.shape[1]
    assert probs == pytest.approx(simulated.tolist(), abs=0.003)


def test_prob_best_is_deterministic_and_symmetric() -> None:
    a = vr.prob_best([10, 20, 30], [100, 100, 100])
    assert a == vr.prob_best([10, 20, 30], [100, 100, 100])
    assert vr.prob_best([30, 20, 10], [100, 100, 100]) == pytest.approx(a[::-1])
    assert vr.prob_best([5, 5], [50, 50]) == pytest.approx([0.5, 0.5])
    assert vr.prob_best([1], [10]) == [1.0]
    assert vr.prob_best([], []) == []


def arm(
    name: str,
    impressions: int,
    clicks: int,
    starts: int | None = None,
    r10: float = 0.5,
    avg_view_s: float = 20.0,
) -> vr.Arm:
    """A variant whose starters are its clicks, ``r10`` of them still there at 10 s."""
    starts = clicks if starts is None else starts
    return vr.Arm(name, impressions, clicks, starts, round(starts * r10), starts * avg_view_s)


def test_winner_needs_95_percent_and_the_minimum_sample() -> None:
    # Clear difference, enough traffic, retention and watch time holding up: a winner.
    v = vr.judge([arm("a", 1000, 60), arm("b", 1000, 30)])
    assert v.p_ctr[0] > 0.99
    assert v.winner == "a" and v.more_impressions == 0 and v.detectable
    assert v.text.startswith("a wins on CTR") and "of the watch time from" in v.text
    # The same rates on 400 impressions each: P(best) is high but the sample is short.
    v = vr.judge([arm("a", 400, 24), arm("b", 400, 6)])
    assert v.p_ctr[0] >= 0.95
    assert v.winner is None and v.more_impressions == 200
    assert "inconclusive" in v.text and "200 more impressions" in v.text


def test_a_card_that_wins_clicks_and_loses_viewers_is_no_winner() -> None:
    # a wins the click clearly but its starters leave: 20 % at 10 s against 60 %.
    v = vr.judge([arm("a", 2000, 160, r10=0.2), arm("b", 2000, 80, r10=0.6)])
    assert v.p_ctr[0] > 0.99 and v.p_worst_retention[0] > 0.99
    assert v.winner is None and "loses viewers" in v.text
    assert v.winner_retention == "b" and "b holds viewers best at 10 s" in v.text


def test_a_winner_must_earn_the_most_watch_time_per_impression() -> None:
    # a gets more clicks, but its viewers watch 5 s each against b's 40 s.
    v = vr.judge(
        [arm("a", 2000, 160, r10=0.5, avg_view_s=5.0), arm("b", 2000, 100, avg_view_s=40.0)]
    )
    assert v.winner is None and "b earns more watch time per impression" in v.text


def test_retention_is_compared_only_with_enough_starters() -> None:
    # 30 starters per variant: too few to call anyone the retention loser.
    v = vr.judge([arm("a", 1000, 60, starts=30, r10=0.2), arm("b", 1000, 30, r10=0.6)])
    assert v.winner == "a" and "too few starters per variant" in v.text
    assert v.winner_retention is None


def test_inconclusive_tests_estimate_the_traffic_needed() -> None:
    # 6 % vs 4.8 % on 1000 impressions each: ~4,400 per arm would settle it.
    v = vr.judge([arm("a", 1000, 60), arm("b", 1000, 48)])
    assert v.winner is None and v.detectable
    rates = [61 / 1002, 49 / 1002]
    per_arm = vr.impressions_needed(rates, 2)
    assert per_arm is not None and 1000 < per_arm < 10 * 1000
    assert v.more_impressions == 2 * (per_arm - 1000)
    assert f"~{v.more_impressions} more impressions" in v.text


def test_no_detectable_difference_beyond_ten_times_the_traffic() -> None:
    # 5.2 % vs 4.8 %: telling them apart needs ~17k impressions per arm, 16x the 2,000
    # seen; the verdict says so instead of asking for the traffic.
    v = vr.judge([arm("a", 1000, 52), arm("b", 1000, 48)])
    assert v.winner is None and not v.detectable and v.more_impressions is None
    assert v.text.startswith("no detectable difference at this traffic")
    assert "5.2%, 4.8%" in v.text and "2,000 impressions" in v.text
    # Equal CTRs: no amount of traffic separates them.
    v = vr.judge([arm("a", 1000, 50), arm("b", 1000, 50)])
    assert not v.detectable and v.text.startswith("no detectable difference")
    assert vr.NO_DIFFERENCE_TRAFFIC_MULTIPLE == 10


def test_impressions_needed_formula() -> None:
    # z(0.95) = 1.6449; n = z^2 (p1 q1 + p2 q2) / (p1 - p2)^2
    n = vr.impressions_needed([0.06, 0.05], 2)
    assert n == math.ceil(1.6448536**2 * (0.06 * 0.94 + 0.05 * 0.95) / 0.01**2)
    # Three arms split the 5 % over two comparisons (Bonferroni): more traffic.
    assert vr.impressions_needed([0.06, 0.05, 0.01], 3) > n  # type: ignore[operator]
    assert vr.impressions_needed([0.05, 0.05], 2) is None


def test_single_variant_has_nothing_to_compare() -> None:
    v = vr.judge([arm("only", 5000, 250)])
    assert v.winner is None and v.text.startswith("single variant")
