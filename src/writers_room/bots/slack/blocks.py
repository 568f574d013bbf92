"""Block Kit for the room's Slack messages: review summaries, proposals, the edit modal.

Pure functions from contract dicts (``report.json``, ``proposals --json``) to Slack
payloads; nothing here talks to Slack or the database.
"""

from __future__ import annotations

import json
import re
from datetime import datetime
from typing import Any

from writers_room.bots.slack.actions import (
    APPROVE_PROPOSAL,
    EDIT_MODAL_CALLBACK,
    EDIT_NOTE_BLOCK,
    EDIT_PROPOSAL,
    EDIT_VALUE_ACTION,
    REJECT_PROPOSAL,
    change_block_id,
    decide_block_id,
)

__all__ = [
    "decided_blocks",
    "escape",
    "edit_modal",
    "escalation_text",
    "mention",
    "parse_edit_submission",
    "proposal_blocks",
    "proposal_text",
    "review_summary_blocks",
]

# Slack limits: section text 3000 chars, input initial_value 3000, label 2000.
SECTION_CHARS = 2900
INPUT_CHARS = 3000
_SLACK_USER = re.compile(r"^[UW][A-Z0-9]{2,}$")
_VERDICT = {"approved": "✅ Approved", "applied": "✅ Approved", "rejected": "❌ Rejected"}


