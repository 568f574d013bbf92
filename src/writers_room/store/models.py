"""SQL tables: the room's source of truth.

Raw events live in Parquet (see :mod:`writers_room.ingest.events`); everything else —
series, episodes with their brief versions and shot manifests, variants, aggregated metric
windows, redacted comments, proposals, decisions, blind-iteration counters, window runs,
render jobs, publications, the outcomes of published changes and the append-only audit
log — lives here. Schema changes go through Alembic migrations in ``memory/migrations``.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import JSON, Column, DateTime, Index, UniqueConstraint
from sqlalchemy.types import TypeDecorator
from sqlmodel import Field, SQLModel

__all__ = [
    "METRIC_COUNTERS",
    "AuditLog",
    "BlindIteration",
    "BriefVersion",
    "Comment",
    "Decision",
    "Episode",
    "IngestRun",
    "MetricWindow",
    "Note",
    "Outcome",
    "Proposal",
    "Publication",
    "RenderJob",
    "Series",
    "Variant",
    "WindowRun",
    "utcnow",
]


# The whole-number counters of a metric window, in one order: ingest requires them, the
# analyst sums them (each a column of :class:`MetricWindow`).
METRIC_COUNTERS = (
    "impressions",
    "clicks",
    "views",
    "completions",
    "shares",
    "saves",
    "comments",
    "follows",
    "conversions",
)


def utcnow() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC datetimes on every backend.

    SQLite has no time zone type and hands back naive values; this stores UTC and
    always returns aware UTC datetimes so comparisons never mix naive and aware.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


def _json(**kw: Any) -> Any:
    return Field(sa_column=Column(JSON, nullable=False), **kw)


def _ts(**kw: Any) -> Any:
    return Field(sa_type=UTCDateTime, **kw)  # type: ignore[call-overload]


class Series(SQLModel, table=True):
    series_id: str = Field(primary_key=True)
    title: str
    premise: str
    audience: str = ""
    tone_refs: list[str] = _json(default_factory=list)
    brand: dict[str, Any] = _json(default_factory=dict)
    characters: list[dict[str, Any]] = _json(default_factory=list)
    constraints: dict[str, Any] = _json(default_factory=dict)
    approvers: list[str] = _json(default_factory=list)
    created_at: datetime = _ts(default_factory=utcnow)
    updated_at: datetime = _ts(default_factory=utcnow)


class Episode(SQLModel, table=True):
    series_id: str = Field(primary_key=True, foreign_key="series.series_id")
    episode_id: str = Field(primary_key=True)
    title: str
    position: int = Field(default=0, description="Order within the series (0-based).")
    current_version: int = Field(default=1, description="Brief version in force.")
    created_at: datetime = _ts(default_factory=utcnow)


class BriefVersion(SQLModel, table=True):
    """One version of an episode's brief and its shot manifest; never edited in place."""

    __table_args__ = (UniqueConstraint("series_id", "episode_id", "version"),)

    id: int | None = Field(default=None, primary_key=True)
    series_id: str = Field(index=True)
    episode_id: str
    version: int
    brief: dict[str, Any] = _json()
    manifest: dict[str, Any] = _json()
    source: str = Field(default="series_add", description="'series_add' or 'proposal:<id>'.")
    proposal_id: str | None = Field(
        default=None, index=True, description="The applied proposal that wrote this version."
    )
    created_by: str = ""
    created_at: datetime = _ts(default_factory=utcnow)


class Variant(SQLModel, table=True):
    series_id: str = Field(primary_key=True)
    episode_id: str = Field(primary_key=True)
    variant_id: str = Field(primary_key=True)
    kind: str = Field(default="thumbnail", description="thumbnail, hook or caption.")
    description: str = ""
    created_at: datetime = _ts(default_factory=utcnow)


