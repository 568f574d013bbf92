"""The analyst: the room's deterministic judgement of one series over one 24-hour window.

:func:`analyse` reads the series' metric windows (or a segment's raw events), scores
every episode on the scorecard of docs/METHOD.md against its cohort, finds the retention cliff
and the shot playing there, applies the diagnosis rules, tests the distribution variants,
reads the window's comments (themes weighed by distinct authors, questions, character
mentions, suspicious bursts) and returns an :class:`AnalystReport`. With ``write=True``
it also writes ``report.json``, ``report.html`` and the charts under
``<home>/reports/<series_id>/<window_end>/``. Same data in, byte-identical files out.

Comment intelligence reads the comments posted *in the window*: the review is about the
last 24 hours, and a lifetime view would let an old episode's settled conversation drown
what viewers said today. Themes use the vectors embedded at ingest, read from the comment
index one per distinct text (fitted on a fixed sample above ``MAX_THEME_TEXTS`` distinct
texts); flags, questions and character mentions read every comment's text.

The CLI prints :func:`report_json` for ``--json`` and :func:`render_report_text`
otherwise; both live in :mod:`writers_room.analyst.output` with the file writing, and are
named here too.
"""

from __future__ import annotations

import threading
from collections import Counter, defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import numpy as np
import numpy.typing as npt
from sqlmodel import select

from writers_room.analyst import comments as cm
from writers_room.analyst import diagnosis as dx
from writers_room.analyst import outcomes
from writers_room.analyst import scorecard as sc
from writers_room.analyst import themes as th
from writers_room.analyst import variants as vr
from writers_room.analyst.cliff import (
    CliffPoint,
    find_cliff,
    shot_at,
    steepest_excess,
    typical_losses,
)
from writers_room.analyst.flags import comment_flags
from writers_room.analyst.metrics import (
    DAY,
    Totals,
    WindowRow,
    load_windows,
    metrics_of,
    resolve_window,
    totals,
)
from writers_room.analyst.output import (
    Charts,
    file_names,
    iso_utc,
    render_report_text,
    report_dir,
    report_json,
    write_report,
)
from writers_room.analyst.segments import normalise_segment, segment_windows
from writers_room.brief.manifest import ShotManifest
from writers_room.brief.report import (
    AnalystReport,
    AudienceVoice,
    CharacterMentions,
    Cliff,
    CommentScope,
    EpisodeReport,
    EpisodeTheme,
    Finding,
    Flag,
    Metrics,
    Quote,
    Theme,
    VariantResult,
    WindowSpan,
)
from writers_room.config import Settings
from writers_room.errors import InputError
from writers_room.store.db import session_scope
from writers_room.store.models import BriefVersion, Episode, Series

__all__ = [
    "analyse",
    "render_report_text",
    "report_dir",
    "report_json",
]

QUOTES_PER_FINDING = 5
EXAMPLES_PER_VOICE = 3
# Comment/view anomaly: an episode's stored comments per starter at least this multiple
# of the series median in the window, with at least ANOMALY_MIN_COMMENTS comments.
ANOMALY_COMMENT_MULTIPLE = 5.0
ANOMALY_MIN_COMMENTS = 20
# Fake-traffic pattern: CTR at least this multiple of target while 3-s retention is below
# FAKE_TRAFFIC_RETENTION_RATIO of target (clicks that never watch).
FAKE_TRAFFIC_CTR_MULTIPLE = 3.0
FAKE_TRAFFIC_RETENTION_RATIO = 0.5


@dataclass
class _EpisodeInfo:
    episode_id: str
    title: str
    position: int
    manifest: ShotManifest | None


