"""Did the change work: the outcome of every published, applied proposal.

A render published as a variant (``writers-room publish``, a :class:`Publication` row;
a change published as several variants of its episode is measured over all of them, from
its first publication) carries the brief version an approved proposal wrote. The
proposal's kind says which metric it meant to move (:data:`TARGET_METRIC`). The outcome
is a difference in differences over the 24-hour metric windows:

    effect = (variant after − variant before) − (cohort after − cohort before)

where *before* is up to :data:`LOOKBACK_DAYS` whole windows that closed by the
publication, *after* every whole window from the publication to the end of the reviewed
window, and the *cohort* is the series' other episodes (all their variants) over exactly
the same windows, so a good or bad day for the whole feed cancels out. A window the
publication falls inside belongs to neither side.

The 90 % interval is a normal approximation on the four cells: a proportion's variance is
``p(1 − p) / n`` (10-s retention and completion over starters, click-through over
impressions); a per-view rate's (comments, shares + saves) is Poisson, ``count / n²``.
Counts are aggregates, so no per-viewer bootstrap is needed or possible from a platform
export. The verdict: ``improved`` when the interval lies above zero, ``worse`` below it,
``no_change`` when it covers zero — but only once every cell has :data:`MIN_UNITS` of its
unit; before that ``too_early`` and how many more the published variant needs.

:func:`outcomes_of` is a pure function of the rows and the publications;
:func:`evaluate` reads the publications and proposals from SQL and
:func:`store_outcomes` upserts one :class:`Outcome` row per (proposal, window).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime

from sqlmodel import Session, select

from writers_room.analyst.metrics import DAY, WindowRow, at_second
from writers_room.brief.report import OutcomeResult
from writers_room.config import Settings
from writers_room.store.db import audit, session_scope
from writers_room.store.models import Outcome, Proposal, Publication

__all__ = [
    "LOOKBACK_DAYS",
    "METRIC_LABEL",
    "MIN_UNITS",
    "TARGET_METRIC",
    "Change",
    "evaluate",
    "outcomes_of",
    "past_outcomes",
    "store_outcomes",
]

# The metric each kind of change is meant to move (docs/METHOD.md, "Did it work").
TARGET_METRIC: dict[str, str] = {
    "hook_rewrite": "retention_10s",
    "promote_variant": "retention_10s",
    "packaging": "ctr",
    "pacing_cut": "completion",
    "participation": "comments_per_view",
    "sequel": "shares_saves_per_view",
}
METRIC_LABEL = {
    "retention_10s": "10-s retention",
    "ctr": "click-through",
    "completion": "completion",
    "comments_per_view": "comments per view",
    "shares_saves_per_view": "shares + saves per view",
}
# Rates that are counts per view (Poisson), not proportions of a population (binomial).
PER_VIEW_RATES = frozenset({"comments_per_view", "shares_saves_per_view"})
LOOKBACK_DAYS = 7
Z_90 = 1.6448536269514722
# Units (starters, or impressions for click-through) every cell needs before a verdict.
MIN_UNITS = {"starters": 400, "impressions": 4000}
METHOD = (
    "difference in differences vs the series' other episodes over the same windows; "
    "90 % interval by normal approximation (binomial proportions, Poisson per-view rates)"
)


@dataclass(frozen=True)
class Change:
    """A published, applied proposal: what was changed, where, and from when."""

    proposal_id: str
    episode_id: str
    variant_id: str
    render_id: str
    kind: str
    finding: str
    published_at: datetime
    # Every variant the change went live as (a brief change reaches each thumbnail the
    # episode is served under); ``variant_id`` alone when empty.
    variant_ids: tuple[str, ...] = ()

    @property
    def variants(self) -> tuple[str, ...]:
        return self.variant_ids or (self.variant_id,)


@dataclass
class _Cell:
    """Successes over units of one (treated or cohort) × (before or after) cell."""

    successes: float = 0.0
    units: int = 0
    windows: int = 0

    @property
    def value(self) -> float | None:
        return self.successes / self.units if self.units else None

    def variance(self, per_view: bool) -> float:
        if not self.units:
            return math.inf
        p = self.successes / self.units
        return p / self.units if per_view else p * (1.0 - p) / self.units


def _unit(metric: str) -> str:
    return "impressions" if metric == "ctr" else "starters"


def _successes(row: WindowRow, metric: str) -> tuple[float, int]:
    if metric == "ctr":
        return float(row.clicks), row.impressions
    if metric == "retention_10s":
        return at_second(row.retention, 10) * row.views, row.views
    if metric == "completion":
        return float(row.completions), row.views
    if metric == "comments_per_view":
        return float(row.comments), row.views
    return float(row.shares + row.saves), row.views


def _cell(rows: Iterable[WindowRow], metric: str) -> _Cell:
    cell = _Cell()
    starts = set()
    for row in rows:
        got, units = _successes(row, metric)
        cell.successes += got
        cell.units += units
        starts.add(row.window_start)
    cell.windows = len(starts)
    return cell


def _fmt(value: float, metric: str, *, unit: bool = True) -> str:
    if metric in PER_VIEW_RATES:
        return f"{value * 100:+.1f}{' per 100 views' if unit else ''}"
    return f"{value * 100:+.1f}{' pp' if unit else ''}"


# A published change in words, for sentences a writer reads ("the stinger on ep07").
_KIND_WORDS = {
    "sequel": "the stinger",
    "hook_rewrite": "the hook rewrite",
    "pacing_cut": "the pacing cut",
    "packaging": "the new packaging",
    "promote_variant": "promoting the leading variant",
    "participation": "the participation prompt",
    "note_followup": "the change after a writer's note",
    "new_episode": "the new episode",
}


def _change_words(change: Change) -> str:
    what = _KIND_WORDS.get(change.kind, change.kind.replace("_", " "))
    variants = list(change.variants)
    where = (
        f"{change.episode_id} (as {variants[0]})"
        if len(variants) == 1
        else f"{change.episode_id} (as its {len(variants)} variants)"
    )
    return f"{what[0].upper()}{what[1:]} on {where}"


def _label(verdict: str, more: int | None, unit: str, short_before: int | None) -> str:
    if verdict != "too_early":
        return verdict.replace("_", " ")
    if short_before is not None:
        return f"too early: only {short_before} {unit} before publication"
    return f"too early: {more} more {unit} needed"


def outcome_of(
    change: Change, rows: Sequence[WindowRow], window_end: datetime
) -> OutcomeResult | None:
    """The outcome of one change as of ``window_end``; ``None`` if its kind targets no
    metric or it was published after the window."""
    metric = TARGET_METRIC.get(change.kind)
    published = change.published_at.astimezone(UTC)
    if metric is None or published >= window_end:
        return None
    earliest = published - LOOKBACK_DAYS * DAY
    before_days = {
        r.window_start
        for r in rows
        if earliest <= r.window_start and r.window_start + DAY <= published
    }
    after_days = {
        r.window_start
        for r in rows
        if published <= r.window_start and r.window_start + DAY <= window_end
    }
    treated = [
        r for r in rows if r.episode_id == change.episode_id and r.variant_id in change.variants
    ]
    others = [r for r in rows if r.episode_id != change.episode_id]
    cells = {
        "treated_before": _cell((r for r in treated if r.window_start in before_days), metric),
        "treated_after": _cell((r for r in treated if r.window_start in after_days), metric),
        "cohort_before": _cell((r for r in others if r.window_start in before_days), metric),
        "cohort_after": _cell((r for r in others if r.window_start in after_days), metric),
    }
    return _result(change, metric, cells, sorted({r.episode_id for r in others}))


def _result(
    change: Change, metric: str, cells: dict[str, _Cell], cohort: list[str]
) -> OutcomeResult:
    unit = _unit(metric)
    need = MIN_UNITS[unit]
    tb, ta, cb, ca = (
        cells[k] for k in ("treated_before", "treated_after", "cohort_before", "cohort_after")
    )
    short_before = tb.units if tb.units < need else None
    more = max(0, need - ta.units) + max(0, need - ca.units)
    enough = short_before is None and cb.units >= need and more == 0
    effect = ci_low = ci_high = None
    if all(c.units for c in cells.values()):
        per_view = metric in PER_VIEW_RATES
        effect = (ta.value or 0.0) - (tb.value or 0.0) - ((ca.value or 0.0) - (cb.value or 0.0))
        se = math.sqrt(sum(c.variance(per_view) for c in cells.values()))
        ci_low, ci_high = effect - Z_90 * se, effect + Z_90 * se
    if not enough or effect is None or ci_low is None or ci_high is None:
        verdict = "too_early"
    elif ci_low > 0:
        verdict = "improved"
    elif ci_high < 0:
        verdict = "worse"
    else:
        verdict = "no_change"
    label = _label(verdict, more, unit, short_before)
    name = METRIC_LABEL[metric]
    what = _change_words(change)
    if effect is not None and ci_low is not None and ci_high is not None:
        summary = (
            f"{what}: {name} {_fmt(effect, metric)} against the cohort (90 % interval "
            f"{_fmt(ci_low, metric, unit=False)} to {_fmt(ci_high, metric)}) — {label}"
        )
    else:
        summary = f"{what}: {name} — {label}"
    return OutcomeResult(
        proposal_id=change.proposal_id,
        episode_id=change.episode_id,
        variant_id=",".join(change.variants),
        render_id=change.render_id,
        kind=change.kind,
        finding=change.finding,
        metric=metric,
        published_at=change.published_at.astimezone(UTC).isoformat().replace("+00:00", "Z"),
        verdict=verdict,  # type: ignore[arg-type]
        label=label,
        effect=effect,
        ci_low=ci_low,
        ci_high=ci_high,
        before=tb.value,
        after=ta.value,
        cohort_before=cb.value,
        cohort_after=ca.value,
        unit=unit,
        counts={k: c.units for k, c in cells.items()},
        windows_before=tb.windows,
        windows_after=ta.windows,
        cohort=cohort,
        more_needed=more if verdict == "too_early" and short_before is None else None,
        method=METHOD,
        summary=summary,
    )


def outcomes_of(
    changes: Sequence[Change], rows: Sequence[WindowRow], window_end: datetime
) -> list[OutcomeResult]:
    """Every change's outcome as of ``window_end``, in publication order."""
    found = (outcome_of(c, rows, window_end) for c in changes)
    return [o for o in found if o is not None]


