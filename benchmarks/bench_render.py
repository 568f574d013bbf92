"""Render benchmark: a 30-s, 12-shot storyboard animatic, full ladder + HLS and preview.

The episode is what the room renders for a writer: staged storyboard frames, a voiced
line (eSpeak NG, a voice per character) in most shots over the generated pad, burned-in
subtitles and captions, loudness-normalised audio, thumbnails with the headline.

``python -m benchmarks.bench_render [--repeats N] [--home DIR]`` prints a table. Every
timed run starts with an empty keyframe cache (``cold``), so it measures the whole
pipeline: storyboards, motion, captions, the three-rung encode, HLS, master remux,
thumbnails and provenance. ``full (warm cache)`` shows a re-render where every keyframe
is already cached (e.g. a caption-only or audio-only change elsewhere).

Targets on a 2-core CPU machine: full <= 60 s, preview <= 8 s.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

from writers_room.brief.manifest import ShotManifest
from writers_room.config import Settings
from writers_room.render.cast import CastMember
from writers_room.render.pipeline import RenderOptions, render_manifest
from writers_room.render.tts import EspeakSpeaker

SHOTS = 12
SHOT_S = 2.5
FPS = 30
TARGETS_S = {"full": 60.0, "preview": 8.0}

_CAMERAS = ("slow push-in", "pull back", "pan left", "static", "tilt up", "pan right")
_MOODS = ("tense", "calm", "romantic", "mysterious", "shock", "hopeful")
_LINES = (
    "MARA: Who sent this?",
    "THEO: Put it down.",
    "MARA: You knew. / THEO: I did.",
    "",
    "THEO: Not on my harbor.",
    "MARA: It's my father's boat.",
    "MARA: Stay back.",
    "",
    "THEO: You weren't supposed to see.",
    "MARA: Then tell me.",
    "THEO: Tomorrow. / MARA: Now.",
    "MARA: Who are you?",
)
CAST = (
    CastMember("Mara", "woman, 29, auburn braid, yellow oilskin jacket"),
    CastMember("Theo", "man, 32, dark beard, navy peacoat"),
)


def episode_options() -> RenderOptions:
    """Voices for the cast, and the approved headline for the thumbnails."""
    return RenderOptions(speaker=EspeakSpeaker(), cast=CAST, headlines=("Who sent the letter?",))


def episode_manifest() -> ShotManifest:
    """The benchmark episode: 12 shots x 2.5 s at 30 fps, 1080x1920, all captioned, ten
    of them with a spoken line."""
    shots = [
        {
            "shot_id": f"s{i + 1}",
            "start_s": i * SHOT_S,
            "duration_s": SHOT_S,
            "camera": _CAMERAS[i % len(_CAMERAS)],
            "framing": "close-up" if i % 2 else "medium two-shot",
            "action": f"Beat {i + 1}: Mara reads the letter again; the storm hits the glass.",
            "mood": _MOODS[i % len(_MOODS)],
            "caption": f"Line {i + 1}: she never wrote this.",
            "dialogue": _LINES[i],
            "characters": ["Mara"] if i % 2 else ["Mara", "Theo"],
            "seed": i + 1,
        }
        for i in range(SHOTS)
    ]
    return ShotManifest(series_id="bench", episode_id="ep30s", fps=FPS, shots=shots)


def _time_once(settings: Settings, manifest: ShotManifest, preview: bool, cold: bool) -> dict:
    if cold:
        shutil.rmtree(settings.renders_path / ".cache", ignore_errors=True)
    out = settings.renders_path / "bench" / "ep30s" / f"run-{time.time_ns()}"
    started = time.perf_counter()
    result = render_manifest(settings, manifest, out, preview=preview, options=episode_options())
    wall = time.perf_counter() - started
    shutil.rmtree(out, ignore_errors=True)
    return {"wall_s": wall, "cpu_s": result.cpu_seconds, "stages": result.timings}


def run(settings_home: Path, repeats: int = 3) -> list[dict[str, Any]]:
    """Time the benchmark episode: full ladder (cold and warm cache) and preview.

    Args:
        settings_home: The room home to render into (renders are deleted after timing).
        repeats: Timed runs per case.

    Returns:
        One row per case: median, min and max wall seconds, median CPU seconds, the
        median per-stage times and the target.
    """
    settings = Settings(home=settings_home)
    manifest = episode_manifest()
    cases = [("full", False, True), ("full (warm cache)", False, False), ("preview", True, True)]
    rows: list[dict[str, Any]] = []
    for name, preview, cold in cases:
        runs = [_time_once(settings, manifest, preview, cold) for _ in range(repeats)]
        walls = [r["wall_s"] for r in runs]
        stage_names = runs[0]["stages"].keys()
        rows.append(
            {
                "case": name,
                "shots": SHOTS,
                "runtime_s": manifest.runtime_s,
                "frames": round(manifest.runtime_s * FPS),
                "repeats": repeats,
                "median_s": round(statistics.median(walls), 2),
                "min_s": round(min(walls), 2),
                "max_s": round(max(walls), 2),
                "cpu_s": round(statistics.median(r["cpu_s"] for r in runs), 1),
                "stages_s": {
                    stage: round(statistics.median(r["stages"][stage] for r in runs), 2)
                    for stage in stage_names
                },
                "target_s": TARGETS_S["preview" if preview else "full"],
                "cpus": os.cpu_count(),
            }
        )
    return rows


def table(rows: list[dict[str, Any]]) -> str:
    """The rows as a fixed-width text table."""
    header = f"{'case':<20}{'median s':>10}{'min s':>9}{'max s':>9}{'cpu s':>8}{'target s':>10}"
    lines = [header, "-" * len(header)]
    for row in rows:
        ok = "ok" if row["median_s"] <= row["target_s"] else "SLOW"
        lines.append(
            f"{row['case']:<20}{row['median_s']:>10.2f}{row['min_s']:>9.2f}"
            f"{row['max_s']:>9.2f}{row['cpu_s']:>8.1f}{row['target_s']:>8.0f} {ok}"
        )
    for row in rows:
        stages = ", ".join(f"{k} {v:.2f}" for k, v in row["stages_s"].items())
        lines.append(f"  {row['case']}: {stages}")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--home", type=Path, default=None, help="room home (default: temp)")
    args = parser.parse_args()
    if args.home is not None:
        rows = run(args.home, args.repeats)
    else:
        with tempfile.TemporaryDirectory(prefix="bench-render-") as home:
            rows = run(Path(home), args.repeats)
    print(
        f"{SHOTS} shots, {SHOTS * SHOT_S:g} s at {FPS} fps, 1080x1920 "
        f"(ladder 1080/720/360 + HLS) on {os.cpu_count()} CPUs"
    )
    print(table(rows))


if __name__ == "__main__":
    main()
