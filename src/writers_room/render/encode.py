"""The encode ladder, HLS/CMAF packaging and the MP4 master.

By default all renditions come out of one ffmpeg pass: the composed episode (raw frames on stdin) is
mapped once per rung and scaled in a filter graph of its own, each rung is encoded with
x264 (High profile, capped VBR) plus AAC, and the HLS muxer writes fMP4 segments and a
master playlist with BANDWIDTH, RESOLUTION and CODECS. Keyframes fall every
``segment_s`` seconds exactly (``-g`` = fps x segment, scene-cut detection off, forced
keyframes on the segment grid), so every segment starts with an IDR frame and is
independently decodable.

On a machine with many cores the ladder can instead be encoded in time chunks
(:func:`chunk_ranges`): each chunk is whole segments long, so it starts on a keyframe of
the grid, and each is an independent ffmpeg process (:func:`chunk_command`) that encodes
its frames into a video-only MP4 per rung. x264's frame threads stop paying off before
16 cores (on an H100 host the 1080p rung alone used about 8.5 of 16 cores, the whole
ladder about 11), while independent encoders of separate time ranges add parallelism
x264 cannot find inside one stream; and the chunks ahead need not wait for the frames
of later shots. A packaging pass
(:func:`package_command`) then joins each rung's chunks with the concat demuxer and the
audio, encoded once per rung beside the chunks (:func:`audio_command`), all stream copy,
into the same HLS folder and master playlist as the single pass. Rate control restarts
at each chunk boundary, which is a segment boundary, and VBV keeps every chunk under the
same cap.

The MP4 master is the top rung's fMP4 segments joined and remuxed (stream copy) with
``+faststart`` and the synthetic-content tags; encoding the top rung twice would cost the
most expensive encode again for the same pictures.
"""

from __future__ import annotations

import re
import shutil
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import ffmpeg

from writers_room.render._ffmpeg import compile_args, ffmpeg_exe, run_ffmpeg

__all__ = [
    "LADDER",
    "PREVIEW_RUNG",
    "SYNTHETIC_TAGS",
    "Rung",
    "CHUNK_DIR",
    "audio_command",
    "audio_source",
    "chunk_command",
    "chunk_ranges",
    "encode_chunks_for",
    "hls_command",
    "ladder_for",
    "package_command",
    "remux_master",
    "rung_threads",
]

HLS_DIR = "hls"
MASTER_PLAYLIST = "master.m3u8"
VARIANT_PLAYLIST = "index.m3u8"
INIT_SEGMENT = "init.mp4"
CHUNK_DIR = ".chunks"
# Fewer cores than this: the single pass (x264 still scales there) and no packaging pass.
# Measured on 16 cores (an H100 host): 4 chunks 8.06 s against 8.80 s for a 4-step episode.
CHUNKED_MIN_CORES = 12
# The automatic choice: one chunk per this many cores, at most MAX_CHUNKS.
CORES_PER_CHUNK = 4
MAX_CHUNKS = 4

# Tags written into every MP4 master; platforms and C2PA-less pipelines read these.
SYNTHETIC_TAGS = {
    "comment": "synthetic: AI-generated",
    "description": "synthetic: AI-generated content (writers-room render pipeline)",
}


@dataclass(frozen=True)
class Rung:
    """One rendition of the ladder."""

    name: str
    width: int
    height: int
    video_kbps: int
    audio_kbps: int

    @property
    def maxrate_kbps(self) -> int:
        """Peak video rate: 10 % over target keeps quality steady on hard shots."""
        return round(self.video_kbps * 1.1)

    @property
    def bufsize_kbps(self) -> int:
        """VBV buffer of two seconds at target rate: one segment's worth of slack."""
        return self.video_kbps * 2


LADDER: tuple[Rung, ...] = (
    Rung("1080p", 1080, 1920, 3500, 128),
    Rung("720p", 720, 1280, 1500, 96),
    Rung("360p", 360, 640, 600, 64),
)
PREVIEW_RUNG = Rung("360p", 360, 640, 600, 64)


def ladder_for(width: int, height: int, *, preview: bool = False) -> list[Rung]:
    """The rungs for a master of ``width`` x ``height``: the master size, then smaller.

    A master size that is not a standard rung gets a rung of its own with a bitrate scaled
    by pixel count from the 1080x1920 rung.
    """
    if preview:
        return [PREVIEW_RUNG]
    top = next((r for r in LADDER if (r.width, r.height) == (width, height)), None)
    if top is None:
        scale = (width * height) / (1080 * 1920)
        top = Rung(
            f"{height}p",
            width,
            height,
            max(300, round(3500 * scale)),
            128 if height >= 1280 else 96,
        )
    return [top, *(r for r in LADDER if r.height < height)]


