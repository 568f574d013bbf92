"""The command line: exit statuses, messages and --json output of the contract."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from writers_room.cli import app

runner = CliRunner()

EVENTS = (
    "ts,series_id,episode_id,variant_id,viewer_id,type,position_s\n"
    "2026-11-16T08:00:00Z,tiny,ep1,v1-thumb,a,impression,\n"
    "2026-11-16T08:00:01Z,tiny,ep1,v1-thumb,a,play,\n"
    "2026-11-16T08:00:09Z,tiny,ep1,v1-thumb,a,progress,8\n"
)


def invoke(home: Path, *args: str) -> tuple[int, str]:
    result = runner.invoke(app, ["--home", str(home), *args])
    return result.exit_code, result.output


def test_series_add_ingest_and_status_json(tmp_path: Path, tiny_series: Path) -> None:
    home = tmp_path / "home"
    code, output = invoke(home, "series", "add", str(tiny_series))
    assert code == 0 and "tiny" in output
    events = tmp_path / "events.csv"
    events.write_text(EVENTS)
    code, output = invoke(home, "ingest", "events", str(events), "--json")
    assert code == 0, output
    assert json.loads(output)["rows"] == 3
    code, output = invoke(home, "status", "--json")
    assert code == 0
    status = json.loads(output)
    assert status == {
        "series": [
            {
                "series_id": "tiny",
                "episodes": 2,
                "variants": 2,
                "events": 3,
                "metric_windows": 1,
                "window_start": "2026-11-16T00:00:00+00:00",
                "window_end": "2026-11-17T00:00:00+00:00",
                "window_label": "24 h to 2026-11-17 00:00 UTC",
                "comments": 0,
                "proposals": {},
                "brief_versions": {"ep1": 1, "ep2": 1},
                "blind_iterations": {"ep1": 0, "ep2": 0},
                "render_jobs": {},
            }
        ]
    }


def test_bad_input_exits_2_naming_file_line_and_field(tmp_path: Path, tiny_series: Path) -> None:
    home = tmp_path / "home"
    invoke(home, "series", "add", str(tiny_series))
    bad = tmp_path / "bad.csv"
    bad.write_text(EVENTS + "2026-11-16T08:00:10Z,tiny,ep1,v1-thumb,a,teleport,\n")
    code, output = invoke(home, "ingest", "events", str(bad))
    assert code == 2
    assert "bad.csv:5: field 'type'" in output and "teleport" in output
    code, output = invoke(home, "status", "--json")
    assert json.loads(output)["series"][0]["events"] == 0


def test_usage_errors_exit_2(tmp_path: Path) -> None:
    code, _ = invoke(tmp_path, "ingest", "events")
    assert code == 2
    code, _ = invoke(tmp_path, "review")
    assert code == 2


def test_serve_without_slack_credentials_is_a_usage_error(tmp_path: Path) -> None:
    code, output = invoke(tmp_path, "serve", "--http", "--port", "0")
    assert code == 2 and "SLACK_" in output
    code, output = invoke(tmp_path, "serve", "--http", "--socket-mode")
    assert code == 2


def test_chat_in_the_terminal(tmp_path: Path, tiny_series: Path) -> None:
    home = tmp_path / "home"
    invoke(home, "series", "add", str(tiny_series))
    result = runner.invoke(
        app, ["--home", str(home), "chat", "--as", "ana"], input="help\nshow the brief of ep1\n"
    )
    assert result.exit_code == 0, result.output
    assert "wave smashes" in result.output.lower()


def test_unknown_ids_are_usage_errors(tmp_path: Path, tiny_series: Path) -> None:
    home = tmp_path / "home"
    invoke(home, "series", "add", str(tiny_series))
    for args in (
        ["approve", "p-nope", "--as", "U0SHOW"],
        ["reject", "p-nope", "--as", "U0SHOW", "--reason", "no"],
        ["note", "--series", "tiny", "--episode", "ep9", "--as", "ana", "more fire, please"],
        ["render", "--series", "tiny", "--episode", "ep9"],
        ["review", "--series", "tiny"],
        ["proposals", "--status", "maybe"],
    ):
        code, output = invoke(home, *args)
        assert code == 2, (args, output)
        assert "error:" in output


def test_note_and_empty_proposals(
    tmp_path: Path, tiny_series: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    home = tmp_path / "home"
    invoke(home, "series", "add", str(tiny_series))
    monkeypatch.setenv("WRITERS_ROOM_WRITERS", "ana, bo")
    code, output = invoke(
        home, "note", "--series", "tiny", "--episode", "ep1", "--as", "ana", "open on the storm"
    )
    assert code == 0 and "reset" in output
    code, output = invoke(home, "proposals", "--json")
    assert code == 0 and json.loads(output) == []


def test_notes_need_a_writer_and_three_words(
    tmp_path: Path, tiny_series: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Promise 22: only identified people reset the blind-iteration count, with real words."""
    from sqlmodel import select

    from writers_room.config import Settings
    from writers_room.store.db import dispose_engines, session_scope
    from writers_room.store.models import Note

    home = tmp_path / "home"
    invoke(home, "series", "add", str(tiny_series))
    monkeypatch.setenv("WRITERS_ROOM_WRITERS", "ana")
    note = ["note", "--series", "tiny", "--episode", "ep1"]
    for who in ("", "   ", "mallory"):
        code, output = invoke(home, *note, "--as", who, "open on the storm")
        assert code == 3, (who, output)
        assert "WRITERS_ROOM_WRITERS" in output and "nothing was stored" in output
    for text in ("", "   ", "x", "more fire", "?!  ..."):
        code, output = invoke(home, *note, "--as", "ana", text)
        assert code == 2, (text, output)
        assert "error:" in output and ("3 words" in output or "needs some text" in output)
    # The series' own approver (U0SHOW) may write notes too, without being a listed writer.
    code, output = invoke(home, *note, "--as", "U0SHOW", "Theo should sound colder")
    assert code == 0, output
    with session_scope(Settings(home=home)) as session:
        notes = session.exec(select(Note)).all()
        assert [(n.author, n.text) for n in notes] == [("U0SHOW", "Theo should sound colder")]
    dispose_engines()


