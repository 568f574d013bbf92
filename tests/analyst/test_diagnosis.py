"""Each diagnosis rule of docs/METHOD.md, firing and not firing, on hand-made numbers."""

from __future__ import annotations

import pytest

from writers_room.analyst import diagnosis as dx
from writers_room.analyst import scorecard as sc
from writers_room.analyst.cliff import CliffPoint
from writers_room.brief.report import Metrics

TARGETS = dict(sc.BENCHMARKS) | {
    "ctr": 0.05,
    "retention_8s": 0.55,
    "retention_10s": 0.52,
    "comments": 0.01,
    "shares_saves": 0.04,
}


def healthy(**overrides: float) -> Metrics:
    """A normal episode window: on target everywhere, plenty of traffic."""
    starts = int(overrides.get("starts", 1000))
    base: dict[str, float] = {
        "impressions": 20_000,
        "clicks": 1000,
        "ctr": 0.05,
        "starts": starts,
        "retention_3s": 0.75,
        "retention_8s": 0.56,
        "retention_10s": 0.53,
        "completion": 0.37,
        "completions": 370,
        "avg_view_s": 30.0,
        "shares": 15,
        "saves": 25,
        "comments": 10,
        "follows": 5,
        "conversions": 5,
        "revenue": 10.0,
        "shares_per_view": 0.015,
        "saves_per_view": 0.025,
        "comments_per_view": 0.01,
        "follows_per_view": 0.005,
        "engagement_per_view": 0.05,
        "conversions_per_view": 0.005,
        "revenue_per_view": 0.01,
    }
    base.update(overrides)
    return Metrics.model_validate(base)


def kinds(m: Metrics, cliff: CliffPoint | None = None, cohort_loss: float = 1.0) -> list[str]:
    return [d.kind for d in dx.diagnose(m, TARGETS, cliff, cohort_loss, "s05")]


def cliff_at(second: int, loss_per_s: float) -> CliffPoint:
    return CliffPoint(second, loss_per_s, 3 * loss_per_s, 60.0, 60.0 - 3 * loss_per_s, 3)


def test_a_healthy_episode_triggers_nothing() -> None:
    assert kinds(healthy(), cliff_at(12, 1.0)) == []


def test_hook_packaging_fires_on_low_ctr_with_fine_retention() -> None:
    found = dx.diagnose(healthy(ctr=0.021, clicks=420), TARGETS, None)
    assert [d.kind for d in found] == ["hook_packaging"]
    ev = found[0].evidence
    assert ev["ctr"] == 0.021 and ev["cohort_ctr"] == 0.05
    assert ev["ctr_ratio"] == pytest.approx(0.42)
    assert ev["ctr_low_below_ratio"] == dx.CTR_LOW_RATIO
    assert "0.42x" in found[0].summary


def test_ctr_just_above_the_low_ratio_is_fine() -> None:
    assert kinds(healthy(ctr=0.0351)) == []
    assert kinds(healthy(ctr=0.0349)) == ["hook_packaging"]


def test_hook_packaging_needs_retention_fine() -> None:
    # CTR low and retention clearly below 85 % of target with 1000 starters: neither the
    # packaging rule (retention not fine) nor the hook-failure rule (8 s above 35 %).
    assert kinds(healthy(ctr=0.02, retention_10s=0.35, retention_8s=0.40)) == []


def test_retention_fine_gives_small_windows_the_benefit_of_the_doubt() -> None:
    # 0.40 at 10 s is below 0.85 x 0.52 = 0.442, but with 80 starters not clearly so.
    small = healthy(ctr=0.02, starts=80, retention_10s=0.40, retention_8s=0.42)
    assert kinds(small) == ["hook_packaging"]
    large = healthy(ctr=0.02, starts=2000, retention_10s=0.40, retention_8s=0.42)
    assert kinds(large) == []


def test_hook_failure_fires_on_low_ctr_and_low_8s_retention() -> None:
    found = dx.diagnose(healthy(ctr=0.02, retention_8s=0.26, retention_10s=0.22), TARGETS, None)
    assert [d.kind for d in found] == ["hook_failure"]
    assert found[0].evidence["retention_8s"] == 0.26
    assert found[0].evidence["retention_8s_below"] == 0.35


def test_hook_failure_needs_low_ctr() -> None:
    assert "hook_failure" not in kinds(healthy(retention_8s=0.26, retention_10s=0.22))


def test_hook_failure_boundary_at_35_percent() -> None:
    assert kinds(healthy(ctr=0.02, retention_8s=0.349, retention_10s=0.33)) == ["hook_failure"]
    assert "hook_failure" not in kinds(healthy(ctr=0.02, retention_8s=0.35, retention_10s=0.33))


def test_rates_are_not_judged_on_tiny_windows() -> None:
    assert kinds(healthy(impressions=200, ctr=0.01, retention_8s=0.1)) == []
    assert kinds(healthy(ctr=0.02, starts=20, retention_8s=0.1)) == []


def test_pacing_fires_on_a_sharp_drop_between_6_and_20_s() -> None:
    found = dx.diagnose(healthy(), TARGETS, cliff_at(11, 6.0), 0.8, "s05")
    assert [d.kind for d in found] == ["pacing"]
    ev = found[0].evidence
    assert ev["cliff_second"] == 11 and ev["cliff_loss_pp_per_s"] == 6.0
    assert ev["cohort_loss_pp_per_s"] == 0.8 and ev["loss_ratio"] == pytest.approx(7.5)
    assert ev["z"] > dx.PACING_MIN_Z
    assert found[0].shot_id == "s05" and "s05" in found[0].summary