def analyse(
    settings: Settings,
    series_id: str,
    *,
    window_end: datetime | None = None,
    write: bool = True,
    segment: Mapping[str, Any] | None = None,
) -> AnalystReport:
    """Review one series over one closed 24-hour window.

    Args:
        settings: The room.
        series_id: A registered series.
        window_end: End of the window to review (a window boundary, UTC); default the
            last closed window that has data.
        write: Also write report.json, report.html and the PNG charts.
        segment: Audience segment, e.g. ``{"returning": True}``, ``{"platform":
            "tiktok"}``, ``{"country": "US"}`` (keys may be combined); computed from the
            raw events. The report is written under ``segment-<key>-<value>/``.

    Returns:
        The report (the same content as ``report.json``).

    Raises:
        InputError: unknown series, a window that is not a boundary or has no data, a
            bad segment.
    """
    now = datetime.now(UTC)
    series, infos = _load_series(settings, series_id)
    seg = normalise_segment(segment) if segment is not None else None
    if seg is None:
        rows = load_windows(settings, series_id)
    else:
        runtimes = {
            e.episode_id: e.manifest.runtime_s for e in infos.values() if e.manifest is not None
        }
        rows = segment_windows(settings, series_id, runtimes, seg)
    start, end = resolve_window(rows, series_id, settings.window_hour, window_end, now)

    groups: dict[tuple[str, datetime], list[WindowRow]] = defaultdict(list)
    for row in rows:
        groups[(row.episode_id, row.window_start)].append(row)
    first_window: dict[str, datetime] = {}
    for episode_id, ws in sorted(groups):
        first_window.setdefault(episode_id, ws)
    for episode_id in sorted({e for e, _ in groups} - set(infos)):
        infos[episode_id] = _EpisodeInfo(episode_id, episode_id, 10**6, None)
    order = sorted(infos.values(), key=lambda e: (e.position, e.episode_id))
    in_window = [e for e in order if (e.episode_id, start) in groups]

    intel = _comment_intel(settings, series, start, end, seg)
    charts = Charts()
    episodes = [
        _episode_report(e, order, groups, first_window, start, end, intel, charts)
        for e in in_window
    ]
    flags = intel.flags + _traffic_flags(episodes, intel)
    flags.sort(key=lambda f: (f.kind, f.episode_id or "", f.detail))
    report = AnalystReport(
        series_id=series_id,
        title=series.title,
        window_start=iso_utc(start),
        window_end=iso_utc(end),
        segment=seg,
        spans={
            name: WindowSpan(
                start=iso_utc(end - n * DAY),
                end=iso_utc(end),
                windows=len({ws for _, ws in groups if end - n * DAY <= ws < end}),
            )
            for name, n in (("24h", 1), ("72h", 3), ("7d", 7))
        },
        episodes=episodes,
        themes=intel.themes,
        themes_by_volume=intel.by_volume,
        themes_by_authors=intel.by_authors,
        characters=intel.characters,
        flags=flags,
        comment_scope=intel.scope,
        thresholds=_thresholds(),
    )
    if seg is None:
        report.outcomes = outcomes.evaluate(settings, series_id, rows, end)
    if write:
        report.files = file_names(report)
        write_report(settings, report, charts)
        if seg is None:
            outcomes.store_outcomes(settings, series_id, end, report.outcomes)
    return report


# --------------------------------------------------------------------------------------
# Loading
# --------------------------------------------------------------------------------------


def _load_series(settings: Settings, series_id: str) -> tuple[Series, dict[str, _EpisodeInfo]]:
    with session_scope(settings) as session:
        series = session.get(Series, series_id)
        if series is None:
            known = sorted(session.exec(select(Series.series_id)).all())
            raise InputError(
                f"series {series_id!r} is not registered (known: {', '.join(known) or 'none'}); "
                "register it with `writers-room series add`",
                field="series_id",
                value=series_id,
            )
        episodes = session.exec(select(Episode).where(Episode.series_id == series_id)).all()
        briefs = {
            (b.episode_id, b.version): b
            for b in session.exec(select(BriefVersion).where(BriefVersion.series_id == series_id))
        }
    infos = {}
    for episode in episodes:
        brief = briefs.get((episode.episode_id, episode.current_version))
        manifest = ShotManifest.model_validate(brief.manifest) if brief is not None else None
        infos[episode.episode_id] = _EpisodeInfo(
            episode.episode_id, episode.title, episode.position, manifest
        )
    return series, infos


# --------------------------------------------------------------------------------------
# Episodes
# --------------------------------------------------------------------------------------


