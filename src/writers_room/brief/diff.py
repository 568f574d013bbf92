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
"""

from __future__ import annotations

import copy
import difflib
import html as _html
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from writers_room.brief.paths import value_at
from writers_room.brief.proposals import PATH_TOKEN, apply_changes
from writers_room.brief.script import parse_dialogue

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

Op = Literal["same", "del", "ins"]
Format = Literal["mrkdwn", "rich", "html"]
LineStatus = Literal["same", "changed", "cut", "new"]
ItemStatus = Literal["changed", "moved", "new", "cut"]

# Shot fields a writer reads, in the order they are shown.
SHOT_FIELDS = ("action", "caption", "camera", "framing", "mood")
# Manifest fields that are bookkeeping, not story: hidden unless asked.
NOISE_SHOT_FIELDS = ("start_s", "seed", "keyframe_prompt")
NOISE_MANIFEST_FIELDS = ("brief_version", "series_id", "episode_id")
# Below this similarity a rewritten text is shown whole (struck, then new), not word by word.
WORD_DIFF_MIN_RATIO = 0.4
# Dialogue lines this similar (same speaker) are one edited line, not a cut and a new one.
LINE_PAIR_MIN_RATIO = 0.5

_SLOTS = {
    "hook": "Hook",
    "headline": "Headline",
    "title": "Title",
    "stinger": "Stinger",
    "caption": "Caption",
    "thumbnail": "Thumbnail text",
    "line": "Line",
}
_TOKEN = re.compile(r"\s+|\S+")


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


# -- word diffs -------------------------------------------------------------------------


def _merge(spans: list[Span]) -> tuple[Span, ...]:
    out: list[Span] = []
    for span in spans:
        if not span.text:
            continue
        if out and out[-1].op == span.op:
            out[-1] = Span(span.op, out[-1].text + span.text)
        else:
            out.append(span)
    return tuple(out)


def _trimmed(op: Op, text: str) -> list[Span]:
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
        return _merge([Span("same", after)])
    a, b = _TOKEN.findall(before), _TOKEN.findall(after)
    matcher = difflib.SequenceMatcher(None, a, b, autojunk=False)
    # Similarity of the words alone: shared spaces make any two texts look alike.
    words = difflib.SequenceMatcher(None, before.split(), after.split(), autojunk=False)
    spans: list[Span] = []
    if not before.strip() or not after.strip() or words.ratio() < WORD_DIFF_MIN_RATIO:
        spans = [*_trimmed("del", before), *_trimmed("ins", after)]
        return _merge(spans)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            spans.append(Span("same", "".join(a[i1:i2])))
            continue
        if tag in ("delete", "replace"):
            spans.extend(_trimmed("del", "".join(a[i1:i2])))
        if tag in ("insert", "replace"):
            spans.extend(_trimmed("ins", "".join(b[j1:j2])))
    return _merge(spans)


def _number(value: Any) -> str:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return str(value)
    if isinstance(value, int) or float(value).is_integer():
        return str(int(value))
    return f"{value:.6g}"


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool):
        return _number(value)
    return json.dumps(value, ensure_ascii=False)


def _status(before: str, after: str) -> LineStatus:
    if before == after:
        return "same"
    if not before:
        return "new"
    if not after:
        return "cut"
    return "changed"


def _field_line(
    label: str, before: Any, after: Any, *, noise: bool = False, edit: Editable | None = None
) -> DiffLine:
    b, a = _text(before), _text(after)
    return DiffLine("field", label, word_spans(b, a), _status(b, a), noise, edit)


def _label(name: str) -> str:
    words = name.replace("_", " ").strip()
    return words[:1].upper() + words[1:]


def slot_label(slot: str) -> str:
    """``hook`` → ``Hook``: what a choice is about, in words."""
    return _SLOTS.get(slot, _label(slot))


# -- dialogue -----------------------------------------------------------------------------


def _speaker(speaker: str, direction: str) -> str:
    return f"{speaker} {direction}".strip()


def _dialogue_lines(before: str, after: str, *, path: str | None) -> list[DiffLine]:
    """Line-by-line diff of two dialogue fields (``SPEAKER: text / SPEAKER: text``)."""
    old, new = parse_dialogue(before), parse_dialogue(after)
    keys_a = [(s, t.strip()) for s, _, t in old]
    keys_b = [(s, t.strip()) for s, _, t in new]
    out: list[DiffLine] = []

    def edit(j: int) -> Editable | None:
        if path is None:
            return None
        speaker, direction, text = new[j]
        return Editable(path, text, line=j, speaker=speaker, direction=direction)

    def kept(j: int) -> DiffLine:
        s, d, t = new[j]
        return DiffLine("dialogue", _speaker(s, d), (Span("same", t),), "same", edit=edit(j))

    def cut(i: int) -> DiffLine:
        s, d, t = old[i]
        return DiffLine("dialogue", _speaker(s, d), (Span("del", t),), "cut")

    def added(j: int) -> DiffLine:
        s, d, t = new[j]
        return DiffLine("dialogue", _speaker(s, d), (Span("ins", t),), "new", edit=edit(j))

    matcher = difflib.SequenceMatcher(None, keys_a, keys_b, autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            out.extend(kept(j) for j in range(j1, j2))
            continue
        olds, news = list(range(i1, i2)), list(range(j1, j2))
        while olds or news:
            if olds and news:
                i, j = olds[0], news[0]
                ratio = difflib.SequenceMatcher(
                    None, _TOKEN.findall(old[i][2]), _TOKEN.findall(new[j][2]), autojunk=False
                ).ratio()
                if old[i][0] == new[j][0] and ratio >= LINE_PAIR_MIN_RATIO:
                    s, d, t = new[j]
                    out.append(
                        DiffLine(
                            "dialogue",
                            _speaker(s, d),
                            word_spans(old[i][2], t),
                            "changed",
                            edit=edit(j),
                        )
                    )
                    olds.pop(0)
                    news.pop(0)
                    continue
            if olds:
                out.append(cut(olds.pop(0)))
            elif news:
                out.append(added(news.pop(0)))
    return out


# -- shots --------------------------------------------------------------------------------


def _content(shot: Mapping[str, Any]) -> tuple[Any, ...]:
    keys = sorted(k for k in shot if k not in ("shot_id", *NOISE_SHOT_FIELDS))
    return tuple((k, json.dumps(shot[k], sort_keys=True, default=str)) for k in keys)


def _ordinal(n: int) -> str:
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


def _secs(value: Any) -> str:
    try:
        return f"{float(value):g}"
    except (TypeError, ValueError):
        return str(value)


def _lcs_keep(sequence: list[int]) -> set[int]:
    """Positions of a longest increasing subsequence: the shots that did not move."""
    if not sequence:
        return set()
    tails: list[int] = []
    tail_at: list[int] = []
    parent = [-1] * len(sequence)
    import bisect

    for index, value in enumerate(sequence):
        pos = bisect.bisect_left(tails, value)
        if pos == len(tails):
            tails.append(value)
            tail_at.append(index)
        else:
            tails[pos] = value
            tail_at[pos] = index
        parent[index] = tail_at[pos - 1] if pos else -1
    keep = set()
    k = tail_at[-1]
    while k != -1:
        keep.add(k)
        k = parent[k]
    return keep


def _shot_lines(
    before: Mapping[str, Any] | None,
    after: Mapping[str, Any] | None,
    *,
    index: int | None,
    show_noise: bool,
) -> tuple[list[DiffLine], bool]:
    """The lines of one shot's diff, and whether anything a writer reads changed."""
    b = before or {}
    a = after or {}
    where = f"manifest.shots[{index}]" if index is not None and after is not None else None
    lines: list[DiffLine] = []
    substantive = False
    for name in SHOT_FIELDS:
        if after is None and name not in ("action", "caption"):
            continue  # a cut shot: what it showed and said is enough
        old, new = _text(b.get(name, "")), _text(a.get(name, ""))
        if old == new and not (name == "action" and after is not None and before is None):
            continue
        if not old and not new:
            continue
        substantive = substantive or old != new
        edit = Editable(f"{where}.{name}", new) if where and name in ("action", "caption") else None
        lines.append(_field_line(_label(name), old, new, edit=edit))
    old_d, new_d = _text(b.get("dialogue", "")), _text(a.get("dialogue", ""))
    if old_d != new_d:
        substantive = True
        lines.extend(_dialogue_lines(old_d, new_d, path=f"{where}.dialogue" if where else None))
    old_c = [str(c) for c in b.get("characters", []) or []]
    new_c = [str(c) for c in a.get("characters", []) or []]
    if old_c != new_c:
        substantive = True
        spans = [Span("same" if c in old_c else "ins", c) for c in new_c]
        spans += [Span("del", c) for c in old_c if c not in new_c]
        joined: list[Span] = []
        for span in spans:
            if joined:
                joined.append(Span("same", ", "))
            joined.append(span)
        lines.append(DiffLine("field", "Characters", _merge(joined), "changed"))
    old_t, new_t = b.get("duration_s"), a.get("duration_s")
    if old_t != new_t and (old_t is not None or new_t is not None):
        substantive = True
        lines.append(
            DiffLine(
                "field",
                "Duration",
                _merge(
                    [
                        *_trimmed("del", f"{_secs(old_t)} s" if old_t is not None else ""),
                        *_trimmed("ins", f"{_secs(new_t)} s" if new_t is not None else ""),
                    ]
                ),
                _status(_text(old_t), _text(new_t)),
                edit=Editable(f"{where}.duration_s", _secs(new_t), number=True)
                if where and new_t is not None
                else None,
            )
        )
    if show_noise and before is not None and after is not None:
        if b.get("shot_id") != a.get("shot_id"):
            lines.append(_field_line("Shot id", b.get("shot_id"), a.get("shot_id"), noise=True))
        for name in NOISE_SHOT_FIELDS:
            if b.get(name) != a.get(name):
                lines.append(_field_line(_label(name), b.get(name), a.get(name), noise=True))
    return lines, substantive


