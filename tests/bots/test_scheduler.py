"""The 24h scheduler with real ``serve`` processes on one database (#7, #16)."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from slack_mock_server import MockSlack
from slack_payloads import block_actions_body, headers_for
from slack_room import APPROVER, scripted_agents, window_start
from sqlmodel import func, select

from writers_room.bots.scheduler import WindowScheduler
from writers_room.bots.slack.actions import APPROVE_PROPOSAL
from writers_room.bots.slack.poster import ReviewPoster
from writers_room.config import Settings
from writers_room.store.db import session_scope
from writers_room.store.models import AuditLog, Decision, Proposal, RenderJob, WindowRun

WORKER = Path(__file__).with_name("slack_serve_worker.py")


class Serve:
    """One ``writers-room serve`` process; its stderr is collected line by line."""

    def __init__(self, settings: Settings) -> None:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("WRITERS_ROOM_", "SLACK_"))}
        env.update(
            {
                "WRITERS_ROOM_HOME": str(settings.home),
                "WRITERS_ROOM_PII_KEY": "test-key",
                "SLACK_BOT_TOKEN": str(settings.slack_bot_token),
                "SLACK_SIGNING_SECRET": str(settings.slack_signing_secret),
                "SLACK_API_URL": settings.slack_api_url,
                "WRITERS_ROOM_CHANNEL": str(settings.channel),
                "WRITERS_ROOM_SHOWRUNNERS": ",".join(settings.showrunners),
            }
        )
        if settings.database_url:
            env["WRITERS_ROOM_DATABASE_URL"] = settings.database_url
        self.proc = subprocess.Popen(
            [sys.executable, str(WORKER)],
            env=env,
            stderr=subprocess.PIPE,
            stdout=subprocess.DEVNULL,
            text=True,
        )
        self.lines: list[str] = []
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.proc.stderr is not None
        for line in self.proc.stderr:
            self.lines.append(line.rstrip())

    def wait_for(self, pattern: str, timeout: float = 120.0) -> re.Match[str]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for line in list(self.lines):
                if found := re.search(pattern, line):
                    return found
            if self.proc.poll() is not None:
                break
            time.sleep(0.05)
        raise AssertionError(f"no {pattern!r} from serve; it said:\n" + "\n".join(self.lines))

    def stop(self, sig: int = signal.SIGTERM) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
        try:
            self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


@pytest.fixture
def serves() -> Iterator[list[Serve]]:
    # No checkpoint tables are made here: the serve processes set them up themselves,
    # at the same moment, which is the start-up race these tests must run.
    started: list[Serve] = []
    yield started
    for s in started:
        s.stop()


def review_posts(slack: MockSlack) -> list:
    return [
        c
        for c in slack.calls_to("chat.postMessage")
        if c.params.get("blocks", [{}])[0].get("type") == "header"
    ]


def proposal_posts(slack: MockSlack) -> list:
    return [
        c
        for c in slack.calls_to("chat.postMessage")
        if any(b.get("type") == "actions" for b in c.params.get("blocks", []))
    ]


def count(settings: Settings, model: type, *where: object) -> int:
    with session_scope(settings) as session:
        return int(session.exec(select(func.count()).select_from(model).where(*where)).one())


@pytest.mark.slow
def test_two_serve_processes_review_and_post_once(
    room: Settings, slack: MockSlack, serves: list[Serve]
) -> None:
    serves.extend([Serve(room), Serve(room)])
    for s in serves:
        s.wait_for(r"catch-up done")
    assert count(room, WindowRun) == 1
    assert count(room, AuditLog, AuditLog.action == "review.started") == 1
    pending = count(room, Proposal, Proposal.status == "pending")
    assert pending >= 1
    assert len(review_posts(slack)) == 1
    posted = [
        next(b for b in c.params["blocks"] if b["type"] == "actions")["elements"][0]["value"]
        for c in proposal_posts(slack)
    ]
    assert len(posted) == len(set(posted)) == pending
    assert len(slack.calls_to("files.completeUploadExternal")) == 1


def checkpoint_tables(settings: Settings) -> set[str]:
    from sqlalchemy import inspect

    from writers_room.graphs._checkpoint import CHECKPOINT_TABLES
    from writers_room.store.db import get_engine

    return set(inspect(get_engine(settings)).get_table_names()) & CHECKPOINT_TABLES


@pytest.mark.slow
def test_two_serve_processes_start_together_on_an_empty_database(
    settings: Settings, slack: MockSlack, serves: list[Serve]
) -> None:
    """No tables at all, not even the room's: both processes migrate and set up at once."""
    from slack_room import slack_settings

    empty = slack_settings(settings, slack)
    serves.extend([Serve(empty), Serve(empty)])
    for s in serves:
        s.wait_for(r"catch-up done: 0 review\(s\) current")
        s.wait_for(r"start-up sweep done")
    for s in serves:
        assert s.proc.poll() is None
        said = "\n".join(s.lines)
        assert "Traceback" not in said and "failed" not in said, said
    assert "checkpoints" in checkpoint_tables(empty)


