"""Metric windows in, per-episode and per-variant signals out.

The analyst works on :class:`WindowRow` values, whatever their source: the SQL metric
windows (``source='events'`` preferred over a platform export of the same window) or a
segment's events aggregated from Parquet (see ``_segments.py``). Everything here is a
pure function of those rows.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from sqlmodel import select

from writers_room.brief.report import Metrics
from writers_room.config import Settings
from writers_room.errors import InputError
from writers_room.store.db import session_scope
from writers_room.store.models import METRIC_COUNTERS, MetricWindow

DAY = timedelta(hours=24)
# A platform export row and an events row for the same window: the events row wins,
# because we aggregated it ourselves from the raw player events.
SOURCE_PREFERENCE = ("events", "metrics")


@dataclass(frozen=True)
class WindowRow:
    """One episode variant over one 24-hour window."""

    episode_id: str
    variant_id: str
    window_start: datetime
    impressions: int = 0
    clicks: int = 0
    views: int = 0
    completions: int = 0
    shares: int = 0
    saves: int = 0
    comments: int = 0
    follows: int = 0
    conversions: int = 0
    revenue: float = 0.0
    avg_view_s: float = 0.0
    retention: tuple[float, ...] = ()


@dataclass
class Totals:
    """Summed counts of some window rows, with the starter-weighted retention curve."""

    impressions: int = 0
    clicks: int = 0
    views: int = 0
    completions: int = 0
    shares: int = 0
    saves: int = 0
    comments: int = 0
    follows: int = 0
    conversions: int = 0
    revenue: float = 0.0
    view_seconds: float = 0.0
    curve: list[float] = field(default_factory=list)


def load_windows(settings: Settings, series_id: str) -> list[WindowRow]:
    """The series' 24-hour metric windows, one row per episode × variant × window."""
    with session_scope(settings) as session:
        rows = session.exec(
            select(MetricWindow).where(
                MetricWindow.series_id == series_id, MetricWindow.window_hours == 24
            )
        ).all()
    chosen: dict[tuple[str, str, datetime], MetricWindow] = {}
    for row in rows:
        if row.source not in SOURCE_PREFERENCE:
            continue
        key = (row.episode_id, row.variant_id, row.window_start.astimezone(UTC))
        held = chosen.get(key)
        if held is None or SOURCE_PREFERENCE.index(row.source) < SOURCE_PREFERENCE.index(
            held.source
        ):
            chosen[key] = row
    out = [
        WindowRow(
            episode_id=row.episode_id,
            variant_id=row.variant_id,
            window_start=key[2],
            **{name: getattr(row, name) for name in METRIC_COUNTERS},
            revenue=float(row.revenue),
            avg_view_s=float(row.avg_view_s),
            retention=tuple(float(x) for x in row.retention),
        )
        for key, row in chosen.items()
    ]
    return sort_rows(out)


def sort_rows(rows: Iterable[WindowRow]) -> list[WindowRow]:
    """Rows in one fixed order, so that every float sum is done in the same order."""
    return sorted(rows, key=lambda r: (r.window_start, r.episode_id, r.variant_id))


def mix_curves(curves: Sequence[tuple[Sequence[float], int]]) -> list[float]:
    """Starter-weighted mean of retention curves (percent per second).

    Curves of different lengths (an episode re-cut between windows) are padded with their
    last value: a starter of the shorter cut who reached its end is counted as still
    watching, which is what "completed" means for them.
    """
    weighted = [(list(curve), n) for curve, n in curves if n > 0 and len(curve) > 0]
    if not weighted:
        longest = max((len(c) for c, _ in curves), default=0)
        return [0.0] * longest
    length = max(len(c) for c, _ in weighted)
    total = sum(n for _, n in weighted)
    out = [0.0] * length
    for curve, n in weighted:
        padded = curve + [curve[-1]] * (length - len(curve))
        for second, value in enumerate(padded):
            out[second] += value * n
    return [value / total for value in out]


