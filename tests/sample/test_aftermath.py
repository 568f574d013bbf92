"""The sample's follow-up days plant a published change's effect where the analyst looks."""

from __future__ import annotations

import csv
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

from writers_room.analyst.metrics import WindowRow
from writers_room.analyst.outcomes import Change, outcomes_of
from writers_room.sample.aftermath import FOLLOW_DAYS, planted_for, write_follow_up

START = datetime(2026, 11, 16, tzinfo=UTC)
PUBLISHED = START + timedelta(days=3)


def _curve(end: float) -> tuple[float, ...]:
    return tuple(100 - 5 * s if s <= 10 else 50 - (50 - end) * (s - 10) / 10 for s in range(21))


def _history() -> list[WindowRow]:
    return [
        WindowRow(
            episode_id=e, variant_id=v, window_start=START + timedelta(days=d),
            impressions=20_000, clicks=1000, views=900, completions=315, shares=12, saves=20,
            comments=10, follows=8, conversions=5, revenue=5.0, avg_view_s=14.0,
            retention=_curve(35.0),
        )
        for d in range(3)
        for e in ("ep1", "ep2", "ep3")
        for v in ("v1", "v2")
    ]  # fmt: skip


def _read(path: Path) -> list[WindowRow]:
    with path.open() as handle:
        return [
            WindowRow(
                episode_id=r["episode_id"], variant_id=r["variant_id"],
                window_start=datetime.fromisoformat(r["window_start"].replace("Z", "+00:00")),
                **{k: int(r[k]) for k in ("impressions", "clicks", "views", "completions",
                                          "shares", "saves", "comments", "follows",
                                          "conversions")},
                revenue=float(r["revenue"]), avg_view_s=float(r["avg_view_s"]),
                retention=tuple(json.loads(r["retention"])),
            )
            for r in csv.DictReader(handle)
        ]  # fmt: skip


def test_a_planted_pacing_cut_reads_as_improved(tmp_path: Path) -> None:
    history = _history()
    planted = planted_for("pacing_cut", "ep1", "v1")
    assert planted is not None and planted.metric == "completion"
    path = write_follow_up(
        tmp_path / "f.csv", "s", history, start=PUBLISHED, planted=[planted], seed=3
    )
    follow = _read(path)
    assert len(follow) == FOLLOW_DAYS * 6
    assert min(r.window_start for r in follow) == PUBLISHED
    change = Change("p", "ep1", "v1", "r", "pacing_cut", "pacing", PUBLISHED)
    end = PUBLISHED + timedelta(days=FOLLOW_DAYS)
    (outcome,) = outcomes_of([change], history + follow, end)
    assert outcome.verdict == "improved"
    assert abs((outcome.effect or 0) - 0.10) < 0.05
    # The same seed writes the same bytes.
    again = write_follow_up(
        tmp_path / "g.csv", "s", history, start=PUBLISHED, planted=[planted], seed=3
    )
    assert again.read_bytes() == path.read_bytes()


def test_without_a_planted_effect_the_change_is_no_change(tmp_path: Path) -> None:
    history = _history()
    path = write_follow_up(tmp_path / "f.csv", "s", history, start=PUBLISHED, planted=[], seed=3)
    change = Change("p", "ep1", "v1", "r", "hook_rewrite", "hook_failure", PUBLISHED)
    end = PUBLISHED + timedelta(days=FOLLOW_DAYS)
    (outcome,) = outcomes_of([change], history + _read(path), end)
    assert outcome.metric == "retention_10s"
    assert outcome.verdict == "no_change"
    assert planted_for("note_followup", "ep1", "v1") is None
