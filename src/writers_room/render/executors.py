"""Where renders run: in this process (``local``) or on a Ray cluster (``ray``).

Both executors take a :class:`RenderTask` and return the
:class:`~writers_room.render.pipeline.RenderResult`, so the job API does not care which
one runs. :func:`get_executor` is the seam built from Settings
(``WRITERS_ROOM_RENDER_BACKEND``); tests pass their own executor instead.

The Ray executor keeps one long-lived actor per GPU (one CPU actor when the cluster has
no GPU). Each actor holds the loaded diffusion pipeline for its lifetime, so the model
loads once per GPU, not once per job. Actors write straight into the render folder, so
on a multi-node cluster ``WRITERS_ROOM_HOME`` must be a shared file system.
"""

from __future__ import annotations

import itertools
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from writers_room.brief.manifest import ShotManifest
from writers_room.errors import RoomError

if TYPE_CHECKING:
    from writers_room.config import Settings
    from writers_room.render.pipeline import Progress, RenderOptions, RenderResult

__all__ = [
    "BackendUnavailable",
    "LocalExecutor",
    "RayExecutor",
    "RenderExecutor",
    "RenderTask",
    "get_executor",
]

RAY_HINT = "pip install 'writers-room[ray]'"


class BackendUnavailable(RoomError):
    """The configured render backend cannot run here (e.g. Ray is not installed)."""


@dataclass
class RenderTask:
    """One render to run: everything an executor needs, picklable for Ray."""

    manifest: ShotManifest
    out_dir: Path
    preview: bool = False
    options: RenderOptions | None = None
    provenance: dict[str, Any] = field(default_factory=dict)


class RenderExecutor(Protocol):
    """Runs render tasks; ``name`` is recorded on the job row."""

    name: str

    def run(self, task: RenderTask, *, progress: Progress | None = None) -> RenderResult:
        """Run ``task`` to completion and return its result (or raise)."""
        ...


def _render_settings(settings: Settings) -> dict[str, Any]:
    # Only what rendering reads travels to workers: no API keys or tokens leave here.
    return {
        "home": str(Path(settings.home).resolve()),
        "diffusion_model": settings.diffusion_model,
        "device": settings.device,
        "render_backend": "local",
    }


class LocalExecutor:
    """Renders in the calling process (the default)."""

    name = "local"

    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    def run(self, task: RenderTask, *, progress: Progress | None = None) -> RenderResult:
        """Render ``task`` here and now."""
        from writers_room.render.pipeline import render_manifest

        return render_manifest(
            self.settings,
            task.manifest,
            task.out_dir,
            preview=task.preview,
            progress=progress,
            options=task.options,
            provenance=task.provenance,
        )


class _RenderWorker:
    """The body of a Ray actor: settings plus a warm renderer, reused for every task."""

    def __init__(self, settings: dict[str, Any]) -> None:
        from writers_room.config import Settings

        self.settings = Settings(**settings)
        self.renderer: Any = None
        if self.settings.diffusion_model:
            from writers_room.render.keyframes import get_renderer

            self.renderer = get_renderer(self.settings)
            # Load the weights now, while the actor starts, not inside the first job.
            _ = self.renderer.pipeline

    def run(self, task: RenderTask) -> RenderResult:
        from writers_room.render.pipeline import render_manifest

        renderer = self.renderer
        options = task.options
        if (
            renderer is not None
            and options is not None
            and (options.characters or options.diffusion)
        ):
            # Job-specific prompt knobs: a renderer sharing the actor's loaded pipeline.
            from writers_room.render.diffusion import DiffusionRenderer

            renderer = DiffusionRenderer(
                str(self.settings.diffusion_model),
                device=self.settings.device,
                characters=dict(options.characters),
                pipeline=self.renderer.pipeline,
                **dict(options.diffusion),
            )
        return render_manifest(
            self.settings,
            task.manifest,
            task.out_dir,
            preview=task.preview,
            renderer=renderer,
            options=options,
            provenance=task.provenance,
        )


def _import_ray() -> Any:
    try:
        import ray
    except ImportError as exc:
        raise BackendUnavailable(
            f"WRITERS_ROOM_RENDER_BACKEND is 'ray' but Ray is not installed: {RAY_HINT}"
        ) from exc
    return ray


class RayExecutor:
    """Renders on Ray actors, one per GPU, each keeping its pipeline loaded.

    Args:
        settings: Room settings; ``ray_address`` joins an existing cluster (unset starts
            a local one).
        actors: Number of actors; default one per GPU in the cluster (or one CPU actor).
    """

    name = "ray"

    def __init__(self, settings: Settings, *, actors: int | None = None) -> None:
        ray = _import_ray()
        self._ray = ray
        if not ray.is_initialized():
            if settings.ray_address:
                ray.init(address=settings.ray_address)
            else:
                ray.init()
        gpus = int(ray.cluster_resources().get("GPU", 0))
        count = actors or max(1, gpus)
        remote = ray.remote(num_gpus=1 if gpus else 0, num_cpus=1)(_RenderWorker)
        payload = _render_settings(settings)
        self._actors = [remote.remote(payload) for _ in range(count)]
        self._turn = itertools.cycle(range(count))
        self._lock = threading.Lock()

    @property
    def actor_count(self) -> int:
        """How many render actors this executor spreads work over."""
        return len(self._actors)

    def run(self, task: RenderTask, *, progress: Progress | None = None) -> RenderResult:
        """Run ``task`` on the next actor (round robin) and wait for it.

        Progress is reported only at the end: callbacks do not cross process borders.
        """
        with self._lock:
            actor = self._actors[next(self._turn)]
        result: RenderResult = self._ray.get(actor.run.remote(task))
        if progress is not None:
            progress("done", 1, 1)
        return result


_executors: dict[tuple[str, str | None, str], RenderExecutor] = {}
_executors_lock = threading.Lock()


def get_executor(settings: Settings) -> RenderExecutor:
    """The executor ``settings.render_backend`` names (one per configuration per process).

    Raises:
        BackendUnavailable: ``ray`` is configured but not installed.
    """
    if settings.render_backend == "local":
        return LocalExecutor(settings)
    key = (settings.render_backend, settings.ray_address, str(settings.home))
    with _executors_lock:
        executor = _executors.get(key)
        if executor is None:
            executor = RayExecutor(settings)
            _executors[key] = executor
        return executor
