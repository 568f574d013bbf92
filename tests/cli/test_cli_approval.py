"""CLI decisions are bound to what the human saw (issue 14, fault 4).

``proposals show ID`` prints the change set and a short content hash; ``approve`` on a
terminal shows the change set and asks, and off a terminal needs ``--hash PREFIX``; a
prefix of other content is refused. ``reject`` needs a reason.
"""

from __future__ import annotations

import json
import os
import pty
import select
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlmodel import select as sql_select
from typer.testing import CliRunner

import writers_room.cli as cli
import writers_room.cli.approval as cli_approval
from writers_room.brief.proposals import BriefChangeProposal, Evidence, FieldChange
from writers_room.config import Settings
from writers_room.guardrails.approval import store_pending
from writers_room.store.db import dispose_engines, session_scope
from writers_room.store.models import AuditLog, BriefVersion, Decision, Episode, Proposal

runner = CliRunner()
APPROVER = "U0SHOW"  # the tiny series' own approver


def invoke(home: Path, *args: str, input: str | None = None) -> tuple[int, str]:
    result = runner.invoke(cli.app, ["--home", str(home), *args], input=input)
    return result.exit_code, result.output


@pytest.fixture
def home(tmp_path: Path, tiny_series: Path) -> Path:
    home = tmp_path / "home"
    assert invoke(home, "series", "add", str(tiny_series))[0] == 0
    return home


@pytest.fixture
def proposal(home: Path) -> Proposal:
    change = FieldChange(path="brief.hook", before=None, after="Mara is underwater.")
    with session_scope(Settings(home=home)) as session:
        (row,) = store_pending(
            session,
            series_id="tiny",
            window_end=None,
            proposals=[
                BriefChangeProposal(
                    episode_id="ep1",
                    kind="hook_rewrite",
                    summary="Open on Mara underwater.",
                    target="retention_10s 19% vs cohort 53%",
                    expected_effect="10-s retention back to the cohort band",
                    changes=[change],
                    evidence=Evidence(metrics={"retention_10s": 0.19}, comment_ids=[]),
                )
            ],
        )
    dispose_engines()
    return row


def decisions(home: Path) -> list[Decision]:
    with session_scope(Settings(home=home)) as session:
        rows = list(session.exec(sql_select(Decision)))
    dispose_engines()
    return rows


def brief_version(home: Path) -> int:
    with session_scope(Settings(home=home)) as session:
        episode = session.get(Episode, ("tiny", "ep1"))
        assert episode is not None
        version = episode.current_version
    dispose_engines()
    return version


def test_proposals_show_prints_the_change_set_and_a_short_hash(
    home: Path, proposal: Proposal
) -> None:
    short = proposal.content_hash[:12]
    code, output = invoke(home, "proposals", "show", proposal.proposal_id)
    assert code == 0, output
    assert "Open on Mara underwater." in output
    assert "Targets: retention_10s 19% vs cohort 53%" in output
    # The change reads as a diff against the brief in force (no styles off a terminal:
    # cut words in [-…-], new words in {+…+}).
    assert (
        "1. Hook (brief)\n    [-A wave smashes the lighthouse door open.-] "
        "{+Mara is underwater.+}" in output
    )
    assert f"hash {short}" in output
    assert f"approve {proposal.proposal_id} --as NAME --hash {short}" in output
    code, output = invoke(home, "proposals", "show", proposal.proposal_id, "--json")
    shown = json.loads(output)
    assert shown["short_hash"] == short and shown["content_hash"] == proposal.content_hash
    assert shown["changes"] == [
        {"path": "brief.hook", "before": None, "after": "Mara is underwater."}
    ]
    (item,) = shown["diff"]["items"]
    assert (item["key"], item["status"]) == ("brief.hook", "changed")
    assert item["lines"][0]["after"] == "Mara is underwater."
    code, output = invoke(home, "proposals", "show", "p-nope")
    assert code == 2 and "no proposal 'p-nope'" in output
    # Listing is unchanged.
    code, output = invoke(home, "proposals", "--status", "pending", "--json")
    assert code == 0 and [p["proposal_id"] for p in json.loads(output)] == [proposal.proposal_id]


