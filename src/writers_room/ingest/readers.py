"""Streaming readers for the input files: CSV or JSONL, optionally gzipped.

Rows come out one at a time with their 1-based line number, so a file of any size is
read in constant memory and every error can name its line.
"""

from __future__ import annotations

import csv
import gzip
import hashlib
import io
import json
import re
import zlib
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Annotated, Any, Literal

from pydantic import AfterValidator, BeforeValidator

from writers_room.errors import InputError

__all__ = [
    "UTCTime",
    "detect_format",
    "file_sha256",
    "iter_rows",
    "open_text",
    "refuse_duplicate",
    "registered_rows",
    "unstorable_char",
    "validate_row",
]

Format = Literal["csv", "jsonl"]
_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")


def _epoch_ms(value: Any) -> Any:
    if isinstance(value, int | float) or (isinstance(value, str) and value.strip().isdigit()):
        return datetime.fromtimestamp(int(value) / 1000, tz=UTC)
    return value


def _as_utc(value: datetime) -> datetime:
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


# A time in an input file: ISO 8601 (naive means UTC) or epoch milliseconds.
UTCTime = Annotated[datetime, BeforeValidator(_epoch_ms), AfterValidator(_as_utc)]

_SUFFIXES: dict[str, Format] = {".csv": "csv", ".jsonl": "jsonl", ".ndjson": "jsonl"}


def detect_format(path: Path) -> tuple[Format, bool]:
    """Return (format, gzipped) from the file name, or raise a helpful InputError."""
    suffixes = [s.lower() for s in path.suffixes]
    gzipped = bool(suffixes) and suffixes[-1] == ".gz"
    core = suffixes[-2] if gzipped and len(suffixes) > 1 else (suffixes[-1] if suffixes else "")
    if core not in _SUFFIXES:
        raise InputError(
            f"{path}: unsupported file type {''.join(path.suffixes) or '(none)'}; "
            "expected .csv, .jsonl, .csv.gz or .jsonl.gz",
            file=str(path),
        )
    if path.is_dir():
        raise InputError(f"{path}: is a directory, not a file", file=str(path))
    if not path.is_file():
        raise InputError(f"{path}: no such file", file=str(path))
    return _SUFFIXES[core], gzipped


def open_text(path: Path, gzipped: bool) -> IO[str]:
    if gzipped:
        return io.TextIOWrapper(gzip.open(path, "rb"), encoding="utf-8", newline="")
    return open(path, encoding="utf-8", newline="")  # noqa: SIM115 - caller closes


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def iter_rows(path: Path, *, required: tuple[str, ...]) -> Iterator[tuple[int, dict[str, Any]]]:
    """Yield ``(line_number, row)`` for each data row of ``path``.

    CSV headers are checked for ``required`` columns up front (an error names line 1);
    JSONL rows are objects whose missing keys the caller's validation reports per line.
    """
    fmt, gzipped = detect_format(path)
    try:
        with open_text(path, gzipped) as handle:
            if fmt == "csv":
                yield from _iter_csv(path, handle, required)
            else:
                yield from _iter_jsonl(path, handle)
    except (OSError, EOFError, zlib.error, UnicodeDecodeError) as exc:
        # A truncated or corrupt .gz (EOFError, BadGzipFile, zlib.error), bytes that are
        # not UTF-8, or a file that cannot be opened (a directory, no permission).
        raise InputError(f"{path}: cannot be read ({_reason(exc)})", file=str(path)) from None


def _reason(exc: BaseException) -> str:
    if isinstance(exc, UnicodeDecodeError):
        return f"not UTF-8 text: byte 0x{exc.object[exc.start]:02x} cannot be decoded"
    if isinstance(exc, EOFError):
        return "the compressed file is cut short"
    return str(exc) or type(exc).__name__


def _iter_csv(
    path: Path, handle: IO[str], required: tuple[str, ...]
) -> Iterator[tuple[int, dict[str, Any]]]:
    reader = csv.reader(handle, strict=True)
    try:
        header = [name.strip() for name in next(reader)]
    except StopIteration:
        raise InputError(f"{path}: the file is empty", file=str(path), line=1) from None
    missing = [name for name in required if name not in header]
    if missing:
        raise InputError(
            f"{path}:1: missing required column(s) {', '.join(missing)}; "
            f"the header has {', '.join(header)}",
            file=str(path),
            line=1,
            field=missing[0],
        )
    width = len(header)
    try:
        for record in reader:
            line = reader.line_num
            if not record:
                continue
            if len(record) != width:
                raise InputError(
                    f"{path}:{line}: expected {width} columns, found {len(record)}",
                    file=str(path),
                    line=line,
                )
            yield line, dict(zip(header, record, strict=True))
    except csv.Error as exc:
        raise InputError(
            f"{path}:{reader.line_num}: malformed CSV ({exc})", file=str(path), line=reader.line_num
        ) from None