def _noise_changed(before: Mapping[str, Any], after: Mapping[str, Any]) -> bool:
    return before.get("shot_id") != after.get("shot_id") or any(
        before.get(k) != after.get(k) for k in NOISE_SHOT_FIELDS
    )


def _place(after_ids: list[str], index: int) -> str:
    if index == 0:
        return "at the top"
    if index == len(after_ids) - 1:
        return "at the end"
    return f"after {after_ids[index - 1]}"


_Row = tuple[str, str, ItemStatus, str, list[DiffLine], bool]


def _match_shots(before: list[Mapping[str, Any]], after: list[Mapping[str, Any]]) -> dict[int, int]:
    """After index → before index of the same shot: by id, then by content (renumbering)."""
    ids_b = [str(s.get("shot_id", i)) for i, s in enumerate(before)]
    match: dict[int, int] = {}
    used: set[int] = set()
    for j, shot in enumerate(after):
        sid = str(shot.get("shot_id", j))
        if sid in ids_b and ids_b.index(sid) not in used:
            match[j] = ids_b.index(sid)
            used.add(match[j])
    for j in range(len(after)):
        if j in match:
            continue
        for i in range(len(before)):
            if i not in used and _content(before[i]) == _content(after[j]):
                match[j] = i
                used.add(i)
                break
    return match


