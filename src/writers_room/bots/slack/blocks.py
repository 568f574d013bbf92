"""Block Kit for the room's Slack messages: review summaries, proposal cards, the modals.

Pure functions from contract dicts (``report.json``, ``proposals --json``) and a proposal's
readable diff (:mod:`writers_room.brief.diff`) to Slack payloads; nothing here talks to
Slack or the database.

A proposal is a *card*: the key number it targets, the summary, the whole diff, the
evidence as quotes, its alternatives as radio buttons and the decision buttons. A diff
longer than one message allows (50 blocks, 3,000 characters per text) goes on in further
messages of the thread, and the card says so ("changes 1–6 of 13 here, 7–13 below").
Nothing is cut.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from writers_room.bots.slack.actions import (
    APPROVE_PROPOSAL,
    CHOOSE_OPTION,
    EDIT_MODAL_CALLBACK,
    EDIT_NOTE_BLOCK,
    EDIT_PROPOSAL,
    EDIT_VALUE_ACTION,
    REJECT_MODAL_CALLBACK,
    REJECT_PROPOSAL,
    REJECT_REASON_BLOCK,
    change_block_id,
    choice_block_id,
    decide_block_id,
    parse_choice_block_id,
)
from writers_room.brief.diff import (
    DiffItem,
    Editable,
    ProposalDiff,
    render,
    render_choice,
    render_item,
)
from writers_room.brief.script import format_line

__all__ = [
    "BAND_WORDS",
    "MAX_BLOCKS",
    "MAX_MODAL_BLOCKS",
    "TEXT_CHARS",
    "EditField",
    "decided_blocks",
    "edit_fields",
    "edit_modal",
    "escalation_text",
    "escape",
    "mention",
    "parse_edit_submission",
    "parse_reject_submission",
    "picks_from_state",
    "proposal_blocks",
    "proposal_messages",
    "proposal_text",
    "reject_modal",
    "review_summary_blocks",
    "stale_part_block",
    "verdict_line",
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
_VERDICT = {"approved": "✅ Approved", "applied": "✅ Approved", "rejected": "❌ Rejected"}
REPORT_LINK_BLOCK = "report_link"

# The scorecard's bands and the analyst's findings, in a writer's words.
BAND_WORDS = {
    "iterate_hook": "losing viewers at the start — rework the hook or thumbnail",
    "adjust_pacing": "holding, but sagging — tighten the script and pacing",
    "double_down": "working — do more of what this episode does",
}
FINDING_WORDS = {
    "hook_packaging": "the thumbnail/title don't earn the click",
    "hook_failure": "the opening loses them",
    "pacing": "a slow stretch",
    "low_participation": "few shares and comments",
    "resonance": "it resonates",
}
KIND_WORDS = {
    "promote_variant": "Make the leading variant the default",
    "hook_rewrite": "Hook rewrite",
    "packaging": "Packaging",
    "pacing_cut": "Pacing cut",
    "participation": "Participation",
    "sequel": "Stinger / sequel",
    "note_followup": "Following a writer's note",
    "new_episode": "New episode",
}


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


def _section(text: str, **extra: Any) -> dict[str, Any]:
    return {"type": "section", "text": {"type": "mrkdwn", "text": _clip(text)}, **extra}


def _context(text: str, **extra: Any) -> dict[str, Any]:
    return {"type": "context", "elements": [{"type": "mrkdwn", "text": _clip(text)}], **extra}


def _plain(text: str, limit: int) -> dict[str, Any]:
    return {"type": "plain_text", "text": _clip(text, limit) or " "}


def proposal_text(p: dict[str, Any]) -> str:
    """The notification text of a proposal message (shown where blocks are not)."""
    target = p.get("evidence", {}).get("target")
    head = f"Proposal {p['proposal_id']} for {p['series_id']}/{p['episode_id']}"
    return _clip(f"{head}{f' ({target})' if target else ''}: {p['summary']}", TEXT_CHARS)


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


def _texts(lines: list[str], limit: int = SECTION_CHARS) -> list[str]:
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


# -- the card --------------------------------------------------------------------------------


def _head_blocks(p: dict[str, Any], note: str | None) -> list[dict[str, Any]]:
    ev = p.get("evidence", {})
    kind = KIND_WORDS.get(p["kind"], p["kind"])
    blocks: list[dict[str, Any]] = []
    if note:
        blocks.append(_context(escape(note)))
    key = f"\n:dart: *{escape(ev['target'])}*" if ev.get("target") else ""
    blocks.append(_section(f"*{escape(p['series_id'])} · {escape(p['episode_id'])} — {kind}*{key}"))
    blocks.append(_section(escape(p["summary"])))
    if ev.get("expected_effect"):
        blocks.append(_context(f"Expected: {escape(ev['expected_effect'])}"))
    return blocks


def _evidence_blocks(p: dict[str, Any]) -> list[dict[str, Any]]:
    ev = p.get("evidence", {})
    lines = []
    if ev.get("rationale"):
        lines.append(f"*Why:* {escape(ev['rationale'])}")
    quotes = [q for q in ev.get("quotes", []) if str(q).strip()]
    if quotes:
        lines.append("*What viewers say* (redacted):")
        lines += [f"> “{escape(str(q))}”" for q in quotes]
    elif ev.get("comment_ids"):
        lines.append(f"_{len(ev['comment_ids'])} comment(s) behind this; no quotes kept._")
    return [_section(text) for text in _texts(lines)] if lines else []


def _assets_blocks(p: dict[str, Any]) -> list[dict[str, Any]]:
    assets = [str(a) for a in p.get("assets", []) if str(a).strip()]
    if not assets:
        return []
    lines = [
        "*To produce with it* (thumbnails are drawn by the render pipeline after approval; "
        "listed as text for now):"
    ] + [f"• {escape(a)}" for a in assets]
    return [_section(text) for text in _texts(lines)]


def _choice_blocks(
    diff: ProposalDiff, *, interactive: bool, picks: list[int | None] | None
) -> list[dict[str, Any]]:
    blocks = []
    for choice in diff.choices:
        text = render_choice(choice, "mrkdwn")
        pick = picks[choice.index] if picks and choice.index < len(picks) else None
        if not interactive and picks is not None:
            text += (
                f"\n*Chosen:* ({pick + 1})"
                if pick is not None
                else "\n*Chosen:* the approver's own"
            )
        block = _section(text, block_id=choice_block_id(choice.index))
        if interactive and len(choice.options) > 1:
            options = [
                {"text": _plain(f"({n}) {o}", OPTION_CHARS), "value": str(n - 1)}
                for n, o in enumerate(choice.options, 1)
            ]
            block["accessory"] = {
                "type": "radio_buttons",
                "action_id": CHOOSE_OPTION,
                "options": options,
                "initial_option": options[pick or 0],
            }
        blocks.append(block)
    return blocks


def _item_blocks(items: list[DiffItem]) -> list[dict[str, Any]]:
    """Sections holding ``items``: small items share one, a long one takes several."""
    lines: list[str] = []
    for item in items:
        lines.extend(render_item(item, "mrkdwn"))
    return [_section(text) for text in _texts(lines)]


def _actions(p: dict[str, Any]) -> dict[str, Any]:
    def button(action_id: str, text: str, style: str | None = None) -> dict[str, Any]:
        out = {
            "type": "button",
            "action_id": action_id,
            "text": {"type": "plain_text", "text": text},
            "value": p["proposal_id"],
        }
        if style:
            out["style"] = style
        return out

    return {
        "type": "actions",
        "block_id": decide_block_id(p["proposal_id"], p["content_hash"]),
        "elements": [
            button(APPROVE_PROPOSAL, "Approve", "primary"),
            button(EDIT_PROPOSAL, "Edit…"),
            button(REJECT_PROPOSAL, "Reject…", "danger"),
        ],
    }


def _footer(diff: ProposalDiff) -> str:
    return render(diff, "mrkdwn", start=0, stop=0, choices=False).strip()


def proposal_messages(
    p: dict[str, Any],
    diff: ProposalDiff,
    *,
    note: str | None = None,
    verdict: str | None = None,
    picks: list[int | None] | None = None,
) -> list[list[dict[str, Any]]]:
    """A proposal as messages: the card (with the buttons), then any continuation.

    Args:
        p: the proposal (``proposals --json``).
        diff: its readable diff.
        note: a line above the card ("re-posted after a restart").
        verdict: for a decided proposal, the line saying who decided what (no buttons).
        picks: the alternatives chosen (shown on a decided card).

    Every message has at most :data:`MAX_BLOCKS` blocks and every text at most
    :data:`TEXT_CHARS` characters; every diff item is in one of the messages.
    """
    pending = verdict is None
    head = _head_blocks(p, note)
    tail: list[dict[str, Any]] = []
    footer = _footer(diff)
    if footer:
        tail.append(_context(footer))
    tail += _evidence_blocks(p)
    tail += _choice_blocks(diff, interactive=pending, picks=picks)
    tail += _assets_blocks(p)
    tail.append(
        _context(
            f"`{p['proposal_id']}` · hash `{p['content_hash'][:12]}` · on brief "
            f"v{p.get('base_version', '?')}"
        )
    )
    tail.append(_actions(p) if pending else _section(verdict or ""))
    items = list(diff.items)
    # The card: as many items as fit beside its fixed blocks (one more for the part note).
    room = MAX_BLOCKS - len(head) - len(tail) - 2
    card_items, rest = _take(items, room)
    messages: list[list[dict[str, Any]]] = []
    while rest:
        more, rest = _take(rest, MAX_BLOCKS - 1)
        if not more:  # a single item larger than a message: give it a message of its own
            more, rest = [rest[0]], rest[1:]
        messages.append([_continued(p, diff, items, more), *_item_blocks(more)][:MAX_BLOCKS])
    card = [*head, {"type": "divider"}]
    if messages:
        shown, total = len(card_items), len(items)
        here = f"changes 1–{shown} of {total} here, " if shown else f"all {total} changes "
        card.append(
            _context(
                f"*{here}{shown + 1}–{total} below* in this thread "
                f"({len(messages)} more message{'s' if len(messages) > 1 else ''})"
            )
        )
    card += _item_blocks(card_items) if card_items else []
    if not items:
        card.append(_context("_no changes_"))
    return [[*card, *tail], *messages]


def _take(items: list[DiffItem], room: int) -> tuple[list[DiffItem], list[DiffItem]]:
    """The longest head of ``items`` whose sections fit in ``room`` blocks."""
    taken: list[DiffItem] = []
    for item in items:
        if len(_item_blocks([*taken, item])) > room:
            break
        taken.append(item)
    return taken, items[len(taken) :]


def _continued(
    p: dict[str, Any], diff: ProposalDiff, items: list[DiffItem], part: list[DiffItem]
) -> dict[str, Any]:
    first = items.index(part[0])
    return _context(
        f"*{escape(p['episode_id'])}* `{p['proposal_id']}` — "
        f"{diff.part(first, first + len(part))} (continued; decide on the card above)"
    )


def stale_part_block(proposal_id: str) -> dict[str, Any]:
    """What a continuation message says once the proposal's diff no longer needs it."""
    return _context(f"`{proposal_id}` — this part is no longer needed; see the card above.")


