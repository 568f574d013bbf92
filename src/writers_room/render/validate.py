"""Render-time checks of a shot manifest, with errors that name shot, field and value.

:class:`~writers_room.brief.manifest.ShotManifest` already guarantees a contiguous,
vertical timeline. Rendering needs more: a 9:16 frame, whole frames per shot, ids that are
safe folder names, and captions that fit the safe area. Everything is checked before any
file or database row is written.
"""

from __future__ import annotations

import json
import re
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from writers_room.brief.manifest import ShotManifest
from writers_room.errors import InputError
from writers_room.render.fonts import FontStack, installed_font_for

__all__ = [
    "MAX_CAPTION_CHARS",
    "MAX_RUNTIME_S",
    "Timeline",
    "check_fonts",
    "check_manifest",
    "is_safe_id",
    "parse_manifest",
    "timeline",
]

MAX_CAPTION_CHARS = 200
MAX_PROMPT_CHARS = 2000
MAX_RUNTIME_S = 600.0
MAX_SEED = 2**63 - 1
_SAFE_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,127}")
SAFE_ID_RULE = "letters, digits, '.', '_' or '-' (at most 128, starting with a letter or digit)"


def is_safe_id(value: str) -> bool:
    """Whether ``value`` can name a folder as it is: no separator, no '..', no control."""
    return _SAFE_ID.fullmatch(value) is not None and value not in {".", ".."}


@dataclass(frozen=True)
class Timeline:
    """Frame-exact shot boundaries: shot ``i`` covers frames ``[starts[i], starts[i+1])``."""

    fps: int
    starts: tuple[int, ...]
    total_frames: int

    @property
    def frames(self) -> tuple[int, ...]:
        """Frames per shot."""
        ends = (*self.starts[1:], self.total_frames)
        return tuple(end - start for start, end in zip(self.starts, ends, strict=True))


def timeline(manifest: ShotManifest) -> Timeline:
    """Round each shot boundary to the nearest frame.

    Rounding boundaries (not durations) keeps the error of every cut within half a frame
    and makes the frame counts add up to the episode length exactly.
    """
    fps = manifest.fps
    starts = tuple(round(shot.start_s * fps) for shot in manifest.shots)
    return Timeline(fps=fps, starts=starts, total_frames=round(manifest.runtime_s * fps))


def _where(index: int, shot_id: str) -> str:
    return f"shots[{index}] ({shot_id!r})"


def _bad_chars(text: str, *, allow_newline: bool) -> str | None:
    for char in text:
        if char == "\n" and allow_newline:
            continue
        if unicodedata.category(char) in {"Cc", "Cs", "Co"} and char != "\t":
            return char
    return None


def check_manifest(manifest: ShotManifest) -> None:
    """Check that ``manifest`` can be rendered, before anything is written.

    Args:
        manifest: The manifest to check.

    Raises:
        InputError: naming the shot, the field and the value, and saying what would be
            valid, e.g. ``shots[3] ('s4').duration_s is 0.01: ...``.
    """
    for name in ("series_id", "episode_id"):
        value = getattr(manifest, name)
        if not is_safe_id(value):
            raise InputError(
                f"{name} {value!r} cannot name a render folder: use {SAFE_ID_RULE}",
                field=name,
                value=value,
            )
    if manifest.width * 16 != manifest.height * 9:
        raise InputError(
            f"width x height is {manifest.width}x{manifest.height}; the render pipeline "
            "makes 9:16 episodes, e.g. 1080x1920 or 720x1280",
            field="width",
            value=f"{manifest.width}x{manifest.height}",
        )
    if manifest.runtime_s > MAX_RUNTIME_S:
        raise InputError(
            f"runtime is {manifest.runtime_s:g} s; at most {MAX_RUNTIME_S:g} s can be rendered",
            field="shots",
            value=manifest.runtime_s,
        )
    frames = timeline(manifest).frames
    for index, shot in enumerate(manifest.shots):
        where = _where(index, shot.shot_id)
        if frames[index] < 1:
            raise InputError(
                f"{where}.duration_s is {shot.duration_s:g}: it spans no whole frame at "
                f"{manifest.fps} fps; use at least {1 / manifest.fps:.3f} s",
                field=f"shots[{index}].duration_s",
                value=shot.duration_s,
            )
        if len(shot.caption) > MAX_CAPTION_CHARS:
            raise InputError(
                f"{where}.caption is {len(shot.caption)} characters; at most "
                f"{MAX_CAPTION_CHARS} fit the 9:16 safe area legibly",
                field=f"shots[{index}].caption",
                value=shot.caption[:40] + "…",
            )
        for name in ("caption", "dialogue", "action", "camera", "framing", "mood"):
            bad = _bad_chars(getattr(shot, name), allow_newline=name in {"caption", "dialogue"})
            if bad is not None:
                raise InputError(
                    f"{where}.{name} contains the control character U+{ord(bad):04X}; "
                    "use printable text (line breaks are allowed in caption and dialogue)",
                    field=f"shots[{index}].{name}",
                    value=getattr(shot, name),
                )
        if len(shot.keyframe_prompt) > MAX_PROMPT_CHARS:
            raise InputError(
                f"{where}.keyframe_prompt is {len(shot.keyframe_prompt)} characters; at "
                f"most {MAX_PROMPT_CHARS} are accepted",
                field=f"shots[{index}].keyframe_prompt",
                value=shot.keyframe_prompt[:40] + "…",
            )
        if shot.seed > MAX_SEED:
            raise InputError(
                f"{where}.seed is {shot.seed}; seeds must be below 2**63",
                field=f"shots[{index}].seed",
                value=shot.seed,
            )


