"""Evidence in words: every key a rule writes comes out as a sentence a writer reads."""

from __future__ import annotations

import re

import pytest

from writers_room.analyst import diagnosis as dx
from writers_room.analyst import scorecard as sc
from writers_room.analyst.cliff import CliffPoint
from writers_room.analyst.evidence import evidence_sentences, finding_sentences, known_keys
from writers_room.brief.report import Finding, Metrics

TARGETS = dict(sc.BENCHMARKS) | {"ctr": 0.052, "retention_10s": 0.52, "shares_saves": 0.04}


def metrics(**overrides: float) -> Metrics:
    base: dict[str, float] = {
        "impressions": 20_000, "clicks": 1000, "ctr": 0.05, "starts": 1000,
        "retention_3s": 0.75, "retention_8s": 0.56, "retention_10s": 0.53, "completion": 0.37,
        "completions": 370, "avg_view_s": 30.0, "shares": 15, "saves": 25, "comments": 10,
        "follows": 5, "conversions": 5, "revenue": 10.0, "shares_per_view": 0.015,
        "saves_per_view": 0.025, "comments_per_view": 0.01, "follows_per_view": 0.005,
        "engagement_per_view": 0.05, "conversions_per_view": 0.005, "revenue_per_view": 0.01,
    }  # fmt: skip
    base.update(overrides)
    return Metrics.model_validate(base)


def every_rule() -> list[dx.Diagnosis]:
    """One diagnosis of each kind, from numbers that make each rule fire."""
    cliff = CliffPoint(11, 6.0, 18.0, 60.0, 42.0, 3)
    return [
        *dx.diagnose(metrics(ctr=0.021, clicks=420), TARGETS, None),  # packaging
        *dx.diagnose(metrics(ctr=0.02, retention_8s=0.26, retention_10s=0.22), TARGETS, None),
        *dx.diagnose(metrics(), TARGETS, cliff, 0.8, "s05"),  # pacing
        *dx.diagnose(metrics(comments=2, comments_per_view=0.002), TARGETS, None),
        *dx.diagnose(
            metrics(
                retention_10s=0.65,
                retention_8s=0.68,
                shares=50,
                saves=60,
                shares_per_view=0.05,
                saves_per_view=0.06,
            ),
            TARGETS,
            None,
        ),  # fmt: skip
    ]


def test_every_rule_is_covered() -> None:
    kinds = {d.kind for d in every_rule()}
    assert kinds == {"hook_packaging", "hook_failure", "pacing", "low_participation", "resonance"}


@pytest.mark.parametrize("cohort", [True, False])
def test_every_evidence_key_of_every_rule_reads_as_words(cohort: bool) -> None:
    for d in every_rule():
        # Each key is read by a template, none is left to the generic fallback...
        assert set(d.evidence) <= set(known_keys()), d.kind
        sentences = evidence_sentences(d.evidence, cohort=cohort)
        # ...and no variable name reaches the writer.
        for sentence in sentences:
            assert not re.search(r"[a-z]_[a-z]", sentence), (d.kind, sentence)
            assert sentence.endswith(".") and (sentence[0].isupper() or sentence[0].isdigit())
        assert len(sentences) < len(d.evidence), d.kind  # related keys read together


def test_ctr_reads_as_the_issue_asks() -> None:
    evidence = {"ctr": 0.021, "cohort_ctr": 0.052, "ctr_ratio": 0.021 / 0.052}
    assert evidence_sentences(evidence) == ["CTR 2.1% is 0.40× the cohort's 5.2%."]
    assert evidence_sentences(evidence, cohort=False) == ["CTR 2.1% is 0.40× the benchmark 5.2%."]


def test_thresholds_say_what_they_are_thresholds_of() -> None:
    sentences = evidence_sentences({"ctr_low_below_ratio": 0.7, "retention_8s_below": 0.35})
    assert sentences == [
        "CTR counts as low below 0.70× the cohort's CTR.",
        "A hook fails when fewer than 35% are still watching at 8 s.",
    ]


def test_pacing_evidence_in_words() -> None:
    pacing = next(d for d in every_rule() if d.kind == "pacing")
    text = " ".join(evidence_sentences(pacing.evidence))
    assert "Retention falls 18.0 points over the seconds around second 11." in text
    assert "6.0 points per second, 7.5× the usual 0.8 at that second." in text
    assert "standard errors above the usual loss (3 needed)" in text


def test_an_unknown_key_still_reads_as_words() -> None:
    assert evidence_sentences({"weird_new_number": 2.5, "starts": 120.0}) == [
        "120 viewers started the episode.",
        "Weird new number: 2.5.",
    ]


def test_finding_sentences_follow_the_baseline() -> None:
    finding = Finding(
        kind="hook_packaging",
        problem="p",
        proposal="q",
        summary="s",
        evidence={"ctr": 0.02, "cohort_ctr": 0.05, "ctr_ratio": 0.4},
        baseline="benchmarks (fewer than 2 earlier episodes with a same-age window)",
    )
    assert finding_sentences(finding) == ["CTR 2.0% is 0.40× the benchmark 5.0%."]
