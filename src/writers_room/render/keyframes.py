"""Keyframe renderers behind one interface, and the content-addressed keyframe cache.

Two renderers implement :class:`KeyframeRenderer`:

* :class:`StoryboardRenderer` (the default when no diffusion model is configured) draws a
  clean storyboard card per shot with Pillow: shot id and timecode, framing and camera,
  action, dialogue, caption note, a mood colour, and the 9:16 safe-area guides.
* :class:`~writers_room.render.diffusion.DiffusionRenderer` runs a diffusers text-to-image
  pipeline (imported lazily: importing this module never imports torch).

Every keyframe is stored once under ``<home>/renders/.cache/keyframes/<sha256>.png``, keyed
by everything that determines its pixels, so a shot-level re-render only redoes the shots
whose prompt, seed, size, model or renderer changed.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

from PIL import Image, ImageDraw

from writers_room.brief.manifest import Shot
from writers_room.render._compose import lower_thread_priority
from writers_room.render._layout import (
    SAFE_AREA,
    draw_text_block,
    fit_text,
    font,
)
from writers_room.render.fonts import FontStack, default_fonts, room_fonts

if TYPE_CHECKING:
    from writers_room.config import Settings

__all__ = [
    "KeyframeCache",
    "KeyframeRecord",
    "KeyframeRenderer",
    "StoryboardRenderer",
    "cache_key",
    "get_renderer",
    "mood_colour",
    "render_keyframes",
]

Size = tuple[int, int]


@runtime_checkable
class KeyframeRenderer(Protocol):
    """Turns shots into keyframe images; implementations are batched and deterministic."""

    name: str
    """Short renderer name recorded in provenance (``storyboard``, ``diffusion``)."""

    batch_size: int
    """How many shots one :meth:`render` call handles efficiently."""

    model_id: str | None
    """The model (path or hub id) behind the renderer, if any."""

    @property
    def version(self) -> str:
        """Everything besides the shot that changes the pixels (code, font, weights)."""
        ...

    def describe(self, shot: Shot) -> dict[str, Any]:
        """The prompt, seed and other per-shot inputs, as recorded and cache-keyed."""
        ...

    def render(self, shots: Sequence[Shot], size: Size) -> list[Image.Image]:
        """Render one RGB keyframe of exactly ``size`` (width, height) per shot, in order."""
        ...

    def info(self) -> dict[str, Any]:
        """What provenance records about the renderer (model, device, knobs)."""
        ...


def cache_key(renderer: KeyframeRenderer, shot: Shot, size: Size) -> str:
    """The content address of a shot's keyframe.

    It hashes the prompt and seed (via :meth:`KeyframeRenderer.describe`), the model and
    renderer versions, and the size; nothing else can change the image.
    """
    payload = {
        "renderer": renderer.name,
        "version": renderer.version,
        "model": renderer.model_id,
        "size": list(size),
        "shot": renderer.describe(shot),
    }
    blob = json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()


class KeyframeCache:
    """PNG files named by :func:`cache_key` under one folder, written atomically."""

    def __init__(self, root: Path) -> None:
        self.root = root

    @classmethod
    def for_settings(cls, settings: Settings) -> KeyframeCache:
        """The cache of a room: ``<home>/renders/.cache/keyframes``."""
        return cls(settings.renders_path / ".cache" / "keyframes")

    def path(self, key: str) -> Path:
        """Where the keyframe with ``key`` lives (whether or not it exists)."""
        return self.root / f"{key}.png"

    def get(self, key: str) -> Path | None:
        """The cached file for ``key``, or ``None``."""
        path = self.path(key)
        return path if path.is_file() else None

    def put(self, key: str, image: Image.Image) -> Path:
        """Store ``image`` under ``key``; concurrent writers of one key are harmless."""
        self.root.mkdir(parents=True, exist_ok=True)
        final = self.path(key)
        fd, tmp = tempfile.mkstemp(prefix=f".{key[:12]}.", suffix=".png", dir=self.root)
        try:
            with os.fdopen(fd, "wb") as out:
                # Level 1: keyframes are re-read by ffmpeg at once; speed beats size here.
                image.save(out, format="PNG", compress_level=1)
            os.replace(tmp, final)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        return final


@dataclass(frozen=True)
class KeyframeRecord:
    """One shot's keyframe: where it is, its cache address and what made it."""

    shot_id: str
    path: Path
    cache_key: str
    cache_hit: bool
    inputs: dict[str, Any]


def _place(source: Path, target: Path) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    target.unlink(missing_ok=True)
    try:
        # A hard link costs nothing; cache and render folder share a file system in a home.
        os.link(source, target)
    except OSError:
        shutil.copyfile(source, target)


