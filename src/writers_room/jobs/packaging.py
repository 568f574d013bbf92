"""What a render job takes from the room besides its manifest: packaging and cast.

* **Packaging** — the headlines and thumbnail frames an approver signed off on. A render
  of an applied proposal uses the proposal's approved copy: the headline alternative the
  approver chose (a ``headline`` choice, with the decision's pick), else the proposal's
  ``headline: …`` assets in order, then the brief's ``title`` and the episode's title;
  its ``thumbnail: s04, close-up — …`` (or ``thumbnail: … (s04 …)``) assets name the
  frames. A render of no proposal uses the
  brief's and the episode's titles.
* **Cast** — the series bible's characters (looks, voices) and locations, for the
  storyboard figures, the slug lines and the temp voices.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlmodel import select

from writers_room.render.cast import CastMember, cast_from_bible
from writers_room.store.models import BriefVersion, Decision, Episode, Proposal, Series

__all__ = ["JobContext", "job_context", "packaging_from", "thumbnail_refs"]

_HEADLINE = re.compile(r"^\s*headline\s*:\s*(.+)$", re.IGNORECASE)
_THUMBNAIL = re.compile(r"^\s*thumbnail\s*:", re.IGNORECASE)
# A thumbnail asset names its frame as the writer writes it (``thumbnail: s06, close-up —
# …``) or in parentheses (``thumbnail: Mara at the door (s2: …)``); only real shot ids count.
_SHOT_REF = re.compile(r"(?:^\s*thumbnail\s*:\s*|\()([A-Za-z0-9][A-Za-z0-9._-]*)\b", re.IGNORECASE)


@dataclass(frozen=True)
class JobContext:
    """The room's facts a render needs."""

    headlines: tuple[str, ...] = ()
    thumbnail_shots: tuple[str, ...] = ()
    cast: tuple[CastMember, ...] = ()
    locations: tuple[str, ...] = ()
    characters: Mapping[str, str] | None = None


def _headline_text(asset: str) -> str:
    """``headline: "Text" — viewers on ep03`` → ``Text`` (quotes and attributions off)."""
    match = _HEADLINE.match(asset)
    if match is None:
        return ""
    text = match.group(1).strip()
    quoted = re.match(r"^[\"“](.+?)[\"”]", text)
    return (quoted.group(1) if quoted else text).strip()


def _chosen_headlines(changes: Mapping[str, Any], picks: Sequence[Any] | None) -> list[str]:
    """The approver's headline pick from the proposal's choices (where it has them)."""
    chosen: list[str] = []
    choices = changes.get("choices") if isinstance(changes, Mapping) else None
    for number, choice in enumerate(choices or []):
        if not isinstance(choice, Mapping) or choice.get("slot") not in {"headline", "title"}:
            continue
        options = [str(o) for o in choice.get("options") or [] if str(o).strip()]
        pick = picks[number] if picks is not None and number < len(picks) else 0
        if isinstance(pick, int) and 0 <= pick < len(options):
            chosen.append(options[pick])
        elif options:
            chosen.append(options[0])
    return chosen


def packaging_from(
    *,
    assets: Sequence[str] = (),
    changes: Mapping[str, Any] | None = None,
    picks: Sequence[Any] | None = None,
    brief: Mapping[str, Any] | None = None,
    title: str = "",
    shot_ids: Sequence[str] = (),
) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """The approved headlines (best first) and the thumbnail shots the packaging names."""
    headlines = _chosen_headlines(changes or {}, picks)
    headlines += [text for asset in assets if (text := _headline_text(asset))]
    for fallback in (str((brief or {}).get("title") or ""), title):
        if fallback.strip():
            headlines.append(fallback.strip())
    return tuple(dict.fromkeys(headlines)), thumbnail_refs(assets, shot_ids)


def thumbnail_refs(assets: Sequence[str], shot_ids: Sequence[str]) -> tuple[str, ...]:
    """The shots the ``thumbnail:`` assets name, in order (ids not in ``shot_ids`` skipped)."""
    known = set(shot_ids)
    shots = [
        ref
        for asset in assets
        if _THUMBNAIL.match(asset)
        for ref in _SHOT_REF.findall(asset)
        if ref in known
    ]
    return tuple(dict.fromkeys(shots))


def job_context(
    session: Any,
    *,
    series_id: str,
    episode_id: str,
    brief_version: int,
    proposal_id: str | None,
    shot_ids: Sequence[str],
) -> JobContext:
    """Everything :func:`writers_room.jobs.render` adds to a job's render options."""
    series = session.get(Series, series_id)
    people = list(series.characters) if series is not None else []
    constraints = dict(series.constraints or {}) if series is not None else {}
    episode = session.get(Episode, (series_id, episode_id))
    brief_row = session.exec(
        select(BriefVersion).where(
            BriefVersion.series_id == series_id,
            BriefVersion.episode_id == episode_id,
            BriefVersion.version == brief_version,
        )
    ).first()
    proposal = session.get(Proposal, proposal_id) if proposal_id else None
    decision = (
        session.exec(select(Decision).where(Decision.proposal_id == proposal_id)).first()
        if proposal_id
        else None
    )
    approved = proposal is not None and decision is not None and decision.decision == "approved"
    headlines, shots = packaging_from(
        assets=list(proposal.assets) if approved and proposal is not None else [],
        changes=dict(proposal.changes or {}) if approved and proposal is not None else {},
        picks=getattr(decision, "choices", None),
        brief=dict(brief_row.brief or {}) if brief_row is not None else {},
        title=episode.title if episode is not None else "",
        shot_ids=shot_ids,
    )
    characters = {
        str(p["name"]): str(p.get("description", ""))
        for p in people
        if isinstance(p, dict) and p.get("name") and p.get("description")
    }
    return JobContext(
        headlines=headlines,
        thumbnail_shots=shots,
        cast=cast_from_bible([p for p in people if isinstance(p, Mapping)]),
        locations=tuple(str(loc) for loc in constraints.get("locations") or []),
        characters=characters or None,
    )
