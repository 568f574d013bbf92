"""``report.html``: one self-contained page (charts embedded as base64 PNG, inline CSS)."""

from __future__ import annotations

import base64
from collections.abc import Mapping
from html import escape

from writers_room.brief.report import AnalystReport, EpisodeReport, Finding

_CSS = """
body{font:14px/1.45 system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:2rem auto;
max-width:1080px;color:#111827;padding:0 1rem}
h1{font-size:1.5rem}h2{font-size:1.2rem;margin-top:2rem;border-bottom:1px solid #e5e7eb}
h3{font-size:1.05rem;margin-bottom:.3rem}
table{border-collapse:collapse;margin:.5rem 0;font-size:13px}
td,th{border:1px solid #e5e7eb;padding:.25rem .5rem;text-align:left;vertical-align:top}
th{background:#f8fafc}.num{text-align:right;font-variant-numeric:tabular-nums}
.band{padding:.1rem .45rem;border-radius:.3rem;color:#fff;font-size:12px}
.iterate_hook{background:#b91c1c}.adjust_pacing{background:#b45309}
.double_down{background:#15803d}.muted{color:#6b7280}.finding{margin:.6rem 0;
padding:.5rem .8rem;border-left:4px solid #2563eb;background:#f8fafc}
blockquote{margin:.2rem 0 .2rem 1rem;color:#374151;font-style:italic}
img{max-width:100%;border:1px solid #e5e7eb}
"""


def _img(png: bytes | None, alt: str) -> str:
    if not png:
        return ""
    data = base64.b64encode(png).decode("ascii")
    return f'<img alt="{escape(alt)}" src="data:image/png;base64,{data}">'


def _pct(value: float) -> str:
    return f"{value:.1%}"


def _finding(f: Finding) -> str:
    evidence = ", ".join(f"{escape(k)} {v:.4g}" for k, v in sorted(f.evidence.items()))
    quotes = "".join(
        f"<blockquote>“{escape(q.text)}” <span class=muted>({escape(q.comment_id)}, "
        f"{q.likes} likes)</span></blockquote>"
        for q in f.quotes
    )
    return (
        f'<div class="finding"><b>{escape(f.kind)}</b> — {escape(f.problem)}<br>'
        f"{escape(f.summary)}<br><b>Change:</b> {escape(f.proposal)}<br>"
        f'<span class="muted">Evidence ({escape(f.baseline)}): {evidence}</span>{quotes}</div>'
    )


