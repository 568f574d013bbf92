"""Retention cliffs on synthetic curves, and their mapping to shots."""

from __future__ import annotations

import pytest

from writers_room.analyst.cliff import (
    BENCHMARK_LOSS_PER_S,
    CLIFF_MIN_EXCESS_PP,
    Reference,
    detect_cliff,
    excess_z,
    find_cliff,
    is_cliff,
    losses,
    measure_second,
    reference,
    shot_at,
    smoothed_losses,
)
from writers_room.brief.manifest import ShotManifest


def linear(start: float, per_s: float, seconds: int) -> list[float]:
    return [start - per_s * s for s in range(seconds + 1)]


def with_drop(curve: list[float], second: int, points: float) -> list[float]:
    """Lose ``points`` more during second ``second`` → ``second + 1``."""
    return [v - points if s > second else v for s, v in enumerate(curve)]


def test_losses_are_indexed_by_the_second_they_happen_in() -> None:
    assert losses([100, 90, 85, 85]) == [10, 5, 0]


def test_cliff_finds_a_planted_drop_and_its_size() -> None:
    curve = with_drop(linear(100, 1, 40), 15, 12)
    cliff = find_cliff(curve)
    assert cliff is not None
    assert cliff.second == 15
    # Smoothed over 3 s: (1 + 13 + 1) / 3 points per second...
    assert cliff.loss_per_s == pytest.approx(5.0)
    # ...and 15 points lost over seconds 14-17.
    assert cliff.drop_pct == pytest.approx(15.0)
    assert (cliff.before, cliff.after, cliff.span_s) == (86.0, 71.0, 3)


def test_cliff_ignores_the_natural_opening_drop() -> None:
    # 30 points gone in the first two seconds, then a modest 6-point drop at 12 s.
    curve = [100.0, 85.0, 70.0] + [70.0 - 0.5 * s for s in range(1, 38)]
    curve = with_drop(curve, 12, 6)
    cliff = find_cliff(curve)
    assert cliff is not None and cliff.second == 12


def test_opening_losses_do_not_leak_into_the_smoothing() -> None:
    curve = [100.0, 60.0, 30.0, 29.0, 28.0, 27.0, 26.0]
    smooth = smoothed_losses(curve)
    assert min(smooth) == 2
    # Second 2 averages only the losses of seconds 2 and 3, not the 30-point loss of 1.
    assert smooth[2] == pytest.approx(1.0)


def test_a_plateau_of_equal_averages_resolves_to_the_drop_itself() -> None:
    curve = with_drop(linear(100, 2, 20), 12, 15)
    cliff = find_cliff(curve)
    assert cliff is not None and cliff.second == 12


def test_cliff_ties_go_to_the_earlier_second() -> None:
    curve = with_drop(with_drop(linear(100, 1, 40), 10, 9), 25, 9)
    cliff = find_cliff(curve)
    assert cliff is not None and cliff.second == 10


def test_cliff_span_and_short_curves() -> None:
    curve = with_drop(with_drop(linear(100, 1, 40), 4, 20), 15, 8)
    assert find_cliff(curve).second == 4  # type: ignore[union-attr]
    assert find_cliff(curve, start=6, end=20).second == 15  # type: ignore[union-attr]
    assert find_cliff([100.0, 50.0]) is None
    assert find_cliff(curve, start=50) is None


def test_the_cliff_compares_with_the_cohort_at_the_same_second() -> None:
    # The cohort loses 8 pp/s at 6-7 s (the tail of the opening) and 1 pp/s later; an
    # episode losing 8.5 at 6 s and 13 at 14 s has its real problem at 14 s, though its
    # steepest seconds are the opening's.
    cohort_curve = [100 - 8 * s if s <= 8 else 36 - (s - 8) for s in range(31)]
    episode = [100 - 8 * s if s <= 8 else 36 - (s - 8) for s in range(31)]
    episode = with_drop(with_drop(episode, 6, 0.5), 14, 12)
    ref = reference([(cohort_curve, 500), (cohort_curve, 500)], "cohort", [], "", 2)
    found = detect_cliff(episode, ref, 500, start=6, end=20)
    assert found is not None and found.point.second == 14
    assert found.typical == pytest.approx(1.0)
    assert find_cliff(episode, start=6, end=20).second in (6, 7)  # type: ignore[union-attr]
    # Outside the span asked for there is no cliff.
    assert detect_cliff(episode, ref, 500, start=16, end=20) is None


def opening(seconds: int = 40, fast: float = 1.0) -> list[float]:
    """A healthy feed curve: ~7 pp/s lost at first, fading to ~0.5 pp/s (× ``fast``)."""
    curve, value = [100.0], 100.0
    for s in range(seconds):
        value -= fast * (0.5 + 7.0 * 0.7**s)
        curve.append(round(value, 3))
    return curve


def cohort_ref(*curves: list[float], starters: int = 1000) -> Reference:
    return reference([(c, starters) for c in curves], "the cohort", [], "", 2)


def test_the_ordinary_opening_decay_is_not_a_cliff() -> None:
    # The steepest seconds of any curve are its first ones; compared with a cohort that
    # decays the same way, nothing is a cliff — not even with 10,000 starters.
    ref = cohort_ref(opening(), opening())
    assert find_cliff(opening()).second == 2  # type: ignore[union-attr]
    assert detect_cliff(opening(), ref, 10_000) is None


