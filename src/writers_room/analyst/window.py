"""The analyst: the room's deterministic judgement of one series over one 24-hour window.

:func:`analyse` reads the series' metric windows (or a segment's raw events), scores
every episode on the scorecard of docs/METHOD.md against its cohort, finds the retention cliff
and the shot playing there, applies the diagnosis rules, tests the distribution variants,
reads the window's comments (themes weighed by distinct authors, questions, character
mentions, suspicious bursts) and returns an :class:`AnalystReport`. With ``write=True``
it also writes ``report.json``, ``report.html`` and the charts under
``<home>/reports/<series_id>/<window_end>/``. Same data in, byte-identical files out.

Comment intelligence (:mod:`writers_room.analyst.intel`) reads the comments posted *in
the window*.

The CLI prints :func:`report_json` for ``--json`` and :func:`render_report_text`
otherwise; both live in :mod:`writers_room.analyst.output` with the file writing, and are
named here too.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlmodel import select

from writers_room.analyst import comments as cm
from writers_room.analyst import diagnosis as dx
from writers_room.analyst import flags as fl
from writers_room.analyst import outcomes
from writers_room.analyst import scorecard as sc
from writers_room.analyst import themes as th
from writers_room.analyst import variants as vr
from writers_room.analyst.cliff import (
    CLIFF_MIN_EXCESS_PP,
    CLIFF_MIN_Z,
    CLIFF_MULTIPLE,
    CliffTest,
    Reference,
    detect_cliff,
    reference,
    shot_at,
)
from writers_room.analyst.evidence import finding_sentences
from writers_room.analyst.funnel import MIN_FUNNEL_VIEWERS, FunnelJob
from writers_room.analyst.intel import Intel, comment_intel, quote
from writers_room.analyst.metrics import (
    DAY,
    WindowRow,
    load_windows,
    metrics_of,
    resolve_window,
    totals,
)
from writers_room.analyst.money import (
    PRICE_MIN_SHARE,
    PRICE_MIN_VIEWERS,
    monetisation,
    price_complaints,
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
from writers_room.analyst.trends import span_label, trends
from writers_room.brief.manifest import ShotManifest
from writers_room.brief.report import (
    AnalystReport,
    Cliff,
    EpisodeReport,
    Finding,
    Metrics,
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


@dataclass
class _EpisodeInfo:
    episode_id: str
    title: str
    position: int
    manifest: ShotManifest | None


@dataclass
class _Room:
    """What every episode's judgement reads: the series' windows and the window's comments."""

    order: list[_EpisodeInfo]
    groups: dict[tuple[str, datetime], list[WindowRow]]
    first_window: dict[str, datetime]
    start: datetime
    end: datetime
    label: str  # the reviewed window in words: "24 h to 2026-11-19 00:00 UTC"
    intel: Intel
    charts: Charts
    curves: dict[str, tuple[list[float], int]]  # each episode's curve and starters (peers)


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
    funnel = FunnelJob(
        settings, series_id, [e.episode_id for e in order if e.position < 10**6], end, seg
    )

    room = _Room(
        order=order,
        groups=groups,
        first_window=first_window,
        start=start,
        end=end,
        label=span_label(1, end),
        intel=comment_intel(settings, series, start, end, seg),
        charts=Charts(),
        curves={
            e.episode_id: (t.curve, t.views)
            for e in in_window
            if (t := totals(groups[(e.episode_id, start)])).views
        },
    )
    episodes = [_episode_report(e, room) for e in in_window]
    flags = room.intel.flags + fl.traffic_flags(episodes, room.intel.table)
    flags.sort(key=lambda f: (f.kind, f.episode_id or "", f.detail))
    price = price_complaints(room.intel, room.label)
    funnels, funnel_note = funnel.result()
    by_window: dict[datetime, list[WindowRow]] = defaultdict(list)
    for row in rows:
        by_window[row.window_start].append(row)
    report = AnalystReport(
        series_id=series_id,
        title=series.title,
        window_start=iso_utc(start),
        window_end=iso_utc(end),
        window_label=room.label,
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
        findings=[price] if price is not None else [],
        trends=trends(by_window, end),
        funnels=funnels,
        funnel_note=funnel_note,
        themes=room.intel.themes,
        themes_by_volume=room.intel.by_volume,
        themes_by_authors=room.intel.by_authors,
        characters=room.intel.characters,
        flags=flags,
        comment_scope=room.intel.scope,
        thresholds=_thresholds(),
    )
    if seg is None:
        report.outcomes = outcomes.evaluate(settings, series_id, rows, end)
    if write:
        report.files = file_names(report)
        write_report(settings, report, room.charts)
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
    episode: _EpisodeInfo, room: _Room, age: int
) -> tuple[dict[str, dict[str, float]], list[tuple[list[float], int]], dict[str, int]]:
    """Earlier episodes' values, curves (with starters) and pooled counts in their
    same-age window."""
    values: dict[str, dict[str, float]] = {}
    curves: list[tuple[list[float], int]] = []
    counts: Counter[str] = Counter()
    for other in room.order:
        if (other.position, other.episode_id) >= (episode.position, episode.episode_id):
            break
        first = room.first_window.get(other.episode_id)
        if first is None:
            continue
        rows = room.groups.get((other.episode_id, first + age * DAY))
        if not rows:
            continue
        t = totals(rows)
        if t.views <= 0 or t.impressions <= 0:
            continue
        values[other.episode_id] = sc.target_values(metrics_of(t))
        curves.append((t.curve, t.views))
        counts.update(starts=t.views, comments=t.comments, shares_saves=t.shares + t.saves)
    return values, curves, dict(counts)


