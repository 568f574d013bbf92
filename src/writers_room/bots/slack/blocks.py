"""Block Kit for the room's Slack messages: the review summary, and what every message shares.

Pure functions from contract dicts (``report.json``, ``proposals --json``) to Slack
payloads; nothing here talks to Slack or the database. Here: Slack's limits, escaping and
mentions, the section/context/plain-text builders, long mrkdwn packed into text objects
(runs of ~struck~ and *bold* text split cleanly), the window review's summary and the
escalation message. Proposal cards and their continuation messages are in
:mod:`writers_room.bots.slack.cards`, the edit and reject forms in
:mod:`writers_room.bots.slack.modals`.
"""

from __future__ import annotations

import re
from typing import Any

from writers_room.analyst.outcomes import METRIC_LABEL
from writers_room.bots.slack.actions import PUBLISH_RENDER
from writers_room.brief.report import FINDING_WORDS

__all__ = [
    "render_ready_blocks",
    "outcome_text",
    "BAND_WORDS",
    "FINDING_WORDS",
    "INPUT_CHARS",
    "LABEL_CHARS",
    "MAX_BLOCKS",
    "MAX_MODAL_BLOCKS",
    "OPTION_CHARS",
    "REPORT_LINK_BLOCK",
    "SECTION_CHARS",
    "TEXT_CHARS",
    "clip",
    "context",
    "escalation_text",
    "escape",
    "mention",
    "pack_texts",
    "plain_text",
    "review_summary_blocks",
    "section",
]

# Slack's limits: blocks per message and per modal, characters per text object, input
# values and labels, radio option texts.
MAX_BLOCKS = 50
MAX_MODAL_BLOCKS = 100
TEXT_CHARS = 3000
INPUT_CHARS = 3000
LABEL_CHARS = 2000
OPTION_CHARS = 75
# Kept a little under the limit: a chunk may grow by a closing mark when a run is split.
SECTION_CHARS = TEXT_CHARS - 20
_SLACK_USER = re.compile(r"^[UW][A-Z0-9]{2,}$")
REPORT_LINK_BLOCK = "report_link"

# The scorecard's bands and the analyst's findings, in a writer's words.
BAND_WORDS = {
    "iterate_hook": "losing viewers at the start — rework the hook or thumbnail",
    "adjust_pacing": "holding, but sagging — tighten the script and pacing",
    "double_down": "working — do more of what this episode does",
}


def clip(text: str, limit: int = SECTION_CHARS) -> str:
    """``text`` cut to ``limit`` characters (an ellipsis where it was cut)."""
    return text if len(text) <= limit else text[: limit - 1] + "…"


