"""Registering a series bundle: the series, its episodes, briefs, shot manifests, variants.

Registering is idempotent. Re-adding a bundle updates the series' bible, brand and
approvers and adds new episodes and variants, but never rewrites an existing episode's
brief: brief changes go through proposals and an approved decision (see
``guardrails/approval.py``), so a differing brief is reported, not applied.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from sqlmodel import Session, select

from writers_room.brief.bundle import SeriesBundle, load_bundle
from writers_room.config import Settings
from writers_room.store.db import audit, session_scope
from writers_room.store.models import BriefVersion, Episode, Series, Variant

__all__ = ["SeriesAddResult", "add_series", "add_series_file", "current_brief", "variant_kind"]


@dataclass
class SeriesAddResult:
    series_id: str
    created: bool
    episodes_added: list[str] = field(default_factory=list)
    variants_added: int = 0
    briefs_differing: list[str] = field(default_factory=list)


def add_series_file(settings: Settings, path: Path, *, actor: str = "cli") -> SeriesAddResult:
    """Validate ``path`` (a series.yaml) and register it."""
    return add_series(settings, load_bundle(Path(path)), actor=actor)


def add_series(settings: Settings, bundle: SeriesBundle, *, actor: str = "cli") -> SeriesAddResult:
    """Register (or update) a validated series bundle in one transaction."""
    with session_scope(settings) as session:
        series = session.get(Series, bundle.series_id)
        result = SeriesAddResult(series_id=bundle.series_id, created=series is None)
        if series is None:
            series = Series(series_id=bundle.series_id, title=bundle.title, premise=bundle.premise)
        series.title = bundle.title
        series.premise = bundle.premise
        series.audience = bundle.audience
        series.tone_refs = list(bundle.tone_refs)
        series.brand = bundle.brand.model_dump()
        series.characters = [c.model_dump() for c in bundle.characters]
        series.constraints = bundle.constraints.model_dump(mode="json")
        series.approvers = list(bundle.approvers)
        series.updated_at = datetime.now(UTC)
        session.add(series)
        session.flush()
        for position, spec in enumerate(bundle.episodes):
            episode = session.get(Episode, (bundle.series_id, spec.episode_id))
            manifest = spec.manifest(bundle.series_id).model_dump(mode="json")
            if episode is None:
                session.add(
                    Episode(
                        series_id=bundle.series_id,
                        episode_id=spec.episode_id,
                        title=spec.title,
                        position=position,
                        current_version=1,
                    )
                )
                session.add(
                    BriefVersion(
                        series_id=bundle.series_id,
                        episode_id=spec.episode_id,
                        version=1,
                        brief=spec.brief.stored(),
                        manifest=manifest,
                        source="series_add",
                        created_by=actor,
                    )
                )
                result.episodes_added.append(spec.episode_id)
            else:
                episode.title = spec.title
                episode.position = position
                session.add(episode)
                current = current_brief(session, bundle.series_id, spec.episode_id)
                if current is not None and current.brief != spec.brief.stored():
                    result.briefs_differing.append(spec.episode_id)
            for variant_id in spec.variants:
                if session.get(Variant, (bundle.series_id, spec.episode_id, variant_id)) is None:
                    session.add(
                        Variant(
                            series_id=bundle.series_id,
                            episode_id=spec.episode_id,
                            variant_id=variant_id,
                            kind=variant_kind(variant_id),
                        )
                    )
                    result.variants_added += 1
        audit(
            session,
            actor=actor,
            action="series.add" if result.created else "series.update",
            subject=bundle.series_id,
            detail={
                "episodes_added": result.episodes_added,
                "variants_added": result.variants_added,
                "briefs_differing": result.briefs_differing,
            },
        )
    return result


def current_brief(session: Session, series_id: str, episode_id: str) -> BriefVersion | None:
    """The brief version in force for an episode."""
    episode = session.get(Episode, (series_id, episode_id))
    if episode is None:
        return None
    return session.exec(
        select(BriefVersion).where(
            BriefVersion.series_id == series_id,
            BriefVersion.episode_id == episode_id,
            BriefVersion.version == episode.current_version,
        )
    ).first()


def variant_kind(variant_id: str) -> str:
    """Guess a variant's kind (thumbnail, hook or caption) from its id."""
    lowered = variant_id.lower()
    if "hook" in lowered:
        return "hook"
    if "caption" in lowered or "title" in lowered:
        return "caption"
    return "thumbnail"
