"""Audience perspectives: metric windows of one segment, aggregated from raw events.

The SQL metric windows hold every viewer; a segment (returning viewers, one platform,
one country) has to be recomputed from the Parquet events. The aggregation is the one
``memory/events.py`` does at ingest — counts per event type, and per viewer the furthest
second reached (a ``complete`` counts as the whole runtime) — restricted to the
segment's events and with runtimes from the episodes' current shot manifests.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC
from typing import Any

from writers_room.analyst.metrics import WindowRow, sort_rows
from writers_room.config import Settings
from writers_room.errors import InputError
from writers_room.ingest.events import retention_curve
from writers_room.ingest.events.schema import COUNTS
from writers_room.store.events import connect, event_files, parquet_source, window_origin

SEGMENT_KEYS = ("returning", "platform", "country")


def normalise_segment(segment: Mapping[str, Any]) -> dict[str, str | bool]:
    """Validate a segment such as ``{"returning": True}`` or ``{"platform": "tiktok"}``.

    Raises:
        InputError: an unknown key, or a value of the wrong type.
    """
    out: dict[str, str | bool] = {}
    for key, value in sorted(segment.items()):
        if key not in SEGMENT_KEYS:
            raise InputError(
                f"segment key {key!r} is not known; use one of {', '.join(SEGMENT_KEYS)}",
                field="segment",
                value=key,
            )
        if key == "returning":
            if isinstance(value, str) and value.lower() in ("true", "false"):
                value = value.lower() == "true"
            if not isinstance(value, bool):
                raise InputError(
                    f"segment 'returning' must be true or false, got {value!r}",
                    field="segment.returning",
                    value=value,
                )
            out[key] = value
        else:
            if not isinstance(value, str) or not value.strip():
                raise InputError(
                    f"segment {key!r} must be a non-empty string, got {value!r}",
                    field=f"segment.{key}",
                    value=value,
                )
            out[key] = value.strip().upper() if key == "country" else value.strip()
    if not out:
        raise InputError("segment is empty; give e.g. {'returning': true}", field="segment")
    return out


def segment_windows(
    settings: Settings,
    series_id: str,
    runtimes: Mapping[str, float],
    segment: Mapping[str, str | bool],
) -> list[WindowRow]:
    """Per episode × variant × 24h window metrics of the segment's events."""
    files = event_files(settings, series_id)
    if not files:
        raise InputError(
            f"series {series_id!r} has no raw events, so segments cannot be computed "
            "(platform exports carry no viewer attributes); ingest events first",
            field="segment",
        )
    conditions = []
    params: list[Any] = []
    for key, value in segment.items():
        conditions.append(f'"{key}" = ?')
        params.append(value)
    where = " AND ".join(conditions)
    con = connect(settings)
    try:
        con.execute("CREATE TABLE known (episode_id VARCHAR, runtime_s DOUBLE)")
        if runtimes:
            con.executemany("INSERT INTO known VALUES (?, ?)", sorted(runtimes.items()))
        con.execute(
            f"""
            CREATE TABLE w AS SELECT episode_id, variant_id, viewer_id, type, position_s,
                value, time_bucket(INTERVAL 24 HOUR, ts, {window_origin(settings)}) AS ws
            FROM {parquet_source(files)} WHERE {where}
            """,
            params,
        )
        counts = con.execute(
            f"SELECT episode_id, variant_id, ws, {COUNTS} FROM w GROUP BY ALL"
        ).fetchall()
        con.execute(
            """
            CREATE TABLE viewers AS SELECT w.episode_id, w.variant_id, w.ws,
                least(max(CASE w.type WHEN 'complete' THEN k.runtime_s
                                      WHEN 'progress' THEN w.position_s ELSE 0 END),
                      k.runtime_s) AS furthest,
                bool_or(w.type = 'complete') AS completed
            FROM w JOIN known k ON k.episode_id = w.episode_id
            WHERE w.type IN ('play', 'progress', 'complete')
            GROUP BY w.episode_id, w.variant_id, w.ws, w.viewer_id, k.runtime_s
            """
        )
        starters = {
            (e, v, ws): (int(n), int(c), float(avg or 0.0))
            for e, v, ws, n, c, avg in con.execute(
                "SELECT episode_id, variant_id, ws, count(*), count(*) FILTER (completed), "
                "avg(furthest) FROM viewers GROUP BY ALL"
            ).fetchall()
        }
        histogram: dict[tuple[Any, ...], dict[int, int]] = {}
        for e, v, ws, second, n in con.execute(
            "SELECT episode_id, variant_id, ws, floor(furthest)::INTEGER, count(*) "
            "FROM viewers GROUP BY ALL"
        ).fetchall():
            histogram.setdefault((e, v, ws), {})[int(second)] = int(n)
    finally:
        con.close()
    rows = []
    for e, v, ws, imp, clk, shr, sav, com, fol, conv, rev in counts:
        if e not in runtimes:
            continue
        n, completed, avg = starters.get((e, v, ws), (0, 0, 0.0))
        rows.append(
            WindowRow(
                episode_id=e,
                variant_id=v,
                window_start=ws.astimezone(UTC),
                impressions=int(imp),
                clicks=int(clk),
                views=n,
                completions=completed,
                shares=int(shr),
                saves=int(sav),
                comments=int(com),
                follows=int(fol),
                conversions=int(conv),
                revenue=round(float(rev), 4),
                avg_view_s=round(avg, 3),
                retention=tuple(retention_curve(histogram.get((e, v, ws), {}), n, runtimes[e])),
            )
        )
    return sort_rows(rows)
