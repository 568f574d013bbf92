"""Motion on the GPU: a shot's Ken Burns move, caption plate and yuv420p frames in torch.

The ffmpeg path (:mod:`writers_room.render.motion`) animates each still with ``zoompan``
in a clip process of its own: about 10 ms of a CPU core per 1080x1920 frame, which on a
GPU machine competes with x264 for the cores that bound the whole render. Here the same
moves (the same table, :func:`~writers_room.render.motion.move_window`) run on the device
that rendered the keyframe, and the frames go to a file the compose helper reads in place
of a clip process's output.

A move only scales and shifts the still, so resampling is separable: each frame is
``V @ plane @ H.T`` with ``V`` and ``H`` the bicubic weights of its rows and columns
(the kernel and border handling of ``torch.nn.functional.grid_sample``'s ``bicubic``).
As dense matrices that is a few batched matrix products per pass, which tensor cores
finish in milliseconds, where ``grid_sample`` gathered 16 taps per pixel and held the
GPU long enough to slow the keyframe renderer beside it. The still is converted to
BT.601 limited-range Y, U, V first (what ffmpeg's ``format=yuv420p`` does to an untagged
RGB still), the caption plate is blended in that space (blending is linear, so this is
the same as blending RGB), and chroma is averaged over 2x2 blocks.

Differences from ``zoompan``, on purpose: the window moves by sub-pixel amounts where
``zoompan`` crops at whole pixels of a supersampled copy, so there is no judder to hide
and no supersampling to pay for.

It runs on any torch device; on a CPU the ffmpeg path is the faster one and stays the
default there (see ``RenderOptions.motion``).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import nullcontext
from pathlib import Path
from typing import Any

import numpy as np

from writers_room.render.motion import Move, move_window

__all__ = ["FRAMES_PER_PASS", "bicubic_matrices", "clip_frames", "write_clip"]

FRAMES_PER_PASS = 8
"""Frames resampled per batched pass (~250 MB of half-precision work at 1080x1920)."""

# BT.601, limited range: what swscale uses for rgb24 → yuv420p without colour tags.
_YUV = (
    (0.256788, 0.504129, 0.097906, 16.0),
    (-0.148223, -0.290993, 0.439216, 128.0),
    (0.439216, -0.367788, -0.071427, 128.0),
)
_CUBIC_A = -0.75  # the cubic convolution constant torch's bicubic modes use


def _yuv(rgb: Any) -> Any:
    """``(3, H, W)`` float RGB in 0..255 → float Y, U, V planes at the same size."""
    import torch

    matrix = torch.tensor([row[:3] for row in _YUV], dtype=rgb.dtype, device=rgb.device)
    offset = torch.tensor([row[3] for row in _YUV], dtype=rgb.dtype, device=rgb.device)
    return torch.einsum("ij,jhw->ihw", matrix, rgb) + offset[:, None, None]


def _cubic(t: Any) -> Any:
    """The cubic convolution weights of the four taps around a sample ``t`` ∈ [0, 1)."""
    import torch

    a = _CUBIC_A
    x = torch.stack([t + 1, t, 1 - t, 2 - t], dim=-1)
    near = ((a + 2) * x - (a + 3)) * x * x + 1
    far = ((a * x - 5 * a) * x + 8 * a) * x - 4 * a
    return torch.where(x <= 1, near, far)


def bicubic_matrices(offset: Any, scale: Any, size: int, out: int) -> Any:
    """Dense ``(n, out, size)`` resampling matrices, one per frame.

    Output sample ``i`` of frame ``k`` reads the input at the normalised position
    ``(2 * (i + 0.5) / out - 1) * scale[k] + offset[k]`` (``affine_grid`` with
    ``align_corners=False``), with the four taps clamped to the edge (``border``).
    """
    import torch

    positions = (2 * (torch.arange(out, device=offset.device) + 0.5) / out - 1).to(offset.dtype)
    grid = positions[None, :] * scale[:, None] + offset[:, None]
    source = ((grid + 1) * size - 1) / 2  # grid_sample's unnormalise, align_corners=False
    base = torch.floor(source)
    weights = _cubic(source - base)
    taps = (base[..., None] + torch.arange(-1, 3, device=offset.device)).clamp_(0, size - 1)
    matrices = torch.zeros(offset.shape[0], out, size, dtype=offset.dtype, device=offset.device)
    return matrices.scatter_add_(2, taps.long(), weights)


def _caption_plate(
    overlay: tuple[np.ndarray, int, int] | None, width: int, height: int, device: str, dtype: Any
) -> tuple[Any, Any, tuple[int, int, int, int]] | None:
    """The caption plate as (yuv colour, alpha, its box on the frame), or ``None``."""
    import torch

    plate = None
    if overlay is not None:
        pixels, px, py = overlay
        rgba = torch.from_numpy(np.array(pixels, dtype=np.uint8)).to(device).float()
        rgba = rgba.permute(2, 0, 1)
        ph, pw = rgba.shape[1:]
        # On yuv420p, ffmpeg's overlay puts the plate on even coordinates (whole
        # chroma samples), and clips it to the frame; the same here.
        px, py = px - px % 2, py - py % 2
        x0, y0 = max(px, 0), max(py, 0)
        x1, y1 = min(px + pw, width), min(py + ph, height)
        if x1 > x0 and y1 > y0:
            part = rgba[:, y0 - py : y1 - py, x0 - px : x1 - px]
            colour = _yuv(part[:3]).to(dtype)
            plate = (colour, (part[3:] / 255.0).to(dtype), (x0, y0, x1, y1))
    return plate


def _move_path(move: Move, frames: int, device: str) -> tuple[Any, Any, Any]:
    """The move's per-frame window as (scale, centre x, centre y) tensors on ``device``."""
    import torch

    windows = np.array(
        [move_window(move, frame, frames) for frame in range(frames)], dtype=np.float64
    )
    zoom = torch.from_numpy(windows[:, 0]).to(device)
    # affine_grid's view of the window: a scale of 1/zoom about its centre, in the
    # still's normalised coordinates.
    scale = 1 / zoom
    centre_x = 2 * (torch.from_numpy(windows[:, 1]).to(device) + 0.5 * scale) - 1
    centre_y = 2 * (torch.from_numpy(windows[:, 2]).to(device) + 0.5 * scale) - 1
    return scale, centre_x, centre_y


