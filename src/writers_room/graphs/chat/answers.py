"""What the chat graph reads and how it words answers (Slack mrkdwn, fine as plain text).

Chat must answer in well under a second, so it reads the analyst's newest saved
``report.json`` (parsed once per file version) instead of recomputing the review.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from sqlmodel import col, select

from writers_room.analyst.window import report_dir
from writers_room.brief.report import BAND_WORDS, AnalystReport
from writers_room.config import Settings
from writers_room.graphs.chat.quotes import Flagged, Quoted, visible, window_bounds
from writers_room.index.chroma import CommentIndex
from writers_room.store.db import session_scope
from writers_room.store.models import Episode, Proposal, RenderJob, Series, Variant

__all__ = [
    "episode_list",
    "flag_summary",
    "flood_themes",
    "pending_for_ranking",
    "variant_kinds",
    "escape",
    "format_brief",
    "format_episode",
    "format_proposal",
    "format_renders",
    "format_series",
    "latest_report",
    "nearby_comments",
    "pct",
    "quote_text",
    "report_folder",
    "series_ids",
    "short_hash",
    "window_folder",
]

QUOTES = 3
# Nearest comments fetched without a filter before keeping the episode's (see nearby_comments):
# first WIDE_K, then WIDER_K when too few of those are the episode's in the window.
WIDE_K = 256
WIDER_K = 1024
# Nearby comments that make a section without asking the index again.
ENOUGH = 2

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
    settings: Settings,
    report: dict[str, Any],
    episode_id: str | None,
    question: str,
    flagged: Flagged,
    k: int = QUOTES,
) -> list[Quoted]:
    """The episode's comments of the report's window nearest to ``question``, none flagged.

    Chroma answers an unfiltered query in milliseconds but a metadata-filtered one in
    hundreds (it narrows by metadata first) at 200k comments. So the room asks for the
    :data:`WIDE_K` nearest comments overall and keeps the episode's of the window: those
    *are* the episode's nearest, and :data:`ENOUGH` of them make the section. Else it asks
    for :data:`WIDER_K` (still unfiltered, three to four times the cost of the first); only
    when that is not enough either (an episode with few comments) does it run the
    filtered query (series, episode, window).
    """

    series_id = report["series_id"]
    index = CommentIndex(settings)
    vector = index.embed(question)
    found: list[Quoted] = []
    for wide_k in (WIDE_K, WIDER_K):
        wide = [cid for cid, _ in index.nearest(vector, k=wide_k)]
        found = visible(
            settings, flagged, wide, series_id=series_id, report=report, episode_id=episode_id
        )
        if len(found) >= min(k, ENOUGH):
            return found[:k]
    if len(found) < k:
        start, end = window_bounds(report)
        clauses: list[dict[str, Any]] = [
            {"series_id": series_id},
            {"ts": {"$gte": int(start.timestamp())}},
            {"ts": {"$lt": int(end.timestamp())}},
        ]
        if episode_id:
            clauses.append({"episode_id": episode_id})
        # A few more than k: flagged ones are dropped after the query.
        narrow = [cid for cid, _ in index.nearest(vector, k=k + 5, where={"$and": clauses})]
        found = visible(
            settings, flagged, narrow, series_id=series_id, report=report, episode_id=episode_id
        )
    return found[:k]


def escape(text: str) -> str:
    """Escape Slack's control characters so stored text stays text (``<!channel>`` …)."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def quote_text(text: str, limit: int = 160) -> str:
    """Untrusted or stored text, on one line, clipped and escaped for Slack."""
    text = " ".join(str(text).split())
    return escape(text if len(text) <= limit else text[: limit - 1] + "…")


_quote = quote_text


def format_episode(
    report: dict[str, Any],
    episode: dict[str, Any],
    nearby: list[Quoted],
    *,
    flagged: Flagged | None = None,
) -> str:
    """Explain one episode's numbers: scorecard, band, cliff and shot, findings, voices.

    Args:
        nearby: comments near the question, already checked (``quotes.visible``).
        flagged: the report's flags. The analyst quotes no flagged comment; chat checks
            its quotes, theme labels and example ids against the flags all the same.
    """
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
    lines.extend(_finding_lines(episode, flagged))
    lines.extend(_audience_lines(report, episode, flagged))
    if nearby:
        lines.append("*Comments of the window closest to your question:*")
        for q in nearby:
            lines.append(f"> “{_quote(q.text)}” (`{q.comment_id}`, {q.likes} likes)")
    if episode.get("variant_verdict"):
        lines.append(f"*Variants:* {episode['variant_verdict']}")
    return "\n".join(lines)


def _hidden(quote: dict[str, Any], flagged: Flagged | None) -> bool:
    """A report quote chat must not show (by id or text; the analyst already left out
    floods, so no author is needed)."""
    return flagged is not None and (
        quote["comment_id"] in flagged.ids or flagged.hides_text(quote["text"])
    )