def _cohort(
    episode: _EpisodeInfo,
    order: Sequence[_EpisodeInfo],
    groups: Mapping[tuple[str, datetime], list[WindowRow]],
    first_window: Mapping[str, datetime],
    age: int,
) -> tuple[dict[str, dict[str, float]], list[list[float]], dict[str, int]]:
    """Earlier episodes' values, curves and pooled counts in their same-age window."""
    values: dict[str, dict[str, float]] = {}
    curves: list[list[float]] = []
    counts: Counter[str] = Counter()
    for other in order:
        if (other.position, other.episode_id) >= (episode.position, episode.episode_id):
            break
        first = first_window.get(other.episode_id)
        if first is None:
            continue
        rows = groups.get((other.episode_id, first + age * DAY))
        if not rows:
            continue
        t = totals(rows)
        if t.views <= 0 or t.impressions <= 0:
            continue
        values[other.episode_id] = sc.target_values(metrics_of(t))
        curves.append(t.curve)
        counts.update(starts=t.views, comments=t.comments, shares_saves=t.shares + t.saves)
    return values, curves, dict(counts)


def _episode_report(
    info: _EpisodeInfo,
    order: Sequence[_EpisodeInfo],
    groups: Mapping[tuple[str, datetime], list[WindowRow]],
    first_window: Mapping[str, datetime],
    start: datetime,
    end: datetime,
    intel: _Intel,
    charts: Charts,
) -> EpisodeReport:
    rows = groups[(info.episode_id, start)]
    t = totals(rows)
    m = metrics_of(t)
    age = int((start - first_window[info.episode_id]) / DAY)
    cohort_values, cohort_curves, cohort_counts = _cohort(info, order, groups, first_window, age)
    targets = sc.cohort_targets(cohort_values)
    comps = sc.components(m, targets.values)
    score = sc.total(comps)

    # The cohort's normal loss per second; without a cohort, the benchmark everywhere.
    typical = typical_losses(cohort_curves) if targets.cohort else {}
    point = find_cliff(t.curve) if t.views > 0 else None
    cliff = _cliff_model(
        point,
        info.manifest,
        typical.get(point.second, sc.BENCHMARK_LOSS_PER_S) if point else None,
    )
    lo, hi = dx.PACING_SPAN
    excess = steepest_excess(t.curve, typical, sc.BENCHMARK_LOSS_PER_S, lo, hi) if t.views else None
    span_point, span_typical = excess if excess else (None, sc.BENCHMARK_LOSS_PER_S)
    span_shot = shot_at(info.manifest, span_point.second)[0] if span_point else ""
    diagnoses = dx.diagnose(
        m,
        targets.values,
        span_point,
        span_typical,
        span_shot,
        cohort_counts if targets.cohort else None,
    )
    baseline = (
        "cohort: median of " + ", ".join(targets.cohort) + f" at age {age} d"
        if targets.cohort
        else "benchmarks (fewer than 2 earlier episodes with a same-age window)"
    )
    findings = [_finding(d, info.episode_id, baseline, intel) for d in diagnoses]

    variants, winner, winner_retention, verdict = _variants(rows)

    def span(n: int) -> Metrics | None:
        picked = [
            r
            for (episode_id, ws), rs in sorted(groups.items())
            if episode_id == info.episode_id and end - n * DAY <= ws < end
            for r in rs
        ]
        return metrics_of(totals(picked)) if picked else None

    charts.variant_curves[info.episode_id] = [(r.variant_id, list(r.retention)) for r in rows]
    charts.bands[info.episode_id] = sc.curve_band(cohort_curves)
    charts.shots[info.episode_id] = (
        [(s.shot_id, s.start_s) for s in info.manifest.shots] if info.manifest else []
    )
    return EpisodeReport(
        episode_id=info.episode_id,
        title=info.title,
        position=info.position,
        age_days=age,
        score=score,
        band=sc.band(score),
        components=comps,
        targets={k: targets.values[k] for k in sorted(targets.values)},
        target_sources={k: targets.sources[k] for k in sorted(targets.sources)},
        cohort=targets.cohort,
        metrics=m,
        metrics_72h=span(3),
        metrics_7d=span(7),
        retention_curve=[round(v, 3) for v in t.curve],
        cliff=cliff,
        findings=findings,
        variants=variants,
        winner=winner,
        winner_retention=winner_retention,
        variant_verdict=verdict.text,
        more_impressions_needed=verdict.more_impressions,
        audience=intel.voices.get(info.episode_id),
    )


