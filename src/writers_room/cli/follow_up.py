"""The demo's second window: publish the approved change, let the audience answer, review.

After the first review's approved change is rendered, :func:`follow_up` publishes each
render as every variant of its episode (a brief change reaches all its thumbnails) at
the end of the reviewed window, simulates the next days of that series with the change's
effect planted (``sample.aftermath``), ingests them as a platform export, and reviews the
new window, whose report carries the change's outcome.
"""

from __future__ import annotations

import zlib
from datetime import datetime
from typing import Any

from rich.markup import escape

from writers_room.cli._common import out
from writers_room.cli.series_ingest import ingest_metrics_file
from writers_room.config import Settings

DEMO_PUBLISHER = "demo"


def _variants(s: Settings, series_id: str, episode_id: str) -> list[str]:
    from sqlmodel import select

    from writers_room.store.db import session_scope
    from writers_room.store.models import Variant

    with session_scope(s) as session:
        return list(
            session.exec(
                select(Variant.variant_id)
                .where(Variant.series_id == series_id, Variant.episode_id == episode_id)
                .order_by(Variant.variant_id)  # type: ignore[arg-type]
            ).all()
        )


def follow_up(
    s: Settings, reviews: dict[str, Any], jobs: list[Any], *, show: bool
) -> dict[str, Any]:
    """Publish the finished renders of approved changes and review the window after.

    Returns ``series_id -> {"published": [...], "window_end": ..., "outcomes": [...]}``
    for each series that had a change to publish.
    """
    from writers_room.analyst.metrics import load_windows
    from writers_room.graphs.window_review.run import start_review
    from writers_room.jobs.publish import publish_render
    from writers_room.sample.aftermath import planted_for, write_follow_up
    from writers_room.store.proposals import get_proposal

    done: dict[str, Any] = {}
    for job in jobs:
        if job.status != "done" or not job.proposal_id or job.series_id not in reviews:
            continue
        at: datetime = reviews[job.series_id].window_end
        kind = get_proposal(s, job.proposal_id)["kind"]
        for variant in _variants(s, job.series_id, job.episode_id):
            row, _ = publish_render(
                s, job.render_id, variant_id=variant, published_by=DEMO_PUBLISHER, at=at
            )
            entry = done.setdefault(job.series_id, {"published": [], "planted": [], "start": at})
            entry["published"].append(row.model_dump(mode="json"))
            effect = planted_for(kind, job.episode_id, variant)
            if effect is not None:
                entry["planted"].append(effect)
    result: dict[str, Any] = {}
    for series_id, entry in done.items():
        path = write_follow_up(
            s.home / "sample" / f"{series_id}-follow-up.csv",
            series_id,
            load_windows(s, series_id),
            start=entry["start"],
            planted=entry["planted"],
            seed=zlib.crc32(series_id.encode()),
        )
        ingest_metrics_file(s, path, show=show)
        review = start_review(s, series_id)
        result[series_id] = {
            "published": entry["published"],
            "planted": [p.__dict__ for p in entry["planted"]],
            "window_end": review.window_end.isoformat(),
            "outcomes": (review.report or {}).get("outcomes", []),
        }
    return result


def print_follow_up(result: dict[str, Any]) -> None:
    for series_id, entry in result.items():
        renders: dict[tuple[str, str, str], list[str]] = {}
        for pub in entry["published"]:
            key = (pub["render_id"], pub["episode_id"], pub["published_at"])
            renders.setdefault(key, []).append(pub["variant_id"])
        for (render_id, episode_id, at), variants in renders.items():
            out.print(
                f"\n[green]✓[/] published {render_id} as {series_id}/{episode_id} "
                f"({', '.join(variants)}) from {at}"
            )
        out.print(
            f"[bold]{series_id}[/] next window ending {entry['window_end']}: did the change work?"
        )
        for outcome in entry["outcomes"]:
            out.print(f"  {escape(outcome['summary'])}")
        if not entry["outcomes"]:
            out.print("  (the change targets no metric the room measures)")
