"""Parquet partitions: write a file's rows, put old ones back, hash stored viewer ids.

Events live in ``<home>/events/series_id=<id>/day=<YYYY-MM-DD>/part-0.parquet`` (zstd,
written by pyarrow partition by partition). Each affected partition holds the distinct
union of what it had and what arrived, which makes re-ingesting the same rows a no-op;
the new partitions are staged beside the live ones and swapped in with renames, the old
ones kept in a backup until the windows are stored (:func:`restore_partitions` puts them
back). Reading the partitions is :mod:`writers_room.store.events`.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import shutil
import tempfile
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from writers_room.config import Settings
from writers_room.ingest.events.schema import (
    DATA_COLUMNS,
    DAY_US,
    EPOCH,
    PARQUET_COLUMNS,
    equals,
    quoted,
    sql_str,
)
from writers_room.ingest.redact import VIEWER_PREFIX
from writers_room.store.events import connect, parquet_source

# In the events folder once every stored viewer id is a keyed hash (see rehash_viewers).
HASHED_MARKER = ".viewers-hashed"
# Columns with min/max statistics in the Parquet files: the ones readers filter on.
_STATS_COLUMNS = ("ts", "episode_id", "type", "position_s", "value", "returning")


@contextmanager
def events_lock(settings: Settings) -> Iterator[None]:
    settings.events_path.mkdir(parents=True, exist_ok=True)
    fd = os.open(settings.events_path / ".lock", os.O_CREAT | os.O_RDWR, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        fcntl.flock(fd, fcntl.LOCK_UN)
        os.close(fd)


def _partition_dir(settings: Settings, series_id: str, day: str) -> Path:
    return settings.events_path / f"series_id={series_id}" / f"day={day}"


def _write_parquet(rows: pa.Table, path: Path) -> None:
    # Viewer ids barely repeat within a file: building a dictionary for them is wasted
    # work (and zstd makes the plain pages smaller than the dictionary ones). Min/max
    # statistics only where readers filter (time, episode, type, numbers): on the
    # free-text ids they cost a quarter of the write and prune nothing.
    pq.write_table(
        rows,
        path,
        compression="zstd",
        use_dictionary=[name for name in rows.column_names if name != "viewer_id"],
        write_statistics=[name for name in _STATS_COLUMNS if name in rows.column_names],
    )


def viewer_hash_sql(column: str, key: bytes) -> str:
    """SQL computing :func:`writers_room.ingest.redact.viewer_hash` of a text column.

    HMAC-SHA256 spelled out with DuckDB's ``sha256`` (the key padded to the 64-byte block,
    XORed with the inner and outer pads), so millions of ids hash on all cores.
    """
    block = (key if len(key) <= 64 else hashlib.sha256(key).digest()).ljust(64, b"\0")
    inner = bytes(b ^ 0x36 for b in block).hex()
    outer = bytes(b ^ 0x5C for b in block).hex()
    return (
        f"({sql_str(VIEWER_PREFIX)} || left(sha256(unhex('{outer}') || "
        f"unhex(sha256(unhex('{inner}') || encode({column})))), 32))"
    )


def hash_viewers(con: duckdb.DuckDBPyConnection, table: pa.Table, key: bytes) -> pa.Table:
    """``table`` with its raw ``viewer_id`` values replaced by their keyed hashes.

    Values already hashed (``vh:`` and 32 hex digits) are kept, so hashing is idempotent.
    """
    con.register("_viewers", table.select(["viewer_id"]))
    hashed = con.sql(
        "SELECT CASE WHEN regexp_full_match(viewer_id, 'vh:[0-9a-f]{32}') THEN viewer_id "
        f"ELSE {viewer_hash_sql('viewer_id', key)} END AS viewer_id FROM _viewers"
    ).to_arrow_table()
    con.unregister("_viewers")
    index = table.column_names.index("viewer_id")
    column = hashed.column("viewer_id").cast(table.schema.field("viewer_id").type)
    return table.set_column(index, table.schema.field("viewer_id"), column)


@dataclass(frozen=True)
class RehashResult:
    partitions: int  # Parquet files looked at
    rewritten: int  # files that held raw viewer ids
    rows: int  # rows in all files (the same before and after)
    raw_ids: int  # raw viewer ids replaced by their hashes


def rehash_viewers(settings: Settings) -> RehashResult:
    """Replace raw viewer ids in stored event partitions by their keyed hashes.

    Each file is rewritten beside itself and swapped in with one rename, only after its
    row count and its rows other than the viewer id are checked equal; files already
    hashed are left alone, so a run cut short is finished by the next one (and by the
    next ``ingest events``, which runs this until a whole pass is done).
    """
    rewritten = rows = raw = 0
    files: list[Path] = []
    with events_lock(settings):
        files = sorted(settings.events_path.glob("series_id=*/day=*/*.parquet"))
        con = connect(settings)
        try:
            for file in files:
                table = pq.read_table(file, partitioning=None)
                rows += table.num_rows
                viewers = table.column("viewer_id")
                unhashed = pc.invert(
                    pc.fill_null(pc.match_substring_regex(viewers, r"^vh:[0-9a-f]{32}$"), True)
                )
                count = pc.sum(unhashed).as_py() or 0
                if not count:
                    continue
                hashed = hash_viewers(con, table, settings.author_key)
                if hashed.num_rows != table.num_rows or not hashed.drop_columns(
                    ["viewer_id"]
                ).equals(table.drop_columns(["viewer_id"])):
                    raise RuntimeError(f"{file}: rehashing changed more than the viewer ids")
                tmp = file.with_name(f".{file.name}.{os.getpid()}.tmp")
                try:
                    _write_parquet(hashed, tmp)
                    if pq.read_metadata(tmp).num_rows != table.num_rows:
                        raise RuntimeError(f"{tmp}: the rewritten file lost rows")
                    os.replace(tmp, file)
                finally:
                    tmp.unlink(missing_ok=True)
                rewritten += 1
                raw += int(count)
        finally:
            con.close()
        marker = settings.events_path / HASHED_MARKER
        marker.write_text("viewer ids are stored as vh: + HMAC-SHA256 under the room key\n")
    return RehashResult(partitions=len(files), rewritten=rewritten, rows=rows, raw_ids=raw)


def repeated_hashes(fresh: pa.Table) -> np.ndarray:
    """The ``_h`` values (hash of time and viewer) that occur more than once.

    Equal rows have equal ``_h``, so only rows whose ``_h`` repeats can be duplicates:
    sorting 8-byte hashes (numpy, GIL released, so it runs beside the validation query) is
    far cheaper than hashing whole rows into a table, and usually nothing repeats at all.
    """
    ordered = np.sort(fresh.column("_h").to_numpy())
    return np.unique(ordered[1:][ordered[1:] == ordered[:-1]])


def _distinct(con: duckdb.DuckDBPyConnection, fresh: pa.Table, repeated: np.ndarray) -> pa.Table:
    """The file's distinct rows: an exact DISTINCT over the few rows whose hash repeats."""
    if not len(repeated):
        return fresh
    suspect = pa.array(np.isin(fresh.column("_h").to_numpy(), repeated))
    maybe = fresh.filter(suspect)
    con.register("maybe", maybe)
    columns = ", ".join(quoted(name) for name in fresh.column_names)
    unique = con.sql(f"SELECT DISTINCT {columns} FROM maybe").to_arrow_table()
    con.unregister("maybe")
    return pa.concat_tables([fresh.filter(pc.invert(suspect)), unique.cast(fresh.schema)])


