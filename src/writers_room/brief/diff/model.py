"""The diff's model: spans of kept, cut and new text, lines, items, choices, the diff."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Literal

__all__ = [
    "ChoiceView",
    "DiffItem",
    "DiffLine",
    "Editable",
    "Format",
    "ItemStatus",
    "LineStatus",
    "Op",
    "ProposalDiff",
    "Span",
]

Op = Literal["same", "del", "ins"]
Format = Literal["mrkdwn", "rich", "html"]
LineStatus = Literal["same", "changed", "cut", "new"]
ItemStatus = Literal["changed", "moved", "new", "cut"]


@dataclass(frozen=True)
class Span:
    """A run of text that is kept (``same``), cut (``del``) or new (``ins``)."""

    op: Op
    text: str


@dataclass(frozen=True)
class Editable:
    """Where a line of the diff lives in the proposed brief/manifest, for the edit form.

    ``path`` is the field's place in the documents *after* the changes (e.g.
    ``manifest.shots[0].caption``); ``line`` is the dialogue line's index within that
    field (``None``: the whole field); ``value`` is the proposed text.
    """

    path: str
    value: str
    line: int | None = None
    speaker: str = ""
    direction: str = ""
    number: bool = False


@dataclass(frozen=True)
class DiffLine:
    """One line of an item: a field (``Caption: …``) or a dialogue line (``THEO: …``)."""

    kind: Literal["field", "dialogue"]
    label: str
    spans: tuple[Span, ...]
    status: LineStatus
    noise: bool = False
    edit: Editable | None = None

    def text(self, op: Literal["before", "after"]) -> str:
        """The line's text before or after the change."""
        skip = "ins" if op == "before" else "del"
        text = "".join(s.text for s in self.spans if s.op != skip)
        return re.sub(r"[ \t]{2,}", " ", text).strip()


@dataclass(frozen=True)
class DiffItem:
    """One brief field or one shot the proposal touches."""

    number: int
    kind: Literal["brief", "shot", "manifest", "raw"]
    key: str
    title: str
    status: ItemStatus
    headline: str
    lines: tuple[DiffLine, ...]
    noise_only: bool = False


@dataclass(frozen=True)
class ChoiceView:
    """A creative choice: the options, the first of which the changes write."""

    index: int
    slot: str
    label: str
    path: str | None
    options: tuple[str, ...]


@dataclass(frozen=True)
class ProposalDiff:
    """The readable diff of one proposal."""

    items: tuple[DiffItem, ...]
    choices: tuple[ChoiceView, ...] = ()
    runtime: tuple[float, float] | None = None
    hidden_noise: int = 0
    applies: bool = True
    problems: tuple[str, ...] = field(default=())

    @property
    def count(self) -> int:
        return len(self.items)

    def part(self, start: int, stop: int) -> str:
        """``"changes 1–6 of 13"`` for items ``start:stop`` (0-based, stop exclusive)."""
        if not self.items:
            return "no changes"
        if stop - start == 1:
            return f"change {start + 1} of {self.count}"
        return f"changes {start + 1}–{stop} of {self.count}"

    def to_json(self) -> dict[str, Any]:
        """The diff as plain data (``proposals show --json`` key ``diff``)."""
        return {
            "items": [
                {
                    "number": i.number,
                    "kind": i.kind,
                    "key": i.key,
                    "title": i.title,
                    "status": i.status,
                    "headline": i.headline,
                    "noise_only": i.noise_only,
                    "lines": [
                        {
                            "kind": line.kind,
                            "label": line.label,
                            "status": line.status,
                            "noise": line.noise,
                            "before": line.text("before"),
                            "after": line.text("after"),
                            "spans": [{"op": s.op, "text": s.text} for s in line.spans],
                        }
                        for line in i.lines
                    ],
                }
                for i in self.items
            ],
            "choices": [
                {"slot": c.slot, "label": c.label, "path": c.path, "options": list(c.options)}
                for c in self.choices
            ],
            "runtime": list(self.runtime) if self.runtime else None,
            "hidden_noise": self.hidden_noise,
            "applies": self.applies,
            "problems": list(self.problems),
        }
