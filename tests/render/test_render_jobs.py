"""The render job API: idempotent submissions, job states, audit rows, executors."""

from __future__ import annotations

import importlib.util
import multiprocessing
import os
import re
import signal
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from render_helpers import make_manifest
from sqlmodel import select

from writers_room.brief.manifest import ShotManifest
from writers_room.config import Settings
from writers_room.errors import InputError
from writers_room.jobs import render as render_tool
from writers_room.jobs.render import (
    get_render_job,
    queue_render,
    render_dir,
    requeue_stale_renders,
    run_render,
    submit_render,
)
from writers_room.render.executors import (
    BackendUnavailable,
    LocalExecutor,
    RenderTask,
    get_executor,
)
from writers_room.render.pipeline import Progress, RenderResult
from writers_room.store.db import session_scope
from writers_room.store.models import AuditLog, BriefVersion, Decision, Proposal, RenderJob, Series

HAVE_RAY = importlib.util.find_spec("ray") is not None


class CountingExecutor(LocalExecutor):
    """The local executor, counting runs (the seam tests swap)."""

    def __init__(self, settings: Settings, *, fail: bool = False) -> None:
        super().__init__(settings)
        self.runs = 0
        self.fail = fail

    def run(self, task: RenderTask, *, progress: Progress | None = None) -> RenderResult:
        self.runs += 1
        if self.fail:
            raise RuntimeError("GPU fell off the bus")
        return super().run(task, progress=progress)


def _audit_actions(settings: Settings) -> list[str]:
    with session_scope(settings) as session:
        rows = session.exec(select(AuditLog).where(AuditLog.actor == "render")).all()
        return [row.action for row in rows]


def test_submitting_twice_renders_once(settings: Settings) -> None:
    executor = CountingExecutor(settings)
    manifest = make_manifest(2, 1.0, fps=12)
    job = submit_render(settings, manifest, preview=True, proposal_id="p1", executor=executor)
    assert job.status == "done" and job.error is None
    assert job.preview and job.proposal_id == "p1" and job.backend == "local"
    assert job.started_at is not None and job.finished_at is not None
    home = Path(settings.home)
    assert job.artifacts["dir"] == f"renders/tiny/ep1/{job.render_id}"
    assert (home / job.artifacts["episode"]).is_file()
    assert (home / job.artifacts["hls_master"]).is_file()
    assert render_dir(settings, job) == home / job.artifacts["dir"]

    again = submit_render(settings, manifest, preview=True, proposal_id="p1", executor=executor)
    assert again.render_id == job.render_id
    assert executor.runs == 1
    stored = get_render_job(settings, job.render_id)
    assert stored is not None and stored.status == "done"
    assert _audit_actions(settings) == ["render.queued", "render.done"]

    # Another proposal (or the full render) is another job.
    other = submit_render(settings, manifest, preview=True, proposal_id="p2", executor=executor)
    assert other.render_id != job.render_id and executor.runs == 2


def test_an_explicit_key_wins_over_content(sqlite_settings: Settings) -> None:
    executor = CountingExecutor(sqlite_settings)
    first = submit_render(
        sqlite_settings,
        make_manifest(2, 1.0, fps=12),
        preview=True,
        idempotency_key="window-42/ep1",
        executor=executor,
    )
    second = submit_render(
        sqlite_settings,
        make_manifest(3, 1.0, fps=12),
        preview=True,
        idempotency_key="window-42/ep1",
        executor=executor,
    )
    assert second.render_id == first.render_id and executor.runs == 1


def test_a_failed_render_is_recorded_and_can_be_retried(sqlite_settings: Settings) -> None:
    manifest = make_manifest(2, 1.0, fps=12)
    failing = CountingExecutor(sqlite_settings, fail=True)
    job = submit_render(sqlite_settings, manifest, preview=True, executor=failing)
    assert job.status == "failed"
    assert job.error == "RuntimeError: GPU fell off the bus"
    assert job.artifacts == {}

    working = CountingExecutor(sqlite_settings)
    retried = submit_render(sqlite_settings, manifest, preview=True, executor=working)
    assert retried.render_id == job.render_id
    assert retried.status == "done" and retried.error is None and working.runs == 1
    assert _audit_actions(sqlite_settings) == [
        "render.queued",
        "render.failed",
        "render.done",
    ]


def test_an_invalid_manifest_records_nothing(sqlite_settings: Settings) -> None:
    bad = make_manifest(2, 1.0, width=1080, height=1350)
    with pytest.raises(InputError, match="9:16"):
        submit_render(sqlite_settings, bad, executor=CountingExecutor(sqlite_settings))
    with session_scope(sqlite_settings) as session:
        assert session.exec(select(RenderJob)).all() == []


def test_a_caption_no_font_can_draw_records_nothing(sqlite_settings: Settings) -> None:
    captioned = make_manifest(2, 1.0, caption="Mara: 안녕")
    with pytest.raises(InputError, match="WRITERS_ROOM_FONTS") as caught:
        submit_render(sqlite_settings, captioned, executor=CountingExecutor(sqlite_settings))
    assert caught.value.field == "shots[0].caption"
    with session_scope(sqlite_settings) as session:
        assert session.exec(select(RenderJob)).all() == []