def _kept_row(
    old: Mapping[str, Any],
    shot: Mapping[str, Any],
    *,
    j: int,
    was: int,
    moved: bool,
    ids_a: list[str],
    show_noise: bool,
) -> _Row | None:
    sid = ids_a[j]
    lines, substantive = _shot_lines(old, shot, index=j, show_noise=show_noise)
    if moved:
        headline = f"moves {_place(ids_a, j).replace('at the', 'to the')}"
        if j == 0:
            headline += f" as a {_secs(shot.get('duration_s'))}-s cold open"
        headline += f" (was {_ordinal(was + 1)}, now {_ordinal(j + 1)})"
        return (sid, sid, "moved", headline, lines, False)
    if substantive:
        return (sid, sid, "changed", "changed", lines, False)
    if show_noise and _noise_changed(old, shot):
        return (sid, sid, "changed", "bookkeeping only", lines, True)
    return None


def _new_row(
    shot: Mapping[str, Any], *, j: int, before: list[Mapping[str, Any]], ids_a: list[str]
) -> _Row:
    """A new shot; one that repeats an existing shot's picture is shown as that repeat."""
    sid = ids_a[j]
    action = shot.get("action")
    source = next((b for b in before if action and action == b.get("action")), None)
    lines, _ = _shot_lines(source, shot, index=j, show_noise=False)
    secs = _secs(shot.get("duration_s"))
    if source is None:
        return (sid, sid, "new", f"new: {secs} s, {_place(ids_a, j)}", lines, False)
    of = str(source.get("shot_id"))
    if j == 0:
        headline = f"new: {of} repeated at the top as a {secs}-s cold open"
    else:
        headline = f"new: {of} repeated {_place(ids_a, j)} ({secs} s)"
    if not any(line.label == "Action" for line in lines):
        edit = Editable(f"manifest.shots[{j}].action", str(action))
        lines.insert(
            0, DiffLine("field", "Action", (Span("same", str(action)),), "same", edit=edit)
        )
    return (sid, sid, "new", headline, lines, False)


