"""Moves drawn with torch (the GPU path, run here on the CPU) against ffmpeg's zoompan."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import ffmpeg
import numpy as np
import pytest
from PIL import Image, ImageDraw, ImageFilter
from render_helpers import decode_frames, make_manifest

from writers_room.config import Settings
from writers_room.errors import InputError
from writers_room.render import pipeline
from writers_room.render._ffmpeg import ffmpeg_exe
from writers_room.render.captions import CaptionOverlay
from writers_room.render.keyframes import StoryboardRenderer
from writers_room.render.motion import Move, _clip_args, move_window
from writers_room.render.motion_torch import bicubic_matrices, clip_frames, write_clip
from writers_room.render.pipeline import RenderOptions, motion_device, render_manifest

WIDTH, HEIGHT = 270, 480
FRAME_BYTES = WIDTH * HEIGHT * 3 // 2


def _still() -> np.ndarray:
    """A picture-like still: blurred shapes of many colours on a coloured ground."""
    rng = np.random.default_rng(7)
    image = Image.new("RGB", (WIDTH, HEIGHT), (40, 80, 120))
    draw = ImageDraw.Draw(image)
    for _ in range(40):
        x, y = int(rng.integers(0, WIDTH)), int(rng.integers(0, HEIGHT))
        colour = tuple(int(c) for c in rng.integers(0, 255, 3))
        draw.ellipse([x, y, x + 50, y + 30], fill=colour)
    return np.asarray(image.filter(ImageFilter.GaussianBlur(1.5)))


def _plate() -> np.ndarray:
    plate = Image.new("RGBA", (200, 40), (0, 0, 0, 160))
    ImageDraw.Draw(plate).text((10, 12), "Years ago", fill=(255, 255, 255, 255))
    return np.asarray(plate)


def _zoompan(tmp_path: Path, still: np.ndarray, move: Move, frames: int, plate: Any) -> Any:
    Image.fromarray(still).save(tmp_path / "still.png")
    overlay = None
    if plate is not None:
        Image.fromarray(plate).save(tmp_path / "plate.png")
        overlay = CaptionOverlay(path=tmp_path / "plate.png", x=35, y=400, width=200, height=40)
    source = ffmpeg.input(str(tmp_path / "still.png"), f="image2", pattern_type="none")
    args = _clip_args(source, overlay, move, frames, (WIDTH, HEIGHT), 24, 2 * WIDTH, 2 * HEIGHT)
    out = subprocess.run([ffmpeg_exe(), *args[1:]], capture_output=True, check=True).stdout
    return np.frombuffer(out, np.uint8).reshape(frames, FRAME_BYTES)


def _psnr(a: np.ndarray, b: np.ndarray) -> float:
    mse = float(((a.astype(float) - b.astype(float)) ** 2).mean())
    return 10 * np.log10(255**2 / max(mse, 1e-9))


@pytest.mark.parametrize(
    "kind", ["static", "push_in", "pull_out", "pan_left", "pan_right", "tilt_up", "tilt_down"]
)
@pytest.mark.parametrize("with_plate", [False, True], ids=["bare", "caption"])
def test_torch_moves_match_zoompan(tmp_path: Path, kind: str, with_plate: bool) -> None:
    still, frames = _still(), 20
    plate = _plate() if with_plate else None
    reference = _zoompan(tmp_path, still, Move(kind), frames, plate)
    ours = np.concatenate(
        list(
            clip_frames(still, Move(kind), frames, overlay=(plate, 35, 400) if with_plate else None)
        )
    )
    assert ours.shape == reference.shape and ours.dtype == np.uint8
    luma = [_psnr(ours[f, : WIDTH * HEIGHT], reference[f, : WIDTH * HEIGHT]) for f in range(20)]
    chroma = [_psnr(ours[f, WIDTH * HEIGHT :], reference[f, WIDTH * HEIGHT :]) for f in range(20)]
    # The same colour conversion: a still frame is near-identical. Moves differ by
    # zoompan's whole-pixel steps (ours are sub-pixel), a fraction of a pixel at most.
    assert min(luma) >= (48 if kind == "static" else 32), luma
    assert min(chroma) >= 34, chroma


def test_the_separable_resampling_is_grid_samples_bicubic() -> None:
    import torch
    import torch.nn.functional as F

    generator = torch.Generator().manual_seed(3)
    image = torch.rand(1, 1, 40, 24, generator=generator, dtype=torch.float64) * 255
    scale = torch.tensor([1.0, 1 / 1.12, 0.8], dtype=torch.float64)
    # Windows inside the still, and one past its edge (the border taps are clamped).
    cx = torch.tensor([0.0, 0.05, 0.3], dtype=torch.float64)
    cy = torch.tensor([0.0, -0.1, -0.3], dtype=torch.float64)
    rows = bicubic_matrices(cy, scale, 40, 40)
    cols = bicubic_matrices(cx, scale, 24, 24)
    ours = rows @ image[0, 0] @ cols.transpose(1, 2)
    theta = torch.zeros(3, 2, 3, dtype=torch.float64)
    theta[:, 0, 0] = theta[:, 1, 1] = scale
    theta[:, 0, 2], theta[:, 1, 2] = cx, cy
    grid = F.affine_grid(theta, [3, 1, 40, 24], align_corners=False)
    theirs = F.grid_sample(
        image.expand(3, -1, -1, -1),
        grid,
        mode="bicubic",
        padding_mode="border",
        align_corners=False,
    )[:, 0]
    assert torch.allclose(ours, theirs, atol=1e-3)  # of 255


def test_the_move_window_is_the_zoompan_expression() -> None:
    # The first and last frames of each move: where zoompan's expressions put the window.
    assert move_window(Move("static"), 0, 10) == (1.0, 0.0, 0.0)
    zoom, x, y = move_window(Move("push_in"), 9, 10)
    assert zoom == pytest.approx(1.12) and x == y == pytest.approx((1 - 1 / 1.12) / 2)
    assert move_window(Move("pull_out"), 0, 10)[0] == pytest.approx(1.12)
    assert move_window(Move("pan_right"), 0, 10)[1] == 0.0
    assert move_window(Move("pan_left"), 0, 10)[1] == pytest.approx(1 - 1 / 1.12)
    assert move_window(Move("tilt_down"), 9, 10)[2] == pytest.approx(1 - 1 / 1.12)
    with pytest.raises(ValueError, match="unknown move"):
        move_window(Move("barrel_roll"), 0, 10)


def test_write_clip_writes_every_frame(tmp_path: Path) -> None:
    path = tmp_path / "clip.yuv"
    written = write_clip(path, _still(), Move("push_in"), 11)
    assert written == path.stat().st_size == 11 * FRAME_BYTES


class _DeviceRenderer(StoryboardRenderer):
    def __init__(self, device: str) -> None:
        super().__init__()
        self.device = device


def test_auto_motion_uses_torch_only_on_a_cuda_renderer() -> None:
    assert motion_device("auto", StoryboardRenderer()) is None
    assert motion_device("auto", _DeviceRenderer("cpu")) is None
    assert motion_device("auto", _DeviceRenderer("cuda")) == "cuda"
    assert motion_device("torch", StoryboardRenderer()) == "cpu"
    assert motion_device("ffmpeg", _DeviceRenderer("cuda")) is None


def test_an_unknown_motion_backend_is_an_input_error(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="motion is 'opengl'"):
        render_manifest(
            Settings(home=tmp_path),
            make_manifest(2, 1.0, fps=12),
            tmp_path / "out",
            preview=True,
            options=RenderOptions(motion="opengl"),
        )
    assert not (tmp_path / "out").exists()


def _preview_frames(tmp_path: Path, name: str, motion: str) -> tuple[np.ndarray, dict[str, Any]]:
    settings = Settings(home=tmp_path / "home")
    manifest = make_manifest(3, 1.0, fps=12, camera="slow push-in")
    result = render_manifest(
        settings,
        manifest,
        tmp_path / name,
        preview=True,
        options=RenderOptions(motion=motion, use_cache=False),
    )
    provenance = json.loads(result.provenance_path.read_text())
    assert not (result.out_dir / ".work").exists()
    return decode_frames(result.episode_path, 90, 160), provenance


def test_a_torch_motion_render_looks_like_the_ffmpeg_one(tmp_path: Path) -> None:
    theirs, _ = _preview_frames(tmp_path, "ffmpeg", "ffmpeg")
    ours, provenance = _preview_frames(tmp_path, "torch", "torch")
    assert provenance["encode"]["motion"] == "torch (cpu)"
    assert ours.shape == theirs.shape == (36, 160, 90, 3)
    # Frame for frame the same picture: the same shot, move and cut timing (each frame's
    # mean colour), with thin storyboard lines a pixel apart at most where zoompan
    # crops at whole pixels (a preview has no supersampling) and torch does not.
    means = np.abs(ours.mean(axis=(1, 2)) - theirs.mean(axis=(1, 2)))
    assert means.max() < 1.5, means.max()
    assert min(_psnr(a, b) for a, b in zip(ours, theirs, strict=True)) >= 24


def test_a_failed_torch_clip_falls_back_to_ffmpeg(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[int] = []

    def broken(path: Path, *args: Any, **kwargs: Any) -> int:
        calls.append(1)
        path.write_bytes(b"half a frame")
        raise RuntimeError("CUDA error: out of memory")

    monkeypatch.setattr(pipeline, "write_clip", broken)
    frames, provenance = _preview_frames(tmp_path, "fallback", "torch")
    assert len(calls) == 3 and frames.shape[0] == 36
    assert provenance["encode"]["motion_fallback_shots"] == [0, 1, 2]
