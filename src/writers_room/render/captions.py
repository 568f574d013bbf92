"""Captions and subtitles: burned-in overlays inside the 9:16 safe area, and WebVTT.

Two kinds of text are burned in, each in a band of its own
(:data:`~writers_room.render._layout.FRAME_LAYOUT`) that no storyboard label uses: a
shot's on-screen ``caption`` for the whole shot, and a subtitle per line of dialogue —
the speaker's name, then the line — while it is spoken. ``captions.vtt`` carries the same
cues: each caption for its shot, each line for its subtitle's time, the speaker as a
WebVTT voice (``<v Mara Quinn>MARA: …``).

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
from writers_room.render._layout import FRAME_LAYOUT, draw_text_block, fit_text, text_block_size
from writers_room.render.dialogue import PlacedLine
from writers_room.render.fonts import FontStack
from writers_room.render.validate import Timeline

__all__ = [
    "CaptionOverlay",
    "Cue",
    "caption_overlay",
    "dialogue_cues",
    "subtitle_overlay",
    "vtt_text",
    "write_caption_overlays",
    "write_vtt",
]

MAX_CAPTION_LINES = 2
MAX_SUBTITLE_LINES = 3
SPEAKER_COLOUR = (255, 214, 90, 255)


@dataclass(frozen=True)
class Cue:
    """A dialogue subtitle: its text, its speaker and when it shows (timeline frames)."""

    text: str
    speaker: str
    character: str
    first_frame: int
    end_frame: int


@dataclass(frozen=True)
class CaptionOverlay:
    """A caption drawn into an RGBA image, and where it goes on the frame."""

    path: Path
    x: int
    y: int
    width: int
    height: int
    first_frame: int | None = None
    """First timeline frame it shows on (``None``: from the start of its shot's clip)."""
    end_frame: int | None = None
    """Timeline frame it is gone by (``None``: to the end of its shot's clip)."""


def _plate(
    text: str,
    frame_size: tuple[int, int],
    fonts: FontStack | None,
    *,
    band: str,
    max_lines: int,
    scale: float,
    speaker: str = "",
) -> tuple[Image.Image, int, int]:
    """Text on a dark rounded plate, centred in ``band`` of the frame (see FrameLayout)."""
    width, height = frame_size
    left, top, right, bottom = FRAME_LAYOUT.band(band, width, height)
    pad_x = max(4, round(width * 0.025))
    pad_y = max(2, round(height * 0.006))
    face, lines = fit_text(
        text,
        max_width=right - left - 2 * pad_x,
        max_height=bottom - top - 2 * pad_y,
        max_size=max(8, round(height * scale)),
        min_size=max(6, round(height * scale * 0.75)),
        max_lines=max_lines,
        fonts=fonts,
    )
    text_w, text_h = text_block_size(lines, face)
    plate_w = min(right - left - 2, text_w + 2 * pad_x)
    plate_h = min(bottom - top, text_h + 2 * pad_y)
    plate = Image.new("RGBA", (plate_w, plate_h), (0, 0, 0, 0))
    draw = ImageDraw.Draw(plate)
    draw.rounded_rectangle(
        [0, 0, plate_w - 1, plate_h - 1], radius=max(2, pad_y * 2), fill=(0, 0, 0, 176)
    )
    draw_text_block(draw, lines, face, origin=(0, pad_y), box_width=plate_w)
    prefix = f"{speaker}:" if speaker else ""
    if prefix and lines and lines[0].startswith(prefix):
        # The speaker's name again, in its own colour, exactly over the white one.
        x = (plate_w - face.getlength(lines[0])) / 2
        stroke = max(1, face.line_height // 14)
        face.draw(
            draw,
            (x, pad_y),
            prefix,
            fill=SPEAKER_COLOUR,
            stroke_width=stroke,
            stroke_fill=(0, 0, 0, 255),
        )
    x = left + (right - left - plate_w) // 2
    y = top + (bottom - top - plate_h) // 2 if band == "caption" else top
    # overlay on yuv420p snaps to even coordinates (chroma is subsampled 2x2); choosing
    # even ones here (rounding inwards) keeps the plate exactly where the layout put it.
    return plate, x + x % 2, y + y % 2


def caption_overlay(
    text: str, frame_size: tuple[int, int], fonts: FontStack | None = None
) -> tuple[Image.Image, int, int]:
    """Draw ``text`` as a caption plate for a frame of ``frame_size``.

    The plate is centred in the caption band (above the subtitles, below the storyboard's
    figures' name tags), inside the safe area. ``fonts`` defaults to the built-in stack.

    Returns:
        The RGBA plate (cropped to its box) and its top-left position on the frame.
    """
    return _plate(text, frame_size, fonts, band="caption", max_lines=MAX_CAPTION_LINES, scale=0.027)


def subtitle_overlay(
    text: str, frame_size: tuple[int, int], fonts: FontStack | None = None, speaker: str = ""
) -> tuple[Image.Image, int, int]:
    """Draw a dialogue subtitle (``"MARA: line"``, the name in its own colour) at the top
    of the subtitle band."""
    return _plate(
        text,
        frame_size,
        fonts,
        band="subtitles",
        max_lines=MAX_SUBTITLE_LINES,
        scale=0.028,
        speaker=speaker,
    )


def dialogue_cues(
    placed: Sequence[PlacedLine], timing: Sequence[tuple[float, float]], timeline: Timeline
) -> list[Cue]:
    """Each line's subtitle as a :class:`Cue` on whole timeline frames."""
    cues = []
    for item, (start, end) in zip(placed, timing, strict=True):
        first = min(timeline.total_frames - 1, round(start * timeline.fps))
        last = min(timeline.total_frames, max(first + 1, round(end * timeline.fps)))
        cues.append(
            Cue(
                text=item.line.subtitle,
                speaker=item.line.speaker,
                character=item.line.character or item.line.speaker,
                first_frame=first,
                end_frame=last,
            )
        )
    return cues


def write_caption_overlays(
    manifest: ShotManifest,
    frame_size: tuple[int, int],
    folder: Path,
    fonts: FontStack | None = None,
    *,
    cues: Sequence[Cue] = (),
    timeline: Timeline | None = None,
) -> list[list[CaptionOverlay]]:
    """Per shot, the plates burned into its clip: its caption (the whole clip) and each
    subtitle that shows during the shot (only for its frames).

    A subtitle that runs across a cut is given to both shots' clips, for the frames of
    each, so it stays on screen through the cross-fade.
    """
    folder.mkdir(parents=True, exist_ok=True)
    overlays: list[list[CaptionOverlay]] = [[] for _ in manifest.shots]
    for index, shot in enumerate(manifest.shots):
        if shot.caption.strip():
            plate, x, y = caption_overlay(shot.caption, frame_size, fonts)
            # The file name is ours, not the caption's: text never becomes a path either.
            path = folder / f"caption_{index:03d}.png"
            plate.save(path, format="PNG", compress_level=1)
            overlays[index].append(
                CaptionOverlay(path=path, x=x, y=y, width=plate.width, height=plate.height)
            )
    if not cues or timeline is None:
        return overlays
    starts = timeline.starts
    ends = (*starts[1:], timeline.total_frames)
    for number, cue in enumerate(cues):
        plate, x, y = subtitle_overlay(cue.text, frame_size, fonts, speaker=cue.speaker)
        path = folder / f"subtitle_{number:03d}.png"
        plate.save(path, format="PNG", compress_level=1)
        for index in range(len(manifest.shots)):
            if cue.first_frame < ends[index] and starts[index] < cue.end_frame:
                overlays[index].append(
                    CaptionOverlay(
                        path=path,
                        x=x,
                        y=y,
                        width=plate.width,
                        height=plate.height,
                        first_frame=cue.first_frame,
                        end_frame=cue.end_frame,
                    )
                )
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


def vtt_text(manifest: ShotManifest, timeline: Timeline, cues: Sequence[Cue] = ()) -> str:
    """The WebVTT document: a cue per captioned shot, and a cue per line of dialogue.

    Caption cues span their frame-rounded shot; dialogue cues are the burned-in
    subtitles' (``cues``), the speaker as a WebVTT voice. Without ``cues`` a shot's
    dialogue joins its caption's cue, as the text of the shot.
    """
    blocks: list[tuple[int, int, str]] = []
    ends: Sequence[int] = (*timeline.starts[1:], timeline.total_frames)
    for index, shot in enumerate(manifest.shots):
        parts = [shot.caption.strip()]
        if not cues and shot.dialogue.strip() and shot.dialogue.strip() != shot.caption.strip():
            parts.append(shot.dialogue.strip())
        body = _vtt_escape("\n".join(part for part in parts if part))
        if body:
            blocks.append((timeline.starts[index], ends[index], body))
    for cue in cues:
        body = _vtt_escape(cue.text)
        if body:
            voice = _vtt_escape(cue.character).replace("\n", " ")
            blocks.append((cue.first_frame, cue.end_frame, f"<v {voice}>{body}"))
    blocks.sort(key=lambda block: (block[0], block[1]))
    out = ["WEBVTT", ""]
    for number, (first, end, body) in enumerate(blocks, start=1):
        start_s, end_s = _vtt_time(first, timeline.fps), _vtt_time(end, timeline.fps)
        out += [str(number), f"{start_s} --> {end_s}", body, ""]
    return "\n".join(out)


def write_vtt(
    manifest: ShotManifest, timeline: Timeline, path: Path, cues: Sequence[Cue] = ()
) -> Path:
    """Write :func:`vtt_text` to ``path`` (UTF-8)."""
    path.write_text(vtt_text(manifest, timeline, cues), encoding="utf-8")
    return path