def _chunks(indices: Sequence[int], batch: int) -> list[list[int]]:
    """Batches of at most ``batch`` shots, the first and the last only half as large.

    Motion and encode start on the first keyframes and finish on the last: a half batch
    first starts the encoder sooner, and a half batch last halves the frames still to
    encode once the GPU is done. The batches between are full, where the GPU is busiest.
    """
    half = max(1, batch // 2)
    if len(indices) <= half:
        return [list(indices)] if indices else []
    chunks = [list(indices[:half])]
    rest = list(indices[half:])
    chunks += [rest[k : k + batch] for k in range(0, len(rest), batch)]
    if len(chunks[-1]) > half:
        last = chunks.pop()
        chunks += [last[: len(last) - half], last[len(last) - half :]]
    return chunks


def render_keyframes(
    renderer: KeyframeRenderer,
    shots: Sequence[Shot],
    size: Size,
    *,
    cache: KeyframeCache | None,
    targets: Sequence[Path],
    progress: Callable[[int, int], None] | None = None,
    on_image: Callable[[int, Image.Image], None] | None = None,
    on_ready: Callable[[int], None] | None = None,
) -> list[KeyframeRecord]:
    """Render (or fetch from the cache) one keyframe per shot and place it at ``targets``.

    Cache misses are rendered in batches of up to ``renderer.batch_size``. Each keyframe is
    placed as soon as it is written, and ``on_ready(index)`` says so, so motion and
    encoding can start on the first shots while later ones still render.

    Args:
        renderer: The keyframe renderer.
        shots: The shots, in episode order.
        size: Keyframe size (width, height).
        cache: The keyframe cache, or ``None`` to render every shot.
        targets: Where each shot's keyframe goes (same order as ``shots``).
        progress: Called with (shots done, shots total).
        on_image: Called with a rendered shot's index and RGB image as soon as it is
            rendered, before its PNG is written (from a worker thread: thread-safe). Its
            caller takes over saying when a rendered shot is ready: ``on_ready`` is then
            called for cache hits only.
        on_ready: Called with a shot's index once its keyframe is at its target (from a
            worker thread for rendered shots: it must be thread-safe).

    Returns:
        One record per shot, in order.
    """
    keys = [cache_key(renderer, shot, size) for shot in shots]
    hits: dict[int, Path] = {}
    if cache is not None:
        for index, key in enumerate(keys):
            found = cache.get(key)
            if found is not None:
                hits[index] = found
    for index, source in hits.items():
        _place(source, targets[index])
        if on_ready is not None:
            on_ready(index)
    misses = [index for index in range(len(shots)) if index not in hits]
    done = len(hits)
    if progress is not None:
        progress(done, len(shots))
    store = cache
    scratch: Path | None = None
    if store is None and misses:
        scratch = Path(tempfile.mkdtemp(prefix="keyframes-"))
        store = KeyframeCache(scratch)

    def save(index: int, image: Image.Image) -> None:
        assert store is not None
        _place(store.put(keys[index], image), targets[index])
        if on_ready is not None and on_image is None:
            on_ready(index)

    saving: list[Future[Any]] = []
    # PNG encoding (zlib) releases the GIL: writing a batch's keyframes on threads overlaps
    # them with each other and with the next batch's generation. The writers yield to the
    # encoder (see lower_thread_priority); hand-offs to motion get a thread of their own
    # at normal priority, since motion waits for them.
    pool = ThreadPoolExecutor(
        max_workers=min(4, os.cpu_count() or 1),
        initializer=lower_thread_priority,
        initargs=(5,),
    )
    handoff = ThreadPoolExecutor(max_workers=1) if on_image is not None else None
    try:
        for chunk in _chunks(misses, max(1, renderer.batch_size)):
            images = renderer.render([shots[i] for i in chunk], size)
            if len(images) != len(chunk):
                raise RuntimeError(
                    f"renderer {renderer.name!r} returned {len(images)} images for "
                    f"{len(chunk)} shots"
                )
            for index, image in zip(chunk, images, strict=True):
                if image.size != tuple(size):
                    raise RuntimeError(
                        f"renderer {renderer.name!r} returned {image.size} for "
                        f"{shots[index].shot_id!r}; expected {tuple(size)}"
                    )
                rgb = image if image.mode == "RGB" else image.convert("RGB")
                if handoff is not None and on_image is not None:
                    saving.append(handoff.submit(on_image, index, rgb))
                saving.append(pool.submit(save, index, rgb))
            done += len(chunk)
            if progress is not None:
                progress(done, len(shots))
        for future in saving:
            future.result()
        return [
            KeyframeRecord(
                shot_id=shot.shot_id,
                path=targets[index],
                cache_key=keys[index],
                cache_hit=index in hits,
                inputs=renderer.describe(shot),
            )
            for index, shot in enumerate(shots)
        ]
    finally:
        pool.shutdown(wait=True)
        if handoff is not None:
            handoff.shutdown(wait=True)
        if scratch is not None:
            shutil.rmtree(scratch, ignore_errors=True)


# Mood words → background colours. Storyboards are read at a glance: colour carries mood.
_MOOD_COLOURS: tuple[tuple[tuple[str, ...], tuple[int, int, int]], ...] = (
    (("tense", "suspense", "danger", "threat"), (150, 32, 44)),
    (("angry", "rage", "fury", "confront"), (196, 60, 24)),
    (("calm", "peace", "quiet", "serene"), (36, 112, 140)),
    (("joy", "happy", "warm", "playful", "fun"), (214, 160, 36)),
    (("sad", "melanchol", "grief", "lonely", "regret"), (58, 70, 124)),
    (("romant", "tender", "love", "longing", "intimate"), (178, 66, 116)),
    (("myster", "eerie", "secret", "uneasy"), (84, 46, 120)),
    (("hope", "relief", "triumph"), (70, 150, 86)),
    (("shock", "surprise", "twist", "reveal"), (228, 110, 30)),
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


class StoryboardRenderer:
    """Draws a legible storyboard card per shot with Pillow (no model, no downloads).

    The card shows the shot id and timecode, framing and camera, the action, characters
    and dialogue, a note of the on-screen caption, the mood as colour and label, and the
    9:16 safe-area guides that captions and thumbnails respect. Text is drawn with
    ``fonts`` (default: the built-in stack; :func:`get_renderer` passes the room's).
    """

    name = "storyboard"
    # Bump when the drawing changes: the version is part of every cache key.
    CODE_VERSION = "1"
    # Cards are drawn one by one whatever the batch; one a batch hands each card to
    # motion and encode as soon as it is drawn.
    batch_size = 1
    model_id: str | None = None

    def __init__(self, fonts: FontStack | None = None) -> None:
        self.fonts = fonts or default_fonts()

    @property
    def version(self) -> str:
        """Drawing code version plus the fonts in use."""
        return f"{self.CODE_VERSION}+{self.fonts.id}"

    def describe(self, shot: Shot) -> dict[str, Any]:
        """Every shot field the card draws (all of them change its pixels)."""
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
            "caption": shot.caption,
            "dialogue": shot.dialogue,
            "characters": list(shot.characters),
        }

    def info(self) -> dict[str, Any]:
        """Name and version (there is no model)."""
        return {
            "name": self.name,
            "version": self.version,
            "model_id": None,
            "fonts": self.fonts.describe(),
        }

    def render(self, shots: Sequence[Shot], size: Size) -> list[Image.Image]:
        """Draw one card per shot at ``size``."""
        return [self._card(shot, size) for shot in shots]

    def _card(self, shot: Shot, size: Size) -> Image.Image:
        width, height = size
        unit = height / 1920
        base = mood_colour(shot.mood)
        top = tuple(int(c * 0.45) for c in base)
        gradient = Image.linear_gradient("L").resize((width, height))
        image = Image.composite(
            Image.new("RGB", size, base), Image.new("RGB", size, top), gradient
        ).convert("RGBA")
        overlay = Image.new("RGBA", size, (0, 0, 0, 0))
        draw = ImageDraw.Draw(overlay)

        left, top_y, right, bottom = SAFE_AREA.box(width, height)
        guide = (255, 255, 255, 90)
        line = max(1, round(2 * unit))
        dash = max(4, round(24 * unit))
        for x in range(left, right, dash * 2):
            draw.line([(x, top_y), (min(x + dash, right), top_y)], fill=guide, width=line)
            draw.line([(x, bottom), (min(x + dash, right), bottom)], fill=guide, width=line)
        for y in range(top_y, bottom, dash * 2):
            draw.line([(left, y), (left, min(y + dash, bottom))], fill=guide, width=line)
            draw.line([(right, y), (right, min(y + dash, bottom))], fill=guide, width=line)
        thirds = (255, 255, 255, 28)
        for k in (1, 2):
            draw.line([(width * k // 3, 0), (width * k // 3, height)], fill=thirds, width=line)
            draw.line([(0, height * k // 3), (width, height * k // 3)], fill=thirds, width=line)
        small = font(max(8, round(22 * unit)), self.fonts)
        small.draw(draw, (left + 6 * unit, top_y + 4 * unit), "SAFE AREA", fill=guide)

        pad = round(28 * unit)
        inner_w = right - left - 2 * pad
        y = top_y + round(48 * unit)
        title, title_lines = fit_text(
            f"SHOT {shot.shot_id}",
            max_width=inner_w,
            max_height=round(200 * unit),
            max_size=max(10, round(84 * unit)),
            min_size=max(8, round(40 * unit)),
            max_lines=2,
            fonts=self.fonts,
        )
        y = draw_text_block(
            draw, title_lines, title, origin=(left + pad, y), box_width=inner_w, align="left"
        )
        end = shot.start_s + shot.duration_s
        meta = font(max(8, round(36 * unit)), self.fonts)
        y = draw_text_block(
            draw,
            [f"{_timecode(shot.start_s)} - {_timecode(end)}  ·  {shot.duration_s:g} s"],
            meta,
            origin=(left + pad, y + round(8 * unit)),
            box_width=inner_w,
            fill=(255, 255, 255, 220),
            align="left",
        )
        lens = "  ·  ".join(part.upper() for part in (shot.framing, shot.camera) if part)
        if lens:
            face, lines = fit_text(
                lens,
                max_width=inner_w,
                max_height=round(110 * unit),
                max_size=max(8, round(44 * unit)),
                min_size=max(6, round(24 * unit)),
                fonts=self.fonts,
            )
            y = draw_text_block(
                draw,
                lines,
                face,
                origin=(left + pad, y + round(20 * unit)),
                box_width=inner_w,
                fill=(255, 236, 170, 255),
                align="left",
            )

        chip_h = round(72 * unit)
        panel_top = y + round(40 * unit)
        panel_bottom = bottom - chip_h - round(40 * unit)
        if panel_bottom - panel_top > 40 * unit:
            draw.rounded_rectangle(
                [left + pad // 2, panel_top, right - pad // 2, panel_bottom],
                radius=round(24 * unit),
                fill=(0, 0, 0, 120),
            )
            body = shot.action or shot.keyframe_prompt or "(no action given)"
            notes = []
            if shot.characters:
                notes.append("with " + ", ".join(shot.characters))
            if shot.dialogue:
                notes.append(f"“{shot.dialogue}”")
            if shot.caption:
                notes.append(f"CAPTION: {shot.caption}")
            note_text = "\n".join(notes)
            avail_h = panel_bottom - panel_top - 2 * pad
            body_h = int(avail_h * (0.62 if notes else 1.0))
            face, lines = fit_text(
                body,
                max_width=inner_w - pad,
                max_height=body_h,
                max_size=max(10, round(64 * unit)),
                min_size=max(6, round(28 * unit)),
                fonts=self.fonts,
            )
            y2 = draw_text_block(
                draw,
                lines,
                face,
                origin=(left + pad, panel_top + pad),
                box_width=inner_w - pad,
                align="left",
            )
            if notes:
                face2, lines2 = fit_text(
                    note_text,
                    max_width=inner_w - pad,
                    max_height=max(1, panel_bottom - pad - (y2 + round(24 * unit))),
                    max_size=max(8, round(40 * unit)),
                    min_size=max(6, round(22 * unit)),
                    fonts=self.fonts,
                )
                draw_text_block(
                    draw,
                    lines2,
                    face2,
                    origin=(left + pad, y2 + round(24 * unit)),
                    box_width=inner_w - pad,
                    fill=(225, 230, 240, 255),
                    align="left",
                )

        mood_text = f"MOOD · {shot.mood.upper()}" if shot.mood else "MOOD · —"
        chip_font = self.fonts.face(mood_text, max(8, round(36 * unit)))
        chip_w = min(right - left - pad, int(chip_font.getlength(mood_text)) + 2 * pad)
        chip_top = bottom - chip_h - round(16 * unit)
        draw.rounded_rectangle(
            [left + pad // 2, chip_top, left + pad // 2 + chip_w, chip_top + chip_h],
            radius=chip_h // 2,
            fill=(*base, 255),
            outline=(255, 255, 255, 200),
            width=line,
        )
        chip_font.draw(
            draw,
            (left + pad // 2 + pad, chip_top + (chip_h - round(40 * unit)) / 2),
            mood_text,
            fill=(255, 255, 255, 255),
        )
        return Image.alpha_composite(image, overlay).convert("RGB")


def get_renderer(settings: Settings, **options: Any) -> KeyframeRenderer:
    """The keyframe renderer the settings ask for.

    Args:
        settings: ``diffusion_model`` unset gives the storyboard renderer; set, a
            :class:`~writers_room.render.diffusion.DiffusionRenderer` on ``settings.device``.
        **options: Passed to ``DiffusionRenderer`` (``steps``, ``guidance_scale``,
            ``batch_size``, ``compile``, ``characters``...); ignored for storyboards.

    Returns:
        The renderer.
    """
    if not settings.diffusion_model:
        return StoryboardRenderer(room_fonts(settings))
    from writers_room.render.diffusion import DiffusionRenderer

    return DiffusionRenderer(settings.diffusion_model, device=settings.device, **options)