@pytest.mark.parametrize(
    ("second", "loss", "cohort", "fires"),
    [
        (5, 8.0, 1.0, False),  # before the span
        (6, 8.0, 1.0, True),
        (20, 8.0, 1.0, True),
        (21, 8.0, 1.0, False),  # after the span
        (12, 2.9, 0.5, False),  # below the absolute floor of 3 pp/s
        (12, 3.5, 1.5, False),  # not 3x the cohort's loss at that second
        (12, 4.6, 1.5, True),
    ],
)
def test_pacing_span_and_thresholds(second: int, loss: float, cohort: float, fires: bool) -> None:
    assert (kinds(healthy(), cliff_at(second, loss), cohort) == ["pacing"]) is fires


def test_pacing_needs_significance_on_small_audiences() -> None:
    # 3 pp/s (3x the cohort) over 3 s of 50 starters: 4.5 viewers where 1.5 were
    # expected, z = 2.4 — within the noise of so small an audience.
    assert kinds(healthy(starts=50), cliff_at(12, 3.0), 1.0) == []
    # The same shape with 200 starters: 18 viewers where 6 were expected, z = 4.9.
    assert kinds(healthy(starts=200), cliff_at(12, 3.0), 1.0) == ["pacing"]


def test_pacing_needs_ctr_fine() -> None:
    assert "pacing" not in kinds(healthy(ctr=0.02), cliff_at(11, 8.0), 0.8)


def test_low_participation_fires_on_few_comments() -> None:
    found = dx.diagnose(healthy(comments=2, comments_per_view=0.002), TARGETS, None)
    assert [d.kind for d in found] == ["low_participation"]
    ev = found[0].evidence
    assert ev["comments_ratio"] == pytest.approx(0.2)
    assert ev["expected_comments"] == pytest.approx(10.0)
    assert ev["p_value"] < dx.RARE_EVENT_P


def test_low_participation_not_when_few_were_expected_or_retention_is_poor() -> None:
    # 100 starters x 1 % = 1 expected comment: zero comments says nothing.
    assert kinds(healthy(starts=100, comments=0, comments_per_view=0.0)) == []
    # Viewers leave, so nobody is there to comment: that's not a participation problem.
    assert "low_participation" not in kinds(
        healthy(comments=2, comments_per_view=0.002, retention_10s=0.2, retention_8s=0.25)
    )


def test_low_participation_accounts_for_cohort_noise() -> None:
    m = healthy(starts=1500, comments=3, comments_per_view=3 / 1500)
    # Against a precise cohort (60 comments / 6000 starters) 3 comments is significant...
    precise = {"starts": 6000, "comments": 60, "shares_saves": 240}
    assert [d.kind for d in dx.diagnose(m, TARGETS, None, cohort_counts=precise)] == [
        "low_participation"
    ]
    # ...against a cohort of 4 comments in 400 starters (the same 1 %) it is not.
    noisy = {"starts": 400, "comments": 4, "shares_saves": 16}
    assert dx.diagnose(m, TARGETS, None, cohort_counts=noisy) == []


def test_resonance_fires_on_strong_retention_and_share_spike() -> None:
    m = healthy(retention_10s=0.65, retention_8s=0.68, shares=50, saves=60,
                shares_per_view=0.05, saves_per_view=0.06)  # fmt: skip
    found = dx.diagnose(m, TARGETS, None)
    assert [d.kind for d in found] == ["resonance"]
    ev = found[0].evidence
    assert ev["shares_saves_ratio"] == pytest.approx(0.11 / 0.04)
    assert ev["retention_10s_ratio"] == pytest.approx(0.65 / 0.52)


@pytest.mark.parametrize(
    ("r10", "shares_saves", "fires"),
    [
        (0.65, 0.079, False),  # spike below 2x
        (0.65, 0.081, True),
        (0.57, 0.11, False),  # retention below 1.1x target (0.572)
        (0.573, 0.11, True),
    ],
)
def test_resonance_thresholds(r10: float, shares_saves: float, fires: bool) -> None:
    m = healthy(retention_10s=r10, retention_8s=r10 + 0.03, shares_per_view=shares_saves,
                saves_per_view=0.0, shares=int(shares_saves * 1000), saves=0)  # fmt: skip
    assert ("resonance" in kinds(m)) is fires


def test_statistical_helpers() -> None:
    assert dx.upper_bound(0.5, 100) == pytest.approx(0.5805, abs=1e-3)
    assert dx.upper_bound(0.0, 0) == 1.0
    assert dx.binomial_tail(3, 3, 0.5, upper=True) == pytest.approx(0.125)
    assert dx.binomial_tail(0, 3, 0.5, upper=False) == pytest.approx(0.125)
    assert dx.binomial_tail(2, 4, 0.5, upper=True) == pytest.approx(11 / 16)
    assert dx.poisson_tail(0, 2.0, upper=False) == pytest.approx(0.135335, abs=1e-6)
    assert dx.poisson_tail(1, 2.0, upper=True) == pytest.approx(1 - 0.135335, abs=1e-6)
    assert dx.pacing_z(3.0, 1.0, 3, 100) == pytest.approx(0.0)