class MetricWindow(SQLModel, table=True):
    """Aggregated metrics of one episode variant over one window.

    ``source`` is ``events`` when the room aggregated raw events, ``metrics`` when a
    platform export supplied the row. ``retention[s]`` is the percent of starters still
    watching at whole second ``s`` (index 0 = 100).
    """

    __table_args__ = (
        UniqueConstraint(
            "series_id", "episode_id", "variant_id", "window_start", "window_hours", "source"
        ),
        Index("ix_metricwindow_series_window", "series_id", "window_start"),
    )

    id: int | None = Field(default=None, primary_key=True)
    series_id: str
    episode_id: str
    variant_id: str
    window_start: datetime = _ts()
    window_hours: int = 24
    source: str = "events"
    impressions: int = 0
    clicks: int = 0
    views: int = 0
    completions: int = 0
    shares: int = 0
    saves: int = 0
    comments: int = 0
    follows: int = 0
    conversions: int = 0
    revenue: float = 0.0
    avg_view_s: float = 0.0
    retention: list[float] = _json(default_factory=list)
    updated_at: datetime = _ts(default_factory=utcnow)


class Comment(SQLModel, table=True):
    """A viewer comment, stored only after PII redaction."""

    __table_args__ = (Index("ix_comment_series_episode", "series_id", "episode_id"),)

    comment_id: str = Field(primary_key=True)
    series_id: str
    episode_id: str
    author_hash: str = Field(index=True, description="Keyed hash of the platform author id.")
    text: str = Field(description="Redacted text.")
    ts: datetime = _ts()
    likes: int = 0
    parent_id: str | None = None
    platform: str | None = None
    redactions: int = Field(default=0, description="How many PII spans were redacted.")


class Proposal(SQLModel, table=True):
    """A proposed change to an episode's brief (and shot manifest)."""

    __table_args__ = (Index("ix_proposal_series_status", "series_id", "status"),)

    proposal_id: str = Field(primary_key=True)
    series_id: str
    episode_id: str
    window_end: datetime | None = _ts(default=None)
    status: str = Field(default="pending")
    kind: str
    summary: str
    changes: dict[str, Any] = _json(default_factory=dict)
    evidence: dict[str, Any] = _json(default_factory=dict)
    assets: list[str] = _json(default_factory=list)
    content_hash: str
    base_version: int = Field(default=1, description="Brief version the diff applies to.")
    iteration: int = 0
    thread_id: str | None = None
    interrupt_id: str | None = None
    created_at: datetime = _ts(default_factory=utcnow)
    decided_by: str | None = None
    decided_at: datetime | None = _ts(default=None)


class Decision(SQLModel, table=True):
    """The one human decision on a proposal (unique per proposal)."""

    id: int | None = Field(default=None, primary_key=True)
    proposal_id: str = Field(unique=True, foreign_key="proposal.proposal_id")
    decision: str = Field(description="approved or rejected.")
    decided_by: str
    content_hash: str = Field(description="Hash of the content the human saw.")
    note: str = ""
    edited: bool = Field(default=False, description="The human edited the proposal.")
    decided_at: datetime = _ts(default_factory=utcnow)
    choices: list[int | None] | None = Field(
        default=None,
        sa_column=Column(JSON, nullable=True),
        description="Per choice of the proposal, the option chosen (0 = the first, which "
        "the changes write); null where the approver wrote their own; null for none.",
    )


class Note(SQLModel, table=True):
    """Fresh human creative input about an episode."""

    id: int | None = Field(default=None, primary_key=True)
    series_id: str = Field(index=True)
    episode_id: str
    author: str
    text: str
    kind: str = Field(default="note", description="note or edit.")
    created_at: datetime = _ts(default_factory=utcnow)


class BlindIteration(SQLModel, table=True):
    """AI iterations on an episode since the last fresh human creative input."""

    series_id: str = Field(primary_key=True)
    episode_id: str = Field(primary_key=True)
    count: int = 0
    scores: list[float] = _json(default_factory=list)
    escalated_at: datetime | None = _ts(default=None)
    last_human_input_at: datetime | None = _ts(default=None)
    updated_at: datetime = _ts(default_factory=utcnow)