Plate = tuple[np.ndarray, int, int] | tuple[np.ndarray, int, int, int, int]
"""A plate as ``(RGBA array, x, y)`` (every frame) or ``(RGBA array, x, y, first, end)``
(clip frames ``first`` to ``end - 1``)."""


def _plates(
    overlay: Plate | list[Plate] | None, frames: int
) -> list[tuple[tuple[np.ndarray, int, int], tuple[int, int]]]:
    if overlay is None:
        return []
    items = overlay if isinstance(overlay, list) else [overlay]
    out = []
    for item in items:
        pixels, x, y = item[0], item[1], item[2]
        window = (int(item[3]), int(item[4])) if len(item) == 5 else (0, frames)  # type: ignore[misc]
        out.append(((pixels, int(x), int(y)), window))
    return out


def clip_frames(
    still: np.ndarray,
    move: Move,
    frames: int,
    *,
    overlay: Plate | list[Plate] | None = None,
    device: str = "cpu",
    per_pass: int = FRAMES_PER_PASS,
) -> Iterator[np.ndarray]:
    """The clip's frames, ``per_pass`` at a time, as ``(n, W*H*3/2)`` uint8 yuv420p rows.

    On a GPU the rows come back through one pinned host buffer, reused: each array is
    valid until the next one is asked for.

    Args:
        still: The keyframe, ``(H, W, 3)`` uint8 RGB, already at the output size (even).
        move: The shot's move.
        frames: Frames in the clip (the move spans all of them, head and tail included).
        overlay: The plates burned in (see :data:`Plate`): a caption on every frame,
            subtitles on some; one plate or a list.
        device: Torch device to compute on.
        per_pass: Frames per batched pass.
    """
    import torch
    import torch.nn.functional as F

    height, width = still.shape[:2]
    if width % 2 or height % 2:
        raise ValueError(f"frame size must be even for yuv420p, got {width}x{height}")
    # On a GPU: half precision for the products (tensor cores; pixel values need 11
    # bits), and a stream of its own, so copies back to the host wait for this clip's
    # work only, not for the keyframe renderer's on the default stream.
    on_gpu = str(device).startswith("cuda")
    dtype = torch.float16 if on_gpu else torch.float32
    stream = torch.cuda.Stream(device=device) if on_gpu else None
    with torch.inference_mode(), torch.cuda.stream(stream) if on_gpu else nullcontext():
        rgb = torch.from_numpy(np.array(still, dtype=np.uint8)).to(device)
        planes = _yuv(rgb.permute(2, 0, 1).float()).to(dtype)  # (3, H, W)
        plates = [
            (found, window)
            for pixels, window in _plates(overlay, frames)
            if (found := _caption_plate(pixels, width, height, device, dtype)) is not None
        ]
        scale, centre_x, centre_y = _move_path(move, frames, device)
        frame_bytes = width * height * 3 // 2
        # Copies to pinned memory are DMA transfers, not a CPU copy through a staging
        # buffer: the cores stay with x264.
        host = (
            torch.empty(min(per_pass, frames), frame_bytes, dtype=torch.uint8, pin_memory=True)
            if on_gpu
            else None
        )
        for start in range(0, frames, per_pass):
            span = slice(start, min(start + per_pass, frames))
            rows = bicubic_matrices(centre_y[span], scale[span], height, height).to(dtype)
            cols = bicubic_matrices(centre_x[span], scale[span], width, width).to(dtype)
            # (n, 1, H, H) @ (1, 3, H, W) @ (n, 1, W, W): rows, then columns.
            moved = rows[:, None] @ planes[None] @ cols.transpose(1, 2)[:, None]
            for (colour, alpha, (x0, y0, x1, y1)), (first, end) in plates:
                a, b = max(first, span.start) - span.start, min(end, span.stop) - span.start
                if b <= a:
                    continue
                region = moved[a:b, :, y0:y1, x0:x1]
                moved[a:b, :, y0:y1, x0:x1] = region + (colour - region) * alpha
            luma = moved[:, 0].float()
            chroma = F.avg_pool2d(moved[:, 1:].float(), 2)
            out = torch.cat(
                [
                    p.round_().clamp_(0, 255).to(torch.uint8).flatten(1)
                    for p in (luma, chroma[:, 0], chroma[:, 1])
                ],
                dim=1,
            )
            if host is None:
                yield out.numpy()
                continue
            count = out.shape[0]
            host[:count].copy_(out, non_blocking=True)
            assert stream is not None
            stream.synchronize()
            yield host[:count].numpy()


def write_clip(
    path: Path,
    still: np.ndarray,
    move: Move,
    frames: int,
    *,
    overlay: Plate | list[Plate] | None = None,
    device: str = "cpu",
) -> int:
    """Write the clip's raw yuv420p frames to ``path``; returns the bytes written."""
    written = 0
    with path.open("wb") as handle:
        for rows in clip_frames(still, move, frames, overlay=overlay, device=device):
            handle.write(rows.data)
            written += rows.nbytes
    return written
