"""The render pipeline: shot manifest in, a complete render folder out.

:func:`render_manifest` is the one entry point. It validates the manifest, renders (or
fetches from the cache) one keyframe per shot, draws the caption plates and the WebVTT
sidecar, composes motion and cross-fades and encodes every rendition of the ladder into
HLS (in one ffmpeg pass, or on many cores in time chunks encoded at once and joined by
stream copy), remuxes the MP4 master with synthetic-content tags, makes the
thumbnail variants (in parallel with the encode) and writes ``provenance.json``.

Motion and encode overlap the keyframes: a helper process (:mod:`._compose`) starts the
encoder first, renders each shot's clip as soon as its keyframe file lands (clips in
parallel, as many as the cores allow) and feeds the frames to the encoder in order. On a
GPU the denoiser and the CPU-bound encode then run at the same time instead of one after
the other; ``timings`` reports each stage's own span, so the stages can add up to more
than ``total``.

The folder appears atomically: everything is written into a hidden sibling folder that
is renamed into place at the end, so a reader never sees half a render and a failed
render leaves nothing behind.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import os
import shutil
import time
import uuid
from collections.abc import Callable, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from PIL import Image

from writers_room.brief.manifest import ShotManifest
from writers_room.render._compose import ClipSpec, EpisodeJob, lower_thread_priority
from writers_room.render.animatic import Dialogue, prepare_dialogue
from writers_room.render.captions import CaptionOverlay, write_caption_overlays, write_vtt
from writers_room.render.credentials import ContentSigner, content_credentials, content_signer
from writers_room.render.encode import (
    CHUNK_DIR,
    HLS_DIR,
    MASTER_PLAYLIST,
    SYNTHETIC_TAGS,
    VARIANT_PLAYLIST,
    Rung,
    audio_command,
    audio_source,
    chunk_command,
    chunk_ranges,
    encode_chunks_for,
    hls_command,
    ladder_for,
    package_command,
    remux_master,
    rung_threads,
    write_chunk_lists,
)
from writers_room.render.fonts import FontStack, room_fonts
from writers_room.render.keyframes import (
    KeyframeCache,
    KeyframeRecord,
    KeyframeRenderer,
    StoryboardRenderer,
    get_renderer,
    render_keyframes,
)
from writers_room.render.motion import (
    Clip,
    Move,
    clip_plan,
    crossfade_half_frames,
    local_window,
    plan_move,
)
from writers_room.render.motion_torch import write_clip
from writers_room.render.options import MOTION_BACKENDS, RenderOptions, check_options
from writers_room.render.provenance import (
    StageClock,
    library_versions,
    runtime_platform,
    sha256_file,
)
from writers_room.render.thumbnails import THUMBNAIL_SIZES, Thumbnail, make_thumbnails
from writers_room.render.validate import Timeline, check_fonts, check_manifest, safe_name, timeline

if TYPE_CHECKING:
    from writers_room.config import Settings

__all__ = [
    "MOTION_BACKENDS",
    "PREVIEW_SIZE",
    "Progress",
    "RenderOptions",
    "RenderResult",
    "motion_device",
    "render_manifest",
]

log = logging.getLogger(__name__)

Progress = Callable[[str, int, int], None]
"""Progress callback: ``(stage, done, total)``; stages are ``keyframes``, ``encode``,
``master``, ``thumbnails``, ``provenance`` and ``done``."""

PREVIEW_SIZE = (360, 640)
MOTION_THREADS = 4
"""Clips drawn at once by torch motion on a GPU."""


def motion_device(motion: str, renderer: KeyframeRenderer) -> str | None:
    """The torch device that draws the moves, or ``None`` for ffmpeg (see RenderOptions)."""
    device = getattr(renderer, "device", None)
    if motion == "torch":
        return device if isinstance(device, str) else "cpu"
    if motion == "auto" and isinstance(device, str) and device.startswith("cuda"):
        return device
    return None


@dataclass(frozen=True)
class RenderResult:
    """Where a finished render's files are, and what it cost."""

    out_dir: Path
    preview: bool
    renderer: str
    manifest_path: Path
    episode_path: Path
    hls_master_path: Path
    variant_playlists: tuple[Path, ...]
    captions_path: Path
    keyframe_paths: tuple[Path, ...]
    thumbnail_paths: tuple[Path, ...]
    provenance_path: Path
    rungs: tuple[Rung, ...]
    timings: dict[str, float]
    cpu_seconds: float
    gpu_seconds: float
    cache_hits: tuple[str, ...]
    rendered_shots: tuple[str, ...]
    warnings: tuple[str, ...] = ()
    """Lines that run past their shots (see ``provenance.json``'s ``warnings``)."""

    def artifacts(self, root: Path) -> dict[str, Any]:
        """The output paths relative to ``root`` (e.g. the room's home), as JSON data."""

        def rel(path: Path) -> str:
            try:
                return path.resolve().relative_to(root.resolve()).as_posix()
            except ValueError:
                return str(path)

        return {
            "dir": rel(self.out_dir),
            "manifest": rel(self.manifest_path),
            "episode": rel(self.episode_path),
            "hls_master": rel(self.hls_master_path),
            "hls_variants": [rel(p) for p in self.variant_playlists],
            "captions": rel(self.captions_path),
            "keyframes": [rel(p) for p in self.keyframe_paths],
            "thumbnails": [rel(p) for p in self.thumbnail_paths],
            "provenance": rel(self.provenance_path),
        }