def _reference(
    info: _EpisodeInfo,
    room: _Room,
    cohort: sc.Targets,
    curves: list[tuple[list[float], int]],
    age: int,
) -> Reference:
    """What the episode's curve is compared with, second by second: its cohort, else the
    series' other episodes in the window, else the benchmark."""
    peers = [c for e, c in room.curves.items() if e != info.episode_id]
    return reference(
        curves if cohort.cohort else [],
        f"the cohort ({', '.join(cohort.cohort)} at age {age} d)",
        peers,
        f"the series' other episodes in the {room.label}",
        sc.MIN_COHORT,
        sc.benchmark_curve(max((len(c) for c, _ in room.curves.values()), default=1) - 1),
    )


def _episode_report(info: _EpisodeInfo, room: _Room) -> EpisodeReport:
    rows = room.groups[(info.episode_id, room.start)]
    t = totals(rows)
    m = metrics_of(t)
    age = int((room.start - room.first_window[info.episode_id]) / DAY)
    cohort_values, cohort_curves, cohort_counts = _cohort(info, room, age)
    targets = sc.cohort_targets(cohort_values)
    comps = sc.components(m, targets.values)
    score = sc.total(comps)
    ref = _reference(info, room, targets, cohort_curves, age)
    found = detect_cliff(t.curve, ref, t.views)
    findings = _findings(info, room, m, t.curve, targets, ref, cohort_counts, age)
    band, score_band, capped_by = sc.capped_band(score, [f.kind for f in findings])
    variants, verdict = vr.variant_results(rows)
    by_window = {
        ws: rs for (episode_id, ws), rs in room.groups.items() if episode_id == info.episode_id
    }

    def span(n: int) -> Metrics | None:
        picked = [r for ws in sorted(by_window) if room.end - n * DAY <= ws < room.end
                  for r in by_window[ws]]  # fmt: skip
        return metrics_of(totals(picked)) if picked else None

    room.charts.variant_curves[info.episode_id] = [(r.variant_id, list(r.retention)) for r in rows]
    room.charts.bands[info.episode_id] = sc.curve_band([list(c) for c in ref.curves])
    room.charts.band_labels[info.episode_id] = ref.source
    room.charts.shots[info.episode_id] = (
        [(s.shot_id, s.start_s) for s in info.manifest.shots] if info.manifest else []
    )
    return EpisodeReport(
        episode_id=info.episode_id,
        title=info.title,
        position=info.position,
        age_days=age,
        score=score,
        band=band,
        score_band=score_band,
        band_capped_by=capped_by,
        band_reason=sc.band_reason(score, band, score_band, capped_by),
        components=comps,
        targets={k: targets.values[k] for k in sorted(targets.values)},
        target_sources={k: targets.sources[k] for k in sorted(targets.sources)},
        cohort=targets.cohort,
        metrics=m,
        shortfalls=sc.shortfalls(m, targets.values, targets.sources),
        metrics_72h=span(3),
        metrics_7d=span(7),
        retention_curve=[round(v, 3) for v in t.curve],
        cliff=_cliff_model(found, info.manifest, ref),
        findings=findings,
        variants=variants,
        winner=verdict.winner,
        winner_retention=verdict.winner_retention,
        variant_verdict=verdict.text,
        more_impressions_needed=verdict.more_impressions,
        variant_difference_detectable=verdict.detectable,
        monetisation=monetisation(m, targets.values, bool(targets.cohort), room.label),
        trends=trends(by_window, room.end),
        audience=room.intel.voices.get(info.episode_id),
    )


