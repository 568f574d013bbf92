"""Raw events: validation, Parquet storage, idempotency, per-second retention."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest
from sqlmodel import select

from writers_room.config import Settings
from writers_room.errors import InputError
from writers_room.ingest.events import ingest_events, retention_curve
from writers_room.ingest.redact import viewer_hash
from writers_room.ingest.series import add_series_file
from writers_room.store.db import session_scope
from writers_room.store.events import event_files
from writers_room.store.models import MetricWindow, Variant
from writers_room.store.status import count_events

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


def stored_rows(settings: Settings) -> list[dict[str, object]]:
    """Every stored event (with its partition), in a stable order."""
    import duckdb

    from writers_room.store.events import parquet_source

    files = [str(p) for p in settings.events_path.rglob("*.parquet")]
    if not files:
        return []
    con = duckdb.connect()
    con.execute("SET TimeZone='UTC'")
    result = con.execute(f"SELECT * FROM {parquet_source(files)}")
    names = [d[0] for d in result.description]
    return sorted((dict(zip(names, row, strict=True)) for row in result.fetchall()), key=repr)


def window_values(settings: Settings) -> list[tuple[object, ...]]:
    return sorted(
        (w.episode_id, w.variant_id, w.window_start, w.impressions, w.views, w.completions)
        + (w.avg_view_s, *w.retention)
        for w in windows(settings)
    )


def test_gzip_read_in_chunks_matches_the_plain_file(
    tmp_path: Path, tiny_series: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from writers_room.ingest.events import reading

    # Quoted newlines and blank lines across many small chunks: the same rows and windows
    # as reading the plain file in one go.
    rows = [r.replace(",tiktok,", ',"tik\ntok",') for r in ROWS] * 30
    rows = [f"{r}\n" if i % 17 == 0 else r for i, r in enumerate(rows)]
    text = "\n".join([HEADER, *rows]) + "\n"
    plain = tmp_path / "events.csv"
    plain.write_text(text)
    packed = tmp_path / "events.csv.gz"
    with gzip.open(packed, "wt", newline="") as out:
        out.write(text)
    results = []
    for name, path in (("plain", plain), ("packed", packed)):
        room = Settings(home=tmp_path / name, pii_key="test-key")
        add_series_file(room, tiny_series)
        monkeypatch.setattr(reading, "CHUNK_BYTES", 1000)
        result = ingest_events(room, path)
        assert (result.rows, result.inserted) == (600, 20)  # 30 copies of 20 distinct rows
        results.append((stored_rows(room), window_values(room)))
    assert results[0] == results[1]
    assert len(results[0][0]) == 20


def test_gzip_chunks_report_the_right_line(
    sqlite_settings: Settings, tiny_series: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from writers_room.ingest.events import reading

    add_series_file(sqlite_settings, tiny_series)
    rows = [r.replace(",app,", ',"a\nb",') for r in ROWS] * 20  # each row spans 2 lines
    rows.insert(300, "2026-11-16T08:00:00Z,tiny,ep1,v1-thumb,z,progress,-1,,,,")
    path = tmp_path / "events.csv.gz"
    with gzip.open(path, "wt", newline="") as out:
        out.write("\n".join([HEADER, *rows, ""]))
    monkeypatch.setattr(reading, "CHUNK_BYTES", 2000)
    with pytest.raises(InputError) as caught:
        ingest_events(sqlite_settings, path)
    before = rows[:300]
    assert caught.value.line == 2 + len(before) + sum(r.count("\n") for r in before)
    assert caught.value.field == "position_s" and caught.value.value == "-1"
    assert event_files(sqlite_settings, "tiny") == []


def test_padded_values_are_trimmed_and_duplicates_stored_once(
    sqlite_settings: Settings, tiny_series: Path, tmp_path: Path
) -> None:
    add_series_file(sqlite_settings, tiny_series)
    nbsp = "\u00a0"
    rows = [
        f" 2026-11-16T08:00:00Z , tiny ,{nbsp}ep1{nbsp}, v1-thumb ,  a , play ,,"
        ", tiktok , us , TRUE ",
        f"2026-11-16T08:00:05Z,tiny,ep1,v1-thumb,a,progress,{nbsp}3.5 ,,app,Gb, yes ",
        "1794819600000,tiny,ep1,v1-thumb,b,impression,,,app,,N",
        "2026-11-16T08:00:05Z,tiny,ep1,v1-thumb,a,progress,3.5,,app,GB,true",  # = row 2
    ]
    result = ingest_events(sqlite_settings, write_csv(tmp_path / "e.csv", rows))
    assert (result.rows, result.inserted) == (4, 3)
    stored = {
        (r["viewer_id"], r["type"], r["position_s"], r["platform"], r["country"], r["returning"])
        for r in stored_rows(sqlite_settings)
    }
    a, b = (viewer_hash(v, sqlite_settings.author_key) for v in ("a", "b"))
    assert stored == {
        (a, "play", None, "tiktok", "US", True),
        (a, "progress", 3.5, "app", "GB", True),
        (b, "impression", None, "app", None, False),
    }


def test_window_straddling_two_days_reads_the_untouched_day(
    tmp_path: Path, tiny_series: Path
) -> None:
    room = Settings(home=tmp_path / "home", pii_key="test-key", window_hour=6)
    add_series_file(room, tiny_series)
    ingest_events(room, write_csv(tmp_path / "a.csv", ROWS))
    # The window [16th 06:00, 17th 06:00) holds the 16th's starters; these late rows fall
    # on the 17th, whose partition is rewritten while the 16th's is only read.
    late = [
        "2026-11-17T03:00:00Z,tiny,ep1,v1-thumb,l,play,,,app,FR,",
        "2026-11-17T03:00:09Z,tiny,ep1,v1-thumb,l,progress,7,,app,FR,",
    ]
    result = ingest_events(room, write_csv(tmp_path / "b.csv", late))
    assert (result.inserted, result.partitions, result.windows) == (2, 1, 1)
    window = windows(room)[0]
    assert window.window_start.isoformat() == "2026-11-16T06:00:00+00:00"
    assert (window.impressions, window.views, window.completions) == (5, 5, 1)
    assert window.retention[7] == 60.0  # a (3.5 s) and d (0 s) dropped before 7 s


def test_header_only_file_stores_nothing(
    sqlite_settings: Settings, tiny_series: Path, tmp_path: Path
) -> None:
    add_series_file(sqlite_settings, tiny_series)
    result = ingest_events(sqlite_settings, write_csv(tmp_path / "e.csv", []))
    assert (result.rows, result.inserted, result.partitions, result.windows) == (0, 0, 0, 0)
    assert event_files(sqlite_settings, "tiny") == []


def test_infinite_time_is_rejected(
    sqlite_settings: Settings, tiny_series: Path, tmp_path: Path
) -> None:
    add_series_file(sqlite_settings, tiny_series)
    path = write_csv(tmp_path / "e.csv", [*ROWS[:2], "infinity,tiny,ep1,v1-thumb,z,play,,,,,"])
    with pytest.raises(InputError) as caught:
        ingest_events(sqlite_settings, path)
    assert (caught.value.line, caught.value.field, caught.value.value) == (4, "ts", "infinity")


# ISO times only, ids with nothing to trim: a file the fast path can vouch for.
PLAIN_ROWS = [
    r if not r[0].isdigit() or "T" in r.split(",")[0] else "2026-11-16T10:00:00Z" + r[13:]
    for r in ROWS
]


def _fast_then_careful(
    tmp_path: Path, tiny_series: Path, monkeypatch: pytest.MonkeyPatch, path: Path
) -> tuple[list[object], list[int]]:
    """Ingest ``path`` into two rooms: as it comes (fast path where it can), then with the
    fast path declining. Returns each outcome (stored rows and windows, or the error) and
    the row counts of the fast reads that succeeded."""
    from writers_room.ingest.events import reading

    real = reading.read_fast
    fast_reads: list[int] = []

    def spy(*args: object, **kwargs: object) -> object:
        table, digest = real(*args, **kwargs)  # type: ignore[arg-type]
        fast_reads.append(table.num_rows)
        return table, digest

    def decline(*_args: object, **_kwargs: object) -> None:
        raise reading.NotPlain("test: careful read")

    outcomes: list[object] = []
    for name, read in (("fast", spy), ("careful", decline)):
        monkeypatch.setattr(reading, "read_fast", read)
        room = Settings(home=tmp_path / name, pii_key="test-key")
        add_series_file(room, tiny_series)
        try:
            result = ingest_events(room, path)
        except InputError as exc:
            outcomes.append((exc.line, exc.field, exc.value, str(exc).split(": ", 1)[1]))
        else:
            outcomes.append((result.rows, result.inserted, stored_rows(room), window_values(room)))
    return outcomes, fast_reads


@pytest.mark.parametrize("packed", [False, True], ids=["plain", "gzip"])
def test_fast_path_stores_what_the_careful_read_stores(
    tmp_path: Path, tiny_series: Path, monkeypatch: pytest.MonkeyPatch, packed: bool
) -> None:
    from writers_room.ingest.events import reading

    rows = [*PLAIN_ROWS, '2026-11-16T08:00:00Z,tiny,ep1,v1-thumb,"q,1",play,,,"re""els",US,t']
    path = write_csv(tmp_path / "events.csv", rows * 25)
    if packed:
        path = tmp_path / "events.csv.gz"
        path.write_bytes(gzip.compress((tmp_path / "events.csv").read_bytes()))
        monkeypatch.setattr(reading, "CHUNK_BYTES", 700)  # many chunks
    outcomes, fast_reads = _fast_then_careful(tmp_path, tiny_series, monkeypatch, path)
    assert fast_reads == [525]  # the fast path read the whole file
    assert outcomes[0] == outcomes[1]
    assert outcomes[0][:2] == (525, 21)  # type: ignore[index]


@pytest.mark.parametrize(
    "row",
    [
        "1794819600000,tiny,ep1,v1-thumb,a,play,,,app,US,true",  # epoch milliseconds
        "2026-11-16T08:00:00Z,tiny,ep1,v1-thumb, a,play,,,app,US,true",  # to trim
        "2026-11-16T08:00:00Z,tiny,ep1,v1-thumb,a\u00a0,play,,,app,US,true",  # NBSP
        "2026-11-16T08:00:00Z,tiny,ep1,v1-thumb,a,play,,,app,us,true",  # lower-case
        "2026-11-16T08:00:00Z, tiny,ep1,v1-thumb,a,play,,,app,US,true",  # padded series
        "2026-11-16T08:00:00Z,tiny,ep9,v1-thumb,a,play,,,app,US,true",  # unknown episode
        "2026-11-16T08:00:00Z,tiny,ep1,v1-thumb,a,play,x,,app,US,true",  # bad number
    ],
)
def test_fast_path_declines_what_it_cannot_vouch_for(
    sqlite_settings: Settings, tiny_series: Path, tmp_path: Path, row: str
) -> None:
    from writers_room.ingest.events import ingest_connection, reading, validation

    add_series_file(sqlite_settings, tiny_series)
    path = write_csv(tmp_path / "e.csv", [*PLAIN_ROWS, row])
    work = tmp_path / "work"
    work.mkdir()
    from writers_room.store.db import session_scope as scope

    with scope(sqlite_settings) as session:
        known = validation.known_episodes(session)
    con = ingest_connection(sqlite_settings, work, known)
    try:
        with pytest.raises(reading.NotPlain):
            reading.read_fast(con, path, False, work)
    finally:
        con.close()


@pytest.mark.parametrize(
    "row",
    [
        '2026-11-16T08:00:00Z,tiny,ep1,"",a,play,,,app,US,true',  # empty, quoted
        "2026-11-16T08:00:00Z,tiny,ep1,v1-thumb,a,play,,,app,US,Yes",  # yes/no, any case
        "2026-11-16T08:00:00Z,tiny,ep1,v1-thumb,a,progress,-2,,app,US,n",  # negative
        "2026-11-16T08:00:00Z,tiny,ep2,v1-thumb,a,play,,,app,US,true",  # unknown variant ok
        "2026-11-16T08:00:00Z,tiny,ep1,v1-thumb,a,play,,nan,app,US,true",  # NaN value
        "2026-11-16T08:00:00Z,tiny,ep1,v1-thumb,a,play,,,app,US,on",  # not a boolean
    ],
)
def test_fast_and_careful_reads_agree(
    tmp_path: Path, tiny_series: Path, monkeypatch: pytest.MonkeyPatch, row: str
) -> None:
    """Rows the fast path takes itself: stored, or reported, exactly as the careful read."""
    path = write_csv(tmp_path / "e.csv", [*PLAIN_ROWS, row])
    outcomes, _ = _fast_then_careful(tmp_path, tiny_series, monkeypatch, path)
    assert outcomes[0] == outcomes[1]