def proposal_blocks(
    p: dict[str, Any], diff: ProposalDiff, *, note: str | None = None
) -> list[dict[str, Any]]:
    """The card of a pending proposal (the first of :func:`proposal_messages`)."""
    return proposal_messages(p, diff, note=note)[0]


def verdict_line(
    p: dict[str, Any],
    *,
    edited: bool = False,
    applied_version: int | None = None,
    render_ids: list[str] | None = None,
    note: str = "",
) -> str:
    """Who decided what and when, and what happened next."""
    verdict = _VERDICT.get(p["status"], p["status"])
    if edited:
        verdict = "✏️ Edited and approved" if p["status"] in ("approved", "applied") else verdict
    line = f"*{verdict}* by {mention(p.get('decided_by'))} at {_when(p.get('decided_at'))}"
    if note:
        line += f": “{escape(note)}”"
    extra = []
    if applied_version is not None:
        extra.append(f"brief v{applied_version} written")
    if render_ids:
        extra.append("render " + ", ".join(f"`{r}`" for r in render_ids) + " queued")
    if extra:
        line += " — " + ", ".join(extra)
    return line


def decided_blocks(
    p: dict[str, Any],
    diff: ProposalDiff,
    *,
    edited: bool = False,
    applied_version: int | None = None,
    render_ids: list[str] | None = None,
    note: str = "",
    picks: list[int | None] | None = None,
) -> list[dict[str, Any]]:
    """A decided proposal's card: the same content, no buttons, who decided what and when."""
    line = verdict_line(
        p, edited=edited, applied_version=applied_version, render_ids=render_ids, note=note
    )
    return proposal_messages(p, diff, verdict=line, picks=picks)[0]