def _findings(
    info: _EpisodeInfo,
    room: _Room,
    m: Metrics,
    curve: list[float],
    targets: sc.Targets,
    ref: Reference,
    cohort_counts: dict[str, int],
    age: int,
) -> list[Finding]:
    """The diagnosis rules on the episode's window, as report findings with quotes."""
    # The pacing rule reads the cliff inside its span (a cliff elsewhere is not pacing).
    lo, hi = dx.PACING_SPAN
    in_span = detect_cliff(curve, ref, m.starts, start=lo, end=hi)
    span_point, span_typical = (in_span.point, in_span.typical) if in_span else (None, 0.0)
    span_shot = shot_at(info.manifest, span_point.second)[0] if span_point else ""
    diagnoses = dx.diagnose(
        m,
        targets.values,
        span_point,
        span_typical,
        span_shot,
        cohort_counts if targets.cohort else None,
        reference_starters=ref.starters,
    )
    baseline = (
        "cohort: median of " + ", ".join(targets.cohort) + f" at age {age} d"
        if targets.cohort
        else "benchmarks (fewer than 2 earlier episodes with a same-age window)"
    )
    return [_finding(d, info.episode_id, baseline, room.intel) for d in diagnoses]


def _cliff_model(
    found: CliffTest | None, manifest: ShotManifest | None, ref: Reference
) -> Cliff | None:
    if found is None:
        return None
    point = found.point
    shot_id, shot_start, shot_end, caption, action = shot_at(manifest, point.second)
    return Cliff(
        second=point.second,
        drop_pct=point.drop_pct,
        loss_per_s=point.loss_per_s,
        retention_before=point.before,
        retention_after=point.after,
        cohort_loss_per_s=found.typical,
        excess_per_s=found.excess,
        z=found.z,
        compared_with=ref.label,
        shot_id=shot_id or None,
        shot_start_s=shot_start if shot_id else None,
        shot_end_s=shot_end if shot_id else None,
        caption=caption,
        action=action,
    )


def _finding(d: dx.Diagnosis, episode_id: str, baseline: str, intel: Intel) -> Finding:
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
    finding = Finding(
        kind=d.kind,
        problem=problem,
        proposal=proposal,
        summary=d.summary,
        evidence=d.evidence,
        baseline=baseline,
        shot_id=d.shot_id,
        comment_ids=[table.ids[i] for i in chosen],
        quotes=[quote(table, i) for i in chosen],
    )
    finding.sentences = finding_sentences(finding)
    return finding


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
            "winner_min_starters_per_variant": float(vr.MIN_STARTERS_PER_VARIANT),
            "no_difference_traffic_multiple": float(vr.NO_DIFFERENCE_TRAFFIC_MULTIPLE),
            "cliff_multiple": CLIFF_MULTIPLE,
            "cliff_min_excess_pp_per_s": CLIFF_MIN_EXCESS_PP,
            "cliff_min_z": CLIFF_MIN_Z,
            "shortfall_ratio": sc.SHORTFALL_RATIO,
            "price_min_viewers": float(PRICE_MIN_VIEWERS),
            "price_min_share": PRICE_MIN_SHARE,
            "funnel_min_viewers": float(MIN_FUNNEL_VIEWERS),
            "burst_window_s": float(cm.BURST_WINDOW_S),
            "burst_min_comments": float(cm.BURST_MIN_COMMENTS),
            "flood_min_comments": float(cm.FLOOD_MIN_COMMENTS),
            "flood_min_share": cm.FLOOD_MIN_SHARE,
            "anomaly_comment_multiple": fl.ANOMALY_COMMENT_MULTIPLE,
            "max_theme_texts": float(th.MAX_THEME_TEXTS),
        }
    )
    return dict(sorted(out.items()))
