"""Fixtures for the analyst: a hand-computed 'gold' series and the seeded sample room."""

from __future__ import annotations

import json
import textwrap
from dataclasses import dataclass
from pathlib import Path

import pytest

from writers_room.config import Settings
from writers_room.ingest.metrics import ingest_metrics
from writers_room.ingest.series import add_series_file

GOLD_SHOTS = """
    shots:
      - {shot_id: s1, start_s: 0, duration_s: 6, caption: "Cold open", action: "Storm hits"}
      - {shot_id: s2, start_s: 6, duration_s: 6, caption: "The letter", action: "She reads"}
      - {shot_id: s3, start_s: 12, duration_s: 8, caption: "Backstory", action: "Long recap"}
"""


def _episode(n: int) -> str:
    return f"""
  - episode_id: e{n}
    title: Episode {n}
    variants: [v1-thumb]
    brief:
      premise: Part {n} of the gold story.
      hook: Something happens at once.
""" + textwrap.indent(textwrap.dedent(GOLD_SHOTS), "    ")


GOLD_YAML = """
series_id: gold
title: Gold Standard
premise: A test series whose every number is computed by hand.
audience: testers
tone_refs: [none]
characters:
  - {name: Ada Byron, description: the lead}
  - {name: Max Weber, description: the rival}
constraints: {runtime_s: [10, 90]}
episodes:""" + "".join(_episode(n) for n in (1, 2, 3, 4))

HEADER = (
    "series_id,episode_id,variant_id,window_start,window_hours,impressions,clicks,views,"
    "completions,shares,saves,comments,follows,conversions,revenue,avg_view_s,retention"
)
DAY1 = "2026-11-16T00:00:00Z"
DAY2 = "2026-11-17T00:00:00Z"


def curve(r10: float, end: float, cliff_at: int | None = None, cliff: float = 0.0) -> list[float]:
    """A 21-point retention curve (percent): linear to ``r10`` at 10 s, then to ``end``.

    With ``cliff_at``, an extra ``cliff`` points are lost during second ``cliff_at``.
    """
    points = []
    for s in range(21):
        if s <= 10:
            value = 100 - (100 - r10) * s / 10
        else:
            value = r10 - (r10 - end) * (s - 10) / 10
        if cliff_at is not None and s > cliff_at:
            value -= cliff
        points.append(round(value, 3))
    return points


@dataclass(frozen=True)
class Row:
    episode: str
    variant: str
    window: str
    impressions: int
    clicks: int
    views: int
    completions: int
    shares: int
    saves: int
    comments: int
    conversions: int
    revenue: float
    avg_view_s: float
    retention: list[float]

    def csv(self) -> str:
        retention = json.dumps(self.retention).replace('"', '""')
        return (
            f"gold,{self.episode},{self.variant},{self.window},24,{self.impressions},"
            f"{self.clicks},{self.views},{self.completions},{self.shares},{self.saves},"
            f"{self.comments},0,{self.conversions},{self.revenue},{self.avg_view_s},"
            f'"{retention}"'
        )


# Day 1 (age 0). e1-e3 have one variant; their rates are round numbers:
#            CTR    r10   completion  engagement  conv/view  revenue/view
#   e1       0.05   0.50  0.30        0.05        0.01       0.02
#   e2       0.04   0.60  0.40        0.06        0.02       0.04
#   e3       0.06   0.40  0.20        0.04        0.00       0.00
# e4 has two variants (see test_analyst.py for the hand computation).
GOLD_ROWS = [
    Row("e1", "v1-thumb", DAY1, 2000, 100, 100, 30, 1, 2, 2, 1, 2.0, 9.0, curve(50, 30)),
    Row("e2", "v1-thumb", DAY1, 2000, 80, 100, 40, 2, 2, 2, 2, 4.0, 10.0, curve(60, 40)),
    Row("e3", "v1-thumb", DAY1, 2000, 120, 100, 20, 1, 1, 2, 0, 0.0, 8.0, curve(40, 20)),
    Row("e4", "v1-thumb", DAY1, 1000, 50, 50, 10, 2, 1, 1, 1, 0.5, 7.0, curve(40, 20, 12, 15)),
    Row("e4", "v2-title", DAY1, 1000, 30, 30, 10, 1, 1, 0, 0, 0.5, 9.0, curve(60, 33.333)),
    # Day 2 (age 1): only e1 and e4, for the 72h view and the default window.
    Row("e1", "v1-thumb", DAY2, 1000, 40, 40, 12, 0, 1, 1, 0, 0.0, 9.0, curve(50, 30)),
    Row("e4", "v1-thumb", DAY2, 1000, 60, 60, 18, 1, 1, 1, 1, 1.0, 8.0, curve(50, 30)),
]


@pytest.fixture
def gold_series(tmp_path: Path) -> Path:
    path = tmp_path / "gold.yaml"
    path.write_text(GOLD_YAML)
    return path


def write_metrics(path: Path, rows: list[Row]) -> Path:
    path.write_text(HEADER + "\n" + "\n".join(r.csv() for r in rows) + "\n")
    return path


@pytest.fixture
def gold_room(settings: Settings, gold_series: Path, tmp_path: Path) -> Settings:
    """The gold series with its hand-made metric windows, on each database backend."""
    add_series_file(settings, gold_series)
    ingest_metrics(settings, write_metrics(tmp_path / "gold-metrics.csv", GOLD_ROWS))
    return settings