def test_the_default_executor_is_local(sqlite_settings: Settings) -> None:
    assert get_executor(sqlite_settings).name == "local"


@pytest.mark.skipif(HAVE_RAY, reason="Ray is installed; the missing-Ray message cannot show")
def test_the_ray_backend_without_ray_says_how_to_install_it(tmp_path: Path) -> None:
    settings = Settings(home=tmp_path / "home", render_backend="ray")
    with pytest.raises(BackendUnavailable, match=r"pip install 'writers-room\[ray\]'"):
        get_executor(settings)


@pytest.mark.skipif(
    not HAVE_RAY, reason="Ray is not installed: pip install 'writers-room[ray]' to run this test"
)
def test_the_ray_executor_renders_on_an_actor(tmp_path: Path) -> None:
    import ray

    from writers_room.render.executors import RayExecutor

    ray.init(num_cpus=2, include_dashboard=False, ignore_reinit_error=True)
    try:
        settings = Settings(home=tmp_path / "home", render_backend="ray")
        executor = RayExecutor(settings)
        assert executor.actor_count >= 1
        job = submit_render(
            settings, make_manifest(2, 1.0, fps=12), preview=True, executor=executor
        )
        assert job.status == "done", job.error
        assert job.backend == "ray"
        assert (Path(settings.home) / job.artifacts["episode"]).is_file()
    finally:
        ray.shutdown()


def _store_brief(settings: Settings, manifest: ShotManifest, version: int = 1) -> None:
    with session_scope(settings) as session:
        session.add(
            Series(
                series_id=manifest.series_id,
                title="Tiny Tides",
                premise="A keeper finds letters from her future self.",
                characters=[{"name": "Mara", "description": "red raincoat, silver locket"}],
            )
        )
        session.add(
            BriefVersion(
                series_id=manifest.series_id,
                episode_id=manifest.episode_id,
                version=version,
                brief={},
                manifest=manifest.model_dump(mode="json"),
            )
        )


class RecordingExecutor(CountingExecutor):
    """Counts runs and keeps the tasks it was given."""

    def __init__(self, settings: Settings) -> None:
        super().__init__(settings)
        self.tasks: list[RenderTask] = []

    def run(self, task: RenderTask, *, progress: Progress | None = None) -> RenderResult:
        self.tasks.append(task)
        return super().run(task, progress=progress)


def test_a_queued_job_runs_once_with_the_series_characters(sqlite_settings: Settings) -> None:
    manifest = make_manifest(2, 1.0, fps=12)
    _store_brief(sqlite_settings, manifest)
    key = "manual:tiny:ep1:v1:preview"
    job = queue_render(sqlite_settings, "tiny", "ep1", 1, preview=True, idempotency_key=key)
    assert job.status == "queued"
    # Keys may hold any characters; the render id is a path-safe name regardless.
    assert re.fullmatch(r"[0-9T]+Z-[0-9a-f]{10}", job.render_id)
    assert queue_render(sqlite_settings, "tiny", "ep1", 1, idempotency_key=key).render_id == (
        job.render_id
    )

    executor = RecordingExecutor(sqlite_settings)
    done = run_render(sqlite_settings, job.render_id, executor=executor)
    assert done.status == "done" and executor.runs == 1
    assert executor.tasks[0].options is not None
    assert executor.tasks[0].options.characters == {"Mara": "red raincoat, silver locket"}
    again = run_render(sqlite_settings, job.render_id, executor=executor)
    assert again.status == "done" and executor.runs == 1


def test_queueing_a_missing_brief_version_is_an_input_error(sqlite_settings: Settings) -> None:
    with pytest.raises(InputError, match="no brief version 7"):
        queue_render(sqlite_settings, "tiny", "ep1", 7)


class HangingExecutor(LocalExecutor):
    """An executor whose render never ends: the worker of a job about to be killed."""

    def run(self, task: RenderTask, *, progress: Progress | None = None) -> RenderResult:
        time.sleep(600)
        raise AssertionError("the test kills this worker long before")


def _hanging_worker(settings: Settings) -> None:
    manifest = make_manifest(2, 1.0, fps=12)
    submit_render(settings, manifest, preview=True, executor=HangingExecutor(settings))


def _job_row(settings: Settings) -> RenderJob | None:
    with session_scope(settings) as session:
        return session.exec(select(RenderJob)).first()


