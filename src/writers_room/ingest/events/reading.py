"""Reading an events file: every row typed and flagged in one DuckDB pass.

Events are the big input (millions a day per series), so they never pass through Python
row by row. DuckDB reads the file once and types and checks every row in the same query,
into one Arrow table with a per-row ``_bad`` flag (see :mod:`.validation` for what
decides). A .gz file is inflated on a background thread into line-aligned chunks that
DuckDB parses while the next one inflates; a plain file (nearly all of them) is read by
the CSV reader's own typing (the fast path), anything else the careful way from text.
"""

from __future__ import annotations

import hashlib
import os
import queue
import threading
import zlib
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pyarrow as pa

from writers_room.errors import InputError
from writers_room.ingest.events.schema import (
    DATA_COLUMNS,
    FALSE_WORDS,
    OPTIONAL,
    REQUIRED,
    TRUE_WORDS,
    quoted,
    sql_str,
)
from writers_room.ingest.readers import iter_rows

# Size of the decompressed pieces a .gz file is parsed in (see _Gunzip).
CHUNK_BYTES = 64 << 20


def _csv_reader(path: Path | str) -> str:
    return (
        f"read_csv({sql_str(str(path))}, header=true, all_varchar=true, strict_mode=true, "
        "compression='auto')"
    )


def _json_reader(path: Path | str) -> str:
    columns = ", ".join(f"'{name}': 'VARCHAR'" for name in REQUIRED + OPTIONAL)
    return (
        f"read_json({sql_str(str(path))}, format='newline_delimited', "
        f"columns={{{columns}}}, compression='auto')"
    )


def _raw_select(reader: str, present: set[str] | None) -> str:
    """The eleven input columns as text; optional ones the file lacks are NULL."""
    if present is None:
        return f"SELECT {', '.join(quoted(n) for n in REQUIRED + OPTIONAL)} FROM {reader}"
    items = [
        quoted(n) if n in present else f"NULL::VARCHAR AS {quoted(n)}" for n in REQUIRED + OPTIONAL
    ]
    return f"SELECT {', '.join(items)} FROM {reader}"


