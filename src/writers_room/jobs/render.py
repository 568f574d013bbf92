"""The render job API the producer calls: submit a manifest, get a ``RenderJob`` row.

``submit_render`` is idempotent: the same manifest, preview flag and proposal (or the same
explicit ``idempotency_key``) always maps to one job, so a retried graph step or two
racing callers never render twice. The row moves ``queued → running → done | failed``;
its ``artifacts`` hold paths relative to the room's home, and every outcome is written to
the append-only audit log.

While a job runs, its worker stamps ``heartbeat_at`` every :data:`HEARTBEAT_S`. A
``running`` job whose heartbeat is older than :data:`STALE_AFTER` lost its worker (the
process was killed, the machine went away): :func:`requeue_stale_renders` puts it back
to ``queued`` (``serve`` does so before each pass over the queue), and submitting the
same render again takes it over, so a crash never leaves a job stuck.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import logging
import shutil
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import func, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import col, select

from writers_room.brief.manifest import ShotManifest
from writers_room.config import Settings
from writers_room.errors import InputError
from writers_room.jobs.packaging import job_context
from writers_room.render.animatic import dialogue_warnings
from writers_room.render.credentials import content_signer
from writers_room.render.executors import RenderExecutor, RenderTask, get_executor
from writers_room.render.fonts import room_fonts
from writers_room.render.pipeline import Progress, RenderOptions
from writers_room.render.tts import get_speaker
from writers_room.render.validate import check_fonts, check_manifest, parse_manifest
from writers_room.store.db import audit, session_scope
from writers_room.store.models import BriefVersion, Decision, RenderJob

__all__ = [
    "default_idempotency_key",
    "get_render_job",
    "queue_render",
    "render_dir",
    "requeue_stale_renders",
    "run_render",
    "submit_render",
]

log = logging.getLogger(__name__)

ACTOR = "render"
_ERROR_CHARS = 2000
HEARTBEAT_S = 10.0
"""How often a worker stamps a running job's ``heartbeat_at``."""
STALE_AFTER = timedelta(minutes=2)
"""A running job with no heartbeat for this long has lost its worker."""


def _utcnow() -> datetime:
    return datetime.now(UTC)


