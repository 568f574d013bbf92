"""Dialogue and shots: the items of the manifest's shot list (changed, moved, new, cut)."""

from __future__ import annotations

import difflib
import json
from collections.abc import Mapping
from typing import Any

from writers_room.brief.diff.model import DiffLine, Editable, ItemStatus, Span
from writers_room.brief.diff.spans import (
    TOKEN,
    field_label,
    field_line,
    line_status,
    merge_spans,
    trimmed_spans,
    value_text,
    word_spans,
)
from writers_room.brief.script import parse_dialogue

__all__ = ["LINE_PAIR_MIN_RATIO", "NOISE_SHOT_FIELDS", "SHOT_FIELDS", "ShotRow", "shot_items"]

# Shot fields a writer reads, in the order they are shown.
SHOT_FIELDS = ("action", "caption", "camera", "framing", "mood")
# Manifest fields that are bookkeeping, not story: hidden unless asked.
NOISE_SHOT_FIELDS = ("start_s", "seed", "keyframe_prompt")
# Dialogue lines this similar (same speaker) are one edited line, not a cut and a new one.
LINE_PAIR_MIN_RATIO = 0.5


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
                    None, TOKEN.findall(old[i][2]), TOKEN.findall(new[j][2]), autojunk=False
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
        old, new = value_text(b.get(name, "")), value_text(a.get(name, ""))
        if old == new and not (name == "action" and after is not None and before is None):
            continue
        if not old and not new:
            continue
        substantive = substantive or old != new
        edit = Editable(f"{where}.{name}", new) if where and name in ("action", "caption") else None
        lines.append(field_line(field_label(name), old, new, edit=edit))
    old_d, new_d = value_text(b.get("dialogue", "")), value_text(a.get("dialogue", ""))
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
        lines.append(DiffLine("field", "Characters", merge_spans(joined), "changed"))
    old_t, new_t = b.get("duration_s"), a.get("duration_s")
    if old_t != new_t and (old_t is not None or new_t is not None):
        substantive = True
        lines.append(
            DiffLine(
                "field",
                "Duration",
                merge_spans(
                    [
                        *trimmed_spans("del", f"{_secs(old_t)} s" if old_t is not None else ""),
                        *trimmed_spans("ins", f"{_secs(new_t)} s" if new_t is not None else ""),
                    ]
                ),
                line_status(value_text(old_t), value_text(new_t)),
                edit=Editable(f"{where}.duration_s", _secs(new_t), number=True)
                if where and new_t is not None
                else None,
            )
        )
    if show_noise and before is not None and after is not None:
        if b.get("shot_id") != a.get("shot_id"):
            lines.append(field_line("Shot id", b.get("shot_id"), a.get("shot_id"), noise=True))
        for name in NOISE_SHOT_FIELDS:
            if b.get(name) != a.get(name):
                lines.append(field_line(field_label(name), b.get(name), a.get(name), noise=True))
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


# One shot item: (key, title, status, headline, lines, noise_only).
ShotRow = tuple[str, str, ItemStatus, str, list[DiffLine], bool]


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
) -> ShotRow | None:
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
) -> ShotRow:
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


def shot_items(
    before: list[Mapping[str, Any]], after: list[Mapping[str, Any]], *, show_noise: bool
) -> tuple[list[ShotRow], int]:
    """(key, title, status, headline, lines, noise_only) per shot touched; hidden noise count."""
    ids_a = [str(s.get("shot_id", i)) for i, s in enumerate(after)]
    match = _match_shots(before, after)
    matched = sorted(match)
    still = {matched[k] for k in _lcs_keep([match[j] for j in matched])}
    hidden = 0
    order: list[tuple[float, ShotRow]] = []
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
