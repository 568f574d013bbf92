"""The 100-point scorecard: arithmetic, caps, cohort targets and band edges."""

from __future__ import annotations

import pytest

from writers_room.analyst import scorecard as sc
from writers_room.analyst.metrics import Totals, WindowRow, metrics_of, mix_curves, totals
from writers_room.brief.report import Components, Metrics


def metrics(**overrides: float) -> Metrics:
    base: dict[str, float] = {
        "impressions": 1000,
        "clicks": 50,
        "ctr": 0.05,
        "starts": 100,
        "retention_3s": 0.8,
        "retention_8s": 0.6,
        "retention_10s": 0.5,
        "completion": 0.3,
        "completions": 30,
        "avg_view_s": 20.0,
        "shares": 1,
        "saves": 2,
        "comments": 2,
        "follows": 0,
        "conversions": 1,
        "revenue": 2.0,
        "shares_per_view": 0.01,
        "saves_per_view": 0.02,
        "comments_per_view": 0.02,
        "follows_per_view": 0.0,
        "engagement_per_view": 0.05,
        "conversions_per_view": 0.01,
        "revenue_per_view": 0.02,
    }
    base.update(overrides)
    return Metrics.model_validate(base)


def test_components_are_fraction_of_target_times_points() -> None:
    targets = dict(sc.BENCHMARKS)
    targets.update(
        retention_10s=0.5, ctr=0.05, completion=0.4, engagement=0.1, conversions=0.02, revenue=0.04
    )
    m = metrics(retention_10s=0.4, ctr=0.06, completion=0.2, engagement_per_view=0.025)
    c = sc.components(m, targets)
    assert c.retention_10s == pytest.approx(30 * 0.4 / 0.5)  # 24
    assert c.ctr == pytest.approx(20.0)  # 1.2x target is capped at full points
    assert c.completion == pytest.approx(20 * 0.2 / 0.4)  # 10
    assert c.engagement == pytest.approx(15 * 0.025 / 0.1)  # 3.75
    # Commercial: mean of the conversions (0.01/0.02) and revenue (0.02/0.04) fractions.
    assert c.commercial == pytest.approx(15 * (0.5 + 0.5) / 2)  # 7.5
    assert sc.total(c) == pytest.approx(24 + 20 + 10 + 3.75 + 7.5)


def test_commercial_caps_each_half_separately() -> None:
    targets = dict(sc.BENCHMARKS)
    m = metrics(conversions_per_view=0.0, revenue_per_view=1.0)  # one whale, no buyers
    assert sc.components(m, targets).commercial == pytest.approx(7.5)


def test_perfect_episode_scores_exactly_100() -> None:
    m = metrics(
        retention_10s=0.9,
        ctr=0.2,
        completion=0.9,
        engagement_per_view=0.5,
        conversions_per_view=0.5,
        revenue_per_view=5.0,
    )
    assert sc.total(sc.components(m, sc.BENCHMARKS)) == 100.0


@pytest.mark.parametrize(
    ("score", "band"),
    [
        (0.0, "iterate_hook"),
        (49.9, "iterate_hook"),
        (49.99, "iterate_hook"),
        (50.0, "adjust_pacing"),
        (60.0, "adjust_pacing"),
        (70.0, "adjust_pacing"),
        (70.01, "double_down"),
        (70.1, "double_down"),
        (100.0, "double_down"),
    ],
)
def test_band_edges(score: float, band: str) -> None:
    assert sc.band(score) == band


def test_band_is_decided_on_the_rounded_total() -> None:
    # 49.996 points round to 50.0: the report shows 50.0, so the band must agree.
    c = Components(retention_10s=19.996, ctr=10, completion=10, engagement=5, commercial=5)
    assert sc.total(c) == 50.0 and sc.band(sc.total(c)) == "adjust_pacing"


def test_cohort_targets_are_medians_of_earlier_episodes() -> None:
    cohort = {
        "e1": {"ctr": 0.05, "retention_10s": 0.5},
        "e2": {"ctr": 0.04, "retention_10s": 0.6},
        "e3": {"ctr": 0.06, "retention_10s": 0.4},
    }
    t = sc.cohort_targets(cohort)
    assert t.values["ctr"] == pytest.approx(0.05)
    assert t.values["retention_10s"] == pytest.approx(0.5)
    assert t.sources["ctr"] == "cohort"
    # A metric no cohort member has falls back to the benchmark.
    assert t.values["completion"] == sc.BENCHMARK_COMPLETION
    assert t.sources["completion"] == "benchmark"
    assert t.cohort == ["e1", "e2", "e3"]


def test_fewer_than_two_earlier_episodes_means_benchmarks() -> None:
    t = sc.cohort_targets({"e1": {"ctr": 0.09, "retention_10s": 0.9}})
    assert t.values["ctr"] == sc.BENCHMARK_CTR
    assert t.values["retention_10s"] == sc.BENCHMARK_RETENTION_10S == 0.525
    assert t.values["completion"] == sc.BENCHMARK_COMPLETION == 0.375
    assert t.cohort == []
    assert set(t.sources.values()) == {"benchmark"}


