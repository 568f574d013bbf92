"""Provenance of a render: what made it, from which inputs, how long it took.

``provenance.json`` answers an auditor's questions about an episode without rerunning
anything: the renderer and model (id and fingerprint), library versions, every shot's
prompt and seed, the proposal/approval it implements, the brief version, per-stage wall
times, CPU and GPU seconds, output hashes, and ``synthetic: true``.
"""

from __future__ import annotations

import hashlib
import platform
import resource
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from importlib import metadata
from pathlib import Path
from typing import Any

__all__ = ["StageClock", "library_versions", "sha256_file"]

_LIBRARIES = (
    "writers-room",
    "pillow",
    "ffmpeg-python",
    "imageio-ffmpeg",
    "numpy",
    "torch",
    "diffusers",
    "transformers",
    "accelerate",
    "ray",
)


def library_versions() -> dict[str, str | None]:
    """Versions of the libraries that shape a render (read from metadata, no imports)."""
    from writers_room.render._ffmpeg import ffmpeg_version

    versions: dict[str, str | None] = {
        "python": platform.python_version(),
        "ffmpeg": ffmpeg_version(),
    }
    for name in _LIBRARIES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = None
    return versions


def sha256_file(path: Path) -> str:
    """The SHA-256 of a file, read in 1 MiB blocks."""
    digest = hashlib.sha256()
    with path.open("rb") as src:
        for block in iter(lambda: src.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _cpu_seconds() -> float:
    own = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


class StageClock:
    """Wall time per named stage, plus CPU seconds of this process and its children.

    CPU time includes ffmpeg (a waited-for child) and every thread of this process, so
    in a busy multi-threaded server it is an upper bound for the render itself.
    """

    def __init__(self) -> None:
        self.stages: dict[str, float] = {}
        self._started = time.perf_counter()
        self._cpu_started = _cpu_seconds()

    @contextmanager
    def stage(self, name: str) -> Iterator[None]:
        """Time the ``with`` block under ``name`` (repeated names add up)."""
        started = time.perf_counter()
        try:
            yield
        finally:
            elapsed = time.perf_counter() - started
            self.stages[name] = round(self.stages.get(name, 0.0) + elapsed, 4)

    def record(self, name: str, seconds: float) -> None:
        """Add a span timed elsewhere (a stage that overlaps others) under ``name``."""
        self.stages[name] = round(self.stages.get(name, 0.0) + seconds, 4)

    @property
    def total_s(self) -> float:
        """Wall time since the clock started."""
        return round(time.perf_counter() - self._started, 4)

    @property
    def cpu_s(self) -> float:
        """CPU seconds (user + system, self + children) since the clock started."""
        return round(_cpu_seconds() - self._cpu_started, 3)


def runtime_platform() -> dict[str, Any]:
    """The host, for reading timings in context."""
    import os

    return {
        "python": sys.version.split()[0],
        "platform": platform.platform(),
        "machine": platform.machine(),
        "cpus": os.cpu_count(),
    }
