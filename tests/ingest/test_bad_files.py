"""Bad input files: each one is a clear error (exit 2) naming file, line and field.

Nothing from a refused file is stored, and nothing stored before is lost.
"""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest
from sqlmodel import select
from typer.testing import CliRunner

from writers_room.cli import app
from writers_room.config import Settings
from writers_room.errors import InputError
from writers_room.ingest.comments import ingest_comments
from writers_room.ingest.events import ingest_events
from writers_room.ingest.metrics import ingest_metrics
from writers_room.ingest.series import add_series_file
from writers_room.render.validate import is_safe_id
from writers_room.store.db import session_scope
from writers_room.store.events import event_files
from writers_room.store.models import Comment, Episode, MetricWindow

runner = CliRunner()

EVENTS_HEADER = (
    "ts,series_id,episode_id,variant_id,viewer_id,type,position_s,value,platform,country,returning"
)
METRICS_HEADER = (
    "series_id,episode_id,variant_id,window_start,window_hours,impressions,clicks,views,"
    "completions,shares,saves,comments,follows,conversions,revenue,avg_view_s,retention"
)


def events_csv(n: int = 200) -> str:
    rows = [
        f"2026-11-16T08:{i % 60:02d}:00Z,tiny,ep1,v1-thumb,viewer-{i},impression,,,app,US,false"
        for i in range(n)
    ]
    return "\n".join([EVENTS_HEADER, *rows]) + "\n"


def events_jsonl(n: int = 200) -> str:
    return "".join(
        json.dumps(
            {
                "ts": "2026-11-16T08:00:00Z",
                "series_id": "tiny",
                "episode_id": "ep1",
                "variant_id": "v1-thumb",
                "viewer_id": f"viewer-{i}",
                "type": "impression",
            }
        )
        + "\n"
        for i in range(n)
    )


def metric_line(
    *, variant: str = "v1-thumb", impressions: int = 1000, clicks: int = 50, completions: int = 15
) -> str:
    curve = json.dumps([100.0, 60.0]).replace('"', '""')
    return (
        f"tiny,ep1,{variant},2026-11-16T00:00:00Z,24,{impressions},{clicks},45,{completions},"
        f'3,2,4,1,1,1.99,11.5,"{curve}"'
    )


def invoke(settings: Settings, *args: str) -> tuple[int, str]:
    result = runner.invoke(app, ["--home", str(settings.home), *args])
    assert result.exception is None or isinstance(result.exception, SystemExit), result.output
    return result.exit_code, result.output


# ---------------------------------------------------------------- truncated .gz events


