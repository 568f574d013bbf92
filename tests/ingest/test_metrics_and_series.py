"""Series bundles and platform metric exports."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlmodel import select

from writers_room.brief.bundle import load_bundle
from writers_room.config import Settings
from writers_room.errors import InputError
from writers_room.ingest.metrics import ingest_metrics
from writers_room.ingest.series import add_series_file
from writers_room.store.db import session_scope
from writers_room.store.models import BriefVersion, Episode, MetricWindow, Series, Variant

HEADER = (
    "series_id,episode_id,variant_id,window_start,window_hours,impressions,clicks,views,"
    "completions,shares,saves,comments,follows,conversions,revenue,avg_view_s,retention"
)


def metric_line(retention: list[float], impressions: int = 1000, episode: str = "ep1") -> str:
    curve = json.dumps(retention).replace('"', '""')
    return (
        f"tiny,{episode},v1-thumb,2026-11-16T00:00:00Z,24,{impressions},50,45,15,3,2,4,1,1,"
        f'1.99,11.5,"{curve}"'
    )


def test_series_add_registers_everything(settings: Settings, tiny_series: Path) -> None:
    result = add_series_file(settings, tiny_series)
    assert result.created and result.episodes_added == ["ep1", "ep2"]
    assert result.variants_added == 2
    with session_scope(settings) as session:
        series = session.get(Series, "tiny")
        assert series is not None and series.approvers == ["U0SHOW"]
        assert series.constraints["runtime_s"] == [10.0, 90.0]
        episodes = session.exec(select(Episode).order_by(Episode.position)).all()
        assert [(e.episode_id, e.current_version) for e in episodes] == [("ep1", 1), ("ep2", 1)]
        brief = session.exec(select(BriefVersion).where(BriefVersion.episode_id == "ep1")).one()
        assert brief.brief["hook"].startswith("A wave")
        assert [s["shot_id"] for s in brief.manifest["shots"]] == ["s1", "s2", "s3"]
        assert brief.manifest["series_id"] == "tiny"
        assert len(session.exec(select(Variant)).all()) == 2


def test_series_add_twice_never_rewrites_a_brief(
    settings: Settings, tiny_series: Path, tmp_path: Path
) -> None:
    add_series_file(settings, tiny_series)
    changed = tmp_path / "changed.yaml"
    changed.write_text(tiny_series.read_text().replace("A wave smashes", "A gull taps"))
    again = add_series_file(settings, changed)
    assert not again.created and again.episodes_added == [] and again.briefs_differing == ["ep1"]
    with session_scope(settings) as session:
        briefs = session.exec(select(BriefVersion).where(BriefVersion.episode_id == "ep1")).all()
        assert len(briefs) == 1 and briefs[0].brief["hook"].startswith("A wave")


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (("start_s: 5, duration_s: 10", "start_s: 6, duration_s: 10"), "contiguous"),
        (("premise: Mara finds", "premisse: Mara finds"), r"episodes\[0\]\.brief\.premise"),
        (("series_id: tiny", "series_id: 'bad id/x'"), "series_id"),
        (("runtime_s: [10, 90]", "runtime_s: [90, 10]"), "runtime_s"),
    ],
)
def test_bad_bundle_names_the_field(tiny_series: Path, edit: tuple[str, str], message: str) -> None:
    tiny_series.write_text(tiny_series.read_text().replace(*edit))
    with pytest.raises(InputError, match=message) as caught:
        load_bundle(tiny_series)
    assert str(tiny_series) in str(caught.value)


def test_bad_yaml_names_the_line(tmp_path: Path) -> None:
    path = tmp_path / "s.yaml"
    path.write_text("series_id: a\ntitle: [unclosed\n")
    with pytest.raises(InputError) as caught:
        load_bundle(path)
    assert caught.value.line is not None


def test_metrics_ingest_and_idempotency(
    settings: Settings, tiny_series: Path, tmp_path: Path
) -> None:
    add_series_file(settings, tiny_series)
    path = tmp_path / "m.csv"
    path.write_text(f"{HEADER}\n{metric_line([100, 80, 60])}\n")
    first = ingest_metrics(settings, path)
    assert (first.rows, first.inserted, first.updated) == (1, 1, 0)
    assert ingest_metrics(settings, path).inserted == 0
    path.write_text(f"{HEADER}\n{metric_line([100, 80, 60], impressions=1200)}\n")
    assert ingest_metrics(settings, path).updated == 1
    with session_scope(settings) as session:
        rows = session.exec(select(MetricWindow)).all()
        assert len(rows) == 1
        assert (rows[0].source, rows[0].impressions, rows[0].retention) == (
            "metrics",
            1200,
            [100, 80, 60],
        )


@pytest.mark.parametrize(
    ("line", "field"),
    [
        (metric_line([90, 80]), "retention"),
        (metric_line([]), "retention"),
        (metric_line([100, 180]), "retention"),
        (metric_line([100, 80], impressions=-1), "impressions"),
        (metric_line([100], episode="ep7"), "episode_id"),
        (metric_line([100]).replace("2026-11-16T00:00:00Z", "yesterday"), "window_start"),
    ],
)
def test_bad_metric_row_stores_nothing(
    settings: Settings, tiny_series: Path, tmp_path: Path, line: str, field: str
) -> None:
    add_series_file(settings, tiny_series)
    path = tmp_path / "m.csv"
    path.write_text(f"{HEADER}\n{metric_line([100, 50])}\n{line}\n")
    with pytest.raises(InputError) as caught:
        ingest_metrics(settings, path)
    assert (caught.value.line, caught.value.field) == (3, field)
    with session_scope(settings) as session:
        assert session.exec(select(MetricWindow)).all() == []
