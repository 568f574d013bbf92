"""Raw player/distribution events: validate, store as Parquet, aggregate into windows.

:func:`ingest_events` takes one file through four parts, each a module here:

- :mod:`.reading`: DuckDB reads the file once, typing and flagging every row, into one
  Arrow table that stays in memory until the windows are aggregated (gzip inflated in
  line-aligned chunks on a background thread; a fast path for plain CSV).
- :mod:`.validation`: one GROUP BY over the flags decides whether the file is valid; if
  not, the first bad row is named (line, field, value) and nothing is stored.
- :mod:`.partitions`: the rows go to ``<home>/events/series_id=<id>/day=<YYYY-MM-DD>/``
  as zstd Parquet, each affected partition the distinct union of what it had and what
  arrived (so re-ingesting the same rows is a no-op); viewer ids only as keyed hashes.
- :mod:`.windows`: the touched 24-hour windows are re-aggregated (counts, starters,
  completions, per-second retention) and upserted into the SQL ``metricwindow`` table
  in one transaction. If that transaction fails, the old partitions are put back.

:mod:`.schema` holds what they share (the columns, the window counters). Reading the
stored partitions back is :mod:`writers_room.store.events`.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import numpy as np
import pyarrow as pa

from writers_room.config import Settings
from writers_room.ingest.events.partitions import (
    HASHED_MARKER,
    RehashResult,
    events_lock,
    hash_viewers,
    rehash_viewers,
    repeated_hashes,
    restore_partitions,
    viewer_hash_sql,
    write_partitions,
)
from writers_room.ingest.events.reading import read_file
from writers_room.ingest.events.schema import (
    COLUMNS,
    EVENT_TYPES,
    OPTIONAL,
    PARQUET_COLUMNS,
    REQUIRED,
    sql_str,
    window_origin_us,
)
from writers_room.ingest.events.validation import Summary, known_episodes, validate
from writers_room.ingest.events.windows import (
    Window,
    aggregate_windows,
    retention_curve,
    store_windows,
)
from writers_room.ingest.readers import detect_format, file_sha256, iter_rows
from writers_room.store.db import record_ingest, session_scope
from writers_room.store.events import connect

__all__ = [
    "COLUMNS",
    "EVENT_TYPES",
    "HASHED_MARKER",
    "OPTIONAL",
    "PARQUET_COLUMNS",
    "REQUIRED",
    "EventIngestResult",
    "Progress",
    "RehashResult",
    "ingest_connection",
    "ingest_events",
    "rehash_viewers",
    "retention_curve",
    "viewer_hash_sql",
]

Progress = Callable[[str], None]


@dataclass(frozen=True)
class EventIngestResult:
    rows: int
    inserted: int
    partitions: int
    windows: int
    duration_s: float
    stages_s: dict[str, float] = field(default_factory=dict)


class _Stages:
    """Names the stage in progress (for the progress bar) and times each one."""

    def __init__(self, progress: Progress | None) -> None:
        self.progress = progress
        self.seconds: dict[str, float] = {}
        self._current: tuple[str, float] | None = None

    def start(self, stage: str) -> None:
        now = time.perf_counter()
        if self._current is not None:
            name, since = self._current
            self.seconds[name] = round(now - since, 3)
        self._current = (stage, now)
        if self.progress is not None:
            self.progress(stage)


def ingest_connection(
    settings: Settings, work: Path, known_rows: list[tuple[str, str, float]]
) -> duckdb.DuckDBPyConnection:
    con = connect(settings)
    # The rows live in Arrow, outside DuckDB's buffer pool; what DuckDB itself needs
    # (hash tables, the merge with stored partitions) may spill under the home.
    total = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    con.execute(f"SET memory_limit = '{max(1 << 30, total // 4) >> 20}MB'")
    con.execute(f"SET temp_directory = {sql_str(str(work / 'spill'))}")
    con.execute("CREATE TABLE known (series_id VARCHAR, episode_id VARCHAR, runtime_s DOUBLE)")
    if known_rows:
        con.executemany("INSERT INTO known VALUES (?, ?, ?)", known_rows)
    con.execute("CREATE TYPE wr_series AS ENUM (SELECT DISTINCT series_id FROM known)")
    con.execute("CREATE TYPE wr_episode AS ENUM (SELECT DISTINCT episode_id FROM known)")
    con.execute(f"CREATE TYPE wr_event AS ENUM {EVENT_TYPES}")
    return con


def ingest_events(
    settings: Settings, path: Path, *, progress: Progress | None = None
) -> EventIngestResult:
    """Validate and store a raw events file, then re-aggregate the windows it touches.

    Raises:
        InputError: the file (named with line, field and value) has invalid rows; nothing
            is stored.
    """
    started = time.perf_counter()
    watch = _Stages(progress)
    say = watch.start
    path = Path(path)
    fmt, gzipped, known_rows = _prepare(settings, path, say)
    work = Path(tempfile.mkdtemp(prefix=".ingest-", dir=settings.events_path))
    con = ingest_connection(settings, work, known_rows)
    background = ThreadPoolExecutor(max_workers=1)
    try:
        origin_us = window_origin_us(settings)
        fresh, sha256, repeated, summary = _read_valid(
            con, settings, path, fmt, gzipped, work, known_rows, origin_us, background, say
        )
        total = fresh.num_rows
        with events_lock(settings):
            say("writing parquet")
            partitions = summary.partitions
            stored, merged, inserted, backup, staged = write_partitions(
                con, settings, fresh, repeated, partitions
            )
            # The file's own counts (from validation) hold unless other rows are mixed in:
            # stored ones merged, or duplicates dropped.
            mixed = merged or stored is not fresh
            del fresh
            try:
                say("aggregating windows")
                windows = aggregate_windows(con, settings, stored, mixed, summary, origin_us)
                _record_windows(
                    settings,
                    path,
                    windows,
                    sha256=sha256,
                    rows=total,
                    inserted=inserted,
                    started=started,
                )
            except BaseException:
                restore_partitions(settings, [(s, d) for s, d, _ in partitions], backup)
                raise
            finally:
                shutil.rmtree(staged, ignore_errors=True)
            shutil.rmtree(backup, ignore_errors=True)
        say("done")
    finally:
        background.shutdown(wait=True)
        con.close()
        shutil.rmtree(work, ignore_errors=True)
    return EventIngestResult(
        rows=total,
        inserted=inserted,
        partitions=len(partitions),
        windows=len(windows),
        duration_s=time.perf_counter() - started,
        stages_s=watch.seconds,
    )


def _prepare(
    settings: Settings, path: Path, say: Progress
) -> tuple[str, bool, list[tuple[str, str, float]]]:
    """Before DuckDB starts: the file's format, the registered episodes, hashed viewer ids."""
    fmt, gzipped = detect_format(path)
    if fmt == "csv":
        # Header check (and a clean error for a missing column, an unreadable or a small
        # cut-short file) from the streaming reader, before DuckDB is started.
        next(iter_rows(path, required=REQUIRED), None)
    with session_scope(settings) as session:
        known_rows = known_episodes(session)
    settings.events_path.mkdir(parents=True, exist_ok=True)
    if not (settings.events_path / HASHED_MARKER).exists():
        say("hashing stored viewer ids")
        rehash_viewers(settings)  # a room from before viewer ids were hashed: once
    return fmt, gzipped, known_rows


