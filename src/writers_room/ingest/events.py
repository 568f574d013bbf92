"""Raw player/distribution events: validate, store as Parquet, aggregate into windows.

Events are the big input (millions a day per series), so they never pass through Python
row by row. DuckDB reads the file once and types and checks every row in the same query,
into one Arrow table that stays in memory until the windows are aggregated; a per-row
``_bad`` flag plus one small GROUP BY decide whether the file is valid, and only when it
is not is the first bad row looked at field by field. The events are written to
``<home>/events/series_id=<id>/day=<YYYY-MM-DD>/`` as zstd Parquet (by pyarrow, partition
by partition). Each affected partition holds the distinct union of what it had and what
arrived, which makes re-ingesting the same rows a no-op. The touched 24-hour windows are
then re-aggregated from the in-memory table (plus the neighbouring partitions a window
straddles) — counts, starters, completions and per-second retention computed per viewer
from ``progress``/``complete`` events — and upserted into the SQL ``metricwindow`` table
in one transaction. If that transaction fails, the old partitions are put back.
"""

from __future__ import annotations

import fcntl
import hashlib
import math
import os
import queue
import shutil
import tempfile
import threading
import time
import zlib
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
from sqlmodel import Session, select

from writers_room.config import Settings
from writers_room.errors import InputError
from writers_room.ingest.readers import detect_format, file_sha256, iter_rows
from writers_room.ingest.redact import VIEWER_PREFIX
from writers_room.ingest.series import variant_kind
from writers_room.store.db import record_ingest, session_scope
from writers_room.store.events import connect, event_files, parquet_source
from writers_room.store.models import BriefVersion, Episode, MetricWindow, Variant