def published_changes(settings: Settings, series_id: str) -> list[Change]:
    """The series' published renders that carry an applied proposal (the first
    publication of each proposal), oldest first."""
    with session_scope(settings) as session:
        pubs = session.exec(
            select(Publication)
            .where(Publication.series_id == series_id, Publication.proposal_id.is_not(None))  # type: ignore[union-attr]
            .order_by(Publication.published_at, Publication.id)  # type: ignore[arg-type]
        ).all()
        ids = {p.proposal_id for p in pubs if p.proposal_id}
        proposals = {
            p.proposal_id: p
            for p in session.exec(select(Proposal).where(Proposal.proposal_id.in_(ids))).all()  # type: ignore[attr-defined]
        }
    changes: dict[str, Change] = {}
    for pub in pubs:
        proposal = proposals.get(pub.proposal_id or "")
        if proposal is None or proposal.status != "applied":
            continue
        held = changes.get(proposal.proposal_id)
        if held is not None:  # live as one more variant: measured together, from the first
            if pub.variant_id not in held.variants:
                more = (*held.variants, pub.variant_id)
                changes[proposal.proposal_id] = replace(held, variant_ids=more)
            continue
        findings = proposal.evidence.get("findings") or [""]
        changes[proposal.proposal_id] = Change(
            proposal_id=proposal.proposal_id,
            episode_id=pub.episode_id,
            variant_id=pub.variant_id,
            render_id=pub.render_id,
            kind=proposal.kind,
            finding=str(findings[0]),
            published_at=pub.published_at,
            variant_ids=(pub.variant_id,),
        )
    return list(changes.values())