def audio_source(runtime_s: float, track: Path | None = None) -> Any:
    """The episode's audio: silence, or the finished track (see
    :func:`writers_room.render.audio.build_track`: voices over the bed, already at
    -16 LUFS), padded or cut to exactly the runtime.

    Args:
        runtime_s: Episode length in seconds.
        track: The mixed track, or ``None`` for silence.

    Returns:
        An ffmpeg-python audio stream.
    """
    duration = f"{runtime_s:.6f}"
    if track is None:
        return ffmpeg.input("anullsrc=r=48000:cl=stereo", f="lavfi", t=duration).audio
    # The file: prefix stops ffmpeg from reading a name like "concat:..." as a protocol.
    return (
        ffmpeg.input(f"file:{track.resolve()}")
        .audio.filter("apad")
        .filter("atrim", duration=duration)
    )


def rung_threads(rungs: Sequence[Rung], cores: int) -> list[int]:
    """x264 threads per rung: the cores shared out by pixel count, at least one each.

    Left to itself every x264 encoder starts 1.5 threads per core as if it had the
    machine alone, so a three-rung ladder oversubscribes the cores threefold and the
    1080p rung, with 64 % of the pixels, gets only a third of the threads. Sharing out
    1.5 x cores by pixel count keeps x264's own ratio for the ladder as a whole.
    """
    pixels = [rung.width * rung.height for rung in rungs]
    budget = max(len(rungs), round(1.5 * cores))
    return [max(1, round(budget * p / sum(pixels))) for p in pixels]


