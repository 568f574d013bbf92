"""The knobs of one render (:class:`RenderOptions`) and the check that they can render."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from writers_room.errors import InputError
from writers_room.render.cast import CastMember
from writers_room.render.voice import Speaker

__all__ = ["MOTION_BACKENDS", "RenderOptions", "check_options"]

MOTION_BACKENDS = ("auto", "ffmpeg", "torch")


@dataclass(frozen=True)
class RenderOptions:
    """Knobs of one render; the defaults make the contract's outputs.

    Attributes:
        crossfade_s: Cross-fade length centred on each cut (0 = hard cuts).
        supersample: Still upscaling before ``zoompan`` for smooth moves (full renders;
            previews use 1).
        preset: x264 preset; default ``veryfast`` (full) or ``superfast`` (preview, the
            fastest that keeps CABAC and 8x8 transforms, i.e. High profile).
        segment_s: HLS segment and GOP length in seconds.
        music: A music bed under the episode; default: a quiet generated pad under
            voiced dialogue, silence without.
        headline: Thumbnail headline; default each shot's caption.
        headlines: The approved packaging's headlines, one per thumbnail variant in turn
            (before ``headline``).
        thumbnail_shots: Shot ids the approved packaging picked for thumbnails, best
            first; the rest of the variants come from the ranking.
        thumbnail_variants: How many thumbnail variants (at least 3 by contract).
        use_cache: Read and write the content-addressed keyframe cache.
        characters: Character name → prompt fragment, for the diffusion renderer.
        diffusion: Extra :class:`~writers_room.render.diffusion.DiffusionRenderer`
            arguments (``steps``, ``guidance_scale``, ``batch_size``, ``dtype``,
            ``compile``, ``gen_size``).
        motion_workers: Shot clips rendered at the same time; default a quarter of the
            cores (at least one), leaving the rest to x264.
        x264_threads: ``split`` shares 1.5 threads per core among the rungs by pixel
            count (see :func:`~writers_room.render.encode.rung_threads`); ``auto`` lets
            every rung's x264 pick its own count.
        encode_chunks: Encode the ladder in this many time chunks at once (whole
            segments each, see :func:`~writers_room.render.encode.chunk_ranges`), then
            join them; 1 is the single pass. Default: chosen by the core count
            (:func:`~writers_room.render.encode.encode_chunks_for`), 1 on small machines.
        speaker: A text-to-speech engine (:class:`~writers_room.render.voice.Speaker`)
            that voices each line of dialogue over the bed; ``None`` (the default): no
            speech, subtitles timed from each line's estimated length. The job layer
            passes the engine the settings name (``WRITERS_ROOM_TTS``).
        cast: The series' characters (looks for storyboard figures, voices).
        locations: The bible's locations (storyboard slug lines).
        motion: Where the Ken Burns moves are drawn: ``ffmpeg`` (``zoompan`` in a clip
            process per shot, on the CPU), ``torch`` (on the keyframe renderer's torch
            device, see :mod:`~writers_room.render.motion_torch`; the CPU where it has
            none), or ``auto``: torch when the keyframes come from a CUDA GPU (it frees
            the cores for x264), ffmpeg otherwise (faster on a CPU).
    """

    crossfade_s: float = 0.25
    supersample: float = 2.0
    preset: str | None = None
    segment_s: int = 2
    music: Path | None = None
    headline: str | None = None
    thumbnail_variants: int = 3
    use_cache: bool = True
    characters: Mapping[str, str] = field(default_factory=dict)
    diffusion: Mapping[str, Any] = field(default_factory=dict)
    motion_workers: int | None = None
    x264_threads: str = "split"
    encode_chunks: int | None = None
    motion: str = "auto"
    speaker: Speaker | None = None
    cast: tuple[CastMember, ...] = ()
    locations: tuple[str, ...] = ()
    headlines: tuple[str, ...] = ()
    thumbnail_shots: tuple[str, ...] = ()


def check_options(options: RenderOptions, out_dir: Path) -> None:
    """Refuse knobs that cannot render, and an ``out_dir`` that already holds files."""
    if options.music is not None and not Path(options.music).is_file():
        raise InputError(
            f"music bed {options.music} is not a file", field="music", value=options.music
        )
    if options.segment_s < 1:
        raise InputError(
            f"segment_s is {options.segment_s}; use 1 or 2 seconds",
            field="segment_s",
            value=options.segment_s,
        )
    if options.x264_threads not in {"split", "auto"}:
        raise InputError(
            f"x264_threads is {options.x264_threads!r}; use 'split' or 'auto'",
            field="x264_threads",
            value=options.x264_threads,
        )
    if options.motion not in MOTION_BACKENDS:
        raise InputError(
            f"motion is {options.motion!r}; use one of {', '.join(MOTION_BACKENDS)}",
            field="motion",
            value=options.motion,
        )
    if options.speaker is not None and not isinstance(options.speaker, Speaker):
        raise InputError(
            "speaker must have a name and a speak(text, *, shot, out) method",
            field="speaker",
            value=type(options.speaker).__name__,
        )
    if options.encode_chunks is not None and options.encode_chunks < 1:
        raise InputError(
            f"encode_chunks is {options.encode_chunks}; use 1 or more",
            field="encode_chunks",
            value=options.encode_chunks,
        )
    if out_dir.exists() and (not out_dir.is_dir() or any(out_dir.iterdir())):
        raise InputError(
            f"{out_dir} already exists and is not empty; a render never overwrites "
            "another — give it a new render folder",
            field="out_dir",
            value=str(out_dir),
        )