class WindowRun(SQLModel, table=True):
    """One review of one (series, window); the unique key makes reviews exactly-once."""

    __table_args__ = (UniqueConstraint("series_id", "window_end"),)

    id: int | None = Field(default=None, primary_key=True)
    series_id: str
    window_end: datetime = _ts()
    thread_id: str = Field(unique=True, description="LangGraph thread of this review.")
    status: str = Field(default="running", description="running, waiting, done, failed.")
    owner: str = ""
    lease_until: datetime | None = _ts(default=None)
    started_at: datetime = _ts(default_factory=utcnow)
    finished_at: datetime | None = _ts(default=None)


class RenderJob(SQLModel, table=True):
    render_id: str = Field(primary_key=True)
    idempotency_key: str = Field(unique=True)
    series_id: str = Field(index=True)
    episode_id: str
    brief_version: int
    proposal_id: str | None = None
    preview: bool = False
    backend: str = "local"
    status: str = Field(default="queued", description="queued, running, done, failed.")
    artifacts: dict[str, Any] = _json(default_factory=dict)
    error: str | None = None
    created_at: datetime = _ts(default_factory=utcnow)
    started_at: datetime | None = _ts(default=None)
    finished_at: datetime | None = _ts(default=None)
    heartbeat_at: datetime | None = _ts(
        default=None,
        description="Last sign of life from the worker running the job; a running job "
        "whose heartbeat has stopped is re-queued (its worker died).",
    )


class IngestRun(SQLModel, table=True):
    """One ingested file: what, when, how many rows were new."""

    id: int | None = Field(default=None, primary_key=True)
    kind: str
    file: str
    sha256: str
    rows: int
    inserted: int
    duration_s: float = 0.0
    created_at: datetime = _ts(default_factory=utcnow)


class AuditLog(SQLModel, table=True):
    """Append-only: rows are inserted, never updated or deleted (a DB trigger enforces it)."""

    # Lookups by (action, subject): "was this Slack event handled", "was this review posted".
    __table_args__ = (Index("ix_auditlog_action_subject", "action", "subject"),)

    id: int | None = Field(default=None, primary_key=True)
    ts: datetime = _ts(default_factory=utcnow)
    actor: str
    action: str = Field(index=True)
    subject: str = ""
    content_hash: str | None = None
    detail: dict[str, Any] = _json(default_factory=dict)


class Publication(SQLModel, table=True):
    """A render put live as one distribution variant from ``published_at`` on.

    It ties the render (and so its brief version and the applied proposal that wrote it)
    to the variant whose events follow it: the outcome of the change is read from them.
    """

    __table_args__ = (UniqueConstraint("render_id", "variant_id"),)

    id: int | None = Field(default=None, primary_key=True)
    render_id: str = Field(index=True)
    series_id: str = Field(index=True)
    episode_id: str
    variant_id: str
    brief_version: int
    proposal_id: str | None = Field(
        default=None, index=True, description="The applied proposal the render carries."
    )
    published_at: datetime = _ts()
    published_by: str
    created_at: datetime = _ts(default_factory=utcnow)


class Outcome(SQLModel, table=True):
    """Did a published change work: its targeted metric before and after, against the cohort.

    One row per (proposal, review window); written by the window review
    (``analyst.outcomes``), read by the iteration limit and the writer's context.
    """

    __table_args__ = (UniqueConstraint("proposal_id", "window_end"),)

    id: int | None = Field(default=None, primary_key=True)
    proposal_id: str = Field(index=True)
    window_end: datetime = _ts()
    series_id: str = Field(index=True)
    episode_id: str
    variant_id: str
    kind: str = Field(description="The proposal's kind.")
    finding: str = Field(default="", description="The diagnosis kind the proposal addressed.")
    metric: str = Field(description="The targeted metric, e.g. retention_10s.")
    published_at: datetime = _ts()
    verdict: str = Field(description="improved, no_change, worse or too_early.")
    effect: float | None = Field(default=None, description="Difference in differences.")
    ci_low: float | None = None
    ci_high: float | None = None
    detail: dict[str, Any] = _json(default_factory=dict)
    computed_at: datetime = _ts(default_factory=utcnow)
