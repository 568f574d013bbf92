"""Evidence in words: each number behind a verdict as a sentence a writer reads.

A finding's ``evidence`` is a flat ``{name: value}`` map, exact and machine-readable
(``ctr_ratio 0.4``); writers read sentences ("CTR 2.1% is 0.40× the cohort's 5.2%").
:func:`evidence_sentences` turns every key of such a map into words: related keys are
read together by one sentence (a value, its target and their ratio), thresholds say what
they are thresholds of, and a key no template knows still comes out as words, never as a
variable name. The report's HTML and JSON (``Finding.sentences``) use it, and so can the
writer: :func:`finding_sentences` takes a :class:`~writers_room.brief.report.Finding`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from writers_room.brief.report import Finding

__all__ = ["count", "evidence_sentences", "finding_sentences", "pct", "times"]


def pct(value: float, decimals: int = 1) -> str:
    """A fraction as a percentage: ``0.021`` → ``2.1%``."""
    return f"{value * 100:.{decimals}f}%"


def times(value: float) -> str:
    """A ratio: ``0.4`` → ``0.40×``."""
    return f"{value:.2f}×"


def count(value: float) -> str:
    """A count with thousands separators: ``12345.0`` → ``12,345``."""
    return f"{round(value):,}"


def _odds(p: float) -> str:
    if p < 1e-4:
        return "less than once in 10,000 windows"
    return f"about once in {count(1 / p)} windows" if p < 0.5 else f"with probability {p:.2f}"


def _pp(value: float) -> str:
    return f"{value:.1f}"


@dataclass(frozen=True)
class _Words:
    """How the comparison values are named: the cohort's, or a benchmark."""

    cohort: bool

    def of(self, what: str) -> str:
        return f"the cohort's {what}" if self.cohort else f"the benchmark {what}"

    @property
    def whose(self) -> str:
        return "the cohort's" if self.cohort else "the benchmark"


_Render = Callable[[Mapping[str, float], _Words], str]


def _ctr(e: Mapping[str, float], w: _Words) -> str:
    return f"CTR {pct(e['ctr'])} is {times(e['ctr_ratio'])} {w.whose} {pct(e['cohort_ctr'])}."


def _r8(e: Mapping[str, float], w: _Words) -> str:
    return (
        f"{pct(e['retention_8s'], 0)} of starters are still watching at 8 s "
        f"({w.whose} {pct(e['cohort_retention_8s'], 0)})."
    )


def _r10(e: Mapping[str, float], w: _Words) -> str:
    return (
        f"10-second retention {pct(e['retention_10s'], 0)} is {times(e['retention_10s_ratio'])} "
        f"{w.whose} {pct(e['cohort_retention_10s'], 0)}."
    )


def _cliff(e: Mapping[str, float], w: _Words) -> str:
    return (
        f"Retention falls {_pp(e['cliff_drop_pct'])} points over the seconds around "
        f"second {int(e['cliff_second'])}."
    )


def _cliff_rate(e: Mapping[str, float], w: _Words) -> str:
    return (
        f"That is {_pp(e['cliff_loss_pp_per_s'])} points per second, "
        f"{e['loss_ratio']:.1f}× the usual {_pp(e['cohort_loss_pp_per_s'])} at that second."
    )


def _comments(e: Mapping[str, float], w: _Words) -> str:
    return (
        f"{count(e['comments'])} comments, {pct(e['comments_per_view'], 2)} of starters: "
        f"{times(e['comments_ratio'])} {w.whose} {pct(e['cohort_comments_per_view'], 2)}."
    )


def _shares(e: Mapping[str, float], w: _Words) -> str:
    return (
        f"{count(e['shares'])} shares and {count(e['saves'])} saves, "
        f"{pct(e['shares_saves_per_view'])} of starters: {e['shares_saves_ratio']:.1f}× "
        f"{w.whose} {pct(e['cohort_shares_saves_per_view'])}."
    )


def _price(e: Mapping[str, float], w: _Words) -> str:
    return (
        f"{count(e['price_viewers'])} distinct viewers complained about coins, prices or "
        f"the paywall: {pct(e['price_share'])} of the {count(e['commenters'])} who commented."
    )


