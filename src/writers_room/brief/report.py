"""The analyst's typed output: what ``report.json`` holds and what other agents read.

Every number a verdict rests on is in here, next to the verdict: the scorecard's
components with their targets, the cohort the targets came from, the retention cliff with
the shot playing at that second, each finding's evidence and the comments behind it.
Rates are fractions (0.052 = 5.2 %); retention *curves* are percents of starters, as the
metric windows store them; cliff drops are percentage points. Every figure says which
window it covers: the episode's ``metrics`` are the reviewed 24-hour window
(``AnalystReport.window_label``), ``trends`` name their own spans.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

__all__ = [
    "BAND_WORDS",
    "FINDING_WORDS",
    "AnalystReport",
    "AudienceVoice",
    "Band",
    "CharacterMentions",
    "Cliff",
    "CommentScope",
    "Components",
    "EpisodeReport",
    "EpisodeTheme",
    "Finding",
    "FindingKind",
    "Flag",
    "Funnel",
    "FunnelStep",
    "Metrics",
    "OutcomeResult",
    "OutcomeVerdict",
    "Monetisation",
    "Period",
    "Quote",
    "Shortfall",
    "Theme",
    "Trend",
    "VariantResult",
    "WindowSpan",
]

OutcomeVerdict = Literal["improved", "no_change", "worse", "too_early"]
Band = Literal["iterate_hook", "adjust_pacing", "double_down"]
FindingKind = Literal[
    "hook_packaging",
    "hook_failure",
    "pacing",
    "low_participation",
    "resonance",
    "price_complaints",
]
# The bands and findings in a writer's words (reports, chat and Slack show these, not the
# labels the JSON keeps).
BAND_WORDS: dict[str, str] = {
    "iterate_hook": "iterate the hook",
    "adjust_pacing": "adjust the pacing",
    "double_down": "double down",
}
FINDING_WORDS: dict[str, str] = {
    "hook_packaging": "the thumbnail/title don't earn the click",
    "hook_failure": "the opening loses them",
    "pacing": "a slow stretch",
    "low_participation": "few shares and comments",
    "resonance": "it resonates",
    "price_complaints": "viewers complain about the price",
}


class Metrics(BaseModel):
    """Audience signals of one episode (or variant) over one span of windows."""

    impressions: int = Field(description="Times the distribution card was shown.")
    clicks: int = Field(description="Clicks on the card.")
    ctr: float = Field(description="clicks / impressions.")
    starts: int = Field(description="Viewers who started the episode (starters, 'views').")
    retention_3s: float = Field(description="Fraction of starters still watching at 3 s.")
    retention_8s: float = Field(description="Fraction of starters still watching at 8 s.")
    retention_10s: float = Field(description="Fraction of starters still watching at 10 s.")
    completion: float = Field(description="completions / starts.")
    completions: int = Field(description="Starters who watched to the end.")
    avg_view_s: float = Field(description="Mean seconds watched per starter.")
    shares: int = Field(description="Share events.")
    saves: int = Field(description="Save events.")
    comments: int = Field(description="Comment events (as counted by the platform).")
    follows: int = Field(description="Follow events.")
    conversions: int = Field(description="Purchases / unlocks.")
    revenue: float = Field(description="Revenue from conversions.")
    shares_per_view: float = Field(description="shares / starts.")
    saves_per_view: float = Field(description="saves / starts.")
    comments_per_view: float = Field(description="comments / starts.")
    follows_per_view: float = Field(description="follows / starts.")
    engagement_per_view: float = Field(description="(comments + shares + saves) / starts.")
    conversions_per_view: float = Field(description="conversions / starts.")
    revenue_per_view: float = Field(description="revenue / starts.")


class Components(BaseModel):
    """Scorecard points per component (docs/METHOD.md: 30 + 20 + 20 + 15 + 15 = 100)."""

    retention_10s: float = Field(description="Points of 30: retention at 10 s vs target.")
    ctr: float = Field(description="Points of 20: CTR vs the cohort.")
    completion: float = Field(description="Points of 20: completion vs target.")
    engagement: float = Field(description="Points of 15: (comments+shares+saves)/view.")
    commercial: float = Field(description="Points of 15: conversions and revenue per view.")


class Quote(BaseModel):
    """A comment quoted as evidence (redacted text, as stored)."""

    comment_id: str
    text: str
    likes: int
    episode_id: str


class Cliff(BaseModel):
    """A second where viewers leave faster than the comparison curves do at that second,
    and what was on screen then (docs/METHOD.md: the cliff)."""

    second: int = Field(
        description="Second whose smoothed loss most exceeds the reference's at that second."
    )
    drop_pct: float = Field(
        description="Percentage points of starters lost over the 3 s centred on `second`."
    )
    loss_per_s: float = Field(description="Smoothed loss at `second`, percentage points/s.")
    retention_before: float = Field(description="Percent still watching at second-1.")
    retention_after: float = Field(description="Percent still watching at second+2.")
    cohort_loss_per_s: float | None = Field(
        default=None, description="The reference's smoothed loss at that second (pp/s)."
    )
    excess_per_s: float = Field(default=0.0, description="loss_per_s - cohort_loss_per_s.")
    z: float = Field(default=0.0, description="Poisson standard errors above the reference.")
    compared_with: str = Field(
        default="", description="The reference: cohort, the series' other episodes, benchmark."
    )
    shot_id: str | None = Field(description="Shot of the current manifest playing then.")
    shot_start_s: float | None = None
    shot_end_s: float | None = None
    caption: str = Field(default="", description="The shot's on-screen caption.")
    action: str = Field(default="", description="What happens on screen in that shot.")


class Finding(BaseModel):
    """One diagnosis rule that fired, with the numbers that made it fire."""

    kind: FindingKind = Field(description="Which diagnosis rule fired (docs/METHOD.md).")
    problem: str = Field(description="The problem, in the method's words.")
    proposal: str = Field(description="What to change, from the method's rules table.")
    summary: str = Field(description="One sentence with the numbers, for writers.")
    evidence: dict[str, float] = Field(
        description="Measured values, cohort values, ratios and the thresholds crossed."
    )
    baseline: str = Field(description="Where the comparison values came from.")
    shot_id: str | None = Field(
        default=None, description="Shot where the problem sits (pacing: the cliff's shot)."
    )
    comment_ids: list[str] = Field(
        default_factory=list, description="Comments of this episode behind the verdict."
    )
    quotes: list[Quote] = Field(default_factory=list, description="Those comments' text.")
    sentences: list[str] = Field(
        default_factory=list, description="The evidence in words, one sentence per item."
    )
    episodes: dict[str, int] = Field(
        default_factory=dict,
        description="Series-wide findings: distinct viewers behind it, per episode.",
    )


class Shortfall(BaseModel):
    """A scorecard component clearly below its target or the method's aim."""

    component: str = Field(description="retention_10s, ctr, completion, engagement, commercial.")
    value: float = Field(description="The episode's rate in the window.")
    target: float = Field(description="Its target (cohort median or benchmark).")
    target_source: str = Field(description="'cohort' or 'benchmark'.")
    ratio: float = Field(description="value / target.")
    aim_floor: float | None = Field(
        default=None, description="The low end of the method's aim, where it has one."
    )
    sentence: str


