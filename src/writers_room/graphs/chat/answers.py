"""What the chat graph reads and how it words answers (Slack mrkdwn, fine as plain text).

Chat must answer in well under a second, so it reads the analyst's newest saved
``report.json`` (parsed once per file version) instead of recomputing the review.
"""

from __future__ import annotations

import json
import threading
from pathlib import Path
from typing import Any

from sqlmodel import col, select

from writers_room.analyst.window import report_dir
from writers_room.brief.report import AnalystReport
from writers_room.config import Settings
from writers_room.index.chroma import CommentIndex
from writers_room.store.db import session_scope
from writers_room.store.models import Comment, Episode, RenderJob, Series

__all__ = [
    "episode_list",
    "escape",
    "format_brief",
    "format_episode",
    "format_proposal",
    "format_renders",
    "format_series",
    "latest_report",
    "nearby_comments",
    "pct",
    "report_folder",
    "series_ids",
    "short_hash",
    "window_folder",
]

BAND_WORDS = {
    "iterate_hook": "iterate the hook",
    "adjust_pacing": "adjust the pacing",
    "double_down": "double down",
}
QUOTES = 3
# Nearest comments fetched without a filter before keeping the episode's (see nearby_comments).
WIDE_K = 256

_cache_lock = threading.Lock()
_report_cache: dict[Path, tuple[float, dict[str, Any]]] = {}


def pct(value: float | None, digits: int = 1) -> str:
    """A fraction as a percent string (``0.375`` → ``37.5%``)."""
    return "—" if value is None else f"{value * 100:.{digits}f}%"


def series_ids(settings: Settings) -> list[str]:
    """Every registered series id, sorted."""
    with session_scope(settings) as session:
        return list(session.exec(select(Series.series_id).order_by(col(Series.series_id))))


def episode_list(settings: Settings, series_id: str) -> list[tuple[str, int, str]]:
    """(episode_id, position, title) of a series, in order."""
    with session_scope(settings) as session:
        rows = session.exec(
            select(Episode).where(Episode.series_id == series_id).order_by(col(Episode.position))
        )
        return [(e.episode_id, e.position, e.title) for e in rows]


def window_folder(settings: Settings, series_id: str, window_end: str) -> Path:
    """Where the analyst wrote the report of one window (``report_dir``'s naming)."""

    # report_dir reads only these three fields of the report.
    fields: dict[str, Any] = {"series_id": series_id, "window_end": window_end, "segment": None}
    return report_dir(settings, AnalystReport.model_construct(**fields))


def report_folder(settings: Settings, series_id: str) -> Path:
    """The folder holding one sub-folder per reviewed window of a series."""
    return window_folder(settings, series_id, "x").parent


def latest_report(settings: Settings, series_id: str) -> tuple[dict[str, Any], Path] | None:
    """The newest saved ``report.json`` of a series and its folder, or ``None``.

    Window folders are named by their ISO end time, so the newest sorts last; segment
    reports live one level deeper and are not considered.
    """
    folder = report_folder(settings, series_id)
    if not folder.is_dir():
        return None
    candidates = sorted(p for p in folder.glob("*/report.json") if p.is_file())
    if not candidates:
        return None
    path = candidates[-1]
    mtime = path.stat().st_mtime
    with _cache_lock:
        hit = _report_cache.get(path)
        if hit is not None and hit[0] == mtime:
            return hit[1], path.parent
    data = json.loads(path.read_text(encoding="utf-8"))
    with _cache_lock:
        _report_cache[path] = (mtime, data)
    return data, path.parent


def nearby_comments(
    settings: Settings, series_id: str, episode_id: str | None, question: str, k: int = QUOTES
) -> list[tuple[str, str, int]]:
    """(comment_id, text, likes) of the episode's comments nearest to ``question``.

    Chroma answers an unfiltered query in milliseconds but a metadata-filtered one in
    hundreds (it narrows by metadata first) at 200k comments. So the room asks for the
    :data:`WIDE_K` nearest comments overall and keeps the episode's: when at least ``k``
    of them are there, they *are* the episode's ``k`` nearest. Only otherwise (an episode
    with few comments) does it run the filtered query.
    """

    index = CommentIndex(settings)
    wide = [cid for cid, _ in index.query(question, k=WIDE_K)]
    found = _comments_of(settings, wide, series_id, episode_id)
    if len(found) < k:
        clauses: list[dict[str, Any]] = [{"series_id": series_id}]
        if episode_id:
            clauses.append({"episode_id": episode_id})
        where = clauses[0] if len(clauses) == 1 else {"$and": clauses}
        narrow = [cid for cid, _ in index.query(question, k=k, where=where)]
        found = _comments_of(settings, narrow, series_id, episode_id)
    return found[:k]


