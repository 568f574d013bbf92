"""Block Kit for proposal cards: the card, its continuation messages, the decided card.

A proposal is a *card*: the key number it targets, the summary, the whole diff (read like
a script, :mod:`writers_room.brief.diff`), the evidence as quotes, its alternatives as
radio buttons and the decision buttons. A diff longer than one message allows (50 blocks,
3,000 characters per text) goes on in further messages of the thread, and the card says
so ("changes 1–6 of 13 here, 7–13 below"). Nothing is cut.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from writers_room.bots.slack.actions import (
    APPROVE_PROPOSAL,
    CHOOSE_OPTION,
    EDIT_PROPOSAL,
    REJECT_PROPOSAL,
    choice_block_id,
    decide_block_id,
    parse_choice_block_id,
)
from writers_room.bots.slack.blocks import (
    MAX_BLOCKS,
    OPTION_CHARS,
    TEXT_CHARS,
    clip,
    context,
    escape,
    mention,
    pack_texts,
    plain_text,
    section,
)
from writers_room.brief.diff import (
    DiffItem,
    ProposalDiff,
    render,
    render_choice,
    render_item,
)
from writers_room.brief.proposals import KIND_WORDS

__all__ = [
    "CardPicture",
    "decided_blocks",
    "picks_from_state",
    "proposal_blocks",
    "proposal_messages",
    "proposal_text",
    "stale_part_block",
    "verdict_line",
]

# A decided card's verdict, in words.
_VERDICT = {"approved": "✅ Approved", "applied": "✅ Approved", "rejected": "❌ Rejected"}


@dataclass(frozen=True)
class CardPicture:
    """A picture of a proposal's packaging options (``jobs.previews``) for its card.

    ``url`` is where Slack fetches it (a signed link to the review pages, when they are
    public); without one the picture is uploaded into the card's thread instead.
    """

    choice: int | None
    title: str
    alt: str
    url: str | None = None


def _image_block(picture: CardPicture) -> dict[str, Any]:
    return {
        "type": "image",
        "image_url": picture.url,
        "alt_text": clip(picture.alt, 2000),
        "title": plain_text(picture.title, 2000),
    }


def proposal_text(p: dict[str, Any]) -> str:
    """The notification text of a proposal message (shown where blocks are not)."""
    target = p.get("evidence", {}).get("target")
    head = f"Proposal {p['proposal_id']} for {p['series_id']}/{p['episode_id']}"
    return clip(f"{head}{f' ({target})' if target else ''}: {p['summary']}", TEXT_CHARS)


# -- the card --------------------------------------------------------------------------------


def _head_blocks(p: dict[str, Any], note: str | None) -> list[dict[str, Any]]:
    ev = p.get("evidence", {})
    kind = KIND_WORDS.get(p["kind"], p["kind"])
    blocks: list[dict[str, Any]] = []
    if note:
        blocks.append(context(escape(note)))
    key = f"\n:dart: *{escape(ev['target'])}*" if ev.get("target") else ""
    blocks.append(section(f"*{escape(p['series_id'])} · {escape(p['episode_id'])} — {kind}*{key}"))
    blocks.append(section(escape(p["summary"])))
    if ev.get("expected_effect"):
        blocks.append(context(f"Expected: {escape(ev['expected_effect'])}"))
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
    return [section(text) for text in pack_texts(lines)] if lines else []


def _assets_blocks(p: dict[str, Any], pictures: Sequence[CardPicture]) -> list[dict[str, Any]]:
    assets = [str(a) for a in p.get("assets", []) if str(a).strip()]
    if not assets:
        return []
    if not pictures:
        where = "the render draws the thumbnails after approval"
    elif all(picture.url for picture in pictures):
        where = "the options are pictured on thumbnails above"
    else:
        where = "the options are pictured on thumbnails below, in this thread"
    lines = [f"*To produce with it* ({where}):"] + [f"• {escape(a)}" for a in assets]
    blocks = [section(text) for text in pack_texts(lines)]
    blocks += [_image_block(pic) for pic in pictures if pic.url and pic.choice is None]
    return blocks


def _choice_blocks(
    diff: ProposalDiff,
    *,
    interactive: bool,
    picks: list[int | None] | None,
    pictures: Sequence[CardPicture] = (),
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
        block = section(text, block_id=choice_block_id(choice.index))
        if interactive and len(choice.options) > 1:
            options = [
                {"text": plain_text(f"({n}) {o}", OPTION_CHARS), "value": str(n - 1)}
                for n, o in enumerate(choice.options, 1)
            ]
            block["accessory"] = {
                "type": "radio_buttons",
                "action_id": CHOOSE_OPTION,
                "options": options,
                "initial_option": options[pick or 0],
            }
        blocks.append(block)
        blocks += [_image_block(p) for p in pictures if p.url and p.choice == choice.index]
    return blocks


def _item_blocks(items: list[DiffItem]) -> list[dict[str, Any]]:
    """Sections holding ``items``: small items share one, a long one takes several."""
    lines: list[str] = []
    for item in items:
        lines.extend(render_item(item, "mrkdwn"))
    return [section(text) for text in pack_texts(lines)]


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
    pictures: Sequence[CardPicture] = (),
) -> list[list[dict[str, Any]]]:
    """A proposal as messages: the card (with the buttons), then any continuation.

    Args:
        p: the proposal (``proposals --json``).
        diff: its readable diff.
        note: a line above the card ("re-posted after a restart").
        verdict: for a decided proposal, the line saying who decided what (no buttons).
        picks: the alternatives chosen (shown on a decided card).
        pictures: its packaging options as thumbnails; those with a URL go on the card
            (under their choice), the others are said to be in the thread.

    Every message has at most :data:`MAX_BLOCKS` blocks and every text at most
    :data:`TEXT_CHARS` characters; every diff item is in one of the messages.
    """
    pending = verdict is None
    head = _head_blocks(p, note)
    tail: list[dict[str, Any]] = []
    footer = _footer(diff)
    if footer:
        tail.append(context(footer))
    tail += _evidence_blocks(p)
    tail += _choice_blocks(diff, interactive=pending, picks=picks, pictures=pictures)
    tail += _assets_blocks(p, pictures)
    tail.append(
        context(
            f"`{p['proposal_id']}` · hash `{p['content_hash'][:12]}` · on brief "
            f"v{p.get('base_version', '?')}"
        )
    )
    tail.append(_actions(p) if pending else section(verdict or ""))
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
            context(
                f"*{here}{shown + 1}–{total} below* in this thread "
                f"({len(messages)} more message{'s' if len(messages) > 1 else ''})"
            )
        )
    card += _item_blocks(card_items) if card_items else []
    if not items:
        card.append(context("_no changes_"))
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
    return context(
        f"*{escape(p['episode_id'])}* `{p['proposal_id']}` — "
        f"{diff.part(first, first + len(part))} (continued; decide on the card above)"
    )


def stale_part_block(proposal_id: str) -> dict[str, Any]:
    """What a continuation message says once the proposal's diff no longer needs it."""
    return context(f"`{proposal_id}` — this part is no longer needed; see the card above.")


def proposal_blocks(
    p: dict[str, Any], diff: ProposalDiff, *, note: str | None = None
) -> list[dict[str, Any]]:
    """The card of a pending proposal (the first of :func:`proposal_messages`)."""
    return proposal_messages(p, diff, note=note)[0]


# -- decided cards and picks ----------------------------------------------------------------


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
