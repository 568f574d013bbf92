"""GPU keyframe + ladder timing with an SDXL-architecture pipeline of random weights.

Self-contained: the UNet, VAE, both CLIP text encoders, tokenizers and scheduler are
built from SDXL-base-1.0-shaped configs in code, so nothing is downloaded and the timing
is the real architecture's (weights do not change FLOPs). It times:

* 12 keyframes at 768x1344, batch 4, 4 steps without CFG (few-step models such as
  SDXL-Turbo/Lightning) and 30 steps with CFG 5 (classic SDXL), through the room's
  ``DiffusionRenderer`` (fp16/bf16, SDPA, channels-last; optional ``torch.compile``);
* the whole episode: ``render_manifest`` of a 30-s, 12-shot manifest with those
  keyframes, the 1080/720/360 ladder, HLS and the MP4 master.

Run on a GPU machine::

    python benchmarks/gpu_render.py                  # fp16, prints a table + JSON
    python benchmarks/gpu_render.py --compile        # torch.compile the UNet
    python benchmarks/gpu_render.py --tiny           # CPU smoke test, tiny configs

Pass ``--json FILE`` to keep the numbers.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import sys
import tempfile
import time
import warnings
from pathlib import Path
from typing import Any

SDXL_UNET = {
    "sample_size": 128,
    "in_channels": 4,
    "out_channels": 4,
    "down_block_types": ("DownBlock2D", "CrossAttnDownBlock2D", "CrossAttnDownBlock2D"),
    "up_block_types": ("CrossAttnUpBlock2D", "CrossAttnUpBlock2D", "UpBlock2D"),
    "block_out_channels": (320, 640, 1280),
    "layers_per_block": 2,
    "transformer_layers_per_block": (1, 2, 10),
    "attention_head_dim": (5, 10, 20),
    "cross_attention_dim": 2048,
    "use_linear_projection": True,
    "addition_embed_type": "text_time",
    "addition_time_embed_dim": 256,
    "projection_class_embeddings_input_dim": 2816,
    "norm_num_groups": 32,
}
SDXL_VAE = {
    "block_out_channels": (128, 256, 512, 512),
    "down_block_types": ("DownEncoderBlock2D",) * 4,
    "up_block_types": ("UpDecoderBlock2D",) * 4,
    "in_channels": 3,
    "out_channels": 3,
    "latent_channels": 4,
    "layers_per_block": 2,
    "sample_size": 1024,
    "scaling_factor": 0.13025,
    # The fp16-safe SDXL VAE (madebyollin/sdxl-vae-fp16-fix) decodes without upcasting.
    "force_upcast": False,
}
SDXL_TEXT_1 = {
    "vocab_size": 49408,
    "hidden_size": 768,
    "intermediate_size": 3072,
    "num_hidden_layers": 12,
    "num_attention_heads": 12,
    "max_position_embeddings": 77,
    "hidden_act": "quick_gelu",
    "projection_dim": 768,
}
SDXL_TEXT_2 = {
    "vocab_size": 49408,
    "hidden_size": 1280,
    "intermediate_size": 5120,
    "num_hidden_layers": 32,
    "num_attention_heads": 20,
    "max_position_embeddings": 77,
    "hidden_act": "gelu",
    "projection_dim": 1280,
}

# Tiny configs of the same architecture (as diffusers' own SDXL tests use) for --tiny.
TINY_UNET = {
    "sample_size": 32,
    "in_channels": 4,
    "out_channels": 4,
    "down_block_types": ("DownBlock2D", "CrossAttnDownBlock2D"),
    "up_block_types": ("CrossAttnUpBlock2D", "UpBlock2D"),
    "block_out_channels": (32, 64),
    "layers_per_block": 2,
    "transformer_layers_per_block": (1, 2),
    "attention_head_dim": (2, 4),
    "cross_attention_dim": 64,
    "use_linear_projection": True,
    "addition_embed_type": "text_time",
    "addition_time_embed_dim": 8,
    "projection_class_embeddings_input_dim": 80,
    "norm_num_groups": 32,
}
TINY_VAE = {
    "block_out_channels": (32, 64),
    "down_block_types": ("DownEncoderBlock2D",) * 2,
    "up_block_types": ("UpDecoderBlock2D",) * 2,
    "in_channels": 3,
    "out_channels": 3,
    "latent_channels": 4,
    "layers_per_block": 1,
    "sample_size": 128,
    "force_upcast": False,
}
TINY_TEXT = {
    "vocab_size": 1000,
    "hidden_size": 32,
    "intermediate_size": 37,
    "num_hidden_layers": 2,
    "num_attention_heads": 4,
    "max_position_embeddings": 77,
    "hidden_act": "gelu",
    "projection_dim": 32,
}


def _tokenizer(folder: Path) -> Any:
    """A CLIP tokenizer from a hand-written character vocabulary (no download).

    Prompts still pad to 77 tokens, so the text encoders do SDXL's real amount of work.
    """
    from transformers import CLIPTokenizer

    folder.mkdir(parents=True, exist_ok=True)
    vocab = {f"{char}</w>": index for index, char in enumerate("abcdefghijklmnopqrstuvwxyz")}
    vocab.update({"<|startoftext|>": len(vocab), "<|endoftext|>": len(vocab) + 1})
    (folder / "vocab.json").write_text(json.dumps(vocab))
    (folder / "merges.txt").write_text("#version: 0.2\n")
    return CLIPTokenizer(
        str(folder / "vocab.json"), str(folder / "merges.txt"), model_max_length=77
    )


def build_pipeline(*, tiny: bool, device: str, dtype: Any, scratch: Path) -> Any:
    """Build an SDXL-architecture pipeline with random weights directly on ``device``."""
    import torch
    from diffusers import (
        AutoencoderKL,
        EulerDiscreteScheduler,
        StableDiffusionXLPipeline,
        UNet2DConditionModel,
    )
    from transformers import CLIPTextConfig, CLIPTextModel, CLIPTextModelWithProjection

    torch.manual_seed(0)
    unet_cfg, vae_cfg = (TINY_UNET, TINY_VAE) if tiny else (SDXL_UNET, SDXL_VAE)
    text_1, text_2 = (TINY_TEXT, TINY_TEXT) if tiny else (SDXL_TEXT_1, SDXL_TEXT_2)
    # Initialising on the GPU takes seconds; a 2.6 B-parameter UNet on CPU takes minutes.
    with torch.device(device):
        unet = UNet2DConditionModel(**unet_cfg)
        vae = AutoencoderKL(**vae_cfg)
        encoder_1 = CLIPTextModel(CLIPTextConfig(**text_1))
        encoder_2 = CLIPTextModelWithProjection(CLIPTextConfig(**text_2))
    scheduler = EulerDiscreteScheduler(
        beta_start=0.00085,
        beta_end=0.012,
        beta_schedule="scaled_linear",
        num_train_timesteps=1000,
        steps_offset=1,
        timestep_spacing="leading",
        prediction_type="epsilon",
    )
    pipe = StableDiffusionXLPipeline(
        vae=vae,
        text_encoder=encoder_1,
        text_encoder_2=encoder_2,
        tokenizer=_tokenizer(scratch / "tok1"),
        tokenizer_2=_tokenizer(scratch / "tok2"),
        unet=unet,
        scheduler=scheduler,
    )
    pipe = pipe.to(device=device, dtype=dtype)
    pipe.set_progress_bar_config(disable=True)
    return pipe


def prepare(pipe: Any, *, device: str, compile_unet: bool) -> None:
    """SDPA attention and channels-last on CUDA, optional torch.compile (as the room does)."""
    import torch

    from writers_room.render.diffusion import _use_sdpa

    if device == "cuda":
        _use_sdpa(pipe)
        pipe.unet.to(memory_format=torch.channels_last)
        pipe.vae.to(memory_format=torch.channels_last)
        torch.backends.cuda.matmul.allow_tf32 = True
        torch.backends.cudnn.allow_tf32 = True
    if compile_unet:
        pipe.unet = torch.compile(pipe.unet, fullgraph=False)


def _sync(device: str) -> None:
    import torch

    if device == "cuda":
        torch.cuda.synchronize()


def manifest(shots: int, shot_s: float, fps: int) -> Any:
    """The benchmark episode (same shape as benchmarks/bench_render.py)."""
    from writers_room.render.manifest import ShotManifest

    cameras = ("slow push-in", "pull back", "pan left", "static", "tilt up", "pan right")
    moods = ("tense", "calm", "romantic", "mysterious", "shock", "hopeful")
    return ShotManifest(
        series_id="bench",
        episode_id="gpu",
        fps=fps,
        shots=[
            {
                "shot_id": f"s{i + 1}",
                "start_s": i * shot_s,
                "duration_s": shot_s,
                "camera": cameras[i % 6],
                "framing": "close-up",
                "action": f"Mara reads the letter, beat {i + 1}, rain on the window",
                "mood": moods[i % 6],
                "caption": f"Line {i + 1}: she never wrote this.",
                "characters": ["Mara"] if i % 2 else ["Mara", "Theo"],
                "seed": i + 1,
            }
            for i in range(shots)
        ],
    )


def main(argv: list[str] | None = None) -> dict[str, Any]:
    """Run the benchmark; print a table and return the numbers."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tiny", action="store_true", help="tiny configs on CPU (smoke test)")
    parser.add_argument("--dtype", choices=["float16", "bfloat16"], default="float16")
    parser.add_argument("--compile", action="store_true", help="torch.compile the UNet")
    parser.add_argument("--shots", type=int, default=12)
    parser.add_argument("--batch", type=int, default=4)
    parser.add_argument("--steps", type=int, nargs="+", default=[4, 30])
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--no-ladder", action="store_true", help="skip the episode render")
    parser.add_argument("--json", type=Path, default=None, help="write the results here")
    args = parser.parse_args(argv)

    import diffusers
    import torch
    import transformers

    from writers_room.config import Settings
    from writers_room.render.diffusion import DiffusionRenderer
    from writers_room.render.pipeline import RenderOptions, render_manifest

    warnings.filterwarnings("ignore", category=RuntimeWarning)  # NaNs from random weights
    # Character-level test tokenizers make every prompt "too long" for CLIP; quiet that.
    diffusers.utils.logging.set_verbosity_error()
    transformers.utils.logging.set_verbosity_error()
    device = "cpu" if args.tiny or not torch.cuda.is_available() else "cuda"
    if device == "cpu" and not args.tiny:
        print("no CUDA device: use --tiny for a CPU smoke test", file=sys.stderr)
        raise SystemExit(2)
    dtype_name = "float32" if device == "cpu" else args.dtype
    gen_size = (64, 112) if args.tiny else (768, 1344)
    target = (360, 640) if args.tiny else (1080, 1920)
    scratch = Path(tempfile.mkdtemp(prefix="gpu-render-"))
    report: dict[str, Any] = {
        "device": torch.cuda.get_device_name(0)
        if device == "cuda"
        else f"CPU ({platform.machine()}, {os.cpu_count()} cores)",
        "torch": torch.__version__,
        "dtype": dtype_name,
        "compile": args.compile,
        "tiny": args.tiny,
        "gen_size": list(gen_size),
        "batch": args.batch,
        "shots": args.shots,
    }
    try:
        started = time.perf_counter()
        pipe = build_pipeline(
            tiny=args.tiny, device=device, dtype=getattr(torch, dtype_name), scratch=scratch
        )
        prepare(pipe, device=device, compile_unet=args.compile)
        _sync(device)
        report["build_s"] = round(time.perf_counter() - started, 2)
        report["unet_params_m"] = round(sum(p.numel() for p in pipe.unet.parameters()) / 1e6, 1)
        shots = manifest(args.shots, 2.5, 30).shots

        def cfg(steps: int) -> float:
            # 4 steps = distilled few-step model (no CFG); more = classic SDXL with CFG 5.
            return 0.0 if steps <= 8 else 5.0

        def renderer(steps: int, guidance: float | None = None) -> DiffusionRenderer:
            return DiffusionRenderer(
                "sdxl-random-weights",
                device=device,
                dtype=None if device == "cpu" else dtype_name,
                steps=steps,
                guidance_scale=cfg(steps) if guidance is None else guidance,
                batch_size=args.batch,
                gen_size=gen_size,
                pipeline=pipe,
            )

        report["warmup_s"] = 0.0
        report["keyframes"] = []
        for steps in args.steps:
            # Warm-up at this configuration's batch shape (CFG doubles it): cuDNN autotuning,
            # allocator growth and torch.compile graphs are not part of the timings.
            started = time.perf_counter()
            renderer(2, cfg(steps)).render(shots[: args.batch], target)
            _sync(device)
            report["warmup_s"] = round(report["warmup_s"] + time.perf_counter() - started, 2)
            times = []
            for _ in range(args.repeats):
                if device == "cuda":
                    torch.cuda.reset_peak_memory_stats()
                started = time.perf_counter()
                renderer(steps).render(shots, target)
                _sync(device)
                times.append(time.perf_counter() - started)
            median = statistics.median(times)
            row = {
                "steps": steps,
                "cfg": cfg(steps),
                "images": len(shots),
                "median_s": round(median, 2),
                "min_s": round(min(times), 2),
                "s_per_image": round(median / len(shots), 3),
            }
            if device == "cuda":
                row["peak_mem_gib"] = round(torch.cuda.max_memory_allocated() / 2**30, 1)
            report["keyframes"].append(row)

        if not args.no_ladder:
            episode = manifest(args.shots, 0.5 if args.tiny else 2.5, 12 if args.tiny else 30)
            settings = Settings(home=scratch / "home", device=device)
            started = time.perf_counter()
            result = render_manifest(
                settings,
                episode,
                scratch / "home" / "renders" / "bench" / "gpu" / "r1",
                renderer=renderer(min(args.steps)),
                options=RenderOptions(use_cache=False),
            )
            report["episode"] = {
                "steps": min(args.steps),
                "runtime_s": episode.runtime_s,
                "size": [episode.width, episode.height],
                "wall_s": round(time.perf_counter() - started, 2),
                "stages_s": result.timings,
                "gpu_s": result.gpu_seconds,
                "cpu_s": result.cpu_seconds,
            }
    finally:
        shutil.rmtree(scratch, ignore_errors=True)

    print(
        f"{report['device']} · torch {report['torch']} · {report['dtype']}"
        f"{' · compiled' if args.compile else ''} · UNet {report['unet_params_m']} M params"
    )
    print(f"build {report['build_s']} s, warm-up {report['warmup_s']} s")
    print(f"{'steps':>6}{'cfg':>6}{'images':>8}{'median s':>10}{'s/image':>9}")
    for row in report["keyframes"]:
        print(
            f"{row['steps']:>6}{row['cfg']:>6.1f}{row['images']:>8}"
            f"{row['median_s']:>10.2f}{row['s_per_image']:>9.3f}"
        )
    if "episode" in report:
        ep = report["episode"]
        stages = ", ".join(f"{k} {v:.2f}" for k, v in ep["stages_s"].items())
        print(f"episode ({ep['runtime_s']:g} s, {ep['steps']} steps): {ep['wall_s']} s — {stages}")
    if args.json is not None:
        args.json.write_text(json.dumps(report, indent=2))
    return report


if __name__ == "__main__":
    main()
