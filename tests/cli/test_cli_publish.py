"""``writers-room publish``: a render is tied to the variant whose events follow it."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlmodel import select
from typer.testing import CliRunner

import writers_room.cli as cli
from writers_room.config import Settings
from writers_room.store.db import session_scope
from writers_room.store.models import AuditLog, BriefVersion, Publication, RenderJob

runner = CliRunner()


def invoke(home: Path, *args: str) -> tuple[int, str]:
    result = runner.invoke(cli.app, ["--home", str(home), *args])
    return result.exit_code, result.output


@pytest.fixture
def home(tmp_path: Path, tiny_series: Path) -> Path:
    home = tmp_path / "home"
    assert invoke(home, "series", "add", str(tiny_series))[0] == 0
    with session_scope(Settings(home=home)) as session:
        v1 = session.exec(
            select(BriefVersion).where(BriefVersion.episode_id == "ep1", BriefVersion.version == 1)
        ).one()
        session.add(
            BriefVersion(
                series_id="tiny",
                episode_id="ep1",
                version=2,
                brief=v1.brief,
                manifest=v1.manifest,
                source="proposal:p-hook",
                proposal_id="p-hook",
            )
        )
        for render_id, version, status, preview in (
            ("r-done", 2, "done", False),
            ("r-queued", 2, "queued", False),
            ("r-preview", 2, "done", True),
        ):
            session.add(
                RenderJob(
                    render_id=render_id,
                    idempotency_key=render_id,
                    series_id="tiny",
                    episode_id="ep1",
                    brief_version=version,
                    status=status,
                    preview=preview,
                )
            )
    return home


def test_publish_ties_render_version_and_proposal_to_the_variant(home: Path) -> None:
    code, output = invoke(
        home, "publish", "r-done", "--variant", "v2-hook", "--as", "U0SHOW",
        "--at", "2026-03-02T06:00:00Z", "--json",
    )  # fmt: skip
    assert code == 0, output
    row = json.loads(output)
    assert row["proposal_id"] == "p-hook"  # read from the brief version the render carries
    assert row["brief_version"] == 2
    assert row["new"] is True
    with session_scope(Settings(home=home)) as session:
        (pub,) = session.exec(select(Publication)).all()
        assert pub.published_at == datetime(2026, 3, 2, 6, tzinfo=UTC)
        assert (pub.episode_id, pub.variant_id, pub.published_by) == ("ep1", "v2-hook", "U0SHOW")
        (entry,) = session.exec(select(AuditLog).where(AuditLog.action == "render.published")).all()
        assert entry.actor == "U0SHOW"
        assert entry.detail["render_id"] == "r-done"
    # Again: the same row, nothing new recorded.
    code, output = invoke(home, "publish", "r-done", "--variant", "v2-hook", "--as", "U0SHOW")
    assert code == 0 and "already published" in output
    with session_scope(Settings(home=home)) as session:
        assert len(session.exec(select(Publication)).all()) == 1


def test_publish_without_as_records_the_login_name(home: Path) -> None:
    """The contract's form, ``publish RENDER_ID --variant VID``: who is the login."""
    import getpass

    code, output = invoke(home, "publish", "r-done", "--variant", "v1-thumb", "--json")
    assert code == 0, output
    assert json.loads(output)["published_by"] == f"cli:{getpass.getuser()}"


@pytest.mark.parametrize(
    ("render_id", "variant", "message"),
    [
        ("r-nope", "v1-thumb", "no render 'r-nope'"),
        ("r-done", "v9", "has no variant 'v9'"),
        ("r-queued", "v1-thumb", "queued, not done"),
        ("r-preview", "v1-thumb", "a preview"),
    ],
)
def test_publish_refuses_unknown_or_unfinished_renders(
    home: Path, render_id: str, variant: str, message: str
) -> None:
    code, output = invoke(home, "publish", render_id, "--variant", variant, "--as", "U0SHOW")
    assert code == 2
    assert message in " ".join(output.split())
    with session_scope(Settings(home=home)) as session:
        assert session.exec(select(Publication)).all() == []


def test_publish_rejects_a_bad_time(home: Path) -> None:
    code, output = invoke(
        home, "publish", "r-done", "--variant", "v1-thumb", "--as", "U0SHOW", "--at", "soon"
    )
    assert code == 2 and "ISO 8601" in output
