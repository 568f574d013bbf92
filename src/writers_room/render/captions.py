"""Captions: burned-in overlays inside the 9:16 safe area, and the WebVTT sidecar.

Caption text never reaches ffmpeg. Each caption is drawn by Pillow into a transparent PNG
(exactly the characters given: no markup, no ``%{...}`` expansion, no filter escaping to
get wrong) and ffmpeg only composites that image. A caption such as ``'; rm -rf ~`` or
``a:b\\c %{pts} [x], y`` therefore renders literally, and no shell is ever involved.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from PIL import Image, ImageDraw

from writers_room.brief.manifest import ShotManifest
from writers_room.render._layout import SAFE_AREA, draw_text_block, fit_text, text_block_size
from writers_room.render.fonts import FontStack
from writers_room.render.validate import Timeline

__all__ = ["CaptionOverlay", "caption_overlay", "vtt_text", "write_caption_overlays", "write_vtt"]

MAX_CAPTION_LINES = 3


@dataclass(frozen=True)
class CaptionOverlay:
    """A caption drawn into an RGBA image, and where it goes on the frame."""

    path: Path
    x: int
    y: int
    width: int
    height: int


def caption_overlay(
    text: str, frame_size: tuple[int, int], fonts: FontStack | None = None
) -> tuple[Image.Image, int, int]:
    """Draw ``text`` as a caption plate for a frame of ``frame_size``.

    The plate is centred in the safe area's width and sits on its bottom edge, above the
    platform's description and progress bar. ``fonts`` defaults to the built-in stack.

    Returns:
        The RGBA plate (cropped to its box) and its top-left position on the frame.
    """
    width, height = frame_size
    left, top, right, bottom = SAFE_AREA.box(width, height)
    pad_x = max(4, round(width * 0.03))
    pad_y = max(3, round(height * 0.012))
    face, lines = fit_text(
        text,
        max_width=right - left - 2 * pad_x,
        max_height=round(height * 0.16),
        max_size=max(8, round(height * 0.036)),
        min_size=max(6, round(height * 0.022)),
        max_lines=MAX_CAPTION_LINES,
        fonts=fonts,
    )
    text_w, text_h = text_block_size(lines, face)
    plate_w = min(right - left, text_w + 2 * pad_x)
    plate_h = text_h + 2 * pad_y
    plate = Image.new("RGBA", (plate_w, plate_h), (0, 0, 0, 0))
    draw = ImageDraw.Draw(plate)
    draw.rounded_rectangle(
        [0, 0, plate_w - 1, plate_h - 1], radius=max(2, pad_y), fill=(0, 0, 0, 150)
    )
    draw_text_block(draw, lines, face, origin=(0, pad_y), box_width=plate_w)
    x = left + (right - left - plate_w) // 2
    y = bottom - plate_h - round(height * 0.01)
    # overlay on yuv420p snaps to even coordinates (chroma is subsampled 2x2); choosing
    # even ones here keeps the plate exactly where the safe-area maths put it.
    return plate, x - x % 2, y - y % 2


def write_caption_overlays(
    manifest: ShotManifest,
    frame_size: tuple[int, int],
    folder: Path,
    fonts: FontStack | None = None,
) -> list[CaptionOverlay | None]:
    """Write one caption plate PNG per captioned shot (``None`` for shots without one)."""
    folder.mkdir(parents=True, exist_ok=True)
    overlays: list[CaptionOverlay | None] = []
    for index, shot in enumerate(manifest.shots):
        if not shot.caption.strip():
            overlays.append(None)
            continue
        plate, x, y = caption_overlay(shot.caption, frame_size, fonts)
        # The file name is ours, not the caption's: text never becomes a path either.
        path = folder / f"caption_{index:03d}.png"
        plate.save(path, format="PNG", compress_level=1)
        overlays.append(CaptionOverlay(path=path, x=x, y=y, width=plate.width, height=plate.height))
    return overlays


def _vtt_time(frame: int, fps: int) -> str:
    millis = round(frame * 1000 / fps)
    hours, rest = divmod(millis, 3_600_000)
    minutes, rest = divmod(rest, 60_000)
    seconds, millis = divmod(rest, 1000)
    return f"{hours:02d}:{minutes:02d}:{seconds:02d}.{millis:03d}"


def _vtt_escape(text: str) -> str:
    # &, < and > are the only characters WebVTT cue text interprets; escaping '>' also
    # keeps a literal "-->" from ending the cue timing line early.
    escaped = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    # A blank line ends a cue, so blank lines inside a caption are dropped.
    return "\n".join(line for line in escaped.splitlines() if line.strip())


def vtt_text(manifest: ShotManifest, timeline: Timeline) -> str:
    """The WebVTT document: one cue per shot with a caption or dialogue.

    Cue times are the frame-rounded shot boundaries, so the sidecar matches the video.
    """
    cues = ["WEBVTT", ""]
    number = 0
    ends: Sequence[int] = (*timeline.starts[1:], timeline.total_frames)
    for index, shot in enumerate(manifest.shots):
        parts = [shot.caption.strip()]
        if shot.dialogue.strip() and shot.dialogue.strip() != shot.caption.strip():
            parts.append(shot.dialogue.strip())
        body = _vtt_escape("\n".join(part for part in parts if part))
        if not body:
            continue
        number += 1
        start = _vtt_time(timeline.starts[index], timeline.fps)
        end = _vtt_time(ends[index], timeline.fps)
        cues += [str(number), f"{start} --> {end}", body, ""]
    return "\n".join(cues)


def write_vtt(manifest: ShotManifest, timeline: Timeline, path: Path) -> Path:
    """Write :func:`vtt_text` to ``path`` (UTF-8)."""
    path.write_text(vtt_text(manifest, timeline), encoding="utf-8")
    return path