def manifest_hash(manifest: ShotManifest) -> str:
    """SHA-256 of the manifest's canonical JSON (the content hash in the audit log)."""
    blob = json.dumps(manifest.model_dump(mode="json"), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()


def default_idempotency_key(
    manifest: ShotManifest, *, preview: bool = False, proposal_id: str | None = None
) -> str:
    """The key a submission gets when none is given: hash of manifest, preview, proposal."""
    blob = json.dumps(
        {
            "manifest": manifest.model_dump(mode="json"),
            "preview": preview,
            "proposal_id": proposal_id,
        },
        sort_keys=True,
        separators=(",", ":"),
    )
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()


def render_dir(settings: Settings, job: RenderJob) -> Path:
    """The folder of a job: ``<home>/renders/<series_id>/<episode_id>/<render_id>``."""
    return settings.renders_path / job.series_id / job.episode_id / job.render_id


def get_render_job(settings: Settings, render_id: str) -> RenderJob | None:
    """The job row with ``render_id``, or ``None``."""
    with session_scope(settings) as session:
        return session.get(RenderJob, render_id)


def _approval(settings: Settings, proposal_id: str | None) -> dict[str, Any] | None:
    if not proposal_id:
        return None
    with session_scope(settings) as session:
        decision = session.exec(select(Decision).where(Decision.proposal_id == proposal_id)).first()
        if decision is None:
            return None
        return {
            "decision_id": decision.id,
            "decision": decision.decision,
            "decided_by": decision.decided_by,
            "content_hash": decision.content_hash,
            "decided_at": decision.decided_at.isoformat() if decision.decided_at else None,
        }


def _claim(
    settings: Settings,
    manifest: ShotManifest,
    *,
    key: str,
    proposal_id: str | None,
    preview: bool,
    backend: str,
) -> tuple[RenderJob, bool]:
    """Create the job row, or find the one this key already has.

    Returns:
        The job and whether this call owns running it.
    """
    try:
        return _claim_once(
            settings, manifest, key=key, proposal_id=proposal_id, preview=preview, backend=backend
        )
    except IntegrityError:
        # Another process inserted the same key between our read and our insert.
        with session_scope(settings) as session:
            winner = session.exec(select(RenderJob).where(RenderJob.idempotency_key == key)).one()
            return winner, False


def _claim_once(
    settings: Settings,
    manifest: ShotManifest,
    *,
    key: str,
    proposal_id: str | None,
    preview: bool,
    backend: str,
) -> tuple[RenderJob, bool]:
    with session_scope(settings) as session:
        existing = session.exec(select(RenderJob).where(RenderJob.idempotency_key == key)).first()
        if existing is not None:
            if existing.status == "failed":
                # A failed job may be retried, by exactly one caller: the conditional
                # update succeeds for one of several racing retries only.
                claimed = session.execute(
                    update(RenderJob)
                    .where(
                        col(RenderJob.render_id) == existing.render_id,
                        col(RenderJob.status) == "failed",
                    )
                    .values(_REQUEUED)
                )
                owned = claimed.rowcount == 1  # type: ignore[attr-defined]
            elif existing.status == "running":
                # Taken over only when its worker is gone, again by one caller.
                owned = bool(_requeue_stale(session, [existing.render_id]))
            else:
                owned = False
            session.refresh(existing)
            return existing, owned
        now = _utcnow()
        job = RenderJob(
            render_id=f"{now:%Y%m%dT%H%M%SZ}-{hashlib.sha256(key.encode()).hexdigest()[:10]}",
            idempotency_key=key,
            series_id=manifest.series_id,
            episode_id=manifest.episode_id,
            brief_version=manifest.brief_version,
            proposal_id=proposal_id,
            preview=preview,
            backend=backend,
            status="queued",
            created_at=now,
        )
        session.add(job)
        audit(
            session,
            actor=ACTOR,
            action="render.queued",
            subject=f"{manifest.series_id}/{manifest.episode_id}/{job.render_id}",
            content_hash=manifest_hash(manifest),
            detail={"render_id": job.render_id, "preview": preview, "proposal_id": proposal_id},
        )
    return job, True


_REQUEUED: dict[str, Any] = {
    "status": "queued",
    "error": None,
    "started_at": None,
    "finished_at": None,
    "heartbeat_at": None,
}


def _requeue_stale(
    session: Any, render_ids: list[str] | None = None, *, stale_after: timedelta = STALE_AFTER
) -> list[str]:
    """Move running jobs without a recent heartbeat back to ``queued``, and audit each."""
    cutoff = _utcnow() - stale_after
    last_sign = func.coalesce(col(RenderJob.heartbeat_at), col(RenderJob.started_at))
    stale = select(RenderJob).where(col(RenderJob.status) == "running", last_sign < cutoff)
    if render_ids is not None:
        stale = stale.where(col(RenderJob.render_id).in_(render_ids))
    requeued = []
    for job in session.exec(stale).all():
        last = job.heartbeat_at or job.started_at
        # Conditional again: a worker that has just stamped its heartbeat keeps its job,
        # and of several callers requeueing at once exactly one succeeds.
        moved = session.execute(
            update(RenderJob)
            .where(
                col(RenderJob.render_id) == job.render_id,
                col(RenderJob.status) == "running",
                last_sign < cutoff,
            )
            .values(_REQUEUED)
        )
        if moved.rowcount != 1:
            continue
        requeued.append(job.render_id)
        audit(
            session,
            actor=ACTOR,
            action="render.requeued",
            subject=f"{job.series_id}/{job.episode_id}/{job.render_id}",
            content_hash=None,
            detail={
                "render_id": job.render_id,
                "reason": "its worker stopped: no heartbeat since "
                f"{last.isoformat() if last else 'it started'}",
            },
        )
    return requeued


def requeue_stale_renders(settings: Settings, *, stale_after: timedelta = STALE_AFTER) -> list[str]:
    """Put every ``running`` job whose worker died back in the queue; returns their ids.

    A job counts as abandoned when its ``heartbeat_at`` (or, for a job started by a
    version without heartbeats, ``started_at``) is older than ``stale_after``.
    """
    with session_scope(settings) as session:
        requeued = _requeue_stale(session, stale_after=stale_after)
    for render_id in requeued:
        log.warning("render %s lost its worker; queued again", render_id)
    return requeued


@contextmanager
def _heartbeat(settings: Settings, render_id: str) -> Iterator[None]:
    """Stamp the running job's ``heartbeat_at`` every :data:`HEARTBEAT_S` until done."""
    stop = threading.Event()

    def beat() -> None:
        while not stop.wait(HEARTBEAT_S):
            try:
                with session_scope(settings) as session:
                    session.execute(
                        update(RenderJob)
                        .where(
                            col(RenderJob.render_id) == render_id,
                            col(RenderJob.status) == "running",
                        )
                        .values(heartbeat_at=_utcnow())
                    )
            except Exception:  # noqa: BLE001 - a missed beat must not stop the render
                log.warning("render %s: heartbeat not recorded", render_id, exc_info=True)

    thread = threading.Thread(target=beat, name=f"heartbeat-{render_id}", daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join()


def _finish(
    settings: Settings,
    render_id: str,
    *,
    manifest: ShotManifest,
    status: str,
    artifacts: dict[str, Any] | None = None,
    error: str | None = None,
    detail: dict[str, Any] | None = None,
) -> RenderJob:
    with session_scope(settings) as session:
        job = session.get(RenderJob, render_id)
        assert job is not None, render_id
        job.status = status
        job.finished_at = _utcnow()
        if artifacts is not None:
            job.artifacts = artifacts
        job.error = error
        session.add(job)
        audit(
            session,
            actor=ACTOR,
            action=f"render.{status}",
            subject=f"{job.series_id}/{job.episode_id}/{job.render_id}",
            content_hash=manifest_hash(manifest),
            detail={"render_id": render_id, **(detail or {})},
        )
        return job


def _check(settings: Settings, manifest: ShotManifest) -> None:
    """Refuse a manifest (or settings) the render would refuse, before a job is recorded;
    log the lines that will not fit their shots (a warning: they are rendered, not cut)."""
    check_manifest(manifest)
    for warning in dialogue_warnings(manifest):
        log.warning("%s/%s: %s", manifest.series_id, manifest.episode_id, warning)
    content_signer(settings)
    fonts = room_fonts(settings)
    check_fonts(manifest, fonts, storyboard=None if settings.diffusion_model else fonts)


def queue_render(
    settings: Settings,
    series_id: str,
    episode_id: str,
    brief_version: int,
    *,
    proposal_id: str | None = None,
    preview: bool = False,
    idempotency_key: str | None = None,
) -> RenderJob:
    """Record a render of a stored brief version (``queued``) without rendering it.

    Idempotent on the key. The producer calls this inside the review graph so approving
    stays fast; a worker (``writers-room approve``/``render``/``serve``) runs the job
    with :func:`run_render`.

    Raises:
        InputError: no such brief version, or its manifest cannot be rendered.
    """
    with session_scope(settings) as session:
        manifest = _brief_manifest(session, series_id, episode_id, brief_version)
    _check(settings, manifest)
    key = idempotency_key or default_idempotency_key(
        manifest, preview=preview, proposal_id=proposal_id
    )
    job, _owned = _claim(
        settings,
        manifest,
        key=key,
        proposal_id=proposal_id,
        preview=preview,
        backend=settings.render_backend,
    )
    return job


def _start(settings: Settings, render_id: str, backend: str) -> bool:
    """Move a queued job to ``running``; only one caller wins."""
    now = _utcnow()
    with session_scope(settings) as session:
        started = session.execute(
            update(RenderJob)
            .where(col(RenderJob.render_id) == render_id, col(RenderJob.status) == "queued")
            .values(status="running", started_at=now, heartbeat_at=now, backend=backend)
        )
        return started.rowcount == 1  # type: ignore[attr-defined]


def run_render(
    settings: Settings,
    render_id: str,
    *,
    progress: Progress | None = None,
    options: RenderOptions | None = None,
    executor: RenderExecutor | None = None,
) -> RenderJob:
    """Render a queued job (exactly one caller does; others get the job as it stands)."""
    job = get_render_job(settings, render_id)
    if job is None:
        raise InputError(f"no render job {render_id!r}")
    executor = executor or get_executor(settings)
    with session_scope(settings) as session:
        manifest = _brief_manifest(session, job.series_id, job.episode_id, job.brief_version)
    if not _start(settings, render_id, executor.name):
        return job
    return _execute(settings, job, manifest, progress=progress, options=options, executor=executor)


def _execute(
    settings: Settings,
    job: RenderJob,
    manifest: ShotManifest,
    *,
    progress: Progress | None,
    options: RenderOptions | None,
    executor: RenderExecutor,
) -> RenderJob:
    """Render a job already marked ``running`` and record how it ended."""
    options = _job_options(settings, job, manifest, options)
    out_dir = render_dir(settings, job)
    if out_dir.exists():
        # Only a retried job can find its own folder (a crash after publishing it).
        shutil.rmtree(out_dir)
    task = RenderTask(
        manifest=manifest,
        out_dir=out_dir,
        preview=job.preview,
        options=options,
        provenance={
            "render_id": job.render_id,
            "idempotency_key": job.idempotency_key,
            "proposal_id": job.proposal_id,
            "approval": _approval(settings, job.proposal_id),
            "backend": executor.name,
        },
    )
    try:
        with _heartbeat(settings, job.render_id):
            result = executor.run(task, progress=progress)
    except Exception as exc:  # any failure is recorded on the job row
        log.exception("render %s failed", job.render_id)
        message = f"{type(exc).__name__}: {exc}"[:_ERROR_CHARS]
        return _finish(settings, job.render_id, manifest=manifest, status="failed", error=message)
    return _finish(
        settings,
        job.render_id,
        manifest=manifest,
        status="done",
        artifacts=result.artifacts(Path(settings.home)),
        detail={
            "renderer": result.renderer,
            "timings_s": result.timings,
            "cache_hits": list(result.cache_hits),
            "rendered_shots": list(result.rendered_shots),
        },
    )


def _job_options(
    settings: Settings, job: RenderJob, manifest: ShotManifest, options: RenderOptions | None
) -> RenderOptions:
    """The caller's options, completed from the room: the bible's cast (looks, voices),
    locations and character descriptions, the approved packaging (headlines, thumbnail
    frames; see :mod:`writers_room.jobs.packaging`) and the settings' speech engine.

    The character descriptions become fixed prompt fragments of a diffusion render: every
    shot a character appears in carries the same description, which keeps a face and
    wardrobe consistent across the episode.
    """
    options = options or RenderOptions()
    with session_scope(settings) as session:
        context = job_context(
            session,
            series_id=job.series_id,
            episode_id=job.episode_id,
            brief_version=job.brief_version,
            proposal_id=job.proposal_id,
            shot_ids=[shot.shot_id for shot in manifest.shots],
        )
    fill: dict[str, Any] = {}
    if not options.characters and context.characters:
        fill["characters"] = context.characters
    if not options.cast:
        fill["cast"] = context.cast
    if not options.locations:
        fill["locations"] = context.locations
    if not options.headlines and not options.headline:
        fill["headlines"] = context.headlines
    if not options.thumbnail_shots:
        fill["thumbnail_shots"] = context.thumbnail_shots
    if options.speaker is None:
        fill["speaker"] = get_speaker(settings)
    return dataclasses.replace(options, **fill)


def _brief_manifest(
    session: Any, series_id: str, episode_id: str, brief_version: int
) -> ShotManifest:
    brief = session.exec(
        select(BriefVersion).where(
            BriefVersion.series_id == series_id,
            BriefVersion.episode_id == episode_id,
            BriefVersion.version == brief_version,
        )
    ).first()
    if brief is None:
        raise InputError(f"{series_id}/{episode_id} has no brief version {brief_version}")
    # parse_manifest names the shot and field of anything wrong in a stored manifest.
    return parse_manifest(
        brief.manifest, file=f"{series_id}/{episode_id} brief v{brief_version} manifest"
    )


def submit_render(
    settings: Settings,
    manifest: ShotManifest,
    *,
    proposal_id: str | None = None,
    preview: bool = False,
    idempotency_key: str | None = None,
    progress: Progress | None = None,
    options: RenderOptions | None = None,
    executor: RenderExecutor | None = None,
) -> RenderJob:
    """Render ``manifest`` once per idempotency key and return its job row.

    The manifest is checked first (nothing is recorded for an invalid one). A key seen
    before returns that job as it stands, without rendering again, unless it failed or
    its worker died (see :data:`STALE_AFTER`), in which case exactly one caller retries
    it. Otherwise a job row is created (``queued``), marked ``running``, rendered on the
    executor, and marked ``done`` with its artifacts or ``failed`` with the error. Every
    transition is audited.

    Args:
        settings: Room settings (database, home, render backend).
        manifest: The shot manifest to render.
        proposal_id: The approved proposal this render implements (provenance, audit).
        preview: A fast 360x640 preview instead of the full ladder.
        idempotency_key: The job's key; default :func:`default_idempotency_key`.
        progress: Called as ``(stage, done, total)`` while rendering.
        options: Render knobs (see :class:`~writers_room.render.pipeline.RenderOptions`).
        executor: Executor to run on; default the one ``settings.render_backend`` names.

    Returns:
        The job row: ``done`` with ``artifacts`` (paths relative to ``settings.home``),
        or ``failed`` with ``error``; for an existing key, the job as it stands.

    Raises:
        InputError: the manifest cannot be rendered (no job is recorded).
        BackendUnavailable: the ``ray`` backend is configured but Ray is not installed.
    """
    _check(settings, manifest)
    key = idempotency_key or default_idempotency_key(
        manifest, preview=preview, proposal_id=proposal_id
    )
    executor = executor or get_executor(settings)
    job, owned = _claim(
        settings,
        manifest,
        key=key,
        proposal_id=proposal_id,
        preview=preview,
        backend=executor.name,
    )
    if not owned or not _start(settings, job.render_id, executor.name):
        return job
    return _execute(settings, job, manifest, progress=progress, options=options, executor=executor)
