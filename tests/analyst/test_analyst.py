"""analyse() on the hand-computed gold series, on SQLite and PostgreSQL."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from rich.console import Console

from writers_room.analyst.window import analyse, render_report_text, report_dir, report_json
from writers_room.config import Settings
from writers_room.errors import InputError

DAY2_END = datetime(2026, 11, 17, tzinfo=UTC)  # the window of day 1
DAY3_END = datetime(2026, 11, 18, tzinfo=UTC)  # the window of day 2

CONTRACT_EPISODE_KEYS = {
    "episode_id", "score", "band", "components", "metrics", "cliff", "findings", "variants",
    "winner",
}  # fmt: skip


def test_scorecard_matches_the_hand_computation(gold_room: Settings) -> None:
    report = analyse(gold_room, "gold", window_end=DAY2_END, write=False)
    assert report.window_start == "2026-11-16T00:00:00Z"
    assert report.window_end == "2026-11-17T00:00:00Z"
    scores = {e.episode_id: e for e in report.episodes}
    assert list(scores) == ["e1", "e2", "e3", "e4"]

    # e1, e2: fewer than two earlier episodes -> benchmarks (CTR 5 %, r10 52.5 %,
    # completion 37.5 %, engagement 5 %, conversions 0.5 %, revenue $0.01 per view).
    e1 = scores["e1"]
    assert e1.cohort == [] and set(e1.target_sources.values()) == {"benchmark"}
    assert e1.components.ctr == pytest.approx(20.0)
    assert e1.components.retention_10s == pytest.approx(30 * 0.50 / 0.525)
    assert e1.components.completion == pytest.approx(20 * 0.30 / 0.375)
    assert (e1.components.engagement, e1.components.commercial) == (15.0, 15.0)
    assert e1.score == 94.57 and e1.band == "double_down"
    assert scores["e2"].score == 96.0

    # e3: cohort of e1 and e2 -> medians of two are their means.
    e3 = scores["e3"]
    assert e3.cohort == ["e1", "e2"]
    assert e3.targets["ctr"] == pytest.approx(0.045)
    assert e3.targets["retention_10s"] == pytest.approx(0.55)
    assert e3.components.retention_10s == pytest.approx(30 * 0.40 / 0.55)
    assert e3.components.completion == pytest.approx(20 * 0.20 / 0.35)
    assert e3.components.engagement == pytest.approx(15 * 0.04 / 0.055)
    assert e3.components.commercial == 0.0
    assert e3.score == 64.16 and e3.band == "adjust_pacing"

    # e4: cohort e1-e3 (medians: CTR 5 %, r10 50 %, completion 30 %, engagement 5 %,
    # conversions 1 %, revenue $0.02). Two variants: 2000 impressions, 80 clicks,
    # 80 starters, r10 = (50*40 + 30*60)/80 = 47.5 %, 20 completions, 6 engagements,
    # 1 conversion, $1.00.
    e4 = scores["e4"]
    assert e4.cohort == ["e1", "e2", "e3"]
    assert e4.metrics.ctr == pytest.approx(0.04)
    assert e4.metrics.retention_10s == pytest.approx(0.475)
    assert e4.components.ctr == pytest.approx(16.0)
    assert e4.components.retention_10s == pytest.approx(28.5)
    assert e4.components.completion == pytest.approx(20 * 0.25 / 0.30)
    assert e4.components.engagement == 15.0
    assert e4.components.commercial == pytest.approx(15 * (1 + 0.625) / 2)
    assert e4.score == 88.35 and e4.band == "double_down"


def test_cliff_maps_to_the_shot(gold_room: Settings) -> None:
    report = analyse(gold_room, "gold", window_end=DAY2_END, write=False)
    e4 = next(e for e in report.episodes if e.episode_id == "e4")
    assert e4.cliff is not None
    # v1 (50 of 80 starters) loses 15 extra points during second 12.
    assert e4.cliff.second == 12
    assert e4.cliff.shot_id == "s3" and e4.cliff.caption == "Backstory"
    assert e4.cliff.action == "Long recap"
    assert e4.cliff.drop_pct == pytest.approx(e4.retention_curve[11] - e4.retention_curve[14])


def test_variants_and_winner(gold_room: Settings) -> None:
    report = analyse(gold_room, "gold", window_end=DAY2_END, write=False)
    e4 = next(e for e in report.episodes if e.episode_id == "e4")
    v1, v2 = e4.variants
    assert (v1.variant_id, v2.variant_id) == ("v1-thumb", "v2-title")
    assert v1.p_best_ctr + v2.p_best_ctr == pytest.approx(1.0)
    assert v1.p_best_ctr > 0.95 and e4.winner == "v1-thumb"
    assert v2.p_best_retention > v1.p_best_retention
    assert e4.winner_retention is None  # v2 has only 30 starters
    assert v1.watch_time_share == pytest.approx(50 * 7 / (50 * 7 + 30 * 9))
    e1 = next(e for e in report.episodes if e.episode_id == "e1")
    assert e1.winner is None and e1.variant_verdict.startswith("single variant")


def test_default_window_is_the_last_closed_one_and_spans_sum(gold_room: Settings) -> None:
    report = analyse(gold_room, "gold", write=False)
    assert report.window_end == "2026-11-18T00:00:00Z"
    assert [e.episode_id for e in report.episodes] == ["e1", "e4"]
    e4 = report.episodes[1]
    assert e4.age_days == 1 and e4.cohort == []  # only e1 has an age-1 window
    assert e4.metrics.impressions == 1000
    assert e4.metrics_72h is not None and e4.metrics_72h.impressions == 3000
    assert e4.metrics_72h.clicks == 140 and e4.metrics_72h.starts == 140
    assert e4.metrics_7d == e4.metrics_72h
    assert report.spans["72h"].windows == 2 and report.spans["24h"].windows == 1


def test_report_json_has_the_contract_keys(gold_room: Settings) -> None:
    report = analyse(gold_room, "gold", window_end=DAY2_END, write=False)
    data = json.loads(report_json(report))
    assert {"series_id", "window_start", "window_end", "episodes", "themes", "flags"} <= set(data)
    for episode in data["episodes"]:
        assert CONTRACT_EPISODE_KEYS <= set(episode)
        assert episode["band"] in ("iterate_hook", "adjust_pacing", "double_down")
        assert set(episode["components"]) == {
            "retention_10s", "ctr", "completion", "engagement", "commercial"
        }  # fmt: skip
        assert {"impressions", "ctr", "retention_3s", "retention_10s", "completion"} <= set(
            episode["metrics"]
        )
        # A cliff only where one second is steeper than the comparison curves: e4's.
        if episode["episode_id"] == "e4":
            assert {"second", "drop_pct", "shot_id", "compared_with"} <= set(episode["cliff"])
        else:
            assert episode["cliff"] is None
        for variant in episode["variants"]:
            assert {"variant_id", "p_best_ctr", "p_best_retention", "watch_time_share"} <= set(
                variant
            )
        for finding in episode["findings"]:
            assert {"kind", "evidence"} <= set(finding)


def test_written_report_is_byte_identical_across_runs(gold_room: Settings) -> None:
    first = analyse(gold_room, "gold", window_end=DAY2_END)
    folder = report_dir(gold_room, first)
    assert folder == gold_room.home / "reports" / "gold" / "2026-11-17T00-00-00Z"
    files = {p.name: p.read_bytes() for p in folder.iterdir()}
    assert sorted(files) == sorted(first.files)
    assert {"report.json", "report.html", "scorecard.png", "retention-e4.png"} <= set(files)
    assert json.loads(files["report.json"])["episodes"][3]["score"] == 88.35
    html = files["report.html"].decode()
    assert "data:image/png;base64," in html and 'src="http' not in html
    analyse(gold_room, "gold", window_end=DAY2_END)
    assert {p.name: p.read_bytes() for p in folder.iterdir()} == files


def test_bad_windows_and_series_are_input_errors(gold_room: Settings) -> None:
    with pytest.raises(InputError, match="not a window boundary"):
        analyse(gold_room, "gold", window_end=datetime(2026, 11, 17, 5, tzinfo=UTC))
    with pytest.raises(InputError, match="no data in the window"):
        analyse(gold_room, "gold", window_end=datetime(2026, 12, 1, tzinfo=UTC))
    with pytest.raises(InputError, match="not registered"):
        analyse(gold_room, "nope")
    # A naive window end is read as UTC.
    assert analyse(gold_room, "gold", window_end=datetime(2026, 11, 17), write=False).episodes


def test_segments_need_raw_events_and_valid_keys(gold_room: Settings) -> None:
    with pytest.raises(InputError, match="segment key 'age'"):
        analyse(gold_room, "gold", segment={"age": "18-24"})
    with pytest.raises(InputError, match="true or false"):
        analyse(gold_room, "gold", segment={"returning": "sometimes"})
    with pytest.raises(InputError, match="no raw events"):
        analyse(gold_room, "gold", segment={"platform": "tiktok"})


def test_window_hour_moves_the_boundaries(settings: Settings, gold_series: Path) -> None:
    shifted = settings.model_copy(update={"window_hour": 6})
    from writers_room.ingest.series import add_series_file

    add_series_file(shifted, gold_series)
    with pytest.raises(InputError, match="06:00 UTC"):
        analyse(shifted, "gold", window_end=DAY2_END)


def test_no_closed_window_yet(settings: Settings, gold_series: Path) -> None:
    from writers_room.ingest.series import add_series_file

    add_series_file(settings, gold_series)
    with pytest.raises(InputError, match="no closed 24-hour metric window"):
        analyse(settings, "gold")


def test_terminal_rendering(gold_room: Settings) -> None:
    report = analyse(gold_room, "gold", window_end=DAY2_END, write=False)
    console = Console(record=True, width=160)
    console.print(render_report_text(report))
    text = console.export_text()
    assert "88.3" in text and "double down" in text and "s3" in text
    assert "v1-thumb wins on CTR" in text


def test_analyse_has_no_side_effects_but_its_report_files(gold_room: Settings) -> None:
    def listing() -> set[str]:
        return {
            str(p.relative_to(gold_room.home))
            for p in gold_room.home.rglob("*")
            if not p.name.startswith("room.db")
        }

    before = listing()
    analyse(gold_room, "gold", window_end=DAY2_END, write=False)
    assert listing() == before  # no comment index is created either
    analyse(gold_room, "gold", window_end=DAY2_END)
    assert {p.split("/")[0] for p in listing() - before} == {"reports"}


def test_comment_intelligence_on_each_backend(gold_room: Settings, tmp_path: Path) -> None:
    from writers_room.ingest.comments import ingest_comments

    lines = []
    spam = "FREE COINS for every episode at https://spam.example/x?t=1 today!!"
    for i in range(12):  # a burst: 12 copies inside one minute, on day 1
        lines.append(("e4", f"bot{i}", spam, f"2026-11-16T10:00:{i * 4:02d}Z"))
    for i in range(6):
        lines.append(
            ("e4", f"fan{i}", f"who sent the letter to Ada?? part {i}", "2026-11-16T12:00:00Z")
        )
    lines.append(("e4", "fan9", "Max Weber is so slimy", "2026-11-16T13:00:00Z"))
    lines.append(("e4", "late", "this is on day two", "2026-11-17T01:00:00Z"))
    path = tmp_path / "comments.jsonl"
    path.write_text(
        "".join(
            json.dumps({"comment_id": f"g{i:03d}", "series_id": "gold", "episode_id": ep,
                        "author_id": author, "text": text, "ts": ts, "likes": i})
            + "\n"
            for i, (ep, author, text, ts) in enumerate(lines)
        )
    )  # fmt: skip
    ingest_comments(gold_room, path)
    report = analyse(gold_room, "gold", window_end=DAY2_END, write=False)
    assert report.comment_scope.comments == 19  # the day-two comment is outside the window
    assert report.comment_scope.excluded == 12 and report.comment_scope.themed == 7
    burst = [f for f in report.flags if f.kind == "duplicate_burst"]
    assert len(burst) == 1 and burst[0].evidence["seconds"] == 44
    assert burst[0].comment_ids == [f"g{i:03d}" for i in range(12)]
    e4 = next(e for e in report.episodes if e.episode_id == "e4")
    assert e4.audience is not None and e4.audience.questions == 6
    assert e4.audience.distinct_authors == 7
    names = {c.name: c.comments for c in report.characters}
    assert names == {"Ada Byron": 6, "Max Weber": 1}
    assert sum(t.comments for t in report.themes) == 7
