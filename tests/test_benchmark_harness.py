"""The benchmark harness (``make bench``): registry, timing loop, table and result file.

The scenarios themselves take minutes; here a tiny one goes through the same loop.
"""

from __future__ import annotations

import json
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