@pytest.mark.slow
@pytest.mark.parametrize("when", ["start-up", "periodic"])
def test_serve_delivers_a_decision_a_crash_cut_off(
    room: Settings, slack: MockSlack, serves: list[Serve], when: str
) -> None:
    """The decision row is recorded and the process dies before the resume (#21)."""
    from writers_room.graphs.window_review.sweep import FINISHED
    from writers_room.guardrails.approval import decide

    (outcome,) = WindowScheduler(room, agents=scripted_agents()).run_due()
    target = outcome.pending[0]
    if when == "start-up":
        decide(room, target, actor=APPROVER, approve=True)
    started = time.monotonic()
    serve = Serve(room)
    serves.append(serve)
    if when == "periodic":
        serve.wait_for(r"start-up sweep done")
        started = time.monotonic()
        decide(room, target, actor=APPROVER, approve=True)
    while time.monotonic() - started < 60:
        if count(room, AuditLog, AuditLog.action == FINISHED) == 1:
            break
        time.sleep(0.2)
    assert time.monotonic() - started < 60, "\n".join(serve.lines)
    with session_scope(room) as session:
        proposal = session.get(Proposal, target)
        assert proposal is not None and proposal.status == "applied"
    assert count(room, AuditLog, AuditLog.action == FINISHED, AuditLog.subject == target) == 1
    assert count(room, AuditLog, AuditLog.action == "proposal.applied") == 1
    assert count(room, RenderJob, RenderJob.proposal_id == target) == 1


@pytest.mark.slow
def test_pending_approval_survives_kill_9_and_completes_once(
    room: Settings, slack: MockSlack, serves: list[Serve]
) -> None:
    first = Serve(room)
    serves.append(first)
    first.wait_for(r"catch-up done")
    first.stop(signal.SIGKILL)
    assert first.proc.returncode == -signal.SIGKILL
    before = proposal_posts(slack)
    assert before and len(review_posts(slack)) == 1

    second = Serve(room)
    serves.append(second)
    port = int(second.wait_for(r"listening on http://127\.0\.0\.1:(\d+)").group(1))
    second.wait_for(r"catch-up done: 1 review\(s\) current, \d+ pending approval\(s\) re-posted")
    assert len(review_posts(slack)) == 1  # the review is not posted again
    reposts = proposal_posts(slack)[len(before) :]
    assert len(reposts) == len(before)
    assert "re-posted after a restart" in json.dumps(reposts[0].params["blocks"])

    actions = next(b for b in reposts[0].params["blocks"] if b["type"] == "actions")
    proposal_id = actions["elements"][0]["value"]
    body = block_actions_body(
        action_id=APPROVE_PROPOSAL,
        proposal_id=proposal_id,
        block_id=actions["block_id"],
        user=APPROVER,
    )
    req = urllib.request.Request(
        f"http://127.0.0.1:{port}/slack/events",
        data=body.encode(),
        headers=headers_for(body, form=True),
        method="POST",
    )
    with urllib.request.urlopen(req, timeout=10) as resp:
        assert resp.status == 200
    slack.wait_for("chat.update", timeout=60)
    with session_scope(room) as session:
        proposal = session.get(Proposal, proposal_id)
        assert proposal is not None and proposal.status == "applied"
        assert session.exec(select(func.count()).select_from(Decision)).one() == 1
        jobs = session.exec(select(RenderJob).where(RenderJob.proposal_id == proposal_id)).all()
        assert len(jobs) == 1


