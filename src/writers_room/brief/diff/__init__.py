"""A proposal read like a script diff: what a human approves, in words, not JSON.

:func:`build_diff` compares the brief and shot manifest in force with what a proposal's
changes make of them, and returns a :class:`ProposalDiff`: one *item* per brief field
and per shot touched (changed, moved, new or cut), each with its lines — dialogue lines
with their speakers (cut lines struck, new lines bold, kept lines plain), caption,
action, duration, characters — and brief fields as word-level prose diffs. Shots that
only moved because another was cut are not "moved"; manifest noise (seeds, keyframe
prompts, start times, renamed ids) is hidden unless ``show_noise=True``. The creative
alternatives (``choices``) come along as "Hook — choose one: (1) … (2) … (3) …".

One renderer, three formats: Slack mrkdwn (``~struck~``, ``*bold*``), Rich markup for
the terminal (``[strike]``, ``[bold]``; with ``markers=True`` also ``[-cut-]``/``{+new+}``
for output without styles) and HTML (``<del>``/``<ins>`` with ``wr-*`` class names).
Items are numbered so a long diff can be shown in parts ("changes 1–6 of 13").

The package by job: :mod:`.model` (the diff's types), :mod:`.spans` (word diffs, text
helpers), :mod:`.shots` (dialogue and the shot list), :mod:`.compute` (:func:`build_diff`),
:mod:`.render` (the three formats) and :mod:`.edits` (an approver's edits back into changes).
"""

from writers_room.brief.diff.compute import build_diff, diff_proposal
from writers_room.brief.diff.edits import edited_changes
from writers_room.brief.diff.model import (
    ChoiceView,
    DiffItem,
    DiffLine,
    Editable,
    Format,
    ProposalDiff,
    Span,
)
from writers_room.brief.diff.render import (
    render,
    render_choice,
    render_html,
    render_item,
    render_mrkdwn,
    render_rich,
)
from writers_room.brief.diff.spans import slot_label, word_spans

__all__ = [
    "ChoiceView",
    "DiffItem",
    "DiffLine",
    "Editable",
    "Format",
    "ProposalDiff",
    "Span",
    "build_diff",
    "diff_proposal",
    "edited_changes",
    "render",
    "render_choice",
    "render_html",
    "render_item",
    "render_mrkdwn",
    "render_rich",
    "slot_label",
    "word_spans",
]