def test_approve_off_a_terminal_needs_the_hash(home: Path, proposal: Proposal) -> None:
    pid = proposal.proposal_id
    code, output = invoke(home, "approve", pid, "--as", APPROVER)
    assert code == 2
    assert "needs --hash when not on a terminal" in output
    assert f"writers-room proposals show {pid}" in output
    for bad in ("abc12", "", "zzzzzzzz", "12 34 56"):
        code, output = invoke(home, "approve", pid, "--as", APPROVER, "--hash", bad)
        assert code == 2, (bad, output)
        assert "--hash" in output and "at least 6 hex" in output
    assert decisions(home) == [] and brief_version(home) == 1

    code, output = invoke(
        home, "approve", pid, "--as", APPROVER, "--hash", proposal.content_hash[:6].upper()
    )
    assert code == 0, output
    (decision,) = decisions(home)
    assert decision.decision == "approved" and decision.content_hash == proposal.content_hash
    assert brief_version(home) == 2


def test_a_hash_of_other_content_decides_nothing(home: Path, proposal: Proposal) -> None:
    pid, seen = proposal.proposal_id, proposal.content_hash[:12]
    wrong = ("0" if seen[0] != "0" else "1") + seen[1:]
    code, output = invoke(home, "approve", pid, "--as", APPROVER, "--hash", wrong)
    assert code == 3 and "does not match" in output and "nothing was decided" in output
    # The proposal changes after the human saw it: the hash they copied no longer matches.
    with session_scope(Settings(home=home)) as session:
        row = session.get(Proposal, pid)
        assert row is not None
        row.summary, row.content_hash = "Open on Theo instead.", "f" * 64
        session.add(row)
    dispose_engines()
    code, output = invoke(home, "approve", pid, "--as", APPROVER, "--hash", seen)
    assert code == 3 and f"(hash {'f' * 12})" in output
    assert decisions(home) == [] and brief_version(home) == 1
    with session_scope(Settings(home=home)) as session:
        actions = [a.action for a in session.exec(sql_select(AuditLog))]
    dispose_engines()
    assert not any(a.startswith("decision.") for a in actions)