def _comments_of(
    settings: Settings, ids: list[str], series_id: str, episode_id: str | None
) -> list[tuple[str, str, int]]:
    """The rows of ``ids`` that belong to the series (and episode), in ``ids`` order."""
    if not ids:
        return []
    with session_scope(settings) as session:
        query = select(Comment).where(
            col(Comment.comment_id).in_(ids), Comment.series_id == series_id
        )
        if episode_id:
            query = query.where(Comment.episode_id == episode_id)
        rows = {c.comment_id: c for c in session.exec(query)}
    return [(cid, rows[cid].text, rows[cid].likes) for cid in ids if cid in rows]


def escape(text: str) -> str:
    """Escape Slack's control characters so stored text stays text (``<!channel>`` …)."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _quote(text: str, limit: int = 160) -> str:
    """Untrusted or stored text, on one line, clipped and escaped for Slack."""
    text = " ".join(str(text).split())
    return escape(text if len(text) <= limit else text[: limit - 1] + "…")


def format_episode(
    report: dict[str, Any], episode: dict[str, Any], nearby: list[tuple[str, str, int]]
) -> str:
    """Explain one episode's numbers: scorecard, band, cliff and shot, findings, voices."""
    m = episode["metrics"]
    t = episode.get("targets", {})
    c = episode["components"]
    lines = [
        f"*{_quote(report.get('title', report['series_id']), 100)} · {episode['episode_id']} "
        f"“{_quote(episode.get('title', ''), 100)}”* — window {report['window_start']} → "
        f"{report['window_end']}",
        f"*Score {episode['score']:.1f}/100 → {episode['band']}* "
        f"({BAND_WORDS.get(episode['band'], episode['band'])}): "
        f"10-s retention {c['retention_10s']:.1f}/30 · CTR {c['ctr']:.1f}/20 · "
        f"completion {c['completion']:.1f}/20 · engagement {c['engagement']:.1f}/15 · "
        f"commercial {c['commercial']:.1f}/15",
        f"10-s retention {pct(m.get('retention_10s'))} (target {pct(t.get('retention_10s'))}) · "
        f"CTR {pct(m.get('ctr'), 2)} (target {pct(t.get('ctr'), 2)}) · "
        f"completion {pct(m.get('completion'))} (target {pct(t.get('completion'))}) · "
        f"{m.get('starts', 0)} starts from {m.get('impressions', 0)} impressions",
    ]
    cliff = episode.get("cliff")
    if cliff:
        shot = cliff.get("shot_id") or "?"
        span = ""
        if cliff.get("shot_start_s") is not None and cliff.get("shot_end_s") is not None:
            span = f" ({cliff['shot_start_s']:g}–{cliff['shot_end_s']:g} s)"
        what = cliff.get("action") or cliff.get("caption") or ""
        cohort = cliff.get("cohort_loss_per_s")
        cohort_txt = f"; the cohort loses {cohort:.1f} pp/s there" if cohort is not None else ""
        lines.append(
            f"*Biggest drop:* second {cliff['second']}, −{cliff['drop_pct']:.1f} pp of starters"
            f"{cohort_txt} — shot `{shot}`{span}" + (f": _{_quote(what, 120)}_" if what else "")
        )
    findings = episode.get("findings", [])
    if findings:
        lines.append("*Findings:*")
        for f in findings:
            lines.append(f"• `{f['kind']}` {f.get('summary') or f.get('problem', '')}")
            if f.get("proposal"):
                lines.append(f"   ↳ method says: {f['proposal']}")
            for q in f.get("quotes", [])[:QUOTES]:
                lines.append(
                    f"   > “{_quote(q['text'])}” (`{q['comment_id']}`, {q['likes']} likes)"
                )
    else:
        lines.append("*Findings:* none — no diagnosis rule fired for this window.")
    audience = episode.get("audience") or {}
    themes = audience.get("themes", [])
    if themes:
        lines.append("*What viewers talk about:*")
        examples = _theme_examples(report)
        for theme in themes[:QUOTES]:
            ids = examples.get(theme.get("theme_id"), [])
            ref = f" (e.g. {', '.join(f'`{i}`' for i in ids[:2])})" if ids else ""
            lines.append(
                f"• “{_quote(theme['label'], 100)}” — {theme['comments']} comments from "
                f"{theme['distinct_authors']} viewers{ref}"
            )
    questions = audience.get("question_examples", [])[:2]
    for q in questions:
        lines.append(f"   > “{_quote(q['text'])}” (`{q['comment_id']}`, {q['likes']} likes)")
    if nearby:
        lines.append("*Comments closest to your question:*")
        for cid, text, likes in nearby:
            lines.append(f"> “{_quote(text)}” (`{cid}`, {likes} likes)")
    if episode.get("variant_verdict"):
        lines.append(f"*Variants:* {episode['variant_verdict']}")
    return "\n".join(lines)


def _theme_examples(report: dict[str, Any]) -> dict[int, list[str]]:
    return {t["theme_id"]: list(t.get("examples", [])) for t in report.get("themes", [])}