def test_a_render_whose_worker_was_killed_is_taken_over(
    sqlite_settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    worker = multiprocessing.get_context("spawn").Process(
        target=_hanging_worker, args=(sqlite_settings,)
    )
    worker.start()
    deadline = time.monotonic() + 120
    while (job := _job_row(sqlite_settings)) is None or job.status != "running":
        assert time.monotonic() < deadline and worker.is_alive(), "worker never started"
        time.sleep(0.1)
    assert worker.pid is not None
    os.kill(worker.pid, signal.SIGKILL)
    worker.join(timeout=30)
    assert job.heartbeat_at is not None and job.heartbeat_at == job.started_at

    # Right after the crash the job still looks alive: nobody takes it over yet.
    manifest = make_manifest(2, 1.0, fps=12)
    working = CountingExecutor(sqlite_settings)
    same = submit_render(sqlite_settings, manifest, preview=True, executor=working)
    assert same.status == "running" and working.runs == 0
    assert requeue_stale_renders(sqlite_settings) == []

    # Once its heartbeat is older than STALE_AFTER, submitting again renders it, once.
    later = datetime.now(UTC) + render_tool.STALE_AFTER + timedelta(seconds=1)
    monkeypatch.setattr(render_tool, "_utcnow", lambda: later)
    done = submit_render(sqlite_settings, manifest, preview=True, executor=working)
    assert done.render_id == job.render_id
    assert done.status == "done" and working.runs == 1
    assert _audit_actions(sqlite_settings) == ["render.queued", "render.requeued", "render.done"]
    with session_scope(sqlite_settings) as session:
        requeued = session.exec(select(AuditLog).where(AuditLog.action == "render.requeued")).one()
        assert "no heartbeat since" in requeued.detail["reason"]


def test_a_running_render_keeps_its_job_alive(
    sqlite_settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(render_tool, "HEARTBEAT_S", 0.05)
    seen: list[list[str]] = []

    class SlowExecutor(LocalExecutor):
        def run(self, task: RenderTask, *, progress: Progress | None = None) -> RenderResult:
            time.sleep(1.5)  # far past stale_after below: only the heartbeat keeps it
            seen.append(requeue_stale_renders(sqlite_settings, stale_after=timedelta(seconds=1)))
            return super().run(task, progress=progress)

    manifest = make_manifest(2, 1.0, fps=12)
    job = submit_render(
        sqlite_settings, manifest, preview=True, executor=SlowExecutor(sqlite_settings)
    )
    assert seen == [[]]
    assert job.status == "done"
    assert job.started_at is not None and job.heartbeat_at is not None
    assert job.heartbeat_at - job.started_at >= timedelta(seconds=1)


def test_serve_queues_again_a_job_left_running_by_an_older_worker(
    sqlite_settings: Settings,
) -> None:
    from writers_room.bots.scheduler import WindowScheduler

    manifest = make_manifest(2, 1.0, fps=12)
    _store_brief(sqlite_settings, manifest)
    job = queue_render(sqlite_settings, "tiny", "ep1", 1, preview=True)
    with session_scope(sqlite_settings) as session:
        row = session.get(RenderJob, job.render_id)
        assert row is not None
        # What a worker of the previous release left behind: running, no heartbeat column.
        row.status, row.started_at = "running", datetime.now(UTC) - timedelta(hours=1)
        session.add(row)
    (done,) = WindowScheduler(sqlite_settings).run_queued_renders()
    assert done.render_id == job.render_id and done.status == "done"
    assert _audit_actions(sqlite_settings) == ["render.queued", "render.requeued", "render.done"]


def test_a_render_of_an_approved_proposal_takes_its_packaging_and_cast(
    sqlite_settings: Settings,
) -> None:
    manifest = make_manifest(3, 1.0, fps=12)
    _store_brief(sqlite_settings, manifest)
    with session_scope(sqlite_settings) as session:
        series = session.get(Series, "tiny")
        assert series is not None
        series.characters = [
            {"name": "Mara", "look": "woman, red raincoat", "voice": {"variant": "f2"}}
        ]
        series.constraints = {"locations": ["the lighthouse"]}
        session.add(series)
        session.add(
            Proposal(
                proposal_id="p-pack",
                series_id="tiny",
                episode_id="ep1",
                status="applied",
                kind="packaging",
                summary="New first frame and headlines to test.",
                content_hash="h",
                assets=[
                    'headline: "Who is writing the letters?" — viewers',
                    "headline: The keeper knew",
                    "thumbnail: Mara at the door (s2: loses the fewest viewers)",
                ],
            )
        )
        session.flush()
        session.add(
            Decision(proposal_id="p-pack", decision="approved", decided_by="U0", content_hash="h")
        )
    job = queue_render(sqlite_settings, "tiny", "ep1", 1, proposal_id="p-pack", preview=True)
    executor = RecordingExecutor(sqlite_settings)
    run_render(sqlite_settings, job.render_id, executor=executor)
    options = executor.tasks[0].options
    assert options is not None
    assert options.headlines == ("Who is writing the letters?", "The keeper knew")
    assert options.thumbnail_shots == ("s2",)
    assert [(m.name, m.look, m.voice) for m in options.cast] == [
        ("Mara", "woman, red raincoat", {"variant": "f2"})
    ]
    assert options.locations == ("the lighthouse",)
    assert options.speaker is not None and options.speaker.name.startswith("espeak-ng")