def _read_valid(
    con: duckdb.DuckDBPyConnection,
    settings: Settings,
    path: Path,
    fmt: str,
    gzipped: bool,
    work: Path,
    known_rows: list[tuple[str, str, float]],
    origin_us: int,
    background: ThreadPoolExecutor,
    say: Progress,
) -> tuple[pa.Table, str | None, Future[np.ndarray], Summary]:
    """The file's rows, viewer ids hashed and validated; the hashes that repeat (a future)."""
    say("reading")
    fresh, sha256 = read_file(con, path, fmt, gzipped, work)
    # Viewer ids are stored only as keyed hashes (the raw ids never reach a file).
    fresh = hash_viewers(con, fresh, settings.author_key)
    say("validating")
    repeated = background.submit(repeated_hashes, fresh)
    summary = validate(con, path, fmt, fresh, known_rows, origin_us)
    fresh = fresh.drop_columns(["_bad"])
    con.unregister("fresh")
    return fresh, sha256, repeated, summary


def _record_windows(
    settings: Settings,
    path: Path,
    windows: list[Window],
    *,
    sha256: str | None,
    rows: int,
    inserted: int,
    started: float,
) -> None:
    """Upsert the windows and record the ingest, in one transaction."""
    with session_scope(settings) as session:
        store_windows(session, windows)
        record_ingest(
            session,
            kind="events",
            path=path,
            sha256=sha256 or file_sha256(path),
            rows=rows,
            inserted=inserted,
            duration_s=time.perf_counter() - started,
            detail={"windows": len(windows)},
        )
