"""``writers-room draft --series S``: the next episode as a pending proposal, printed as a
script; approving it registers the episode at v1 and queues its render."""

from __future__ import annotations

import json
from pathlib import Path

from sqlmodel import select
from typer.testing import CliRunner

import writers_room.cli as cli
from writers_room.config import Settings
from writers_room.store.db import dispose_engines, session_scope
from writers_room.store.models import AuditLog, Episode, Proposal, RenderJob

runner = CliRunner()
APPROVER = "U0SHOW"  # the tiny series' own approver


def invoke(home: Path, *args: str) -> tuple[int, str]:
    result = runner.invoke(cli.app, ["--home", str(home), *args])
    return result.exit_code, result.output


def test_draft_prints_the_script_and_how_to_approve(tmp_path: Path, tiny_series: Path) -> None:
    home = tmp_path / "home"
    assert invoke(home, "series", "add", str(tiny_series))[0] == 0
    code, output = invoke(home, "draft", "--series", "tiny", "--as", "ana")
    assert code == 0, output
    assert output.startswith("ep3 · ")
    for label in ("Premise:", "Hook:", "Twist:", "Payoff:", "Beats:", "Script (8 shots"):
        assert label in output
    assert "sh01" in output and "Theo is soaked and bleeding" in output  # ep2's last beat
    assert "THEO: " in output and "MARA: " in output
    with session_scope(Settings(home=home)) as session:
        (row,) = session.exec(select(Proposal)).all()
    assert (row.kind, row.status, row.base_version) == ("new_episode", "pending", 0)
    with session_scope(Settings(home=home)) as session:
        asked = session.exec(select(AuditLog).where(AuditLog.action == "draft.requested")).one()
    assert (asked.actor, asked.subject) == ("ana", row.proposal_id)  # asking, not approving
    short = row.content_hash[:12]
    assert f"writers-room approve {row.proposal_id} --as NAME --hash {short}" in output
    # The change set `approve` shows is the same script.
    code, shown = invoke(home, "proposals", "show", row.proposal_id)
    assert code == 0 and "on brief v0" in shown and "Script (8 shots" in shown
    assert f"hash {short}" in shown
    dispose_engines()


def test_draft_json_then_approve_registers_and_queues_the_render(
    tmp_path: Path, tiny_series: Path
) -> None:
    home = tmp_path / "home"
    invoke(home, "series", "add", str(tiny_series))
    code, output = invoke(home, "draft", "--series", "tiny", "--json")
    assert code == 0, output
    drafted = json.loads(output)
    assert (drafted["episode_id"], drafted["after"], drafted["position"]) == ("ep3", "ep2", 2)
    assert drafted["audience"]["source"] == "none"
    proposal = drafted["proposal"]
    assert proposal["status"] == "pending" and len(drafted["manifest"]["shots"]) >= 8
    code, output = invoke(
        home,
        "approve",
        proposal["proposal_id"],
        "--as",
        APPROVER,
        "--hash",
        proposal["short_hash"],
        "--no-render",
        "--json",
    )
    assert code == 0, output
    decided = json.loads(output)
    assert decided["applied_version"] == 1 and decided["proposal"]["status"] == "applied"
    with session_scope(Settings(home=home)) as session:
        episode = session.get(Episode, ("tiny", "ep3"))
        assert episode is not None and episode.current_version == 1
        job = session.exec(select(RenderJob)).one()
        assert (job.episode_id, job.brief_version, job.status) == ("ep3", 1, "queued")
    code, output = invoke(home, "status", "--json")
    assert json.loads(output)["series"][0]["brief_versions"]["ep3"] == 1
    dispose_engines()


def test_draft_bad_input_exits_2_naming_what(tmp_path: Path, tiny_series: Path) -> None:
    home = tmp_path / "home"
    code, output = invoke(home, "draft", "--series", "nope")
    assert code == 2 and "no series 'nope'" in output
    code, output = invoke(home, "draft")
    assert code == 2 and "--series" in output
    empty = tmp_path / "empty.yaml"
    empty.write_text("series_id: empty\ntitle: Empty\npremise: Nothing yet.\n")
    invoke(home, "series", "add", str(empty))
    code, output = invoke(home, "draft", "--series", "empty")
    assert code == 2 and "has no episodes yet" in output
    dispose_engines()