def _shot_items(
    before: list[Mapping[str, Any]], after: list[Mapping[str, Any]], *, show_noise: bool
) -> tuple[list[_Row], int]:
    """(key, title, status, headline, lines, noise_only) per shot touched; hidden noise count."""
    ids_a = [str(s.get("shot_id", i)) for i, s in enumerate(after)]
    match = _match_shots(before, after)
    matched = sorted(match)
    still = {matched[k] for k in _lcs_keep([match[j] for j in matched])}
    hidden = 0
    order: list[tuple[float, _Row]] = []
    for j, shot in enumerate(after):
        if j not in match:
            order.append((float(j), _new_row(shot, j=j, before=before, ids_a=ids_a)))
            continue
        old = before[match[j]]
        row = _kept_row(
            old,
            shot,
            j=j,
            was=match[j],
            moved=j not in still,
            ids_a=ids_a,
            show_noise=show_noise,
        )
        if row is not None:
            order.append((float(j), row))
        elif _noise_changed(old, shot):
            hidden += 1
    # Cut shots go where they were: after the item of the shot that preceded them.
    before_to_after = {i: j for j, i in match.items()}
    for i, shot in enumerate(before):
        if i in before_to_after:
            continue
        sid = str(shot.get("shot_id", i))
        lines, _ = _shot_lines(shot, None, index=None, show_noise=False)
        headline = f"cut ({_secs(shot.get('duration_s'))} s)"
        prev = max((before_to_after[k] for k in range(i) if k in before_to_after), default=-1)
        order.append((prev + 0.5 + i / 10_000, (sid, sid, "cut", headline, lines, False)))
    order.sort(key=lambda pair: pair[0])
    return [row for _, row in order], hidden


# -- the diff -----------------------------------------------------------------------------


def _brief_lines(key: str, before: Any, after: Any) -> list[DiffLine]:
    path = f"brief.{key}"
    if (
        isinstance(before, list | type(None))
        and isinstance(after, list)
        and all(isinstance(x, str) for x in [*(before or []), *after])
    ):
        old, new = list(before or []), list(after)
        lines: list[DiffLine] = []
        matcher = difflib.SequenceMatcher(None, old, new, autojunk=False)
        singular = _label(key[:-1] if key.endswith("s") else key)
        for tag, i1, i2, j1, j2 in matcher.get_opcodes():
            if tag == "equal":
                continue
            olds, news = list(range(i1, i2)), list(range(j1, j2))
            while olds or news:
                i = olds.pop(0) if olds else None
                j = news.pop(0) if news else None
                label = f"{singular} {(j if j is not None else i or 0) + 1}"
                edit = Editable(f"{path}[{j}]", new[j]) if j is not None else None
                lines.append(
                    _field_line(
                        label,
                        old[i] if i is not None else "",
                        new[j] if j is not None else "",
                        edit=edit,
                    )
                )
        return lines
    edit = Editable(path, after) if isinstance(after, str) else None
    return [_field_line("", before, after, edit=edit)]


