"""The diff as Slack mrkdwn, Rich markup or HTML: one renderer, three markups."""

from __future__ import annotations

import html as _html
from collections.abc import Sequence
from typing import Any

from writers_room.brief.diff.model import (
    ChoiceView,
    DiffItem,
    DiffLine,
    Format,
    Op,
    ProposalDiff,
    Span,
)

__all__ = [
    "render",
    "render_choice",
    "render_html",
    "render_item",
    "render_mrkdwn",
    "render_rich",
]


class _Markup:
    """How one output format escapes text and marks cut, new, kept and label text."""

    name: Format = "mrkdwn"

    def esc(self, text: str) -> str:
        raise NotImplementedError

    def span(self, span: Span) -> str:
        raise NotImplementedError

    def strong(self, text: str) -> str:
        raise NotImplementedError

    def dim(self, text: str) -> str:
        return self.esc(text)


class _Mrkdwn(_Markup):
    name: Format = "mrkdwn"

    def esc(self, text: str) -> str:
        return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")

    def span(self, span: Span) -> str:
        text = self.esc(span.text.replace("\n", " "))
        if span.op == "same":
            return text
        # A * or ~ inside the run would end Slack's markup early.
        text = text.replace("*", "∗").replace("~", "∼")
        return f"~{text}~" if span.op == "del" else f"*{text}*"

    def strong(self, text: str) -> str:
        return f"*{self.esc(text).replace('*', '∗')}*"

    def dim(self, text: str) -> str:
        return f"_{self.esc(text).replace('_', ' ')}_"


class _Rich(_Markup):
    name: Format = "rich"

    def __init__(self, markers: bool = False) -> None:
        self.markers = markers

    def esc(self, text: str) -> str:
        from rich.markup import escape

        return escape(text)

    def span(self, span: Span) -> str:
        if span.op == "same":
            return self.esc(span.text)
        if span.op == "del":
            text = f"[-{span.text}-]" if self.markers else span.text
            return f"[strike red]{self.esc(text)}[/strike red]"
        text = f"{{+{span.text}+}}" if self.markers else span.text
        return f"[bold green]{self.esc(text)}[/bold green]"

    def strong(self, text: str) -> str:
        return f"[bold]{self.esc(text)}[/bold]"

    def dim(self, text: str) -> str:
        return f"[dim]{self.esc(text)}[/dim]"


class _Html(_Markup):
    name: Format = "html"

    def esc(self, text: str) -> str:
        return _html.escape(text, quote=True)

    def span(self, span: Span) -> str:
        text = self.esc(span.text)
        if span.op == "same":
            return text
        if span.op == "del":
            return f'<del class="wr-del">{text}</del>'
        return f'<ins class="wr-ins">{text}</ins>'

    def strong(self, text: str) -> str:
        return f"<strong>{self.esc(text)}</strong>"

    def dim(self, text: str) -> str:
        return f'<span class="wr-dim">{self.esc(text)}</span>'


def _markup(fmt: Format, markers: bool = False) -> _Markup:
    if fmt == "mrkdwn":
        return _Mrkdwn()
    if fmt == "rich":
        return _Rich(markers)
    if fmt == "html":
        return _Html()
    raise ValueError(f"unknown diff format {fmt!r}")


def _spans(spans: Sequence[Span], m: _Markup) -> str:
    out: list[str] = []
    previous: Span | None = None
    for span in spans:
        if (
            previous is not None
            and previous.op != "same"
            and span.op != "same"
            and previous.op != span.op
        ):
            out.append(" ")
        out.append(m.span(span))
        previous = span
    return "".join(out)


def _line_body(line: DiffLine, m: _Markup) -> str:
    body = _spans(line.spans, m)
    if not line.label:
        return body
    label = line.label
    if line.status in ("cut", "new") and line.kind == "dialogue":
        op: Op = "del" if line.status == "cut" else "ins"
        return m.span(Span(op, f"{label}: {line.text('before' if op == 'del' else 'after')}"))
    return f"{m.esc(label)}: {body}"


def _item_title(item: DiffItem, m: _Markup) -> str:
    head = f"{item.number}. {item.title}"
    if item.kind == "brief":
        head = f"{item.number}. {item.title} (brief)"
    elif item.kind == "shot":
        head = f"{item.number}. Shot {item.title}"
    rest = f" — {item.headline}" if item.headline and item.headline != "changed" else ""
    return m.strong(head) + m.esc(rest)


