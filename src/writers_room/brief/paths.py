"""Reading a value at a change path (``brief.beats[2]``, ``manifest.shots[3].duration_s``)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from writers_room.brief.proposals import PATH_PATTERN, PATH_TOKEN

__all__ = ["value_at"]


def value_at(brief: Mapping[str, Any], manifest: Mapping[str, Any], path: str) -> tuple[bool, Any]:
    """``(True, value)`` at ``path`` in the brief or manifest, ``(False, None)`` if absent.

    A path ending in ``[+]`` (append) never exists yet.
    """
    if not PATH_PATTERN.match(path):
        return False, None
    root = "brief" if path.startswith("brief") else "manifest"
    target: Any = brief if root == "brief" else manifest
    for match in PATH_TOKEN.finditer(path[len(root) :]):
        key, item = match.group(1), match.group(2)
        if key is not None:
            if not isinstance(target, Mapping) or key not in target:
                return False, None
            target = target[key]
        elif item == "+" or not isinstance(target, list) or int(item) >= len(target):
            return False, None
        else:
            target = target[int(item)]
    return True, target
