"""The Parquet read API: where a series' events live and how DuckDB reads them.

Ingest writes ``<home>/events/series_id=<id>/day=<YYYY-MM-DD>/*.parquet``; the analyst,
the status command and ingest's own window aggregation read them back through these
helpers, so the layout is known in one place.
"""

from __future__ import annotations

import os

import duckdb

from writers_room.config import Settings

__all__ = ["connect", "event_files", "parquet_source", "window_origin"]


def connect(settings: Settings | None = None) -> duckdb.DuckDBPyConnection:
    """An in-memory DuckDB connection set up for the room (UTC, all cores)."""
    con = duckdb.connect(config={"threads": os.cpu_count() or 1})
    con.execute("SET TimeZone='UTC'")
    return con


def window_origin(settings: Settings) -> str:
    """SQL literal of the origin that 24-hour windows are aligned to."""
    return f"TIMESTAMPTZ '2000-01-01 {settings.window_hour:02d}:00:00+00'"


def event_files(settings: Settings, series_id: str, days: list[str] | None = None) -> list[str]:
    """Parquet files holding a series' events (optionally only some days)."""
    root = settings.events_path / f"series_id={series_id}"
    if days is None:
        return sorted(str(p) for p in root.glob("day=*/*.parquet"))
    return sorted(str(p) for day in days for p in (root / f"day={day}").glob("*.parquet"))


def parquet_source(files: list[str]) -> str:
    """A ``read_parquet`` expression that restores the hive partition columns as text."""
    listed = ", ".join("'" + f.replace("'", "''") + "'" for f in files)
    return (
        f"read_parquet([{listed}], hive_partitioning=true, "
        "hive_types={'series_id': VARCHAR, 'day': VARCHAR})"
    )
