"""Property-based fuzzing of the three readers and ``series add``.

Whatever the bytes, a reader either stores the file (exit 0) or raises an InputError
(exit 2): never another exception (a traceback), and a refused file changes nothing
that was stored before it.
"""

from __future__ import annotations

import csv
import gzip
import hashlib
import io
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st
from sqlmodel import func, select

from writers_room.config import Settings
from writers_room.errors import InputError
from writers_room.index.chroma import CommentIndex
from writers_room.ingest.comments import ingest_comments
from writers_room.ingest.events import ingest_events
from writers_room.ingest.metrics import ingest_metrics
from writers_room.ingest.series import add_series_file
from writers_room.store.db import session_scope
from writers_room.store.models import (
    AuditLog,
    BriefVersion,
    Comment,
    Episode,
    IngestRun,
    MetricWindow,
    Series,
    Variant,
)

FUZZ = hsettings(
    max_examples=12,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

EVENTS = (
    "ts,series_id,episode_id,variant_id,viewer_id,type,position_s,value,platform,country,returning"
)
METRICS = (
    "series_id,episode_id,variant_id,window_start,window_hours,impressions,clicks,views,"
    "completions,shares,saves,comments,follows,conversions,revenue,avg_view_s,retention"
)
COMMENTS = "comment_id,series_id,episode_id,author_id,text,ts,likes"

Ingest = Callable[[Settings, Path], Any]
READERS: dict[str, tuple[Ingest, str]] = {
    "events": (ingest_events, EVENTS),
    "metrics": (ingest_metrics, METRICS),
    "comments": (ingest_comments, COMMENTS),
}


def snapshot(settings: Settings) -> tuple[Any, ...]:
    """Everything a reader can store: row counts, Parquet bytes, index size."""
    with session_scope(settings) as session:
        counts = tuple(
            session.exec(select(func.count()).select_from(model)).one()
            for model in (Series, Episode, BriefVersion, Variant, MetricWindow, Comment)
        )
        counts += (
            session.exec(select(func.count()).select_from(IngestRun)).one(),
            session.exec(select(func.count()).select_from(AuditLog)).one(),
        )
    parquet = tuple(
        (str(p.relative_to(settings.home)), hashlib.sha256(p.read_bytes()).hexdigest())
        for p in sorted(settings.events_path.rglob("*.parquet"))
    )
    index = CommentIndex(settings).count() if settings.chroma_path.exists() else 0
    return counts, parquet, index


def attempt(settings: Settings, ingest: Ingest, path: Path) -> None:
    """Exit 0 or exit 2, and a refused file stores nothing."""
    before = snapshot(settings)
    try:
        ingest(settings, path)
    except InputError as exc:
        assert str(exc)
        assert snapshot(settings) == before, f"{path.name}: refused but something was stored"


@pytest.fixture
def room(sqlite_settings: Settings, tiny_series: Path) -> Settings:
    add_series_file(sqlite_settings, tiny_series)
    return sqlite_settings


# ---------------------------------------------------------------- random bytes


@pytest.mark.parametrize("kind", sorted(READERS))
@pytest.mark.parametrize("suffix", [".csv", ".jsonl", ".csv.gz"])
def test_random_bytes_exit_0_or_2(room: Settings, tmp_path: Path, kind: str, suffix: str) -> None:
    ingest, header = READERS[kind]
    path = tmp_path / f"{kind}{suffix}"

    @FUZZ
    @given(st.binary(max_size=400), st.booleans())
    def run(body: bytes, with_header: bool) -> None:
        data = (header.encode() + b"\n" if with_header else b"") + body
        path.write_bytes(gzip.compress(data) if suffix.endswith(".gz") else data)
        attempt(room, ingest, path)

    run()


# ---------------------------------------------------------------- random rows

TEXT = st.text(
    st.characters(codec="utf-8", exclude_categories=("Cs",)) | st.sampled_from(',"\n\r\x00 '),
    max_size=12,
)
VALUE = st.one_of(
    TEXT,
    st.sampled_from(["tiny", "ep1", "ep2", "v1-thumb", "", " ", "-1", "1e999", "nan"]),
    st.integers(-(2**63), 2**64).map(str),
    st.floats(allow_nan=True).map(str),
    st.sampled_from(["2026-11-16T08:00:00Z", "1794819600000", "2026-02-30T00:00:00Z"]),
    st.sampled_from(["impression", "play", "progress", "complete", "purchase"]),
    st.sampled_from(["[100, 50]", "[]", "[100, 101]", "[", '{"a": 1}']),
)


@pytest.mark.parametrize("kind", sorted(READERS))
@pytest.mark.parametrize("fmt", ["csv", "jsonl"])
def test_random_rows_exit_0_or_2(room: Settings, tmp_path: Path, kind: str, fmt: str) -> None:
    ingest, header = READERS[kind]
    columns = header.split(",")
    path = tmp_path / f"{kind}.{fmt}"

    @FUZZ
    @given(st.lists(st.lists(VALUE, min_size=len(columns), max_size=len(columns)), max_size=4))
    def run(rows: list[list[str]]) -> None:
        if fmt == "csv":
            out = io.StringIO()
            writer = csv.writer(out, lineterminator="\n")
            writer.writerow(columns)
            writer.writerows(rows)
            path.write_text(out.getvalue(), encoding="utf-8", errors="surrogatepass")
        else:
            text = "".join(json.dumps(dict(zip(columns, r, strict=True))) + "\n" for r in rows)
            path.write_text(text, encoding="utf-8")
        attempt(room, ingest, path)

    run()


# ---------------------------------------------------------------- truncated gzip


def valid_file(kind: str) -> str:
    if kind == "events":
        return EVENTS + "\n2026-11-16T08:00:05Z,tiny,ep1,v1-thumb,a,progress,3.5,,app,US,false\n"
    if kind == "metrics":
        return (
            METRICS
            + '\ntiny,ep1,v1-thumb,2026-11-16T00:00:00Z,24,100,5,4,1,0,0,0,0,0,0,3.5,"[100, 50]"\n'
        )
    return COMMENTS + "\nc1,tiny,ep1,someone,what a twist,2026-11-16T10:00:00Z,3\n"


@pytest.mark.parametrize("kind", sorted(READERS))
def test_gzip_cut_at_every_length_exits_2(room: Settings, tmp_path: Path, kind: str) -> None:
    ingest, _header = READERS[kind]
    whole = gzip.compress(valid_file(kind).encode(), mtime=0)
    path = tmp_path / f"{kind}.csv.gz"
    before = snapshot(room)
    for length in range(len(whole)):
        path.write_bytes(whole[:length])
        with pytest.raises(InputError):
            ingest(room, path)
    # A refused file cannot take back what it stored, so one look at the end covers all.
    assert snapshot(room) == before, "a cut-short file stored something"
    path.write_bytes(whole)
    ingest(room, path)  # the whole file is fine
    assert snapshot(room) != before


# ---------------------------------------------------------------- series add


def test_series_add_random_bytes_exit_0_or_2(room: Settings, tmp_path: Path) -> None:
    path = tmp_path / "series.yaml"

    @FUZZ
    @given(st.binary(max_size=300) | TEXT.map(lambda t: t.encode("utf-8")))
    def run(body: bytes) -> None:
        path.write_bytes(body)
        attempt(room, add_series_file, path)

    run()


def test_series_add_mutated_bundle_exit_0_or_2(
    room: Settings, tiny_series: Path, tmp_path: Path
) -> None:
    """A valid bundle with one span replaced by random text or cut short."""
    original = tiny_series.read_text()
    path = tmp_path / "mutated.yaml"

    @hsettings(FUZZ, max_examples=40)
    @given(
        st.integers(0, len(original)),
        st.integers(0, 20),
        st.one_of(VALUE, st.sampled_from(["../x", "ep1", "s1", ": [", "- {", "*a", "&a x"])),
    )
    def run(start: int, span: int, replacement: str) -> None:
        path.write_text(
            original[:start] + replacement + original[start + span :],
            encoding="utf-8",
            errors="surrogatepass",
        )
        attempt(room, add_series_file, path)

    run()
