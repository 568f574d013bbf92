"""The diffusion renderer on a tiny pipeline loaded through the real from_pretrained path."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from render_helpers import make_manifest

from writers_room.config import Settings
from writers_room.render.diffusion import DiffusionRenderer, clear_pipeline_cache, load_pipeline
from writers_room.render.keyframes import KeyframeRenderer, get_renderer
from writers_room.render.pipeline import RenderOptions, render_manifest

pytest.importorskip("diffusers")

TINY = {"steps": 2, "gen_size": (32, 64), "batch_size": 2}


@pytest.fixture
def diffusion_settings(tmp_path: Path, tiny_model_dir: Path) -> Settings:
    return Settings(home=tmp_path / "home", diffusion_model=str(tiny_model_dir), device="cpu")


def _arrays(images: list) -> list[np.ndarray]:
    return [np.asarray(image).astype(int) for image in images]


def test_settings_with_a_model_select_the_diffusion_renderer(
    diffusion_settings: Settings,
) -> None:
    renderer = get_renderer(diffusion_settings, **TINY)
    assert isinstance(renderer, DiffusionRenderer)
    assert isinstance(renderer, KeyframeRenderer)
    assert renderer.device == "cpu" and renderer.dtype == "float32"
    assert get_renderer(Settings(home=diffusion_settings.home)).name == "storyboard"


def test_two_shots_render_deterministically_per_seed(diffusion_settings: Settings) -> None:
    shots = make_manifest(2, 1.0).shots
    renderer = get_renderer(diffusion_settings, **TINY)
    first = renderer.render(shots, (72, 128))
    assert [image.size for image in first] == [(72, 128), (72, 128)]
    assert renderer.images_rendered == 2

    # A fresh process-level load gives the same pixels for the same seeds.
    clear_pipeline_cache()
    again = get_renderer(diffusion_settings, **TINY).render(shots, (72, 128))
    for a, b in zip(_arrays(first), _arrays(again), strict=True):
        assert np.array_equal(a, b)

    # Batching does not change an image: each shot has its own generator.
    single = get_renderer(diffusion_settings, **{**TINY, "batch_size": 1}).render(
        shots[1:], (72, 128)
    )
    assert np.abs(_arrays(single)[0] - _arrays(first)[1]).max() <= 2

    # Another seed, another image.
    reseeded = shots[0].model_copy(update={"seed": 999})
    other = renderer.render([reseeded], (72, 128))
    assert np.abs(_arrays(other)[0] - _arrays(first)[0]).mean() > 1


def test_prompts_carry_character_fragments_and_cast_seeds(diffusion_settings: Settings) -> None:
    renderer = DiffusionRenderer(
        str(diffusion_settings.diffusion_model),
        device="cpu",
        characters={"Mara": "red raincoat, silver locket"},
        **TINY,
    )
    shot = make_manifest(1, 1.0, seed=0).shots[0]
    prompt = renderer.prompt_for(shot)
    assert "Mara, red raincoat, silver locket" in prompt
    assert "close-up" in prompt and "tense mood" in prompt
    twin = shot.model_copy(update={"shot_id": "other"})
    assert renderer.seed_for(shot) == renderer.seed_for(twin)
    assert renderer.seed_for(shot.model_copy(update={"seed": 7})) == 7


def test_the_pipeline_loads_once_per_process(diffusion_settings: Settings) -> None:
    clear_pipeline_cache()
    model = str(diffusion_settings.diffusion_model)
    assert load_pipeline(model, device="cpu") is load_pipeline(model, device="cpu")


def test_a_preview_render_with_diffusion_keyframes(
    diffusion_settings: Settings, tmp_path: Path
) -> None:
    manifest = make_manifest(2, 1.0, fps=12)
    out = diffusion_settings.renders_path / "tiny" / "ep1" / "r1"
    result = render_manifest(
        diffusion_settings,
        manifest,
        out,
        preview=True,
        options=RenderOptions(diffusion=TINY),
    )
    assert result.renderer == "diffusion"
    provenance = json.loads(result.provenance_path.read_text())
    assert provenance["renderer"]["model_id"] == str(diffusion_settings.diffusion_model)
    assert provenance["renderer"]["pipeline_class"] == "StableDiffusionPipeline"
    assert provenance["renderer"]["model_fingerprint"]
    assert [shot["seed"] for shot in provenance["shots"]] == [1, 2]
    assert "Mara opens door number 1." in provenance["shots"][0]["prompt"]
    assert provenance["synthetic"] is True
