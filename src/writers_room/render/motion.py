"""Motion between keyframes: Ken Burns moves and caption plates, one ffmpeg clip per shot.

Each shot is one still animated by ``zoompan`` (push-in, pull-out, pan or tilt, chosen
from the shot's camera note), with its caption plate composited on top. Every shot is its
own ffmpeg command writing raw yuv420p frames, so clips render in parallel processes
(``zoompan`` is single-threaded: one filter graph for the whole episode kept one core busy
for ~8 s of a 30-s episode while x264 waited); :mod:`writers_room.render._compose` joins
them in order with a linear cross-fade centred on each cut and feeds the encoder.

Shot boundaries are frame-exact: shot ``i`` owns frames ``[starts[i], starts[i+1])`` of
the timeline. With a cross-fade of ``2h`` frames, clip ``i`` starts ``h`` frames early
(its head) and ends ``h`` frames late (its tail), so every fade is centred on its
boundary and the cut a viewer perceives lands within a frame of the manifest.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import ffmpeg

from writers_room.render._ffmpeg import compile_args
from writers_room.render.captions import CaptionOverlay
from writers_room.render.validate import Timeline

__all__ = [
    "Clip",
    "Move",
    "clip_plan",
    "crossfade_half_frames",
    "ease",
    "local_window",
    "move_window",
    "plan_move",
]

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


# Each move as (zoom weight, x fraction, y fraction), each a constant or a function of the
# eased progress ``e`` (0 → 1 over the shot): the zoom is ``1 + amount * weight`` and the
# window's top-left corner sits at ``fraction * (size - size / zoom)``. One table drives
# both the ffmpeg ``zoompan`` expressions and the torch motion (``motion_torch``).
_EASED = "e"
_EASED_BACK = "1-e"
_PATHS: dict[str, tuple[float | str, float | str, float | str]] = {
    "static": (0.0, 0.0, 0.0),
    "push_in": (_EASED, 0.5, 0.5),
    "pull_out": (_EASED_BACK, 0.5, 0.5),
    "pan_right": (1.0, _EASED, 0.5),
    "pan_left": (1.0, _EASED_BACK, 0.5),
    "tilt_down": (1.0, 0.5, _EASED),
    "tilt_up": (1.0, 0.5, _EASED_BACK),
}


def _path(move: Move) -> tuple[float | str, float | str, float | str]:
    try:
        return _PATHS[move.kind]
    except KeyError:
        raise ValueError(f"unknown move {move.kind!r}") from None


def ease(frame: int, frames: int) -> float:
    """Smoothstep progress of ``frame`` over a clip of ``frames`` (0 at the first, 1 at the
    last): moves start and end gently instead of jerking at the cut."""
    t = frame / max(frames - 1, 1)
    return t * t * (3 - 2 * t)


def move_window(move: Move, frame: int, frames: int) -> tuple[float, float, float]:
    """The move at ``frame``: ``(zoom, x, y)``, with ``x``/``y`` the window's top-left
    corner as a fraction of the still's width/height (what ``zoompan`` computes)."""
    e = ease(frame, frames)

    def value(term: float | str) -> float:
        if term == _EASED:
            return e
        if term == _EASED_BACK:
            return 1 - e
        return float(term)

    weight, fx, fy = (value(term) for term in _path(move))
    zoom = 1 + move.amount * weight
    slack = 1 - 1 / zoom
    return zoom, slack * fx, slack * fy


def _zoompan_exprs(move: Move, frames: int) -> dict[str, str]:
    span = max(frames - 1, 1)
    eased = f"(on/{span})*(on/{span})*(3-2*on/{span})"

    def expr(term: float | str) -> str:
        if term == _EASED:
            return eased
        if term == _EASED_BACK:
            return f"(1-{eased})"
        return f"{float(term):g}"

    weight, fx, fy = _path(move)
    return {
        "z": f"1+{move.amount:.4f}*{expr(weight)}",
        "x": f"(iw-iw/zoom)*{expr(fx)}",
        "y": f"(ih-ih/zoom)*{expr(fy)}",
    }