def totals(rows: Iterable[WindowRow]) -> Totals:
    """Sum rows (of any variants and windows) into one :class:`Totals`."""
    rows = list(rows)
    out = Totals()
    for row in rows:
        for name in METRIC_COUNTERS:
            setattr(out, name, getattr(out, name) + getattr(row, name))
        out.revenue += row.revenue
        out.view_seconds += row.avg_view_s * row.views
    out.curve = mix_curves([(row.retention, row.views) for row in rows])
    return out


def at_second(curve: Sequence[float], second: int) -> float:
    """Fraction still watching at ``second`` (the last value past the end; 0 if empty)."""
    if not curve:
        return 0.0
    return curve[min(second, len(curve) - 1)] / 100.0


def _ratio(num: float, den: float) -> float:
    return num / den if den > 0 else 0.0


def metrics_of(t: Totals) -> Metrics:
    """The report's metrics of some summed rows."""
    return Metrics(
        impressions=t.impressions,
        clicks=t.clicks,
        ctr=_ratio(t.clicks, t.impressions),
        starts=t.views,
        retention_3s=at_second(t.curve, 3) if t.views else 0.0,
        retention_8s=at_second(t.curve, 8) if t.views else 0.0,
        retention_10s=at_second(t.curve, 10) if t.views else 0.0,
        completion=_ratio(t.completions, t.views),
        completions=t.completions,
        avg_view_s=_ratio(t.view_seconds, t.views),
        shares=t.shares,
        saves=t.saves,
        comments=t.comments,
        follows=t.follows,
        conversions=t.conversions,
        revenue=t.revenue,
        shares_per_view=_ratio(t.shares, t.views),
        saves_per_view=_ratio(t.saves, t.views),
        comments_per_view=_ratio(t.comments, t.views),
        follows_per_view=_ratio(t.follows, t.views),
        engagement_per_view=_ratio(t.comments + t.shares + t.saves, t.views),
        conversions_per_view=_ratio(t.conversions, t.views),
        revenue_per_view=_ratio(t.revenue, t.views),
    )


def is_aligned(moment: datetime, window_hour: int) -> bool:
    """Whether ``moment`` is a window boundary (windows close daily at ``window_hour``)."""
    origin = datetime(2000, 1, 1, window_hour, tzinfo=UTC)
    return (moment - origin) % DAY == timedelta(0)


def resolve_window(
    rows: Sequence[WindowRow],
    series_id: str,
    window_hour: int,
    window_end: datetime | None,
    now: datetime,
) -> tuple[datetime, datetime]:
    """The review window ``[start, end)``: the one asked for, or the last closed one.

    Raises:
        InputError: ``window_end`` is not a window boundary, or no closed window has data.
    """
    starts = sorted({r.window_start for r in rows})
    closed = [s for s in starts if s + DAY <= now]
    if window_end is None:
        if not closed:
            raise InputError(
                f"series {series_id!r} has no closed 24-hour metric window yet "
                f"({len(starts)} window(s) with data, none ended before {now.isoformat()}); "
                "ingest events or metrics first"
            )
        return closed[-1], closed[-1] + DAY
    end = window_end if window_end.tzinfo else window_end.replace(tzinfo=UTC)
    end = end.astimezone(UTC)
    if not is_aligned(end, window_hour):
        raise InputError(
            f"--window-end {end.isoformat()} is not a window boundary: windows close daily at "
            f"{window_hour:02d}:00 UTC (WRITERS_ROOM_WINDOW_HOUR)",
            field="window_end",
            value=end.isoformat(),
        )
    start = end - DAY
    if start not in set(starts):
        have = ", ".join((s + DAY).isoformat() for s in starts[-5:]) or "none"
        raise InputError(
            f"series {series_id!r} has no data in the window ending {end.isoformat()}; "
            f"windows with data end at: {have}",
            field="window_end",
            value=end.isoformat(),
        )
    return start, end
