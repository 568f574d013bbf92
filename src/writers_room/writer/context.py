"""What the ideator and the brand guard are given, and how to build it from the database.

:class:`IdeationContext` is everything a writer needs for one episode: the series'
bible, the brief and shot manifest in force, the analyst's report on the episode, the
themes and a few representative comments (redacted text), what humans decided before and
wrote as notes, and the guard's reasons from a previous round. :class:`GuardContext`
(see :mod:`writers_room.guardrails.brand_guard`) is what the guard checks against.
:func:`build_contexts` reads both from SQL for one (series, episode, report).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from pydantic import BaseModel, Field
from sqlmodel import Session, col, select

from writers_room.brief.bundle import Brand, Character, Constraints
from writers_room.brief.report import AnalystReport, EpisodeReport, Flag, Theme
from writers_room.config import Settings
from writers_room.errors import InputError
from writers_room.guardrails.brand_guard import Embed, GuardContext, RejectedIdea
from writers_room.guardrails.fencing import looks_like_injection
from writers_room.ingest.redact import redact
from writers_room.ingest.series import current_brief
from writers_room.store.models import Comment, Decision, Episode, Note, Proposal, Series

__all__ = [
    "CommentSnippet",
    "IdeationContext",
    "PastDecision",
    "SeriesInfo",
    "build_contexts",
    "guard_context",
    "known_numbers",
    "report_numbers",
]

MAX_COMMENTS = 12
MAX_DECISIONS = 10
MAX_NOTES = 5


class SeriesInfo(BaseModel):
    """The series bible as the writers see it."""

    series_id: str
    title: str = ""
    premise: str = Field(description="The series in one sentence.")
    audience: str = ""
    tone_refs: list[str] = Field(default_factory=list)
    brand: Brand = Field(default_factory=Brand)
    characters: list[Character] = Field(default_factory=list)
    constraints: Constraints = Field(default_factory=Constraints)


class CommentSnippet(BaseModel):
    """One viewer comment, redacted, as evidence and inspiration."""

    comment_id: str
    text: str = Field(description="Redacted text, as stored.")
    likes: int = 0
    episode_id: str = ""


class PastDecision(BaseModel):
    """What humans did with an earlier proposal for this episode."""

    proposal_id: str = ""
    kind: str
    summary: str
    status: str = Field(description="approved, applied or rejected.")
    reason: str = Field(default="", description="The decider's note or rejection reason.")


class IdeationContext(BaseModel):
    """Everything the ideator may use to propose changes to one episode."""

    series: SeriesInfo
    episode_id: str = Field(min_length=1)
    episode_title: str = ""
    base_version: int = Field(default=1, ge=1, description="Brief version the diffs apply to.")
    brief: dict[str, Any] = Field(description="The brief in force (Brief fields).")
    manifest: dict[str, Any] = Field(description="The shot manifest in force.")
    report: EpisodeReport
    themes: list[Theme] = Field(default_factory=list, description="Series themes, by authors.")
    comments: list[CommentSnippet] = Field(
        default_factory=list, description="Representative comments (redacted), likes first."
    )
    past_decisions: list[PastDecision] = Field(default_factory=list)
    notes: list[str] = Field(default_factory=list, description="Writers' notes, newest first.")
    revision_feedback: list[str] = Field(
        default_factory=list, description="Brand-guard reasons from the previous round."
    )

    def episode_themes(self) -> list[Theme]:
        """Themes with comments on this episode, most distinct authors first."""
        return [t for t in self.themes if self.episode_id in t.episodes] or list(self.themes)


def report_numbers(report: EpisodeReport) -> dict[str, float]:
    """The report's headline numbers for an episode, flat (evidence may cite these)."""
    m = report.metrics
    numbers = {
        "score": report.score,
        "impressions": float(m.impressions),
        "ctr": m.ctr,
        "retention_3s": m.retention_3s,
        "retention_8s": m.retention_8s,
        "retention_10s": m.retention_10s,
        "completion": m.completion,
        "shares_per_view": m.shares_per_view,
        "saves_per_view": m.saves_per_view,
        "comments_per_view": m.comments_per_view,
        "engagement_per_view": m.engagement_per_view,
    }
    for key, value in report.targets.items():
        numbers[f"target_{key}"] = value
    if report.cliff is not None:
        numbers["cliff_second"] = float(report.cliff.second)
        numbers["cliff_drop_pct"] = report.cliff.drop_pct
    return numbers