def _finding_lines(episode: dict[str, Any], flagged: Flagged | None) -> list[str]:
    findings = episode.get("findings", [])
    if not findings:
        return ["*Findings:* none — no diagnosis rule fired for this window."]
    lines = ["*Findings:*"]
    for f in findings:
        lines.append(f"• `{f['kind']}` {f.get('summary') or f.get('problem', '')}")
        if f.get("proposal"):
            lines.append(f"   ↳ method says: {f['proposal']}")
        for q in [q for q in f.get("quotes", []) if not _hidden(q, flagged)][:QUOTES]:
            lines.append(f"   > “{_quote(q['text'])}” (`{q['comment_id']}`, {q['likes']} likes)")
    return lines


def _audience_lines(
    report: dict[str, Any], episode: dict[str, Any], flagged: Flagged | None
) -> list[str]:
    """The episode's top themes (not a flood's) and its viewers' questions."""
    lines: list[str] = []
    audience = episode.get("audience") or {}
    flood = flood_themes(report)
    themes = [t for t in audience.get("themes", []) if t.get("theme_id") not in flood]
    if themes:
        lines.append("*What viewers talk about:*")
        examples = _theme_examples(report)
        for theme in themes[:QUOTES]:
            ids = [
                i
                for i in examples.get(theme.get("theme_id"), [])
                if flagged is None or i not in flagged.ids
            ]
            ref = f" (e.g. {', '.join(f'`{i}`' for i in ids[:2])})" if ids else ""
            lines.append(
                f"• {_label(theme['label'], flagged)} — {theme['comments']} comments from "
                f"{theme['distinct_authors']} viewers{ref}"
            )
    questions = [q for q in audience.get("question_examples", []) if not _hidden(q, flagged)]
    for q in questions[:2]:
        lines.append(f"   > “{_quote(q['text'])}” (`{q['comment_id']}`, {q['likes']} likes)")
    return lines


def _label(label: str, flagged: Flagged | None) -> str:
    """A theme's label (a comment's text) unless it reads like a flagged comment."""
    if flagged is not None and flagged.hides_text(label):
        return "(a theme whose label was flagged)"
    return f"“{_quote(label, 100)}”"


def flood_themes(report: Mapping[str, Any]) -> set[int]:
    """Ids of the themes that are mostly flagged comments (a flood's own cluster): chat
    shows neither their label nor their key terms."""
    return {
        t["theme_id"]
        for t in report.get("themes", [])
        if 2 * t.get("flagged_comments", 0) >= max(1, t.get("comments", 0))
    }


def _theme_examples(report: dict[str, Any]) -> dict[int, list[str]]:
    return {t["theme_id"]: list(t.get("examples", [])) for t in report.get("themes", [])}


def format_series(report: dict[str, Any], flagged: Flagged | None = None) -> str:
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
    flood = flood_themes(report)
    themes = [t for t in report.get("themes", []) if t["theme_id"] not in flood][:QUOTES]
    if themes:
        lines.append("*Top themes (by distinct viewers):*")
        for t in themes:
            ids = ", ".join(f"`{i}`" for i in t.get("examples", [])[:2])
            lines.append(
                f"• {_label(t['label'], flagged)} — {t['distinct_authors']} viewers, "
                f"{t['comments']} comments ({ids})"
            )
    flags = report.get("flags", [])
    if flags:
        lines.append(f"*Flags:* {len(flags)} — " + "; ".join(flag_summary(f) for f in flags[:3]))
    return "\n".join(lines)


def flag_summary(flag: dict[str, Any]) -> str:
    """A flag in a few words, without the flagged comments' text (a burst's detail quotes
    it; chat never shows a flagged comment)."""
    ev = flag.get("evidence", {})
    where = f" on {flag['episode_id']}" if flag.get("episode_id") else ""
    n = int(ev.get("comments", len(flag.get("comment_ids", []))))
    if flag["kind"] == "duplicate_burst":
        return f"spam{where}: {n} identical comments from {int(ev.get('authors', 0))} account(s)"
    if flag["kind"] == "author_flood":
        return f"flood{where}: one viewer posted {n} comments ({ev.get('share', 0.0):.0%})"
    if flag["kind"] == "prompt_injection":
        return f"prompt injection{where}: {n} comment(s) addressing the AI"
    return f"{flag['kind']}{where}: {_quote(flag.get('detail', ''), 80)}"


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


def variant_kinds(
    settings: Settings, series_id: str, episode_id: str
) -> dict[str, tuple[str, str]]:
    """variant_id → (kind, description) of an episode's registered variants."""
    with session_scope(settings) as session:
        rows = session.exec(
            select(Variant).where(Variant.series_id == series_id, Variant.episode_id == episode_id)
        )
        return {v.variant_id: (v.kind, v.description) for v in rows}


def pending_for_ranking(settings: Settings, series: list[str]) -> list[dict[str, Any]]:
    """The pending proposals of ``series``, with the diagnosis kinds each addresses."""
    with session_scope(settings) as session:
        rows = session.exec(
            select(Proposal)
            .where(col(Proposal.series_id).in_(series), Proposal.status == "pending")
            .order_by(col(Proposal.created_at), col(Proposal.proposal_id))
        )
        return [
            {
                "proposal_id": p.proposal_id,
                "series_id": p.series_id,
                "episode_id": p.episode_id,
                "kind": p.kind,
                "summary": p.summary,
                "findings": [str(k) for k in p.evidence.get("findings", []) or []],
            }
            for p in rows
        ]
