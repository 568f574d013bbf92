"""Thumbnail variants: the approved headline on the chosen frames, in every delivery size.

The packaging an approver signed off on decides: its headlines (``RenderOptions.headlines``,
one per variant in turn; else ``headline``; else the shot's caption) and the shots it
picked (``RenderOptions.thumbnail_shots``). The remaining variants take the best-ranked
frames, where a frame with people in it beats an empty establishing shot.

A storyboard thumbnail is drawn fresh, without the storyboard's header text (a platform
tile is not a production card), with the figures' name tags; the headline goes on a solid
plate in a band that no other text uses — the layout boxes of every text are recorded,
and checked, so text is never drawn over text. Headlines break between words only: a
headline too long for three lines at the smallest size loses whole words at its end.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from PIL import Image, ImageDraw, ImageFilter, ImageOps, ImageStat

from writers_room.brief.manifest import Shot
from writers_room.render._layout import FRAME_LAYOUT, SAFE_AREA, Box, overlaps
from writers_room.render.fonts import Face, FontStack, default_fonts

__all__ = [
    "HEADLINE_FILL",
    "PLATE_FILL",
    "THUMBNAIL_SIZES",
    "Thumbnail",
    "fit_words",
    "headline_tile",
    "keyframe_score",
    "make_thumbnails",
    "variant_frames",
]

THUMBNAIL_SIZES: tuple[tuple[int, int], ...] = ((1080, 1920), (720, 1280))
MIN_VARIANTS = 3
HEADLINE_WORDS = 14
MAX_LINES = 3
HEADLINE_FILL = (255, 222, 64)
PLATE_FILL = (12, 12, 16)
# Where the headline may go, as fractions of the height: the top of the safe area, or the
# caption-and-subtitle bands (free on a keyframe).
_BANDS = {
    "top": (SAFE_AREA.top, FRAME_LAYOUT.action[1]),
    "lower": (FRAME_LAYOUT.caption[0], SAFE_AREA.bottom_edge),
}

FrameSource = Callable[[int, tuple[int, int]], tuple[Image.Image, Sequence[Box]]]
"""Draws shot ``index`` at a size for a thumbnail: the image and its text boxes."""


@dataclass(frozen=True)
class Thumbnail:
    """One thumbnail file and its layout (at its own size)."""

    variant: int
    shot_id: str
    style: str
    path: Path
    size: tuple[int, int]
    headline: str = ""
    lines: tuple[str, ...] = ()
    headline_box: Box = (0, 0, 0, 0)
    label_boxes: tuple[Box, ...] = field(default_factory=tuple)


def keyframe_score(image: Image.Image, shot: Shot, index: int) -> float:
    """How well a frame works as a thumbnail (higher is better).

    Contrast and colourfulness make a tile pop in a feed; edge density stands in for
    detail; people sell drama, so shots with characters (and speaking ones more) get a
    bonus and empty shots a penalty, and the hook (the first shot) a small one when
    someone is in it.
    """
    small = image.convert("RGB").resize((90, 160))
    gray = small.convert("L")
    contrast = ImageStat.Stat(gray).stddev[0] / 128
    hsv = small.convert("HSV")
    colour = ImageStat.Stat(hsv).mean[1] / 255
    edges = ImageStat.Stat(gray.filter(ImageFilter.FIND_EDGES)).mean[0] / 64
    score = 0.45 * contrast + 0.25 * colour + 0.3 * min(edges, 1.0)
    if shot.characters:
        score += 0.35 + (0.1 if shot.dialogue.strip() else 0.0)
        if index == 0:
            score += 0.1
    else:
        score -= 0.3
    return score


def _clean(text: str) -> str:
    words = " ".join(text.split()).split(" ")
    if len(words) > HEADLINE_WORDS:
        return " ".join(words[:HEADLINE_WORDS]).rstrip(",;:—-") + "…"
    return " ".join(words)


def fit_words(
    text: str, fonts: FontStack, *, max_width: int, max_lines: int, sizes: Sequence[int]
) -> tuple[Face, list[str]]:
    """The largest size at which ``text`` wraps into ``max_lines`` lines of whole words.

    At the smallest size, words are dropped from the end (an ellipsis after the last
    whole word kept) until it fits; a word is never broken.
    """
    words = text.split()
    face = fonts.face(text, sizes[-1])
    for size in sizes:
        face = fonts.face(text, size)
        lines = _wrap(words, face, max_width)
        if lines is not None and len(lines) <= max_lines:
            return face, lines
    while len(words) > 1:
        words = words[:-1]
        trimmed = [*words[:-1], words[-1].rstrip(",.;:—-") + "…"]
        lines = _wrap(trimmed, face, max_width)
        if lines is not None and len(lines) <= max_lines:
            return face, lines
    return face, words[:1]


def _wrap(words: Sequence[str], face: Face, max_width: int) -> list[str] | None:
    """Greedy wrap by whole words; ``None`` when one word alone is too wide."""
    lines: list[str] = []
    current = ""
    for word in words:
        if face.getlength(word) > max_width:
            return None
        candidate = f"{current} {word}" if current else word
        if face.getlength(candidate) <= max_width:
            current = candidate
        else:
            lines.append(current)
            current = word
    if current:
        lines.append(current)
    return lines


def _compose(
    base: Image.Image, boxes: Sequence[Box], text: str, style: str, fonts: FontStack
) -> tuple[Image.Image, tuple[str, ...], Box, str]:
    """The headline on a solid plate in a band free of other text."""
    width, height = base.size
    left, _, right, _ = SAFE_AREA.box(width, height)
    pad = round(height * 0.012)
    sizes = [round(height * f) for f in (0.052, 0.046, 0.04, 0.035, 0.031, 0.028)]
    face, lines = fit_words(
        text, fonts, max_width=right - left - 2 * pad, max_lines=MAX_LINES, sizes=sizes
    )
    text_h = len(lines) * face.line_height
    order = [style, *(band for band in _BANDS if band != style)]
    plate: Box = (0, 0, 0, 0)
    for band in order:
        top, bottom = (round(height * f) for f in _BANDS[band])
        y0 = top if band == "top" else bottom - text_h - 2 * pad
        plate = (left - pad, y0, right + pad, y0 + text_h + 2 * pad)
        if not any(overlaps(plate, box) for box in boxes):
            style = band
            break
    image = base.convert("RGBA")
    draw = ImageDraw.Draw(image)
    draw.rounded_rectangle(plate, radius=pad, fill=(*PLATE_FILL, 236))
    stroke = max(1, face.line_height // 18)
    y = plate[1] + pad
    for line in lines:
        x = left + (right - left - face.getlength(line)) / 2
        face.draw(
            draw,
            (x, y),
            line,
            fill=(*HEADLINE_FILL, 255),
            stroke_width=stroke,
            stroke_fill=(*PLATE_FILL, 255),
        )
        y += face.line_height
    return image.convert("RGB"), tuple(lines), plate, style


def headline_tile(
    base: Image.Image,
    boxes: Sequence[Box],
    text: str,
    *,
    variant: int = 1,
    fonts: FontStack | None = None,
) -> Image.Image:
    """Thumbnail variant ``variant`` of a frame with ``text`` on it, laid out exactly as
    :func:`make_thumbnails` lays it out (a proposal's options are pictured with this)."""
    styles = ("top", "lower")
    image, _, _, _ = _compose(
        base, boxes, _clean(text), styles[(variant - 1) % len(styles)], fonts or default_fonts()
    )
    return image


def variant_frames(
    images: Sequence[Image.Image], shots: Sequence[Shot], chosen: Sequence[str], variants: int
) -> list[int]:
    """Which shot each variant shows: the chosen shots first, then the ranking."""
    ids = [shot.shot_id for shot in shots]
    picked = [ids.index(shot_id) for shot_id in dict.fromkeys(chosen) if shot_id in ids]
    ranked = sorted(range(len(images)), key=lambda i: (-keyframe_score(images[i], shots[i], i), i))
    order = picked + [i for i in ranked if i not in picked]
    return [order[k % len(order)] for k in range(variants)]


def make_thumbnails(
    keyframes: Sequence[Path],
    shots: Sequence[Shot],
    folder: Path,
    *,
    headline: str | None = None,
    headlines: Sequence[str] = (),
    chosen: Sequence[str] = (),
    sizes: Sequence[tuple[int, int]] = THUMBNAIL_SIZES,
    variants: int = MIN_VARIANTS,
    fonts: FontStack | None = None,
    frames: FrameSource | None = None,
) -> list[Thumbnail]:
    """Write ``variants`` thumbnail variants, each in every size of ``sizes``.

    Args:
        keyframes: One keyframe per shot (ranked, and used as the picture when
            ``frames`` is not given).
        shots: The shots (same order).
        folder: Output folder (``thumbnails/``).
        headline: One headline for every variant (after ``headlines``).
        headlines: The approved headlines, one per variant in turn.
        chosen: Shot ids the approved packaging picked, best first.
        sizes: Output sizes (9:16).
        variants: How many variants; with fewer shots, frames repeat in other layouts.
        fonts: Fonts for the headline (default: the built-in stack).
        frames: Draws a shot for a thumbnail (the storyboard without its header).

    Returns:
        The files written, with the layout boxes of each.
    """
    folder.mkdir(parents=True, exist_ok=True)
    stack = fonts or default_fonts()
    images = [Image.open(path).convert("RGB") for path in keyframes]
    master = max(sizes, key=lambda s: s[0] * s[1])
    texts = [h for h in headlines if h.strip()] or ([headline] if headline else [])
    styles = ("top", "lower")
    written: list[Thumbnail] = []
    for number, index in enumerate(variant_frames(images, shots, chosen, variants), start=1):
        if frames is not None:
            base, boxes = frames(index, master)
        else:
            base, boxes = ImageOps.fit(images[index], master, Image.Resampling.LANCZOS), ()
        shot = shots[index]
        fallback = shot.caption or shot.action or shot.shot_id
        text = _clean(texts[(number - 1) % len(texts)] if texts else fallback)
        composed, lines, plate, style = _compose(
            base, boxes, text, styles[(number - 1) % len(styles)], stack
        )
        for size in sizes:
            ratio = size[0] / master[0]
            image = composed if size == master else composed.resize(size, Image.Resampling.LANCZOS)
            path = folder / f"thumb_{number:02d}_{size[0]}x{size[1]}.jpg"
            image.save(path, format="JPEG", quality=90, optimize=True, progressive=True)
            written.append(
                Thumbnail(
                    variant=number,
                    shot_id=shot.shot_id,
                    style=style,
                    path=path,
                    size=size,
                    headline=text,
                    lines=lines,
                    headline_box=_scaled(plate, ratio),
                    label_boxes=tuple(_scaled(box, ratio) for box in boxes),
                )
            )
    return written


def _scaled(box: Box, ratio: float) -> Box:
    return (
        int(box[0] * ratio),
        int(box[1] * ratio),
        int(round(box[2] * ratio)),
        int(round(box[3] * ratio)),
    )