class Period(BaseModel):
    """A span of 24-hour windows and what the audience did in it."""

    start: str
    end: str
    days: int = Field(description="Length of the span in days.")
    windows: int = Field(description="24-hour windows with data in the span.")
    label: str = Field(description="e.g. '3 days to 2026-11-19 00:00 UTC'.")
    metrics: Metrics | None = Field(default=None, description="None: no data in the span.")


class Trend(BaseModel):
    """One span (24 h, 72 h, 7 d) against the span of the same length before it."""

    span: str = Field(description="24h, 72h or 7d.")
    current: Period
    previous: Period
    deltas: dict[str, float] = Field(
        default_factory=dict,
        description="current - previous per headline metric; empty without a previous span.",
    )
    sentences: list[str] = Field(default_factory=list)


class FunnelStep(BaseModel):
    """Viewers of one episode who went on to start the next one."""

    from_episode: str
    to_episode: str
    viewers: int = Field(description="Distinct viewers who started from_episode in the span.")
    continued: int = Field(description="Of them, those who then started to_episode.")
    rate: float = Field(description="continued / viewers.")


class Funnel(BaseModel):
    """The series funnel over one span, and where the series loses most."""

    span: str
    label: str
    steps: list[FunnelStep]
    weakest: str | None = Field(
        default=None, description="from_episode of the step that keeps the smallest share."
    )
    sentence: str = ""


class Monetisation(BaseModel):
    """What paying looks like for one episode in the window."""

    purchases: int
    purchases_per_starter: float
    revenue: float
    revenue_per_starter: float
    target_purchases_per_starter: float
    paywall_dropoff: float | None = Field(
        default=None,
        description="Share of next-episode starters lost after a purchase prompt; None when "
        "the events carry no purchase prompt.",
    )
    paywall_note: str = ""
    sentence: str = ""