def encode_chunks_for(cores: int, *, preview: bool = False) -> int:
    """How many time chunks to encode the ladder in: 1 (the single pass) on few cores.

    Below :data:`CHUNKED_MIN_CORES` x264's own threads still scale with the cores and a
    packaging pass would only add time; previews are one small rung and stay single.
    Above, one chunk encoder per :data:`CORES_PER_CHUNK` cores, at most
    :data:`MAX_CHUNKS`.
    """
    if preview or cores < CHUNKED_MIN_CORES:
        return 1
    return max(1, min(MAX_CHUNKS, cores // CORES_PER_CHUNK))


def chunk_ranges(total_frames: int, fps: int, segment_s: int, chunks: int) -> list[tuple[int, int]]:
    """Split the timeline into at most ``chunks`` ranges of whole segments.

    Every range starts on the segment grid (a multiple of ``fps * segment_s`` frames),
    so each chunk's first frame is one of the keyframes the single pass would place, and
    the ranges cover ``[0, total_frames)`` without gaps. Earlier ranges get the extra
    segments when they do not divide evenly: their frames arrive first.

    Returns:
        ``(start, end)`` frame ranges, in order; one range when ``chunks`` <= 1.
    """
    gop = fps * segment_s
    segments = max(1, -(-total_frames // gop))
    count = max(1, min(chunks, segments))
    ranges: list[tuple[int, int]] = []
    start_segment = 0
    for index in range(count):
        size = segments // count + (1 if index < segments % count else 0)
        start = start_segment * gop
        end = min(total_frames, (start_segment + size) * gop)
        ranges.append((start, end))
        start_segment += size
    return ranges


def _x264_options(fps: int, segment_s: int, preset: str) -> dict[str, Any]:
    gop = fps * segment_s
    return {
        "c:v": "libx264",
        "profile:v": "high",
        "preset": preset,
        "pix_fmt": "yuv420p",
        "g": gop,
        "keyint_min": gop,
        "sc_threshold": 0,
        "force_key_frames": f"expr:gte(t,n_forced*{segment_s})",
    }


def _hls_options(rungs: Sequence[Rung], segment_s: int) -> dict[str, Any]:
    return {
        "f": "hls",
        "hls_time": segment_s,
        "hls_playlist_type": "vod",
        "hls_segment_type": "fmp4",
        "hls_flags": "independent_segments",
        "hls_fmp4_init_filename": INIT_SEGMENT,
        "hls_segment_filename": f"{HLS_DIR}/%v/seg_%05d.m4s",
        "master_pl_name": MASTER_PLAYLIST,
        "var_stream_map": " ".join(f"v:{i},a:{i},name:{rung.name}" for i, rung in enumerate(rungs)),
    }


def _aac_options(rungs: Sequence[Rung]) -> dict[str, Any]:
    options: dict[str, Any] = {"c:a": "aac", "ar": 48000, "ac": 2}
    for index, rung in enumerate(rungs):
        options[f"b:a:{index}"] = f"{rung.audio_kbps}k"
    return options


def _rung_video_options(
    rung: Rung, index: int, size: tuple[int, int], threads: Sequence[int] | None
) -> dict[str, Any]:
    options: dict[str, Any] = {}
    if (rung.width, rung.height) != size:
        options[f"filter:v:{index}"] = f"scale={rung.width}:{rung.height}:flags=bicubic"
    if threads is not None:
        options[f"threads:v:{index}"] = threads[index]
    options[f"b:v:{index}"] = f"{rung.video_kbps}k"
    options[f"maxrate:v:{index}"] = f"{rung.maxrate_kbps}k"
    options[f"bufsize:v:{index}"] = f"{rung.bufsize_kbps}k"
    return options


def _raw_input(size: tuple[int, int], fps: int) -> Any:
    width, height = size
    return ffmpeg.input(
        "pipe:0", f="rawvideo", pix_fmt="yuv420p", s=f"{width}x{height}", framerate=fps
    ).video


_QUIET = ("-hide_banner", "-nostdin", "-loglevel", "error", "-y")


def hls_command(
    audio: Any,
    rungs: Sequence[Rung],
    *,
    size: tuple[int, int],
    fps: int,
    segment_s: int,
    preset: str,
    threads: Sequence[int] | None = None,
) -> list[str]:
    """The ffmpeg command that encodes raw frames on stdin into every rung of ``<cwd>/hls``.

    The video arrives as raw yuv420p frames of ``size`` on stdin (see
    :mod:`writers_room.render._compose`). Every rung maps that input on its own and scales
    it in its own simple filter graph: ffmpeg runs each filter graph on a thread of its
    own, so the 720p and 360p scales run side by side instead of one after the other in
    a single ``split`` graph (about 3 s of one core for a 30-s episode).

    Args:
        audio: The audio stream (see :func:`audio_source`).
        rungs: The renditions, largest first.
        size: Size of the raw frames.
        fps: Frame rate.
        segment_s: Segment length; keyframes are placed on this grid.
        preset: x264 preset.
        threads: x264 threads per rung (see :func:`rung_threads`); ``None`` lets x264
            choose.

    Returns:
        The argument list, to run with the render folder as working directory.
    """
    count = len(rungs)
    video = _raw_input(size, fps)
    audios = audio.filter_multi_output("asplit", count) if count > 1 else None
    streams: list[Any] = [video] * count
    for index in range(count):
        streams.append(audios.stream(index) if audios is not None else audio)
    options = {
        **_x264_options(fps, segment_s, preset),
        **_aac_options(rungs),
        **_hls_options(rungs, segment_s),
    }
    for index, rung in enumerate(rungs):
        options.update(_rung_video_options(rung, index, size, threads))
    node = ffmpeg.output(*streams, f"{HLS_DIR}/%v/{VARIANT_PLAYLIST}", **options)
    return compile_args(node.global_args(*_QUIET))


def chunk_file(chunk: int, rung: Rung) -> str:
    """Where chunk ``chunk`` of ``rung`` is written, relative to the render folder."""
    return f"{HLS_DIR}/{CHUNK_DIR}/{rung.name}_{chunk:02d}.mp4"


def chunk_command(
    rungs: Sequence[Rung],
    chunk: int,
    *,
    size: tuple[int, int],
    fps: int,
    segment_s: int,
    preset: str,
    threads: Sequence[int] | None = None,
) -> list[str]:
    """The ffmpeg command that encodes one time chunk of raw frames on stdin, every rung.

    Each rung is one output, a video-only MP4 (:func:`chunk_file`), with the same x264
    settings as :func:`hls_command`; the chunk's first frame is a forced keyframe, as
    every chunk starts on the segment grid (see :func:`chunk_ranges`).

    Returns:
        The argument list, to run with the render folder as working directory.
    """
    video = _raw_input(size, fps)
    outputs = []
    for index, rung in enumerate(rungs):
        options = _x264_options(fps, segment_s, preset)
        if (rung.width, rung.height) != size:
            options["vf"] = f"scale={rung.width}:{rung.height}:flags=bicubic"
        if threads is not None:
            options["threads"] = threads[index]
        options.update(
            {
                "b:v": f"{rung.video_kbps}k",
                "maxrate": f"{rung.maxrate_kbps}k",
                "bufsize": f"{rung.bufsize_kbps}k",
                "an": None,
                "f": "mp4",
            }
        )
        outputs.append(ffmpeg.output(video, chunk_file(chunk, rung), **options))
    return compile_args(ffmpeg.merge_outputs(*outputs).global_args(*_QUIET))


def chunk_list(rung: Rung) -> str:
    """The concat-demuxer list of ``rung``'s chunks, relative to the render folder."""
    return f"{HLS_DIR}/{CHUNK_DIR}/{rung.name}.txt"


def write_chunk_lists(cwd: Path, rungs: Sequence[Rung], chunks: int) -> None:
    """Write every rung's concat list (:func:`chunk_list`) under ``cwd``."""
    (cwd / HLS_DIR / CHUNK_DIR).mkdir(parents=True, exist_ok=True)
    for rung in rungs:
        # Paths in a concat list are relative to the list's own folder.
        lines = [f"file '{Path(chunk_file(k, rung)).name}'\n" for k in range(chunks)]
        (cwd / chunk_list(rung)).write_text("".join(lines), "utf-8")


def audio_file(rung: Rung) -> str:
    """Where ``rung``'s audio is encoded for a chunked ladder, relative to the render folder."""
    return f"{HLS_DIR}/{CHUNK_DIR}/{rung.name}.m4a"


def audio_command(audio: Any, rungs: Sequence[Rung]) -> list[str]:
    """The ffmpeg command that encodes the episode's audio once per rung (chunked ladder).

    It runs beside the chunk encoders (it takes a fraction of a second), so the packaging
    pass only copies streams. Same AAC settings as :func:`hls_command`.

    Returns:
        The argument list, to run with the render folder as working directory.
    """
    count = len(rungs)
    audios = audio.filter_multi_output("asplit", count) if count > 1 else None
    outputs = []
    for index, rung in enumerate(rungs):
        stream = audios.stream(index) if audios is not None else audio
        outputs.append(
            ffmpeg.output(
                stream,
                audio_file(rung),
                **{"c:a": "aac", "ar": 48000, "ac": 2, "b:a": f"{rung.audio_kbps}k", "f": "mp4"},
            )
        )
    return compile_args(ffmpeg.merge_outputs(*outputs).global_args(*_QUIET))


def package_command(rungs: Sequence[Rung], *, segment_s: int) -> list[str]:
    """The ffmpeg command that joins the chunked ladder into ``<cwd>/hls`` (stream copy).

    Each rung's video chunks are read through the concat demuxer (their lists written by
    :func:`write_chunk_lists`) and its audio from :func:`audio_command`'s file; both are
    copied, and the HLS muxer writes the same variants and master playlist as
    :func:`hls_command`: the keyframes already sit on the segment grid, so copied
    segments split there.

    Returns:
        The argument list, to run with the render folder as working directory.
    """
    videos = [ffmpeg.input(chunk_list(rung), f="concat", safe=0).video for rung in rungs]
    audios = [ffmpeg.input(audio_file(rung)).audio for rung in rungs]
    options = {"c:v": "copy", "c:a": "copy", **_hls_options(rungs, segment_s)}
    node = ffmpeg.output(*videos, *audios, f"{HLS_DIR}/%v/{VARIANT_PLAYLIST}", **options)
    return compile_args(node.global_args(*_QUIET))


def variant_files(variant_dir: Path) -> tuple[Path, list[Path]]:
    """The init segment and media segments a variant playlist lists, in order."""
    text = (variant_dir / VARIANT_PLAYLIST).read_text(encoding="utf-8")
    init = re.search(r'#EXT-X-MAP:URI="([^"]+)"', text)
    if init is None:
        raise RuntimeError(f"{variant_dir / VARIANT_PLAYLIST} has no EXT-X-MAP init segment")
    segments = [line for line in text.splitlines() if line and not line.startswith("#")]
    return variant_dir / init.group(1), [variant_dir / name for name in segments]


def remux_master(
    variant_dir: Path,
    target: Path,
    *,
    cwd: Path,
    metadata: dict[str, str],
) -> list[str]:
    """Join a variant's fMP4 segments and remux them into a progressive MP4 master.

    Args:
        variant_dir: The HLS variant folder (top rung).
        target: The MP4 to write.
        cwd: Working directory for ffmpeg (and the scratch file).
        metadata: Container tags, e.g. :data:`SYNTHETIC_TAGS` plus a title.

    Returns:
        The argument list that ran.
    """
    init, segments = variant_files(variant_dir)
    joined = cwd / ".joined.mp4"
    try:
        # CMAF segments are byte-concatenable: init + segments is one fragmented MP4.
        with joined.open("wb") as out:
            for part in (init, *segments):
                with part.open("rb") as src:
                    shutil.copyfileobj(src, out, length=1 << 20)
        tags: list[str] = []
        for key, value in metadata.items():
            tags += ["-metadata", f"{key}={value}"]
        args = [
            ffmpeg_exe(),
            "-hide_banner",
            "-nostdin",
            "-loglevel",
            "error",
            "-y",
            "-i",
            f"file:{joined.name}",
            "-map",
            "0",
            "-c",
            "copy",
            "-movflags",
            "+faststart",
            *tags,
            f"file:{target.relative_to(cwd).as_posix()}",
        ]
        run_ffmpeg(args, cwd=cwd)
    finally:
        joined.unlink(missing_ok=True)
    return args