def _cores() -> int:
    """CPUs this process may run on (a container's share, not the host's count)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


def _plates(root: Path, overlays: list[Any], clip: Clip, start: int) -> list[Any]:
    """A clip's plates as ``(RGBA array, x, y, first, end)`` for torch motion (clip
    frames; ``start`` is the shot's first timeline frame)."""
    plates = []
    for overlay in overlays:
        window = local_window(overlay, start - clip.head, clip.frames)
        if window is None:
            continue
        with Image.open(root / overlay.path) as plate:
            pixels = np.asarray(plate.convert("RGBA"))
        plates.append((pixels, int(overlay.x), int(overlay.y), *window))
    return plates


def _emit(progress: Progress | None, stage: str, done: int, total: int) -> None:
    if progress is not None:
        progress(stage, done, total)


@dataclass
class _Render:
    """One render's shared state, filled in stage by stage (plan, captions, motion, encode)."""

    settings: Settings
    manifest: ShotManifest
    options: RenderOptions
    preview: bool
    renderer: KeyframeRenderer
    fonts: FontStack
    signer: ContentSigner | None
    frames: Timeline
    size: tuple[int, int]
    rungs: list[Rung]
    preset: str
    supersample: float
    cores: int
    clock: StageClock
    partial: Path = Path()
    keyframe_names: list[str] = field(default_factory=list)
    overlays: list[list[Any]] = field(default_factory=list)
    dialogue: Dialogue = field(default_factory=Dialogue)
    moves: list[Move] = field(default_factory=list)
    raw_stills: list[str] = field(default_factory=list)
    drawn_on: str | None = None
    made_files: list[str | None] = field(default_factory=list)
    clips: list[Clip] = field(default_factory=list)
    fell_back: list[int] = field(default_factory=list)  # torch motion failed: ffmpeg made them
    ranges: list[tuple[int, int]] = field(default_factory=list)
    threads: list[int] | None = None
    workers: int = 1
    encode_started: float = 0.0

    @property
    def work(self) -> Path:
        return self.partial / ".work"


def _plan(
    settings: Settings,
    manifest: ShotManifest,
    options: RenderOptions,
    *,
    preview: bool,
    renderer: KeyframeRenderer | None,
    clock: StageClock,
) -> _Render:
    """Stage 1: pick the renderer, check the fonts, fix the timeline, sizes and ladder."""
    fonts = room_fonts(settings)
    signer = content_signer(settings)
    if renderer is None:
        renderer = get_renderer(
            settings,
            cast=options.cast,
            locations=options.locations,
            characters=dict(options.characters),
            **dict(options.diffusion),
        )
    check_fonts(
        manifest,
        fonts,
        storyboard=renderer.fonts if isinstance(renderer, StoryboardRenderer) else None,
        headline=" ".join((options.headline or "", *options.headlines)).strip() or None,
    )
    return _Render(
        settings=settings,
        manifest=manifest,
        options=options,
        preview=preview,
        renderer=renderer,
        fonts=fonts,
        signer=signer,
        frames=timeline(manifest),
        size=PREVIEW_SIZE if preview else (manifest.width, manifest.height),
        rungs=ladder_for(manifest.width, manifest.height, preview=preview),
        preset=options.preset or ("superfast" if preview else "veryfast"),
        supersample=1.0 if preview else options.supersample,
        cores=_cores(),
        clock=clock,
    )