def evaluate(
    settings: Settings, series_id: str, rows: Sequence[WindowRow], window_end: datetime
) -> list[OutcomeResult]:
    """The outcomes of the series' published changes as of ``window_end``."""
    return outcomes_of(published_changes(settings, series_id), rows, window_end)


def store_outcomes(
    settings: Settings, series_id: str, window_end: datetime, results: Sequence[OutcomeResult]
) -> None:
    """Upsert one :class:`Outcome` row per (proposal, window); audit each new verdict."""
    with session_scope(settings) as session:
        for res in results:
            row = session.exec(
                select(Outcome).where(
                    Outcome.proposal_id == res.proposal_id, Outcome.window_end == window_end
                )
            ).first()
            new = row is None
            row = row or Outcome(
                proposal_id=res.proposal_id,
                window_end=window_end,
                series_id=series_id,
                episode_id=res.episode_id,
                variant_id=res.variant_id,
                kind=res.kind,
                metric=res.metric,
                published_at=datetime.fromisoformat(res.published_at.replace("Z", "+00:00")),
                verdict=res.verdict,
            )
            changed = new or row.verdict != res.verdict
            row.finding = res.finding
            row.verdict = res.verdict
            row.effect, row.ci_low, row.ci_high = res.effect, res.ci_low, res.ci_high
            row.detail = res.model_dump(mode="json")
            row.computed_at = datetime.now(UTC)
            session.add(row)
            if changed:
                audit(
                    session,
                    actor="room",
                    action="outcome.recorded",
                    subject=res.proposal_id,
                    detail={"window_end": window_end.isoformat(), "verdict": res.verdict},
                )


def past_outcomes(
    session: Session, series_id: str, *, kind: str | None = None, limit: int = 5
) -> list[Outcome]:
    """The newest final verdict of each published change of a series (optionally of one
    kind), newest first: what the writer cites as precedent."""
    query = select(Outcome).where(Outcome.series_id == series_id, Outcome.verdict != "too_early")
    if kind is not None:
        query = query.where(Outcome.kind == kind)
    rows = session.exec(
        query.order_by(Outcome.window_end.desc(), Outcome.id.desc())  # type: ignore[attr-defined,union-attr]
    ).all()
    seen: set[str] = set()
    newest: list[Outcome] = []
    for row in rows:
        if row.proposal_id not in seen:
            seen.add(row.proposal_id)
            newest.append(row)
    return newest[:limit]
