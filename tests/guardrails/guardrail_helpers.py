"""Proposal factories for the guardrail tests, and contexts for episodes of the sample bibles."""

from __future__ import annotations

from typing import Any

from writers_room.brief.bundle import Character, Constraints
from writers_room.brief.paths import value_at
from writers_room.brief.proposals import BriefChangeProposal, Evidence, FieldChange
from writers_room.guardrails.brand_guard import GuardContext
from writers_room.sample.bibles import load_series


def hook_proposal(
    hook: str = "Mara is already underwater when the episode starts.",
) -> BriefChangeProposal:
    return BriefChangeProposal(
        episode_id="ep1",
        kind="hook_rewrite",
        summary="Open on the strongest conflict beat: Mara underwater, the letter in her fist.",
        target="retention_10s 19% vs cohort 53%",
        expected_effect="10-s retention back to the cohort band",
        changes=[
            FieldChange(
                path="brief.hook", before="A wave smashes the lighthouse door open.", after=hook
            ),
            FieldChange(path="manifest.shots[1].duration_s", before=10, after=6),
        ],
        evidence=Evidence(metrics={"retention_10s": 0.19}, comment_ids=["c1"]),
    )


def with_comments(ctx: GuardContext, comments: list[str]) -> GuardContext:
    return ctx.model_copy(update={"comment_texts": comments})


def sample_guard(series_id: str, episode_id: str, **overrides: Any) -> GuardContext:
    """The guard's context for an episode of a sample bible, as the sample room stores it."""
    series = load_series(series_id)
    cast = {c.short: c for c in series.characters}
    episode = next(e for e in series.episodes if e.episode_id == episode_id)
    shots, start = [], 0.0
    for index, shot in enumerate(episode.shots):
        shots.append(
            {
                **shot._asdict(),
                "shot_id": f"s{index + 1:02d}",
                "start_s": start,
                "duration_s": float(shot.duration_s),
                "characters": [cast[s].name for s in shot.characters.split(",") if s],
            }
        )
        start += shot.duration_s
    fields: dict[str, Any] = {
        "series_id": series_id,
        "episode_id": episode_id,
        "episode_title": episode.title,
        "series_premise": series.premise,
        "characters": [Character(name=c.name, description=c.description) for c in cast.values()],
        "constraints": Constraints(
            runtime_s=(45, 90),
            locations=list(series.locations),
            cast=[c.name for c in cast.values()],
        ),
        "brief": {
            "premise": episode.premise,
            "hook": episode.hook,
            "twist": episode.twist,
            "payoff": episode.payoff,
            "beats": list(episode.beats),
            "locked_beats": list(episode.locked_beats),
        },
        "manifest": {"series_id": series_id, "episode_id": episode_id, "shots": shots},
    }
    fields.update(overrides)
    return GuardContext(**fields)


def sample_proposal(
    ctx: GuardContext, kind: str, changes: dict[str, Any], **overrides: Any
) -> BriefChangeProposal:
    """A proposal of ``kind`` writing ``changes`` (path → after) on a sample context."""
    fields: dict[str, Any] = {
        "episode_id": ctx.episode_id,
        "kind": kind,
        "summary": "A change to test the story checks of the brand guard.",
        "target": "retention_10s 20% vs 50%",
        "expected_effect": "10-s retention toward the target",
        "changes": [
            FieldChange(path=path, before=value_at(ctx.brief, ctx.manifest, path)[1], after=after)
            for path, after in changes.items()
        ],
        "evidence": Evidence(metrics={"retention_10s": 0.2}),
    }
    fields.update(overrides)
    return BriefChangeProposal(**fields)


TWIST_LINE = "He signed it all over to me so Callum couldn't force a sale."
PARCELS = "Parcel fourteen-B, the slip rights, the fuel dock easement."
