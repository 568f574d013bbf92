"""`make demo` off a terminal: it approves as the sample series' approver, says so, and
ends with the path of the rendered episode.mp4."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from writers_room.cli import sample_demo
from writers_room.config import Settings


def test_demo_off_a_terminal_approves_as_the_sample_approver(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from writers_room.graphs.window_review import run
    from writers_room.store import proposals

    calls: list[dict[str, Any]] = []
    monkeypatch.setattr(proposals, "get_proposal", lambda s, pid: {"content_hash": "h-" + pid})
    monkeypatch.setattr(
        run, "decide_and_resume", lambda s, pid, **kw: calls.append({"pid": pid, **kw}) or pid
    )
    monkeypatch.setattr(sample_demo, "_sample_approver", lambda s, pid: "U0SHOWRUN1")
    reviews = {"harbor-hearts": SimpleNamespace(pending=["p-1", "p-2"])}
    settings = Settings(home=tmp_path)

    decided = sample_demo._demo_decide(
        settings, reviews, yes_as=None, interactive=False, as_sample_approver=True
    )
    assert decided == ["p-1"]
    assert calls == [
        {
            "pid": "p-1",
            "actor": "U0SHOWRUN1",
            "approve": True,
            "note": "demo",
            "shown_hash": "h-p-1",
        }
    ]
    said = " ".join(capsys.readouterr().out.split())
    assert "approving p-1 as U0SHOWRUN1, the sample series' approver" in said
    # With --json and no --yes-as nothing is decided (scripts decide for themselves).
    calls.clear()
    assert sample_demo._demo_decide(settings, reviews, yes_as=None, interactive=False) == []
    assert calls == []


def test_demo_ends_with_the_episode_path(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    job = SimpleNamespace(
        series_id="harbor-hearts", episode_id="ep03", render_id="r1", status="done", error=None
    )
    decided = [SimpleNamespace(proposal_id="p-1", decision="approved", applied_version=2)]
    sample_demo._print_demo_end(Settings(home=tmp_path), {}, decided, [job])
    out = capsys.readouterr().out
    episode = (tmp_path / "renders" / "harbor-hearts" / "ep03" / "r1" / "episode.mp4").resolve()
    assert str(episode) in out.replace("\n", "")
    assert "Watch the animatic" in out