def _runtime(manifest: Mapping[str, Any]) -> float:
    return round(
        sum(float(s.get("duration_s", 0) or 0) for s in manifest.get("shots", []) or []), 3
    )


def _choices(choices: Sequence[Mapping[str, Any]] | None) -> tuple[ChoiceView, ...]:
    return tuple(
        ChoiceView(
            index=n,
            slot=str(c.get("slot", "")),
            label=slot_label(str(c.get("slot", ""))),
            path=c.get("path"),
            options=tuple(str(o) for o in c.get("options", [])),
        )
        for n, c in enumerate(choices or [])
    )


def _raw_items(changes: Sequence[Mapping[str, Any]]) -> list[DiffItem]:
    """A change set that no longer applies, shown change by change."""
    return [
        DiffItem(
            number=n + 1,
            kind="raw",
            key=str(c.get("path")),
            title=str(c.get("path")),
            status="changed",
            headline="as proposed",
            lines=(_field_line("Value", c.get("before"), c.get("after")),),
        )
        for n, c in enumerate(changes)
    ]


def build_diff(
    brief: Mapping[str, Any],
    manifest: Mapping[str, Any],
    changes: Sequence[Mapping[str, Any]],
    choices: Sequence[Mapping[str, Any]] | None = None,
    *,
    show_noise: bool = False,
) -> ProposalDiff:
    """The readable diff of ``changes`` (and ``choices``) against a brief and manifest.

    Args:
        brief, manifest: the version the changes are written against.
        changes: ``FieldChange`` dicts (``path``, ``before``, ``after``).
        choices: ``Choice`` dicts (``slot``, ``path``, ``options``).
        show_noise: include seeds, keyframe prompts, start times and id-only changes.
    """
    views = _choices(choices)
    try:
        new_brief, new_manifest = apply_changes(
            dict(brief), dict(manifest), [dict(c) for c in changes]
        )
    except (ValueError, TypeError, KeyError) as exc:
        return ProposalDiff(
            items=tuple(_raw_items(changes)),
            choices=views,
            applies=False,
            problems=(f"the changes do not apply to this brief version: {exc}",),
        )
    rows: list[tuple[str, str, str, ItemStatus, str, list[DiffLine], bool]] = []
    keys = list(brief) + [k for k in new_brief if k not in brief]
    for key in keys:
        old, new = brief.get(key), new_brief.get(key)
        if old == new:
            continue
        status: ItemStatus = "new" if old in (None, "", []) else "changed"
        if new in (None, "", []):
            status = "cut"
        rows.append(
            ("brief", f"brief.{key}", _label(key), status, "", _brief_lines(key, old, new), False)
        )
    hidden = 0
    for key in list(manifest) + [k for k in new_manifest if k not in manifest]:
        if key == "shots":
            continue
        old, new = manifest.get(key), new_manifest.get(key)
        if old == new:
            continue
        if key in NOISE_MANIFEST_FIELDS:
            if show_noise:
                line = _field_line(_label(key), old, new, noise=True)
                rows.append(
                    ("manifest", f"manifest.{key}", _label(key), "changed", "", [line], True)
                )
            else:
                hidden += 1
            continue
        line = _field_line(_label(key), old, new)
        rows.append(("manifest", f"manifest.{key}", _label(key), "changed", "", [line], False))
    shot_rows, hidden_shots = _shot_items(
        list(manifest.get("shots", []) or []),
        list(new_manifest.get("shots", []) or []),
        show_noise=show_noise,
    )
    hidden += hidden_shots
    rows.extend(("shot", *row) for row in shot_rows)
    items = tuple(
        DiffItem(
            number=n + 1,
            kind=kind,  # type: ignore[arg-type]
            key=key,
            title=title,
            status=status,
            headline=headline,
            lines=tuple(lines),
            noise_only=noise_only,
        )
        for n, (kind, key, title, status, headline, lines, noise_only) in enumerate(rows)
    )
    before_rt, after_rt = _runtime(manifest), _runtime(new_manifest)
    return ProposalDiff(
        items=items,
        choices=views,
        runtime=(before_rt, after_rt) if before_rt != after_rt else None,
        hidden_noise=hidden,
    )


