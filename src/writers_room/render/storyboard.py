"""The storyboard renderer: one drawn frame per shot that shows its blocking.

A frame is what a board artist would hand a writer: the place (a backdrop picked from
the action, tinted by the mood colour), the characters as labelled figures placed by the
framing, and a slim header with the shot, its time, framing and camera, the slug line
and the action. The framing decides the staging:

========================  ===========================================================
close-up                  one large head-and-shoulders (extreme close-up: the face)
medium                    waist-up figures side by side
two-shot                  two figures side by side, turned to each other
over-the-shoulder         the back of one head large in the foreground, the other facing
wide / extreme wide       small full figures in the place
insert / top-down         the prop the action names, no figures
========================  ===========================================================

Text goes only where :data:`~writers_room.render._layout.FRAME_LAYOUT` puts labels (the
header and action bands, and name tags above the figures), never in the caption or
subtitle bands, so what the video burns in later never covers it.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from PIL import Image, ImageDraw

from writers_room.brief.manifest import Shot
from writers_room.render._layout import FRAME_LAYOUT, SAFE_AREA, Box, fit_text
from writers_room.render.cast import CastMember
from writers_room.render.figures import (
    Look,
    draw_figure,
    draw_place,
    draw_prop,
    parse_look,
    pick_place,
    pick_prop,
)
from writers_room.render.fonts import FontStack, default_fonts

__all__ = ["Frame", "StoryboardRenderer", "mood_colour", "staging"]

Size = tuple[int, int]

# Mood words → colours. Storyboards are read at a glance: colour carries mood.
_MOOD_COLOURS: tuple[tuple[tuple[str, ...], tuple[int, int, int]], ...] = (
    (("tense", "suspense", "danger", "threat"), (150, 32, 44)),
    (("angry", "rage", "fury", "confront", "defiant"), (196, 60, 24)),
    (("calm", "peace", "quiet", "serene", "sleepy", "muted"), (36, 112, 140)),
    (("joy", "happy", "warm", "playful", "fun"), (214, 160, 36)),
    (("sad", "melanchol", "grief", "lonely", "regret", "shaken"), (58, 70, 124)),
    (("romant", "tender", "love", "longing", "intimate"), (178, 66, 116)),
    (("myster", "eerie", "secret", "uneasy", "curious", "search"), (84, 46, 120)),
    (("hope", "relief", "triumph"), (70, 150, 86)),
    (("shock", "surprise", "twist", "reveal", "urgent"), (228, 110, 30)),
    (("dark", "ominous", "dread", "cold"), (40, 44, 58)),
)


def mood_colour(mood: str) -> tuple[int, int, int]:
    """The storyboard colour of a mood; unknown moods get a stable colour of their own."""
    lowered = mood.lower()
    for words, colour in _MOOD_COLOURS:
        if any(word in lowered for word in words):
            return colour
    if not lowered.strip():
        return (70, 74, 84)
    digest = hashlib.sha256(lowered.encode("utf-8")).digest()
    import colorsys

    r, g, b = colorsys.hsv_to_rgb(digest[0] / 255, 0.55, 0.55)
    return (int(r * 255), int(g * 255), int(b * 255))


def _timecode(seconds: float) -> str:
    minutes, rest = divmod(seconds, 60)
    return f"{int(minutes)}:{rest:04.1f}"


def staging(framing: str, people: int) -> str:
    """The staging a framing asks for: ``insert``, ``ecu``, ``cu``, ``medium``, ``two``,
    ``ots``, ``wide`` or ``ewide`` (``people`` decides when the framing says nothing)."""
    f = framing.lower().replace("-", " ")
    if any(word in f for word in ("insert", "top down", "overhead", "detail")):
        return "insert"
    if "shoulder" in f or "ots" in f.split():
        return "ots" if people >= 2 else "cu"
    if "extreme close" in f or "ecu" in f.split():
        return "ecu"
    if "two shot" in f:
        return "two" if people >= 2 else "medium"
    if "close" in f:
        return "cu"
    if "extreme wide" in f or "establishing" in f:
        return "ewide"
    if any(word in f for word in ("wide", "long", "full", "angle")):
        return "wide"
    if "medium" in f or "mid" in f or "waist" in f:
        return "medium"
    return "medium" if people else "wide"


# staging → (head size, head top) as fractions of the frame height, figure centres as
# fractions of its width (by the number of figures), and the horizon.
_SCALE = {
    "ecu": (0.30, 0.265),
    "cu": (0.19, 0.3),
    "medium": (0.115, 0.33),
    "two": (0.095, 0.34),
    "wide": (0.045, 0.0),
    "ewide": (0.026, 0.0),
}
TAG_BAND = (0.355, 0.49)
"""Where name tags go (fractions of the height). A camera move scales the picture by at
most 12 % (:data:`~writers_room.render.motion.MOVE_AMOUNT`) about a point of the frame:
0.49 stays above the caption band's 0.565 and 0.355 below the action band's 0.275."""
_HORIZON = {
    "ecu": 0.5,
    "cu": 0.56,
    "medium": 0.6,
    "two": 0.6,
    "ots": 0.6,
    "wide": 0.6,
    "ewide": 0.55,
    "insert": 0.62,
}


@dataclass(frozen=True)
class Frame:
    """A drawn frame and the box of every text on it (for layout checks)."""

    image: Image.Image
    labels: tuple[tuple[str, Box], ...]


class StoryboardRenderer:
    """Draws a storyboard frame per shot with Pillow (no model, no downloads).

    Args:
        fonts: Fonts for the labels (default: the built-in stack; :func:`get_renderer`
            passes the room's).
        cast: The series' characters, whose ``look`` shapes their figures.
        locations: The bible's locations, named in the slug line when the action names one.
    """

    name = "storyboard"
    # Bump when the drawing changes: the version is part of every cache key.
    CODE_VERSION = "4"
    # Frames are drawn one by one whatever the batch; one a batch hands each frame to
    # motion and encode as soon as it is drawn.
    batch_size = 1
    model_id: str | None = None

    def __init__(
        self,
        fonts: FontStack | None = None,
        *,
        cast: Sequence[CastMember] = (),
        locations: Sequence[str] = (),
    ) -> None:
        self.fonts = fonts or default_fonts()
        self.cast = tuple(cast)
        self.locations = tuple(locations)

    @property
    def version(self) -> str:
        """Drawing code version plus the fonts in use."""
        return f"{self.CODE_VERSION}+{self.fonts.id}"

    def _looks(self, shot: Shot) -> list[tuple[str, str, Look]]:
        """``(name shown, full name, look)`` of each character in the shot."""
        by_name = {m.name: m for m in self.cast}
        by_first = {m.first_name.lower(): m for m in self.cast}
        out = []
        for name in shot.characters:
            member = by_name.get(name) or by_first.get(name.split()[0].lower() if name else "")
            look = member.look if member is not None else ""
            out.append((name.split()[0].upper() if name else "?", name, parse_look(name, look)))
        return out

    def describe(self, shot: Shot) -> dict[str, Any]:
        """Every input the frame draws (all of them change its pixels)."""
        place = pick_place(shot.action, shot.keyframe_prompt, self.locations)
        return {
            "prompt": shot.keyframe_prompt or shot.action,
            "seed": shot.seed,
            "shot_id": shot.shot_id,
            "start_s": shot.start_s,
            "duration_s": shot.duration_s,
            "camera": shot.camera,
            "framing": shot.framing,
            "action": shot.action,
            "mood": shot.mood,
            "characters": list(shot.characters),
            "looks": {full: look for _, full, look in self._describe_looks(shot)},
            "place": [place.kind, place.slug],
            "staging": staging(shot.framing, len(shot.characters)),
        }

    def _describe_looks(self, shot: Shot) -> list[tuple[str, str, str]]:
        by_name = {m.name: m.look for m in self.cast}
        return [(n, n, by_name.get(n, "")) for n in shot.characters]

    def info(self) -> dict[str, Any]:
        """Name and version (there is no model)."""
        return {
            "name": self.name,
            "version": self.version,
            "model_id": None,
            "fonts": self.fonts.describe(),
        }

    def render(self, shots: Sequence[Shot], size: Size) -> list[Image.Image]:
        """Draw one keyframe per shot at ``size``: the picture with the figures' name
        tags; the header comes as a plate of its own (:meth:`label_plate`), burned in
        after the camera move so it never drifts with it."""
        return [self.frame(shot, size, labels="names").image for shot in shots]

    def label_plate(self, shot: Shot, size: Size) -> tuple[Image.Image, int, int, list[Box]]:
        """The header and action bands as a transparent plate: ``(plate, x, y, the text
        boxes on the frame)``."""
        width, height = size
        layer = Image.new("RGBA", size, (0, 0, 0, 0))
        draw = ImageDraw.Draw(layer)
        place = pick_place(shot.action, shot.keyframe_prompt, self.locations)
        boxes = self._labels(draw, shot, place.slug, mood_colour(shot.mood), size)
        top = FRAME_LAYOUT.band("header", width, height)[1] - round(height * 0.006)
        top -= top % 2
        bottom = FRAME_LAYOUT.band("action", width, height)[3]
        return layer.crop((0, top, width, bottom)), 0, top, [box for _, box in boxes]

    def frame(self, shot: Shot, size: Size, *, labels: str = "all") -> Frame:
        """Draw ``shot`` at ``size``: ``labels`` ``all`` (the whole storyboard frame, as
        a still), ``names`` (figures' name tags only: keyframes, thumbnails) or ``none``."""
        width, height = size
        base = mood_colour(shot.mood)
        kind = staging(shot.framing, len(shot.characters))
        image = _backdrop(size, base)
        draw = ImageDraw.Draw(image, "RGBA")
        place = pick_place(shot.action, shot.keyframe_prompt, self.locations)
        draw_place(draw, place, size, base, height * _HORIZON.get(kind, 0.6))
        boxes: list[tuple[str, Box]] = []
        tags: list[tuple[str, float, float, float]] = []
        if kind == "insert" or not shot.characters:
            prop, word = pick_prop(f"{shot.action} {shot.keyframe_prompt}")
            if kind in {"insert", "cu", "ecu"} or prop != "object":
                cx, cy = width * 0.46, height * 0.45
                box = draw_prop(draw, prop, cx=cx, cy=cy, unit=width * 0.26)
                if word:
                    tags.append((word.upper(), cx, box[1], 0.0))
        else:
            tags = _stage(draw, kind, self._looks(shot), size)
        if labels != "none":
            boxes += self._name_tags(draw, tags, size)
        if labels == "all":
            boxes += self._labels(draw, shot, place.slug, base, size)
        _corners(draw, size)
        return Frame(image=image.convert("RGB"), labels=tuple(boxes))

    def _name_tags(
        self,
        draw: ImageDraw.ImageDraw,
        tags: list[tuple[str, float, float, float]],
        size: Size,
    ) -> list[tuple[str, Box]]:
        """A tag above each figure (or prop), in :data:`TAG_BAND`: far enough from the
        header and the caption band that no camera move carries it into either."""
        width, height = size
        left, _, right, _ = SAFE_AREA.box(width, height)
        low, high = math.ceil(height * TAG_BAND[0]), math.floor(height * TAG_BAND[1])
        size_px = max(9, round(height * 0.025))
        boxes: list[tuple[str, Box]] = []
        for text, cx, head_top, half in tags:
            face = self.fonts.face(text, size_px)
            w = int(face.getlength(text)) + 2 * round(size_px * 0.5)
            h = face.line_height + round(size_px * 0.3)
            x0 = int(min(max(cx - w / 2, left), right - w))
            y0 = int(min(max(head_top - h - height * 0.01, low), high - h))
            if y0 + h > head_top and half > 0:
                # No room above the head inside the band: under the chin if that is in
                # the band (medium shots), else beside the head, on the side with room.
                chin = int(head_top + 2.55 * half + height * 0.008)
                if chin + h <= high:
                    y0 = chin
                else:
                    gap = round(width * 0.015)
                    leftward, rightward = int(cx - half - gap - w), int(cx + half + gap)
                    x0 = leftward if leftward >= left else int(min(rightward, right - w))
            box = (x0, y0, x0 + w, y0 + h)
            if any(_overlap(box, other) for _, other in boxes):
                continue  # two tags for one place: the first one says it
            draw.rounded_rectangle(
                box,
                radius=h // 3,
                fill=(250, 248, 240, 235),
                outline=(24, 22, 28, 255),
                width=max(1, h // 16),
            )
            face.draw(
                draw,
                (x0 + round(size_px * 0.5), y0 + round(size_px * 0.12)),
                text,
                fill=(24, 22, 28, 255),
            )
            boxes.append(("name", box))
        return boxes

    def _labels(
        self,
        draw: ImageDraw.ImageDraw,
        shot: Shot,
        slug: str,
        base: tuple[int, int, int],
        size: Size,
    ) -> list[tuple[str, Box]]:
        """The header (shot, time, framing, camera, mood) and the action band."""
        width, height = size
        header = FRAME_LAYOUT.band("header", width, height)
        action = FRAME_LAYOUT.band("action", width, height)
        draw.rectangle([0, header[1] - height * 0.006, width, action[3]], fill=(12, 12, 16, 178))
        pitch = (header[3] - header[1]) / 2
        px = max(7, int(pitch / 1.36))
        end = shot.start_s + shot.duration_s
        mood = (shot.mood or "—").upper()
        chip_face = self.fonts.face(mood, max(6, round(px * 0.8)))
        pad = round(px * 0.45)
        chip_w = int(chip_face.getlength(mood)) + 2 * pad
        chip = (
            header[2] - chip_w,
            header[1] + round(pitch * 0.08),
            header[2],
            header[1] + round(pitch * 0.08) + chip_face.line_height + round(px * 0.1),
        )
        draw.rounded_rectangle(
            chip,
            radius=(chip[3] - chip[1]) // 2,
            fill=(*base, 255),
            outline=(255, 255, 255, 220),
            width=max(1, px // 14),
        )
        chip_face.draw(
            draw, (chip[0] + pad, chip[1] + round(px * 0.06)), mood, fill=(255, 255, 255, 255)
        )
        boxes: list[tuple[str, Box]] = [("mood", chip)]
        lens = " · ".join(p.upper() for p in (shot.framing, shot.camera) if p)
        rows = [
            (
                f"{shot.shot_id}   {_timecode(shot.start_s)}–{_timecode(end)}",
                (255, 255, 255, 255),
                chip[0] - header[0] - pad,
            ),
            (lens, (255, 226, 140, 255), header[2] - header[0]),
        ]
        for number, (text, fill, room) in enumerate(rows):
            y = header[1] + round(number * pitch)
            box = self._line(draw, text, (header[0], y), room, px, fill)
            if box is not None:
                boxes.append(("header", box))
        pitch = (action[3] - action[1]) / 3
        px = max(7, int(pitch / 1.36))
        y = action[1] + round(pitch * 0.1)
        if slug:
            box = self._line(
                draw, slug, (action[0], y), action[2] - action[0], px, (170, 214, 255, 255)
            )
            if box is not None:
                boxes.append(("slug", box))
                y = box[3]
        text = shot.action or shot.keyframe_prompt
        if text:
            face, lines = fit_text(
                text,
                max_width=action[2] - action[0],
                max_height=action[3] - y,
                max_size=px,
                min_size=max(6, round(px * 0.8)),
                max_lines=2,
                fonts=self.fonts,
            )
            for line in lines:
                face.draw(draw, (action[0], y), line, fill=(240, 240, 240, 255))
                boxes.append(
                    (
                        "action",
                        (
                            action[0],
                            y,
                            action[0] + int(face.getlength(line)) + 1,
                            y + face.line_height,
                        ),
                    )
                )
                y += face.line_height
        return boxes

    def _line(
        self,
        draw: ImageDraw.ImageDraw,
        text: str,
        xy: tuple[int, int],
        room: int,
        px: int,
        fill: tuple[int, ...],
    ) -> Box | None:
        """One line of label text at ``px``, shortened with an ellipsis to fit ``room``."""
        if not text:
            return None
        face = self.fonts.face(text, px)
        while face.getlength(text) > room and len(text) > 1:
            text = text[:-2].rstrip() + "…"
        face.draw(draw, xy, text, fill=fill)
        x, y = xy
        return (x, y, x + int(face.getlength(text)) + 1, y + face.line_height)


def _overlap(a: Box, b: Box) -> bool:
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


def _backdrop(size: Size, base: tuple[int, int, int]) -> Image.Image:
    """The mood's gradient: dark at the top, the mood colour at the horizon and below."""
    width, height = size
    top = tuple(int(c * 0.35) for c in base)
    gradient = Image.linear_gradient("L").resize((width, height))
    return Image.composite(Image.new("RGB", size, base), Image.new("RGB", size, top), gradient)


def _corners(draw: ImageDraw.ImageDraw, size: Size) -> None:
    """Faint corner marks of the 9:16 safe area (no text)."""
    width, height = size
    left, top, right, bottom = SAFE_AREA.box(width, height)
    arm = round(height * 0.02)
    line = max(1, round(height / 960))
    colour = (255, 255, 255, 90)
    for x, y, dx, dy in (
        (left, top, 1, 1),
        (right, top, -1, 1),
        (left, bottom, 1, -1),
        (right, bottom, -1, -1),
    ):
        draw.line([(x, y), (x + dx * arm, y)], fill=colour, width=line)
        draw.line([(x, y), (x, y + dy * arm)], fill=colour, width=line)


def _stage(
    draw: ImageDraw.ImageDraw, kind: str, people: list[tuple[str, str, Look]], size: Size
) -> list[tuple[str, float, float, float]]:
    """Draw the figures for a staging; returns each name tag's ``(text, x, head top,
    half the head's width)``."""
    width, height = size
    centre = (SAFE_AREA.left + 1 - SAFE_AREA.right) / 2
    tags: list[tuple[str, float, float, float]] = []
    if kind == "ots":
        (front_name, _, front), (back_name, _, back) = people[1], people[0]
        unit = height * 0.1
        top = height * 0.335
        head = draw_figure(draw, front, cx=width * 0.62, top=top, unit=unit, facing="left")
        tags.append((front_name, width * 0.62, head[1], (head[2] - head[0]) / 2))
        big = height * 0.22
        draw_figure(draw, back, cx=width * 0.2, top=height * 0.43, unit=big, facing="back")
        tags.append((back_name, width * 0.2, height * 0.43, big * 0.4))
        return tags
    if kind in {"cu", "ecu"}:
        people = people[:2] if kind == "cu" else people[:1]
    shown = people[:4]
    unit_f, top_f = _SCALE.get(kind, _SCALE["medium"])
    count = len(shown)
    if count > 1 and kind in {"cu", "ecu"}:
        unit_f *= 0.8
    if kind in {"wide", "ewide"}:
        floor = height * (0.7 if kind == "wide" else 0.64)
        unit = height * unit_f
        top_y = floor - 7.5 * unit
        spread = 0.5
    else:
        unit = height * unit_f
        top_y = height * top_f
        spread = 0.42 if count > 1 else 0.0
        if count > 1 and kind == "medium":
            unit *= 0.85
    for number, (name, _, look) in enumerate(shown):
        offset = (number - (count - 1) / 2) * (spread / max(count - 1, 1)) if count > 1 else 0
        cx = width * (centre + offset)
        facing = "front" if count == 1 else ("right" if offset < 0 else "left")
        head = draw_figure(draw, look, cx=cx, top=top_y, unit=unit, facing=facing)
        tags.append((name, cx, head[1], (head[2] - head[0]) / 2))
    return tags