def raw_source(con: duckdb.DuckDBPyConnection, path: Path | str, fmt: str) -> str:
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
                CASE WHEN lower(trim("returning")) IN {TRUE_WORDS} THEN true
                     WHEN lower(trim("returning")) IN {FALSE_WORDS} THEN false END
            END AS "returning",
            position_s AS _p, value AS _v, "returning" AS _r
        FROM ({raw})
    """
    # The same conditions as validation's _FIRST_ERROR, less the (series, episode) pairing,
    # which is checked on the distinct pairs. CASE keeps the trims to the rows that need them.
    bad = f"""
        {_MISSING}
        OR CASE WHEN position_s IS NOT NULL THEN position_s < 0 OR isnan(position_s)
                ELSE coalesce(trim(_p), '') <> '' END
        OR CASE WHEN value IS NOT NULL THEN isnan(value)
                ELSE coalesce(trim(_v), '') <> '' END
        OR CASE WHEN "returning" IS NULL THEN coalesce(trim(_r), '') <> '' ELSE false END
    """
    columns = ", ".join(quoted(n) for n in DATA_COLUMNS)
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
        f"FROM sniff_csv({sql_str(str(first))}, header=true, all_varchar=true, "
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
        f"auto_detect=false, strict_mode=true, delim={sql_str(delim)}, "
        f"quote={sql_str(quote)}, escape={sql_str(escape)}, "
        f"new_line={sql_str(newline)}, comment={sql_str(comment)}"
    )
    return names, options


def _sniffed_csv_reader(con: duckdb.DuckDBPyConnection, first: str) -> Callable[[str], str]:
    """How to read the chunks after the first as text, with the first chunk's dialect."""
    names, options = _csv_dialect(con, first)
    columns = ", ".join(f"{sql_str(name)}: 'VARCHAR'" for name in names)
    present = set(names)
    return lambda chunk: _raw_select(
        f"read_csv({sql_str(str(chunk))}, header=false, columns={{{columns}}}, {options})",
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


class NotPlain(Exception):
    """The fast path cannot vouch for this file: read it the careful way."""


def _fast_reader(names: list[str], options: str) -> Callable[[str, bool], str]:
    """A typed SELECT of a chunk (with or without the header line), flagged like
    _typed_sql's."""
    columns = ", ".join(
        f"{sql_str(name)}: {sql_str(_FAST_TYPES.get(name, 'VARCHAR'))}" for name in names
    )
    items = [
        quoted(n) if n in names else f"NULL::{_FAST_TYPES[n]} AS {quoted(n)}" for n in DATA_COLUMNS
    ]
    bad = f"""
        {_MISSING}
        OR coalesce(position_s < 0 OR isnan(position_s), false)
        OR coalesce(isnan(value), false)
    """

    def select(chunk: str, header: bool) -> str:
        reader = (
            f"read_csv({sql_str(chunk)}, header={str(header).lower()}, "
            f"columns={{{columns}}}, {options})"
        )
        return (
            f"SELECT {', '.join(items)}, ({bad}) AS _bad, hash(ts, viewer_id) AS _h FROM {reader}"
        )

    return select


def _check_plain(table: pa.Table) -> None:
    """Raise NotPlain where _typed_sql would change a text value: an empty string
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
                raise NotPlain(f"an empty {name}")
            valid = lengths > 0
            first = data[offsets[:-1][valid]]
            last = data[offsets[1:][valid] - 1]
            if ((first < 0x21) | (first > 0x7E) | (last < 0x21) | (last > 0x7E)).any():
                raise NotPlain(f"a {name} to trim")
            if name == "country":
                used = data[offsets[0] : offsets[-1]]
                if (((used >= 0x61) & (used <= 0x7A)) | (used > 0x7E)).any():
                    raise NotPlain("a country not in upper case")


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
                    raw = raw_source(con, chunk.path, fmt)
                    later = _sniffed_csv_reader(con, chunk.path)
                else:
                    raw = later(chunk.path)
                parts.append(con.sql(_typed_sql(raw)).to_arrow_table())
            finally:
                chunk.discard()
    except (duckdb.Error, _Misread) as exc:
        if fast:
            raise NotPlain(str(exc)) from exc
        # Whatever is wrong, the whole-file read names it the way it always has.
        raise _Unchunkable(str(exc)) from exc
    finally:
        chunks.close()
    return pa.concat_tables(parts), chunks.digest.hexdigest()


def read_fast(
    con: duckdb.DuckDBPyConnection, path: Path, gzipped: bool, work: Path
) -> tuple[pa.Table, str | None]:
    """The fast path's read of a CSV file (raises NotPlain where it cannot vouch)."""
    if gzipped:
        try:
            return _read_chunked(con, path, "csv", work, fast=True)
        except _Unchunkable as exc:
            raise NotPlain(str(exc)) from exc
    try:
        table = con.sql(_fast_reader(*_csv_dialect(con, str(path)))(str(path), True))
        fresh = table.to_arrow_table()
    except (duckdb.Error, _Misread, _Unchunkable) as exc:
        raise NotPlain(str(exc)) from exc
    _check_plain(fresh)
    return fresh, None


def read_file(
    con: duckdb.DuckDBPyConnection, path: Path, fmt: str, gzipped: bool, work: Path
) -> tuple[pa.Table, str | None]:
    """Every row of the file, typed and flagged; and the file's sha256 when it came free."""
    if fmt == "csv":
        try:
            return read_fast(con, path, gzipped, work)
        except NotPlain:
            pass  # the careful read below gives the same rows, or names what is wrong
        except _Corrupt as exc:
            raise InputError(f"{path}: cannot be read ({exc})", file=str(path)) from None
    try:
        if gzipped:
            try:
                return _read_chunked(con, path, fmt, work, fast=False)
            except _Unchunkable:
                pass  # the whole-file read below either fails as it always did, or works
        return con.sql(_typed_sql(raw_source(con, path, fmt))).to_arrow_table(), None
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