def _cliff_model(
    point: CliffPoint | None, manifest: ShotManifest | None, cohort_loss: float | None
) -> Cliff | None:
    if point is None:
        return None
    shot_id, shot_start, shot_end, caption, action = shot_at(manifest, point.second)
    return Cliff(
        second=point.second,
        drop_pct=point.drop_pct,
        loss_per_s=point.loss_per_s,
        retention_before=point.before,
        retention_after=point.after,
        cohort_loss_per_s=cohort_loss,
        shot_id=shot_id or None,
        shot_start_s=shot_start if shot_id else None,
        shot_end_s=shot_end if shot_id else None,
        caption=caption,
        action=action,
    )


def _variants(
    rows: Sequence[WindowRow],
) -> tuple[list[VariantResult], str | None, str | None, vr.Verdict]:
    by_variant: dict[str, Totals] = {}
    for variant_id in sorted({r.variant_id for r in rows}):
        by_variant[variant_id] = totals(r for r in rows if r.variant_id == variant_id)
    ids = list(by_variant)
    ts = [by_variant[v] for v in ids]
    r10_counts = [
        round(t.views * (t.curve[min(10, len(t.curve) - 1)] / 100)) if t.curve else 0 for t in ts
    ]
    p_ctr = vr.prob_best([t.clicks for t in ts], [t.impressions for t in ts])
    p_ret = vr.prob_best(r10_counts, [t.views for t in ts])
    watch = [t.view_seconds for t in ts]
    watch_total = sum(watch)
    results = []
    for i, variant_id in enumerate(ids):
        m = metrics_of(ts[i])
        results.append(
            VariantResult(
                variant_id=variant_id,
                impressions=m.impressions,
                clicks=m.clicks,
                ctr=m.ctr,
                starts=m.starts,
                retention_10s=m.retention_10s,
                avg_view_s=m.avg_view_s,
                p_best_ctr=p_ctr[i],
                p_best_retention=p_ret[i],
                watch_time_share=watch[i] / watch_total if watch_total > 0 else 0.0,
            )
        )
    verdict = vr.verdict(ids, p_ctr, [t.impressions for t in ts], [t.clicks for t in ts])
    winner_retention = None
    if len(ids) > 1:
        lead = max(range(len(ids)), key=lambda i: (p_ret[i], -i))
        enough = min(t.views for t in ts) >= dx.MIN_STARTERS
        if p_ret[lead] >= vr.WINNER_PROBABILITY and enough:
            winner_retention = ids[lead]
    return results, verdict.winner, winner_retention, verdict


# --------------------------------------------------------------------------------------
# Comments
# --------------------------------------------------------------------------------------


@dataclass
class _Intel:
    table: cm.CommentTable
    quotable: cm.BoolArray  # not a burst, an injection or a flooding author's comment
    comment_theme: npt.NDArray[np.int64]  # theme id per comment, 0 when none
    themes: list[Theme]
    by_volume: list[int]
    by_authors: list[int]
    characters: list[CharacterMentions]
    voices: dict[str, AudienceVoice]
    flags: list[Flag]
    scope: CommentScope


class _IndexOpener:
    """Opens the comment index's collection on a background thread."""

    def __init__(self, settings: Settings) -> None:
        self._result: list[Any] = []
        self._error: list[BaseException] = []
        self._thread = threading.Thread(
            target=self._open, args=(settings,), name="analyst-index", daemon=True
        )
        # No embedded index on disk means no comment was ever embedded: don't create one.
        self.exists = bool(settings.chroma_url) or settings.chroma_path.exists()
        if self.exists:
            self._thread.start()

    def _open(self, settings: Settings) -> None:
        try:
            from writers_room.index.chroma import CommentIndex

            collection = CommentIndex(settings).collection
            collection.get(ids=["analyst-warm-up"], include=[])
            self._result.append(collection)
        except BaseException as exc:  # noqa: BLE001 - re-raised in the caller's thread
            self._error.append(exc)

    def collection(self) -> Any:
        if not self.exists:
            return None
        self._thread.join()
        if self._error:
            raise self._error[0]
        return self._result[0]