def _voices(r: _Render) -> None:
    """Stage 2: every line voiced (or timed), placed in its shot, subtitled and mixed."""
    with r.clock.stage("voices"):
        r.dialogue = prepare_dialogue(
            r.manifest,
            r.frames,
            r.work,
            cast=r.options.cast,
            speaker=r.options.speaker,
            music=r.options.music,
        )


def _captions(r: _Render) -> None:
    """Stage 3: the WebVTT sidecar and the caption and subtitle plates the clips burn in."""
    manifest, partial = r.manifest, r.partial
    r.keyframe_names = [
        f"keyframes/{index:02d}_{safe_name(shot.shot_id)}.png"
        for index, shot in enumerate(manifest.shots)
    ]
    with r.clock.stage("captions"):
        write_vtt(manifest, r.frames, partial / "captions.vtt", r.dialogue.cues)
        plates = write_caption_overlays(
            manifest, r.size, r.work, r.fonts, cues=r.dialogue.cues, timeline=r.frames
        )
        r.overlays = [
            [dataclasses.replace(o, path=o.path.relative_to(partial)) for o in shot_plates]
            for shot_plates in _with_labels(_label_plates(r), plates)
        ]


def _with_labels(labels: list[list[Any]], plates: list[list[Any]]) -> list[list[Any]]:
    """Each shot's label plate (under its caption and subtitles), then its other plates."""
    if not labels:
        return plates
    return [first + rest for first, rest in zip(labels, plates, strict=True)]


def _label_plates(r: _Render) -> list[list[Any]]:
    """Storyboard header plates, one per shot, first in each shot's list of plates."""
    renderer = r.renderer
    if not isinstance(renderer, StoryboardRenderer):
        return []
    out = []
    for index, shot in enumerate(r.manifest.shots):
        plate, x, y, _ = renderer.label_plate(shot, r.size)
        path = r.work / f"labels_{index:03d}.png"
        plate.save(path, format="PNG", compress_level=1)
        out.append([CaptionOverlay(path=path, x=x, y=y, width=plate.width, height=plate.height)])
    return out