def _iter_jsonl(path: Path, handle: IO[str]) -> Iterator[tuple[int, dict[str, Any]]]:
    for line, text in enumerate(handle, start=1):
        if not text.strip():
            continue
        try:
            row = json.loads(text)
        except RecursionError:
            raise InputError(
                f"{path}:{line}: not valid JSON (nested too deeply)", file=str(path), line=line
            ) from None
        except json.JSONDecodeError as exc:
            raise InputError(
                f"{path}:{line}: not valid JSON ({exc.msg} at column {exc.colno})",
                file=str(path),
                line=line,
            ) from None
        if not isinstance(row, dict):
            raise InputError(
                f"{path}:{line}: expected a JSON object, found {type(row).__name__}",
                file=str(path),
                line=line,
            )
        yield line, row


def unstorable_char(text: str) -> str | None:
    """A NUL or an unpaired surrogate in ``text`` (neither PostgreSQL nor UTF-8 takes them)."""
    found = _UNSTORABLE.search(text)
    return None if found is None else f"the character U+{ord(found.group()):04X}"


def validate_row(
    model: type[Any],
    path: Path,
    line: int,
    row: dict[str, Any],
    *,
    private: tuple[str, ...] = (),
) -> Any:
    """Validate one row with a pydantic model; errors name file, line, field and value.

    Values of ``private`` fields (comment text, author ids) are never echoed: error
    messages end up in terminals and logs, where personal data must not.
    """
    from pydantic import ValidationError

    for name, raw in row.items():
        bad = unstorable_char(raw) if isinstance(raw, str) else None
        if bad is not None:
            shown = "value withheld: may hold personal data" if name in private else repr(raw)
            raise InputError(
                f"{path}:{line}: field {name!r}: contains {bad}, which cannot be stored ({shown})",
                file=str(path),
                line=line,
                field=str(name),
                value=None if name in private else raw,
            )
    try:
        return model.model_validate(row)
    except ValidationError as exc:
        err = exc.errors()[0]
        field = ".".join(str(part) for part in err["loc"]) or "(row)"
        value = row.get(field, None) if err["type"] != "missing" else None
        if err["type"] == "missing":
            shown = "missing"
        elif field in private:
            shown, value = "value withheld: may hold personal data", None
        else:
            shown = f"value {value!r}"
        raise InputError(
            f"{path}:{line}: field {field!r}: {err['msg']} ({shown})",
            file=str(path),
            line=line,
            field=field,
            value=value,
        ) from None


def refuse_duplicate(
    seen: dict[Any, int], key: Any, path: Path, line: int, *, field: str, what: str
) -> None:
    """Refuse a second row with ``key`` in one file, naming both lines.

    A file that says two things about one id is ambiguous: which one is meant cannot be
    guessed, so nothing from it is stored.
    """
    first = seen.setdefault(key, line)
    if first != line:
        raise InputError(
            f"{path}:{line}: field {field!r}: {what} is already on line {first}; an id may "
            "appear once per file, so nothing from this file was stored",
            file=str(path),
            line=line,
            field=field,
        )


def registered_rows(
    model: type[Any],
    path: Path,
    *,
    required: tuple[str, ...],
    known: set[tuple[str, str]],
    private: tuple[str, ...] = (),
) -> Iterator[tuple[int, Any]]:
    """Validated rows of ``path`` whose (series_id, episode_id) is registered."""
    for line, raw in iter_rows(path, required=required):
        row = validate_row(model, path, line, raw, private=private)
        if (row.series_id, row.episode_id) not in known:
            raise InputError(
                f"{path}:{line}: field 'episode_id': series {row.series_id!r} episode "
                f"{row.episode_id!r} is not registered (run `writers-room series add` first); "
                "nothing from this file was stored",
                file=str(path),
                line=line,
                field="episode_id",
                value=row.episode_id,
            )
        yield line, row
