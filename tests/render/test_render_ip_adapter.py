"""The IP-Adapter hook: shots conditioned on a character's reference picture."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PIL import Image
from render_helpers import make_manifest

from writers_room.errors import InputError, RoomError
from writers_room.render.diffusion import DiffusionRenderer, IPAdapter
from writers_room.render.keyframes import cache_key

pytest.importorskip("diffusers")

TINY: dict[str, Any] = {"steps": 2, "gen_size": (32, 64), "batch_size": 4, "device": "cpu"}


@pytest.fixture
def reference(tmp_path: Path) -> Path:
    path = tmp_path / "mara.png"
    Image.new("RGB", (48, 48), (200, 30, 30)).save(path)
    return path


def _adapter(root: Path) -> dict[str, Any]:
    return {"model": str(root), "weight_name": "ip-adapter_tiny.safetensors", "scale": 1.0}


def _shots() -> list[Any]:
    # Shots 1 and 3 star Mara, who has a reference picture; shot 2 has nobody.
    manifest = make_manifest(3, 1.0, fps=12, width=360, height=640)
    shots = list(manifest.shots)
    shots[1] = shots[1].model_copy(update={"characters": []})
    return shots


def _pixels(images: list[Image.Image]) -> list[np.ndarray]:
    return [np.asarray(image).astype(int) for image in images]


def test_the_reference_steers_its_shots_and_only_them(
    tiny_model_dir: Path, tiny_ip_adapter_dir: Path, reference: Path
) -> None:
    shots = _shots()
    plain = DiffusionRenderer(str(tiny_model_dir), **TINY)
    steered = DiffusionRenderer(
        str(tiny_model_dir),
        **TINY,
        ip_adapter=_adapter(tiny_ip_adapter_dir),
        character_images={"Mara": reference},
    )
    before = _pixels(plain.render(shots, (360, 640)))
    after = _pixels(steered.render(shots, (360, 640)))
    assert steered.pipeline.image_encoder is not None  # loaded by load_ip_adapter
    assert [image.shape for image in after] == [(640, 360, 3)] * 3
    # Mara's shots change; the shot without her is rendered as without the adapter.
    assert np.abs(after[0] - before[0]).max() > 0
    assert np.abs(after[2] - before[2]).max() > 0
    assert np.abs(after[1] - before[1]).max() <= 1
    # The reference is part of what a shot's keyframe is keyed and recorded by.
    assert steered.describe(shots[0])["reference"]["character"] == "Mara"
    assert "reference" not in steered.describe(shots[1])
    assert cache_key(steered, shots[0], (360, 640)) != cache_key(plain, shots[0], (360, 640))
    assert steered.info()["ip_adapter"]["weight_name"] == "ip-adapter_tiny.safetensors"


def test_a_changed_reference_picture_is_a_new_keyframe(
    tiny_model_dir: Path, tiny_ip_adapter_dir: Path, reference: Path, tmp_path: Path
) -> None:
    other = tmp_path / "mara-2.png"
    Image.new("RGB", (48, 48), (30, 30, 200)).save(other)
    shot = _shots()[0]
    keys = [
        cache_key(
            DiffusionRenderer(
                str(tiny_model_dir),
                **TINY,
                ip_adapter=_adapter(tiny_ip_adapter_dir),
                character_images={"Mara": picture},
            ),
            shot,
            (360, 640),
        )
        for picture in (reference, other)
    ]
    assert keys[0] != keys[1]


def test_bad_adapter_settings_are_clear_errors(tiny_model_dir: Path, tmp_path: Path) -> None:
    with pytest.raises(InputError, match="reference image of 'Mara'"):
        DiffusionRenderer(
            str(tiny_model_dir),
            **TINY,
            ip_adapter={"model": "x", "weight_name": "y"},
            character_images={"Mara": tmp_path / "missing.png"},
        )
    with pytest.raises(InputError, match="need an ip_adapter"):
        DiffusionRenderer(str(tiny_model_dir), **TINY, character_images={"Mara": __file__})
    with pytest.raises(InputError, match="needs 'model' and 'weight_name'"):
        DiffusionRenderer(str(tiny_model_dir), **TINY, ip_adapter={"model": "x"})
    assert IPAdapter.parse({"model": "m", "weight_name": "w"}).scale == 0.6


class _NoAdapterPipeline:
    def __call__(self, **kwargs: Any) -> Any:
        raise AssertionError("never called")


def test_a_model_without_adapter_support_says_so(tiny_model_dir: Path) -> None:
    renderer = DiffusionRenderer(
        "some/flux-model",
        **TINY,
        ip_adapter={"model": "x", "weight_name": "y"},
        pipeline=_NoAdapterPipeline(),
    )
    with pytest.raises(RoomError, match="no IP-Adapter support"):
        renderer.render(_shots()[:1], (360, 640))
