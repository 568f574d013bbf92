"""``report.html``: one self-contained page (charts embedded as base64 PNG, inline CSS).

The page reads top to bottom as a writer would: the series at a glance (bands, cliffs,
findings), where the series is heading (trends, funnel, series-wide findings), then one
section per episode. Every figure names the window it covers.
"""

from __future__ import annotations

import base64
from collections.abc import Mapping, Sequence
from html import escape

from writers_room.brief.report import (
    BAND_WORDS,
    FINDING_WORDS,
    AnalystReport,
    EpisodeReport,
    Finding,
    Funnel,
    Metrics,
    Quote,
    Trend,
)

_CSS = """
body{font:14px/1.5 system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:2rem auto;
max-width:1080px;color:#111827;padding:0 1rem}
h1{font-size:1.5rem;margin-bottom:.2rem}
h2{font-size:1.2rem;margin-top:2.2rem;padding-bottom:.2rem;border-bottom:1px solid #e5e7eb}
h3{font-size:1rem;margin:1.2rem 0 .3rem}
table{border-collapse:collapse;margin:.4rem 0 .8rem;font-size:13px}
td,th{border:1px solid #e5e7eb;padding:.25rem .5rem;text-align:left;vertical-align:top}
th{background:#f8fafc;font-weight:600}.num{text-align:right;font-variant-numeric:tabular-nums}
.band{display:inline-block;padding:.05rem .45rem;border-radius:.3rem;color:#fff;font-size:12px;
font-weight:600;white-space:nowrap}
.iterate_hook{background:#b91c1c}.adjust_pacing{background:#b45309}.double_down{background:#15803d}
.muted{color:#6b7280}.small{font-size:12px}.weak{background:#fef2f2}
.up{color:#15803d}.down{color:#b91c1c}
.finding{margin:.6rem 0;padding:.5rem .8rem;border-left:4px solid #2563eb;background:#f8fafc}
.finding ul{margin:.3rem 0 .3rem 1.1rem;padding:0}.finding li{margin:.1rem 0}
.note{margin:.4rem 0;padding:.4rem .7rem;background:#fffbeb;border-left:4px solid #d97706}
blockquote{margin:.2rem 0 .2rem 1rem;color:#374151;font-style:italic}
img{max-width:100%;border:1px solid #e5e7eb}
.grid{display:flex;gap:1.2rem;flex-wrap:wrap;align-items:flex-start}
"""
_COMPONENTS = (
    ("retention_10s", "10-s retention", 30, "retention_10s"),
    ("ctr", "CTR", 20, "ctr"),
    ("completion", "completion", 20, "completion"),
    ("engagement", "comments, shares, saves", 15, "engagement"),
    ("commercial", "purchases, revenue", 15, "conversions"),
)


def _img(png: bytes | None, alt: str) -> str:
    if not png:
        return ""
    data = base64.b64encode(png).decode("ascii")
    return f'<img alt="{escape(alt)}" src="data:image/png;base64,{data}">'


def _pct(value: float, decimals: int = 1) -> str:
    return f"{value:.{decimals}%}"


def _band(e: EpisodeReport) -> str:
    words = BAND_WORDS.get(e.band, e.band.replace("_", " "))
    return f'<span class="band {e.band}" title="{e.band}">{e.score:.1f} · {words}</span>'


def _quotes(quotes: Sequence[Quote]) -> str:
    return "".join(
        f"<blockquote>“{escape(q.text)}” <span class=muted>({escape(q.episode_id)}, "
        f"{escape(q.comment_id)}, {q.likes} likes)</span></blockquote>"
        for q in quotes
    )


def _finding(f: Finding) -> str:
    sentences = "".join(f"<li>{escape(s)}</li>" for s in f.sentences)
    shot = f" · shot <b>{escape(f.shot_id)}</b>" if f.shot_id else ""
    kind = FINDING_WORDS.get(f.kind, f.kind.replace("_", " "))
    return (
        f'<div class="finding"><b>{escape(f.problem)}</b> <span class=muted>({escape(kind)})'
        f"</span>{shot}<br>{escape(f.summary)}<ul>{sentences}</ul><b>Change:</b> "
        f'{escape(f.proposal)}<br><span class="muted small">Compared with: '
        f"{escape(f.baseline)}</span>{_quotes(f.quotes)}</div>"
    )


def _delta(value: float | None, *, rate: bool) -> str:
    if value is None:
        return ""
    shown = round(value * 1000) if rate else round(value)
    if shown == 0:
        text = "±0.0 pts" if rate else "±0"
    else:
        text = f"{value * 100:+.1f} pts" if rate else f"{value:+,.0f}"
    css = "up" if shown > 0 else "down" if shown < 0 else "muted"
    return f' <span class="small {css}">{text}</span>'