def _quote(table: cm.CommentTable, i: int) -> Quote:
    r = table.record(i)
    return Quote(comment_id=r.comment_id, text=r.text, likes=r.likes, episode_id=r.episode_id)


def _theme_vectors(
    table: cm.CommentTable, themable: npt.NDArray[np.bool_], index: _IndexOpener
) -> tuple[list[str], list[str], dict[str, np.ndarray], int]:
    """The distinct texts, the sample of them themed, their vectors, and how many of the
    themable comments' sampled texts have no vector in the index."""
    # One vector per distinct text, read by one comment id per text.
    first_of_text = np.full(len(table.texts), -1, dtype=np.int64)
    candidates = np.flatnonzero(themable)[::-1]  # reversed: the lowest id per text wins
    first_of_text[table.text[candidates]] = candidates
    texts = [table.texts[t] for t in np.flatnonzero(first_of_text >= 0)]
    chosen = th.sample_texts(texts, th.MAX_THEME_TEXTS)
    vectors: dict[str, np.ndarray] = {}
    if chosen:
        text_code = {t: i for i, t in enumerate(table.texts)}
        wanted = {t: table.ids[first_of_text[text_code[t]]] for t in chosen}
        collection = index.collection()
        if collection is not None:
            vectors = th.fetch_vectors(collection, wanted)
    chosen_set = set(chosen)
    chosen_t = np.array([t in chosen_set for t in table.texts], dtype=bool)
    has_vector_t = np.array([t in vectors for t in table.texts], dtype=bool)
    missing = int((themable & chosen_t[table.text] & ~has_vector_t[table.text]).sum())
    return texts, chosen, vectors, missing


def _audience_voices(
    table: cm.CommentTable,
    themable: npt.NDArray[np.bool_],
    quotable: npt.NDArray[np.bool_],
    comment_theme: npt.NDArray[np.int64],
    label_of: Mapping[int, str],
) -> dict[str, AudienceVoice]:
    """Each episode's audience: questions, predictions, sentiment and its top themes."""
    voices: dict[str, AudienceVoice] = {}
    asks_all = table.question_t[table.text] if table.n else np.zeros(0, dtype=bool)
    guesses_all = table.prediction_t[table.text] if table.n else np.zeros(0, dtype=bool)
    for episode_id in sorted(table.episodes):
        mine = table.episode_mask(episode_id) & themable
        n = int(mine.sum())
        if n == 0:
            continue
        asks, guesses = mine & asks_all, mine & guesses_all
        authors = table.distinct_authors(mine)
        engaged = table.distinct_authors(asks | guesses)
        tids, counts = np.unique(comment_theme[mine & (comment_theme > 0)], return_counts=True)
        theme_authors = {
            int(tid): table.distinct_authors(mine & (comment_theme == tid)) for tid in tids
        }
        top = sorted(
            zip(tids.tolist(), counts.tolist(), strict=True),
            key=lambda tc: (-theme_authors[tc[0]], -tc[1], tc[0]),
        )[:3]
        voices[episode_id] = AudienceVoice(
            comments=n,
            distinct_authors=authors,
            questions=int(asks.sum()),
            predictions=int(guesses.sum()),
            engaged_author_share=engaged / authors if authors else 0.0,
            sentiment=float(table.sentiment_t[table.text[mine]].mean()),
            question_examples=[
                _quote(table, i) for i in table.top(asks & quotable, EXAMPLES_PER_VOICE)
            ],
            prediction_examples=[
                _quote(table, i) for i in table.top(guesses & quotable, EXAMPLES_PER_VOICE)
            ],
            themes=[
                EpisodeTheme(
                    theme_id=tid,
                    label=label_of[tid],
                    comments=count,
                    distinct_authors=theme_authors[tid],
                )
                for tid, count in top
            ],
        )
    return voices


