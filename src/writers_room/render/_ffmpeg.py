"""The one door to the ffmpeg binary: argument lists in, never a shell string.

Commands are built with ffmpeg-python (which escapes filter-graph values) or as plain
argument lists, and run with :func:`subprocess.Popen` without a shell. Free text (captions,
headlines) never reaches ffmpeg at all: it is drawn into images with Pillow first. The
binary is the one imageio-ffmpeg ships, so the render does not depend on what the host has
installed.
"""

from __future__ import annotations

import functools
import re
import subprocess
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from writers_room.errors import RoomError

__all__ = [
    "FFmpegError",
    "MediaInfo",
    "StreamInfo",
    "compile_args",
    "count_frames",
    "ffmpeg_exe",
    "ffmpeg_version",
    "probe",
    "run_ffmpeg",
]

# How much of ffmpeg's stderr an error message carries: enough to see the cause.
_STDERR_TAIL = 4000


class FFmpegError(RoomError):
    """An ffmpeg command failed; the message carries the tail of its stderr."""

    def __init__(self, message: str, *, returncode: int, stderr: str) -> None:
        super().__init__(message)
        self.returncode = returncode
        self.stderr = stderr


@functools.cache
def ffmpeg_exe() -> str:
    """Return the path of the ffmpeg binary bundled with imageio-ffmpeg."""
    import imageio_ffmpeg

    return str(imageio_ffmpeg.get_ffmpeg_exe())


@functools.cache
def ffmpeg_version() -> str:
    """Return ffmpeg's version string, e.g. ``n7.1``, for provenance records."""
    out = subprocess.run(
        [ffmpeg_exe(), "-hide_banner", "-version"],
        capture_output=True,
        text=True,
        check=False,
    ).stdout
    match = re.match(r"ffmpeg version (\S+)", out)
    return match.group(1) if match else "unknown"


def compile_args(node: Any, *, output_args: Sequence[str] = ()) -> list[str]:
    """Compile an ffmpeg-python output node into an argument list.

    Args:
        node: An ffmpeg-python output (or merged outputs) node.
        output_args: Extra options for the last output, inserted just before its file
            name. ffmpeg-python cannot repeat an option (``-metadata`` twice), so
            repeated options go here.

    Returns:
        The full argument list, starting with the ffmpeg binary.
    """
    args: list[str] = list(node.compile(cmd=ffmpeg_exe()))
    if output_args:
        args[-1:-1] = list(output_args)
    return args


def run_ffmpeg(
    args: Sequence[str],
    *,
    cwd: Path | None = None,
    progress: Callable[[int], None] | None = None,
    timeout_s: float | None = None,
) -> str:
    """Run one ffmpeg command (no shell) and return its stderr.

    Args:
        args: The argument list, starting with the binary (see :func:`compile_args`).
        cwd: Working directory; the pipeline runs ffmpeg inside the render folder so
            every path it passes is short, relative and free of ``%`` patterns.
        progress: Called with the number of frames encoded so far, as ffmpeg reports it.
        timeout_s: Kill ffmpeg after this many seconds.

    Returns:
        ffmpeg's stderr.

    Raises:
        FFmpegError: ffmpeg exited with a non-zero status or ran past ``timeout_s``.
    """
    argv = [str(a) for a in args]
    if progress is not None:
        # -progress writes key=value lines to stdout; the file name comes last, so the
        # option goes straight after the binary where it applies globally.
        argv[1:1] = ["-progress", "pipe:1", "-nostats"]
    with tempfile.TemporaryFile(mode="w+", encoding="utf-8", errors="replace") as err:
        proc = subprocess.Popen(
            argv,
            cwd=cwd,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE if progress is not None else subprocess.DEVNULL,
            stderr=err,
            text=True,
            shell=False,
        )
        try:
            if progress is not None and proc.stdout is not None:
                for line in proc.stdout:
                    if line.startswith("frame="):
                        try:
                            progress(int(line.partition("=")[2]))
                        except ValueError:
                            pass
            returncode = proc.wait(timeout=timeout_s)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
            returncode = -9
        except BaseException:
            proc.kill()
            proc.wait()
            raise
        err.seek(0)
        stderr = err.read()
    if returncode != 0:
        tail = stderr[-_STDERR_TAIL:]
        raise FFmpegError(
            f"ffmpeg exited with status {returncode}: {tail.strip() or '(no output)'}",
            returncode=returncode,
            stderr=stderr,
        )
    return stderr


