"""GPU keyframe + ladder timing with an SDXL-architecture pipeline of random weights.

Self-contained: the UNet, VAE, both CLIP text encoders, tokenizers and scheduler are
built from SDXL-base-1.0-shaped configs in code, so nothing is downloaded and the timing
is the real architecture's (weights do not change FLOPs). It times:

* 12 keyframes at 768x1344, batch 4, 4 steps without CFG (few-step models such as
  SDXL-Turbo/Lightning) and 30 steps with CFG 5 (classic SDXL), through the room's
  ``DiffusionRenderer`` (fp16/bf16, SDPA; optional ``torch.compile``),
  with one batch split into denoise, VAE decode and crop/resize/copy-out;
* the whole episode, warm (after one untimed episode): ``render_manifest`` of a 30-s,
  12-shot manifest with those keyframes, motion, captions, the 1080/720/360 ladder, HLS,
  the MP4 master and thumbnails, for every step count and every ``--encode-chunks``
  value (the ladder in one pass, or in time chunks encoded at once and joined);
* the encoder alone on the episode's own frames (raw, from memory): one pass with x264's
  own thread count and with the room's per-rung split, and 2, 3 and 4 time chunks at
  once (``--encoder-variants``).

Random weights give no pictures: noise (seen on an H100: mean 133, std 41) or, where fp16
overflows, NaN frames that turn black, and x264's speed depends on what it encodes. By
default (``--content texture``) the renderer still runs the whole model on every shot,
then its images are swapped for a detailed texture with sensor-like grain, the same
size, so motion, PNG and x264 work on picture-like content; ``--content smooth`` drops
the grain (an easier, cleaner picture) and ``--content model`` keeps the model's own
pixels.

Run on a GPU machine::

    python benchmarks/gpu_render.py                  # fp16, prints a table + JSON
    python benchmarks/gpu_render.py --compile        # torch.compile the UNet
    python benchmarks/gpu_render.py --tiny           # CPU smoke test, tiny configs
    python benchmarks/gpu_render.py --embed-texts comments.json.gz   # comment embeddings

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
    # Any: the configs mix ints, floats, strings and tuples; each class checks its own.
    unet_cfg: dict[str, Any] = TINY_UNET if tiny else SDXL_UNET
    vae_cfg: dict[str, Any] = TINY_VAE if tiny else SDXL_VAE
    text_1: dict[str, Any] = TINY_TEXT if tiny else SDXL_TEXT_1
    text_2: dict[str, Any] = TINY_TEXT if tiny else SDXL_TEXT_2
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
    pipe: Any = StableDiffusionXLPipeline(
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
    """SDPA attention on CUDA and optional torch.compile, as the room does.

    Like the room, no channels-last (see ``load_pipeline``): CUDA GroupNorm hands back
    channels-first tensors, so it costs a transpose on each side of every norm.
    """
    import torch

    from writers_room.render.diffusion import use_sdpa

    if device == "cuda":
        use_sdpa(pipe)
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
    from writers_room.brief.manifest import ShotManifest

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


class TexturedRenderer:
    """A renderer that runs its inner renderer in full, then returns detailed textures.

    Random weights give noise or black keyframes, not pictures, and every CPU stage after
    the model (PNG, motion, x264) runs at a speed that depends on the pixels. The inner
    model still renders every shot, so the keyframe time is the model's; only the pixels
    handed on are swapped.
    """

    def __init__(self, inner: Any, *, grain: bool = True) -> None:
        self.inner = inner
        self.grain = grain
        self.name = inner.name
        self.batch_size = inner.batch_size
        self.model_id = inner.model_id
        self.device = getattr(inner, "device", None)  # where RenderOptions.motion="auto" draws
        self._textures: dict[tuple[int, int], list[Any]] = {}

    def prepare(self, size: tuple[int, int]) -> None:
        """Draw the textures for ``size`` now, outside the timed render."""
        if size not in self._textures:
            self._textures[size] = [_texture(size, seed, self.grain) for seed in range(6)]

    @property
    def version(self) -> str:
        return f"{self.inner.version}+textured"

    @property
    def gpu_seconds(self) -> float:
        return float(self.inner.gpu_seconds)

    def describe(self, shot: Any) -> dict[str, Any]:
        return dict(self.inner.describe(shot))

    def info(self) -> dict[str, Any]:
        return {**self.inner.info(), "content": "texture"}

    def render(self, shots: Any, size: tuple[int, int]) -> list[Any]:
        images = self.inner.render(shots, size)
        self.prepare(size)
        textures = self._textures[size]
        return [textures[shot.seed % len(textures)] for shot in shots][: len(images)]


def _texture(size: tuple[int, int], seed: int, grain: bool = True) -> Any:
    """A photo-like test picture: smooth shapes plus (optionally) fine grain, per seed."""
    import numpy as np
    from PIL import Image

    rng = np.random.default_rng(seed)
    width, height = size
    total = np.zeros((height, width, 3), np.float32)
    for octave, weight in ((4, 0.5), (16, 0.25), (64, 0.15), (256, 0.1)):
        cells = rng.random((max(2, height * octave // width), octave, 3), dtype=np.float32)
        layer = Image.fromarray((cells * 255).astype(np.uint8)).resize(
            size, Image.Resampling.BICUBIC
        )
        total += weight * np.asarray(layer, np.float32)
    if grain:  # sensor-like noise: the hardest case for x264 at a capped bitrate
        total += rng.normal(0, 6, total.shape).astype(np.float32)
    return Image.fromarray(total.clip(0, 255).astype(np.uint8))


def profile_batch(renderer: Any, shots: Any, target: tuple[int, int], device: str) -> dict:
    """One batch split into denoise, VAE decode + postprocess, and crop/resize/copy-out."""
    import torch

    pipe = renderer.pipeline
    batch = list(shots[: renderer.batch_size])
    gen_w, gen_h = renderer.gen_size_for(target)
    kwargs: dict[str, Any] = {
        "prompt": [renderer.prompt_for(shot) for shot in batch],
        "height": gen_h,
        "width": gen_w,
        "num_inference_steps": renderer.steps,
        "guidance_scale": renderer.guidance_scale,
    }
    if renderer.guidance_scale > 1:
        kwargs["negative_prompt"] = [renderer.negative_prompt] * len(batch)

    def timed(**extra: Any) -> float:
        generators = [torch.Generator("cpu").manual_seed(renderer.seed_for(s)) for s in batch]
        _sync(device)
        started = time.perf_counter()
        with torch.inference_mode():
            pipe(**kwargs, **extra, generator=generators)
        _sync(device)
        return time.perf_counter() - started

    latent = min(timed(output_type="latent") for _ in range(2))
    tensor = min(timed(output_type="pt") for _ in range(2))
    started = time.perf_counter()
    renderer.render(batch, target)
    _sync(device)
    whole = time.perf_counter() - started
    return {
        "images": len(batch),
        "steps": renderer.steps,
        "denoise_s": round(latent, 3),
        "vae_decode_s": round(tensor - latent, 3),
        "fit_and_copy_s": round(whole - tensor, 3),
        "render_s": round(whole, 3),
    }


def memory_formats(pipe: Any, device: str, batch: int, gen_size: tuple[int, int]) -> dict:
    """VAE decode and one UNet step, channels-last against contiguous, at batch shape."""
    import torch

    width, height = gen_size
    dtype = pipe.unet.dtype
    latents = torch.randn(batch, 4, height // 8, width // 8, device=device, dtype=dtype)
    text = torch.randn(batch, 77, pipe.unet.config.cross_attention_dim, device=device, dtype=dtype)
    added = {
        # The pooled text embedding: what the add-embedding takes besides 6 time ids.
        "text_embeds": torch.randn(
            batch,
            pipe.unet.config.projection_class_embeddings_input_dim
            - 6 * pipe.unet.config.addition_time_embed_dim,
            device=device,
            dtype=dtype,
        ),
        "time_ids": torch.tensor([[height, width, 0, 0, height, width]] * batch, device=device).to(
            dtype
        ),
    }
    step = torch.tensor(500, device=device)

    def best(run: Any) -> float:
        with torch.inference_mode():
            run()
            times = []
            for _ in range(3):
                _sync(device)
                started = time.perf_counter()
                run()
                _sync(device)
                times.append(time.perf_counter() - started)
        return round(min(times), 4)

    result: dict[str, Any] = {"batch": batch}
    formats = {"contiguous": torch.contiguous_format, "channels_last": torch.channels_last}
    for name, fmt in formats.items():
        pipe.vae.to(memory_format=fmt)
        result[f"vae_decode_{name}_s"] = best(lambda: pipe.vae.decode(latents).sample)
        pipe.unet.to(memory_format=fmt)
        result[f"unet_step_{name}_s"] = best(
            lambda: pipe.unet(latents, step, text, added_cond_kwargs=added).sample
        )
    # Back to what prepare() set: the room's choice.
    pipe.vae.to(memory_format=torch.contiguous_format)
    pipe.unet.to(memory_format=torch.contiguous_format)
    return result


def encoder_variants(
    episode: Path, cores: int, variants: list[tuple[int, int]]
) -> list[dict[str, Any]]:
    """The ladder encode alone, fed raw frames from memory, per chunking and thread setting.

    ``variants`` are ``(chunks, thread_cores)``: ``(1, cores)`` is the room's single pass
    with the split thread count; ``(1, 0)`` lets x264 pick; ``(k, c)`` encodes ``k`` time
    chunks at once, each chunk's x264 threads shared out over ``c`` cores, then packages.
    """
    import subprocess
    import threading

    from writers_room.render._ffmpeg import ffmpeg_exe, probe
    from writers_room.render.encode import (
        audio_command,
        audio_source,
        chunk_command,
        chunk_ranges,
        hls_command,
        ladder_for,
        package_command,
        rung_threads,
        write_chunk_lists,
    )

    info = probe(episode)
    width, height = info.video.width or 1080, info.video.height or 1920
    fps = round(info.video.fps or 30)
    raw = subprocess.run(
        [ffmpeg_exe(), "-v", "error", "-i", str(episode), "-f", "rawvideo"]
        + ["-pix_fmt", "yuv420p", "-"],
        capture_output=True,
        check=True,
    ).stdout
    frame_bytes = width * height * 3 // 2
    frames = len(raw) // frame_bytes
    rungs = ladder_for(width, height)
    audio = audio_source(frames / fps)
    rows = []
    for chunks, thread_cores in variants:
        threads = rung_threads(rungs, thread_cores) if thread_cores else None
        work = Path(tempfile.mkdtemp(prefix="encode-"))
        (work / "hls").mkdir()
        cpu = _child_cpu()
        started = time.perf_counter()
        row: dict[str, Any] = {"chunks": chunks, "thread_cores": thread_cores}
        encoding: dict[str, Any] = {
            "size": (width, height),
            "fps": fps,
            "segment_s": 2,
            "preset": "veryfast",
            "threads": threads,
        }
        if chunks <= 1:
            args = hls_command(audio, rungs, **encoding)
            subprocess.run(args, cwd=work, input=raw, check=True)
        else:
            ranges = chunk_ranges(frames, fps, 2, chunks)
            write_chunk_lists(work, rungs, len(ranges))
            sound = subprocess.Popen(audio_command(audio, rungs), cwd=work)
            procs = []
            for number, (start, end) in enumerate(ranges):
                args = chunk_command(rungs, number, **encoding)
                proc = subprocess.Popen(args, cwd=work, stdin=subprocess.PIPE)
                data = raw[start * frame_bytes : end * frame_bytes]

                def feed(p: Any = proc, d: bytes = data) -> None:
                    p.stdin.write(d)
                    p.stdin.close()

                thread = threading.Thread(target=feed)
                thread.start()
                procs.append((proc, thread))
            ends = []
            for proc, thread in procs:
                thread.join()
                if proc.wait() != 0:
                    raise RuntimeError("chunk encoder failed")
                ends.append(round(time.perf_counter() - started, 2))
            row["chunk_end_s"] = ends
            if sound.wait() != 0:
                raise RuntimeError("audio encoder failed")
            encoded = time.perf_counter()
            subprocess.run(package_command(rungs, segment_s=2), cwd=work, check=True)
            row["package_s"] = round(time.perf_counter() - encoded, 2)
        row.update(
            {
                "per_rung": threads,
                "frames": frames,
                "wall_s": round(time.perf_counter() - started, 2),
                "cpu_s": round(_child_cpu() - cpu, 1),
            }
        )
        rows.append(row)
        print(f"  encoder alone: {row}", flush=True)
        shutil.rmtree(work, ignore_errors=True)
    return rows


def _child_cpu() -> float:
    import resource

    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def embed_throughput(path: Path, device: str, batch: int, repeats: int) -> dict[str, Any]:
    """Comment embeddings per second with the room's Embedder (torch backend)."""
    import gzip

    import torch

    from writers_room.index.embedding import Embedder

    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rt", encoding="utf-8") as src:
        texts = [str(t) for t in json.load(src)]
    # Every comment made distinct: the Embedder embeds each distinct text once, so a feed
    # with bot bursts is faster than this; this is the model's own rate.
    distinct = [f"{text} #{index}" for index, text in enumerate(texts)]
    embedder = Embedder(device, backend="torch")
    embedder.encode(texts[:4096], batch_size=batch)  # warm-up: kernels, allocator
    rows: dict[str, Any] = {"device": device, "batch": batch, "comments": len(texts)}
    for name, corpus in (("feed", texts), ("all_distinct", distinct)):
        times = []
        for _ in range(repeats):
            if device.startswith("cuda"):
                torch.cuda.synchronize()
            started = time.perf_counter()
            vectors = embedder.encode(corpus, batch_size=batch)
            if device.startswith("cuda"):
                torch.cuda.synchronize()
            times.append(time.perf_counter() - started)
        best = min(times)
        rows[name] = {
            "texts": len(corpus),
            "distinct": len(set(corpus)),
            "best_s": round(best, 3),
            "median_s": round(statistics.median(times), 3),
            "comments_per_s": round(len(corpus) / best),
            "shape": list(vectors.shape),
        }
    return rows


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
    parser.add_argument("--episodes", type=int, default=1, help="timed episodes per configuration")
    parser.add_argument("--content", choices=["texture", "smooth", "model"], default="texture")
    parser.add_argument("--supersample", type=float, default=None, help="RenderOptions knob")
    parser.add_argument("--no-ladder", action="store_true", help="skip the episode render")
    parser.add_argument("--no-encoder", action="store_true", help="skip the encoder variants")
    parser.add_argument(
        "--formats", action="store_true", help="VAE/UNet: channels-last against contiguous"
    )
    parser.add_argument("--x264-threads", choices=["split", "auto", "both"], default="split")
    parser.add_argument(
        "--motion",
        nargs="+",
        choices=["auto", "ffmpeg", "torch"],
        default=["auto"],
        help="RenderOptions.motion values to time, interleaved (auto: torch on a GPU)",
    )
    parser.add_argument(
        "--encode-chunks",
        type=int,
        nargs="+",
        default=[0],
        help="episode ladder in this many time chunks (0: the room's choice; 1: one pass)",
    )
    parser.add_argument(
        "--encoder-variants",
        nargs="+",
        default=None,
        help="encoder alone: CHUNKSxCORES items (CORES 0: x264's own threads); "
        "default 1x0 1xN 2xN/2 3xN/3 4xN/4 for N cores",
    )
    parser.add_argument("--embed-texts", type=Path, default=None, help="only time embeddings")
    parser.add_argument("--embed-batch", type=int, default=1024)
    parser.add_argument("--json", type=Path, default=None, help="write the results here")
    args = parser.parse_args(argv)

    import torch

    if args.embed_texts is not None:
        device = "cuda" if torch.cuda.is_available() else "cpu"
        embed = embed_throughput(args.embed_texts, device, args.embed_batch, args.repeats)
        print(json.dumps(embed, indent=2))
        if args.json is not None:
            args.json.write_text(json.dumps(embed, indent=2))
        return embed

    import diffusers
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
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    report: dict[str, Any] = {
        "device": torch.cuda.get_device_name(0)
        if device == "cuda"
        else f"CPU ({platform.machine()}, {os.cpu_count()} cores)",
        "cores": cores,
        "torch": torch.__version__,
        "dtype": dtype_name,
        "compile": args.compile,
        "tiny": args.tiny,
        "content": args.content,
        "gen_size": list(gen_size),
        "batch": args.batch,
        "shots": args.shots,
        "date": time.strftime("%Y-%m-%d %H:%M:%S %Z"),
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
        report["profile"] = []
        for steps in args.steps:
            # Warm-up at this configuration's batch shape (CFG doubles it): cuDNN autotuning,
            # allocator growth and torch.compile graphs are not part of the timings.
            started = time.perf_counter()
            sample = renderer(2, cfg(steps)).render(shots[: args.batch], target)
            _sync(device)
            report["warmup_s"] = round(report["warmup_s"] + time.perf_counter() - started, 2)
            if "model_pixels" not in report:
                import numpy as np

                pixels = np.asarray(sample[0], np.float32)
                report["model_pixels"] = {"mean": float(pixels.mean()), "std": float(pixels.std())}
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
            if steps == min(args.steps):
                # The split is the same at any step count but the denoise share; time it
                # once, at the cheapest configuration.
                report["profile"].append(profile_batch(renderer(steps), shots, target, device))
                if args.formats:
                    report["formats"] = memory_formats(pipe, device, args.batch, gen_size)

        if not args.no_ladder:
            episode = manifest(args.shots, 0.5 if args.tiny else 2.5, 12 if args.tiny else 30)
            settings = Settings(home=scratch / "home", device=device)
            report["episodes"] = []
            threads = ["split", "auto"] if args.x264_threads == "both" else [args.x264_threads]
            last: Path | None = None

            def one(
                steps: int, label: str, x264: str, chunks: int = 0, motion: str = "auto"
            ) -> dict[str, Any]:
                nonlocal last
                inner = renderer(steps)
                chosen: Any = inner
                if args.content in {"texture", "smooth"}:
                    chosen = TexturedRenderer(inner, grain=args.content == "texture")
                    chosen.prepare((episode.width, episode.height))
                extra: dict[str, Any] = {} if x264 == "split" else {"x264_threads": x264}
                if chunks:
                    extra["encode_chunks"] = chunks
                if args.supersample is not None:
                    extra["supersample"] = args.supersample
                if motion != "auto":
                    extra["motion"] = motion
                try:
                    options = RenderOptions(use_cache=False, **extra)
                except TypeError:  # an older room without the knob
                    options = RenderOptions(use_cache=False)
                out = scratch / "home" / "renders" / "bench" / "gpu" / f"r{time.time_ns()}"
                stats_path = scratch / f"compose-{time.time_ns()}.json"
                os.environ["WRITERS_ROOM_COMPOSE_STATS"] = str(stats_path)
                started = time.perf_counter()
                result = render_manifest(settings, episode, out, renderer=chosen, options=options)
                wall = time.perf_counter() - started
                provenance = json.loads(result.provenance_path.read_text())
                compose: dict[str, Any] = {}
                if stats_path.is_file():  # the room's motion/encode helper says where time went
                    data = json.loads(stats_path.read_text())
                    clips = data.pop("clips")
                    compose = {
                        **data,
                        "first_clip_start_s": min(c["start_s"] for c in clips.values()),
                        "last_clip_end_s": max(c.get("end_s", 0.0) for c in clips.values()),
                    }
                if last is not None:
                    shutil.rmtree(last.parent, ignore_errors=True)
                last = result.episode_path
                return {
                    "run": label,
                    "steps": steps,
                    "x264_threads": x264,
                    "encode_chunks": provenance["encode"].get("encode_chunks"),
                    "motion": provenance["encode"].get("motion", "ffmpeg zoompan"),
                    "threads_per_rung": provenance["encode"].get("x264_threads"),
                    "runtime_s": episode.runtime_s,
                    "size": [episode.width, episode.height],
                    "wall_s": round(wall, 2),
                    "stages_s": {k: round(v, 2) for k, v in result.timings.items()},
                    "gpu_s": result.gpu_seconds,
                    "cpu_s": result.cpu_seconds,
                    "compose": compose,
                }

            # One untimed episode first: ffmpeg's binary and fonts into the page cache,
            # the thumbnail and caption code paths, the allocator at episode batch shapes.
            report["episode_warmup"] = one(min(args.steps), "warm-up", threads[0])
            for steps in args.steps:
                for x264 in threads:
                    for _ in range(args.episodes):
                        for chunks in args.encode_chunks:
                            for motion in args.motion:
                                row = one(steps, "timed", x264, chunks, motion)
                                report["episodes"].append(row)
                                print(
                                    f"episode {steps} steps, chunks {row['encode_chunks']}, "
                                    f"motion {row['motion']}: {row['wall_s']} s "
                                    f"{row['stages_s']}",
                                    flush=True,
                                )
            if not args.no_encoder and last is not None:
                n = cores or 1
                specs = args.encoder_variants or [
                    "1x0",
                    f"1x{n}",
                    f"2x{max(1, n // 2)}",
                    f"3x{max(1, n // 3)}",
                    f"4x{max(1, n // 4)}",
                ]
                variants = [tuple(int(x) for x in spec.split("x")) for spec in specs]
                try:
                    report["encoder"] = encoder_variants(last, n, variants)  # type: ignore[arg-type]
                except Exception as exc:  # an older room without these commands
                    report["encoder"] = [{"error": repr(exc)}]
    finally:
        shutil.rmtree(scratch, ignore_errors=True)

    print(
        f"{report['device']} ({report['cores']} cores) · torch {report['torch']} · "
        f"{report['dtype']}{' · compiled' if args.compile else ''} · "
        f"UNet {report['unet_params_m']} M params · content {report['content']}"
    )
    print(f"build {report['build_s']} s, warm-up {report['warmup_s']} s")
    print(f"{'steps':>6}{'cfg':>6}{'images':>8}{'median s':>10}{'s/image':>9}")
    for row in report["keyframes"]:
        print(
            f"{row['steps']:>6}{row['cfg']:>6.1f}{row['images']:>8}"
            f"{row['median_s']:>10.2f}{row['s_per_image']:>9.3f}"
        )
    for row in report["profile"]:
        print(f"  one batch: {row}")
    if "formats" in report:
        print(f"  memory formats: {report['formats']}")
    for ep in report.get("episodes", []):
        stages = ", ".join(f"{k} {v:.2f}" for k, v in ep["stages_s"].items())
        print(
            f"episode ({ep['runtime_s']:g} s, {ep['steps']} steps, x264 {ep['x264_threads']}, "
            f"chunks {ep['encode_chunks']}, motion {ep['motion']}): {ep['wall_s']} s — {stages}"
        )
        if ep["compose"]:
            print(f"    helper: {ep['compose']}")
    for row in report.get("encoder", []):
        print(f"  encoder alone: {row}")
    if args.json is not None:
        args.json.write_text(json.dumps(report, indent=2))
    return report


if __name__ == "__main__":
    main()