def write_partitions(
    con: duckdb.DuckDBPyConnection,
    settings: Settings,
    fresh: pa.Table,
    repeated: Future[np.ndarray],
    partitions: list[tuple[str, str, int]],
) -> tuple[pa.Table, bool, int, Path, Path]:
    existing = [
        str(f)
        for series_id, day, _ in partitions
        for f in _partition_dir(settings, series_id, day).glob("*.parquet")
    ]
    if existing:
        # Rows already stored for these days: the distinct union of both (rare; re-ingest
        # or late events), done by DuckDB with plain text columns.
        data = ", ".join(
            f"{quoted(n)}::VARCHAR AS {quoted(n)}"
            if n in ("series_id", "episode_id", "type")
            else quoted(n)
            for n in DATA_COLUMNS
        )
        columns = ", ".join(quoted(n) for n in DATA_COLUMNS)
        con.register("fresh", fresh)
        stored = con.sql(
            f"SELECT DISTINCT * FROM (SELECT {data} FROM fresh "
            f"UNION ALL SELECT {columns} FROM {parquet_source(existing)})"
        ).to_arrow_table()
        con.unregister("fresh")
        row = con.execute(f"SELECT count(*) FROM {parquet_source(existing)}").fetchone()
        before = int(row[0]) if row else 0
    else:
        stored = _distinct(con, fresh, repeated.result())
        before = 0
    inserted = stored.num_rows - before
    staged = Path(tempfile.mkdtemp(prefix=".staged-", dir=settings.events_path))
    backup = Path(tempfile.mkdtemp(prefix=".backup-", dir=settings.events_path))

    def write(partition: tuple[str, str, int]) -> None:
        series_id, day, day_us = partition
        start = pa.scalar(EPOCH + timedelta(microseconds=day_us), stored.schema.field("ts").type)
        end = pa.scalar(
            EPOCH + timedelta(microseconds=day_us + DAY_US), stored.schema.field("ts").type
        )
        ts = stored.column("ts")
        mask = pc.and_(
            equals(stored.column("series_id"), series_id),
            pc.and_(pc.greater_equal(ts, start), pc.less(ts, end)),
        )
        rows = stored.filter(mask).select(list(PARQUET_COLUMNS))
        folder = staged / f"series_id={series_id}" / f"day={day}"
        folder.mkdir(parents=True)
        # Viewer ids barely repeat within a file: building a dictionary for them is wasted
        # work (and zstd makes the plain pages smaller than the dictionary ones). Min/max
        # statistics only where readers filter (time, episode, type, numbers): on the
        # free-text ids they cost a quarter of the write and prune nothing.
        _write_parquet(rows, folder / "part-0.parquet")

    # pyarrow encodes a file on one thread; partitions go in parallel. (DuckDB's
    # partitioned COPY spent 2-3x the CPU on the same rows.)
    with ThreadPoolExecutor(max_workers=os.cpu_count() or 1) as pool:
        list(pool.map(write, partitions))
    for series_id, day, _ in partitions:
        live = _partition_dir(settings, series_id, day)
        new = staged / f"series_id={series_id}" / f"day={day}"
        if live.exists():
            (backup / f"series_id={series_id}").mkdir(exist_ok=True)
            os.replace(live, backup / f"series_id={series_id}" / f"day={day}")
        live.parent.mkdir(parents=True, exist_ok=True)
        os.replace(new, live)
    return stored, bool(existing), inserted, backup, staged


def restore_partitions(settings: Settings, partitions: list[tuple[str, str]], backup: Path) -> None:
    for series_id, day in partitions:
        live = _partition_dir(settings, series_id, day)
        saved = backup / f"series_id={series_id}" / f"day={day}"
        shutil.rmtree(live, ignore_errors=True)
        if saved.exists():
            os.replace(saved, live)
    shutil.rmtree(backup, ignore_errors=True)