# (keys read together, sentence): tried in this order; a template is used when all of its
# keys are in the evidence and none has been read yet.
_TEMPLATES: tuple[tuple[tuple[str, ...], _Render], ...] = (
    (("ctr", "cohort_ctr", "ctr_ratio"), _ctr),
    (
        ("ctr_low_below_ratio",),
        lambda e, w: f"CTR counts as low below {times(e['ctr_low_below_ratio'])} {w.of('CTR')}.",
    ),
    (("impressions",), lambda e, w: f"Measured on {count(e['impressions'])} impressions."),
    (("retention_8s", "cohort_retention_8s"), _r8),
    (
        ("retention_8s_below",),
        lambda e, w: (
            f"A hook fails when fewer than {pct(e['retention_8s_below'], 0)} are "
            "still watching at 8 s."
        ),
    ),
    (("retention_10s", "cohort_retention_10s", "retention_10s_ratio"), _r10),
    (
        ("retention_10s_upper_bound",),
        lambda e, w: (
            "With this many starters it could be as high as "
            f"{pct(e['retention_10s_upper_bound'], 0)} (95% upper bound)."
        ),
    ),
    (
        ("retention_fine_ratio",),
        lambda e, w: (
            "Retention counts as fine unless it is clearly below "
            f"{times(e['retention_fine_ratio'])} {w.of('10-second retention')}."
        ),
    ),
    (
        ("retention_strong_ratio",),
        lambda e, w: (
            f"Retention counts as strong from {times(e['retention_strong_ratio'])} "
            f"{w.of('10-second retention')}."
        ),
    ),
    (("starts",), lambda e, w: f"{count(e['starts'])} viewers started the episode."),
    (("cliff_second", "cliff_drop_pct"), _cliff),
    (("cliff_loss_pp_per_s", "cohort_loss_pp_per_s", "loss_ratio"), _cliff_rate),
    (
        ("loss_needed_pp_per_s",),
        lambda e, w: (
            f"A pacing drop needs at least {_pp(e['loss_needed_pp_per_s'])} points per second."
        ),
    ),
    (
        ("z", "min_z"),
        lambda e, w: (
            f"The drop is {e['z']:.1f} standard errors above the usual loss "
            f"({e['min_z']:g} needed): not noise."
        ),
    ),
    (
        ("comments", "comments_per_view", "cohort_comments_per_view", "comments_ratio"),
        _comments,
    ),
    (
        ("expected_comments",),
        lambda e, w: f"About {count(e['expected_comments'])} comments were expected.",
    ),
    (
        ("low_below_ratio",),
        lambda e, w: (
            f"Participation counts as low below {times(e['low_below_ratio'])} "
            f"{w.of('comment rate')}."
        ),
    ),
    (
        ("shares", "saves", "shares_saves_per_view", "cohort_shares_saves_per_view"),
        lambda e, w: _shares({**e, "shares_saves_ratio": e.get("shares_saves_ratio", 0.0)}, w),
    ),
    (
        ("spike_ratio",),
        lambda e, w: (
            f"A spike means at least {e['spike_ratio']:.1f}× {w.of('share and save rate')}."
        ),
    ),
    (
        ("p_value",),
        lambda e, w: f"A difference this large happens by chance {_odds(e['p_value'])}.",
    ),
    (("price_viewers", "price_share", "commenters"), _price),
    (
        ("price_comments",),
        lambda e, w: f"They wrote {count(e['price_comments'])} such comments.",
    ),
    (
        ("price_min_viewers",),
        lambda e, w: (
            "The room reports price complaints once at least "
            f"{count(e['price_min_viewers'])} different viewers make them."
        ),
    ),
)
# Keys a template reads only alongside others (shares_saves_ratio goes with the shares).
_ALSO_READ: dict[tuple[str, ...], tuple[str, ...]] = {
    ("shares", "saves", "shares_saves_per_view", "cohort_shares_saves_per_view"): (
        "shares_saves_ratio",
    ),
}
# The words of a key no template knows: a label; the value follows it.
_LABELS = {
    "ctr": "CTR",
    "cohort_ctr": "target CTR",
    "ctr_ratio": "CTR against its target",
    "retention_8s": "8-second retention",
    "retention_10s": "10-second retention",
    "retention_10s_ratio": "10-second retention against its target",
    "cohort_retention_8s": "target 8-second retention",
    "cohort_retention_10s": "target 10-second retention",
    "shares_saves_ratio": "shares and saves against their target",
}


def _fallback(key: str, value: float) -> str:
    label = _LABELS.get(key, key.replace("_", " "))
    text = f"{value:.4g}" if value != int(value) else f"{int(value):,}"
    return f"{label[:1].upper()}{label[1:]}: {text}."


def evidence_sentences(evidence: Mapping[str, float], *, cohort: bool = True) -> list[str]:
    """Every key of ``evidence`` in words, related keys read together.

    Args:
        evidence: A finding's (or a flag's) evidence map.
        cohort: Whether the comparison values are the cohort's (else benchmarks).

    Returns:
        Sentences in a fixed order; each key of ``evidence`` is read by exactly one.
    """
    words = _Words(cohort)
    read: set[str] = set()
    out: list[str] = []
    for keys, render in _TEMPLATES:
        if all(k in evidence for k in keys) and not read.intersection(keys):
            out.append(render(evidence, words))
            read.update(keys)
            read.update(k for k in _ALSO_READ.get(keys, ()) if k in evidence)
    out.extend(_fallback(k, evidence[k]) for k in sorted(evidence) if k not in read)
    return out


def finding_sentences(finding: Finding) -> list[str]:
    """A finding's evidence in words (the comparison named after its baseline)."""
    return evidence_sentences(finding.evidence, cohort=finding.baseline.startswith("cohort"))


def known_keys() -> Sequence[str]:
    """Every evidence key a template reads (for tests and docs)."""
    keys = [k for ks, _ in _TEMPLATES for k in ks]
    keys += [k for ks in _ALSO_READ.values() for k in ks]
    return sorted(set(keys))