def render_item(item: DiffItem, fmt: Format, *, markers: bool = False) -> list[str]:
    """One item as lines of ``fmt`` markup: its title line, then one line per field/line.

    Slack mrkdwn lines after the title are block quotes (``>``); terminal lines are
    indented; HTML is one ``<li class="wr-item …">``.
    """
    m = _markup(fmt, markers)
    if fmt == "html":
        classes = f"wr-item wr-{item.kind} wr-{item.status}" + (
            " wr-noise" if item.noise_only else ""
        )
        parts = [
            f'<li class="{classes}" data-key="{m.esc(item.key)}">',
            f'<p class="wr-title">{_item_title(item, m)}</p>',
        ]
        if item.lines:
            parts.append('<ul class="wr-lines">')
            for line in item.lines:
                cls = f"wr-line wr-{line.kind} wr-{line.status}" + (
                    " wr-noise" if line.noise else ""
                )
                label = f'<span class="wr-label">{m.esc(line.label)}</span> ' if line.label else ""
                parts.append(f'<li class="{cls}">{label}{_spans(line.spans, m)}</li>')
            parts.append("</ul>")
        parts.append("</li>")
        return ["".join(parts)]
    lines = [_item_title(item, m)]
    for line in item.lines:
        body = _line_body(line, m)
        if line.status == "same" and line.kind == "dialogue":
            body = f"{m.esc(line.label + ':')} {_spans(line.spans, m)}" if line.label else body
        if line.noise:
            body = m.dim("(bookkeeping)") + " " + body
        lines.append(f"> {body}" if fmt == "mrkdwn" else f"    {body}")
    return lines


def render_choice(choice: ChoiceView, fmt: Format, *, markers: bool = False) -> str:
    """``Hook — choose one: (1) … (2) … (3) …`` (one option a line; HTML: a list)."""
    m = _markup(fmt, markers)
    where = "" if choice.path else " (copy to publish with the episode)"
    head = f"{choice.label} — choose one{where}:"
    if fmt == "html":
        options = "".join(
            f'<li class="wr-option" value="{n}">{m.esc(o)}</li>'
            for n, o in enumerate(choice.options, 1)
        )
        return (
            f'<div class="wr-choice" data-slot="{m.esc(choice.slot)}">'
            f'<p class="wr-choice-title">{m.strong(head)}</p>'
            f'<ol class="wr-options">{options}</ol></div>'
        )
    rows = [m.strong(head)]
    for n, option in enumerate(choice.options, 1):
        tail = " " + m.dim("(proposed)") if n == 1 and choice.path else ""
        rows.append(f"({n}) {m.esc(option)}{tail}")
    return "\n".join(rows if fmt == "mrkdwn" else [rows[0], *("    " + r for r in rows[1:])])


def _footer(diff: ProposalDiff, m: _Markup) -> list[str]:
    out = []
    if diff.runtime:
        before, after = diff.runtime
        out.append(m.esc(f"Runtime {before:g} → {after:g} s"))
    if diff.hidden_noise:
        out.append(
            m.dim(
                f"{diff.hidden_noise} bookkeeping change(s) hidden (start times, seeds, "
                "keyframe prompts, ids)"
            )
        )
    out.extend(m.esc(p) for p in diff.problems)
    return out


def render(
    diff: ProposalDiff,
    fmt: Format,
    *,
    start: int = 0,
    stop: int | None = None,
    choices: bool = True,
    markers: bool = False,
) -> str:
    """The diff (items ``start:stop``), its alternatives and runtime, as ``fmt`` markup."""
    m = _markup(fmt, markers)
    items = diff.items[start:stop]
    if fmt == "html":
        body = [f'<section class="wr-diff" data-items="{len(diff.items)}">']
        if stop is not None or start:
            end = start + len(items)
            body.append(f'<p class="wr-part">{m.esc(diff.part(start, end))}</p>')
        body.append(f'<ol class="wr-items" start="{start + 1}">')
        for item in items:
            body.extend(render_item(item, "html"))
        body.append("</ol>")
        if not diff.items:
            body.append('<p class="wr-empty">No changes.</p>')
        if choices and diff.choices:
            body.append('<div class="wr-choices">')
            body.extend(render_choice(c, "html") for c in diff.choices)
            body.append("</div>")
        body.extend(f'<p class="wr-note">{line}</p>' for line in _footer(diff, m))
        body.append("</section>")
        return "\n".join(body)
    lines: list[str] = []
    for item in items:
        lines.extend(render_item(item, fmt, markers=markers))
    if not diff.items:
        lines.append(m.dim("no changes"))
    if choices:
        lines.extend(render_choice(c, fmt, markers=markers) for c in diff.choices)
    lines.extend(_footer(diff, m))
    return "\n".join(lines)


def render_mrkdwn(diff: ProposalDiff, **kwargs: Any) -> str:
    """The diff as Slack mrkdwn (``~struck~``, ``*bold*``, ``&<>`` escaped)."""
    return render(diff, "mrkdwn", **kwargs)


def render_rich(diff: ProposalDiff, *, markers: bool = False, **kwargs: Any) -> str:
    """The diff as Rich markup; ``markers=True`` adds ``[-cut-]``/``{+new+}`` for plain output."""
    return render(diff, "rich", markers=markers, **kwargs)


def render_html(diff: ProposalDiff, **kwargs: Any) -> str:
    """The diff as an HTML fragment (``<section class="wr-diff">``; ``<del>``/``<ins>``).

    Class names for styling: ``wr-item`` with ``wr-brief``/``wr-shot`` and
    ``wr-changed``/``wr-moved``/``wr-new``/``wr-cut``; ``wr-line`` with ``wr-field`` or
    ``wr-dialogue`` and a status; ``wr-label``; ``wr-del``/``wr-ins``; ``wr-choice``,
    ``wr-options``; ``wr-note``; ``wr-noise`` for bookkeeping lines. Every text is escaped.
    """
    return render(diff, "html", **kwargs)
