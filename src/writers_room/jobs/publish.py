"""Publishing: a render goes live as one distribution variant, from a given time.

The room does not upload anything; the platform does. ``publish`` records *which*
variant's events follow the render from *when*, so that the next reviews can read the
outcome of the change the render carries (``analyst.outcomes``). The render's brief
version and the applied proposal that wrote it are copied onto the row.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlmodel import select

from writers_room.config import Settings
from writers_room.errors import InputError
from writers_room.store.db import audit, session_scope
from writers_room.store.models import BriefVersion, Publication, RenderJob, Variant

__all__ = ["publish_render", "publications"]


def publish_render(
    settings: Settings,
    render_id: str,
    *,
    variant_id: str,
    published_by: str,
    at: datetime | None = None,
) -> tuple[Publication, bool]:
    """Record that ``render_id`` is live as ``variant_id`` from ``at`` (default now).

    Returns:
        The publication and whether it is new (publishing the same render to the same
        variant again returns the first row and changes nothing).

    Raises:
        InputError: unknown render, a render that is not done or is a preview, a variant
            the render's episode does not have, an empty ``published_by`` (exit 2).
    """
    if not published_by.strip():
        raise InputError("--as: say who publishes", field="--as", value=published_by)
    moment = (at or datetime.now(UTC)).astimezone(UTC)
    with session_scope(settings) as session:
        job = session.get(RenderJob, render_id)
        if job is None:
            raise InputError(f"no render {render_id!r}", field="render_id", value=render_id)
        if job.status != "done" or job.preview:
            what = "a preview" if job.preview else f"{job.status}, not done"
            raise InputError(
                f"render {render_id} is {what}: only a finished full render can be published",
                field="render_id",
                value=render_id,
            )
        variant = session.get(Variant, (job.series_id, job.episode_id, variant_id))
        if variant is None:
            known = session.exec(
                select(Variant.variant_id).where(
                    Variant.series_id == job.series_id, Variant.episode_id == job.episode_id
                )
            ).all()
            raise InputError(
                f"{job.series_id}/{job.episode_id} has no variant {variant_id!r} "
                f"(its variants: {', '.join(sorted(known)) or 'none'})",
                field="--variant",
                value=variant_id,
            )
        held = session.exec(
            select(Publication).where(
                Publication.render_id == render_id, Publication.variant_id == variant_id
            )
        ).first()
        if held is not None:
            return held, False
        proposal_id = (
            job.proposal_id
            or session.exec(
                select(BriefVersion.proposal_id).where(
                    BriefVersion.series_id == job.series_id,
                    BriefVersion.episode_id == job.episode_id,
                    BriefVersion.version == job.brief_version,
                )
            ).first()
        )
        row = Publication(
            render_id=render_id,
            series_id=job.series_id,
            episode_id=job.episode_id,
            variant_id=variant_id,
            brief_version=job.brief_version,
            proposal_id=proposal_id,
            published_at=moment,
            published_by=published_by.strip(),
        )
        session.add(row)
        audit(
            session,
            actor=row.published_by,
            action="render.published",
            subject=f"{job.series_id}/{job.episode_id}/{variant_id}",
            detail={
                "render_id": render_id,
                "brief_version": job.brief_version,
                "proposal_id": proposal_id,
                "published_at": moment.isoformat(),
            },
        )
        session.flush()
        return row, True


def publications(settings: Settings, series_id: str) -> list[Publication]:
    """The series' publications, oldest first."""
    with session_scope(settings) as session:
        return list(
            session.exec(
                select(Publication)
                .where(Publication.series_id == series_id)
                .order_by(Publication.published_at, Publication.id)  # type: ignore[arg-type]
            ).all()
        )
