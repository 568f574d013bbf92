"""Motion between keyframes: Ken Burns moves, caption plates and cross-fades in ffmpeg.

Each shot is one still animated by ``zoompan`` (push-in, pull-out, pan or tilt, chosen
from the shot's camera note), with its caption plate composited on top, and joined to
its neighbours by an ``xfade`` centred on the cut. Shot boundaries are frame-exact: shot
``i`` owns frames ``[starts[i], starts[i+1])`` of the timeline and every cross-fade is
centred on that boundary, so the cut a viewer perceives lands within a frame of the
manifest.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import ffmpeg

from writers_room.render.captions import CaptionOverlay
from writers_room.render.validate import Timeline

__all__ = ["Move", "build_video", "crossfade_half_frames", "plan_move"]

# How far a move travels over one shot: 12 % zoom reads as motion without losing framing.
MOVE_AMOUNT = 0.12


@dataclass(frozen=True)
class Move:
    """A Ken Burns move over one shot."""

    kind: str
    amount: float = MOVE_AMOUNT


_KEYWORDS: tuple[tuple[tuple[str, ...], str], ...] = (
    (("static", "locked", "still", "tripod"), "static"),
    (("pull", "zoom out", "dolly out", "widen", "reveal"), "pull_out"),
    (("push", "zoom in", "dolly in", "creep"), "push_in"),
    (("pan left",), "pan_left"),
    (("pan right", "pan"), "pan_right"),
    (("tilt up", "crane up", "rise"), "tilt_up"),
    (("tilt down", "crane down", "tilt"), "tilt_down"),
)


def plan_move(camera: str, index: int) -> Move:
    """Pick the move a shot's camera note asks for.

    Unknown notes alternate push-in and pull-out by shot index, so consecutive shots do
    not all breathe the same way.
    """
    lowered = camera.lower()
    for words, kind in _KEYWORDS:
        if any(word in lowered for word in words):
            return Move(kind)
    return Move("push_in" if index % 2 == 0 else "pull_out")


def _zoompan_exprs(move: Move, frames: int) -> dict[str, str]:
    span = max(frames - 1, 1)
    # Smoothstep easing: moves start and end gently instead of jerking at the cut.
    ease = f"(on/{span})*(on/{span})*(3-2*on/{span})"
    amount = f"{move.amount:.4f}"
    centre_x = "(iw-iw/zoom)/2"
    centre_y = "(ih-ih/zoom)/2"
    if move.kind == "static":
        return {"z": "1", "x": "0", "y": "0"}
    if move.kind == "push_in":
        return {"z": f"1+{amount}*{ease}", "x": centre_x, "y": centre_y}
    if move.kind == "pull_out":
        return {"z": f"1+{amount}*(1-{ease})", "x": centre_x, "y": centre_y}
    zoom = f"{1 + move.amount:.4f}"
    if move.kind == "pan_right":
        return {"z": zoom, "x": f"(iw-iw/zoom)*{ease}", "y": centre_y}
    if move.kind == "pan_left":
        return {"z": zoom, "x": f"(iw-iw/zoom)*(1-{ease})", "y": centre_y}
    if move.kind == "tilt_down":
        return {"z": zoom, "x": centre_x, "y": f"(ih-ih/zoom)*{ease}"}
    if move.kind == "tilt_up":
        return {"z": zoom, "x": centre_x, "y": f"(ih-ih/zoom)*(1-{ease})"}
    raise ValueError(f"unknown move {move.kind!r}")


def crossfade_half_frames(timeline: Timeline, crossfade_s: float) -> int:
    """Half the cross-fade length in frames, shortened so no shot is all transition.

    A fade of ``2h`` frames is centred on each cut; shot ``i`` is then visible alone for
    ``frames[i] - 2h`` frames, so ``h`` is capped at half the shortest shot.
    """
    if crossfade_s <= 0 or len(timeline.starts) < 2:
        return 0
    wanted = round(crossfade_s * timeline.fps / 2)
    return max(0, min(wanted, min(timeline.frames) // 2))


def build_video(
    stills: Sequence[str],
    overlays: Sequence[CaptionOverlay | None],
    moves: Sequence[Move],
    timeline: Timeline,
    size: tuple[int, int],
    *,
    crossfade_s: float,
    supersample: float,
) -> Any:
    """The ffmpeg-python video stream of the whole episode (yuv420p, ``size``).

    Args:
        stills: Keyframe paths, one per shot, relative to ffmpeg's working directory.
        overlays: Caption plates (paths relative the same way), ``None`` where no caption.
        moves: One move per shot.
        timeline: Frame-exact shot boundaries.
        size: Output frame size (width, height).
        crossfade_s: Cross-fade length centred on each cut; 0 gives hard cuts.
        supersample: Scale each still by this factor before ``zoompan``. ``zoompan`` crops
            at whole input pixels, so a 2x source halves the sub-pixel judder of slow
            moves; the scale runs once per still, not per frame.

    Returns:
        The joined video stream.
    """
    width, height = size
    fps = timeline.fps
    half = crossfade_half_frames(timeline, crossfade_s)
    count = len(stills)
    src_w = max(width, int(width * supersample) // 2 * 2)
    src_h = max(height, int(height * supersample) // 2 * 2)
    clips = []
    for index, (still, overlay, move) in enumerate(zip(stills, overlays, moves, strict=True)):
        frames = timeline.frames[index]
        frames += half if index > 0 else 0
        frames += half if index < count - 1 else 0
        clip = (
            ffmpeg.input(still, f="image2", pattern_type="none")
            .video.filter("scale", src_w, src_h, flags="lanczos")
            # Converting the still once here, not every output frame after zoompan, also
            # halves the bytes zoompan scales per frame.
            .filter("format", "yuv420p")
            .filter(
                "zoompan",
                d=frames,
                s=f"{width}x{height}",
                fps=fps,
                **_zoompan_exprs(move, frames),
            )
        )
        if overlay is not None:
            plate = ffmpeg.input(str(overlay.path), f="image2", pattern_type="none").video
            clip = clip.overlay(plate, x=overlay.x, y=overlay.y, eof_action="repeat")
        clips.append(clip.filter("setsar", "1"))
    if count == 1:
        return clips[0]
    if half == 0:
        return ffmpeg.concat(*clips, v=1, a=0)
    return _crossfaded(clips, timeline, half)


def _trim(stream: Any, start: int, end: int) -> Any:
    return stream.trim(start_frame=start, end_frame=end).setpts("PTS-STARTPTS")


def _crossfaded(clips: Sequence[Any], timeline: Timeline, half: int) -> Any:
    """Join clips with fades centred on each cut, blending only the fade frames.

    A chain of ``xfade`` filters would push every frame of the episode through every
    later ``xfade`` (11 of them for 12 shots), each copying the frame. Instead each clip
    is split (by reference, no copy) into head, body and tail; only tail + next head go
    through an ``xfade``, and ``concat`` strings bodies and fades together.
    """
    fps = timeline.fps
    count = len(clips)
    fade = 2 * half
    pieces: list[Any] = []
    previous_tail: Any = None
    for index, clip in enumerate(clips):
        head = half if index > 0 else 0
        tail = half if index < count - 1 else 0
        length = timeline.frames[index] + head + tail
        body_start, body_end = 2 * head, length - 2 * tail
        wanted = (head > 0) + (body_end > body_start) + (tail > 0)
        if wanted > 1:
            split = clip.filter_multi_output("split", wanted)
            parts = iter([split.stream(k) for k in range(wanted)])
        else:
            parts = iter([clip])
        if head:
            fade_in = _trim(next(parts), 0, fade)
            pieces.append(
                ffmpeg.filter(
                    [previous_tail, fade_in],
                    "xfade",
                    transition="fade",
                    duration=f"{fade / fps:.6f}",
                    offset="0",
                )
            )
        if body_end > body_start:
            pieces.append(_trim(next(parts), body_start, body_end))
        if tail:
            previous_tail = _trim(next(parts), length - fade, length)
    return ffmpeg.concat(*pieces, v=1, a=0)
