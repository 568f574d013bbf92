"""Word-level diffs of two texts, and the text helpers every part of the diff shares."""

from __future__ import annotations

import difflib
import json
import re
from typing import Any

from writers_room.brief.diff.model import DiffLine, Editable, LineStatus, Op, Span

__all__ = [
    "TOKEN",
    "WORD_DIFF_MIN_RATIO",
    "field_label",
    "field_line",
    "line_status",
    "merge_spans",
    "slot_label",
    "trimmed_spans",
    "value_text",
    "word_spans",
]

# Below this similarity a rewritten text is shown whole (struck, then new), not word by word.
WORD_DIFF_MIN_RATIO = 0.4

_SLOTS = {
    "hook": "Hook",
    "headline": "Headline",
    "title": "Title",
    "stinger": "Stinger",
    "caption": "Caption",
    "thumbnail": "Thumbnail text",
    "line": "Line",
}
# A word or a run of whitespace: what word diffs compare.
TOKEN = re.compile(r"\s+|\S+")


def merge_spans(spans: list[Span]) -> tuple[Span, ...]:
    """``spans`` with empty runs dropped and neighbours of the same kind joined."""
    out: list[Span] = []
    for span in spans:
        if not span.text:
            continue
        if out and out[-1].op == span.op:
            out[-1] = Span(span.op, out[-1].text + span.text)
        else:
            out.append(span)
    return tuple(out)


def trimmed_spans(op: Op, text: str) -> list[Span]:
    """A cut or new run with its outer whitespace moved out of it (markup needs that)."""
    if op == "same":
        return [Span(op, text)]
    core = text.strip()
    if not core:
        return [Span("same", text)] if op == "ins" else []
    lead = text[: len(text) - len(text.lstrip())]
    tail = text[len(text.rstrip()) :]
    return [Span("same", lead), Span(op, core), Span("same", tail)]


def word_spans(before: str, after: str) -> tuple[Span, ...]:
    """Word-level diff of two texts: kept, cut and new runs (whitespace stays outside).

    A text rewritten almost entirely comes back whole: the old text struck, the new bold.
    """
    if before == after:
        return merge_spans([Span("same", after)])
    a, b = TOKEN.findall(before), TOKEN.findall(after)
    matcher = difflib.SequenceMatcher(None, a, b, autojunk=False)
    # Similarity of the words alone: shared spaces make any two texts look alike.
    words = difflib.SequenceMatcher(None, before.split(), after.split(), autojunk=False)
    spans: list[Span] = []
    if not before.strip() or not after.strip() or words.ratio() < WORD_DIFF_MIN_RATIO:
        spans = [*trimmed_spans("del", before), *trimmed_spans("ins", after)]
        return merge_spans(spans)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            spans.append(Span("same", "".join(a[i1:i2])))
            continue
        if tag in ("delete", "replace"):
            spans.extend(trimmed_spans("del", "".join(a[i1:i2])))
        if tag in ("insert", "replace"):
            spans.extend(trimmed_spans("ins", "".join(b[j1:j2])))
    return merge_spans(spans)


def _number(value: Any) -> str:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return str(value)
    if isinstance(value, int) or float(value).is_integer():
        return str(int(value))
    return f"{value:.6g}"


def value_text(value: Any) -> str:
    """A field's value as text: numbers without trailing zeros, other values as JSON."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool):
        return _number(value)
    return json.dumps(value, ensure_ascii=False)


def line_status(before: str, after: str) -> LineStatus:
    """``same``, ``new``, ``cut`` or ``changed``, from a line's text before and after."""
    if before == after:
        return "same"
    if not before:
        return "new"
    if not after:
        return "cut"
    return "changed"


def field_line(
    label: str, before: Any, after: Any, *, noise: bool = False, edit: Editable | None = None
) -> DiffLine:
    """A ``Label: …`` line with the word diff of two field values."""
    b, a = value_text(before), value_text(after)
    return DiffLine("field", label, word_spans(b, a), line_status(b, a), noise, edit)


def field_label(name: str) -> str:
    """``duration_s`` → ``Duration s``: a field's name as a label."""
    words = name.replace("_", " ").strip()
    return words[:1].upper() + words[1:]


def slot_label(slot: str) -> str:
    """``hook`` → ``Hook``: what a choice is about, in words."""
    return _SLOTS.get(slot, field_label(slot))
