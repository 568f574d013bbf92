"""Trends: the last 24 hours, 72 hours and 7 days, each against the span before it.

A review is about one 24-hour window, but one window is noisy and says nothing about
direction. For an episode (its own windows) and for the whole series (every episode's
windows summed), :func:`trends` gives each span ending at the reviewed window's end
with the same-length span before it, the deltas of the headline metrics between them,
and one sentence. Every span carries its label ("3 days to 2026-11-19 00:00 UTC"), so a
figure never stands without the window it covers.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta

from writers_room.analyst.evidence import count, pct
from writers_room.analyst.metrics import DAY, WindowRow, metrics_of, totals
from writers_room.brief.report import Metrics, Period, Trend

__all__ = ["SPANS", "TREND_KEYS", "period", "span_label", "trends"]

SPANS: tuple[tuple[str, int], ...] = (("24h", 1), ("72h", 3), ("7d", 7))
# The metrics whose change between spans is reported.
TREND_KEYS = (
    "impressions",
    "starts",
    "ctr",
    "retention_10s",
    "completion",
    "avg_view_s",
    "engagement_per_view",
    "conversions_per_view",
    "revenue_per_view",
)


def _when(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%d %H:%M UTC")


def span_label(days: int, end: datetime, windows: int | None = None) -> str:
    """``24 h to 2026-11-19 00:00 UTC``, ``3 days to …`` (and how many windows had data)."""
    length = "24 h" if days == 1 else f"{days} days"
    label = f"{length} to {_when(end)}"
    if windows is not None and windows < days:
        label += f" ({windows} of {days} daily windows with data)"
    return label


def period(by_window: Mapping[datetime, Sequence[WindowRow]], end: datetime, days: int) -> Period:
    """The rows of the windows starting in ``[end - days, end)``, summed."""
    start = end - days * DAY
    picked = sorted(ws for ws in by_window if start <= ws < end)
    rows = [r for ws in picked for r in by_window[ws]]
    return Period(
        start=start.strftime("%Y-%m-%dT%H:%M:%SZ"),
        end=end.strftime("%Y-%m-%dT%H:%M:%SZ"),
        days=days,
        windows=len(picked),
        label=span_label(days, end, len(picked)),
        metrics=metrics_of(totals(rows)) if rows else None,
    )


def _deltas(now: Metrics, before: Metrics) -> dict[str, float]:
    return {k: float(getattr(now, k)) - float(getattr(before, k)) for k in TREND_KEYS}


def _change(now: float, delta: float) -> str:
    """A rate and its change in percentage points: ``40% (-10.0 pts)``."""
    return f"{pct(now, 0 if abs(now) >= 0.1 else 1)} ({delta * 100:+.1f} pts)"


def _starters(now: int, delta: float) -> str:
    before = now - delta
    return f"{count(now)} starters ({f'{delta / before:+.0%}' if before else 'new'})"


def _sentence(span: str, current: Period, previous: Period, deltas: Mapping[str, float]) -> str:
    m = current.metrics
    if m is None:
        return f"{current.label}: no data."
    if not deltas or previous.metrics is None:
        return (
            f"{current.label}: {count(m.starts)} starters, CTR {pct(m.ctr)}, 10-s retention "
            f"{pct(m.retention_10s, 0)}, completion {pct(m.completion, 0)}, purchases "
            f"{pct(m.conversions_per_view, 2)} of starters; no earlier {span} to compare with."
        )
    return (
        f"{current.label}: {_starters(m.starts, deltas['starts'])}, CTR "
        f"{_change(m.ctr, deltas['ctr'])}, 10-s retention "
        f"{_change(m.retention_10s, deltas['retention_10s'])}, completion "
        f"{_change(m.completion, deltas['completion'])}, purchases per starter "
        f"{_change(m.conversions_per_view, deltas['conversions_per_view'])}, against the "
        f"{previous.label}."
    )


def trends(by_window: Mapping[datetime, Sequence[WindowRow]], end: datetime) -> dict[str, Trend]:
    """Each span of :data:`SPANS` ending at ``end``, against the span before it."""
    out: dict[str, Trend] = {}
    for name, days in SPANS:
        current = period(by_window, end, days)
        previous = period(by_window, end - timedelta(days=days), days)
        deltas = (
            _deltas(current.metrics, previous.metrics)
            if current.metrics is not None and previous.metrics is not None
            else {}
        )
        out[name] = Trend(
            span=name,
            current=current,
            previous=previous,
            deltas=deltas,
            sentences=[_sentence(name, current, previous, deltas)],
        )
    return out
