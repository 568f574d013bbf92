"""The days after a publication: a platform metrics export with the change's effect planted.

The demo publishes the render of the change it approved and then needs the audience's
answer. :func:`write_follow_up` simulates ``days`` more 24-hour windows for every episode
variant of a series, drawn around the rates each variant had so far (impressions per day,
click-through, plays per click, the retention curve, completion, engagement per view), and
moves the targeted metric of the published variant only (:data:`PLANTED_LIFT`): 10-s
retention or completion +10 points, click-through +1.5 points, comments or shares + saves
per view doubled. The rest of the series is the cohort and changes by chance alone, so
the next review should call the change *improved* once the traffic suffices.

Rows are one metrics-export line per episode × variant × day (the format ``ingest
metrics`` reads); everything is a pure function of the rows in and the seed.
"""

from __future__ import annotations

import csv
import json
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

import numpy as np

from writers_room.analyst.metrics import WindowRow, mix_curves
from writers_room.analyst.outcomes import TARGET_METRIC
from writers_room.ingest.metrics import REQUIRED as METRIC_COLUMNS

__all__ = ["FOLLOW_DAYS", "PLANTED_LIFT", "Planted", "planted_for", "write_follow_up"]

FOLLOW_DAYS = 3
# Additive for proportions (fractions), multiplicative (× 1 + lift) for per-view rates.
PLANTED_LIFT = {
    "retention_10s": 0.10,
    "completion": 0.10,
    "ctr": 0.015,
    "comments_per_view": 1.0,
    "shares_saves_per_view": 1.0,
}


@dataclass(frozen=True)
class Planted:
    """The published change's effect: on one variant, one metric, by ``lift``."""

    episode_id: str
    variant_id: str
    metric: str
    lift: float


def planted_for(kind: str, episode_id: str, variant_id: str) -> Planted | None:
    """The effect the sample plants for a change of this kind (none if it targets none)."""
    metric = TARGET_METRIC.get(kind)
    if metric is None:
        return None
    return Planted(episode_id, variant_id, metric, PLANTED_LIFT[metric])


@dataclass
class _Base:
    """One variant's per-day traffic and rates so far."""

    impressions: float
    ctr: float
    play_rate: float
    completion: float
    curve: list[float]
    per_view: dict[str, float]
    avg_view_s: float
    revenue_per_conversion: float


def _bases(rows: Sequence[WindowRow]) -> dict[tuple[str, str], _Base]:
    grouped: dict[tuple[str, str], list[WindowRow]] = defaultdict(list)
    for row in rows:
        grouped[(row.episode_id, row.variant_id)].append(row)
    out = {}
    for key, group in sorted(grouped.items()):
        days = len({r.window_start for r in group})

        def total(name: str, group: list[WindowRow] = group) -> float:
            return float(sum(getattr(r, name) for r in group))

        views = max(total("views"), 1.0)
        out[key] = _Base(
            impressions=total("impressions") / days,
            ctr=total("clicks") / max(total("impressions"), 1.0),
            play_rate=min(1.0, total("views") / max(total("clicks"), 1.0)),
            completion=total("completions") / views,
            curve=mix_curves([(r.retention, r.views) for r in group]),
            per_view={
                name: total(name) / views
                for name in ("shares", "saves", "comments", "follows", "conversions")
            },
            avg_view_s=sum(r.avg_view_s * r.views for r in group) / views,
            revenue_per_conversion=total("revenue") / max(total("conversions"), 1.0),
        )
    return out


def _lifted_curve(curve: list[float], metric: str, lift: float) -> list[float]:
    """The retention curve with ``lift`` points more held at 10 s (ramping in over the
    first ten seconds) or at the end (ramping in after second 10)."""
    if not curve or metric not in ("retention_10s", "completion"):
        return list(curve)
    last = len(curve) - 1
    out = []
    for second, value in enumerate(curve):
        if metric == "retention_10s":
            weight = min(second / 10.0, 1.0)
        else:
            weight = max(0.0, (second - 10) / max(last - 10, 1)) if last > 10 else second / last
        out.append(min(100.0, value + 100.0 * lift * weight))
    return [float(x) for x in np.minimum.accumulate(np.array(out))]


def _drawn_curve(rng: np.random.Generator, curve: list[float], views: int) -> list[float]:
    """The day's curve: the share still watching at 10 s is drawn for ``views`` starters
    and the curve scaled to it (from second 10 on; ramping in before)."""
    if len(curve) <= 10 or views == 0 or curve[10] <= 0:
        return curve
    held = rng.binomial(views, min(curve[10] / 100.0, 1.0)) / views
    factor = 100.0 * held / curve[10]
    scaled = [
        min(100.0, value * (1.0 + (factor - 1.0) * min(second / 10.0, 1.0)))
        for second, value in enumerate(curve)
    ]
    return [float(x) for x in np.minimum.accumulate(np.array(scaled))]


def _day_row(
    rng: np.random.Generator, base: _Base, effect: Planted | None
) -> dict[str, float | int | list[float]]:
    metric, lift = (effect.metric, effect.lift) if effect else ("", 0.0)
    ctr = min(1.0, base.ctr + (lift if metric == "ctr" else 0.0))
    completion = min(1.0, base.completion + (lift if metric == "completion" else 0.0))
    curve = _lifted_curve(base.curve, metric, lift)
    impressions = int(rng.poisson(base.impressions))
    clicks = int(rng.binomial(impressions, ctr))
    views = int(rng.binomial(clicks, base.play_rate))
    completions = int(rng.binomial(views, completion))
    curve = _drawn_curve(rng, curve, views)
    rates = dict(base.per_view)
    if metric == "comments_per_view":
        rates["comments"] *= 1.0 + lift
    if metric == "shares_saves_per_view":
        rates["shares"] *= 1.0 + lift
        rates["saves"] *= 1.0 + lift
    counts = {name: int(rng.poisson(views * rate)) for name, rate in rates.items()}
    counts["conversions"] = min(counts["conversions"], views)
    return {
        "impressions": impressions,
        "clicks": clicks,
        "views": views,
        "completions": completions,
        **counts,
        "revenue": round(counts["conversions"] * base.revenue_per_conversion, 2),
        "avg_view_s": round(base.avg_view_s, 3),
        "retention": [round(x, 3) for x in curve],
    }


def write_follow_up(
    path: Path,
    series_id: str,
    rows: Sequence[WindowRow],
    *,
    start: datetime,
    planted: Sequence[Planted],
    days: int = FOLLOW_DAYS,
    seed: int = 7,
) -> Path:
    """Write ``days`` windows from ``start`` for every episode variant in ``rows``, with
    the ``planted`` effects on their published variants; returns ``path``."""
    rng = np.random.default_rng(seed)
    effects = {(p.episode_id, p.variant_id): p for p in planted}
    bases = _bases([r for r in rows if r.window_start < start])
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(METRIC_COLUMNS))
        writer.writeheader()
        for day in range(days):
            window = start + timedelta(days=day)
            for (episode_id, variant_id), base in bases.items():
                values = _day_row(rng, base, effects.get((episode_id, variant_id)))
                values["retention"] = json.dumps(values["retention"])  # type: ignore[assignment]
                writer.writerow(
                    {
                        "series_id": series_id,
                        "episode_id": episode_id,
                        "variant_id": variant_id,
                        "window_start": window.strftime("%Y-%m-%dT%H:%M:%SZ"),
                        "window_hours": 24,
                        **values,
                    }
                )
    return path
