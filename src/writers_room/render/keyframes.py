"""Keyframe renderers behind one interface, and the content-addressed keyframe cache.

Two renderers implement :class:`KeyframeRenderer`:

* :class:`~writers_room.render.storyboard.StoryboardRenderer` (the default when no
  diffusion model is configured) draws a storyboard frame per shot with Pillow: the
  characters as labelled figures staged by the framing, the place, the action, the mood.
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

from PIL import Image

from writers_room.brief.manifest import Shot
from writers_room.render._compose import lower_thread_priority
from writers_room.render.cast import CastMember
from writers_room.render.fonts import room_fonts
from writers_room.render.storyboard import StoryboardRenderer, mood_colour

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
    hits = _place_hits(cache, keys, targets, on_ready)
    misses = [index for index in range(len(shots)) if index not in hits]
    if progress is not None:
        progress(len(hits), len(shots))
    scratch = Path(tempfile.mkdtemp(prefix="keyframes-")) if cache is None and misses else None
    store = cache or KeyframeCache(scratch or Path(tempfile.gettempdir()))
    try:
        _render_misses(
            renderer,
            shots,
            size,
            misses,
            _Delivery(store, keys, targets, on_image, on_ready),
            lambda done: progress(len(hits) + done, len(shots)) if progress else None,
        )
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
        if scratch is not None:
            shutil.rmtree(scratch, ignore_errors=True)


def _place_hits(
    cache: KeyframeCache | None,
    keys: Sequence[str],
    targets: Sequence[Path],
    on_ready: Callable[[int], None] | None,
) -> dict[int, Path]:
    """Put every cached keyframe at its target; the shots found, by index."""
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
    return hits


@dataclass(frozen=True)
class _Delivery:
    """Where a rendered keyframe goes: the store, its target, and who hears of it."""

    store: KeyframeCache
    keys: Sequence[str]
    targets: Sequence[Path]
    on_image: Callable[[int, Image.Image], None] | None
    on_ready: Callable[[int], None] | None

    def save(self, index: int, image: Image.Image) -> None:
        _place(self.store.put(self.keys[index], image), self.targets[index])
        if self.on_ready is not None and self.on_image is None:
            self.on_ready(index)


def _checked(
    renderer: KeyframeRenderer,
    shots: Sequence[Shot],
    chunk: list[int],
    size: Size,
    images: list[Image.Image],
) -> list[Image.Image]:
    """The batch's images as RGB, refusing a wrong count or size."""
    if len(images) != len(chunk):
        raise RuntimeError(
            f"renderer {renderer.name!r} returned {len(images)} images for {len(chunk)} shots"
        )
    for index, image in zip(chunk, images, strict=True):
        if image.size != tuple(size):
            raise RuntimeError(
                f"renderer {renderer.name!r} returned {image.size} for "
                f"{shots[index].shot_id!r}; expected {tuple(size)}"
            )
    return [image if image.mode == "RGB" else image.convert("RGB") for image in images]


def _render_misses(
    renderer: KeyframeRenderer,
    shots: Sequence[Shot],
    size: Size,
    misses: list[int],
    delivery: _Delivery,
    progress: Callable[[int], None],
) -> None:
    """Render the shots not in the cache, batch by batch, saving each on a thread.

    PNG encoding (zlib) releases the GIL: writing a batch's keyframes on threads overlaps
    them with each other and with the next batch's generation. The writers yield to the
    encoder (see lower_thread_priority); hand-offs to motion get a thread of their own
    at normal priority, since motion waits for them.
    """
    saving: list[Future[Any]] = []
    pool = ThreadPoolExecutor(
        max_workers=min(4, os.cpu_count() or 1),
        initializer=lower_thread_priority,
        initargs=(5,),
    )
    handoff = ThreadPoolExecutor(max_workers=1) if delivery.on_image is not None else None
    try:
        done = 0
        for chunk in _chunks(misses, max(1, renderer.batch_size)):
            images = renderer.render([shots[i] for i in chunk], size)
            for index, rgb in zip(
                chunk, _checked(renderer, shots, chunk, size, images), strict=True
            ):
                if handoff is not None and delivery.on_image is not None:
                    saving.append(handoff.submit(delivery.on_image, index, rgb))
                saving.append(pool.submit(delivery.save, index, rgb))
            done += len(chunk)
            progress(done)
        for future in saving:
            future.result()
    finally:
        pool.shutdown(wait=True)
        if handoff is not None:
            handoff.shutdown(wait=True)


def get_renderer(
    settings: Settings,
    *,
    cast: Sequence[CastMember] = (),
    locations: Sequence[str] = (),
    **options: Any,
) -> KeyframeRenderer:
    """The keyframe renderer the settings ask for.

    Args:
        settings: ``diffusion_model`` unset gives the storyboard renderer; set, a
            :class:`~writers_room.render.diffusion.DiffusionRenderer` on ``settings.device``.
        cast: The series' characters (their looks shape storyboard figures).
        locations: The bible's locations (storyboard slug lines).
        **options: Passed to ``DiffusionRenderer`` (``steps``, ``guidance_scale``,
            ``batch_size``, ``compile``, ``characters``...); ignored for storyboards.

    Returns:
        The renderer.
    """
    if not settings.diffusion_model:
        return StoryboardRenderer(room_fonts(settings), cast=cast, locations=locations)
    from writers_room.render.diffusion import DiffusionRenderer

    return DiffusionRenderer(settings.diffusion_model, device=settings.device, **options)