def escape(text: str) -> str:
    """Escape the three characters Slack mrkdwn treats as markup (and would make links of)."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def mention(who: str | None) -> str:
    """``<@U123>`` for a Slack user id, the plain name for anyone else (CLI users)."""
    if not who:
        return "someone"
    return f"<@{who}>" if _SLACK_USER.match(who) else escape(who)


def section(text: str, **extra: Any) -> dict[str, Any]:
    """A section block of mrkdwn ``text`` (clipped to fit)."""
    return {"type": "section", "text": {"type": "mrkdwn", "text": clip(text)}, **extra}


def context(text: str, **extra: Any) -> dict[str, Any]:
    """A context block of mrkdwn ``text`` (clipped to fit)."""
    return {"type": "context", "elements": [{"type": "mrkdwn", "text": clip(text)}], **extra}


def plain_text(text: str, limit: int) -> dict[str, Any]:
    """A plain-text object of at most ``limit`` characters (never empty)."""
    return {"type": "plain_text", "text": clip(text, limit) or " "}


# -- splitting long mrkdwn into text objects -----------------------------------------------

_MARKS = "*~"


def _open_marks(text: str) -> list[str]:
    """Marks left open at the end of ``text`` (our own output only uses them as marks)."""
    stack: list[str] = []
    for char in text:
        if char in _MARKS:
            if stack and stack[-1] == char:
                stack.pop()
            else:
                stack.append(char)
    return stack


def _split_line(line: str, limit: int) -> list[str]:
    """A line longer than ``limit`` cut at spaces; runs of ~struck~ or *bold* text cut in
    two are closed and reopened, and a quoted line stays quoted."""
    quote = "> " if line.startswith("> ") else ""
    out: list[str] = []
    rest = line
    while len(rest) > limit:
        cut = rest.rfind(" ", 0, limit - 8)
        if cut <= len(quote):
            cut = limit - 8
        head, rest = rest[:cut], rest[cut:].lstrip(" ")
        marks = _open_marks(head)
        # A mark right before the cut (a run's opening) would close on nothing.
        head += "".join(reversed(marks))
        rest = quote + "".join(marks) + rest
        out.append(head)
    out.append(rest)
    return out


def pack_texts(lines: list[str], limit: int = SECTION_CHARS) -> list[str]:
    """``lines`` packed into as few texts of at most ``limit`` characters as they fit."""
    out: list[str] = []
    current = ""
    for raw in lines:
        for line in _split_line(raw, limit) if len(raw) > limit else [raw]:
            if current and len(current) + 1 + len(line) > limit:
                out.append(current)
                current = line
            else:
                current = f"{current}\n{line}" if current else line
    if current:
        out.append(current)
    return out


# -- the escalation ------------------------------------------------------------------------


def escalation_text(series_id: str, blocked: dict[str, str], showrunners: list[str]) -> str:
    """The message that hands blocked episodes to the showrunners."""
    who = (
        " ".join(mention(s) for s in showrunners)
        if showrunners
        else "Showrunners (none configured: set WRITERS_ROOM_SHOWRUNNERS)"
    )
    lines = [f"{who} — {series_id} needs a human before the room proposes again:"]
    lines += [f"• {episode}: {escape(reason)}" for episode, reason in sorted(blocked.items())]
    lines.append(
        "A note (`/room note <episode> <text>`) or an edit is fresh input and unblocks it."
    )
    return "\n".join(lines)


# -- the review summary ----------------------------------------------------------------------


def _episode_line(e: dict[str, Any]) -> str:
    band = BAND_WORDS.get(e.get("band", ""), str(e.get("band", "")).replace("_", " "))
    parts = [f"*{escape(e['episode_id'])}* {e['score']:.0f}/100 — {band}"]
    cliff = e.get("cliff")
    if cliff:
        shot = f", in {escape(str(cliff.get('shot_id')))}" if cliff.get("shot_id") else ""
        parts.append(
            f"viewers leave at {cliff['second']} s{shot} (−{cliff['drop_pct']:.0f} points)"
        )
    kinds = [FINDING_WORDS.get(f["kind"], f["kind"]) for f in e.get("findings", [])]
    if kinds:
        parts.append(", ".join(dict.fromkeys(kinds)))
    return "• " + " · ".join(parts)


def review_summary_blocks(
    report: dict[str, Any],
    *,
    pending: int,
    blocked: dict[str, str],
    dropped: int,
    report_url: str | None = None,
    waiting: dict[str, str] | None = None,
) -> list[dict[str, Any]]:
    """The window review's headline, the top of its thread: per episode the score in words,
    the retention cliff and what the analyst found; themes; what waits; the report link.

    ``report_url`` is the review page; without one a placeholder (block
    ``report_link``) says where the report is, for the review pages to fill in.
    """
    title = report.get("title") or report.get("series_id", "")
    header = f"Window review · {title}"[:150]
    rows = [_episode_line(e) for e in report.get("episodes", [])]
    blocks: list[dict[str, Any]] = [
        {"type": "header", "text": {"type": "plain_text", "text": header}},
        context(
            f"`{report.get('series_id', '')}` · window {report.get('window_start', '?')} → "
            f"{report.get('window_end', '?')}"
        ),
    ]
    texts = pack_texts(rows) if rows else ["_no episode had data in this window_"]
    blocks += [section(text) for text in texts[: MAX_BLOCKS - 8]]
    themes = report.get("themes", [])[:3]
    if themes:
        blocks.append(
            section(
                "*What viewers talk about:* "
                + " · ".join(
                    f"“{escape(t['label'][:80])}” ({t['distinct_authors']} viewers)" for t in themes
                )
            )
        )
    facts = [f"{pending} proposal(s) below in this thread, waiting for an approver"]
    if blocked:
        facts.append(f"{len(blocked)} episode(s) escalated")
    if waiting:
        facts.append(
            "no new proposal for "
            + ", ".join(f"{escape(e)} (`{escape(p)}` still waits)" for e, p in waiting.items())
        )
    if dropped:
        facts.append(f"{dropped} proposal(s) dropped by the brand guard")
    flags = report.get("flags", [])
    if flags:
        facts.append(f"{len(flags)} traffic/comment flag(s)")
    blocks.append(context(" · ".join(facts)))
    if report_url:
        link = f"*Full report:* <{report_url}|the review page>"
    else:
        link = (
            "*Full report:* the review page link appears here once it is published "
            "(meanwhile `report.html` under the room's `reports/` folder)"
        )
    blocks.append(context(link, block_id=REPORT_LINK_BLOCK))
    return blocks


def outcome_text(result: dict[str, Any], window_end: str) -> str:
    """One line for a proposal's thread: what its published change did, and how sure."""
    metric = METRIC_LABEL.get(str(result.get("metric")), str(result.get("metric", "")))
    metric = metric.replace("_", " ")
    label = str(result.get("label") or result.get("verdict", "")).replace("_", " ")
    effect = result.get("effect")
    numbers = ""
    if effect is not None:
        numbers = f": {metric} {effect * 100:+.1f} points against the cohort"
        low, high = result.get("ci_low"), result.get("ci_high")
        if low is not None and high is not None:
            numbers += f" (90 % interval {low * 100:+.1f} to {high * 100:+.1f})"
    kind = str(result.get("kind", "")).replace("_", " ")
    return (
        f"*Outcome* of `{result.get('proposal_id')}` ({kind}"
        f" on {result.get('episode_id')}, published as `{result.get('variant_id')}`): "
        f"*{escape(label)}*{numbers} — window to {window_end}"
    )


def render_ready_blocks(text: str, render_id: str, variants: list[str]) -> list[dict[str, Any]]:
    """A finished render's message, with "Published as…": picking the variant it went
    live as ties the render to that variant's events (``writers-room publish``)."""
    blocks: list[dict[str, Any]] = [{"type": "section", "text": {"type": "mrkdwn", "text": text}}]
    if variants:
        blocks.append(
            {
                "type": "actions",
                "block_id": f"publish|{render_id}",
                "elements": [
                    {
                        "type": "static_select",
                        "action_id": PUBLISH_RENDER,
                        "placeholder": {"type": "plain_text", "text": "Published as…"},
                        "options": [
                            {
                                "text": {"type": "plain_text", "text": variant[:75]},
                                "value": f"{render_id}|{variant}",
                            }
                            for variant in variants[:100]
                        ],
                    }
                ],
            }
        )
    return blocks