_TREND_COLUMNS = (
    ("starters", "starts", False),
    ("CTR", "ctr", True),
    ("10-s retention", "retention_10s", True),
    ("completion", "completion", True),
    ("purchases / starter", "conversions_per_view", True),
)


def _trend_table(trends: Mapping[str, Trend]) -> str:
    head = "".join(f"<th>{name}</th>" for name, _, _ in _TREND_COLUMNS)
    rows = []
    for t in trends.values():
        m = t.current.metrics
        if m is None:
            rows.append(f"<tr><td>{escape(t.current.label)}</td><td colspan=5>no data</td></tr>")
            continue
        cells = []
        for _, key, rate in _TREND_COLUMNS:
            value = getattr(m, key)
            shown = _pct(value, 2 if key == "conversions_per_view" else 1) if rate else f"{value:,}"
            cells.append(f"<td class=num>{shown}{_delta(t.deltas.get(key), rate=rate)}</td>")
        before = f"vs {escape(t.previous.label)}" if t.deltas else "nothing earlier to compare with"
        rows.append(
            f"<tr><td>{escape(t.current.label)}<br><span class='muted small'>{before}</span>"
            f"</td>{''.join(cells)}</tr>"
        )
    return f"<table><tr><th>span</th>{head}</tr>{''.join(rows)}</table>"


def _funnel_table(funnels: Sequence[Funnel]) -> str:
    if not funnels:
        return ""
    head = "".join(f"<th>{escape(f.label)}</th>" for f in funnels)
    rows = []
    for i, step in enumerate(funnels[0].steps):
        cells = []
        for f in funnels:
            s = f.steps[i]
            css = " weak" if f.weakest == s.from_episode else ""
            cells.append(
                f'<td class="num{css}">{_pct(s.rate, 0)} <span class="muted small">'
                f"{s.continued:,} of {s.viewers:,}</span></td>"
            )
        rows.append(
            f"<tr><td>{escape(step.from_episode)} → {escape(step.to_episode)}</td>"
            f"{''.join(cells)}</tr>"
        )
    sentences = "".join(f"<li>{escape(f.sentence)}</li>" for f in funnels)
    return (
        f"<table><tr><th>viewers of N who start N+1</th>{head}</tr>{''.join(rows)}</table>"
        f"<ul>{sentences}</ul>"
    )


def _overview(report: AnalystReport) -> str:
    rows = []
    for e in report.episodes:
        cliff = (
            f"{e.cliff.second} s · {escape(e.cliff.shot_id or '?')}"
            if e.cliff
            else "<span class=muted>none</span>"
        )
        findings = ", ".join(
            escape(FINDING_WORDS.get(f.kind, f.kind.replace("_", " "))) for f in e.findings
        ) or ("<span class=muted>—</span>")
        below = ", ".join(escape(s.component) for s in e.shortfalls) or (
            "<span class=muted>—</span>"
        )
        capped = (
            f"<br><span class='muted small'>the score alone: "
            f"{BAND_WORDS.get(e.score_band or '', e.score_band)}</span>"
            if e.band_capped_by
            else ""
        )
        rows.append(
            f"<tr><td><a href='#{escape(e.episode_id)}'>{escape(e.episode_id)}</a></td>"
            f"<td>{escape(e.title)}</td><td>{_band(e)}{capped}</td><td>{cliff}</td>"
            f"<td>{findings}</td><td>{below}</td></tr>"
        )
    return (
        f"<table><tr><th>episode</th><th>title</th><th>score · band</th><th>cliff</th>"
        f"<th>findings</th><th>below target</th></tr>{''.join(rows)}</table>"
    )


def _metrics_table(m: Metrics, e: EpisodeReport) -> str:
    rows = [
        ("impressions", f"{m.impressions:,}"),
        ("CTR", f"{_pct(m.ctr)} <span class=muted>(target {_pct(e.targets['ctr'])})</span>"),
        ("starters", f"{m.starts:,}"),
        ("retention 3 s / 8 s / 10 s", " / ".join(
            _pct(v, 0) for v in (m.retention_3s, m.retention_8s, m.retention_10s))),
        ("completion", f"{_pct(m.completion)} "
         f"<span class=muted>(target {_pct(e.targets['completion'])})</span>"),
        ("avg view", f"{m.avg_view_s:.1f} s"),
        ("comments, shares, saves / starter", _pct(m.engagement_per_view)),
    ]  # fmt: skip
    return (
        "<table>"
        + "".join(f"<tr><th>{k}</th><td class=num>{v}</td></tr>" for k, v in rows)
        + ("</table>")
    )


