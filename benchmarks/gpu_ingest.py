"""Comments ingest end to end on a GPU host, against the number of index shards.

Validate, redact, SQL, embed (fp16 on CUDA when there is one) and index N comments into
a fresh room, once per ``--shards`` value, after a small warm-up ingest (model load,
CUDA kernels). Prints a table and JSON: rate, wall time per stage, CPU seconds of the
main process and of its finished children (the shard writers; not the embedder's
long-lived CPU workers), and with
``--profile`` the main process's top functions for the first shard count.

    python benchmarks/gpu_ingest.py --comments 300000 --shards 1 4 8 --json out.json

The comments come from the same generator as ``bench_review`` (themes, bot bursts,
repeated texts), so the embedder's de-duplication works as it would on a real feed.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import json
import os
import pstats
import resource
import shutil
import sys
import time
import uuid
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def _cpu() -> tuple[float, float]:
    own = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime, children.ru_utime + children.ru_stime


def ingest_once(
    work: Path, series: Path, comments: Path, *, device: str, shards: int, profile: bool
) -> dict[str, Any]:
    from writers_room.config import Settings
    from writers_room.ingest.comments import ingest_comments
    from writers_room.ingest.series import add_series_file

    home = work / f"home-{shards}-{uuid.uuid4().hex[:6]}"
    settings = Settings(home=home, pii_key="bench", device=device, index_shards=shards)
    add_series_file(settings, series)
    marks: dict[str, float] = {}

    def progress(stage: str, _done: int, total: int) -> None:
        if stage != "validate" or total:  # "validate" with a total: the first pass is done
            marks.setdefault(stage, time.perf_counter())

    profiler = cProfile.Profile() if profile else None
    cpu_before = _cpu()
    started = time.perf_counter()
    if profiler:
        profiler.enable()
    result = ingest_comments(settings, comments, progress=progress)
    if profiler:
        profiler.disable()
    ended = time.perf_counter()
    cpu_after = _cpu()
    stages = {
        "validate_s": round(marks.get("validate", ended) - started, 2),
        "redact_embed_index_s": round(
            marks.get("store", ended) - marks.get("validate", started), 2
        ),
        "sql_s": round(ended - marks.get("store", ended), 2),
    }
    row: dict[str, Any] = {
        "shards": shards,
        "comments": result.rows,
        "inserted": result.inserted,
        "seconds": round(ended - started, 2),
        "comments_per_s": round(result.rows / (ended - started)),
        **stages,
        "main_cpu_s": round(cpu_after[0] - cpu_before[0], 1),
        "children_cpu_s": round(cpu_after[1] - cpu_before[1], 1),
    }
    if profiler:
        text = io.StringIO()
        pstats.Stats(profiler, stream=text).sort_stats("tottime").print_stats(25)
        row["profile_top"] = text.getvalue().splitlines()[:60]
    shutil.rmtree(home, ignore_errors=True)
    return row


def main(argv: list[str] | None = None) -> list[dict[str, Any]]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--comments", type=int, default=300_000)
    parser.add_argument("--shards", type=int, nargs="+", default=[1, 4, 8])
    parser.add_argument("--device", default="auto", choices=["auto", "cpu", "cuda"])
    parser.add_argument("--work", type=Path, default=Path("/tmp/writers-room-gpu-ingest"))
    parser.add_argument("--profile", action="store_true")
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args(argv)

    from benchmarks.bench_review import _series_yaml, _write_comments

    args.work.mkdir(parents=True, exist_ok=True)
    series = args.work / "series.yaml"
    _series_yaml(series)
    comments = args.work / f"comments-{args.comments}.jsonl.gz"
    if not comments.exists():
        _write_comments(comments, args.comments, 7, 11)
    warm = args.work / "warm-up.jsonl.gz"
    if not warm.exists():
        _write_comments(warm, 3000, 7, 5)
    ingest_once(args.work, series, warm, device=args.device, shards=1, profile=False)

    rows = []
    for shards in args.shards:
        row = ingest_once(
            args.work,
            series,
            comments,
            device=args.device,
            shards=shards,
            profile=args.profile and shards == args.shards[0],
        )
        rows.append(row)
        brief = {k: v for k, v in row.items() if k != "profile_top"}
        print(json.dumps(brief), flush=True)
    info = {"cores": os.cpu_count(), "device": args.device, "rows": rows}
    if args.json:
        args.json.write_text(json.dumps(info, indent=2))
    for row in rows:
        for line in row.get("profile_top", []):
            print(line)
    return rows


if __name__ == "__main__":
    main()