def picks_from_state(diff: ProposalDiff, state: dict[str, Any] | None) -> list[int | None]:
    """The alternatives selected on a card, from a click's ``state.values`` (first by default)."""
    picks: list[int | None] = [0] * len(diff.choices)
    for block_id, actions in ((state or {}).get("values") or {}).items():
        index = parse_choice_block_id(str(block_id))
        if index is None or index >= len(picks):
            continue
        selected = ((actions or {}).get(CHOOSE_OPTION) or {}).get("selected_option") or {}
        value = str(selected.get("value", ""))
        if value.isdigit() and int(value) < len(diff.choices[index].options):
            picks[index] = int(value)
    return picks


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
        _context(
            f"`{report.get('series_id', '')}` · window {report.get('window_start', '?')} → "
            f"{report.get('window_end', '?')}"
        ),
    ]
    texts = _texts(rows) if rows else ["_no episode had data in this window_"]
    blocks += [_section(text) for text in texts[: MAX_BLOCKS - 8]]
    themes = report.get("themes", [])[:3]
    if themes:
        blocks.append(
            _section(
                "*What viewers talk about:* "
                + " · ".join(
                    f"“{escape(t['label'][:80])}” ({t['distinct_authors']} viewers)" for t in themes
                )
            )
        )
    facts = [f"{pending} proposal(s) below in this thread, waiting for an approver"]
    if blocked:
        facts.append(f"{len(blocked)} episode(s) escalated")
    if dropped:
        facts.append(f"{dropped} proposal(s) dropped by the brand guard")
    flags = report.get("flags", [])
    if flags:
        facts.append(f"{len(flags)} traffic/comment flag(s)")
    blocks.append(_context(" · ".join(facts)))
    if report_url:
        link = f"*Full report:* <{report_url}|the review page>"
    else:
        link = (
            "*Full report:* the review page link appears here once it is published "
            "(meanwhile `report.html` under the room's `reports/` folder)"
        )
    blocks.append(_context(link, block_id=REPORT_LINK_BLOCK))
    return blocks


