"""Thumbnail variants: the strongest keyframes with a headline, in every delivery size.

Keyframes are ranked by how well they read as a small tile (contrast, colour, detail,
people on screen, the hook shot first). The best ones become variants — each a different
keyframe or crop with the headline in the upper safe area — so the room can A/B test
thumbnails against each other.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from PIL import Image, ImageDraw, ImageFilter, ImageOps, ImageStat

from writers_room.brief.manifest import Shot
from writers_room.render._layout import SAFE_AREA, draw_text_block, fit_text, text_block_size
from writers_room.render.fonts import FontStack

__all__ = ["THUMBNAIL_SIZES", "Thumbnail", "keyframe_score", "make_thumbnails"]

THUMBNAIL_SIZES: tuple[tuple[int, int], ...] = ((1080, 1920), (720, 1280))
MIN_VARIANTS = 3
HEADLINE_CHARS = 60


@dataclass(frozen=True)
class Thumbnail:
    """One thumbnail file."""

    variant: int
    shot_id: str
    style: str
    path: Path
    size: tuple[int, int]


def keyframe_score(image: Image.Image, shot: Shot, index: int) -> float:
    """How well a keyframe works as a thumbnail (higher is better).

    Contrast and colourfulness make a tile pop in a feed; edge density stands in for
    detail; faces sell drama, so shots with characters get a bonus, and the hook (the
    first shot) a smaller one.
    """
    small = image.convert("RGB").resize((90, 160))
    gray = small.convert("L")
    contrast = ImageStat.Stat(gray).stddev[0] / 128
    hsv = small.convert("HSV")
    colour = ImageStat.Stat(hsv).mean[1] / 255
    edges = ImageStat.Stat(gray.filter(ImageFilter.FIND_EDGES)).mean[0] / 64
    score = 0.45 * contrast + 0.25 * colour + 0.3 * min(edges, 1.0)
    if shot.characters:
        score += 0.15
    if index == 0:
        score += 0.1
    return score


def _headline(shot: Shot, headline: str | None) -> str:
    text = (headline or shot.caption or shot.action or shot.shot_id).strip()
    text = " ".join(text.split())
    if len(text) > HEADLINE_CHARS:
        text = text[: HEADLINE_CHARS - 1].rstrip() + "…"
    return text


def _compose(base: Image.Image, text: str, style: str, fonts: FontStack | None) -> Image.Image:
    width, height = base.size
    if style == "punch-in":
        # A tighter crop of the upper-middle, where faces usually are in vertical framing.
        image = ImageOps.fit(
            base, base.size, method=Image.Resampling.LANCZOS, centering=(0.5, 0.4), bleed=0.1
        )
    else:
        image = base.copy()
    image = image.convert("RGBA")
    left, top, right, bottom = SAFE_AREA.box(width, height)
    face, lines = fit_text(
        text,
        max_width=right - left - round(width * 0.04),
        max_height=round(height * 0.2),
        max_size=max(10, round(height * 0.06)),
        min_size=max(8, round(height * 0.03)),
        max_lines=3,
        fonts=fonts,
    )
    text_w, text_h = text_block_size(lines, face)
    band = Image.new("RGBA", image.size, (0, 0, 0, 0))
    draw = ImageDraw.Draw(band)
    pad = round(height * 0.015)
    y = top + pad if style != "lower" else bottom - text_h - 3 * pad
    draw.rectangle([0, y - pad, width, y + text_h + pad], fill=(0, 0, 0, 140))
    draw_text_block(
        draw,
        lines,
        face,
        origin=(left, y),
        box_width=right - left,
        fill=(255, 230, 80, 255),
    )
    return Image.alpha_composite(image, band).convert("RGB")


def make_thumbnails(
    keyframes: Sequence[Path],
    shots: Sequence[Shot],
    folder: Path,
    *,
    headline: str | None = None,
    sizes: Sequence[tuple[int, int]] = THUMBNAIL_SIZES,
    variants: int = MIN_VARIANTS,
    fonts: FontStack | None = None,
) -> list[Thumbnail]:
    """Write ``variants`` thumbnail variants, each in every size of ``sizes``.

    Args:
        keyframes: One keyframe per shot.
        shots: The shots (same order).
        folder: Output folder (``thumbnails/``).
        headline: Headline text for every variant; default each shot's caption.
        sizes: Output sizes (9:16).
        variants: How many variants; when there are fewer shots, crops and layouts of
            the best keyframes make up the number.
        fonts: Fonts for the headline (default: the built-in stack).

    Returns:
        The files written.
    """
    folder.mkdir(parents=True, exist_ok=True)
    images = [Image.open(path).convert("RGB") for path in keyframes]
    ranked = sorted(
        range(len(images)),
        key=lambda i: (-keyframe_score(images[i], shots[i], i), i),
    )
    styles = ("headline", "lower", "punch-in")
    count = len(ranked)
    # Variant k uses the k-th best keyframe; past the last one it starts again with the
    # next layout, so no (keyframe, layout) pair repeats.
    plan = [
        (ranked[k % count], styles[(k % count + k // count) % len(styles)]) for k in range(variants)
    ]
    master_size = max(sizes, key=lambda s: s[0] * s[1])
    written: list[Thumbnail] = []
    for number, (index, style) in enumerate(plan, start=1):
        base = images[index]
        if base.size != master_size:
            base = ImageOps.fit(base, master_size, method=Image.Resampling.LANCZOS)
        composed = _compose(base, _headline(shots[index], headline), style, fonts)
        for size in sizes:
            image = (
                composed
                if size == composed.size
                else composed.resize(size, Image.Resampling.LANCZOS)
            )
            path = folder / f"thumb_{number:02d}_{size[0]}x{size[1]}.jpg"
            image.save(path, format="JPEG", quality=90, optimize=True, progressive=True)
            written.append(
                Thumbnail(
                    variant=number,
                    shot_id=shots[index].shot_id,
                    style=style,
                    path=path,
                    size=size,
                )
            )
    return written