def test_scheduler_runs_the_newest_closed_window_once(room: Settings, slack: MockSlack) -> None:
    from slack_sdk import WebClient

    client = WebClient(token=room.slack_bot_token, base_url=room.slack_api_url)
    poster = ReviewPoster(room, client)
    scheduler = WindowScheduler(room, poster=poster.post_review, agents=scripted_agents())
    # Before the newest window closes there is only the older one to review.
    early = window_start() + timedelta(hours=12)
    (first,) = scheduler.run_due(now=early)
    assert first.window_end == window_start() and first.pending
    now = datetime.now(UTC)
    (outcome,) = scheduler.run_due(now=now)
    assert outcome.window_end == window_start() + timedelta(days=1)
    # ep1's proposal from the older window is still undecided: the newer review waits for it.
    assert outcome.waiting == {"ep1": first.pending[0]} and not outcome.pending
    again = scheduler.run_due(now=now)
    assert [o.thread_id for o in again] == [outcome.thread_id]
    assert count(room, WindowRun) == 2
    posts = review_posts(slack)
    assert len(posts) == 2
    summary = " ".join(
        e.get("text", "")
        for b in posts[1].params["blocks"]
        if b["type"] == "context"
        for e in b["elements"]
    )
    assert f"no new proposal for ep1 (`{first.pending[0]}` still waits)" in summary


def test_background_scheduler_fires_at_the_window_hour(room: Settings) -> None:
    scheduler = WindowScheduler(room.model_copy(update={"window_hour": 6}), delay_minutes=10)
    scheduler.start(catch_up=False)
    try:
        when = scheduler.next_run()
        assert when is not None and (when.hour, when.minute) == (6, 10)
        assert when.utcoffset() == timedelta(0)
    finally:
        scheduler.shutdown()


def test_queued_renders_run_and_report_in_the_proposal_thread(
    room: Settings, slack: MockSlack
) -> None:
    from slack_room import store_hook_proposal
    from slack_sdk import WebClient

    from writers_room.graphs.window_review.run import decide_and_resume
    from writers_room.jobs.render import get_render_job

    client = WebClient(token=room.slack_bot_token, base_url=room.slack_api_url)
    poster = ReviewPoster(room, client)
    p = store_hook_proposal(room)
    ts = poster.post_proposal(p["proposal_id"], channel="C0ROOM", claim_key="first")
    result = decide_and_resume(room, p["proposal_id"], actor=APPROVER, approve=True)
    (render_id,) = result.render_ids
    ran: list[str] = []

    def fake_render(settings: Settings, job_id: str) -> RenderJob | None:
        # Stands in for tools.render.run_render (a real render takes a minute here).
        ran.append(job_id)
        settings.home.mkdir(parents=True, exist_ok=True)
        (settings.home / "thumb.jpg").write_bytes(b"\xff\xd8\xff\xe0 not really a jpeg")
        with session_scope(settings) as session:
            job = session.get(RenderJob, job_id)
            assert job is not None
            job.status = "done"
            job.artifacts = {
                "hls_master": f"renders/tiny/ep1/{job_id}/hls/master.m3u8",
                "episode": f"renders/tiny/ep1/{job_id}/episode.mp4",
                "thumbnails": ["thumb.jpg"],
            }
            session.add(job)
        return get_render_job(settings, job_id)

    scheduler = WindowScheduler(room, on_render=poster.post_render, render_job=fake_render)
    (job,) = scheduler.run_queued_renders()
    assert job.render_id == render_id and ran == [render_id]
    posts = [c for c in slack.calls_to("chat.postMessage") if "Render" in c.params.get("text", "")]
    assert len(posts) == 1 and posts[0].params["thread_ts"] == ts
    assert "is ready" in posts[0].params["text"] and "master.m3u8" in posts[0].params["text"]
    assert slack.calls_to("files.completeUploadExternal")
    # Nothing is queued any more, and the result is never posted twice.
    assert scheduler.run_queued_renders() == []
    assert poster.post_render(job) is False
