"""An approver's edits written back into a proposal's changes."""

from __future__ import annotations

import copy
from collections.abc import Mapping, Sequence
from typing import Any

from writers_room.brief.paths import value_at
from writers_room.brief.proposals import PATH_TOKEN, apply_changes

__all__ = ["edited_changes"]


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