def _components_table(e: EpisodeReport) -> str:
    weak = {s.component for s in e.shortfalls}
    rows = "".join(
        f"<tr{' class=weak' if name in weak else ''}><th>{label}</th>"
        f"<td class=num>{getattr(e.components, name):.1f} / {points}</td>"
        f"<td class=muted>{escape(e.target_sources.get(key, ''))}</td></tr>"
        for name, label, points, key in _COMPONENTS
    )
    return f"<table><tr><th>component</th><th>points</th><th>target</th></tr>{rows}</table>"


def _cliff(e: EpisodeReport) -> str:
    if e.cliff is None:
        return (
            "<p><b>No cliff:</b> no second loses viewers clearly faster than the comparison "
            "curves do at that second (the opening's ordinary decay is not a cliff).</p>"
        )
    c = e.cliff
    shot = f" during shot <b>{escape(c.shot_id)}</b>" if c.shot_id else ""
    what = " — ".join(escape(x) for x in (c.caption, c.action) if x)
    return (
        f"<p><b>Cliff at {c.second} s</b>{shot}{': ' + what if what else ''}. "
        f"{c.drop_pct:.1f} points of starters lost ({c.retention_before:.0f}% → "
        f"{c.retention_after:.0f}%), {c.loss_per_s:.1f} points per second where "
        f"{escape(c.compared_with)} lose {c.cohort_loss_per_s or 0:.1f} at that second "
        f"({c.z:.1f} standard errors).</p>"
    )


def _variants(e: EpisodeReport, label: str) -> str:
    rows = "".join(
        f"<tr><td>{escape(v.variant_id)}</td><td class=num>{v.impressions:,}</td>"
        f"<td class=num>{_pct(v.ctr)}</td><td class=num>{_pct(v.retention_10s, 0)}</td>"
        f"<td class=num>{v.p_best_ctr:.0%}</td><td class=num>{v.p_best_retention:.0%}</td>"
        f"<td class=num>{_pct(v.impression_share, 0)} → {_pct(v.watch_time_share, 0)}</td>"
        f"<td class=num>{v.watch_s_per_impression:.2f} s</td></tr>"
        for v in e.variants
    )
    return (
        f"<h3>Variants <span class='muted small'>({escape(label)})</span></h3>"
        "<table><tr><th>variant</th><th>impr.</th><th>CTR</th><th>ret. 10 s</th>"
        "<th>P(best CTR)</th><th>P(best ret.)</th><th>impressions → watch time</th>"
        f"<th>watch / impr.</th></tr>{rows}</table><p>{escape(e.variant_verdict)}</p>"
    )


def _voice(e: EpisodeReport) -> str:
    if e.audience is None:
        return ""
    a = e.audience
    themes = "; ".join(f"{escape(t.label)} ({t.distinct_authors})" for t in a.themes)
    return (
        f"<h3>Audience</h3><p>{a.comments} comments from {a.distinct_authors} authors; "
        f"{a.questions} questions, {a.predictions} predictions — "
        f"{a.engaged_author_share:.0%} of commenters asked or guessed. Sentiment "
        f"{a.sentiment:+.2f}. Top themes: {themes or '—'}</p>"
        f"{_quotes(a.question_examples + a.prediction_examples)}"
    )


def _episode(e: EpisodeReport, charts: Mapping[str, bytes], label: str) -> str:
    cohort = ", ".join(e.cohort) if e.cohort else "benchmarks (fewer than 2 earlier episodes)"
    shortfalls = "".join(f"<li>{escape(s.sentence)}</li>" for s in e.shortfalls)
    findings = "".join(_finding(f) for f in e.findings) or "<p class=muted>No rule fired.</p>"
    money = e.monetisation
    money_html = f"<h3>Monetisation</h3><p>{escape(money.sentence)}</p>" if money else ""
    below = (
        f'<div class="note"><b>Below target</b><ul>{shortfalls}</ul></div>' if shortfalls else ""
    )
    return (
        f"<h2 id='{escape(e.episode_id)}'>{escape(e.episode_id)} · {escape(e.title)} "
        f"{_band(e)}</h2><p>{escape(e.band_reason)} "
        f"<span class=muted>Age {e.age_days} d · targets from {escape(cohort)}.</span></p>"
        f"{below}<h3>The {escape(label)}</h3>"
        f'<div class="grid">{_metrics_table(e.metrics, e)}{_components_table(e)}</div>'
        f"{_cliff(e)}{_img(charts.get(e.episode_id), 'retention of ' + e.episode_id)}"
        f"<h3>Diagnosis</h3>{findings}{money_html}"
        f"<h3>Trend</h3>{_trend_table(e.trends)}"
        f"{_variants(e, label)}{_voice(e)}"
    )