def _comment_intel(
    settings: Settings,
    series: Series,
    start: datetime,
    end: datetime,
    seg: Mapping[str, str | bool] | None,
) -> _Intel:
    platform = seg.get("platform") if seg else None
    # Opening the comment index (import, client, first read of its segments) takes seconds
    # in a fresh process and mostly waits on Chroma's own code: start it now, so it runs
    # while the comments are read from SQL and their texts are analysed.
    index = _IndexOpener(settings)
    table = cm.load_comments(
        settings, series.series_id, start, end, platform if isinstance(platform, str) else None
    )
    bursts = cm.find_bursts(table)
    floods = cm.find_floods(table)
    index_of = {cid: i for i, cid in enumerate(table.ids)} if bursts else {}
    in_burst = np.zeros(table.n, dtype=bool)
    for b in bursts:
        in_burst[[index_of[cid] for cid in b.comment_ids]] = True
    injection = table.injection_t[table.text] if table.n else np.zeros(0, dtype=bool)
    keys = cm.flood_keys(table)
    flood_pairs = [
        table.episodes.index(f.episode_id) * max(1, len(table.authors))
        + table.authors.index(f.author)
        for f in floods
    ]
    flooded = np.isin(keys, flood_pairs)
    themable = ~in_burst & ~injection
    quotable = themable & ~flooded

    texts, chosen, vectors, missing = _theme_vectors(table, themable, index)
    stats, theme_index = th.build_themes(table, themable, vectors, flooded)

    authors_rank = th.rank_by_authors(stats)
    volume_rank = th.rank_by_volume(stats)
    theme_id = {index: rank + 1 for rank, index in enumerate(authors_rank)}
    volume_pos = {index: rank + 1 for rank, index in enumerate(volume_rank)}
    themes = [
        Theme(
            theme_id=theme_id[i],
            label=stats[i].label,
            terms=stats[i].terms,
            comments=len(stats[i].members),
            distinct_authors=stats[i].authors,
            likes=stats[i].likes,
            sentiment=stats[i].sentiment,
            examples=[table.ids[c] for c in stats[i].examples],
            example_texts=[table.texts[table.text[c]] for c in stats[i].examples],
            episodes=stats[i].episodes,
            flagged_comments=stats[i].flagged,
            rank_by_authors=theme_id[i],
            rank_by_volume=volume_pos[i],
        )
        for i in authors_rank
    ]
    to_id = np.array([0] + [theme_id[i] for i in range(len(stats))], dtype=np.int64)
    comment_theme = to_id[theme_index + 1]
    label_of = {t.theme_id: t.label for t in themes}

    voices = _audience_voices(table, themable, quotable, comment_theme, label_of)

    flags = comment_flags(table, bursts, floods, injection)

    characters = [
        CharacterMentions(
            name=c.name,
            comments=c.comments,
            distinct_authors=c.authors,
            sentiment=c.sentiment,
            episodes=c.episodes,
        )
        for c in cm.character_mentions(table, series.characters, themable)
    ]
    scope = CommentScope(
        start=iso_utc(start),
        end=iso_utc(end),
        comments=table.n,
        themed=sum(len(s.members) for s in stats),
        excluded=int((~themable).sum()),
        missing_vectors=missing,
        sampled=len(chosen) < len(texts),
    )
    return _Intel(
        table=table,
        quotable=quotable,
        comment_theme=comment_theme,
        themes=themes,
        by_volume=[theme_id[i] for i in volume_rank],
        by_authors=[theme_id[i] for i in authors_rank],
        characters=characters,
        voices=voices,
        flags=flags,
        scope=scope,
    )


def _finding(d: dx.Diagnosis, episode_id: str, baseline: str, intel: _Intel) -> Finding:
    table = intel.table
    pool = table.episode_mask(episode_id) & intel.quotable
    chosen = table.top(cm.cue_mask(d.kind, table, pool), QUOTES_PER_FINDING)
    if not chosen and pool.any():
        # No comment names the problem: quote what the episode's largest theme says.
        voice = intel.voices.get(episode_id)
        top = voice.themes[0].theme_id if voice and voice.themes else -1
        in_theme = pool & (intel.comment_theme == top)
        chosen = table.top(in_theme if in_theme.any() else pool, QUOTES_PER_FINDING)
    problem, proposal = dx.PROBLEMS[d.kind]
    return Finding(
        kind=d.kind,
        problem=problem,
        proposal=proposal,
        summary=d.summary,
        evidence=d.evidence,
        baseline=baseline,
        shot_id=d.shot_id,
        comment_ids=[table.ids[i] for i in chosen],
        quotes=[_quote(table, i) for i in chosen],
    )


