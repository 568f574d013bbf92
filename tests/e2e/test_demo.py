"""End to end: the sample bundle through ingest on both databases, and `writers-room demo`."""

from __future__ import annotations

import gzip
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from sqlmodel import func, select

from writers_room.config import Settings
from writers_room.index.chroma import CommentIndex, rebuild_index
from writers_room.ingest.comments import ingest_comments
from writers_room.ingest.events import ingest_events
from writers_room.ingest.metrics import ingest_metrics
from writers_room.ingest.series import add_series_file
from writers_room.sample.simulator import generate
from writers_room.store.db import session_scope
from writers_room.store.models import AuditLog, Comment, MetricWindow
from writers_room.store.status import room_status

SCALE = 0.03
# Large enough for the analyst's minimum samples, so the planted cases yield proposals.
LOOP_SCALE = 0.3


@pytest.fixture(scope="module")
def bundle(tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    return generate(tmp_path_factory.mktemp("sample"), seed=7, scale=SCALE)


def _pii_strings(bundle) -> list[str]:  # type: ignore[no-untyped-def]
    import re

    wanted = set(bundle.markers["pii"])
    found: list[str] = []
    pattern = re.compile(
        r"[\w.+-]+@[\w-]+\.[\w.]+|\+?\d[\d ().-]{7,}\d|<@U\w+>|https?://\S+\?\S+|@\w{3,}"
    )
    with gzip.open(bundle.comments, "rt") as handle:
        for line in handle:
            row = json.loads(line)
            if row["comment_id"] in wanted:
                found.extend(pattern.findall(row["text"]))
    return found


@pytest.mark.slow
def test_sample_bundle_ingests_on_each_database(settings: Settings, bundle, caplog) -> None:  # type: ignore[no-untyped-def]
    caplog.set_level("DEBUG")
    for path in bundle.series_files:
        add_series_file(settings, path)
    events = ingest_events(settings, bundle.events)
    metrics = ingest_metrics(settings, bundle.metrics)
    comments = ingest_comments(settings, bundle.comments)
    assert events.rows > 5000 and events.inserted == events.rows
    assert metrics.rows > 0 and comments.rows > 500

    status = {s.series_id: s for s in room_status(settings)}
    assert len(status) == 2 and all(s.episodes == 8 for s in status.values())
    assert sum(s.events for s in status.values()) == events.inserted
    assert sum(s.comments for s in status.values()) == comments.inserted

    # Re-ingest: nothing new anywhere.
    assert ingest_events(settings, bundle.events).inserted == 0
    assert ingest_comments(settings, bundle.comments).inserted == 0
    assert ingest_metrics(settings, bundle.metrics).inserted == 0
    with session_scope(settings) as session:
        assert session.exec(select(func.count()).select_from(Comment)).one() == comments.rows
        windows = session.exec(select(func.count()).select_from(MetricWindow)).one()
        assert windows > 0
        assert session.exec(select(func.count()).select_from(AuditLog)).one() >= 8

    # No personal data in SQL, the index or the logs.
    secrets = _pii_strings(bundle)
    assert len(secrets) >= 5
    with session_scope(settings) as session:
        stored = " ".join(c.text for c in session.exec(select(Comment)))
    index = CommentIndex(settings)
    indexed = json.dumps(index.collection.get(include=["documents", "metadatas"]))
    for secret in secrets:
        assert secret not in stored and secret not in indexed and secret not in caplog.text

    # The index is rebuildable: same counts, same nearest neighbours.
    probe = "who sent the letter"
    before = index.query(probe, k=5)
    result = rebuild_index(settings)
    assert result.indexed == result.sql_comments == comments.rows
    after = index.query(probe, k=5)
    assert [round(d, 4) for _, d in after] == [round(d, 4) for _, d in before]


def _cli(home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("WRITERS_ROOM_")}
    env["WRITERS_ROOM_HOME"] = str(home)
    return subprocess.run(
        [sys.executable, "-m", "writers_room", *args],
        capture_output=True,
        text=True,
        env=env,
        check=False,
        timeout=600,
    )


@pytest.mark.slow
def test_demo_runs_the_whole_loop_then_again(tmp_path: Path) -> None:
    home = tmp_path / "home"
    first = _cli(home, "demo", "--scale", str(LOOP_SCALE), "--yes-as", "U0SHOWRUN1", "--json")
    assert first.returncode == 0, first.stderr
    summary = json.loads(first.stdout)
    assert {e["series_id"] for e in summary["episodes"]} == {"harbor-hearts", "neon-heist"}
    reviews = summary["reviews"]
    assert set(reviews) == {"harbor-hearts", "neon-heist"}
    assert any(r["status"] == "waiting" and r["pending"] for r in reviews.values())
    (decision,) = summary["decisions"]
    assert decision["decision"] == "approved" and decision["applied_version"] == 2
    (job,) = summary["renders"]
    assert job["status"] == "done"
    for key in ("episode", "hls_master", "captions", "manifest"):
        assert (home / job["artifacts"][key]).is_file(), key
    manifest = json.loads((home / job["artifacts"]["manifest"]).read_text())
    assert manifest["brief_version"] == 2
    assert (home / "reports" / "harbor-hearts").is_dir()
    # Published as every variant of its episode; the next window reports the outcome.
    (follow,) = summary["follow_up"].values()
    assert {p["render_id"] for p in follow["published"]} == {job["render_id"]}
    (outcome,) = follow["outcomes"]
    assert outcome["proposal_id"] == decision["proposal_id"]
    assert outcome["verdict"] in ("improved", "too_early")  # the effect is planted

    status = json.loads(_cli(home, "status", "--json").stdout)["series"]
    assert [s["episodes"] for s in status] == [8, 8]
    assert all(s["events"] > 0 and s["comments"] > 0 and s["metric_windows"] > 0 for s in status)
    assert sum(s["proposals"].get("applied", 0) for s in status) == 1
    assert sum(s["render_jobs"].get("done", 0) for s in status) == 1

    # Again, without approving: nothing is ingested twice, no second review of the window.
    again = _cli(home, "demo", "--scale", str(LOOP_SCALE), "--json")
    assert again.returncode == 0, again.stderr
    rerun = json.loads(again.stdout)
    assert rerun["events"]["inserted"] == 0 and rerun["comments"]["inserted"] == 0
    assert rerun["decisions"] == [] and rerun["renders"] == []
    assert json.loads(_cli(home, "status", "--json").stdout)["series"] == status