class VariantResult(BaseModel):
    """One distribution variant of an episode in the window."""

    variant_id: str
    impressions: int
    clicks: int
    ctr: float
    starts: int
    retention_10s: float
    avg_view_s: float
    p_best_ctr: float = Field(description="Posterior P(this variant has the best CTR).")
    p_best_retention: float = Field(description="Posterior P(best 10-s retention).")
    p_worst_retention: float = Field(default=0.0, description="Posterior P(worst 10-s retention).")
    watch_time_share: float = Field(description="Share of the episode's watch time.")
    impression_share: float = Field(default=0.0, description="Share of the episode's impressions.")
    watch_s_per_impression: float = Field(
        default=0.0, description="Seconds watched per impression: what the card earns."
    )


class EpisodeTheme(BaseModel):
    """A series theme as it shows up in one episode's comments."""

    theme_id: int
    label: str
    comments: int
    distinct_authors: int


class AudienceVoice(BaseModel):
    """What one episode's commenters said in the window (cliffhanger efficacy)."""

    comments: int = Field(description="Stored comments in the window.")
    distinct_authors: int
    questions: int = Field(description="Comments asking something.")
    predictions: int = Field(description="Comments predicting / theorising.")
    engaged_author_share: float = Field(
        description="Share of authors who asked or predicted: did the cliffhanger land?"
    )
    sentiment: float = Field(description="Mean lexicon sentiment, -1..1.")
    question_examples: list[Quote] = Field(default_factory=list)
    prediction_examples: list[Quote] = Field(default_factory=list)
    themes: list[EpisodeTheme] = Field(
        default_factory=list, description="Top themes here, by distinct authors."
    )


class EpisodeReport(BaseModel):
    """One episode's scorecard, cliff, diagnosis and variant test for the window."""

    episode_id: str
    title: str
    position: int
    age_days: int = Field(description="Days since the episode's first metric window.")
    score: float = Field(description="0-100 scorecard total.")
    band: Band = Field(
        description="<50 iterate_hook, 50-70 adjust_pacing, >70 double_down, capped by findings "
        "(hook failure or packaging: iterate_hook; pacing: adjust_pacing at best)."
    )
    score_band: Band | None = Field(default=None, description="The band of the score alone.")
    band_capped_by: list[str] = Field(
        default_factory=list, description="Finding kinds that capped the band."
    )
    band_reason: str = Field(default="", description="Why the band is what it is, in words.")
    components: Components
    targets: dict[str, float] = Field(description="Target per scored metric.")
    target_sources: dict[str, str] = Field(description="'cohort' or 'benchmark' per target.")
    cohort: list[str] = Field(description="Earlier episodes whose same-age window set targets.")
    metrics: Metrics = Field(description="The reviewed 24-hour window.")
    shortfalls: list[Shortfall] = Field(
        default_factory=list, description="Components clearly below their target or aim."
    )
    metrics_72h: Metrics | None = Field(default=None, description="Sum over 3 windows.")
    metrics_7d: Metrics | None = Field(default=None, description="Sum over 7 windows.")
    retention_curve: list[float] = Field(description="Percent still watching per second.")
    cliff: Cliff | None = Field(description="None: no second is steeper than the reference's.")
    findings: list[Finding]
    variants: list[VariantResult]
    winner: str | None = Field(
        description="Variant to keep: the best CTR at >= 95 % that neither loses viewers by "
        "10 s nor earns less watch time per impression; else null."
    )
    winner_retention: str | None = Field(
        default=None, description="Variant with the best 10-s retention at >= 95 %."
    )
    variant_verdict: str = Field(
        description="Winner, how many more impressions are needed, or that no difference is "
        "detectable at this traffic."
    )
    more_impressions_needed: int | None = None
    variant_difference_detectable: bool = Field(
        default=True,
        description="False when telling the variants apart needs over 10x the traffic seen.",
    )
    monetisation: Monetisation | None = None
    trends: dict[str, Trend] = Field(
        default_factory=dict, description="24h, 72h and 7d against the span before each."
    )
    audience: AudienceVoice | None = None


class Theme(BaseModel):
    """A cluster of comments that say the same thing."""

    theme_id: int
    label: str = Field(description="The most representative comment of the cluster.")
    terms: list[str] = Field(description="Key terms: frequent here, rare in other themes.")
    comments: int
    distinct_authors: int
    likes: int
    sentiment: float = Field(description="Mean lexicon sentiment, -1..1.")
    examples: list[str] = Field(description="Comment ids of the most representative ones.")
    example_texts: list[str]
    episodes: dict[str, int] = Field(description="Comments per episode.")
    flagged_comments: int = Field(description="Comments from flagged authors (floods).")
    rank_by_authors: int
    rank_by_volume: int