def _traffic_flags(episodes: Sequence[EpisodeReport], intel: _Intel) -> list[Flag]:
    flags = []
    table = intel.table
    stored = {
        e: int(c)
        for e, c in zip(
            table.episodes, np.bincount(table.episode, minlength=len(table.episodes)), strict=True
        )
    }
    ratios = {
        e.episode_id: stored.get(e.episode_id, 0) / e.metrics.starts
        for e in episodes
        if e.metrics.starts > 0
    }
    typical = sorted(ratios.values())[len(ratios) // 2] if ratios else 0.0
    for e in episodes:
        n = stored.get(e.episode_id, 0)
        if n >= ANOMALY_MIN_COMMENTS and (
            e.metrics.starts == 0
            or (typical > 0 and ratios[e.episode_id] >= ANOMALY_COMMENT_MULTIPLE * typical)
        ):
            ratio = ratios.get(e.episode_id, float(n))
            flags.append(
                Flag(
                    kind="comment_view_anomaly",
                    detail=f"{n} comments for {e.metrics.starts} starters on {e.episode_id} "
                    f"({ratio:.2f} per starter vs a series median of {typical:.2f})",
                    episode_id=e.episode_id,
                    evidence={
                        "comments": float(n),
                        "starts": float(e.metrics.starts),
                        "comments_per_start": ratio,
                        "series_median": typical,
                        "multiple": ANOMALY_COMMENT_MULTIPLE,
                    },
                )
            )
        m = e.metrics
        if m.clicks > m.impressions:
            flags.append(
                Flag(
                    kind="traffic_anomaly",
                    detail=f"{m.clicks} clicks for {m.impressions} impressions on "
                    f"{e.episode_id}: the counts cannot both be right",
                    episode_id=e.episode_id,
                    evidence={"clicks": float(m.clicks), "impressions": float(m.impressions)},
                )
            )
        elif (
            m.impressions >= dx.MIN_IMPRESSIONS
            and m.starts >= dx.MIN_STARTERS
            and m.ctr >= FAKE_TRAFFIC_CTR_MULTIPLE * e.targets["ctr"]
            and m.retention_3s < FAKE_TRAFFIC_RETENTION_RATIO * e.targets["retention_3s"]
        ):
            flags.append(
                Flag(
                    kind="traffic_anomaly",
                    detail=f"CTR {m.ctr:.1%} is {m.ctr / e.targets['ctr']:.1f}x target but only "
                    f"{m.retention_3s:.0%} watch 3 s on {e.episode_id}: clicks that never "
                    "watch look like bought or bot traffic",
                    episode_id=e.episode_id,
                    evidence={
                        "ctr": m.ctr,
                        "target_ctr": e.targets["ctr"],
                        "retention_3s": m.retention_3s,
                        "target_retention_3s": e.targets["retention_3s"],
                    },
                )
            )
    return flags


def _thresholds() -> dict[str, float]:
    out: dict[str, float] = dict(dx.THRESHOLDS)
    out.update({f"benchmark_{k}": v for k, v in sc.BENCHMARKS.items()})
    out.update(
        {
            "band_iterate_hook_below": sc.BAND_HOOK_BELOW,
            "band_double_down_above": sc.BAND_DOUBLE_ABOVE,
            "min_cohort_episodes": float(sc.MIN_COHORT),
            "winner_probability": vr.WINNER_PROBABILITY,
            "winner_min_impressions_per_variant": float(vr.MIN_IMPRESSIONS_PER_VARIANT),
            "burst_window_s": float(cm.BURST_WINDOW_S),
            "burst_min_comments": float(cm.BURST_MIN_COMMENTS),
            "flood_min_comments": float(cm.FLOOD_MIN_COMMENTS),
            "flood_min_share": cm.FLOOD_MIN_SHARE,
            "anomaly_comment_multiple": ANOMALY_COMMENT_MULTIPLE,
            "max_theme_texts": float(th.MAX_THEME_TEXTS),
        }
    )
    return dict(sorted(out.items()))