def format_series(report: dict[str, Any]) -> str:
    """A whole window at a glance: each episode's score and band, top themes, flags."""
    lines = [
        f"*{_quote(report.get('title', report['series_id']), 100)}* — window "
        f"{report['window_start']} → "
        f"{report['window_end']}"
    ]
    for e in report.get("episodes", []):
        cliff = e.get("cliff")
        cliff_txt = (
            f", cliff {cliff['second']} s in `{cliff.get('shot_id') or '?'}`" if cliff else ""
        )
        kinds = ", ".join(f["kind"] for f in e.get("findings", [])) or "no findings"
        lines.append(
            f"• {e['episode_id']} “{_quote(e.get('title', ''), 100)}”: *{e['score']:.1f}* "
            f"{e['band']} "
            f"({kinds}{cliff_txt})"
        )
    themes = report.get("themes", [])[:QUOTES]
    if themes:
        lines.append("*Top themes (by distinct viewers):*")
        for t in themes:
            ids = ", ".join(f"`{i}`" for i in t.get("examples", [])[:2])
            lines.append(
                f"• “{_quote(t['label'], 100)}” — {t['distinct_authors']} viewers, "
                f"{t['comments']} comments ({ids})"
            )
    flags = report.get("flags", [])
    if flags:
        lines.append(
            f"*Flags:* {len(flags)} — " + "; ".join(_quote(f["detail"], 80) for f in flags[:3])
        )
    return "\n".join(lines)


def format_brief(
    series_id: str,
    episode_id: str,
    title: str,
    version: int,
    brief: dict[str, Any],
    manifest: dict[str, Any],
) -> str:
    """The brief in force (and its shot list) for an episode."""
    lines = [f"*{series_id} · {episode_id} “{_quote(title, 100)}” — brief v{version}*"]
    for key in ("premise", "hook", "twist", "payoff"):
        if brief.get(key):
            lines.append(f"*{key.capitalize()}:* {_quote(brief[key], 1000)}")
    beats = brief.get("beats") or []
    if beats:
        lines.append("*Beats:* " + " → ".join(_quote(b, 200) for b in beats))
    shots = manifest.get("shots") or []
    if shots:
        lines.append(f"*Shots ({len(shots)}):*")
        for s in shots:
            what = s.get("caption") or s.get("action") or ""
            lines.append(
                f"• `{s['shot_id']}` {s['start_s']:g}–{s['start_s'] + s['duration_s']:g} s"
                + (f": {_quote(str(what), 100)}" if what else "")
            )
    return "\n".join(lines)


def format_proposal(p: dict[str, Any]) -> str:
    """One proposal as text: summary, field changes, evidence, id and status."""
    lines = [
        f"*{p['proposal_id']}* ({p['kind']}, {p['episode_id']}, {p['status']}): "
        f"{_quote(p['summary'], 600)}"
    ]
    for ch in p.get("changes", []):
        lines.append(f"   `{ch['path']}`: {_value(ch.get('before'))} → *{_value(ch.get('after'))}*")
    ev = p.get("evidence", {})
    if ev.get("target"):
        lines.append(f"   targets {_quote(ev['target'], 200)}")
    if ev.get("comment_ids"):
        lines.append("   comments: " + ", ".join(f"`{c}`" for c in ev["comment_ids"][:5]))
    return "\n".join(lines)


def short_hash(content_hash: str) -> str:
    """The first 12 hex digits of a content hash: what a person compares and types."""
    return content_hash[:12]


def _value(value: Any) -> str:
    if isinstance(value, str):
        return f"“{_quote(value, 200)}”"
    return escape(json.dumps(value, ensure_ascii=False))


def format_renders(settings: Settings, series_id: str, episode_id: str | None) -> str:
    """The newest render jobs of a series (or one episode)."""
    with session_scope(settings) as session:
        query = select(RenderJob).where(RenderJob.series_id == series_id)
        if episode_id:
            query = query.where(RenderJob.episode_id == episode_id)
        jobs = list(session.exec(query.order_by(col(RenderJob.created_at).desc()).limit(5)))
    scope = f"{series_id}/{episode_id}" if episode_id else series_id
    if not jobs:
        return f"No render jobs for {scope} yet. Approved proposals queue one."
    lines = [f"*Renders of {scope}* (newest first):"]
    for j in jobs:
        kind = "preview" if j.preview else "full"
        where = ""
        if j.status == "done":
            out = j.artifacts.get("hls_master") or j.artifacts.get("episode") or ""
            where = f" → `{out}`" if out else ""
        elif j.status == "failed" and j.error:
            where = f" — {_quote(j.error, 120)}"
        lines.append(
            f"• `{j.render_id}` {j.episode_id} v{j.brief_version} {kind}: *{j.status}*{where}"
        )
    return "\n".join(lines)