class Flag(BaseModel):
    """Suspicious traffic or comments a human should look at."""

    kind: str = Field(
        description="duplicate_burst, author_flood, prompt_injection, comment_view_anomaly, "
        "traffic_anomaly"
    )
    detail: str
    episode_id: str | None = None
    comment_ids: list[str] = Field(default_factory=list)
    evidence: dict[str, float] = Field(default_factory=dict)


class CharacterMentions(BaseModel):
    """How often the series bible's characters come up in comments."""

    name: str
    comments: int
    distinct_authors: int
    sentiment: float
    episodes: dict[str, int]


class CommentScope(BaseModel):
    """Which comments the comment intelligence read."""

    start: str
    end: str
    comments: int = Field(description="Stored comments in the window.")
    themed: int = Field(description="Comments clustered into themes.")
    excluded: int = Field(description="Left out of themes: bursts, injections.")
    missing_vectors: int = Field(description="Comments with no vector in the index.")
    sampled: bool = Field(description="True when themes were fitted on a fixed sample.")


class WindowSpan(BaseModel):
    start: str
    end: str
    windows: int


class OutcomeResult(BaseModel):
    """What a published, applied change did to the metric it targeted (docs/METHOD.md).

    A difference in differences: the published variant's change from before publication
    to after, minus the change of the cohort (the series' other episodes) over the same
    days, with a 90 % interval from a normal approximation.
    """

    proposal_id: str
    episode_id: str
    variant_id: str = Field(
        description="The variant(s) the render was published as, comma-separated."
    )
    render_id: str
    kind: str = Field(description="The proposal's kind.")
    finding: str = Field(description="The diagnosis kind the proposal addressed, if any.")
    metric: str = Field(description="The targeted metric, e.g. retention_10s.")
    published_at: str
    verdict: OutcomeVerdict
    label: str = Field(description="'improved', 'no change', 'worse' or 'too early: …'.")
    effect: float | None = Field(description="Difference in differences (a fraction).")
    ci_low: float | None = Field(description="90 % interval, low end.")
    ci_high: float | None = Field(description="90 % interval, high end.")
    before: float | None = Field(description="The variant's metric before publication.")
    after: float | None = Field(description="The variant's metric after publication.")
    cohort_before: float | None
    cohort_after: float | None
    unit: str = Field(description="What the metric is counted over: starters or impressions.")
    counts: dict[str, int] = Field(
        description="Units behind each of the four cells (treated/cohort × before/after)."
    )
    windows_before: int
    windows_after: int
    cohort: list[str] = Field(description="The other episodes that make the cohort.")
    more_needed: int | None = Field(description="Units still needed before a verdict.")
    method: str = Field(description="How the interval was computed.")
    summary: str = Field(description="One sentence with the numbers, for writers.")


class AnalystReport(BaseModel):
    """The window review of one series (``report.json``)."""

    series_id: str
    title: str
    window_start: str
    window_end: str
    window_label: str = Field(default="", description="e.g. '24 h to 2026-11-19 00:00 UTC'.")
    segment: dict[str, str | bool] | None = Field(
        default=None, description="Audience segment the report is filtered to."
    )
    spans: dict[str, WindowSpan] = Field(description="The 24h, 72h and 7d spans.")
    episodes: list[EpisodeReport]
    findings: list[Finding] = Field(
        default_factory=list, description="Series-wide findings (price complaints)."
    )
    trends: dict[str, Trend] = Field(
        default_factory=dict, description="The whole series: 24h, 72h and 7d with deltas."
    )
    funnels: list[Funnel] = Field(
        default_factory=list, description="Viewers of episode N who start N+1, per span."
    )
    funnel_note: str = Field(default="", description="Why there is no funnel, if there is none.")
    themes: list[Theme] = Field(description="Ordered by distinct authors.")
    themes_by_volume: list[int] = Field(description="Theme ids ordered by comment count.")
    themes_by_authors: list[int] = Field(description="Theme ids ordered by distinct authors.")
    characters: list[CharacterMentions]
    flags: list[Flag]
    comment_scope: CommentScope
    thresholds: dict[str, float] = Field(description="The constants the verdicts used.")
    files: list[str] = Field(default_factory=list, description="Files written beside this.")
    outcomes: list[OutcomeResult] = Field(
        default_factory=list,
        description="Published changes and what they did to their targeted metric.",
    )
