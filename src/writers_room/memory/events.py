"""Raw player/distribution events: validate, store as Parquet, aggregate into windows.

Events are the big input (millions a day per series), so they never pass through Python
row by row. DuckDB reads the file, validates every row in one query, and writes the
events to ``<home>/events/series_id=<id>/day=<YYYY-MM-DD>/`` as zstd Parquet. Each
affected partition is rewritten as the distinct union of what it had and what arrived,
which makes re-ingesting the same rows a no-op. The touched 24-hour windows are then
re-aggregated — counts, starters, completions and per-second retention computed per
viewer from ``progress``/``complete`` events — and upserted into the SQL ``metricwindow``
table in one transaction. If that transaction fails, the old partitions are put back.
"""

from __future__ import annotations

import fcntl
import math
import os
import shutil
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import duckdb
from sqlmodel import Session, select

from writers_room.config import Settings
from writers_room.errors import InputError
from writers_room.memory._readers import detect_format, file_sha256, iter_rows
from writers_room.memory.db import audit, session_scope
from writers_room.memory.models import BriefVersion, Episode, IngestRun, MetricWindow, Variant
from writers_room.memory.series import variant_kind

__all__ = [
    "EVENT_TYPES",
    "EventIngestResult",
    "connect",
    "event_files",
    "ingest_events",
    "window_origin",
]

EVENT_TYPES = (
    "impression",
    "click",
    "play",
    "progress",
    "complete",
    "share",
    "save",
    "comment",
    "follow",
    "purchase",
)
REQUIRED = ("ts", "series_id", "episode_id", "variant_id", "viewer_id", "type")
OPTIONAL = ("position_s", "value", "platform", "country", "returning")
COLUMNS = (
    "ts",
    "series_id",
    "episode_id",
    "variant_id",
    "viewer_id",
    "type",
    "position_s",
    "value",
    "platform",
    "country",
    "returning",
    "day",
)
_TRUE = ("true", "1", "yes", "t", "y")
_FALSE = ("false", "0", "no", "f", "n")

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