def _motion(r: _Render) -> None:
    """Stage 4: each shot's move and clip, and where the moves are drawn."""
    count = len(r.keyframe_names)
    r.moves = [plan_move(shot.camera, index) for index, shot in enumerate(r.manifest.shots)]
    r.raw_stills = [f".work/stills/{index:02d}.rgb" for index in range(count)]
    r.drawn_on = motion_device(r.options.motion, r.renderer)
    r.made_files = [
        f".work/clips/{index:02d}.yuv" if r.drawn_on else None for index in range(count)
    ]
    r.clips = clip_plan(
        r.keyframe_names,
        r.overlays,
        r.moves,
        r.frames,
        r.size,
        crossfade_s=r.options.crossfade_s,
        supersample=r.supersample,
        raw_stills=r.raw_stills,
    )
    r.workers = r.options.motion_workers or max(1, r.cores // 4)


def _episode_job(r: _Render) -> EpisodeJob:
    """Stage 5: the encode plan (single pass or time chunks), audio and folders, as the
    helper-process job that turns keyframes into clips into HLS."""
    manifest, options, partial, rungs = r.manifest, r.options, r.partial, r.rungs
    r.ranges = chunk_ranges(
        r.frames.total_frames,
        manifest.fps,
        options.segment_s,
        options.encode_chunks or encode_chunks_for(r.cores, preview=r.preview),
    )
    # Every chunk encoder gets the whole machine's thread split: while all run they
    # share the cores, and the last chunk (its frames come last) runs alone at the end.
    r.threads = rung_threads(rungs, r.cores) if options.x264_threads == "split" else None
    # The same x264 settings for the single pass and for every time chunk.
    encoding: dict[str, Any] = {
        "size": r.size,
        "fps": manifest.fps,
        "segment_s": options.segment_s,
        "preset": r.preset,
        "threads": r.threads,
    }
    track = r.dialogue.track
    audio = audio_source(manifest.runtime_s, track.path if track is not None else None)
    encoder = hls_command(audio, rungs, **encoding)
    chunks: list[tuple[int, int, list[str]]] = []
    package: list[str] | None = None
    audio_args: list[str] | None = None
    if len(r.ranges) > 1:
        chunks = [
            (start, end, chunk_command(rungs, number, **encoding))
            for number, (start, end) in enumerate(r.ranges)
        ]
        audio_args = audio_command(audio, rungs)
        package = package_command(rungs, segment_s=options.segment_s)
        write_chunk_lists(partial, rungs, len(r.ranges))
    (partial / HLS_DIR).mkdir(parents=True, exist_ok=True)
    (partial / "keyframes").mkdir(parents=True, exist_ok=True)
    (r.work / "stills").mkdir(parents=True, exist_ok=True)
    if r.drawn_on:
        (r.work / "clips").mkdir(parents=True, exist_ok=True)
    r.encode_started = time.perf_counter()
    return EpisodeJob(
        [
            ClipSpec(c.args, c.raw_args, c.frames, c.head, c.tail, made)
            for c, made in zip(r.clips, r.made_files, strict=True)
        ],
        encoder,
        cwd=partial,
        spec_dir=r.work,
        size=r.size,
        total_frames=r.frames.total_frames,
        workers=min(r.workers, len(r.clips)),
        # Several clip processes run ahead of the encoder into their buffers and can
        # yield to it; a single one is the encoder's only feeder and must keep pace.
        # Chunk encoders never wait on the writer, so there the last chunk waits on
        # the clips: they keep the encoders' priority.
        clip_nice=5 if r.workers > 1 and not chunks else 0,
        chunks=chunks,
        audio=audio_args,
        package=package,
    )


def _hand_off(
    r: _Render, job: EpisodeJob, drawer: ThreadPoolExecutor | None, drawing: list[Future[None]]
) -> Callable[[int, Any], None]:
    """What happens to each keyframe image: to a clip process, or drawn with torch."""
    partial = r.partial

    def to_clip_process(index: int, image: Any) -> None:
        # A raw copy takes milliseconds to write and none to decode; the PNG beside it
        # takes a quarter second to compress. The clip process starts from the raw copy.
        (partial / r.raw_stills[index]).write_bytes(image.tobytes())
        job.ready(index, raw=True)

    def draw_clip(index: int, image: Any) -> None:
        made = r.made_files[index]
        assert r.drawn_on is not None and made is not None
        try:
            write_clip(
                partial / made,
                np.asarray(image),
                r.moves[index],
                r.clips[index].frames,
                overlay=_plates(partial, r.overlays[index], r.clips[index], r.frames.starts[index]),
                device=r.drawn_on,
            )
        except Exception:  # the clip process can still make this clip
            log.warning("motion on %s failed for shot %d", r.drawn_on, index, exc_info=True)
            (partial / made).unlink(missing_ok=True)
            r.fell_back.append(index)
            to_clip_process(index, image)
        else:
            job.ready(index, frames=True)

    def hand_off(index: int, image: Any) -> None:
        if drawer is None:
            to_clip_process(index, image)
        else:
            drawing.append(drawer.submit(draw_clip, index, image))

    return hand_off


def _keyframes_and_encode(
    r: _Render, job: EpisodeJob, progress: Progress | None
) -> tuple[list[KeyframeRecord], list[Thumbnail]]:
    """Stage 6: keyframes, motion and encode at once, thumbnails beside the encode."""
    # Clips drawn with torch: a few at once on a GPU (each is mostly a copy to the host
    # and a file write, which release the GIL), so the last batch's clips do not
    # queue behind each other while the encoder waits for them.
    drawer = (
        ThreadPoolExecutor(
            max_workers=MOTION_THREADS if r.drawn_on.startswith("cuda") else 1,
            thread_name_prefix="motion",
            # The encoders' priority, as the clip processes have: the thread that
            # drives the keyframe model keeps the edge over both.
            initializer=lower_thread_priority,
            initargs=(5,),
        )
        if r.drawn_on
        else None
    )
    drawing: list[Future[None]] = []
    options, clock = r.options, r.clock
    try:
        with clock.stage("keyframes"):
            records = render_keyframes(
                r.renderer,
                r.manifest.shots,
                r.size,
                cache=KeyframeCache.for_settings(r.settings) if options.use_cache else None,
                targets=[r.partial / name for name in r.keyframe_names],
                progress=lambda done, total: _emit(progress, "keyframes", done, total),
                on_image=_hand_off(r, job, drawer, drawing),
                on_ready=job.ready,
            )

        def thumbnails() -> list[Thumbnail]:
            with clock.stage("thumbnails"):
                return make_thumbnails(
                    [record.path for record in records],
                    r.manifest.shots,
                    r.partial / "thumbnails",
                    headline=options.headline,
                    headlines=options.headlines,
                    chosen=options.thumbnail_shots,
                    sizes=[PREVIEW_SIZE] if r.preview else list(THUMBNAIL_SIZES),
                    variants=max(3, options.thumbnail_variants),
                    fonts=r.fonts,
                    frames=_thumbnail_frames(r),
                )

        # Thumbnails are Pillow work; they overlap the encode instead of following it,
        # at the encoder's priority rather than above it.
        with ThreadPoolExecutor(
            max_workers=1,
            thread_name_prefix="thumbnails",
            initializer=lower_thread_priority,
            initargs=(5,),
        ) as pool:
            thumbs_future = pool.submit(thumbnails)
            for future in drawing:  # every clip announced before the helper hears "done"
                future.result()
            job.wait(lambda done, total: _emit(progress, "encode", done, total))
            clock.record("encode", time.perf_counter() - r.encode_started)
            thumbs = thumbs_future.result()
    except BaseException:
        if drawer is not None:
            drawer.shutdown(wait=True, cancel_futures=True)
        job.abort()
        raise
    finally:
        if drawer is not None:
            drawer.shutdown(wait=True)
    return records, thumbs


def _thumbnail_frames(r: _Render) -> Any:
    """Storyboard thumbnails are drawn without the header (name tags kept)."""
    renderer = r.renderer
    if not isinstance(renderer, StoryboardRenderer):
        return None

    def draw(index: int, size: tuple[int, int]) -> tuple[Any, list[Any]]:
        frame = renderer.frame(r.manifest.shots[index], size, labels="names")
        return frame.image, [box for _, box in frame.labels]

    return draw


def _master(r: _Render, identity: Mapping[str, Any], renderer_info: Mapping[str, Any]) -> Any:
    """Stage 7: the MP4 master with synthetic-content tags, and its content credentials."""
    manifest, partial = r.manifest, r.partial
    title = f"{manifest.series_id} {manifest.episode_id} v{manifest.brief_version}"
    with r.clock.stage("master"):
        remux_master(
            partial / HLS_DIR / r.rungs[0].name,
            partial / "episode.mp4",
            cwd=partial,
            metadata={"title": title, **SYNTHETIC_TAGS},
        )
        return content_credentials(
            r.signer,
            partial / "episode.mp4",
            title=title,
            renderer=r.renderer.name,
            facts={
                **identity,
                "renderer": {"name": r.renderer.name, "model_id": renderer_info.get("model_id")},
                "provenance": "provenance.json",
            },
        )


def _encode_facts(r: _Render) -> dict[str, Any]:
    """How the episode was encoded, for ``provenance.json``."""
    options = r.options
    half = crossfade_half_frames(r.frames, options.crossfade_s)
    return {
        "size": list(r.size),
        "fps": r.manifest.fps,
        "total_frames": r.frames.total_frames,
        "segment_s": options.segment_s,
        "preset": r.preset,
        "crossfade_frames": 2 * half,
        "supersample": r.supersample,
        "ladder": [dataclasses.asdict(rung) for rung in r.rungs],
        "x264_threads": r.threads or "auto",
        "encode_chunks": [list(c) for c in r.ranges],
        "motion_workers": min(r.workers, len(r.clips)),
        "motion": f"torch ({r.drawn_on})" if r.drawn_on else "ffmpeg zoompan",
        "motion_fallback_shots": sorted(r.fell_back),
        "voice": {"speaker": options.speaker.name, "lines": r.dialogue.records()}
        if options.speaker is not None
        else None,
        "audio": _audio_facts(r),
        "container_tags": SYNTHETIC_TAGS,
    }


def _audio_facts(r: _Render) -> Any:
    track, music = r.dialogue.track, r.options.music
    if track is None:
        return "silence"
    facts = dict(track.facts)
    if music is not None:
        facts |= {"music": Path(music).name, "sha256": sha256_file(Path(music))}
    return facts


def _provenance(
    r: _Render,
    identity: Mapping[str, Any],
    renderer_info: Mapping[str, Any],
    credentials: Any,
    records: list[KeyframeRecord],
    thumbs: list[Thumbnail],
    gpu_seconds: float,
) -> dict[str, Any]:
    """Stage 8: the ``provenance.json`` document (written by the caller)."""
    partial, frames, clock = r.partial, r.frames, r.clock
    with clock.stage("provenance"):
        outputs = {
            path.relative_to(partial).as_posix(): sha256_file(path)
            for path in sorted(partial.rglob("*"))
            if path.is_file() and path.name != "provenance.json"
        }
        return {
            "schema": 1,
            "synthetic": True,
            "synthetic_label": "AI-generated",
            **identity,
            "created_at": datetime.now(UTC).isoformat(),
            "renderer": renderer_info,
            "fonts": r.fonts.describe(),
            "content_credentials": credentials,
            "libraries": library_versions(),
            "host": runtime_platform(),
            "shots": [
                {
                    "shot_id": shot.shot_id,
                    "start_frame": frames.starts[index],
                    "frames": frames.frames[index],
                    "start_s": shot.start_s,
                    "duration_s": shot.duration_s,
                    **records[index].inputs,
                    "move": r.moves[index].kind,
                    "keyframe": r.keyframe_names[index],
                    "cache_key": records[index].cache_key,
                    "cache_hit": records[index].cache_hit,
                }
                for index, shot in enumerate(r.manifest.shots)
            ],
            "encode": _encode_facts(r),
            "dialogue": r.dialogue.records() if r.options.speaker is None else None,
            "warnings": r.dialogue.warnings,
            "thumbnails": [
                {"file": t.path.relative_to(partial).as_posix(), "shot_id": t.shot_id}
                | {"variant": t.variant, "style": t.style, "size": list(t.size)}
                | {"headline": t.headline}
                for t in thumbs
            ],
            "timings_s": {**clock.stages, "total": clock.total_s},
            "cpu_seconds": clock.cpu_s,
            "gpu_seconds": round(gpu_seconds, 3),
            "outputs": outputs,
        }


def _render_into(
    r: _Render,
    out_dir: Path,
    progress: Progress | None,
    provenance: Mapping[str, Any] | None,
) -> tuple[list[KeyframeRecord], list[Thumbnail], dict[str, Any], float]:
    """Stages 2-8 into the hidden ``r.partial`` folder; returns what the result names."""
    manifest, partial = r.manifest, r.partial
    (partial / "manifest.json").write_text(manifest.model_dump_json(indent=2), "utf-8")
    _voices(r)
    _captions(r)
    _motion(r)
    job = _episode_job(r)
    records, thumbs = _keyframes_and_encode(r, job, progress)
    _emit(progress, "thumbnails", 1, 1)
    # Who and what this render is: in provenance.json and in the C2PA assertion.
    identity = {
        "render_id": out_dir.name,
        **dict(provenance or {}),
        "series_id": manifest.series_id,
        "episode_id": manifest.episode_id,
        "brief_version": manifest.brief_version,
        "preview": r.preview,
    }
    renderer_info = r.renderer.info()
    credentials = _master(r, identity, renderer_info)
    _emit(progress, "master", 1, 1)
    shutil.rmtree(r.work, ignore_errors=True)
    shutil.rmtree(partial / HLS_DIR / CHUNK_DIR, ignore_errors=True)

    gpu_seconds = float(getattr(r.renderer, "gpu_seconds", 0.0) or 0.0)
    document = _provenance(r, identity, renderer_info, credentials, records, thumbs, gpu_seconds)
    # The final total includes the provenance stage itself.
    document["timings_s"] = {**r.clock.stages, "total": r.clock.total_s}
    (partial / "provenance.json").write_text(
        json.dumps(document, indent=2, ensure_ascii=False, default=str), "utf-8"
    )
    _emit(progress, "provenance", 1, 1)
    return records, thumbs, document, gpu_seconds


def render_manifest(
    settings: Settings,
    manifest: ShotManifest,
    out_dir: Path,
    *,
    preview: bool = False,
    renderer: KeyframeRenderer | None = None,
    progress: Progress | None = None,
    options: RenderOptions | None = None,
    provenance: Mapping[str, Any] | None = None,
) -> RenderResult:
    """Render ``manifest`` into ``out_dir`` (which must not exist yet, or be empty).

    The stages, in order: validate, plan (:func:`_plan`), voices (dialogue voiced,
    placed, subtitled and mixed), captions, motion, the episode job (keyframes, clips and
    encode at once, thumbnails beside them), master, provenance; then the hidden folder
    is renamed into place.

    Args:
        settings: Room settings: the keyframe cache lives under ``settings.renders_path``
            and the renderer follows ``settings.diffusion_model`` / ``settings.device``.
        manifest: The shot manifest.
        out_dir: The render folder, e.g. ``<home>/renders/<series>/<episode>/<render_id>``.
        preview: Render a fast 360x640 single-rendition preview instead of the ladder.
        renderer: Keyframe renderer to use instead of the one the settings name.
        progress: Called as ``(stage, done, total)`` while rendering.
        options: Render knobs (see :class:`RenderOptions`).
        provenance: Extra facts for ``provenance.json`` (render id, proposal id,
            approval, idempotency key).

    Returns:
        The paths of everything written, timings and cache statistics.

    Raises:
        InputError: the manifest cannot be rendered, the music file is missing, or
            ``out_dir`` already holds files.
        FFmpegError: ffmpeg failed (nothing is left behind).
    """
    options = options or RenderOptions()
    clock = StageClock()
    out_dir = Path(out_dir)
    with clock.stage("validate"):
        check_manifest(manifest)
        check_options(options, out_dir)
    r = _plan(settings, manifest, options, preview=preview, renderer=renderer, clock=clock)

    out_dir.parent.mkdir(parents=True, exist_ok=True)
    partial = out_dir.parent / f".{out_dir.name}.partial-{uuid.uuid4().hex[:8]}"
    partial.mkdir()
    r.partial = partial
    try:
        records, thumbs, document, gpu_seconds = _render_into(r, out_dir, progress, provenance)
        if out_dir.exists():
            out_dir.rmdir()
        partial.rename(out_dir)
    except BaseException:
        shutil.rmtree(partial, ignore_errors=True)
        raise

    def moved(path: Path) -> Path:
        return out_dir / path.relative_to(partial)

    _emit(progress, "done", 1, 1)
    hls = out_dir / HLS_DIR
    return RenderResult(
        out_dir=out_dir,
        preview=preview,
        renderer=r.renderer.name,
        manifest_path=out_dir / "manifest.json",
        episode_path=out_dir / "episode.mp4",
        hls_master_path=hls / MASTER_PLAYLIST,
        variant_playlists=tuple(hls / rung.name / VARIANT_PLAYLIST for rung in r.rungs),
        captions_path=out_dir / "captions.vtt",
        keyframe_paths=tuple(out_dir / name for name in r.keyframe_names),
        thumbnail_paths=tuple(moved(t.path) for t in thumbs),
        provenance_path=out_dir / "provenance.json",
        rungs=tuple(r.rungs),
        timings=dict(document["timings_s"]),
        cpu_seconds=clock.cpu_s,
        gpu_seconds=round(gpu_seconds, 3),
        cache_hits=tuple(rec.shot_id for rec in records if rec.cache_hit),
        rendered_shots=tuple(rec.shot_id for rec in records if not rec.cache_hit),
        warnings=tuple(r.dialogue.warnings),
    )