# -- the edit modal --------------------------------------------------------------------------


@dataclass(frozen=True)
class EditField:
    """One input of the edit form: a dialogue line, a caption, a duration, a brief field."""

    block_id: str
    label: str
    hint: str
    value: str
    edit: Editable
    multiline: bool
    number: bool = False
    choice: int | None = None
    """The choice whose options this field holds, when it is one."""


def _field_label(item: DiffItem, line_label: str, edit: Editable) -> str:
    where = item.title if item.kind != "shot" else f"Shot {item.title}"
    if edit.line is not None:
        return f"{where} · {line_label or 'line'} (line {edit.line + 1})"
    return f"{where} · {line_label}" if line_label else where


def edit_fields(diff: ProposalDiff, picks: list[int | None] | None = None) -> list[EditField]:
    """The inputs of the edit form, in diff order: one per changed line or field.

    A field one of the proposal's choices writes is one input holding the chosen option
    (the whole field, speakers included for dialogue).
    """
    by_path = {c.path: c for c in diff.choices if c.path}
    fields: list[EditField] = []
    seen: set[str] = set()
    for item in diff.items:
        for line in item.lines:
            edit = line.edit
            if edit is None or line.status == "cut" or line.noise:
                continue
            choice = by_path.get(edit.path)
            if choice is not None:
                if edit.path in seen:
                    continue
                seen.add(edit.path)
                pick = (picks[choice.index] if picks else 0) or 0
                value = choice.options[pick]
                label = f"{_field_label(item, line.label, edit)} · {choice.label} (a choice)"
                edit = Editable(edit.path, value)
            elif line.status == "same" and line.kind == "dialogue":
                continue  # kept lines stay as they are
            else:
                value = edit.value
                label = _field_label(item, line.label, edit)
            before = line.text("before")
            hint = f"was: {before}" if before and line.status != "new" else "new"
            fields.append(
                EditField(
                    block_id=change_block_id(len(fields)),
                    label=label,
                    hint=hint,
                    value=value,
                    edit=edit,
                    multiline=len(value) > 60,
                    number=edit.number,
                    choice=choice.index if choice is not None else None,
                )
            )
    return fields