def test_approve_on_a_terminal_shows_the_change_set_and_asks(
    home: Path, proposal: Proposal, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(cli_approval, "_stdin_is_terminal", lambda: True)
    pid = proposal.proposal_id
    for answer in ("n\n", "\n", ""):  # no, the default, end of input
        code, output = invoke(home, "approve", pid, "--as", APPROVER, input=answer)
        assert code == 1, (answer, output)
        assert "{+Mara is underwater.+}" in output
        assert "[y/N]" in output and "nothing was recorded" in output
    assert decisions(home) == [] and brief_version(home) == 1
    code, output = invoke(home, "approve", pid, "--as", APPROVER, "--no-render", input="y\n")
    assert code == 0, output
    (decision,) = decisions(home)
    assert decision.content_hash == proposal.content_hash and brief_version(home) == 2


def test_reject_needs_a_reason(home: Path, proposal: Proposal) -> None:
    pid = proposal.proposal_id
    for args in (["--reason", ""], ["--reason", "  \t"], []):
        code, output = invoke(home, "reject", pid, "--as", APPROVER, *args)
        assert code == 2, (args, output)
    assert decisions(home) == []
    code, output = invoke(home, "reject", pid, "--as", APPROVER, "--reason", " off tone ")
    assert code == 0, output
    (decision,) = decisions(home)
    assert (decision.decision, decision.note) == ("rejected", "off tone")


def _read_until(fd: int, marker: bytes, timeout: float) -> bytes:
    seen = b""
    deadline = time.monotonic() + timeout
    while marker not in seen:
        left = deadline - time.monotonic()
        assert left > 0, f"no {marker!r} within {timeout}s; got {seen!r}"
        ready, _, _ = select.select([fd], [], [], left)
        if ready:
            try:
                chunk = os.read(fd, 4096)
            except OSError:  # EIO: the child closed the terminal
                break
            if not chunk:
                break
            seen += chunk
    return seen


@pytest.mark.slow
def test_approve_in_a_real_terminal(home: Path, proposal: Proposal) -> None:
    """The real console script on a pseudo-terminal: decline, then confirm."""
    pid = proposal.proposal_id
    for answer, status in ((b"no\n", 1), (b"y\n", 0)):
        parent, child = pty.openpty()
        proc = subprocess.Popen(
            [sys.executable, "-m", "writers_room", "--home", str(home), "approve", pid]
            + ["--as", APPROVER, "--no-render"],
            stdin=child,
            stdout=child,
            stderr=child,
            close_fds=True,
        )
        os.close(child)
        try:
            shown = _read_until(parent, b"y/N", timeout=60)
            assert b"Mara is underwater." in shown and proposal.content_hash[:12].encode() in shown
            os.write(parent, answer)
            rest = _read_until(parent, b"\x00never", timeout=60)
            assert proc.wait(timeout=60) == status, (shown + rest).decode(errors="replace")
        finally:
            os.close(parent)
            if proc.poll() is None:
                proc.kill()
        assert len(decisions(home)) == (1 if status == 0 else 0)
    assert brief_version(home) == 2


def test_proposals_lists_one_line_each_with_the_number_it_targets(
    home: Path, proposal: Proposal
) -> None:
    code, output = invoke(home, "proposals")
    assert code == 0, output
    (row,) = [line for line in output.splitlines() if proposal.proposal_id in line]
    assert "tiny/ep1" in row and "hook_rewrite" in row and "pending" in row
    assert row.rstrip().endswith("retention_10s 19% vs cohort 53%")


@pytest.fixture
def with_choices(home: Path) -> Proposal:
    from writers_room.brief.proposals import Choice

    hooks = ["Mara is underwater.", "The letter sinks.", "A hand in the dark water."]
    with session_scope(Settings(home=home)) as session:
        (row,) = store_pending(
            session,
            series_id="tiny",
            window_end=None,
            proposals=[
                BriefChangeProposal(
                    episode_id="ep1",
                    kind="hook_rewrite",
                    summary="Open on Mara underwater.",
                    target="retention_10s 19% vs cohort 53%",
                    expected_effect="10-s retention back to the cohort band",
                    changes=[FieldChange(path="brief.hook", before=None, after=hooks[0])],
                    choices=[Choice(slot="hook", path="brief.hook", options=hooks)],
                )
            ],
        )
    dispose_engines()
    return row


def test_approve_can_choose_another_alternative(home: Path, with_choices: Proposal) -> None:
    pid, short = with_choices.proposal_id, with_choices.content_hash[:12]
    code, output = invoke(home, "proposals", "show", pid)
    assert (
        "Hook — choose one:\n    (1) Mara is underwater. (proposed)\n    (2) The letter sinks."
        in output
    )
    for bad in ("hook=4", "title=1", "hook"):
        code, output = invoke(
            home, "approve", pid, "--as", APPROVER, "--hash", short, "--choose", bad, "--no-render"
        )
        assert code == 2 and "--choose" in output, (bad, output)
    assert decisions(home) == []
    code, output = invoke(
        home, "approve", pid, "--as", APPROVER, "--hash", short, "--choose", "hook=2", "--no-render"
    )
    assert code == 0, output
    (decision,) = decisions(home)
    assert decision.choices == [1]
    with session_scope(Settings(home=home)) as session:
        version = session.exec(sql_select(BriefVersion).where(BriefVersion.version == 2)).one()
        assert version.brief["hook"] == "The letter sinks."
    dispose_engines()
    code, output = invoke(home, "proposals", "show", pid, "--json")
    assert json.loads(output)["chosen"] == [1]