def _drawn_text(
    manifest: ShotManifest, fonts: FontStack, storyboard: FontStack | None, headline: str | None
) -> list[tuple[int | None, str, str, FontStack]]:
    """Every (shot index, field, text, fonts that draw it) the render draws."""
    drawn: list[tuple[int | None, str, str, FontStack]] = []
    if headline:
        drawn.append((None, "headline", headline, fonts))
    for index, shot in enumerate(manifest.shots):
        drawn.append((index, "caption", shot.caption, fonts))
        drawn.append((index, "dialogue", shot.dialogue.upper(), fonts))  # subtitles, names
        drawn.append((index, "dialogue", shot.dialogue, fonts))
        if not headline and not shot.caption.strip():
            drawn.append((index, "action", shot.action, fonts))  # the thumbnail's headline
        if storyboard is not None:
            drawn += [
                (index, "action", shot.action or shot.keyframe_prompt, storyboard),
                (index, "camera", shot.camera.upper(), storyboard),
                (index, "framing", shot.framing.upper(), storyboard),
                (index, "mood", shot.mood.upper(), storyboard),
                (index, "characters", " ".join(shot.characters).upper(), storyboard),
            ]
    return drawn


def check_fonts(
    manifest: ShotManifest,
    fonts: FontStack,
    *,
    storyboard: FontStack | None = None,
    headline: str | None = None,
) -> None:
    """Check that some font can draw every character the render will draw.

    Captions and thumbnail headlines are drawn with ``fonts``; with ``storyboard`` (the
    storyboard renderer's fonts) the card's fields are checked too. A character no font
    has would come out as a box, so it is refused here, before anything is written.

    Raises:
        InputError: naming the shot, the field and the characters, and how to add a font.
    """
    for index, name, text, stack in _drawn_text(manifest, fonts, storyboard, headline):
        missing = stack.missing(text)
        if not missing:
            continue
        where = (
            "headline"
            if index is None
            else f"{_where(index, manifest.shots[index].shot_id)}.{name}"
        )
        shown = ", ".join(
            f"{char!r} (U+{ord(char):04X} {unicodedata.name(char, 'unnamed')})"
            for char in missing[:6]
        )
        more = f" and {len(missing) - 6} more" if len(missing) > 6 else ""
        hint = installed_font_for(missing)
        fix = (
            f"e.g. {hint}, which has them on this machine"
            if hint
            else "e.g. Noto Sans CJK for Chinese, Japanese and Korean, or the Noto Sans font "
            "of that script"
        )
        raise InputError(
            f"{where} has characters none of the render's fonts can draw: {shown}{more}. "
            f"Add a font file that has them to WRITERS_ROOM_FONTS ({fix}); fonts in use: "
            + ", ".join(source.label for source in stack.sources),
            field="headline" if index is None else f"shots[{index}].{name}",
            value=text,
        )


def parse_manifest(data: dict[str, Any] | str | bytes, *, file: str | None = None) -> ShotManifest:
    """Parse a manifest from a dict or JSON text and check it for rendering.

    Pydantic's errors are rewritten into the room's style, naming the shot by index and
    id: ``shots[3] ('s4').duration_s: Input should be greater than 0 (got -1)``.

    Args:
        data: The manifest as a dict, or JSON text.
        file: The file it came from, for the error message.

    Returns:
        The validated manifest.

    Raises:
        InputError: the manifest is not valid JSON, breaks the schema, or cannot be
            rendered.
    """
    prefix = f"{file}: " if file else ""
    raw: Any = data
    if isinstance(data, str | bytes):
        try:
            raw = json.loads(data)
        except json.JSONDecodeError as exc:
            raise InputError(
                f"{prefix}not valid JSON: {exc.msg} at line {exc.lineno}",
                file=file,
                line=exc.lineno,
            ) from exc
    try:
        manifest = ShotManifest.model_validate(raw)
    except ValidationError as exc:
        first = exc.errors()[0]
        loc = list(first.get("loc", ()))
        field = _format_loc(loc, raw)
        value = first.get("input")
        message = first.get("msg", "invalid")
        if message.startswith("Value error, "):
            message = message[len("Value error, ") :]
        where = f"{field}: " if field else ""
        raise InputError(
            f"{prefix}{where}{message} (got {value!r})",
            file=file,
            field=field or None,
            value=value,
        ) from exc
    try:
        check_manifest(manifest)
    except InputError as exc:
        if file:
            exc.file = file
            exc.args = (f"{prefix}{exc.args[0]}",)
        raise
    return manifest


def _format_loc(loc: list[Any], raw: Any) -> str:
    parts: list[str] = []
    if len(loc) >= 2 and loc[0] == "shots" and isinstance(loc[1], int):
        index = loc[1]
        shot_id = "?"
        try:
            shot_id = str(raw["shots"][index].get("shot_id", "?"))
        except (KeyError, IndexError, TypeError, AttributeError):
            pass
        parts.append(f"shots[{index}] ({shot_id!r})")
        rest = loc[2:]
        if rest:
            parts[-1] += "." + ".".join(str(p) for p in rest)
        return parts[0]
    return ".".join(str(p) for p in loc)


def safe_name(text: str, *, limit: int = 48) -> str:
    """A file-name fragment made from ``text`` (ids may hold any characters)."""
    cleaned = re.sub(r"[^A-Za-z0-9._-]+", "-", text).strip("-.")
    return cleaned[:limit] or "shot"


def is_within(path: Path, root: Path) -> bool:
    """Whether ``path`` lies inside ``root`` once both are resolved."""
    try:
        path.resolve().relative_to(root.resolve())
    except ValueError:
        return False
    return True