def _clip(text: str, limit: int = SECTION_CHARS) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def escape(text: str) -> str:
    """Escape the three characters Slack mrkdwn treats as markup (and would make links of)."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def mention(who: str | None) -> str:
    """``<@U123>`` for a Slack user id, the plain name for anyone else (CLI users)."""
    if not who:
        return "someone"
    return f"<@{who}>" if _SLACK_USER.match(who) else escape(who)


def _value(value: Any) -> str:
    if value is None:
        return "∅"
    if isinstance(value, str):
        return escape(value)
    return escape(json.dumps(value, ensure_ascii=False))


def _section(text: str) -> dict[str, Any]:
    return {"type": "section", "text": {"type": "mrkdwn", "text": _clip(text)}}


def _context(text: str) -> dict[str, Any]:
    return {"type": "context", "elements": [{"type": "mrkdwn", "text": _clip(text, 2900)}]}


def proposal_text(p: dict[str, Any]) -> str:
    """The notification text of a proposal message (shown where blocks are not)."""
    return f"Proposal {p['proposal_id']} for {p['series_id']}/{p['episode_id']}: {p['summary']}"


def _proposal_body(p: dict[str, Any]) -> list[dict[str, Any]]:
    changes = "\n".join(
        f"`{c['path']}`\n   ~{_value(c.get('before'))}~ → *{_value(c.get('after'))}*"
        for c in p.get("changes", [])
    )
    ev = p.get("evidence", {})
    facts = []
    if ev.get("target"):
        facts.append(f"targets {escape(ev['target'])}")
    if ev.get("expected_effect"):
        facts.append(f"expected: {escape(ev['expected_effect'])}")
    if ev.get("comment_ids"):
        facts.append("comments " + ", ".join(f"`{c}`" for c in ev["comment_ids"][:8]))
    facts.append(f"`{p['proposal_id']}` · hash `{p['content_hash'][:12]}`")
    return [
        _section(
            f"*Proposal for {p['series_id']} · {p['episode_id']}* (`{p['kind']}`)\n"
            f"{escape(p['summary'])}"
        ),
        _section(changes or "_no field changes_"),
        _context(" · ".join(facts)),
    ]


def proposal_blocks(p: dict[str, Any], *, note: str | None = None) -> list[dict[str, Any]]:
    """A pending proposal with approve / edit / reject buttons bound to its content hash."""
    blocks = _proposal_body(p)
    if note:
        blocks.insert(0, _context(note))
    blocks.append(
        {
            "type": "actions",
            "block_id": decide_block_id(p["proposal_id"], p["content_hash"]),
            "elements": [
                {
                    "type": "button",
                    "action_id": APPROVE_PROPOSAL,
                    "text": {"type": "plain_text", "text": "Approve"},
                    "style": "primary",
                    "value": p["proposal_id"],
                },
                {
                    "type": "button",
                    "action_id": EDIT_PROPOSAL,
                    "text": {"type": "plain_text", "text": "Edit…"},
                    "value": p["proposal_id"],
                },
                {
                    "type": "button",
                    "action_id": REJECT_PROPOSAL,
                    "text": {"type": "plain_text", "text": "Reject"},
                    "style": "danger",
                    "value": p["proposal_id"],
                },
            ],
        }
    )
    return blocks


def decided_blocks(
    p: dict[str, Any],
    *,
    edited: bool = False,
    applied_version: int | None = None,
    render_ids: list[str] | None = None,
    note: str = "",
) -> list[dict[str, Any]]:
    """A decided proposal: the same content, no buttons, who decided what and when."""
    verdict = _VERDICT.get(p["status"], p["status"])
    if edited:
        verdict = "✏️ Edited and approved" if p["status"] in ("approved", "applied") else verdict
    when = _when(p.get("decided_at"))
    line = f"*{verdict}* by {mention(p.get('decided_by'))} at {when}"
    if note:
        line += f": “{escape(note)}”"
    extra = []
    if applied_version is not None:
        extra.append(f"brief v{applied_version} written")
    if render_ids:
        extra.append("render " + ", ".join(f"`{r}`" for r in render_ids) + " queued")
    if extra:
        line += " — " + ", ".join(extra)
    return [*_proposal_body(p), _section(line)]


def _when(iso: str | None) -> str:
    if not iso:
        return "an unknown time"
    return datetime.fromisoformat(iso).strftime("%Y-%m-%d %H:%M UTC")


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


def review_summary_blocks(
    report: dict[str, Any],
    *,
    pending: int,
    blocked: dict[str, str],
    dropped: int,
) -> list[dict[str, Any]]:
    """The window review's headline: each episode's score, band, cliff and findings."""
    title = report.get("title") or report.get("series_id", "")
    header = f"Window review · {title}"[:150]
    rows = []
    for e in report.get("episodes", []):
        cliff = e.get("cliff")
        cliff_txt = (
            f" · cliff {cliff['second']} s (−{cliff['drop_pct']:.0f} pp) in "
            f"`{cliff.get('shot_id') or '?'}`"
            if cliff
            else ""
        )
        kinds = ", ".join(f"`{f['kind']}`" for f in e.get("findings", []))
        rows.append(
            f"• *{e['episode_id']}* {e['score']:.1f} {e['band']}{cliff_txt}"
            + (f" · {kinds}" if kinds else "")
        )
    blocks: list[dict[str, Any]] = [
        {"type": "header", "text": {"type": "plain_text", "text": header}},
        _context(
            f"`{report.get('series_id', '')}` · window {report.get('window_start', '?')} → "
            f"{report.get('window_end', '?')}"
        ),
        _section("\n".join(rows) or "_no episode had data in this window_"),
    ]
    themes = report.get("themes", [])[:3]
    if themes:
        blocks.append(
            _section(
                "*Top themes:* "
                + " · ".join(
                    f"“{escape(t['label'][:80])}” ({t['distinct_authors']} viewers)" for t in themes
                )
            )
        )
    facts = [f"{pending} proposal(s) waiting for an approver"]
    if blocked:
        facts.append(f"{len(blocked)} episode(s) escalated")
    if dropped:
        facts.append(f"{dropped} proposal(s) dropped by the brand guard")
    flags = report.get("flags", [])
    if flags:
        facts.append(f"{len(flags)} traffic/comment flag(s)")
    blocks.append(_context(" · ".join(facts)))
    return blocks


def _as_text(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)


def _too_long(value: Any) -> bool:
    """A value the modal cannot hold whole (a text input takes INPUT_CHARS)."""
    return len(_as_text(value)) > INPUT_CHARS


def edit_modal(p: dict[str, Any], *, private_metadata: str) -> dict[str, Any]:
    """The modal that lets an approver rewrite the proposed values before approving."""
    blocks: list[dict[str, Any]] = [
        _section(f"*{p['episode_id']}* · `{p['proposal_id']}`\n{escape(p['summary'])}")
    ]
    for index, change in enumerate(p.get("changes", [])):
        after = change.get("after")
        if _too_long(after):
            # A drafted episode's shot list: a clipped JSON value could only break it.
            blocks.append(
                _section(
                    f"`{change['path']}` is too long to edit here "
                    f"({len(_as_text(after)):,} characters); it stays as proposed."
                )
            )
            continue
        blocks.append(
            {
                "type": "input",
                "block_id": change_block_id(index),
                "label": {"type": "plain_text", "text": _clip(change["path"], 2000)},
                "hint": {
                    "type": "plain_text",
                    "text": _clip(
                        "was: "
                        + _as_text(change.get("before"))
                        + ("" if isinstance(after, str) else " (JSON value)"),
                        2000,
                    ),
                },
                "element": {
                    "type": "plain_text_input",
                    "action_id": EDIT_VALUE_ACTION,
                    "multiline": isinstance(after, str) and len(after) > 60,
                    "initial_value": _clip(_as_text(after), INPUT_CHARS),
                },
            }
        )
    blocks.append(
        {
            "type": "input",
            "block_id": EDIT_NOTE_BLOCK,
            "optional": True,
            "label": {"type": "plain_text", "text": "Note for the room"},
            "element": {"type": "plain_text_input", "action_id": EDIT_VALUE_ACTION},
        }
    )
    return {
        "type": "modal",
        "callback_id": EDIT_MODAL_CALLBACK,
        "private_metadata": private_metadata,
        "title": {"type": "plain_text", "text": "Edit proposal"},
        "submit": {"type": "plain_text", "text": "Approve edit"},
        "close": {"type": "plain_text", "text": "Cancel"},
        "blocks": blocks,
    }


def parse_edit_submission(
    p: dict[str, Any], values: dict[str, Any]
) -> tuple[list[dict[str, Any]], str, dict[str, str]]:
    """Read the modal's state back into field changes.

    Returns:
        ``(changes, note, errors)``: the edited changes (``before`` kept from the
        proposal), the optional note, and per-block error messages for Slack to show.
    """
    changes: list[dict[str, Any]] = []
    errors: dict[str, str] = {}
    for index, change in enumerate(p.get("changes", [])):
        block = change_block_id(index)
        if _too_long(change.get("after")) and block not in values:
            changes.append(dict(change))  # shown, not editable: kept as proposed
            continue
        raw = (values.get(block, {}).get(EDIT_VALUE_ACTION, {}) or {}).get("value")
        raw = "" if raw is None else str(raw)
        after: Any = raw
        if not isinstance(change.get("after"), str):
            try:
                after = json.loads(raw)
            except ValueError:
                errors[block] = (
                    f"{change['path']} takes a JSON value such as {_as_text(change.get('after'))}"
                )
                continue
        changes.append({"path": change["path"], "before": change.get("before"), "after": after})
    note_raw = (values.get(EDIT_NOTE_BLOCK, {}).get(EDIT_VALUE_ACTION, {}) or {}).get("value")
    return changes, (note_raw or "").strip(), errors
