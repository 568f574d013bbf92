"""Validating the rows read: one GROUP BY decides, the first bad row is named.

A per-row ``_bad`` flag (from the read) plus one small GROUP BY decide whether the file
is valid; only when it is not is the first bad row looked at field by field, with the
original per-field rules, and reported with its line, field and value.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.compute as pc
from sqlmodel import Session, select

from writers_room.errors import InputError
from writers_room.ingest.events.reading import raw_source
from writers_room.ingest.events.schema import (
    COUNTS,
    EVENT_TYPES,
    FALSE_WORDS,
    TRUE_WORDS,
    equals,
    ws_us,
)
from writers_room.ingest.readers import iter_rows
from writers_room.store.models import BriefVersion, Episode


def known_episodes(session: Session) -> list[tuple[str, str, float]]:
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
    {{rid}}::BIGINT AS rid, *,
    CASE WHEN regexp_full_match(trim(ts), '-?[0-9]{{{{1,16}}}}')
         THEN epoch_ms(TRY_CAST(trim(ts) AS BIGINT))::TIMESTAMPTZ
         ELSE TRY_CAST(trim(ts) AS TIMESTAMPTZ) END AS ts_p,
    TRY_CAST(nullif(trim(position_s), '') AS DOUBLE) AS pos_p,
    TRY_CAST(nullif(trim(value), '') AS DOUBLE) AS val_p,
    CASE WHEN lower(trim(coalesce("returning", ''))) IN {TRUE_WORDS} THEN true
         WHEN lower(trim(coalesce("returning", ''))) IN {FALSE_WORDS} THEN false END AS ret_p
FROM ({{raw}}) LIMIT 1 OFFSET {{rid}}
"""

_FIRST_ERROR = f"""
SELECT rid, field, value FROM (
  SELECT p.rid,
    CASE
      WHEN coalesce(trim(p.ts), '') = '' OR p.ts_p IS NULL OR NOT isfinite(p.ts_p) THEN 'ts'
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


@dataclass(frozen=True)
class Summary:
    """What a valid file touches: (series, day, day start µs) and (series, window µs)."""

    partitions: list[tuple[str, str, int]]
    windows: set[tuple[str, int]]


def validate(
    con: duckdb.DuckDBPyConnection,
    path: Path,
    fmt: str,
    fresh: pa.Table,
    known_rows: list[tuple[str, str, float]],
    origin_us: int,
) -> Summary:
    """Raise an InputError naming the first bad row; else what the file touches.

    One GROUP BY over the rows decides validity (bad rows per group, and the distinct
    series/episode pairs checked against the registry) and, in the same scan, counts
    each window's events (``file_groups``), which is what the windows need when nothing
    else is mixed in (see windows.aggregate_windows).
    """
    con.register("fresh", fresh)
    con.execute(
        f"""
        CREATE TEMP TABLE file_groups AS
        SELECT series_id::VARCHAR AS series_id, episode_id::VARCHAR AS episode_id, variant_id,
               {ws_us(0)} AS day_us, {ws_us(origin_us)} AS ws, min(ts) AS first_ts,
               count(*) AS n, count(*) FILTER (_bad) AS bad, {COUNTS}
        FROM fresh GROUP BY ALL
        """
    )
    pairs = con.execute(
        "SELECT series_id, episode_id, sum(n), sum(bad) FROM file_groups GROUP BY ALL"
    ).fetchall()
    known_pairs = {(s, e) for s, e, _ in known_rows}
    unpaired: set[tuple[str | None, str | None]] = {
        (s, e)
        for s, e, _, _ in pairs
        if s is not None and e is not None and (s, e) not in known_pairs
    }
    bad = sum(int(n) if (s, e) not in known_pairs else int(b) for s, e, n, b in pairs)
    if bad:
        _raise_first_error(con, path, fmt, fresh, unpaired, known_rows, bad)
    partitions = [
        (str(s), str(day), int(day_us))
        for s, day_us, day in con.execute(
            "SELECT series_id, day_us, strftime(min(first_ts), '%Y-%m-%d') "
            "FROM file_groups GROUP BY ALL ORDER BY ALL"
        ).fetchall()
    ]
    windows = {
        (str(s), int(ws))
        for s, ws in con.execute("SELECT DISTINCT series_id, ws FROM file_groups").fetchall()
    }
    return Summary(partitions, windows)


def _raise_first_error(
    con: duckdb.DuckDBPyConnection,
    path: Path,
    fmt: str,
    fresh: pa.Table,
    unpaired: set[tuple[str | None, str | None]],
    known_rows: list[tuple[str, str, float]],
    bad: int,
) -> None:
    mask = fresh.column("_bad")
    for series_id, episode_id in unpaired:
        assert series_id is not None and episode_id is not None
        pair = pc.and_(
            equals(fresh.column("series_id"), series_id),
            equals(fresh.column("episode_id"), episode_id),
        )
        mask = pc.or_(mask, pair)
    rid = pc.index(mask, True).as_py()
    # Only this row is examined field by field, with the original per-field rules.
    con.execute(_PARSED.format(rid=rid, raw=raw_source(con, path, fmt)))
    first = con.execute(f"{_FIRST_ERROR} LIMIT 1").fetchone()
    assert first is not None, f"row {rid} was flagged but has no bad field"
    _, field_name, value = first
    line = _line_of(path, int(rid))
    reason = _REASONS[field_name]
    if field_name == "episode_id" and (value or "").strip():
        series_row = con.execute("SELECT trim(series_id) FROM parsed").fetchone()
        series_id = series_row[0] if series_row else ""
        if series_id in {s for s, _, _ in known_rows}:
            reason = f"is not an episode of series {series_id!r}"
        else:
            reason = f"belongs to series {series_id!r}, which is not registered"
        reason += " (register it with `writers-room series add`)"
    more = f" ({bad - 1} more row(s) have errors)" if bad > 1 else ""
    raise InputError(
        f"{path}:{line}: field {field_name!r} {reason} (value {value!r}){more}; "
        "nothing from this file was stored",
        file=str(path),
        line=line,
        field=field_name,
        value=value,
    )
