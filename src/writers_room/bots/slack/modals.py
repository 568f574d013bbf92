"""Block Kit for the proposal forms: the edit modal and the reject modal, and reading them back.

The edit form holds one plain-text input per changed line or field of a proposal's
readable diff (:mod:`writers_room.brief.diff`) and its alternatives as radio buttons; what
comes back is new values by their place in the proposed documents. Nothing here talks to
Slack or the database.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from writers_room.bots.slack.actions import (
    CHOOSE_OPTION,
    EDIT_MODAL_CALLBACK,
    EDIT_NOTE_BLOCK,
    EDIT_VALUE_ACTION,
    REJECT_MODAL_CALLBACK,
    REJECT_REASON_BLOCK,
    change_block_id,
    choice_block_id,
)
from writers_room.bots.slack.blocks import (
    INPUT_CHARS,
    LABEL_CHARS,
    MAX_MODAL_BLOCKS,
    OPTION_CHARS,
    clip,
    context,
    escape,
    plain_text,
    section,
)
from writers_room.brief.diff import DiffItem, Editable, ProposalDiff
from writers_room.brief.script import format_line

__all__ = [
    "EditField",
    "edit_fields",
    "edit_modal",
    "parse_edit_submission",
    "parse_reject_submission",
    "reject_modal",
]


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
        section(
            f"*{escape(p['episode_id'])}* · `{p['proposal_id']}`\n{escape(p['summary'])}\n"
            "_Change any line; empty a dialogue line to cut it. Durations are in seconds._"
        )
    ]
    for field in shown:
        blocks.append(
            {
                "type": "input",
                "block_id": field.block_id,
                "label": plain_text(field.label, LABEL_CHARS),
                "hint": plain_text(field.hint, LABEL_CHARS),
                "optional": field.edit.line is not None,
                "element": {
                    "type": "plain_text_input",
                    "action_id": EDIT_VALUE_ACTION,
                    "multiline": field.multiline,
                    "initial_value": clip(field.value, INPUT_CHARS),
                },
            }
        )
    if left:
        blocks.append(
            context(
                f"{len(left)} more line(s) of this proposal can't be edited here (a form "
                "holds 100 fields); they stay as proposed."
            )
        )
    for choice in choice_inputs:
        options = [
            {"text": plain_text(f"({n}) {o}", OPTION_CHARS), "value": str(n - 1)}
            for n, o in enumerate(choice.options, 1)
        ]
        pick = (picks[choice.index] if picks else 0) or 0
        blocks.append(
            {
                "type": "input",
                "block_id": choice_block_id(choice.index),
                "label": plain_text(f"{choice.label} — choose one", LABEL_CHARS),
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
            section(f"*{escape(p['episode_id'])}* · `{p['proposal_id']}`\n{escape(p['summary'])}"),
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