def _episode(e: EpisodeReport, charts: Mapping[str, bytes]) -> str:
    m = e.metrics
    rows = [
        ("impressions", f"{m.impressions:,}"),
        ("CTR", f"{_pct(m.ctr)} (target {_pct(e.targets['ctr'])})"),
        ("starts", f"{m.starts:,}"),
        ("retention 3 s / 10 s", f"{_pct(m.retention_3s)} / {_pct(m.retention_10s)}"),
        ("completion", f"{_pct(m.completion)} (target {_pct(e.targets['completion'])})"),
        ("avg view", f"{m.avg_view_s:.1f} s"),
        ("engagement / view", _pct(m.engagement_per_view)),
        ("conversions / view", f"{m.conversions_per_view:.2%} (${m.revenue_per_view:.3f}/view)"),
    ]
    metric_table = "".join(f"<tr><th>{k}</th><td class=num>{v}</td></tr>" for k, v in rows)
    comp = e.components
    comp_rows = "".join(
        f"<tr><th>{name}</th><td class=num>{getattr(comp, name):.1f}</td></tr>"
        for name in ("retention_10s", "ctr", "completion", "engagement", "commercial")
    )
    cliff = ""
    if e.cliff is not None:
        c = e.cliff
        cliff = (
            f"<p><b>Cliff</b> at {c.second} s: −{c.drop_pct:.1f} points over 3 s "
            f"({c.loss_per_s:.1f} pp/s) during shot <b>{escape(c.shot_id or '?')}</b> "
            f"{escape(c.caption)} — <i>{escape(c.action)}</i></p>"
        )
    variants = "".join(
        f"<tr><td>{escape(v.variant_id)}</td><td class=num>{v.impressions:,}</td>"
        f"<td class=num>{_pct(v.ctr)}</td><td class=num>{_pct(v.retention_10s)}</td>"
        f"<td class=num>{v.p_best_ctr:.1%}</td><td class=num>{v.p_best_retention:.1%}</td>"
        f"<td class=num>{v.watch_time_share:.1%}</td></tr>"
        for v in e.variants
    )
    findings = "".join(_finding(f) for f in e.findings) or "<p class=muted>No rule fired.</p>"
    voice = ""
    if e.audience is not None:
        a = e.audience
        themes = "; ".join(f"{escape(t.label)} ({t.distinct_authors})" for t in a.themes)
        asks = "".join(
            f"<blockquote>“{escape(q.text)}” <span class=muted>({q.likes} likes)</span>"
            "</blockquote>"
            for q in a.question_examples + a.prediction_examples
        )
        voice = (
            f"<h3>Audience</h3><p>{a.comments} comments from {a.distinct_authors} authors; "
            f"{a.questions} questions, {a.predictions} predictions — "
            f"{a.engaged_author_share:.0%} of commenters asked or guessed. Sentiment "
            f"{a.sentiment:+.2f}. Top themes: {themes or '—'}</p>{asks}"
        )
    cohort = ", ".join(e.cohort) if e.cohort else "benchmarks (fewer than 2 earlier episodes)"
    return (
        f"<h2>{escape(e.episode_id)} · {escape(e.title)} "
        f'<span class="band {e.band}">{e.score:.1f} · {e.band}</span></h2>'
        f'<p class="muted">Age {e.age_days} d · targets from {escape(cohort)}</p>'
        f"<table><tr><td>{''.join(['<table>', metric_table, '</table>'])}</td>"
        f"<td><table>{comp_rows}</table></td></tr></table>{cliff}"
        f"{_img(charts.get(e.episode_id), 'retention of ' + e.episode_id)}"
        f"<h3>Diagnosis</h3>{findings}{voice}"
        f"<h3>Variants</h3><table><tr><th>variant</th><th>impr.</th><th>CTR</th>"
        f"<th>ret. 10 s</th><th>P(best CTR)</th><th>P(best ret.)</th><th>watch share</th></tr>"
        f"{variants}</table><p>{escape(e.variant_verdict)}</p>"
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
    return (
        "<!DOCTYPE html><html lang=en><head><meta charset=utf-8>"
        f"<title>{escape(report.title)} · window ending {escape(report.window_end)}</title>"
        f"<style>{_CSS}</style></head><body>"
        f"<h1>{escape(report.title)} <span class=muted>({escape(report.series_id)})</span></h1>"
        f"<p>Window {escape(report.window_start)} → {escape(report.window_end)}"
        f"{escape(segment)}</p>"
        f"{_img(scorecard_png, 'scorecard')}"
        + "".join(_episode(e, retention_pngs) for e in report.episodes)
        + "<h2>Themes</h2>"
        f'<p class="muted">{scope.themed} of {scope.comments} comments in the window'
        f"{' (fitted on a fixed sample)' if scope.sampled else ''}; ranked by distinct "
        "authors so that a vocal few cannot outweigh everyone else.</p>"
        f"{_img(theme_png, 'themes')}"
        "<table><tr><th>by authors</th><th>by volume</th><th>theme</th><th>comments</th>"
        f"<th>authors</th><th>likes</th><th>sentiment</th></tr>{themes}</table>"
        "<h2>Characters</h2><table><tr><th>character</th><th>comments</th><th>authors</th>"
        f"<th>sentiment</th></tr>{characters}</table>"
        "<h2>Flags</h2>"
        + (
            f"<table><tr><th>kind</th><th>episode</th><th>detail</th></tr>{flags}</table>"
            if flags
            else "<p class=muted>Nothing suspicious.</p>"
        )
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
