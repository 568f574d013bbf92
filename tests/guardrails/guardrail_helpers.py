"""Proposal factories for the guardrail tests."""

from __future__ import annotations

from writers_room.brief.proposals import BriefChangeProposal, Evidence, FieldChange


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
