"""Render fixtures: a tiny diffusers pipeline built in code, saved and loaded from disk."""

from __future__ import annotations

import json
from pathlib import Path

import pytest


def build_tiny_pipeline(path: Path) -> Path:
    """Save a seeded, tiny Stable Diffusion pipeline (random weights) to ``path``.

    Built the way diffusers' own tests build theirs: tiny UNet / VAE / CLIP text encoder
    configs, a CLIP tokenizer from a hand-written vocabulary, nothing downloaded.
    """
    import torch
    from diffusers import (
        AutoencoderKL,
        DDIMScheduler,
        StableDiffusionPipeline,
        UNet2DConditionModel,
    )
    from transformers import CLIPTextConfig, CLIPTextModel, CLIPTokenizer

    torch.manual_seed(0)
    unet = UNet2DConditionModel(
        block_out_channels=(4, 8),
        layers_per_block=1,
        sample_size=16,
        in_channels=4,
        out_channels=4,
        down_block_types=("DownBlock2D", "CrossAttnDownBlock2D"),
        up_block_types=("CrossAttnUpBlock2D", "UpBlock2D"),
        cross_attention_dim=8,
        norm_num_groups=2,
        attention_head_dim=2,
    )
    vae = AutoencoderKL(
        block_out_channels=(4, 8),
        in_channels=3,
        out_channels=3,
        down_block_types=("DownEncoderBlock2D", "DownEncoderBlock2D"),
        up_block_types=("UpDecoderBlock2D", "UpDecoderBlock2D"),
        latent_channels=4,
        norm_num_groups=2,
        sample_size=32,
    )
    text_encoder = CLIPTextModel(
        CLIPTextConfig(
            bos_token_id=0,
            eos_token_id=2,
            hidden_size=8,
            intermediate_size=16,
            layer_norm_eps=1e-5,
            num_attention_heads=2,
            num_hidden_layers=2,
            pad_token_id=1,
            vocab_size=64,
            max_position_embeddings=32,
            projection_dim=8,
        )
    )
    vocab_dir = path.parent / f"{path.name}-vocab"
    vocab_dir.mkdir(parents=True, exist_ok=True)
    vocab = {f"{char}</w>": index for index, char in enumerate("abcdefghijklmnopqrstuvwxyz")}
    vocab.update({"<|startoftext|>": len(vocab), "<|endoftext|>": len(vocab) + 1})
    (vocab_dir / "vocab.json").write_text(json.dumps(vocab))
    (vocab_dir / "merges.txt").write_text("#version: 0.2\n")
    tokenizer = CLIPTokenizer(
        str(vocab_dir / "vocab.json"), str(vocab_dir / "merges.txt"), model_max_length=32
    )
    scheduler = DDIMScheduler(
        beta_start=0.00085,
        beta_end=0.012,
        beta_schedule="scaled_linear",
        clip_sample=False,
        set_alpha_to_one=False,
        steps_offset=1,
    )
    pipe = StableDiffusionPipeline(
        vae=vae,
        text_encoder=text_encoder,
        tokenizer=tokenizer,
        unet=unet,
        scheduler=scheduler,
        safety_checker=None,
        feature_extractor=None,
        requires_safety_checker=False,
    )
    pipe.save_pretrained(path)
    return path


@pytest.fixture(scope="session")
def tiny_model_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A tiny diffusers pipeline on disk, for ``settings.diffusion_model``."""
    return build_tiny_pipeline(tmp_path_factory.mktemp("models") / "tiny-sd")


def build_tiny_ip_adapter(path: Path, pipeline_dir: Path) -> Path:
    """Save a seeded IP-Adapter for the tiny pipeline: weights and a tiny image encoder.

    The layout of a published adapter (``models/<weights>.safetensors`` beside
    ``models/image_encoder/``), with the keys diffusers' ``load_ip_adapter`` reads: an
    ``image_proj`` (a linear projection of the image embedding to 4 tokens, and a norm)
    and ``to_k_ip``/``to_v_ip`` for every cross-attention layer of the UNet, numbered as
    the original IP-Adapter numbers them (1, 3, 5, …).
    """
    import torch
    from diffusers import UNet2DConditionModel
    from safetensors.torch import save_file
    from transformers import CLIPVisionConfig, CLIPVisionModelWithProjection

    torch.manual_seed(1)
    unet = UNet2DConditionModel.from_pretrained(pipeline_dir, subfolder="unet")
    cross = unet.config.cross_attention_dim
    channels = list(unet.config.block_out_channels)
    embed_dim = 8
    tensors: dict[str, torch.Tensor] = {
        "image_proj.proj.weight": torch.randn(cross * 4, embed_dim) * 0.5,
        "image_proj.proj.bias": torch.zeros(cross * 4),
        "image_proj.norm.weight": torch.ones(cross),
        "image_proj.norm.bias": torch.zeros(cross),
    }
    key_id = 1
    for name in unet.attn_processors:
        if name.endswith("attn1.processor"):
            continue
        if name.startswith("mid_block"):
            hidden = channels[-1]
        elif name.startswith("up_blocks"):
            hidden = list(reversed(channels))[int(name[len("up_blocks.")])]
        else:
            hidden = channels[int(name[len("down_blocks.")])]
        tensors[f"ip_adapter.{key_id}.to_k_ip.weight"] = torch.randn(hidden, cross) * 0.5
        tensors[f"ip_adapter.{key_id}.to_v_ip.weight"] = torch.randn(hidden, cross) * 0.5
        key_id += 2
    models = path / "models"
    models.mkdir(parents=True, exist_ok=True)
    save_file(tensors, str(models / "ip-adapter_tiny.safetensors"))
    encoder = CLIPVisionModelWithProjection(
        CLIPVisionConfig(
            hidden_size=8,
            intermediate_size=16,
            num_attention_heads=2,
            num_hidden_layers=1,
            image_size=32,
            patch_size=8,
            projection_dim=embed_dim,
        )
    )
    encoder.save_pretrained(models / "image_encoder")
    return path


@pytest.fixture(scope="session")
def tiny_ip_adapter_dir(tmp_path_factory: pytest.TempPathFactory, tiny_model_dir: Path) -> Path:
    """A tiny IP-Adapter for the tiny pipeline, on disk."""
    return build_tiny_ip_adapter(tmp_path_factory.mktemp("models") / "tiny-ip", tiny_model_dir)