def crossfade_half_frames(timeline: Timeline, crossfade_s: float) -> int:
    """Half the cross-fade length in frames, shortened so no shot is all transition.

    A fade of ``2h`` frames is centred on each cut; shot ``i`` is then visible alone for
    ``frames[i] - 2h`` frames, so ``h`` is capped at half the shortest shot.
    """
    if crossfade_s <= 0 or len(timeline.starts) < 2:
        return 0
    wanted = round(crossfade_s * timeline.fps / 2)
    return max(0, min(wanted, min(timeline.frames) // 2))


@dataclass(frozen=True)
class Clip:
    """One shot's clip: the ffmpeg command that writes its raw frames, and its fade edges.

    Attributes:
        args: The ffmpeg argument list; it writes ``frames`` raw yuv420p frames to stdout.
        raw_args: The same clip read from a raw RGB still (see ``clip_plan``), or ``None``.
        frames: Frames in the clip: the shot's own, plus ``head`` and ``tail``.
        head: Frames before the shot's first timeline frame (half the fade into it).
        tail: Frames after the shot's last timeline frame (half the fade out of it).
    """

    args: list[str]
    raw_args: list[str] | None
    frames: int
    head: int
    tail: int


def _as_list(overlay: CaptionOverlay | Sequence[CaptionOverlay] | None) -> list[CaptionOverlay]:
    if overlay is None:
        return []
    if isinstance(overlay, CaptionOverlay):
        return [overlay]
    return list(overlay)


def local_window(overlay: CaptionOverlay, clip_start: int, frames: int) -> tuple[int, int] | None:
    """The clip frames ``[first, end)`` an overlay shows on (``clip_start``: the timeline
    frame of the clip's first frame); ``None`` when it shows on none of them."""
    first = 0 if overlay.first_frame is None else overlay.first_frame - clip_start
    end = frames if overlay.end_frame is None else overlay.end_frame - clip_start
    first, end = max(0, first), min(frames, end)
    return (first, end) if end > first else None


def clip_plan(
    stills: Sequence[str],
    overlays: Sequence[CaptionOverlay | Sequence[CaptionOverlay] | None],
    moves: Sequence[Move],
    timeline: Timeline,
    size: tuple[int, int],
    *,
    crossfade_s: float,
    supersample: float,
    raw_stills: Sequence[str] | None = None,
) -> list[Clip]:
    """One :class:`Clip` per shot, each an ffmpeg command of its own.

    Args:
        stills: Keyframe paths, one per shot, relative to ffmpeg's working directory.
        overlays: Per shot, the plates burned into its clip (paths relative the same
            way): a caption for the whole clip, subtitles for some of its frames
            (:func:`local_window`); one plate or ``None`` is accepted too.
        moves: One move per shot.
        timeline: Frame-exact shot boundaries.
        size: Output frame size (width, height).
        crossfade_s: Cross-fade length centred on each cut; 0 gives hard cuts.
        supersample: Scale each still by this factor before ``zoompan``. ``zoompan`` crops
            at whole input pixels, so a 2x source halves the sub-pixel judder of slow
            moves; the scale runs once per still, not per frame.
        raw_stills: Per shot, a path where the keyframe may instead be found as raw RGB
            of ``size`` (written the moment it is rendered, while its PNG is still being
            compressed): each clip gets a second command that reads it.

    Returns:
        The clips, in shot order.
    """
    width, height = size
    half = crossfade_half_frames(timeline, crossfade_s)
    count = len(stills)
    src_w = max(width, int(width * supersample) // 2 * 2)
    src_h = max(height, int(height * supersample) // 2 * 2)
    clips: list[Clip] = []
    for index, (still, overlay, move) in enumerate(zip(stills, overlays, moves, strict=True)):
        head = half if index > 0 else 0
        tail = half if index < count - 1 else 0
        frames = timeline.frames[index] + head + tail
        png = ffmpeg.input(still, f="image2", pattern_type="none")
        raw = None
        if raw_stills is not None:
            raw = ffmpeg.input(
                raw_stills[index], f="rawvideo", pix_fmt="rgb24", s=f"{width}x{height}"
            )
        clip_start = timeline.starts[index] - head
        plates = [
            (plate, window)
            for plate in _as_list(overlay)
            if (window := local_window(plate, clip_start, frames)) is not None
        ]
        commands = [
            _clip_args(source, plates, move, frames, size, timeline.fps, src_w, src_h)
            for source in (png, raw)
            if source is not None
        ]
        clips.append(
            Clip(
                args=commands[0],
                raw_args=commands[1] if len(commands) > 1 else None,
                frames=frames,
                head=head,
                tail=tail,
            )
        )
    return clips


def _clip_args(
    source: Any,
    overlay: CaptionOverlay | Sequence[tuple[CaptionOverlay, tuple[int, int]]] | None,
    move: Move,
    frames: int,
    size: tuple[int, int],
    fps: int,
    src_w: int,
    src_h: int,
) -> list[str]:
    width, height = size
    clip = (
        source.video.filter("scale", src_w, src_h, flags="lanczos")
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
    plates = [(overlay, (0, frames))] if isinstance(overlay, CaptionOverlay) else overlay or []
    for plate_spec, (first, end) in plates:
        plate = ffmpeg.input(str(plate_spec.path), f="image2", pattern_type="none").video
        options: dict[str, Any] = {}
        if (first, end) != (0, frames):
            # On for frames first..end-1: the product is positive only between them, and
            # ceil() of it over a huge divisor is 1 there and 0 elsewhere. An expression
            # without commas, which ffmpeg-python would not escape in a filter argument.
            options["enable"] = f"ceil((n-{first - 0.5})*({end - 0.5}-n)/1000000000)"
        clip = clip.overlay(plate, x=plate_spec.x, y=plate_spec.y, eof_action="repeat", **options)
    output = ffmpeg.output(
        clip.filter("format", "yuv420p"),
        "pipe:1",
        f="rawvideo",
        pix_fmt="yuv420p",
        **{"frames:v": frames},
    )
    # One thread per clip: clips run side by side, sized to the cores by the caller,
    # and zoompan (nearly all of a clip's work) cannot use more than one anyway.
    return compile_args(
        output.global_args("-hide_banner", "-nostdin", "-loglevel", "error", "-filter_threads", "1")
    )