@dataclass
class StreamInfo:
    """One stream as ``ffmpeg -i`` describes it."""

    index: int
    kind: str
    codec: str
    profile: str | None = None
    width: int | None = None
    height: int | None = None
    fps: float | None = None
    bitrate_kbps: int | None = None
    sample_rate: int | None = None


@dataclass
class MediaInfo:
    """What ``ffmpeg -i`` says about a media file (imageio-ffmpeg ships no ffprobe)."""

    duration_s: float | None
    bitrate_kbps: int | None
    tags: dict[str, str] = field(default_factory=dict)
    streams: list[StreamInfo] = field(default_factory=list)

    @property
    def video(self) -> StreamInfo:
        """The first video stream."""
        return next(s for s in self.streams if s.kind == "video")

    @property
    def audio(self) -> StreamInfo | None:
        """The first audio stream, if any."""
        return next((s for s in self.streams if s.kind == "audio"), None)


_DURATION = re.compile(r"Duration: (\d+):(\d+):(\d+(?:\.\d+)?), start: [-\d.]+, bitrate: (\d+|N/A)")
_STREAM = re.compile(r"Stream #0:(\d+)\S*: (Video|Audio|Data|Subtitle): (\w+)(?: \(([^)]*)\))?(.*)")
_TAG = re.compile(r"^\s{4}(\w[\w ]*?)\s*: (.*)$")


def probe(path: Path | str) -> MediaInfo:
    """Describe a media file by parsing ``ffmpeg -i`` (there is no ffprobe to ask).

    Args:
        path: The file to describe.

    Returns:
        Duration, overall bitrate, container tags and streams.
    """
    proc = subprocess.run(
        [ffmpeg_exe(), "-hide_banner", "-i", f"file:{Path(path).resolve()}"],
        capture_output=True,
        text=True,
        check=False,
    )
    text = proc.stderr
    duration: float | None = None
    bitrate: int | None = None
    tags: dict[str, str] = {}
    streams: list[StreamInfo] = []
    in_container_meta = False
    for line in text.splitlines():
        if line.startswith("  Metadata:"):
            in_container_meta = not streams
            continue
        if in_container_meta:
            tag = _TAG.match(line)
            if tag and not line.startswith("  Duration"):
                tags[tag.group(1).strip()] = tag.group(2).strip()
                continue
            in_container_meta = False
        dur = _DURATION.search(line)
        if dur:
            h, m, s, br = dur.groups()
            duration = int(h) * 3600 + int(m) * 60 + float(s)
            bitrate = None if br == "N/A" else int(br)
            continue
        stream = _STREAM.search(line)
        if stream:
            streams.append(_parse_stream(stream))
    if duration is None and not streams:
        raise FFmpegError(
            f"ffmpeg cannot read {path}: {text[-_STDERR_TAIL:].strip()}",
            returncode=proc.returncode,
            stderr=text,
        )
    return MediaInfo(duration_s=duration, bitrate_kbps=bitrate, tags=tags, streams=streams)


def _parse_stream(match: re.Match[str]) -> StreamInfo:
    index, kind, codec, profile, rest = match.groups()
    info = StreamInfo(index=int(index), kind=kind.lower(), codec=codec, profile=profile)
    size = re.search(r", (\d{2,5})x(\d{2,5})", rest)
    if size:
        info.width, info.height = int(size.group(1)), int(size.group(2))
    fps = re.search(r", ([\d.]+) fps", rest)
    if fps:
        info.fps = float(fps.group(1))
    br = re.search(r", (\d+) kb/s", rest)
    if br:
        info.bitrate_kbps = int(br.group(1))
    rate = re.search(r", (\d+) Hz", rest)
    if rate:
        info.sample_rate = int(rate.group(1))
    return info


def count_frames(path: Path | str) -> int:
    """Count the video frames of a file exactly (a stream copy into the null muxer).

    Args:
        path: The media file.

    Returns:
        The number of video frames.
    """
    stderr = run_ffmpeg(
        [
            ffmpeg_exe(),
            "-hide_banner",
            "-i",
            f"file:{Path(path).resolve()}",
            "-map",
            "0:v:0",
            "-c",
            "copy",
            "-f",
            "null",
            "-",
        ]
    )
    frames = re.findall(r"frame=\s*(\d+)", stderr)
    if not frames:
        raise FFmpegError(f"ffmpeg reported no frames for {path}", returncode=0, stderr=stderr)
    return int(frames[-1])
