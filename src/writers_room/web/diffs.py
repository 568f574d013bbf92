"""A proposal's changes as HTML: each field before and after.

:func:`changes_html` is the one place the proposals page asks for this, so a richer diff
(``brief.diff.render_html``) can take over without touching the page. Until then: one
table body per change; a change that rewrites a structure (the whole shot list, a shot)
is shown as the parts that differ — shots matched by ``shot_id``, a removed or added shot
as one row — and a rewritten text marks the words cut and the words added.
"""

from __future__ import annotations

import difflib
import json
import re
from html import escape
from typing import Any

__all__ = ["changes_html", "value_html"]

_ABSENT = object()
# Fields that name a record in a list, tried in order: shots, characters, episodes.
_ID_FIELDS = ("shot_id", "episode_id", "id", "name")
_WORDS = re.compile(r"\s+|\w+|[^\w\s]")


def value_html(value: Any) -> str:
    """One value, escaped: text as written, structures as indented JSON, None as "none"."""
    if value is None or value is _ABSENT:
        return '<span class="none">none</span>'
    if isinstance(value, str):
        if not value:
            return '<span class="none">empty</span>'
        return f'<p class="value">{escape(value)}</p>'
    if isinstance(value, bool | int | float):
        return f'<p class="value">{escape(json.dumps(value))}</p>'
    if isinstance(value, dict) and value and all(_flat(v) for v in value.values()):
        return _record_html(value)
    text = json.dumps(value, indent=2, ensure_ascii=False)
    return f'<pre class="value">{escape(text)}</pre>'


def _flat(value: Any) -> bool:
    scalar = (str, bool, int, float, type(None))
    return isinstance(value, scalar) or (
        isinstance(value, list) and all(isinstance(v, scalar) for v in value)
    )


def _record_html(record: dict[str, Any]) -> str:
    """A record of plain fields (a shot) as "field value" lines; empty fields left out."""
    items = []
    for key, value in record.items():
        if value in ("", None, []):
            continue
        shown = ", ".join(map(str, value)) if isinstance(value, list) else str(value)
        items.append(f"<dt>{escape(str(key))}</dt><dd>{escape(shown)}</dd>")
    return f'<dl class="record">{"".join(items)}</dl>'


def _text_diff_html(before: str, after: str) -> tuple[str, str] | None:
    """Both texts with the words cut (``<del>``) and added (``<ins>``) marked, or None
    when they share too little for marks to help."""
    old, new = _WORDS.findall(before), _WORDS.findall(after)
    words = difflib.SequenceMatcher(
        a=[t for t in old if not t.isspace()], b=[t for t in new if not t.isspace()]
    )
    if words.ratio() < 0.5:  # mostly rewritten: marks on a stray "the" would only distract
        return None
    matcher = difflib.SequenceMatcher(a=old, b=new, autojunk=False)
    left, right = [], []
    for op, i1, i2, j1, j2 in matcher.get_opcodes():
        cut, added = escape("".join(old[i1:i2])), escape("".join(new[j1:j2]))
        if op == "equal":
            left.append(cut)
            right.append(added)
            continue
        if cut:
            left.append(f"<del>{cut}</del>")
        if added:
            right.append(f"<ins>{added}</ins>")
    return (
        f'<p class="value">{"".join(left)}</p>',
        f'<p class="value">{"".join(right)}</p>',
    )


def _ids(items: list[Any]) -> tuple[str, list[str]] | None:
    """The field that names each record of ``items`` uniquely, and the names."""
    for field in _ID_FIELDS:
        if items and all(isinstance(i, dict) and isinstance(i.get(field), str) for i in items):
            names = [i[field] for i in items]
            if len(set(names)) == len(names):
                return field, names
    return None


def _parts(path: str, before: Any, after: Any) -> list[tuple[str, Any, Any]]:
    """``(path, before, after)`` of each part of a value that differs."""
    if before == after:
        return []
    if isinstance(before, dict) and isinstance(after, dict):
        keys = [*before, *(k for k in after if k not in before)]
        return [
            row
            for key in keys
            for row in _parts(f"{path}.{key}", before.get(key, _ABSENT), after.get(key, _ABSENT))
        ]
    if isinstance(before, list) and isinstance(after, list):
        named_before, named_after = _ids(before), _ids(after)
        if named_before and named_after and named_before[0] == named_after[0]:
            field = named_before[0]
            old = dict(zip(named_before[1], before, strict=True))
            new = dict(zip(named_after[1], after, strict=True))
            # Removed records first, then the new list in its order (changed or added).
            rows = [(f"{path}[{field}={n}]", old[n], _ABSENT) for n in old if n not in new]
            for name, value in new.items():
                rows += _parts(f"{path}[{field}={name}]", old.get(name, _ABSENT), value)
            kept_before = [n for n in old if n in new]
            kept_after = [n for n in new if n in old]
            if kept_before != kept_after:
                rows.append((f"{path} (order)", kept_before, kept_after))
            return rows
        if len(before) == len(after):
            return [
                row
                for index, (b, a) in enumerate(zip(before, after, strict=True))
                for row in _parts(f"{path}[{index}]", b, a)
            ]
    return [(path, before, after)]


def _row(path: str, before: Any, after: Any, *, sub: bool) -> str:
    cells = None
    if isinstance(before, str) and isinstance(after, str) and before and after:
        cells = _text_diff_html(before, after)
    left, right = cells or (value_html(before), value_html(after))
    cls = "path sub" if sub else "path"
    return (
        f'<tr><td class="{cls}">{escape(path)}</td><td class="before">{left}</td>'
        f'<td class="arrow" aria-hidden="true">→</td><td class="after">{right}</td></tr>'
    )


def _change_html(change: dict[str, Any]) -> str:
    path = str(change.get("path", ""))
    before, after = change.get("before"), change.get("after")
    structured = isinstance(before, dict | list) and isinstance(after, dict | list)
    parts = _parts(path, before, after) if structured else []
    if structured and parts:
        rows = f'<tr><td class="path" colspan="4">{escape(path)} — what differs:</td></tr>'
        rows += "".join(_row(p.removeprefix(path), b, a, sub=True) for p, b, a in parts)
    else:
        rows = _row(path, before, after, sub=False)
    return f'<tbody class="change" data-path="{escape(path)}">{rows}</tbody>'


def changes_html(changes: list[dict[str, Any]]) -> str:
    """A table with one body per change: the field, its value before, and after."""
    return (
        '<table class="changes"><colgroup><col class="path"><col><col class="arrow">'
        "<col></colgroup>"
        "<thead><tr><th>field</th><th>before</th><th></th><th>after</th></tr></thead>"
        f"{''.join(_change_html(c) for c in changes)}</table>"
    )