def diff_proposal(
    proposal: Mapping[str, Any],
    brief: Mapping[str, Any],
    manifest: Mapping[str, Any],
    *,
    show_noise: bool = False,
) -> ProposalDiff:
    """:func:`build_diff` of a proposal as ``proposals --json`` shows it."""
    return build_diff(
        brief,
        manifest,
        proposal.get("changes", []),
        proposal.get("choices", []),
        show_noise=show_noise,
    )


# -- rendering ----------------------------------------------------------------------------


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


# -- edits back into changes ----------------------------------------------------------------


def _tokens(path: str) -> list[str]:
    root = "brief" if path.startswith("brief") else "manifest"
    return [root] + [
        m.group(1) or f"[{m.group(2)}]" for m in PATH_TOKEN.finditer(path[len(root) :])
    ]


def _written_paths(
    brief: Mapping[str, Any], manifest: Mapping[str, Any], changes: Sequence[Mapping[str, Any]]
) -> list[list[str]]:
    """Each change's path with ``[+]`` resolved to the index it appends at."""
    out: list[list[str]] = []
    for n, change in enumerate(changes):
        path = str(change["path"])
        if path.endswith("[+]"):
            docs = apply_changes(dict(brief), dict(manifest), [dict(c) for c in changes[:n]])
            found, parent = value_at(docs[0], docs[1], path[:-3])
            path = f"{path[:-3]}[{len(parent) if found and isinstance(parent, list) else 0}]"
        out.append(_tokens(path))
    return out


def _set_in(value: Any, tokens: list[str], new: Any) -> Any:
    if not tokens:
        return new
    head, rest = tokens[0], tokens[1:]
    if head.startswith("["):
        items = list(value)
        items[int(head[1:-1])] = _set_in(items[int(head[1:-1])], rest, new)
        return items
    out = dict(value)
    out[head] = _set_in(out.get(head), rest, new)
    return out


def edited_changes(
    brief: Mapping[str, Any],
    manifest: Mapping[str, Any],
    changes: Sequence[Mapping[str, Any]],
    edits: Mapping[str, Any],
) -> list[dict[str, Any]]:
    """The proposal's changes with a human's edits written into them.

    Args:
        brief, manifest: the version the changes are written against.
        changes: the proposal's ``FieldChange`` dicts.
        edits: new values by their place in the proposed documents (an :class:`Editable`'s
            ``path``, e.g. ``manifest.shots[0].caption``).

    Each edit lands in the change that last wrote that place (inside its value when the
    change wrote a whole shot or the whole shot list); a place no change wrote gets a
    change of its own. ``before`` values stay as proposed.
    """
    out = [copy.deepcopy(dict(c)) for c in changes]
    written = _written_paths(brief, manifest, changes)
    for location, value in edits.items():
        target = _tokens(location)
        writer = next(
            (k for k in reversed(range(len(out))) if target[: len(written[k])] == written[k]),
            None,
        )
        if writer is None:
            found, before = value_at(brief, manifest, location)
            out.append({"path": location, "before": before if found else None, "after": value})
            continue
        out[writer]["after"] = _set_in(out[writer]["after"], target[len(written[writer]) :], value)
    return out
