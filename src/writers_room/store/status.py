"""Counts per series: what ``writers-room status`` (and ``/room status``) shows."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from typing import Any

from pydantic import BaseModel, Field
from sqlmodel import Session, col, func, select

from writers_room.config import Settings
from writers_room.store.db import session_scope
from writers_room.store.events import connect, event_files, parquet_source
from writers_room.store.models import (
    BlindIteration,
    Comment,
    Episode,
    MetricWindow,
    Proposal,
    RenderJob,
    Series,
    Variant,
)

__all__ = [
    "EpisodeSummary",
    "SeriesStatus",
    "episode_summaries",
    "room_status",
    "window_span",
]


def window_span(starts: Iterable[datetime], hours: int = 24) -> tuple[str, str, str]:
    """(first start, last end, label) of some metric windows, the label in the analyst's
    words: ``3 days to 2026-11-19 00:00 UTC`` (``24 h to …`` for one window); empty
    strings for none. The label says how long the windows span, not how many there are.
    """
    ordered = sorted({s.astimezone(UTC) for s in starts})
    if not ordered:
        return "", "", ""
    first, end = ordered[0], ordered[-1] + timedelta(hours=hours)
    days = round((end - first) / timedelta(days=1))
    length = "24 h" if days <= 1 else f"{days} days"
    label = f"{length} to {end:%Y-%m-%d %H:%M} UTC"
    if 1 < days and len(ordered) < days:
        label += f" ({len(ordered)} daily windows with data)"
    return first.isoformat(), end.isoformat(), label


class SeriesStatus(BaseModel):
    series_id: str
    title: str = ""
    episodes: int
    variants: int
    events: int
    metric_windows: int
    window_start: str = Field(default="", description="Start of the first metric window.")
    window_end: str = Field(default="", description="End of the last metric window.")
    window_label: str = Field(default="", description="e.g. '3 days to 2026-11-19 00:00 UTC'.")
    comments: int
    proposals: dict[str, int] = Field(default_factory=dict)
    brief_versions: dict[str, int] = Field(default_factory=dict)
    blind_iterations: dict[str, int] = Field(default_factory=dict)
    render_jobs: dict[str, int] = Field(default_factory=dict)


def _count(session: Session, model: Any, series_id: str) -> int:
    return int(
        session.exec(
            select(func.count()).select_from(model).where(model.series_id == series_id)
        ).one()
    )


def _grouped(session: Session, column: Any, model: Any, series_id: str) -> dict[str, int]:
    rows = session.exec(
        select(column, func.count()).where(model.series_id == series_id).group_by(column)
    ).all()
    return {str(key): int(n) for key, n in rows}


def count_events(settings: Settings, series_id: str) -> int:
    files = event_files(settings, series_id)
    if not files:
        return 0
    con = connect(settings)
    try:
        row = con.execute(f"SELECT count(*) FROM {parquet_source(files)}").fetchone()
        return int(row[0]) if row else 0
    finally:
        con.close()


def room_status(settings: Settings, series_id: str | None = None) -> list[SeriesStatus]:
    """Status of every series (or one)."""
    out: list[SeriesStatus] = []
    with session_scope(settings) as session:
        query = select(Series).order_by(col(Series.series_id))
        if series_id:
            query = query.where(Series.series_id == series_id)
        for series in session.exec(query):
            sid = series.series_id
            episodes = session.exec(
                select(Episode).where(Episode.series_id == sid).order_by(col(Episode.position))
            ).all()
            blind = {
                b.episode_id: b.count
                for b in session.exec(select(BlindIteration).where(BlindIteration.series_id == sid))
            }
            starts = session.exec(
                select(MetricWindow.window_start).where(MetricWindow.series_id == sid).distinct()
            ).all()
            first, end, label = window_span(starts)
            out.append(
                SeriesStatus(
                    series_id=sid,
                    title=series.title,
                    episodes=len(episodes),
                    variants=_count(session, Variant, sid),
                    events=count_events(settings, sid),
                    metric_windows=_count(session, MetricWindow, sid),
                    window_start=first,
                    window_end=end,
                    window_label=label,
                    comments=_count(session, Comment, sid),
                    proposals=_grouped(session, Proposal.status, Proposal, sid),
                    brief_versions={e.episode_id: e.current_version for e in episodes},
                    blind_iterations={e.episode_id: blind.get(e.episode_id, 0) for e in episodes},
                    render_jobs=_grouped(session, RenderJob.status, RenderJob, sid),
                )
            )
    return out


class EpisodeSummary(BaseModel):
    """Totals of an episode over every ingested window and variant.

    These cover every ingested window (``window_label``, e.g. three days), not the
    24-hour window a review reads: the same episode's 10-s retention can differ between
    the two, and each says which window it covers.
    """

    series_id: str
    episode_id: str
    title: str
    variants: int
    windows: int
    window_start: str = Field(default="", description="Start of the first window summed.")
    window_end: str = Field(default="", description="End of the last window summed.")
    window_label: str = Field(default="", description="e.g. '3 days to 2026-11-19 00:00 UTC'.")
    impressions: int
    ctr: float
    views: int
    retention_10s: float
    completion: float
    comments: int


def episode_summaries(settings: Settings, series_id: str) -> list[EpisodeSummary]:
    """Per-episode totals for the demo and status views (the analyst goes much further).

    Windows aggregated from raw events are preferred; platform-export rows fill in for
    episodes that have no events.
    """
    out: list[EpisodeSummary] = []
    with session_scope(settings) as session:
        episodes = session.exec(
            select(Episode).where(Episode.series_id == series_id).order_by(col(Episode.position))
        ).all()
        comment_counts = dict(
            session.exec(
                select(Comment.episode_id, func.count())
                .where(Comment.series_id == series_id)
                .group_by(Comment.episode_id)
            ).all()
        )
        for episode in episodes:
            windows = session.exec(
                select(MetricWindow).where(
                    MetricWindow.series_id == series_id,
                    MetricWindow.episode_id == episode.episode_id,
                )
            ).all()
            sources = {w.source for w in windows}
            chosen = [
                w for w in windows if w.source == ("events" if "events" in sources else "metrics")
            ]
            impressions = sum(w.impressions for w in chosen)
            clicks = sum(w.clicks for w in chosen)
            views = sum(w.views for w in chosen)
            first, end, label = window_span(w.window_start for w in chosen)
            retained = sum(
                w.views * (w.retention[10] if len(w.retention) > 10 else 0.0) for w in chosen
            )
            out.append(
                EpisodeSummary(
                    series_id=series_id,
                    episode_id=episode.episode_id,
                    title=episode.title,
                    variants=len({w.variant_id for w in chosen}),
                    windows=len({w.window_start for w in chosen}),
                    window_start=first,
                    window_end=end,
                    window_label=label,
                    impressions=impressions,
                    ctr=clicks / impressions if impressions else 0.0,
                    views=views,
                    retention_10s=retained / views / 100 if views else 0.0,
                    completion=sum(w.completions for w in chosen) / views if views else 0.0,
                    comments=int(comment_counts.get(episode.episode_id, 0)),
                )
            )
    return out
