"""Shared 9:16 layout: the safe area, fonts, and text fitting.

Storyboards, burned-in captions and thumbnails all place text with these helpers, so a
caption that fits on the storyboard fits on the video and the thumbnail too.
"""

from __future__ import annotations

from dataclasses import dataclass

from PIL import Image, ImageDraw

from writers_room.render.fonts import Face, FontStack, default_fonts

__all__ = [
    "FRAME_LAYOUT",
    "SAFE_AREA",
    "Box",
    "FrameLayout",
    "SafeArea",
    "overlaps",
    "draw_text_block",
    "fit_text",
    "font",
    "wrap_text",
]


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

    @property
    def bottom_edge(self) -> float:
        """The safe area's bottom as a fraction of the frame height."""
        return 1 - self.bottom

    def box(self, width: int, height: int) -> tuple[int, int, int, int]:
        """The safe rectangle ``(left, top, right, bottom)`` in pixels."""
        return (
            round(width * self.left),
            round(height * self.top),
            round(width * (1 - self.right)),
            round(height * (1 - self.bottom)),
        )


SAFE_AREA = SafeArea()

Box = tuple[int, int, int, int]
"""A rectangle ``(left, top, right, bottom)`` in pixels, right and bottom exclusive."""


def overlaps(a: Box, b: Box) -> bool:
    """Whether two boxes share any pixel."""
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


@dataclass(frozen=True)
class FrameLayout:
    """Where each kind of text may go on a 9:16 frame, as fractions of its height.

    Every band spans the safe area's width and lies inside it, and no two bands overlap:
    the storyboard draws its labels only in ``header`` and ``action`` (and figure name
    tags above ``caption``), the on-screen caption goes in ``caption`` and the dialogue
    subtitles in ``subtitles``. So a burned-in caption or subtitle can never cover a
    storyboard label, whatever the text.
    """

    header: tuple[float, float] = (0.12, 0.185)
    action: tuple[float, float] = (0.185, 0.275)
    caption: tuple[float, float] = (0.565, 0.635)
    subtitles: tuple[float, float] = (0.64, 0.78)

    def band(self, name: str, width: int, height: int) -> Box:
        """The band ``name`` (``header``, ``action``, ``caption``, ``subtitles``) in pixels."""
        top, bottom = getattr(self, name)
        left, _, right, _ = SAFE_AREA.box(width, height)
        return (left, round(height * top), right, round(height * bottom))

    def stage(self, width: int, height: int) -> Box:
        """Where figures stand: below the labels, down to the safe area's bottom (name
        tags above a figure stay above ``caption``)."""
        return (0, round(height * self.action[1]), width, round(height * SAFE_AREA.bottom_edge))


FRAME_LAYOUT = FrameLayout()


def font(size: int, fonts: FontStack | None = None) -> Face:
    """The first font of ``fonts`` (default: the built-in stack) at ``size`` pixels.

    For labels the room writes itself ("SAFE AREA", timecodes); text that comes from a
    manifest goes through :func:`fit_text` or ``FontStack.face``, which fall back to
    the other fonts of the stack for characters the first one lacks.
    """
    return (fonts or default_fonts()).primary(size)


def _text_width(text: str, face: Face) -> float:
    return face.getlength(text)


def wrap_text(text: str, face: Face, max_width: int) -> list[str]:
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


def _line_height(face: Face) -> int:
    return face.line_height


def fit_text(
    text: str,
    *,
    max_width: int,
    max_height: int,
    max_size: int,
    min_size: int,
    max_lines: int | None = None,
    fonts: FontStack | None = None,
) -> tuple[Face, list[str]]:
    """Find the largest font size at which ``text`` fits the box, and its lines.

    At ``min_size`` the text is wrapped anyway and lines past the box are dropped with an
    ellipsis, so the result never overflows. Characters the first font of ``fonts``
    (default: the built-in stack) lacks are drawn with the next font that has them.

    Returns:
        The font and the wrapped lines.
    """
    stack = fonts or default_fonts()
    size = max_size
    while True:
        face = stack.face(text, size)
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


def text_block_size(lines: list[str], face: Face) -> tuple[int, int]:
    """Width and height of wrapped ``lines`` drawn with ``face``."""
    width = max((int(_text_width(line, face)) + 1 for line in lines), default=0)
    return width, len(lines) * _line_height(face)


def draw_text_block(
    draw: ImageDraw.ImageDraw,
    lines: list[str],
    face: Face,
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
        face.draw(draw, (x, y), line, fill=fill, stroke_width=stroke_width, stroke_fill=stroke)
        y += line_height
    return y


def new_overlay(size: tuple[int, int]) -> Image.Image:
    """A fully transparent RGBA image to draw text on."""
    return Image.new("RGBA", size, (0, 0, 0, 0))