def known_numbers(report: EpisodeReport) -> dict[str, float]:
    """Every number a proposal may cite: the headline numbers, then the findings' evidence.

    The writer and the guard both use this, so a cited value always means the same thing.
    """
    numbers = report_numbers(report)
    for finding in report.findings:
        for key, value in finding.evidence.items():
            numbers.setdefault(key, float(value))
    return numbers


def guard_context(
    ctx: IdeationContext,
    *,
    rejected: Sequence[RejectedIdea] = (),
    untrusted_texts: Sequence[str] = (),
    embed: Embed | None = None,
    comment_texts: Sequence[str] = (),
) -> GuardContext:
    """The guard's view of an ideation context (same bible, brief, evidence, notes).

    ``comment_texts`` are the series' viewer comments new copy may not lift from (all of
    them, from :func:`build_contexts`); the context's own comments and ``untrusted_texts``
    are always among them.
    """
    known_ids = {c.comment_id for c in ctx.comments}
    for finding in ctx.report.findings:
        known_ids.update(finding.comment_ids)
    for theme in ctx.themes:
        known_ids.update(theme.examples)
    return GuardContext(
        series_id=ctx.series.series_id,
        episode_id=ctx.episode_id,
        episode_title=ctx.episode_title,
        series_premise=ctx.series.premise,
        brand=ctx.series.brand,
        characters=ctx.series.characters,
        constraints=ctx.series.constraints,
        brief=ctx.brief,
        manifest=ctx.manifest,
        rejected=list(rejected),
        known_comment_ids=sorted(known_ids),
        known_metrics=known_numbers(ctx.report),
        untrusted_texts=[c.text for c in ctx.comments] + list(untrusted_texts),
        # A writer's note may bring in a name (a new character is a human decision).
        reference_texts=[ctx.episode_title, ctx.series.title, ctx.series.audience, *ctx.notes],
        comment_texts=list(
            dict.fromkeys([*comment_texts, *(c.text for c in ctx.comments), *untrusted_texts])
        ),
        notes=list(ctx.notes),
        embed=embed,
    )


def _episode_report(
    report: AnalystReport | EpisodeReport | Mapping[str, Any], episode_id: str
) -> tuple[EpisodeReport, list[Theme], list[Flag]]:
    if isinstance(report, Mapping):
        report = (
            AnalystReport.model_validate(report)
            if "episodes" in report
            else EpisodeReport.model_validate(report)
        )
    if isinstance(report, EpisodeReport):
        if report.episode_id != episode_id:
            raise InputError(
                f"the report is for episode {report.episode_id!r}, not {episode_id!r}",
                field="episode_id",
                value=report.episode_id,
            )
        return report, [], []
    for episode in report.episodes:
        if episode.episode_id == episode_id:
            flags = [f for f in report.flags if f.episode_id in (None, episode_id)]
            return episode, list(report.themes), flags
    raise InputError(
        f"the report of {report.series_id!r} has no episode {episode_id!r} "
        f"(it has: {', '.join(e.episode_id for e in report.episodes) or 'none'})",
        field="episode_id",
        value=episode_id,
    )


def _comment_ids(report: EpisodeReport, themes: Sequence[Theme], episode_id: str) -> list[str]:
    ids: list[str] = []
    for finding in report.findings:
        ids += finding.comment_ids
    if report.audience is not None:
        ids += [q.comment_id for q in report.audience.question_examples]
        ids += [q.comment_id for q in report.audience.prediction_examples]
    for theme in themes:
        if episode_id in theme.episodes:
            ids += theme.examples
    return list(dict.fromkeys(ids))


def _room_embedder(settings: Settings) -> Embed:
    from writers_room.index.embedding import get_embedder

    embedder = get_embedder(settings)
    return lambda texts: embedder.encode(texts)


