"""Shared 9:16 layout: the safe area, the font, and text fitting.

Storyboards, burned-in captions and thumbnails all place text with these helpers, so a
caption that fits on the storyboard fits on the video and the thumbnail too.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

from PIL import Image, ImageDraw, ImageFont

__all__ = [
    "SAFE_AREA",
    "FontT",
    "SafeArea",
    "draw_text_block",
    "fit_text",
    "font",
    "font_id",
    "wrap_text",
]

FontT = ImageFont.FreeTypeFont | ImageFont.ImageFont


@dataclass(frozen=True)
class SafeArea:
    """Margins (fractions of the frame) that platform UI covers on 9:16 players.

    The right margin is the widest because TikTok, Reels and Shorts stack their like /
    comment / share buttons there; the bottom holds the description and progress bar.
    """

    top: float = 0.12
    bottom: float = 0.22
    left: float = 0.07
    right: float = 0.15

    def box(self, width: int, height: int) -> tuple[int, int, int, int]:
        """The safe rectangle ``(left, top, right, bottom)`` in pixels."""
        return (
            round(width * self.left),
            round(height * self.top),
            round(width * (1 - self.right)),
            round(height * (1 - self.bottom)),
        )


SAFE_AREA = SafeArea()


@functools.cache
def font(size: int) -> FontT:
    """Return the render font at ``size`` pixels.

    Pillow's embedded scalable font is used on purpose instead of a system font: it exists
    wherever Pillow does (no downloads, no fontconfig), so a storyboard or caption renders
    the same on every machine and the keyframe cache stays valid across hosts.
    """
    try:
        return ImageFont.load_default(size=max(6, size))
    except (ImportError, OSError, TypeError):
        # Pillow without FreeType has only the fixed bitmap font; still legible.
        return ImageFont.load_default()


def font_id() -> str:
    """A string that changes when the font would (part of keyframe cache keys)."""
    import PIL

    probe = font(32)
    kind = "freetype" if isinstance(probe, ImageFont.FreeTypeFont) else "bitmap"
    return f"pillow-{PIL.__version__}-default-{kind}"


def _text_width(text: str, face: FontT) -> float:
    return float(face.getlength(text))


def wrap_text(text: str, face: FontT, max_width: int) -> list[str]:
    """Greedy word-wrap ``text`` to ``max_width`` pixels; keeps explicit line breaks.

    Words longer than a line are broken between characters, so no input overflows.
    """
    lines: list[str] = []
    for paragraph in text.replace("\r\n", "\n").replace("\t", " ").split("\n"):
        words = paragraph.split(" ")
        current = ""
        for word in words:
            candidate = word if not current else f"{current} {word}"
            if _text_width(candidate, face) <= max_width:
                current = candidate
                continue
            if current:
                lines.append(current)
            current = ""
            while _text_width(word, face) > max_width and len(word) > 1:
                cut = len(word) - 1
                while cut > 1 and _text_width(word[:cut], face) > max_width:
                    cut -= 1
                lines.append(word[:cut])
                word = word[cut:]
            current = word
        lines.append(current)
    while lines and not lines[-1]:
        lines.pop()
    return lines


def _line_height(face: FontT) -> int:
    ascent, descent = face.getmetrics() if hasattr(face, "getmetrics") else (10, 3)
    return int((ascent + descent) * 1.15)


def fit_text(
    text: str,
    *,
    max_width: int,
    max_height: int,
    max_size: int,
    min_size: int,
    max_lines: int | None = None,
) -> tuple[FontT, list[str]]:
    """Find the largest font size at which ``text`` fits the box, and its lines.

    At ``min_size`` the text is wrapped anyway and lines past the box are dropped with an
    ellipsis, so the result never overflows.

    Returns:
        The font and the wrapped lines.
    """
    size = max_size
    while True:
        face = font(size)
        lines = wrap_text(text, face, max_width)
        fits_lines = max_lines is None or len(lines) <= max_lines
        if (fits_lines and len(lines) * _line_height(face) <= max_height) or size <= min_size:
            break
        size = max(min_size, int(size * 0.9))
    limit = max(1, max_height // max(1, _line_height(face)))
    if max_lines is not None:
        limit = min(limit, max_lines)
    if len(lines) > limit:
        lines = lines[:limit]
        lines[-1] = lines[-1].rstrip() + "…"
    return face, lines


def text_block_size(lines: list[str], face: FontT) -> tuple[int, int]:
    """Width and height of wrapped ``lines`` drawn with ``face``."""
    width = max((int(_text_width(line, face)) + 1 for line in lines), default=0)
    return width, len(lines) * _line_height(face)


def draw_text_block(
    draw: ImageDraw.ImageDraw,
    lines: list[str],
    face: FontT,
    *,
    origin: tuple[int, int],
    box_width: int,
    fill: tuple[int, ...] = (255, 255, 255, 255),
    stroke: tuple[int, ...] | None = (0, 0, 0, 255),
    align: str = "center",
) -> int:
    """Draw ``lines`` from ``origin`` inside a box ``box_width`` wide.

    Text is passed to Pillow as data, never interpreted: no markup, no escapes.

    Returns:
        The y coordinate just below the last line.
    """
    x0, y = origin
    line_height = _line_height(face)
    stroke_width = max(1, line_height // 14) if stroke is not None else 0
    for line in lines:
        width = _text_width(line, face)
        if align == "center":
            x = x0 + (box_width - width) / 2
        elif align == "right":
            x = x0 + box_width - width
        else:
            x = x0
        draw.text(
            (x, y),
            line,
            font=face,
            fill=fill,
            stroke_width=stroke_width,
            stroke_fill=stroke,
        )
        y += line_height
    return y


def new_overlay(size: tuple[int, int]) -> Image.Image:
    """A fully transparent RGBA image to draw text on."""
    return Image.new("RGBA", size, (0, 0, 0, 0))
