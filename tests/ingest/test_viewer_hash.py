"""Viewer ids are stored as keyed hashes; old rooms are rewritten without losing a row."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from sqlmodel import select
from typer.testing import CliRunner

import writers_room.ingest.events as events
from writers_room.cli import app
from writers_room.config import Settings
from writers_room.ingest.events import (
    HASHED_MARKER,
    ingest_events,
    rehash_viewers,
    viewer_hash_sql,
)
from writers_room.ingest.redact import viewer_hash
from writers_room.ingest.series import add_series_file
from writers_room.store.db import session_scope
from writers_room.store.events import connect, event_files
from writers_room.store.models import MetricWindow

HEADER = (
    "ts,series_id,episode_id,variant_id,viewer_id,type,position_s,value,platform,country,returning"
)
VIEWERS = ["alice@example.com", "viewer-2", "bob", "jöe ünïcode", "c"]


def write_events(path: Path) -> Path:
    rows = []
    for i, viewer in enumerate(VIEWERS):
        rows += [
            f"2026-11-16T0{i}:00:00Z,tiny,ep1,v1-thumb,{viewer},impression,,,app,US,false",
            f"2026-11-16T0{i}:00:01Z,tiny,ep1,v1-thumb,{viewer},play,,,app,US,false",
            f"2026-11-16T0{i}:00:09Z,tiny,ep1,v1-thumb,{viewer},progress,{i + 3},,app,US,false",
            # the next day too, so two partitions
            f"2026-11-17T0{i}:00:00Z,tiny,ep1,v2-hook,{viewer},impression,,,app,US,false",
        ]
    path.write_text("\n".join([HEADER, *rows]) + "\n")
    return path


def stored_viewers(settings: Settings) -> list[str]:
    return sorted(
        v
        for f in event_files(settings, "tiny")
        for v in pq.read_table(f).column("viewer_id").to_pylist()
    )


def window_values(settings: Settings) -> list[tuple[object, ...]]:
    with session_scope(settings) as session:
        rows = session.exec(select(MetricWindow).order_by(MetricWindow.variant_id)).all()
        return [
            (r.variant_id, r.impressions, r.views, r.avg_view_s, json.dumps(r.retention))
            for r in rows
        ]


def test_sql_hash_is_the_python_hmac() -> None:
    con = connect()
    for key in (b"k", b"test-key", b"x" * 100):
        got = con.execute(
            f"SELECT {viewer_hash_sql('v', key)} FROM (SELECT unnest(?) AS v)", [VIEWERS]
        ).fetchall()
        assert [g[0] for g in got] == [viewer_hash(v, key) for v in VIEWERS]
    assert viewer_hash("bob", b"k1") != viewer_hash("bob", b"k2")
    assert viewer_hash("bob", b"k1").startswith("vh:") and len(viewer_hash("bob", b"k1")) == 35


def test_ingest_stores_only_hashed_viewer_ids(
    settings: Settings, tiny_series: Path, tmp_path: Path
) -> None:
    add_series_file(settings, tiny_series)
    ingest_events(settings, write_events(tmp_path / "events.csv"))
    key = settings.author_key
    expected = sorted(viewer_hash(v, key) for v in VIEWERS for _ in range(3)) + sorted(
        viewer_hash(v, key) for v in VIEWERS
    )
    assert stored_viewers(settings) == sorted(expected)
    for f in event_files(settings, "tiny"):
        raw = Path(f).read_bytes()
        assert b"alice" not in raw and b"viewer-2" not in raw
    # Per-viewer aggregation still works on the hashes: 5 starters on ep1.
    assert window_values(settings)[0][2] == 5


def _old_room(
    settings: Settings, tiny_series: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Path:
    """A room as the code before hashing left it: raw viewer ids in the partitions."""
    add_series_file(settings, tiny_series)
    path = write_events(tmp_path / "events.csv")
    with monkeypatch.context() as patch:
        patch.setattr(events, "hash_viewers", lambda _con, table, _key: table)
        settings.events_path.mkdir(parents=True, exist_ok=True)
        (settings.events_path / HASHED_MARKER).touch()
        ingest_events(settings, path)
    (settings.events_path / HASHED_MARKER).unlink()
    assert "bob" in stored_viewers(settings)
    return path


def test_rehash_viewers_rewrites_old_partitions_losslessly_and_idempotently(
    settings: Settings, tiny_series: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _old_room(settings, tiny_series, tmp_path, monkeypatch)
    raw = stored_viewers(settings)
    windows = window_values(settings)
    result = CliRunner().invoke(
        app,
        ["--home", str(settings.home), "ingest", "rehash-viewers", "--json"],
        env={
            "WRITERS_ROOM_DATABASE_URL": settings.database_url or "",
            "WRITERS_ROOM_PII_KEY": "test-key",
        }
        if settings.database_url
        else {"WRITERS_ROOM_PII_KEY": "test-key"},
    )
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert report == {"partitions": 2, "rewritten": 2, "rows": len(raw), "raw_ids": len(raw)}
    key = settings.author_key
    assert stored_viewers(settings) == sorted(viewer_hash(v, key) for v in raw)
    assert not list(settings.events_path.rglob("*.tmp"))
    # Again: nothing left to do, nothing changes.
    again = rehash_viewers(settings)
    assert (again.rewritten, again.raw_ids, again.rows) == (0, 0, len(raw))
    assert stored_viewers(settings) == sorted(viewer_hash(v, key) for v in raw)
    assert window_values(settings) == windows


def test_next_ingest_rehashes_an_old_room_first(
    settings: Settings, tiny_series: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = _old_room(settings, tiny_series, tmp_path, monkeypatch)
    rows = len(stored_viewers(settings))
    windows = window_values(settings)
    again = ingest_events(settings, path)  # the same file: must be a no-op
    assert again.inserted == 0
    assert len(stored_viewers(settings)) == rows
    assert all(v.startswith("vh:") for v in stored_viewers(settings))
    assert window_values(settings) == windows
    assert (settings.events_path / HASHED_MARKER).exists()


def test_rehash_of_a_room_without_events(sqlite_settings: Settings) -> None:
    result = rehash_viewers(sqlite_settings)
    assert (result.partitions, result.rewritten, result.rows) == (0, 0, 0)