def test_zero_cohort_median_falls_back_to_benchmark() -> None:
    # Nobody bought anything in the earlier episodes: a zero target would hand out free
    # points, so the benchmark applies.
    cohort = {"e1": {"conversions": 0.0}, "e2": {"conversions": 0.0}}
    t = sc.cohort_targets(cohort)
    assert t.values["conversions"] == sc.BENCHMARK_CONVERSIONS
    assert t.sources["conversions"] == "benchmark"


def test_episode_retention_is_starter_weighted() -> None:
    mixed = mix_curves([([100, 40], 50), ([100, 60], 30), ([100, 0], 0)])
    assert mixed == pytest.approx([100, (50 * 40 + 30 * 60) / 80])
    # A shorter cut is padded with its last value.
    assert mix_curves([([100, 50], 1), ([100, 80, 70], 1)]) == pytest.approx([100, 65, 60])


def test_totals_and_metrics_of_rows() -> None:
    from datetime import UTC, datetime

    ws = datetime(2026, 11, 16, tzinfo=UTC)
    rows = [
        WindowRow("e", "a", ws, impressions=1000, clicks=50, views=50, completions=10,
                  shares=2, saves=1, comments=1, conversions=1, revenue=0.5, avg_view_s=7.0,
                  retention=(100.0, 80.0, 40.0)),
        WindowRow("e", "b", ws, impressions=1000, clicks=30, views=30, completions=10,
                  shares=1, saves=1, comments=0, revenue=0.5, avg_view_s=9.0,
                  retention=(100.0, 90.0, 60.0)),
    ]  # fmt: skip
    m = metrics_of(totals(rows))
    assert (m.impressions, m.clicks, m.starts, m.completions) == (2000, 80, 80, 20)
    assert m.ctr == pytest.approx(0.04)
    assert m.completion == pytest.approx(0.25)
    assert m.avg_view_s == pytest.approx((50 * 7 + 30 * 9) / 80)
    assert m.engagement_per_view == pytest.approx(6 / 80)
    assert m.revenue_per_view == pytest.approx(1.0 / 80)
    # Retention at 3 s and 10 s past the curve's end: its last value.
    assert m.retention_10s == pytest.approx((50 * 40 + 30 * 60) / 80 / 100)
    assert metrics_of(Totals()).ctr == 0.0


@pytest.mark.parametrize(
    ("score", "kinds", "band", "capped_by"),
    [
        (88.6, ["pacing"], "adjust_pacing", ["pacing"]),
        (88.8, ["hook_packaging"], "iterate_hook", ["hook_packaging"]),
        (54.2, ["hook_failure"], "iterate_hook", ["hook_failure"]),
        (32.0, ["hook_failure"], "iterate_hook", []),  # already there: nothing to cap
        (60.0, ["pacing"], "adjust_pacing", []),
        (95.0, ["resonance", "low_participation"], "double_down", []),
        (90.0, ["pacing", "hook_failure"], "iterate_hook", ["pacing", "hook_failure"]),
    ],
)
def test_a_finding_caps_the_band(
    score: float, kinds: list[str], band: str, capped_by: list[str]
) -> None:
    final, by_score, capped = sc.capped_band(score, kinds)
    assert (final, by_score, capped) == (band, sc.band(score), capped_by)


def test_the_band_reason_says_what_capped_it() -> None:
    assert sc.band_reason(88.6, "adjust_pacing", "double_down", ["pacing"]) == (
        "88.6 points alone would say “double down”; a slow stretch caps it at “adjust the pacing”."
    )
    assert sc.band_reason(75.0, "double_down", "double_down", []) == "75.0 points: “double down”."


def test_a_component_below_its_target_is_named() -> None:
    # ep05 of the sample: completion 18 % against a 37 % target, 187 starters.
    targets = dict(sc.BENCHMARKS) | {"completion": 0.37}
    sources = {k: "cohort" for k in targets}
    m = metrics(starts=187, completion=0.18, retention_10s=0.6, ctr=0.05, impressions=5000)
    named = sc.shortfalls(m, targets, sources)
    assert [s.component for s in named] == ["completion"]
    assert named[0].sentence == (
        "Completion 18.0% is 0.49× the cohort's 37.0%, below the method's 30–45% aim."
    )
    assert named[0].aim_floor == 0.30 and named[0].ratio == pytest.approx(0.18 / 0.37)


def test_noise_in_a_small_window_is_not_named() -> None:
    # 0 purchases from 100 starters against 0.5 %: the upper bound is ~2.6 %.
    targets = dict(sc.BENCHMARKS)
    m = metrics(conversions=0, conversions_per_view=0.0, completion=0.33, retention_10s=0.5)
    assert sc.shortfalls(m, targets, {}) == []
    # The same completion gap with 2,000 starters is clear.
    m = metrics(starts=2000, completion=0.25, retention_10s=0.5)
    assert [s.component for s in sc.shortfalls(m, targets, {})] == ["completion"]
    assert "the benchmark 37.5%" in sc.shortfalls(m, targets, {})[0].sentence
