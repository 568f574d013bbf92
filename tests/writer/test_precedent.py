"""The offline writer cites how the series' last change of the same kind worked out."""

from __future__ import annotations

from writers_room.brief.proposals import BriefChangeProposal, Evidence, FieldChange
from writers_room.writer.context import IdeationContext, PastOutcome
from writers_room.writer.offline import _with_precedent


def _proposal(kind: str) -> BriefChangeProposal:
    return BriefChangeProposal(
        episode_id="ep3",
        kind=kind,  # type: ignore[arg-type]
        summary="Trim the recap.",
        target="completion 21% vs cohort 35%",
        expected_effect="completion back to the cohort band",
        changes=[FieldChange(path="manifest.shots[2].duration_s", before=8, after=5)],
        evidence=Evidence(metrics={"completion": 0.21}, findings=["pacing"]),
        rationale="The recap is where viewers leave. (Rule-based offline writer.)",
    )


def _outcome(pid: str, kind: str, finding: str, summary: str) -> PastOutcome:
    return PastOutcome(
        proposal_id=pid, episode_id="ep1", kind=kind, finding=finding, metric="completion",
        verdict="improved", summary=summary,
    )  # fmt: skip


def test_the_last_outcome_of_the_same_kind_and_finding_is_cited() -> None:
    ctx = IdeationContext.model_construct(
        past_outcomes=[
            _outcome("p-hook", "hook_rewrite", "hook_failure", "hook: 10-s retention +1 pp"),
            _outcome("p-other", "pacing_cut", "", "pacing_cut on ep2: completion +1.0 pp"),
            _outcome("p-cut", "pacing_cut", "pacing", "pacing_cut on ep1: completion +8.0 pp"),
        ]
    )
    cited = _with_precedent(ctx, _proposal("pacing_cut"))
    assert cited.rationale.endswith("Last time: pacing_cut on ep1: completion +8.0 pp.")
    assert "viewers leave" in cited.rationale
    # No outcome of that kind yet: the rationale is left as it was.
    plain = _with_precedent(ctx, _proposal("sequel"))
    assert plain.rationale == _proposal("sequel").rationale


def test_the_model_prompt_lists_past_outcomes() -> None:
    from writers_room.writer.prompts import _outcomes

    ctx = IdeationContext.model_construct(
        past_outcomes=[_outcome("p-cut", "pacing_cut", "pacing", "completion +8.0 pp")]
    )
    lines = _outcomes(ctx)
    assert lines[0].startswith("## How the series' published changes worked out")
    assert lines[1] == "- (pacing_cut, improved) completion +8.0 pp"
    assert _outcomes(IdeationContext.model_construct(past_outcomes=[])) == []
