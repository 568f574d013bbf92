"""The diff of a proposal: its changes applied to the brief and manifest, item by item."""

from __future__ import annotations

import difflib
from collections.abc import Mapping, Sequence
from typing import Any

from writers_room.brief.diff.model import (
    ChoiceView,
    DiffItem,
    DiffLine,
    Editable,
    ItemStatus,
    ProposalDiff,
)
from writers_room.brief.diff.shots import shot_items
from writers_room.brief.diff.spans import field_label, field_line, slot_label
from writers_room.brief.proposals import apply_changes

__all__ = ["NOISE_MANIFEST_FIELDS", "build_diff", "diff_proposal"]

# Manifest fields that are bookkeeping, not story: hidden unless asked.
NOISE_MANIFEST_FIELDS = ("brief_version", "series_id", "episode_id")


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
        singular = field_label(key[:-1] if key.endswith("s") else key)
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
                    field_line(
                        label,
                        old[i] if i is not None else "",
                        new[j] if j is not None else "",
                        edit=edit,
                    )
                )
        return lines
    edit = Editable(path, after) if isinstance(after, str) else None
    return [field_line("", before, after, edit=edit)]


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
            lines=(field_line("Value", c.get("before"), c.get("after")),),
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
            (
                "brief",
                f"brief.{key}",
                field_label(key),
                status,
                "",
                _brief_lines(key, old, new),
                False,
            )
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
                line = field_line(field_label(key), old, new, noise=True)
                rows.append(
                    ("manifest", f"manifest.{key}", field_label(key), "changed", "", [line], True)
                )
            else:
                hidden += 1
            continue
        line = field_line(field_label(key), old, new)
        rows.append(("manifest", f"manifest.{key}", field_label(key), "changed", "", [line], False))
    shot_rows, hidden_shots = shot_items(
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
