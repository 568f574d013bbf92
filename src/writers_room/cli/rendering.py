"""``render``: render an episode's current brief version, and run queued renders."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from writers_room.cli._common import (
    JsonOpt,
    emit_json,
    interactive,
    out,
    progress_bar,
    settings,
    stage_reporter,
)
from writers_room.config import Settings
from writers_room.errors import InputError, RoomError


def run_renders(s: Settings, render_ids: list[str], *, show: bool) -> list[Any]:
    from writers_room.jobs.render import get_render_job, run_render

    jobs = []
    for render_id in render_ids:
        job = get_render_job(s, render_id)
        if job is not None and job.status == "queued":
            with progress_bar(show) as bar:
                job = run_render(s, render_id, progress=stage_reporter(bar, "render"))
        jobs.append(job)
    return jobs


def render(
    series: Annotated[str, typer.Option("--series", help="Series id.")],
    episode: Annotated[str, typer.Option("--episode", help="Episode id.")],
    preview: Annotated[bool, typer.Option("--preview", help="360x640 only, fast.")] = False,
    as_json: JsonOpt = False,
) -> None:
    """Render the episode's current (approved) brief version."""
    from writers_room.ingest.series import current_brief
    from writers_room.jobs.render import queue_render
    from writers_room.store.db import session_scope

    s = settings()
    with session_scope(s) as session:
        brief = current_brief(session, series, episode)
        if brief is None:
            raise InputError(f"series {series!r} has no episode {episode!r}")
        version = brief.version
    kind = "preview" if preview else "full"
    job = queue_render(
        s,
        series,
        episode,
        version,
        preview=preview,
        idempotency_key=f"manual:{series}:{episode}:v{version}:{kind}",
    )
    (job,) = run_renders(s, [job.render_id], show=interactive(as_json))
    if as_json:
        emit_json({"render_id": job.render_id, "status": job.status, "artifacts": job.artifacts})
        return
    where = s.home / "renders" / series / episode / job.render_id
    if job.status == "done":
        out.print(f"[green]✓[/] {series}/{episode} v{version} ({kind}) rendered: {where}")
    else:
        raise RoomError(f"render {job.render_id} {job.status}: {job.error}")