def test_a_drop_steeper_than_the_cohort_at_that_second_is_a_cliff() -> None:
    ref = cohort_ref(opening(), opening())
    episode = with_drop(opening(), 12, 20)
    found = detect_cliff(episode, ref, 300)
    assert found is not None and found.point.second == 12
    assert found.typical == pytest.approx(ref.losses[12])
    assert found.excess == pytest.approx(found.point.loss_per_s - found.typical)
    assert is_cliff(found)


def test_an_early_cliff_is_found_where_it_is_real() -> None:
    # 25 extra points gone during second 3: steeper than the cohort's opening.
    ref = cohort_ref(opening(), opening())
    found = detect_cliff(with_drop(opening(), 3, 25), ref, 300)
    assert found is not None and found.point.second == 3
    # A uniformly faster opening (×1.3) is a weak hook, not a cliff at one second.
    assert detect_cliff(opening(fast=1.3), ref, 300) is None


@pytest.mark.parametrize(
    ("extra", "starters", "cliff"),
    [
        (12.0, 300, True),
        (6.0, 300, False),  # under CLIFF_MIN_EXCESS_PP more than usual per second
        (12.0, 15, False),  # too few starters for the drop to be more than noise
    ],
)
def test_cliff_thresholds(extra: float, starters: int, cliff: bool) -> None:
    ref = cohort_ref(opening(), opening())
    assert (detect_cliff(with_drop(opening(), 20, extra), ref, starters) is not None) is cliff


def test_the_reference_falls_back_to_peers_then_to_the_benchmark() -> None:
    curve = opening()
    assert reference([(curve, 100)], "c", [(curve, 100), (curve, 100)], "p", 2).source == "series"
    bench = reference([], "c", [(curve, 100)], "p", 2)
    assert bench.source == "benchmark" and bench.losses == {}
    # The benchmark judges no opening second, and every later one against 1 pp/s.
    assert bench.at(4) is None and bench.at(12) == BENCHMARK_LOSS_PER_S
    assert detect_cliff(opening(), bench, 10_000) is None
    found = detect_cliff(with_drop(linear(100, 0.5, 40), 15, 15), bench, 300)
    assert found is not None and found.point.second == 15


def test_without_cohort_or_peers_the_benchmark_curve_judges_every_second() -> None:
    from writers_room.analyst.scorecard import benchmark_curve

    curve = benchmark_curve(40)
    assert (curve[3], curve[8], curve[10], curve[20]) == (75.0, 55.0, 52.5, 42.5)
    bench = reference([], "c", [], "p", 2, curve)
    assert bench.source == "benchmark" and bench.at(4) == pytest.approx(4.0)
    # A curve shaped like the benchmark has no cliff; one that keeps losing 8 points a
    # second through 10 s (a 20 % hook) is steeper than the benchmark from 7 s on.
    assert detect_cliff(curve, bench, 10_000) is None
    weak = [100 - 8 * s if s <= 10 else 20 - 0.5 * (s - 10) for s in range(41)]
    found = detect_cliff(weak, bench, 800)
    assert found is not None and 7 <= found.point.second <= 9


def test_cliff_z_counts_the_references_own_noise() -> None:
    exact = excess_z(12.0, 1.0, 3, 300)
    assert exact == pytest.approx((36 - 9) / 3)
    assert excess_z(12.0, 1.0, 3, 300, reference_starters=300) == pytest.approx(
        (36 - 9) / (18**0.5)
    )
    t = measure_second(with_drop(linear(100, 1, 30), 12, 12), 12, 1.0, 300)
    assert t.excess == pytest.approx(4.0) and t.excess >= CLIFF_MIN_EXCESS_PP


MANIFEST = ShotManifest.model_validate(
    {
        "series_id": "s",
        "episode_id": "e",
        "shots": [
            {"shot_id": "open", "start_s": 0, "duration_s": 6, "caption": "Storm"},
            {"shot_id": "letter", "start_s": 6, "duration_s": 5, "action": "She reads"},
            {"shot_id": "flashback", "start_s": 11, "duration_s": 6.5, "caption": "Years ago"},
            {"shot_id": "end", "start_s": 17.5, "duration_s": 10},
        ],
    }
)


@pytest.mark.parametrize(
    ("second", "shot"),
    [(0, "open"), (5, "open"), (6, "letter"), (10, "letter"), (11, "flashback"),
     (16, "flashback"), (17, "end"), (18, "end"), (99, "end")],
)  # fmt: skip
def test_cliff_second_maps_to_the_shot_playing_then(second: int, shot: str) -> None:
    # Second s is the interval [s, s+1); the shot playing at its middle owns it, so the
    # cut at 17.5 s gives second 17 to the shot that starts there.
    assert shot_at(MANIFEST, second)[0] == shot


def test_shot_details_come_with_the_id() -> None:
    assert shot_at(MANIFEST, 12) == ("flashback", 11.0, 17.5, "Years ago", "")
    assert shot_at(None, 12) == ("", 0.0, 0.0, "", "")
