"""What worked last time: the measured outcomes of published changes, for chat.

"What worked last time we had a hook problem?" is answered from the ``Outcome`` rows the
window reviews store (``analyst.outcomes``): the changes of the kinds that treat that
problem, newest first, each with its effect on the targeted metric, its 90 % interval and
its verdict.
"""

from __future__ import annotations

import re
from typing import Any

from sqlmodel import col, select

from writers_room.analyst.outcomes import METRIC_LABEL
from writers_room.config import Settings
from writers_room.store.db import session_scope
from writers_room.store.models import Outcome

__all__ = ["PROBLEMS", "format_lessons", "lessons", "problem_named"]

# A problem as writers name it → the proposal kinds that treat it.
PROBLEMS: dict[str, tuple[str, ...]] = {
    "hook": ("hook_rewrite", "promote_variant"),
    "pacing": ("pacing_cut",),
    "packaging": ("packaging",),
    "participation": ("participation",),
    "resonance": ("sequel",),
}
_WORDS = (
    ("hook", r"hook|opening|first seconds|cold open|swipe"),
    ("pacing", r"pacing|pace|slow|cliff|exposition|drop"),
    ("packaging", r"packaging|thumbnail|title|headline|click"),
    ("participation", r"participation|comments?|engagement|question"),
    ("resonance", r"resonan\w*|sequel|stinger|shares?|saves?"),
)


def problem_named(text: str) -> str | None:
    """The problem a question names ("hook problem" → ``hook``), if any."""
    for problem, pattern in _WORDS:
        if re.search(rf"\b(?:{pattern})\b", text, re.IGNORECASE):
            return problem
    return None


def lessons(
    settings: Settings, series_id: str | None, problem: str | None, *, limit: int = 5
) -> list[Outcome]:
    """The newest measured outcome of each published change, newest first."""
    with session_scope(settings) as session:
        query = select(Outcome).order_by(
            col(Outcome.published_at).desc(), col(Outcome.window_end).desc()
        )
        if series_id is not None:
            query = query.where(Outcome.series_id == series_id)
        if problem is not None:
            query = query.where(col(Outcome.kind).in_(PROBLEMS[problem]))
        rows = session.exec(query).all()
        newest: dict[str, Outcome] = {}
        for row in rows:
            kept = newest.get(row.proposal_id)
            if kept is None or row.window_end > kept.window_end:
                newest[row.proposal_id] = row
        for row in newest.values():
            session.expunge(row)
    return list(newest.values())[:limit]


def _effect(row: Outcome) -> str:
    metric = METRIC_LABEL.get(row.metric, row.metric.replace("_", " "))
    if row.effect is None:
        return f"{metric}: {row.verdict.replace('_', ' ')}"
    scale, unit = (
        (100.0, " pp") if row.metric != "shares_saves_per_view" else (100.0, " per 100 views")
    )
    interval = (
        f" (90 % interval {row.ci_low * scale:+.1f} to {row.ci_high * scale:+.1f})"
        if row.ci_low is not None and row.ci_high is not None
        else ""
    )
    return f"{metric} {row.effect * scale:+.1f}{unit}{interval} — {row.verdict.replace('_', ' ')}"


def format_lessons(rows: list[Outcome], problem: str | None, series_id: str | None) -> str:
    """The answer in words: each change, when it went live, what it did."""
    about = f"a {problem} problem" if problem else "a problem"
    where = f" in `{series_id}`" if series_id else ""
    if not rows:
        return (
            f"No published change for {about}{where} has a measured outcome yet: "
            "`writers-room publish RENDER_ID --variant VID` starts the measurement, and the "
            "next window's review reports it."
        )
    improved = sum(1 for r in rows if r.verdict == "improved")
    lines = [
        f"*What worked last time for {about}{where}* — {len(rows)} published change(s), "
        f"{improved} improved (difference in differences against the cohort):"
    ]
    for row in rows:
        lines.append(
            f"• `{row.proposal_id}` {row.series_id}/{row.episode_id} {row.kind.replace('_', ' ')}"
            f", live {row.published_at:%Y-%m-%d} on `{row.variant_id}`: {_effect(row)}"
            f" (window to {row.window_end:%Y-%m-%d %H:%M} UTC)"
        )
    return "\n".join(lines)


def answer(settings: Settings, text: str, series_id: str | None) -> dict[str, Any]:
    """What the chat node needs: the text of the answer."""
    problem = problem_named(text)
    return {"text": format_lessons(lessons(settings, series_id, problem), problem, series_id)}