# Blocks of the modal besides the fields: the summary, a note on fields left out, the
# alternatives (at most a handful), the note.
_MODAL_OVERHEAD = 3


def edit_modal(
    p: dict[str, Any],
    diff: ProposalDiff,
    *,
    private_metadata: str,
    picks: list[int | None] | None = None,
) -> dict[str, Any]:
    """The form that lets an approver rewrite the proposed lines before approving: one
    plain-text input per changed line or field, the alternatives as radio buttons."""
    fields = edit_fields(diff, picks)
    choice_inputs = [c for c in diff.choices if not c.path and len(c.options) > 1]
    room = MAX_MODAL_BLOCKS - _MODAL_OVERHEAD - len(choice_inputs)
    shown, left = fields[:room], fields[room:]
    blocks: list[dict[str, Any]] = [
        _section(
            f"*{escape(p['episode_id'])}* · `{p['proposal_id']}`\n{escape(p['summary'])}\n"
            "_Change any line; empty a dialogue line to cut it. Durations are in seconds._"
        )
    ]
    for field in shown:
        blocks.append(
            {
                "type": "input",
                "block_id": field.block_id,
                "label": _plain(field.label, LABEL_CHARS),
                "hint": _plain(field.hint, LABEL_CHARS),
                "optional": field.edit.line is not None,
                "element": {
                    "type": "plain_text_input",
                    "action_id": EDIT_VALUE_ACTION,
                    "multiline": field.multiline,
                    "initial_value": _clip(field.value, INPUT_CHARS),
                },
            }
        )
    if left:
        blocks.append(
            _context(
                f"{len(left)} more line(s) of this proposal can't be edited here (a form "
                "holds 100 fields); they stay as proposed."
            )
        )
    for choice in choice_inputs:
        options = [
            {"text": _plain(f"({n}) {o}", OPTION_CHARS), "value": str(n - 1)}
            for n, o in enumerate(choice.options, 1)
        ]
        pick = (picks[choice.index] if picks else 0) or 0
        blocks.append(
            {
                "type": "input",
                "block_id": choice_block_id(choice.index),
                "label": _plain(f"{choice.label} — choose one", LABEL_CHARS),
                "element": {
                    "type": "radio_buttons",
                    "action_id": CHOOSE_OPTION,
                    "options": options,
                    "initial_option": options[pick],
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
        "blocks": blocks[:MAX_MODAL_BLOCKS],
    }


def _input_value(values: dict[str, Any], block_id: str, action_id: str) -> Any:
    return (values.get(block_id, {}).get(action_id, {}) or {}).get("value")


def parse_edit_submission(
    p: dict[str, Any],
    diff: ProposalDiff,
    values: dict[str, Any],
    *,
    picks: list[int | None] | None = None,
) -> tuple[dict[str, Any], list[int | None], str, dict[str, str]]:
    """Read the edit form back.

    Returns:
        ``(edits, picks, note, errors)``: new values by their place in the proposed
        documents (only what the approver changed; see ``brief.diff.edited_changes``),
        the alternatives chosen, the optional note, and per-block error messages for
        Slack to show.
    """
    fields = edit_fields(diff, picks)
    chosen: list[int | None] = list(picks) if picks else [0] * len(diff.choices)
    errors: dict[str, str] = {}
    edits: dict[str, Any] = {}
    lines: dict[str, list[tuple[Editable, str]]] = {}
    for field in fields[: MAX_MODAL_BLOCKS - _MODAL_OVERHEAD]:
        if field.block_id not in values:
            continue  # not on the form
        raw = str(_input_value(values, field.block_id, EDIT_VALUE_ACTION) or "")
        if field.edit.line is not None:
            lines.setdefault(field.edit.path, []).append((field.edit, raw.strip()))
            continue
        try:
            value = _read_field(field, raw, diff, chosen)
        except ValueError as exc:
            errors[field.block_id] = str(exc)
            continue
        if value is not None:
            edits[field.edit.path] = value
    for choice in diff.choices:
        if choice.path:
            continue
        radio = values.get(choice_block_id(choice.index), {}).get(CHOOSE_OPTION, {}) or {}
        picked = str((radio.get("selected_option") or {}).get("value", ""))
        if picked.isdigit() and int(picked) < len(choice.options):
            chosen[choice.index] = int(picked)
    edits.update(_dialogue_edits(diff, lines))
    note_raw = _input_value(values, EDIT_NOTE_BLOCK, EDIT_VALUE_ACTION)
    return edits, chosen, str(note_raw or "").strip(), errors


def _read_field(field: EditField, raw: str, diff: ProposalDiff, chosen: list[int | None]) -> Any:
    """The new value of one form field, ``None`` when unchanged (or an option chosen).

    Raises:
        ValueError: what to tell the approver about the value.
    """
    if field.number:
        try:
            seconds = float(" ".join(raw.split()).removesuffix("s").strip())
        except ValueError:
            seconds = -1.0
        if not 0 < seconds <= 60:
            raise ValueError(f"a duration in seconds, e.g. {field.value}")
        return seconds if f"{seconds:g}" != field.value else None
    text = raw.strip()
    if not text and field.edit.path.startswith("brief."):
        raise ValueError("a brief field can't be empty here")
    if text == field.value:
        return None
    if field.choice is not None:
        options = diff.choices[field.choice].options
        if text in options:
            chosen[field.choice] = options.index(text)
            return None
        chosen[field.choice] = None  # the approver's own words
    return text


def _dialogue_edits(
    diff: ProposalDiff, edited: dict[str, list[tuple[Editable, str]]]
) -> dict[str, str]:
    """Whole dialogue fields rebuilt from their lines, where a line was changed."""
    out: dict[str, str] = {}
    for path, changed in edited.items():
        new_text = {e.line: text for e, text in changed}
        if all(new_text[e.line] == e.value for e, _ in changed):
            continue
        rebuilt = []
        for item in diff.items:
            for line in item.lines:
                e = line.edit
                if e is None or e.path != path or e.line is None:
                    continue
                text = new_text.get(e.line, e.value)
                if text:
                    rebuilt.append(format_line(e.speaker, text, e.direction))
        out[path] = " / ".join(rebuilt)
    return out


# -- the reject modal ------------------------------------------------------------------------


def reject_modal(p: dict[str, Any], *, private_metadata: str) -> dict[str, Any]:
    """The form a rejection goes through: the reason is required (the writer learns from it)."""
    return {
        "type": "modal",
        "callback_id": REJECT_MODAL_CALLBACK,
        "private_metadata": private_metadata,
        "title": {"type": "plain_text", "text": "Reject proposal"},
        "submit": {"type": "plain_text", "text": "Reject"},
        "close": {"type": "plain_text", "text": "Cancel"},
        "blocks": [
            _section(f"*{escape(p['episode_id'])}* · `{p['proposal_id']}`\n{escape(p['summary'])}"),
            {
                "type": "input",
                "block_id": REJECT_REASON_BLOCK,
                "label": {
                    "type": "plain_text",
                    "text": "Why? (required — the writer learns from it)",
                },
                "element": {
                    "type": "plain_text_input",
                    "action_id": EDIT_VALUE_ACTION,
                    "multiline": True,
                    "min_length": 1,
                    "max_length": INPUT_CHARS,
                },
            },
        ],
    }


def parse_reject_submission(values: dict[str, Any]) -> tuple[str, dict[str, str]]:
    """``(reason, errors)`` from the reject form: a blank reason is an error."""
    reason = str(_input_value(values, REJECT_REASON_BLOCK, EDIT_VALUE_ACTION) or "").strip()
    if not reason:
        return "", {REJECT_REASON_BLOCK: "A rejection needs a reason."}
    return reason, {}