__all__ = [
    "EVENT_TYPES",
    "HASHED_MARKER",
    "EventIngestResult",
    "RehashResult",
    "ingest_events",
    "rehash_viewers",
    "viewer_hash_sql",
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
# What one partition's Parquet file holds: the hive path carries series_id and day.
PARQUET_COLUMNS = tuple(name for name in COLUMNS if name not in ("series_id", "day"))
_DATA = COLUMNS[:-1]
_STATS_COLUMNS = ("ts", "episode_id", "type", "position_s", "value", "returning")
_TRUE = ("true", "1", "yes", "t", "y")
_FALSE = ("false", "0", "no", "f", "n")
_DAY_US = 86_400_000_000
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
# In the events folder once every stored viewer id is a keyed hash (see rehash_viewers).
HASHED_MARKER = ".viewers-hashed"
# Size of the decompressed pieces a .gz file is parsed in (see _Gunzip).
CHUNK_BYTES = 64 << 20

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


def _quoted(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


# -- reading -------------------------------------------------------------------------


def _csv_reader(path: Path | str) -> str:
    return (
        f"read_csv({_sql_str(str(path))}, header=true, all_varchar=true, strict_mode=true, "
        "compression='auto')"
    )


def _json_reader(path: Path | str) -> str:
    columns = ", ".join(f"'{name}': 'VARCHAR'" for name in REQUIRED + OPTIONAL)
    return (
        f"read_json({_sql_str(str(path))}, format='newline_delimited', "
        f"columns={{{columns}}}, compression='auto')"
    )


def _raw_select(reader: str, present: set[str] | None) -> str:
    """The eleven input columns as text; optional ones the file lacks are NULL."""
    if present is None:
        return f"SELECT {', '.join(_quoted(n) for n in REQUIRED + OPTIONAL)} FROM {reader}"
    items = [
        _quoted(n) if n in present else f"NULL::VARCHAR AS {_quoted(n)}"
        for n in REQUIRED + OPTIONAL
    ]
    return f"SELECT {', '.join(items)} FROM {reader}"


def _source(con: duckdb.DuckDBPyConnection, path: Path | str, fmt: str) -> str:
    """A SELECT of the whole file's raw rows, read the way it always has been."""
    if fmt == "csv":
        reader = _csv_reader(path)
        present = {row[0] for row in con.execute(f"DESCRIBE SELECT * FROM {reader}").fetchall()}
        if not present.issuperset(REQUIRED):
            raise _Misread(sorted(present))
        return _raw_select(reader, present)
    return _raw_select(_json_reader(path), None)


class _Misread(Exception):
    """DuckDB's sniffer saw other columns than the header has (rows of uneven width)."""


def _trimmed(col: str, *, upper: bool = False, empty_is_null: bool = False) -> str:
    """``trim(col)`` (optionally upper-cased, '' as NULL) without paying for it per row.

    ``trim`` allocates a new string for every value and costs ~50 ns a row; nearly every
    value is printable ASCII with nothing to strip. The cheap tests below prove that
    (first byte in '!'..0x7f, no trailing space, no multi-byte character — DuckDB's trim
    strips only Unicode space separators), and only the other rows are trimmed.
    """
    exact = f"trim({col})"
    if upper:
        exact = f"upper({exact})"
    if empty_is_null:
        exact = f"nullif({exact}, '')"
    plain = f"{col} < '!' OR {col} >= chr(128) OR {col} LIKE '% ' OR strlen({col}) <> length({col})"
    if upper:
        plain += f" OR {col} <> upper({col})"
    return f"CASE WHEN {plain} THEN {exact} ELSE {col} END"


def _enum_or_trimmed(col: str, enum: str) -> str:
    # Exact match first; padded values get the trim the old per-row code always paid.
    cast = f"TRY_CAST({col} AS {enum})"
    return f"CASE WHEN {cast} IS NOT NULL THEN {cast} ELSE TRY_CAST(trim({col}) AS {enum}) END"


def _number(col: str) -> str:
    # TRY_CAST(nullif(trim(col), '') AS DOUBLE), trimming only where the plain cast fails.
    cast = f"TRY_CAST({col} AS DOUBLE)"
    return (
        f"CASE WHEN {col} IS NULL THEN NULL::DOUBLE WHEN {cast} IS NOT NULL THEN {cast} "
        f"ELSE TRY_CAST(nullif(trim({col}), '') AS DOUBLE) END"
    )


# A typed row that lacks what every event needs (both reads flag it as bad).
_MISSING = """
        ts IS NULL OR NOT isfinite(ts)
        OR series_id IS NULL OR episode_id IS NULL
        OR variant_id IS NULL OR viewer_id IS NULL OR type IS NULL
        OR (type = 'progress' AND position_s IS NULL)
"""


def _typed_sql(raw: str) -> str:
    """Type every row and flag the ones with a bad field, in the same pass as the read.

    Each cast tries the untrimmed value first and falls back to the exact old expression
    (trim, epoch milliseconds) only where that fails: the casts skip ASCII whitespace and
    a digits-only string never parses as a timestamp, so the result is the same. (CASE,
    not ``coalesce``: DuckDB evaluated every argument of ``coalesce`` on every row, which
    cost ~2.5 s of CPU on 10M rows.) Series, episode and type become ENUMs of the
    registered values — unknown ones are NULL and so flagged — which also makes the Arrow
    columns dictionary-encoded (small, and cheap to group on and to write). Empty ids
    become NULL: a row with one is never stored. ``_h`` (a hash of time and viewer) finds
    the candidates for duplicate rows.
    """
    typed = f"""
        SELECT
            CASE WHEN TRY_CAST(ts AS TIMESTAMPTZ) IS NOT NULL THEN TRY_CAST(ts AS TIMESTAMPTZ)
                 WHEN regexp_full_match(trim(ts), '-?[0-9]{{1,16}}')
                 THEN epoch_ms(TRY_CAST(trim(ts) AS BIGINT))::TIMESTAMPTZ
                 ELSE TRY_CAST(trim(ts) AS TIMESTAMPTZ) END AS ts,
            {_enum_or_trimmed("series_id", "wr_series")} AS series_id,
            {_enum_or_trimmed("episode_id", "wr_episode")} AS episode_id,
            {_trimmed("variant_id", empty_is_null=True)} AS variant_id,
            {_trimmed("viewer_id", empty_is_null=True)} AS viewer_id,
            {_enum_or_trimmed("type", "wr_event")} AS type,
            {_number("position_s")} AS position_s,
            {_number("value")} AS value,
            {_trimmed("platform", empty_is_null=True)} AS platform,
            {_trimmed("country", upper=True, empty_is_null=True)} AS country,
            CASE "returning" WHEN 'true' THEN true WHEN 'false' THEN false ELSE
                CASE WHEN lower(trim("returning")) IN {_TRUE} THEN true
                     WHEN lower(trim("returning")) IN {_FALSE} THEN false END
            END AS "returning",
            position_s AS _p, value AS _v, "returning" AS _r
        FROM ({raw})
    """
    # The same conditions as _FIRST_ERROR, less the (series, episode) pairing, which is
    # checked on the distinct pairs. CASE keeps the trims to the rows that need them.
    bad = f"""
        {_MISSING}
        OR CASE WHEN position_s IS NOT NULL THEN position_s < 0 OR isnan(position_s)
                ELSE coalesce(trim(_p), '') <> '' END
        OR CASE WHEN value IS NOT NULL THEN isnan(value)
                ELSE coalesce(trim(_v), '') <> '' END
        OR CASE WHEN "returning" IS NULL THEN coalesce(trim(_r), '') <> '' ELSE false END
    """
    columns = ", ".join(_quoted(n) for n in _DATA)
    return (
        f"SELECT {columns}, coalesce({bad}, true) AS _bad, hash(ts, viewer_id) AS _h FROM ({typed})"
    )


class _Unchunkable(Exception):
    """The chunked read cannot stand in for the whole-file read; do that instead."""


class _Corrupt(Exception):
    """The .gz file itself is broken (cut short, bad data): no reader can read it."""


class _Chunk:
    """One decompressed piece of the file, as a file DuckDB can open by name.

    On Linux it is an anonymous in-memory file (memfd, opened as /proc/self/fd/N):
    written to a real file, the pieces of a 1 GB input cost ~2 s of kernel time.
    """

    def __init__(self, folder: Path, index: int) -> None:
        self.fd: int | None = None
        if hasattr(os, "memfd_create") and os.path.isdir("/proc/self/fd"):
            self.fd = os.memfd_create(f"events-chunk-{index}")
            self.path = f"/proc/self/fd/{self.fd}"
            self._file = open(self.fd, "wb", closefd=False)  # noqa: SIM115 - closed in finish
        else:
            self.path = str(folder / f"chunk-{index:05d}")
            self._file = open(self.path, "wb")  # noqa: SIM115 - closed in finish
        self.size = 0
        self.quotes = 0

    def write(self, data: bytes | memoryview) -> None:
        self._file.write(data)
        self.size += len(data)

    def finish(self) -> _Chunk:
        self._file.close()
        return self

    def discard(self) -> None:
        self._file.close()
        if self.fd is not None:
            os.close(self.fd)
        else:
            Path(self.path).unlink(missing_ok=True)


def _inflater() -> Any:
    """A gzip stream decompressor: ISA-L's (~5x faster than zlib here) where installed."""
    try:
        from isal import isal_zlib
    except ImportError:  # pragma: no cover - isal ships wheels for the usual platforms
        return zlib.decompressobj(wbits=31)
    return isal_zlib.decompressobj(wbits=31)


class _Gunzip:
    """Inflates a .gz file on a background thread into line-aligned chunks.

    DuckDB reads a compressed file on one thread, and everything downstream of that scan
    (parsing, typing) runs on the same thread. Inflating here (zlib releases the GIL)
    while DuckDB parses the previous chunk with all its threads keeps both cores busy.
    CSV chunks are cut only at a newline outside quotes (an even count of '"' before it);
    the sha256 of the file comes for free from the same read.
    """

    def __init__(self, path: Path, folder: Path, *, quoted: bool) -> None:
        self.path = path
        self.folder = folder
        self.quoted = quoted
        self.digest = hashlib.sha256()
        self._queue: queue.Queue[_Chunk | BaseException | None] = queue.Queue(maxsize=2)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="events-gunzip", daemon=True)
        self._thread.start()

    def _inflate(self) -> Iterator[bytes]:
        with open(self.path, "rb") as handle:
            inflater = _inflater()
            while block := handle.read(1 << 20):
                self.digest.update(block)
                while block:
                    if inflater.eof:  # a gzip file may hold several members
                        inflater = _inflater()
                    try:
                        piece = inflater.decompress(block)
                    except Exception as exc:  # zlib.error or ISA-L's own error class
                        raise _Corrupt(f"not a valid gzip stream ({exc})") from None
                    yield piece
                    block = inflater.unused_data if inflater.eof else b""
            if not inflater.eof:
                raise _Corrupt("the compressed file is cut short")

    def _run(self) -> None:
        chunk: _Chunk | None = None
        try:
            index = 0
            chunk = _Chunk(self.folder, index)
            for piece in self._inflate():
                if self._stop.is_set():
                    return
                cut = 0
                if chunk.size + len(piece) >= CHUNK_BYTES:
                    cut = piece.rfind(b"\n") + 1
                    head = piece.count(b'"', 0, cut) if self.quoted else 0
                    if cut and (chunk.quotes + head) % 2:
                        cut = 0  # that newline is inside a quoted value: try the next piece
                if cut:
                    with memoryview(piece) as view:
                        chunk.write(view[:cut])
                        self._put(chunk.finish())
                        index += 1
                        chunk = _Chunk(self.folder, index)
                        chunk.write(view[cut:])
                    chunk.quotes = piece.count(b'"', cut) if self.quoted else 0
                else:
                    chunk.write(piece)
                    chunk.quotes += piece.count(b'"') if self.quoted else 0
            self._put(chunk.finish())
            chunk = None
            self._put(None)
        except BaseException as exc:  # handed to the reading thread
            self._put(exc)
        finally:
            if chunk is not None and self._stop.is_set():
                chunk.discard()

    def _put(self, item: _Chunk | BaseException | None) -> None:
        while not self._stop.is_set():
            try:
                self._queue.put(item, timeout=0.1)
                return
            except queue.Full:
                continue
        if isinstance(item, _Chunk):
            item.discard()

    def __iter__(self) -> Iterator[_Chunk]:
        while True:
            item = self._queue.get()
            if item is None:
                return
            if isinstance(item, _Corrupt):
                raise item
            if isinstance(item, BaseException):
                raise _Unchunkable(str(item)) from item
            yield item

    def close(self) -> None:
        self._stop.set()
        while self._thread.is_alive() or not self._queue.empty():
            try:
                item = self._queue.get(timeout=0.1)
            except queue.Empty:
                continue
            if isinstance(item, _Chunk):
                item.discard()
        self._thread.join()


def _csv_dialect(con: duckdb.DuckDBPyConnection, first: str) -> tuple[list[str], str]:
    """The header's column names and the dialect options sniffed from the first chunk.

    The whole-file reader sniffs the start of the file, which is the first chunk; the
    others have no header and must not be sniffed on their own.
    """
    row = con.execute(
        "SELECT Delimiter, Quote, Escape, NewLineDelimiter, Comment "
        f"FROM sniff_csv({_sql_str(str(first))}, header=true, all_varchar=true, "
        "strict_mode=true)"
    ).fetchone()
    assert row is not None
    delim, quote, escape, newline, comment = (
        "" if value == "(empty)" else str(value) for value in row
    )
    if quote not in ("", '"') or escape not in ("", '"'):
        raise _Unchunkable(f"quote {quote!r} / escape {escape!r}: chunks may split a value")
    names = [r[0] for r in con.execute(f"DESCRIBE SELECT * FROM {_csv_reader(first)}").fetchall()]
    if not set(names).issuperset(REQUIRED):
        raise _Misread(sorted(names))
    options = (
        f"auto_detect=false, strict_mode=true, delim={_sql_str(delim)}, "
        f"quote={_sql_str(quote)}, escape={_sql_str(escape)}, "
        f"new_line={_sql_str(newline)}, comment={_sql_str(comment)}"
    )
    return names, options


def _sniffed_csv_reader(con: duckdb.DuckDBPyConnection, first: str) -> Callable[[str], str]:
    """How to read the chunks after the first as text, with the first chunk's dialect."""
    names, options = _csv_dialect(con, first)
    columns = ", ".join(f"{_sql_str(name)}: 'VARCHAR'" for name in names)
    present = set(names)
    return lambda chunk: _raw_select(
        f"read_csv({_sql_str(str(chunk))}, header=false, columns={{{columns}}}, {options})",
        present,
    )


# -- the fast path -------------------------------------------------------------------
#
# Nearly every file is plain: ISO timestamps, registered ids, numbers and booleans the
# CSV reader types itself, and ids with nothing to trim. For such a file, the reader's
# own typed columns give exactly what _typed_sql computes from text, at a third of the
# CPU. Whatever the fast path cannot vouch for (a value the reader cannot type, an id
# that _typed_sql would trim, empty or upper-case) makes it give up, and the file is read
# again the careful way. Bad rows it can vouch for (a negative position) it flags as
# _typed_sql does, so they are reported the usual way.

_FAST_TYPES = {
    "ts": "TIMESTAMPTZ",
    "series_id": "wr_series",
    "episode_id": "wr_episode",
    "variant_id": "VARCHAR",
    "viewer_id": "VARCHAR",
    "type": "wr_event",
    "position_s": "DOUBLE",
    "value": "DOUBLE",
    "platform": "VARCHAR",
    "country": "VARCHAR",
    "returning": "BOOLEAN",
}
_FAST_TEXT = ("variant_id", "viewer_id", "platform", "country")


class _NotPlain(Exception):
    """The fast path cannot vouch for this file: read it the careful way."""


def _fast_reader(names: list[str], options: str) -> Callable[[str, bool], str]:
    """A typed SELECT of a chunk (with or without the header line), flagged like
    _typed_sql's."""
    columns = ", ".join(
        f"{_sql_str(name)}: {_sql_str(_FAST_TYPES.get(name, 'VARCHAR'))}" for name in names
    )
    items = [_quoted(n) if n in names else f"NULL::{_FAST_TYPES[n]} AS {_quoted(n)}" for n in _DATA]
    bad = f"""
        {_MISSING}
        OR coalesce(position_s < 0 OR isnan(position_s), false)
        OR coalesce(isnan(value), false)
    """

    def select(chunk: str, header: bool) -> str:
        reader = (
            f"read_csv({_sql_str(chunk)}, header={str(header).lower()}, "
            f"columns={{{columns}}}, {options})"
        )
        return (
            f"SELECT {', '.join(items)}, ({bad}) AS _bad, hash(ts, viewer_id) AS _h FROM {reader}"
        )

    return select


def _check_plain(table: pa.Table) -> None:
    """Raise _NotPlain where _typed_sql would change a text value: an empty string
    (NULL there), anything to trim (a first or last byte outside '!'..'~', a superset
    of what trim strips), or a country with lower-case or non-ASCII letters."""
    for name in _FAST_TEXT:
        for chunk in table.column(name).chunks:
            if len(chunk) == chunk.null_count:
                continue
            _, offsets_buf, data_buf = chunk.buffers()
            offsets = np.frombuffer(offsets_buf, dtype=np.int32)[
                chunk.offset : chunk.offset + len(chunk) + 1
            ]
            data = np.frombuffer(data_buf, dtype=np.uint8) if data_buf else np.empty(0, np.uint8)
            lengths = np.diff(offsets)
            if int(np.count_nonzero(lengths == 0)) > chunk.null_count:
                raise _NotPlain(f"an empty {name}")
            valid = lengths > 0
            first = data[offsets[:-1][valid]]
            last = data[offsets[1:][valid] - 1]
            if ((first < 0x21) | (first > 0x7E) | (last < 0x21) | (last > 0x7E)).any():
                raise _NotPlain(f"a {name} to trim")
            if name == "country":
                used = data[offsets[0] : offsets[-1]]
                if (((used >= 0x61) & (used <= 0x7A)) | (used > 0x7E)).any():
                    raise _NotPlain("a country not in upper case")


def _read_chunked(
    con: duckdb.DuckDBPyConnection, path: Path, fmt: str, work: Path, *, fast: bool
) -> tuple[pa.Table, str]:
    chunks = _Gunzip(path, work, quoted=fmt == "csv")
    parts = []
    later: Callable[[str], str] | None = None
    typed: Callable[[str, bool], str] | None = None
    try:
        for chunk in chunks:
            try:
                if fast:
                    if typed is None:
                        typed = _fast_reader(*_csv_dialect(con, chunk.path))
                        sql = typed(chunk.path, True)
                    else:
                        sql = typed(chunk.path, False)
                    part = con.sql(sql).to_arrow_table()
                    _check_plain(part)
                    parts.append(part)
                    continue
                if fmt == "jsonl":
                    raw = _raw_select(_json_reader(chunk.path), None)
                elif later is None:
                    raw = _source(con, chunk.path, fmt)
                    later = _sniffed_csv_reader(con, chunk.path)
                else:
                    raw = later(chunk.path)
                parts.append(con.sql(_typed_sql(raw)).to_arrow_table())
            finally:
                chunk.discard()
    except (duckdb.Error, _Misread) as exc:
        if fast:
            raise _NotPlain(str(exc)) from exc
        # Whatever is wrong, the whole-file read names it the way it always has.
        raise _Unchunkable(str(exc)) from exc
    finally:
        chunks.close()
    return pa.concat_tables(parts), chunks.digest.hexdigest()


def _read_fast(
    con: duckdb.DuckDBPyConnection, path: Path, gzipped: bool, work: Path
) -> tuple[pa.Table, str | None]:
    """The fast path's read of a CSV file (raises _NotPlain where it cannot vouch)."""
    if gzipped:
        try:
            return _read_chunked(con, path, "csv", work, fast=True)
        except _Unchunkable as exc:
            raise _NotPlain(str(exc)) from exc
    try:
        table = con.sql(_fast_reader(*_csv_dialect(con, str(path)))(str(path), True))
        fresh = table.to_arrow_table()
    except (duckdb.Error, _Misread, _Unchunkable) as exc:
        raise _NotPlain(str(exc)) from exc
    _check_plain(fresh)
    return fresh, None


def _read(
    con: duckdb.DuckDBPyConnection, path: Path, fmt: str, gzipped: bool, work: Path
) -> tuple[pa.Table, str | None]:
    """Every row of the file, typed and flagged; and the file's sha256 when it came free."""
    if fmt == "csv":
        try:
            return _read_fast(con, path, gzipped, work)
        except _NotPlain:
            pass  # the careful read below gives the same rows, or names what is wrong
        except _Corrupt as exc:
            raise InputError(f"{path}: cannot be read ({exc})", file=str(path)) from None
    try:
        if gzipped:
            try:
                return _read_chunked(con, path, fmt, work, fast=False)
            except _Unchunkable:
                pass  # the whole-file read below either fails as it always did, or works
        return con.sql(_typed_sql(_source(con, path, fmt))).to_arrow_table(), None
    except _Corrupt as exc:
        raise InputError(f"{path}: cannot be read ({exc})", file=str(path)) from None
    except duckdb.Error as exc:
        message = str(exc).split("\n", 1)[0]
        raise InputError(f"{path}: cannot be parsed: {message}", file=str(path)) from None
    except _Misread as exc:
        # The streaming reader names the line that is off; the sniffer only gives up.
        for _ in iter_rows(path, required=REQUIRED):
            pass
        raise InputError(
            f"{path}: cannot be parsed: the CSV reader found the column(s) {exc.args[0]}",
            file=str(path),
        ) from None


# -- validating ----------------------------------------------------------------------


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
    {{rid}}::BIGINT AS rid, *,
    CASE WHEN regexp_full_match(trim(ts), '-?[0-9]{{{{1,16}}}}')
         THEN epoch_ms(TRY_CAST(trim(ts) AS BIGINT))::TIMESTAMPTZ
         ELSE TRY_CAST(trim(ts) AS TIMESTAMPTZ) END AS ts_p,
    TRY_CAST(nullif(trim(position_s), '') AS DOUBLE) AS pos_p,
    TRY_CAST(nullif(trim(value), '') AS DOUBLE) AS val_p,
    CASE WHEN lower(trim(coalesce("returning", ''))) IN {_TRUE} THEN true
         WHEN lower(trim(coalesce("returning", ''))) IN {_FALSE} THEN false END AS ret_p
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


def _ws_us(origin_us: int, ts: str = "ts") -> str:
    """Start (epoch µs) of the 24-hour window holding ``ts``: integer floor arithmetic,
    the same as ``time_bucket(INTERVAL 24 HOUR, ts, origin)`` at a fraction of its cost."""
    us = f"epoch_us({ts})"
    return f"({us} - ((({us} - {origin_us}) % {_DAY_US}) + {_DAY_US}) % {_DAY_US})"


def _origin_us(settings: Settings) -> int:
    origin = datetime(2000, 1, 1, settings.window_hour, tzinfo=UTC)
    return (origin - _EPOCH) // timedelta(microseconds=1)


_COUNTS = """
    count(*) FILTER (type = 'impression') AS impressions,
    count(*) FILTER (type = 'click') AS clicks,
    count(*) FILTER (type = 'share') AS shares,
    count(*) FILTER (type = 'save') AS saves,
    count(*) FILTER (type = 'comment') AS comments,
    count(*) FILTER (type = 'follow') AS follows,
    count(*) FILTER (type = 'purchase') AS conversions,
    coalesce(sum(value) FILTER (type = 'purchase'), 0) AS revenue
"""
_COUNT_NAMES = (
    "impressions",
    "clicks",
    "shares",
    "saves",
    "comments",
    "follows",
    "conversions",
    "revenue",
)


@dataclass(frozen=True)
class _Summary:
    """What a valid file touches: (series, day, day start µs) and (series, window µs)."""

    partitions: list[tuple[str, str, int]]
    windows: set[tuple[str, int]]


def _validate(
    con: duckdb.DuckDBPyConnection,
    path: Path,
    fmt: str,
    fresh: pa.Table,
    known_rows: list[tuple[str, str, float]],
    origin_us: int,
) -> _Summary:
    """Raise an InputError naming the first bad row; else what the file touches.

    One GROUP BY over the rows decides validity (bad rows per group, and the distinct
    series/episode pairs checked against the registry) and, in the same scan, counts
    each window's events (``file_groups``), which is what the windows need when nothing
    else is mixed in (see _aggregate).
    """
    con.register("fresh", fresh)
    con.execute(
        f"""
        CREATE TEMP TABLE file_groups AS
        SELECT series_id::VARCHAR AS series_id, episode_id::VARCHAR AS episode_id, variant_id,
               {_ws_us(0)} AS day_us, {_ws_us(origin_us)} AS ws, min(ts) AS first_ts,
               count(*) AS n, count(*) FILTER (_bad) AS bad, {_COUNTS}
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
    return _Summary(partitions, windows)


def _equals(column: pa.ChunkedArray, value: str) -> pa.ChunkedArray:
    """``column == value``; on dictionary chunks compares the indices, not the strings."""
    if not pa.types.is_dictionary(column.type):
        return pc.equal(column, value)
    out = []
    for chunk in column.chunks:
        code = pc.index(chunk.dictionary, value).as_py()
        out.append(pc.equal(chunk.indices, code) if code >= 0 else pa.repeat(False, len(chunk)))
    return pa.chunked_array(out, type=pa.bool_())


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
            _equals(fresh.column("series_id"), series_id),
            _equals(fresh.column("episode_id"), episode_id),
        )
        mask = pc.or_(mask, pair)
    rid = pc.index(mask, True).as_py()
    # Only this row is examined field by field, with the original per-field rules.
    con.execute(_PARSED.format(rid=rid, raw=_source(con, path, fmt)))
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


# -- ingest --------------------------------------------------------------------------


def _ingest_connection(
    settings: Settings, work: Path, known_rows: list[tuple[str, str, float]]
) -> duckdb.DuckDBPyConnection:
    con = connect(settings)
    # The rows live in Arrow, outside DuckDB's buffer pool; what DuckDB itself needs
    # (hash tables, the merge with stored partitions) may spill under the home.
    total = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    con.execute(f"SET memory_limit = '{max(1 << 30, total // 4) >> 20}MB'")
    con.execute(f"SET temp_directory = {_sql_str(str(work / 'spill'))}")
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
    fmt, gzipped = detect_format(path)
    if fmt == "csv":
        # Header check (and a clean error for a missing column, an unreadable or a small
        # cut-short file) from the streaming reader, before DuckDB is started.
        next(iter_rows(path, required=REQUIRED), None)
    with session_scope(settings) as session:
        known_rows = _known_episodes(session)
    settings.events_path.mkdir(parents=True, exist_ok=True)
    if not (settings.events_path / HASHED_MARKER).exists():
        say("hashing stored viewer ids")
        rehash_viewers(settings)  # a room from before viewer ids were hashed: once
    work = Path(tempfile.mkdtemp(prefix=".ingest-", dir=settings.events_path))
    con = _ingest_connection(settings, work, known_rows)
    background = ThreadPoolExecutor(max_workers=1)
    try:
        origin_us = _origin_us(settings)
        say("reading")
        fresh, sha256 = _read(con, path, fmt, gzipped, work)
        # Viewer ids are stored only as keyed hashes (the raw ids never reach a file).
        fresh = _hash_viewers(con, fresh, settings.author_key)
        say("validating")
        repeated = background.submit(_repeated_hashes, fresh)
        summary = _validate(con, path, fmt, fresh, known_rows, origin_us)
        total = fresh.num_rows
        fresh = fresh.drop_columns(["_bad"])
        con.unregister("fresh")
        with _events_lock(settings):
            say("writing parquet")
            partitions = summary.partitions
            stored, merged, inserted, backup, staged = _write_partitions(
                con, settings, fresh, repeated, partitions
            )
            # The file's own counts (from validation) hold unless other rows are mixed in:
            # stored ones merged, or duplicates dropped.
            mixed = merged or stored is not fresh
            del fresh
            try:
                say("aggregating windows")
                windows = _aggregate(con, settings, stored, mixed, summary, origin_us)
                with session_scope(settings) as session:
                    _store_windows(session, windows)
                    record_ingest(
                        session,
                        kind="events",
                        path=path,
                        sha256=sha256 or file_sha256(path),
                        rows=total,
                        inserted=inserted,
                        duration_s=time.perf_counter() - started,
                        detail={"windows": len(windows)},
                    )
            except BaseException:
                _restore(settings, [(s, d) for s, d, _ in partitions], backup)
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


# -- writing -------------------------------------------------------------------------


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
        f"({_sql_str(VIEWER_PREFIX)} || left(sha256(unhex('{outer}') || "
        f"unhex(sha256(unhex('{inner}') || encode({column})))), 32))"
    )


def _hash_viewers(con: duckdb.DuckDBPyConnection, table: pa.Table, key: bytes) -> pa.Table:
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
    with _events_lock(settings):
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
                hashed = _hash_viewers(con, table, settings.author_key)
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


def _repeated_hashes(fresh: pa.Table) -> np.ndarray:
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
    columns = ", ".join(_quoted(name) for name in fresh.column_names)
    unique = con.sql(f"SELECT DISTINCT {columns} FROM maybe").to_arrow_table()
    con.unregister("maybe")
    return pa.concat_tables([fresh.filter(pc.invert(suspect)), unique.cast(fresh.schema)])


def _write_partitions(
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
            f"{_quoted(n)}::VARCHAR AS {_quoted(n)}"
            if n in ("series_id", "episode_id", "type")
            else _quoted(n)
            for n in _DATA
        )
        columns = ", ".join(_quoted(n) for n in _DATA)
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
        start = pa.scalar(_EPOCH + timedelta(microseconds=day_us), stored.schema.field("ts").type)
        end = pa.scalar(
            _EPOCH + timedelta(microseconds=day_us + _DAY_US), stored.schema.field("ts").type
        )
        ts = stored.column("ts")
        mask = pc.and_(
            _equals(stored.column("series_id"), series_id),
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


# -- aggregating ---------------------------------------------------------------------


@dataclass
class _Window:
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
        day = (_EPOCH + timedelta(microseconds=first)).date()
        end = (_EPOCH + timedelta(microseconds=last + _DAY_US - 1)).date()
        days: list[str] = []
        while day <= end:
            if (series_id, day.isoformat()) not in touched:
                days.append(day.isoformat())
            day += timedelta(days=1)
        files.extend(event_files(settings, series_id, days))
    return files


def _aggregate(
    con: duckdb.DuckDBPyConnection,
    settings: Settings,
    stored: pa.Table,
    mixed: bool,
    summary: _Summary,
    origin_us: int,
) -> list[_Window]:
    affected = summary.windows
    touched = {(s, day) for s, day, _ in summary.partitions}
    con.execute("CREATE TEMP TABLE affected (series_id VARCHAR, ws BIGINT)")
    if affected:
        con.executemany("INSERT INTO affected VALUES (?, ?)", sorted(affected))
    con.register("stored", stored)
    columns = "ts, series_id, episode_id, variant_id, viewer_id, type, position_s, value"
    ws = _ws_us(origin_us)
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
            f"SELECT series_id::VARCHAR, episode_id::VARCHAR, variant_id, ws, {_COUNTS} "
            f"FROM ({source}) GROUP BY ALL"
        ).fetchall()
    else:
        # Only this file's rows: validation already counted them (per day, so a window
        # that straddles two days is summed here).
        totals = ", ".join(f"sum({name})" for name in _COUNT_NAMES)
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
            _Window(
                series_id=s,
                episode_id=e,
                variant_id=v,
                window_start=_EPOCH + timedelta(microseconds=w),
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


def _restore(settings: Settings, partitions: list[tuple[str, str]], backup: Path) -> None:
    for series_id, day in partitions:
        live = _partition_dir(settings, series_id, day)
        saved = backup / f"series_id={series_id}" / f"day={day}"
        shutil.rmtree(live, ignore_errors=True)
        if saved.exists():
            os.replace(saved, live)
    shutil.rmtree(backup, ignore_errors=True)


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