@contextmanager
def _events_lock(settings: Settings) -> Iterator[None]:
    settings.events_path.mkdir(parents=True, exist_ok=True)
    fd = os.open(settings.events_path / ".lock", os.O_CREAT | os.O_RDWR, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        fcntl.flock(fd, fcntl.LOCK_UN)
        os.close(fd)


def _sql_str(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def _load_raw(con: duckdb.DuckDBPyConnection, path: Path) -> None:
    fmt, _ = detect_format(path)
    source = _sql_str(str(path))
    try:
        if fmt == "csv":
            # Header check (and a clean error for a missing column) from the streaming reader.
            next(iter_rows(path, required=REQUIRED), None)
            con.execute(
                f"CREATE TABLE raw AS SELECT * FROM read_csv({source}, header=true, "
                "all_varchar=true, strict_mode=true, compression='auto')"
            )
            present = {row[0] for row in con.execute("DESCRIBE raw").fetchall()}
            for name in OPTIONAL:
                if name not in present:
                    con.execute(f'ALTER TABLE raw ADD COLUMN "{name}" VARCHAR')
        else:
            columns = ", ".join(f"'{name}': 'VARCHAR'" for name in REQUIRED + OPTIONAL)
            con.execute(
                f"CREATE TABLE raw AS SELECT * FROM read_json({source}, "
                f"format='newline_delimited', columns={{{columns}}}, compression='auto')"
            )
    except duckdb.Error as exc:
        message = str(exc).split("\n", 1)[0]
        raise InputError(f"{path}: cannot be parsed: {message}", file=str(path)) from None


def _known_episodes(session: Session) -> list[tuple[str, str, float]]:
    """(series_id, episode_id, runtime_s) of every registered episode's current brief."""
    rows = session.exec(
        select(Episode.series_id, Episode.episode_id, BriefVersion.manifest).join(
            BriefVersion,
            (BriefVersion.series_id == Episode.series_id)  # type: ignore[arg-type]
            & (BriefVersion.episode_id == Episode.episode_id)
            & (BriefVersion.version == Episode.current_version),
        )
    ).all()
    out = []
    for series_id, episode_id, manifest in rows:
        runtime = sum(float(shot["duration_s"]) for shot in manifest["shots"])
        out.append((series_id, episode_id, runtime))
    return out


_PARSED = f"""
CREATE TABLE parsed AS SELECT
    rowid AS rid, *,
    CASE WHEN regexp_full_match(trim(ts), '-?[0-9]{{1,16}}')
         THEN epoch_ms(TRY_CAST(trim(ts) AS BIGINT))::TIMESTAMPTZ
         ELSE TRY_CAST(trim(ts) AS TIMESTAMPTZ) END AS ts_p,
    TRY_CAST(nullif(trim(position_s), '') AS DOUBLE) AS pos_p,
    TRY_CAST(nullif(trim(value), '') AS DOUBLE) AS val_p,
    CASE WHEN lower(trim(coalesce("returning", ''))) IN {_TRUE} THEN true
         WHEN lower(trim(coalesce("returning", ''))) IN {_FALSE} THEN false END AS ret_p
FROM raw
"""

_FIRST_ERROR = f"""
SELECT rid, field, value FROM (
  SELECT p.rid,
    CASE
      WHEN coalesce(trim(p.ts), '') = '' OR p.ts_p IS NULL THEN 'ts'
      WHEN coalesce(trim(p.series_id), '') = '' THEN 'series_id'
      WHEN coalesce(trim(p.episode_id), '') = '' THEN 'episode_id'
      WHEN coalesce(trim(p.variant_id), '') = '' THEN 'variant_id'
      WHEN coalesce(trim(p.viewer_id), '') = '' THEN 'viewer_id'
      WHEN coalesce(trim(p.type), '') NOT IN {EVENT_TYPES} THEN 'type'
      WHEN k.episode_id IS NULL THEN 'episode_id'
      WHEN trim(p.type) = 'progress' AND p.pos_p IS NULL THEN 'position_s'
      WHEN coalesce(trim(p.position_s), '') <> ''
           AND (p.pos_p IS NULL OR p.pos_p < 0 OR isnan(p.pos_p)) THEN 'position_s'
      WHEN coalesce(trim(p.value), '') <> '' AND (p.val_p IS NULL OR isnan(p.val_p)) THEN 'value'
      WHEN coalesce(trim(p."returning"), '') <> '' AND p.ret_p IS NULL THEN 'returning'
    END AS field,
    CASE field
      WHEN 'ts' THEN p.ts WHEN 'series_id' THEN p.series_id WHEN 'episode_id' THEN p.episode_id
      WHEN 'variant_id' THEN p.variant_id WHEN 'viewer_id' THEN p.viewer_id
      WHEN 'type' THEN p.type WHEN 'position_s' THEN p.position_s WHEN 'value' THEN p.value
      WHEN 'returning' THEN p."returning" END AS value
  FROM parsed p
  LEFT JOIN known k ON k.series_id = trim(p.series_id) AND k.episode_id = trim(p.episode_id)
) WHERE field IS NOT NULL
ORDER BY rid
"""

_REASONS = {
    "ts": "not an ISO 8601 time or epoch milliseconds",
    "series_id": "is empty",
    "episode_id": "is empty",
    "variant_id": "is empty",
    "viewer_id": "is empty",
    "type": f"must be one of {', '.join(EVENT_TYPES)}",
    "position_s": "must be a number of seconds >= 0 (required for progress events)",
    "value": "must be a number",
    "returning": "must be true or false",
}


def _line_of(path: Path, rid: int) -> int:
    """The file line of data row ``rid`` (0-based), counting as the streaming reader does."""
    for index, (line, _row) in enumerate(iter_rows(path, required=())):
        if index == rid:
            return line
    return rid + 1


def _validate(con: duckdb.DuckDBPyConnection, path: Path, known: set[str]) -> int:
    con.execute(_PARSED)
    errors = con.execute(f"SELECT count(*), min(rid) FROM ({_FIRST_ERROR})").fetchone()
    assert errors is not None
    bad, _ = errors
    if bad:
        first = con.execute(f"{_FIRST_ERROR} LIMIT 1").fetchone()
        assert first is not None
        rid, field, value = first
        line = _line_of(path, int(rid))
        reason = _REASONS[field]
        if field == "episode_id" and (value or "").strip():
            series_row = con.execute(
                "SELECT trim(series_id) FROM parsed WHERE rid = ?", [rid]
            ).fetchone()
            series_id = series_row[0] if series_row else ""
            if series_id in known:
                reason = f"is not an episode of series {series_id!r}"
            else:
                reason = f"belongs to series {series_id!r}, which is not registered"
            reason += " (register it with `writers-room series add`)"
        more = f" ({bad - 1} more row(s) have errors)" if bad > 1 else ""
        raise InputError(
            f"{path}:{line}: field {field!r} {reason} (value {value!r}){more}; "
            "nothing from this file was stored",
            file=str(path),
            line=line,
            field=field,
            value=value,
        )
    total = con.execute("SELECT count(*) FROM parsed").fetchone()
    return int(total[0]) if total else 0


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
    detect_format(path)
    with session_scope(settings) as session:
        known_rows = _known_episodes(session)
    con = connect(settings)
    con.execute("CREATE TABLE known (series_id VARCHAR, episode_id VARCHAR, runtime_s DOUBLE)")
    if known_rows:
        con.executemany("INSERT INTO known VALUES (?, ?, ?)", known_rows)
    say("reading")
    _load_raw(con, path)
    say("validating")
    total = _validate(con, path, {series for series, _, _ in known_rows})
    con.execute(
        """
        CREATE TABLE ev AS SELECT
            ts_p AS ts, trim(series_id) AS series_id, trim(episode_id) AS episode_id,
            trim(variant_id) AS variant_id, trim(viewer_id) AS viewer_id, trim(type) AS type,
            pos_p AS position_s, val_p AS value, nullif(trim(platform), '') AS platform,
            nullif(upper(trim(country)), '') AS country, ret_p AS "returning",
            strftime(ts_p, '%Y-%m-%d') AS day
        FROM parsed
        """
    )
    con.execute("DROP TABLE parsed")
    con.execute("DROP TABLE raw")
    with _events_lock(settings):
        say("writing parquet")
        partitions, inserted, backup, staged = _write_partitions(con, settings)
        try:
            say("aggregating windows")
            windows = _aggregate(con, settings)
            with session_scope(settings) as session:
                _store_windows(session, windows)
                session.add(
                    IngestRun(
                        kind="events",
                        file=str(path),
                        sha256=file_sha256(path),
                        rows=total,
                        inserted=inserted,
                        duration_s=time.perf_counter() - started,
                    )
                )
                audit(
                    session,
                    actor="ingest",
                    action="ingest.events",
                    subject=str(path),
                    detail={"rows": total, "inserted": inserted, "windows": len(windows)},
                )
        except BaseException:
            _restore(settings, partitions, backup)
            raise
        finally:
            shutil.rmtree(staged, ignore_errors=True)
        shutil.rmtree(backup, ignore_errors=True)
    say("done")
    con.close()
    return EventIngestResult(
        rows=total,
        inserted=inserted,
        partitions=len(partitions),
        windows=len(windows),
        duration_s=time.perf_counter() - started,
        stages_s=watch.seconds,
    )


def _partition_dir(settings: Settings, series_id: str, day: str) -> Path:
    return settings.events_path / f"series_id={series_id}" / f"day={day}"


def _write_partitions(
    con: duckdb.DuckDBPyConnection, settings: Settings
) -> tuple[list[tuple[str, str]], int, Path, Path]:
    partitions = [
        (str(s), str(d))
        for s, d in con.execute("SELECT DISTINCT series_id, day FROM ev").fetchall()
    ]
    existing = [
        str(f)
        for series_id, day in partitions
        for f in _partition_dir(settings, series_id, day).glob("*.parquet")
    ]
    columns = ", ".join(f'"{name}"' for name in COLUMNS)
    before = 0
    if existing:
        con.execute(
            f"CREATE TABLE merged AS SELECT DISTINCT * FROM (SELECT {columns} FROM ev "
            f"UNION ALL SELECT {columns} FROM {parquet_source(existing)})"
        )
        row = con.execute(f"SELECT count(*) FROM {parquet_source(existing)}").fetchone()
        before = int(row[0]) if row else 0
    else:
        con.execute(f"CREATE TABLE merged AS SELECT DISTINCT {columns} FROM ev")
    after_row = con.execute("SELECT count(*) FROM merged").fetchone()
    inserted = (int(after_row[0]) if after_row else 0) - before
    staged = Path(tempfile.mkdtemp(prefix=".staged-", dir=settings.events_path))
    backup = Path(tempfile.mkdtemp(prefix=".backup-", dir=settings.events_path))
    con.execute(
        f"COPY merged TO {_sql_str(str(staged))} (FORMAT parquet, COMPRESSION zstd, "
        "PARTITION_BY (series_id, day), FILENAME_PATTERN 'part-{i}')"
    )
    con.execute("DROP TABLE merged")
    for series_id, day in partitions:
        live = _partition_dir(settings, series_id, day)
        new = staged / f"series_id={series_id}" / f"day={day}"
        if live.exists():
            (backup / f"series_id={series_id}").mkdir(exist_ok=True)
            os.replace(live, backup / f"series_id={series_id}" / f"day={day}")
        live.parent.mkdir(parents=True, exist_ok=True)
        os.replace(new, live)
    return partitions, inserted, backup, staged


def _restore(settings: Settings, partitions: list[tuple[str, str]], backup: Path) -> None:
    for series_id, day in partitions:
        live = _partition_dir(settings, series_id, day)
        saved = backup / f"series_id={series_id}" / f"day={day}"
        shutil.rmtree(live, ignore_errors=True)
        if saved.exists():
            os.replace(saved, live)
    shutil.rmtree(backup, ignore_errors=True)


@dataclass
class _Window:
    series_id: str
    episode_id: str
    variant_id: str
    window_start: datetime
    counts: dict[str, Any]
    retention: list[float]


def _aggregate(con: duckdb.DuckDBPyConnection, settings: Settings) -> list[_Window]:
    origin = window_origin(settings)
    con.execute(
        f"CREATE TABLE affected AS SELECT DISTINCT series_id, "
        f"time_bucket(INTERVAL 24 HOUR, ts, {origin}) AS ws FROM ev"
    )
    files: list[str] = []
    for series_id, first, last in con.execute(
        "SELECT series_id, min(ws), max(ws) FROM affected GROUP BY series_id"
    ).fetchall():
        days = []
        day = first.astimezone(UTC).date()
        end = (last + timedelta(hours=24) - timedelta(microseconds=1)).astimezone(UTC).date()
        while day <= end:
            days.append(day.isoformat())
            day += timedelta(days=1)
        files.extend(event_files(settings, series_id, days))
    con.execute("DROP TABLE ev")
    con.execute(
        f"""
        CREATE TABLE w AS SELECT e.*, time_bucket(INTERVAL 24 HOUR, e.ts, {origin}) AS ws
        FROM {parquet_source(files)} e
        SEMI JOIN affected a
          ON a.series_id = e.series_id AND a.ws = time_bucket(INTERVAL 24 HOUR, e.ts, {origin})
        """
    )
    counts = con.execute(
        """
        SELECT series_id, episode_id, variant_id, ws,
            count(*) FILTER (type = 'impression') AS impressions,
            count(*) FILTER (type = 'click') AS clicks,
            count(*) FILTER (type = 'share') AS shares,
            count(*) FILTER (type = 'save') AS saves,
            count(*) FILTER (type = 'comment') AS comments,
            count(*) FILTER (type = 'follow') AS follows,
            count(*) FILTER (type = 'purchase') AS conversions,
            coalesce(sum(value) FILTER (type = 'purchase'), 0) AS revenue
        FROM w GROUP BY ALL
        """
    ).fetchall()
    # Each starter's furthest second: a `complete` counts as the whole runtime.
    con.execute(
        """
        CREATE TABLE viewers AS SELECT w.series_id, w.episode_id, w.variant_id, w.ws,
            least(max(CASE w.type WHEN 'complete' THEN k.runtime_s
                                  WHEN 'progress' THEN w.position_s ELSE 0 END),
                  k.runtime_s) AS furthest,
            bool_or(w.type = 'complete') AS completed
        FROM w JOIN known k ON k.series_id = w.series_id AND k.episode_id = w.episode_id
        WHERE w.type IN ('play', 'progress', 'complete')
        GROUP BY w.series_id, w.episode_id, w.variant_id, w.ws, w.viewer_id, k.runtime_s
        """
    )
    starters = {
        (s, e, v, ws): (int(n), int(c), float(avg or 0.0))
        for s, e, v, ws, n, c, avg in con.execute(
            "SELECT series_id, episode_id, variant_id, ws, count(*), "
            "count(*) FILTER (completed), avg(furthest) FROM viewers GROUP BY ALL"
        ).fetchall()
    }
    histogram: dict[tuple[Any, ...], dict[int, int]] = {}
    for s, e, v, ws, second, n in con.execute(
        "SELECT series_id, episode_id, variant_id, ws, floor(furthest)::INTEGER, count(*) "
        "FROM viewers GROUP BY ALL"
    ).fetchall():
        histogram.setdefault((s, e, v, ws), {})[int(second)] = int(n)
    runtimes = {(s, e): r for s, e, r in con.execute("SELECT * FROM known").fetchall()}
    con.execute("DROP TABLE viewers")
    con.execute("DROP TABLE w")
    con.execute("DROP TABLE affected")

    windows = []
    for s, e, v, ws, imp, clk, shr, sav, com, fol, conv, rev in counts:
        key = (s, e, v, ws)
        n, completed, avg = starters.get(key, (0, 0, 0.0))
        windows.append(
            _Window(
                series_id=s,
                episode_id=e,
                variant_id=v,
                window_start=ws.astimezone(UTC),
                counts={
                    "impressions": int(imp),
                    "clicks": int(clk),
                    "views": n,
                    "completions": completed,
                    "shares": int(shr),
                    "saves": int(sav),
                    "comments": int(com),
                    "follows": int(fol),
                    "conversions": int(conv),
                    "revenue": round(float(rev), 4),
                    "avg_view_s": round(avg, 3),
                },
                retention=retention_curve(histogram.get(key, {}), n, runtimes[(s, e)]),
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


def _store_windows(session: Session, windows: list[_Window]) -> None:
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
