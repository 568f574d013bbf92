"""Raw events: validation, Parquet storage, idempotency, per-second retention."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest
from sqlmodel import select

from writers_room.config import Settings
from writers_room.errors import InputError
from writers_room.memory.db import session_scope
from writers_room.memory.events import event_files, ingest_events, retention_curve
from writers_room.memory.models import MetricWindow, Variant
from writers_room.memory.series import add_series_file
from writers_room.memory.status import count_events

HEADER = (
    "ts,series_id,episode_id,variant_id,viewer_id,type,position_s,value,platform,country,returning"
)

# Four starters on ep1 (20 s): a drops at 3.5 s, b reaches 12 s, c completes, d only plays.
# Plus an impression-only viewer e and a buyer.
ROWS = [
    "2026-11-16T08:00:00Z,tiny,ep1,v1-thumb,a,impression,,,tiktok,US,false",
    "2026-11-16T08:00:01Z,tiny,ep1,v1-thumb,a,click,,,tiktok,US,false",
    "2026-11-16T08:00:02Z,tiny,ep1,v1-thumb,a,play,,,tiktok,US,false",
    "2026-11-16T08:00:05Z,tiny,ep1,v1-thumb,a,progress,3.5,,tiktok,US,false",
    "2026-11-16T09:00:00Z,tiny,ep1,v1-thumb,b,impression,,,reels,GB,true",
    "2026-11-16T09:00:01Z,tiny,ep1,v1-thumb,b,click,,,reels,GB,true",
    "2026-11-16T09:00:02Z,tiny,ep1,v1-thumb,b,play,,,reels,GB,true",
    "2026-11-16T09:00:07Z,tiny,ep1,v1-thumb,b,progress,5,,reels,GB,true",
    "2026-11-16T09:00:14Z,tiny,ep1,v1-thumb,b,progress,12,,reels,GB,true",
    "2026-11-16T09:00:15Z,tiny,ep1,v1-thumb,b,share,,,reels,GB,true",
    "1794819600000,tiny,ep1,v1-thumb,c,impression,,,app,US,true",
    "1794819601000,tiny,ep1,v1-thumb,c,click,,,app,US,true",
    "1794819602000,tiny,ep1,v1-thumb,c,play,,,app,US,true",
    "1794819622000,tiny,ep1,v1-thumb,c,complete,,,app,US,true",
    "1794819623000,tiny,ep1,v1-thumb,c,purchase,,1.99,app,US,true",
    "2026-11-16T11:00:00Z,tiny,ep1,v1-thumb,d,impression,,,app,DE,",
    "2026-11-16T11:00:01Z,tiny,ep1,v1-thumb,d,click,,,app,DE,",
    "2026-11-16T11:00:02Z,tiny,ep1,v1-thumb,d,play,,,app,DE,",
    "2026-11-16T12:00:00Z,tiny,ep1,v1-thumb,e,impression,,,app,DE,",
    "2026-11-17T12:00:00Z,tiny,ep1,v2-hook,f,impression,,,app,DE,",
]


def write_csv(path: Path, rows: list[str], header: str = HEADER) -> Path:
    path.write_text("\n".join([header, *rows]) + "\n")
    return path


def windows(settings: Settings) -> list[MetricWindow]:
    with session_scope(settings) as session:
        return list(
            session.exec(
                select(MetricWindow).order_by(MetricWindow.window_start, MetricWindow.variant_id)
            )
        )


def test_retention_curve_counts_starters_still_watching() -> None:
    # furthest seconds: 3 (x1), 12 (x1), 20 (x1, complete), 0 (x1)
    curve = retention_curve({0: 1, 3: 1, 12: 1, 20: 1}, 4, 20.0)
    assert len(curve) == 21
    assert curve[0] == 100.0
    assert curve[1:4] == [75.0, 75.0, 75.0]
    assert curve[4:13] == [50.0] * 9
    assert curve[13:21] == [25.0] * 8


def test_ingest_aggregates_windows_from_events(
    settings: Settings, tiny_series: Path, tmp_path: Path
) -> None:
    add_series_file(settings, tiny_series)
    result = ingest_events(settings, write_csv(tmp_path / "events.csv", ROWS))
    assert (result.rows, result.inserted, result.partitions, result.windows) == (20, 20, 2, 2)
    first, second = windows(settings)
    assert first.window_start.isoformat() == "2026-11-16T00:00:00+00:00"
    assert (first.impressions, first.clicks, first.views, first.completions) == (5, 4, 4, 1)
    assert (first.shares, first.conversions, first.revenue) == (1, 1, 1.99)
    assert first.retention[0] == 100.0
    assert first.retention[3] == 75.0  # a is still watching at 3 s (reached 3.5)
    assert first.retention[4] == 50.0
    assert first.retention[12] == 50.0  # b reached 12 s
    assert first.retention[13] == 25.0
    assert first.retention[20] == 25.0  # c completed
    assert first.avg_view_s == pytest.approx((3.5 + 12 + 20 + 0) / 4)
    assert second.variant_id == "v2-hook" and second.impressions == 1 and second.views == 0
    assert count_events(settings, "tiny") == 20
    with session_scope(settings) as session:
        assert session.get(Variant, ("tiny", "ep1", "v2-hook")) is not None


def test_reingest_is_a_no_op(settings: Settings, tiny_series: Path, tmp_path: Path) -> None:
    add_series_file(settings, tiny_series)
    path = write_csv(tmp_path / "events.csv", ROWS)
    ingest_events(settings, path)
    before = [(w.id, w.impressions, w.retention) for w in windows(settings)]
    again = ingest_events(settings, path)
    assert again.inserted == 0
    assert [(w.id, w.impressions, w.retention) for w in windows(settings)] == before
    assert count_events(settings, "tiny") == 20
    # A second file that overlaps the first adds only the new rows.
    extra = "2026-11-16T13:00:00Z,tiny,ep1,v1-thumb,g,impression,,,app,FR,"
    more = ingest_events(settings, write_csv(tmp_path / "more.csv", [ROWS[0], extra]))
    assert more.inserted == 1
    assert windows(settings)[0].impressions == 6


def test_jsonl_gzip_is_accepted(
    sqlite_settings: Settings, tiny_series: Path, tmp_path: Path
) -> None:
    add_series_file(sqlite_settings, tiny_series)
    keys = HEADER.split(",")
    path = tmp_path / "events.jsonl.gz"
    with gzip.open(path, "wt") as out:
        for row in ROWS:
            record = {k: v for k, v in zip(keys, row.split(","), strict=True) if v}
            if "position_s" in record:
                record["position_s"] = float(record["position_s"])
            out.write(json.dumps(record) + "\n")
    result = ingest_events(sqlite_settings, path)
    assert result.rows == 20
    assert windows(sqlite_settings)[0].retention[12] == 50.0


@pytest.mark.parametrize(
    ("bad_row", "field"),
    [
        ("not-a-time,tiny,ep1,v1-thumb,z,play,,,,,", "ts"),
        ("2026-11-16T08:00:00Z,tiny,ep1,v1-thumb,z,watch,,,,,", "type"),
        ("2026-11-16T08:00:00Z,tiny,ep1,v1-thumb,z,progress,,,,,", "position_s"),
        ("2026-11-16T08:00:00Z,tiny,ep1,v1-thumb,z,progress,-3,,,,", "position_s"),
        ("2026-11-16T08:00:00Z,tiny,ep9,v1-thumb,z,play,,,,,", "episode_id"),
        ("2026-11-16T08:00:00Z,other,ep1,v1-thumb,z,play,,,,,", "episode_id"),
        ("2026-11-16T08:00:00Z,tiny,ep1,v1-thumb,,play,,,,,", "viewer_id"),
        ("2026-11-16T08:00:00Z,tiny,ep1,v1-thumb,z,purchase,,lots,,,", "value"),
        ("2026-11-16T08:00:00Z,tiny,ep1,v1-thumb,z,play,,,,,maybe", "returning"),
    ],
)
def test_bad_line_in_the_middle_stores_nothing(
    settings: Settings, tiny_series: Path, tmp_path: Path, bad_row: str, field: str
) -> None:
    add_series_file(settings, tiny_series)
    rows = [*ROWS[:10], bad_row, *ROWS[10:]]
    path = write_csv(tmp_path / "bad.csv", rows)
    with pytest.raises(InputError) as caught:
        ingest_events(settings, path)
    error = caught.value
    assert error.line == 12  # header is line 1, the bad row is the 11th data row
    assert error.field == field
    assert f"bad.csv:12: field {field!r}" in str(error)
    assert windows(settings) == []
    assert event_files(settings, "tiny") == []


def test_bad_row_keeps_what_was_stored_before(
    sqlite_settings: Settings, tiny_series: Path, tmp_path: Path
) -> None:
    add_series_file(sqlite_settings, tiny_series)
    ingest_events(sqlite_settings, write_csv(tmp_path / "good.csv", ROWS))
    before = [(w.impressions, w.retention) for w in windows(sqlite_settings)]
    bad = write_csv(tmp_path / "bad.csv", [ROWS[0], "2026-11-16T08:00:00Z,tiny,ep1,v,z,oops,,,,,"])
    with pytest.raises(InputError):
        ingest_events(sqlite_settings, bad)
    assert [(w.impressions, w.retention) for w in windows(sqlite_settings)] == before
    assert count_events(sqlite_settings, "tiny") == 20


def test_missing_column_names_the_header(
    sqlite_settings: Settings, tiny_series: Path, tmp_path: Path
) -> None:
    add_series_file(sqlite_settings, tiny_series)
    path = write_csv(
        tmp_path / "e.csv",
        ["2026-11-16T08:00:00Z,tiny,ep1,v1,a"],
        header="ts,series_id,episode_id,variant_id,viewer_id",
    )
    with pytest.raises(InputError, match=r"e.csv:1: missing required column\(s\) type"):
        ingest_events(sqlite_settings, path)


def test_unsupported_file_type(sqlite_settings: Settings, tmp_path: Path) -> None:
    path = tmp_path / "events.xlsx"
    path.write_text("x")
    with pytest.raises(InputError, match="unsupported file type"):
        ingest_events(sqlite_settings, path)
