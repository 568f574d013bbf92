"""The benchmark harness (``make bench``): registry, timing loop, table and result file.

The scenarios themselves take minutes; here a tiny one goes through the same loop, and
the standalone x264 ladder benchmark runs on a few frames.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from benchmarks import _harness
from benchmarks._harness import Scenario, run_in_process, save, scenario, table


def test_every_documented_scenario_is_registered() -> None:
    from benchmarks import scenarios  # noqa: F401  (registers them)

    expected = {
        "comments_ingest",
        "comments_plain_st",
        "chroma_write",
        "comments_1m",
        "events_ingest",
        "demo",
        "review",
        "review_graph",
        "render_full",
        "render_preview",
        "graph",
    }
    assert expected <= set(_harness.SCENARIOS)
    readme = (Path(__file__).parents[1] / "README.md").read_text()
    for name in expected:
        assert f"`{name}`" in readme, f"README's benchmark table does not mention {name}"


def test_a_scenario_is_warmed_up_timed_and_saved(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(_harness, "DATA", tmp_path / "data")
    monkeypatch.setattr(_harness, "RESULTS", tmp_path / "results")
    calls: list[Path] = []

    def run(state: dict[str, int], work: Path) -> dict[str, int]:
        calls.append(work)
        return {"items": state["items"]}

    scenario(
        Scenario(
            name="tiny_test_scenario",
            target="none",
            setup=lambda work: {"items": 1000},
            run=run,
            work=lambda state: state["items"],
            unit="items/s",
            repeats=3,
        )
    )
    try:
        result = run_in_process("tiny_test_scenario", None)
    finally:
        del _harness.SCENARIOS["tiny_test_scenario"]
    assert len(calls) == 4 and result.runs == 3  # one warm-up, three timed
    assert calls[0] == tmp_path / "data" / "tiny_test_scenario"
    assert result.min_s <= result.median_s <= result.max_s
    assert result.throughput and result.throughput > 0 and result.peak_rss_mb > 0
    assert result.extra == {"items": 1000}
    assert "| tiny_test_scenario | none |" in table([result])
    saved = json.loads(save([result]).read_text())
    assert saved["results"]["tiny_test_scenario"]["runs"] == 3
    assert "cores" in saved["machine"]


def test_the_x264_ladder_benchmark_times_and_scores_the_ladder(tmp_path: Path) -> None:
    out = tmp_path / "ladder.json"
    subprocess.run(
        [sys.executable, "benchmarks/x264_ladder.py", "--frames", "24", "--repeats", "1"]
        + ["--variants", "the room's", "--quality", "--quality-frames", "12", "--json", str(out)],
        check=True,
        capture_output=True,
        cwd=Path(__file__).resolve().parents[1],
        timeout=300,
    )
    report = json.loads(out.read_text())
    (variant,) = report["variants"].values()
    assert variant["cpu_median_s"] > 0 and variant["runs"][0]["top_rung_kbps"] > 0
    rows = {(row["rung"], row["preset"]) for row in report["quality"]}
    assert ("1080x1920", "veryfast") in rows and ("360x640", "superfast") in rows
    assert all(0 < row["ssim"] <= 1 and row["psnr_db"] > 20 for row in report["quality"])
