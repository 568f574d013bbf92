"""A proposal's changes as HTML: each field before and after.

:func:`changes_html` is the one place the proposals page asks for this, so a richer diff
(``brief.diff.render_html``) can take over without touching the page.
"""

from __future__ import annotations

import json
from html import escape
from typing import Any

__all__ = ["changes_html", "value_html"]


def value_html(value: Any) -> str:
    """One value, escaped: text as written, structures as indented JSON, None as "none"."""
    if value is None:
        return '<span class="none">none</span>'
    if isinstance(value, str):
        return (
            f'<p class="value">{escape(value)}</p>' if value else '<span class="none">empty</span>'
        )
    if isinstance(value, bool | int | float):
        return f'<p class="value">{escape(json.dumps(value))}</p>'
    text = json.dumps(value, indent=2, ensure_ascii=False, sort_keys=False)
    return f'<pre class="value">{escape(text)}</pre>'


def changes_html(changes: list[dict[str, Any]]) -> str:
    """A table with one row per change: the field, its value before, and after."""
    rows = "".join(
        '<tr class="change">'
        f'<td class="path">{escape(str(change.get("path", "")))}</td>'
        f'<td class="before">{value_html(change.get("before"))}</td>'
        '<td class="arrow" aria-hidden="true">→</td>'
        f'<td class="after">{value_html(change.get("after"))}</td>'
        "</tr>"
        for change in changes
    )
    return (
        '<table class="changes"><colgroup><col class="path"><col><col class="arrow">'
        "<col></colgroup>"
        "<thead><tr><th>field</th><th>before</th><th></th><th>after</th></tr></thead>"
        f"<tbody>{rows}</tbody></table>"
    )