def _series(report: AnalystReport) -> str:
    findings = "".join(_finding(f) for f in report.findings) or (
        "<p class=muted>No series-wide finding.</p>"
    )
    funnel = _funnel_table(report.funnels) or (
        f"<p class=muted>No funnel: {escape(report.funnel_note)}.</p>"
    )
    notes = sorted({e.monetisation.paywall_note for e in report.episodes if e.monetisation})
    paywall = "".join(f"<p class=muted>{escape(n[:1].upper() + n[1:])}.</p>" for n in notes if n)
    return (
        f"<h2>The series</h2><h3>Trend</h3>{_trend_table(report.trends)}"
        f"<h3>Funnel</h3>{funnel}{paywall}<h3>Series-wide findings</h3>{findings}"
    )


def _comments(report: AnalystReport, theme_png: bytes | None) -> str:
    themes = "".join(
        f"<tr><td class=num>{t.rank_by_authors}</td><td class=num>{t.rank_by_volume}</td>"
        f"<td>{escape(t.label)}<br><span class=muted>{escape(', '.join(t.terms))}</span></td>"
        f"<td class=num>{t.comments}</td><td class=num>{t.distinct_authors}</td>"
        f"<td class=num>{t.likes}</td><td class=num>{t.sentiment:+.2f}</td></tr>"
        for t in report.themes
    )
    flags = "".join(
        f"<tr><td>{escape(f.kind)}</td><td>{escape(f.episode_id or '')}</td>"
        f"<td>{escape(f.detail)}</td></tr>"
        for f in report.flags
    )
    characters = "".join(
        f"<tr><td>{escape(c.name)}</td><td class=num>{c.comments}</td>"
        f"<td class=num>{c.distinct_authors}</td><td class=num>{c.sentiment:+.2f}</td></tr>"
        for c in report.characters
    )
    scope = report.comment_scope
    flags_html = "<h2>Flags</h2>" + (
        f"<table><tr><th>kind</th><th>episode</th><th>detail</th></tr>{flags}</table>"
        if flags
        else "<p class=muted>Nothing suspicious.</p>"
    )
    if scope.comments == 0:
        return (
            "<h2>Themes</h2>"
            f'<p class="muted">No comments were ingested for the {escape(report.window_label)}'
            ", so there are no themes, characters or quotes to read here. Ingest the "
            "platform's comment export for this window (<code>writers-room ingest "
            f"comments</code>) and review it again.</p>{flags_html}"
        )
    return (
        "<h2>Themes</h2>"
        f'<p class="muted">{scope.themed} of {scope.comments} comments in the '
        f"{escape(report.window_label)}{' (fitted on a fixed sample)' if scope.sampled else ''}; "
        "ranked by distinct authors so that a vocal few cannot outweigh everyone else.</p>"
        f"{_img(theme_png, 'themes')}"
        "<table><tr><th>by authors</th><th>by volume</th><th>theme</th><th>comments</th>"
        f"<th>authors</th><th>likes</th><th>sentiment</th></tr>{themes}</table>"
        "<h2>Characters</h2><table><tr><th>character</th><th>comments</th><th>authors</th>"
        f"<th>sentiment</th></tr>{characters}</table>{flags_html}"
    )


def render_html(
    report: AnalystReport,
    retention_pngs: Mapping[str, bytes],
    scorecard_png: bytes | None,
    theme_png: bytes | None,
) -> str:
    """The whole report as one HTML document."""
    segment = ""
    if report.segment:
        segment = " · segment " + ", ".join(f"{k}={v}" for k, v in report.segment.items())
    label = report.window_label or f"window ending {report.window_end}"
    return (
        "<!DOCTYPE html><html lang=en><head><meta charset=utf-8>"
        f"<title>{escape(report.title)} · {escape(label)}</title>"
        f"<style>{_CSS}</style></head><body>"
        f"<h1>{escape(report.title)} <span class=muted>({escape(report.series_id)})</span></h1>"
        f"<p>Window review: the {escape(label)}{escape(segment)}. Trends compare the last "
        "24 hours, 3 days and 7 days with the span before each.</p>"
        f"{_overview(report)}{_img(scorecard_png, 'scorecard')}{_series(report)}"
        + "".join(_episode(e, retention_pngs, label) for e in report.episodes)
        + _comments(report, theme_png)
        + _outcomes(report)
        + "</body></html>\n"
    )


def _outcomes(report: AnalystReport) -> str:
    """The published changes and whether they worked (nothing when none was published)."""
    if not report.outcomes:
        return ""
    rows = "".join(
        f"<tr><td>{escape(o.episode_id)}</td><td>{escape(o.proposal_id)} ({escape(o.kind)})"
        f"</td><td>{escape(o.label)}</td><td>{escape(o.summary)}</td></tr>"
        for o in report.outcomes
    )
    return (
        "<h2>Did the published changes work</h2>"
        f'<p class="muted">{escape(report.outcomes[0].method)}.</p>'
        "<table><tr><th>episode</th><th>change</th><th>verdict</th><th>what happened</th>"
        f"</tr>{rows}</table>"
    )