def build_contexts(
    settings: Settings,
    session: Session,
    series_id: str,
    episode_id: str,
    report: AnalystReport | EpisodeReport | Mapping[str, Any],
    revision_feedback: Sequence[str] = (),
    *,
    embed: Embed | None = None,
) -> tuple[IdeationContext, GuardContext]:
    """Read the ideator's and the guard's contexts for one episode from SQL.

    Comments that look like prompt injection are left out of the ideator's comments (and
    kept, as untrusted text, for the guard's copy check); everything human-written that
    reaches the ideator is redacted once more on the way.

    Args:
        settings: The room's settings (the embedder for the near-duplicate check).
        session: An open session; only read from.
        series_id: The series.
        episode_id: The episode to propose for.
        report: The window's :class:`AnalystReport` (or its JSON), or just the episode's
            :class:`EpisodeReport` (then no series themes).
        revision_feedback: Reasons the guard gave in the previous round.
        embed: texts -> unit vectors for the near-duplicate check; by default the room's
            embedder, loaded only when the episode has rejected proposals.

    Returns:
        ``(IdeationContext, GuardContext)``.

    Raises:
        InputError: The series, the episode or its brief does not exist, or the report
            does not cover the episode.
    """
    series = session.get(Series, series_id)
    if series is None:
        raise InputError(f"no series {series_id!r}", field="series_id", value=series_id)
    episode = session.get(Episode, (series_id, episode_id))
    version = current_brief(session, series_id, episode_id)
    if episode is None or version is None:
        raise InputError(
            f"series {series_id!r} has no episode {episode_id!r}",
            field="episode_id",
            value=episode_id,
        )
    episode_report, themes, flags = _episode_report(report, episode_id)

    # The analyst's prompt-injection flags are read too: never for the ideator, but so
    # the guard can tell when a proposal copies one of them.
    flagged_ids = [i for f in flags if f.kind == "prompt_injection" for i in f.comment_ids]
    wanted = list(dict.fromkeys(_comment_ids(episode_report, themes, episode_id) + flagged_ids))
    rows = (
        session.exec(
            select(Comment).where(
                Comment.series_id == series_id, col(Comment.comment_id).in_(wanted)
            )
        ).all()
        if wanted
        else []
    )
    suspicious = set(flagged_ids)
    flagged = [r for r in rows if r.comment_id in suspicious or looks_like_injection(r.text)]
    clean = [r for r in rows if r not in flagged]
    # This episode's comments first, then the most liked; ids break ties so the same
    # data always gives the same context.
    clean.sort(key=lambda r: (r.episode_id != episode_id, -r.likes, r.comment_id))
    comments = [
        CommentSnippet(
            comment_id=r.comment_id,
            text=redact(r.text).text,
            likes=r.likes,
            episode_id=r.episode_id,
        )
        for r in clean[:MAX_COMMENTS]
    ]

    decided = session.exec(
        select(Proposal)
        .where(
            Proposal.series_id == series_id,
            Proposal.episode_id == episode_id,
            col(Proposal.status).in_(["approved", "applied", "rejected"]),
        )
        .order_by(col(Proposal.created_at).desc(), col(Proposal.proposal_id))
    ).all()
    reasons = {
        d.proposal_id: d.note
        for d in session.exec(
            select(Decision).where(col(Decision.proposal_id).in_([p.proposal_id for p in decided]))
        ).all()
    }
    past = [
        PastDecision(
            proposal_id=p.proposal_id,
            kind=p.kind,
            summary=p.summary,
            status=p.status,
            reason=redact(reasons.get(p.proposal_id, "")).text,
        )
        for p in decided[:MAX_DECISIONS]
    ]
    rejected = [
        RejectedIdea(proposal_id=p.proposal_id, summary=p.summary, reason=d.reason)
        for p, d in zip(decided[:MAX_DECISIONS], past, strict=True)
        if p.status == "rejected"
    ]
    notes = session.exec(
        select(Note)
        .where(Note.series_id == series_id, Note.episode_id == episode_id)
        .order_by(col(Note.created_at).desc(), col(Note.id).desc())
        .limit(MAX_NOTES)
    ).all()

    ideation = IdeationContext(
        series=SeriesInfo(
            series_id=series.series_id,
            title=series.title,
            premise=series.premise,
            audience=series.audience,
            tone_refs=list(series.tone_refs),
            brand=Brand.model_validate(series.brand),
            characters=[Character.model_validate(c) for c in series.characters],
            constraints=Constraints.model_validate(series.constraints or {}),
        ),
        episode_id=episode_id,
        episode_title=episode.title,
        base_version=version.version,
        brief=dict(version.brief),
        manifest=dict(version.manifest),
        report=episode_report,
        themes=themes,
        comments=comments,
        past_decisions=past,
        notes=[redact(n.text).text for n in notes],
        revision_feedback=list(revision_feedback),
    )
    if embed is None and rejected:
        embed = _room_embedder(settings)
    # Every comment of the series, for the copy check (text only: a few thousand rows).
    series_comments = session.exec(select(Comment.text).where(Comment.series_id == series_id)).all()
    guard = guard_context(
        ideation,
        rejected=rejected,
        untrusted_texts=[r.text for r in flagged],
        embed=embed,
        comment_texts=list(series_comments),
    )
    return ideation, guard
