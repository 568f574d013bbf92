"""Window aggregation: the touched 24-hour windows, re-counted and stored.

The touched windows are re-aggregated from the rows just written (plus the neighbouring
partitions a window straddles): counts, starters, completions and per-second retention
computed per viewer from ``progress``/``complete`` events, then upserted into the SQL
``metricwindow`` table.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import duckdb
import pyarrow as pa
from sqlmodel import Session, select

from writers_room.config import Settings
from writers_room.ingest.events.schema import COUNT_NAMES, COUNTS, DAY_US, EPOCH, ws_us
from writers_room.ingest.events.validation import Summary
from writers_room.ingest.series import variant_kind
from writers_room.store.events import event_files, parquet_source
from writers_room.store.models import MetricWindow, Variant


@dataclass
class Window:
    series_id: str
    episode_id: str
    variant_id: str
    window_start: datetime
    counts: dict[str, Any]
    retention: list[float]


def _neighbour_files(
    settings: Settings, affected: set[tuple[str, int]], touched: set[tuple[str, str]]
) -> list[str]:
    """Stored partitions (not rewritten now) that hold part of an affected window."""
    spans: dict[str, tuple[int, int]] = {}
    for series_id, ws in affected:
        first, last = spans.get(series_id, (ws, ws))
        spans[series_id] = (min(first, ws), max(last, ws))
    files: list[str] = []
    for series_id, (first, last) in sorted(spans.items()):
        day = (EPOCH + timedelta(microseconds=first)).date()
        end = (EPOCH + timedelta(microseconds=last + DAY_US - 1)).date()
        days: list[str] = []
        while day <= end:
            if (series_id, day.isoformat()) not in touched:
                days.append(day.isoformat())
            day += timedelta(days=1)
        files.extend(event_files(settings, series_id, days))
    return files


def aggregate_windows(
    con: duckdb.DuckDBPyConnection,
    settings: Settings,
    stored: pa.Table,
    mixed: bool,
    summary: Summary,
    origin_us: int,
) -> list[Window]:
    affected = summary.windows
    touched = {(s, day) for s, day, _ in summary.partitions}
    con.execute("CREATE TEMP TABLE affected (series_id VARCHAR, ws BIGINT)")
    if affected:
        con.executemany("INSERT INTO affected VALUES (?, ?)", sorted(affected))
    con.register("stored", stored)
    columns = "ts, series_id, episode_id, variant_id, viewer_id, type, position_s, value"
    ws = ws_us(origin_us)
    # The rewritten partitions are all in `stored`. Fresh rows' windows are the affected
    # ones by definition; stored rows merged in from before may belong to other windows.
    source = f"SELECT {columns}, {ws} AS ws FROM stored"
    if mixed:
        source = (
            f"SELECT s.* FROM ({source}) s "
            "SEMI JOIN affected a ON a.series_id = s.series_id AND a.ws = s.ws"
        )
    files = _neighbour_files(settings, affected, touched)
    if files:
        source += (
            f" UNION ALL SELECT e.* FROM (SELECT {columns}, {ws} AS ws "
            f"FROM {parquet_source(files)}) e "
            "SEMI JOIN affected a ON a.series_id = e.series_id AND a.ws = e.ws"
        )
    if mixed or files:
        counts = con.execute(
            f"SELECT series_id::VARCHAR, episode_id::VARCHAR, variant_id, ws, {COUNTS} "
            f"FROM ({source}) GROUP BY ALL"
        ).fetchall()
    else:
        # Only this file's rows: validation already counted them (per day, so a window
        # that straddles two days is summed here).
        totals = ", ".join(f"sum({name})" for name in COUNT_NAMES)
        counts = con.execute(
            f"SELECT series_id, episode_id, variant_id, ws, {totals} FROM file_groups GROUP BY ALL"
        ).fetchall()
    # Each starter's furthest second (a `complete` counts as the whole runtime), then the
    # histogram of those seconds per window; starters, completions and the mean come out
    # of the same GROUP BY by summing over the seconds. Runtimes join the per-viewer rows,
    # not the events.
    starters: dict[tuple[Any, ...], list[float]] = {}
    histogram: dict[tuple[Any, ...], dict[int, int]] = {}
    for s, e, v, w, second, n, completed, furthest in con.execute(
        f"""
        SELECT series_id, episode_id, variant_id, ws,
            floor(furthest)::INTEGER, count(*), count(*) FILTER (completed), sum(furthest)
        FROM (
            SELECT x.series_id::VARCHAR AS series_id, x.episode_id::VARCHAR AS episode_id,
                x.variant_id, x.ws, x.completed,
                least(CASE WHEN x.completed THEN k.runtime_s ELSE coalesce(x.progress, 0) END,
                      k.runtime_s) AS furthest
            FROM (
                SELECT series_id, episode_id, variant_id, ws,
                    max(position_s) FILTER (type = 'progress') AS progress,
                    bool_or(type = 'complete') AS completed
                FROM ({source})
                WHERE type IN ('play', 'progress', 'complete')
                GROUP BY series_id, episode_id, variant_id, ws, viewer_id
            ) x
            JOIN known k ON k.series_id = x.series_id AND k.episode_id = x.episode_id
        ) GROUP BY ALL
        """
    ).fetchall():
        key = (s, e, v, w)
        total = starters.setdefault(key, [0, 0, 0.0])
        total[0] += int(n)
        total[1] += int(completed)
        total[2] += float(furthest)
        histogram.setdefault(key, {})[int(second)] = int(n)
    runtimes = {(s, e): r for s, e, r in con.execute("SELECT * FROM known").fetchall()}
    con.unregister("stored")
    con.execute("DROP TABLE affected")

    windows = []
    for s, e, v, w, imp, clk, shr, sav, com, fol, conv, rev in counts:
        key = (s, e, v, w)
        n, completed, furthest = starters.get(key, (0, 0, 0.0))
        windows.append(
            Window(
                series_id=s,
                episode_id=e,
                variant_id=v,
                window_start=EPOCH + timedelta(microseconds=w),
                counts={
                    "impressions": int(imp),
                    "clicks": int(clk),
                    "views": int(n),
                    "completions": int(completed),
                    "shares": int(shr),
                    "saves": int(sav),
                    "comments": int(com),
                    "follows": int(fol),
                    "conversions": int(conv),
                    "revenue": round(float(rev), 4),
                    "avg_view_s": round(furthest / n if n else 0.0, 3),
                },
                retention=retention_curve(histogram.get(key, {}), int(n), runtimes[(s, e)]),
            )
        )
    return windows


def retention_curve(histogram: dict[int, int], starters: int, runtime_s: float) -> list[float]:
    """Percent of starters still watching at each whole second (index 0 = 100).

    ``histogram[s]`` counts starters whose furthest point lies in ``[s, s+1)``; a starter
    is still watching at second ``s`` when their furthest point is at least ``s``.
    """
    seconds = int(math.floor(runtime_s))
    if starters == 0:
        return [0.0] * (seconds + 1)
    curve = [0.0] * (seconds + 1)
    remaining = starters
    for second in range(seconds + 1):
        curve[second] = round(100.0 * remaining / starters, 3)
        remaining -= histogram.get(second, 0)
    return curve


def store_windows(session: Session, windows: list[Window]) -> None:
    if not windows:
        return
    existing = {
        (row.series_id, row.episode_id, row.variant_id, row.window_start.astimezone(UTC)): row
        for row in session.exec(
            select(MetricWindow).where(
                MetricWindow.source == "events",
                MetricWindow.series_id.in_({w.series_id for w in windows}),  # type: ignore[attr-defined]
                MetricWindow.window_start.in_({w.window_start for w in windows}),  # type: ignore[attr-defined]
            )
        )
    }
    variants = {
        (v.series_id, v.episode_id, v.variant_id)
        for v in session.exec(
            select(Variant).where(Variant.series_id.in_({w.series_id for w in windows}))  # type: ignore[attr-defined]
        )
    }
    for window in windows:
        key = (window.series_id, window.episode_id, window.variant_id, window.window_start)
        row = existing.get(key)
        if row is None:
            row = MetricWindow(
                series_id=window.series_id,
                episode_id=window.episode_id,
                variant_id=window.variant_id,
                window_start=window.window_start,
                window_hours=24,
                source="events",
            )
        for name, value in window.counts.items():
            setattr(row, name, value)
        row.retention = window.retention
        row.updated_at = datetime.now(UTC)
        session.add(row)
        vkey = (window.series_id, window.episode_id, window.variant_id)
        if vkey not in variants:
            variants.add(vkey)
            session.add(
                Variant(
                    series_id=window.series_id,
                    episode_id=window.episode_id,
                    variant_id=window.variant_id,
                    kind=variant_kind(window.variant_id),
                )
            )