def test_every_contract_command_has_help() -> None:
    for command in [
        [],
        ["demo"],
        ["series", "add"],
        ["series", "list"],
        ["status"],
        ["ingest", "events"],
        ["ingest", "metrics"],
        ["ingest", "comments"],
        ["review"],
        ["proposals"],
        ["approve"],
        ["reject"],
        ["note"],
        ["render"],
        ["publish"],
        ["chat"],
        ["serve"],
        ["sample"],
        ["index", "rebuild"],
        ["proposals", "show"],
    ]:
        result = runner.invoke(app, [*command, "--help"])
        assert result.exit_code == 0, (command, result.output)


def test_console_script_maps_errors_to_exit_status(tmp_path: Path) -> None:
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "writers_room",
            "--home",
            str(tmp_path),
            "series",
            "add",
            "nope.yaml",
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 2
    assert "nope.yaml: no such file" in result.stderr


def test_index_rebuild_reports_its_shards(tmp_path: Path) -> None:
    result = runner.invoke(
        app,
        ["--home", str(tmp_path / "home"), "index", "rebuild", "--json"],
        env={"WRITERS_ROOM_INDEX_SHARDS": "2"},
    )
    assert result.exit_code == 0, result.output
    assert json.loads(result.output) == {"sql_comments": 0, "indexed": 0, "shards": 2}
    assert json.loads((tmp_path / "home" / "chroma" / "shards.json").read_text()) == {"shards": 2}


def test_approve_says_when_the_render_is_refused(
    tmp_path: Path, tiny_series: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from writers_room.brief.proposals import BriefChangeProposal, Evidence, FieldChange
    from writers_room.config import Settings
    from writers_room.guardrails.approval import store_pending
    from writers_room.store.db import session_scope

    home = tmp_path / "home"
    invoke(home, "series", "add", str(tiny_series))
    proposal = BriefChangeProposal(
        episode_id="ep1",
        kind="hook_rewrite",
        summary="Open on Mara underwater.",
        target="retention_10s 19% vs cohort 53%",
        expected_effect="10-s retention back to the cohort band",
        changes=[FieldChange(path="brief.hook", before=None, after="Mara is underwater.")],
        evidence=Evidence(metrics={"retention_10s": 0.19}, comment_ids=[]),
    )
    with session_scope(Settings(home=home)) as session:
        (row,) = store_pending(session, series_id="tiny", window_end=None, proposals=[proposal])
        proposal_id, row_hash = row.proposal_id, row.content_hash
    # Half a C2PA configuration: the approval stands, the render is refused and said so.
    monkeypatch.setenv("WRITERS_ROOM_C2PA_KEY", str(tmp_path / "signer.key"))
    short = row_hash[:12]
    code, output = invoke(home, "approve", proposal_id, "--as", "U0SHOW", "--hash", short, "--json")
    assert code == 0, output
    report = json.loads(output)
    assert report["applied_version"] == 2 and report["renders"] == []
    assert "WRITERS_ROOM_C2PA_CERT is not set" in report["render_refused"]
    assert "writers-room render --series tiny --episode ep1" in report["render_refused"]