@pytest.mark.parametrize(("suffix", "body"), [(".csv.gz", events_csv), (".jsonl.gz", events_jsonl)])
def test_truncated_gzip_events_exit_2(
    sqlite_settings: Settings, tiny_series: Path, tmp_path: Path, suffix: str, body: object
) -> None:
    add_series_file(sqlite_settings, tiny_series)
    whole = gzip.compress(body().encode())  # type: ignore[operator]
    path = tmp_path / f"events{suffix}"
    path.write_bytes(whole[: len(whole) // 2])
    code, output = invoke(sqlite_settings, "ingest", "events", str(path))
    assert code == 2, output
    assert "cut short" in output and "Traceback" not in output
    assert event_files(sqlite_settings, "tiny") == []


def test_gzip_cut_anywhere_in_a_big_file_stores_nothing(
    sqlite_settings: Settings, tiny_series: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The chunked reader (small chunks here) meets the cut after some chunks parsed."""
    from writers_room.ingest.events import reading

    monkeypatch.setattr(reading, "CHUNK_BYTES", 4096)
    add_series_file(sqlite_settings, tiny_series)
    whole = gzip.compress(events_csv(5000).encode(), compresslevel=1)
    path = tmp_path / "events.csv.gz"
    path.write_bytes(whole[:-20])
    with pytest.raises(InputError, match="cut short"):
        ingest_events(sqlite_settings, path)
    assert event_files(sqlite_settings, "tiny") == []


# ---------------------------------------------------------------- series add


def test_series_add_on_a_directory_binary_or_non_utf8_file_exits_2(
    sqlite_settings: Settings, tmp_path: Path
) -> None:
    binary = tmp_path / "binary.yaml"
    binary.write_bytes(bytes(range(256)) * 4)
    latin = tmp_path / "latin.yaml"
    latin.write_bytes(b"series_id: tiny\ntitle: Caf\xe9 Tides\n")
    cases = {
        str(tmp_path): "is a directory",
        str(binary): "not UTF-8",
        str(latin): f"{latin}:2: not UTF-8",
    }
    for target, expected in cases.items():
        code, output = invoke(sqlite_settings, "series", "add", target)
        assert code == 2, output
        assert expected in " ".join(output.split()), output


@pytest.mark.parametrize(
    ("old", "new", "where"),
    [
        ("episode_id: ep2", "episode_id: ../../x", ":31: field episodes[1].episode_id"),
        ("episode_id: ep2", "episode_id: 'ep2/..'", ":31: field episodes[1].episode_id"),
        (
            "shot_id: s2, start_s: 5",
            "shot_id: ../s2, start_s: 5",
            ":29: field episodes[0].shots[1].shot_id",
        ),
        (
            "shot_id: s2, start_s: 5",
            "shot_id: 'a b', start_s: 5",
            ":29: field episodes[0].shots[1].shot_id",
        ),
    ],
)
def test_series_add_refuses_unsafe_ids(
    settings: Settings, tiny_series: Path, tmp_path: Path, old: str, new: str, where: str
) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(tiny_series.read_text().replace(old, new, 1))
    with pytest.raises(InputError, match="not a safe id") as caught:
        add_series_file(settings, bad)
    assert where in str(caught.value)
    assert caught.value.line in (29, 31) and caught.value.field
    with session_scope(settings) as session:
        assert session.exec(select(Episode)).all() == []


def test_safe_id_rule_is_the_render_rule() -> None:
    assert is_safe_id("ep1") and is_safe_id("s-01.v2_a")
    for bad in ("../../x", "..", ".", "", "a/b", "ep1\n", "-x", "x" * 129, "é1"):
        assert not is_safe_id(bad), bad


def test_series_add_names_both_lines_of_a_duplicate_id(
    sqlite_settings: Settings, tiny_series: Path, tmp_path: Path
) -> None:
    dup_episode = tmp_path / "dup-episode.yaml"
    dup_episode.write_text(tiny_series.read_text().replace("episode_id: ep2", "episode_id: ep1"))
    with pytest.raises(InputError, match=r"dup-episode.yaml:31: .*'ep1' is used twice") as e:
        add_series_file(sqlite_settings, dup_episode)
    assert "lines 18 and 31" in str(e.value)
    dup_shot = tmp_path / "dup-shot.yaml"
    dup_shot.write_text(tiny_series.read_text().replace("shot_id: s3", "shot_id: s1"))
    with pytest.raises(InputError, match=r"shots\[2\].shot_id: 's1' is used twice") as e:
        add_series_file(sqlite_settings, dup_shot)
    assert "lines 28 and 30" in str(e.value)


def test_series_add_validation_errors_name_the_line(
    sqlite_settings: Settings, tiny_series: Path, tmp_path: Path
) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(tiny_series.read_text().replace("title: The Letter", "title: [1, 2]"))
    with pytest.raises(InputError, match=r"bad.yaml:19: field episodes\[0\].title"):
        add_series_file(sqlite_settings, bad)
    month = tmp_path / "month.yaml"
    month.write_text(tiny_series.read_text().replace("title: The Letter", "title: 2001-13-01"))
    with pytest.raises(InputError, match="not valid YAML"):
        add_series_file(sqlite_settings, month)


# ---------------------------------------------------------------- duplicates and parents


def test_metrics_duplicate_row_names_both_lines(
    settings: Settings, tiny_series: Path, tmp_path: Path
) -> None:
    add_series_file(settings, tiny_series)
    path = tmp_path / "metrics.csv"
    lines = [METRICS_HEADER, metric_line(), metric_line(variant="v2-hook"), metric_line(clicks=9)]
    path.write_text("\n".join(lines) + "\n")
    with pytest.raises(InputError, match=r"metrics.csv:4: .* is already on line 2") as caught:
        ingest_metrics(settings, path)
    assert caught.value.line == 4
    with session_scope(settings) as session:
        assert session.exec(select(MetricWindow)).all() == []


@pytest.mark.parametrize(
    ("row", "field"),
    [
        (metric_line(impressions=10, clicks=11), "clicks"),
        (metric_line(completions=46), "completions"),
    ],
)
def test_metrics_count_above_its_parent_is_refused(
    settings: Settings, tiny_series: Path, tmp_path: Path, row: str, field: str
) -> None:
    add_series_file(settings, tiny_series)
    path = tmp_path / "metrics.csv"
    path.write_text("\n".join([METRICS_HEADER, metric_line(variant="v2-hook"), row]) + "\n")
    with pytest.raises(InputError, match=f"metrics.csv:3: field '{field}'.*exceeds") as caught:
        ingest_metrics(settings, path)
    assert caught.value.field == field
    with session_scope(settings) as session:
        assert session.exec(select(MetricWindow)).all() == []


def comment(comment_id: str, text: str = "what a twist") -> dict[str, object]:
    return {
        "comment_id": comment_id,
        "series_id": "tiny",
        "episode_id": "ep1",
        "author_id": "someone",
        "text": text,
        "ts": "2026-11-16T10:00:00Z",
        "likes": 1,
    }


def test_comments_duplicate_id_names_both_lines(
    settings: Settings, tiny_series: Path, tmp_path: Path
) -> None:
    add_series_file(settings, tiny_series)
    path = tmp_path / "comments.jsonl"
    rows = [comment("c1"), comment("c2"), comment("c1", "a different text")]
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    with pytest.raises(InputError, match=r"comments.jsonl:3: field 'comment_id': 'c1' .*line 1"):
        ingest_comments(settings, path)
    with session_scope(settings) as session:
        assert session.exec(select(Comment)).all() == []


@pytest.mark.parametrize("text", ["nul \x00 inside", "lone \ud800 surrogate"])
def test_comments_with_unstorable_characters_exit_2(
    settings: Settings, tiny_series: Path, tmp_path: Path, text: str
) -> None:
    add_series_file(settings, tiny_series)
    path = tmp_path / "comments.jsonl"
    path.write_text(json.dumps(comment("c1", text)) + "\n")  # JSON escapes keep the file UTF-8
    with pytest.raises(InputError, match=r"comments.jsonl:1: field 'text': contains") as caught:
        ingest_comments(settings, path)
    assert "nul" not in str(caught.value) and "lone" not in str(caught.value)  # text withheld
    with session_scope(settings) as session:
        assert session.exec(select(Comment)).all() == []
