"""Scenario registry, timing loop and result files for the benchmarks.

Each scenario runs in its own process (so peak RSS is its own), is warmed up once, then
timed ``repeats`` times. Results go to ``benchmarks/results/<machine>-<date>.json``.
"""

from __future__ import annotations

import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

RESULTS = Path(__file__).parent / "results"
DATA = Path(__file__).parent / ".data"


@dataclass
class Scenario:
    name: str
    target: str
    setup: Callable[[Path], Any]
    run: Callable[[Any, Path], dict[str, Any] | None]
    work: Callable[[Any], float] = lambda _state: 0.0
    unit: str = ""
    repeats: int = 3
    warmup: bool = True


@dataclass
class Result:
    name: str
    target: str
    median_s: float
    min_s: float
    max_s: float
    throughput: float | None
    unit: str
    peak_rss_mb: float
    runs: int
    extra: dict[str, Any] = field(default_factory=dict)


SCENARIOS: dict[str, Scenario] = {}


def scenario(s: Scenario) -> Scenario:
    SCENARIOS[s.name] = s
    return s


def _cpuinfo() -> dict[str, str]:
    """The first processor's fields from /proc/cpuinfo (empty where there is none)."""
    fields: dict[str, str] = {}
    try:
        text = Path("/proc/cpuinfo").read_text()
    except OSError:
        return fields
    for line in text.split("\n\n", 1)[0].splitlines():
        key, _, value = line.partition(":")
        fields[key.strip()] = value.strip()
    return fields


def _isa(flags: set[str]) -> str:
    """The vector instruction set that matters for our figures (int8 embedding above all)."""
    if "avx512f" in flags:
        return "avx512"
    if "avx2" in flags:
        return "avx2"
    return platform.machine() or "cpu"


def machine_tag() -> str:
    """Short name of this machine for result files: host and vector ISA, e.g. ``vm-avx512``.

    The same host name can land on different CPU generations (cloud VMs), whose figures
    differ by up to 1.5× here, so the ISA is part of the name.
    """
    flags = set(_cpuinfo().get("flags", "").split())
    return f"{platform.node() or 'host'}-{_isa(flags)}"


def machine() -> str:
    info = _cpuinfo()
    flags = set(info.get("flags", "").split())
    vnni = " VNNI" if flags & {"avx512_vnni", "avx_vnni"} else ""
    cpu = info.get("model name", "unknown cpu")
    family = f"family {info.get('cpu family', '?')} model {info.get('model', '?')}"
    return (
        f"{platform.node() or 'host'} ({os.cpu_count()} cores, {cpu} {family}, {_isa(flags)}{vnni})"
    )


def run_in_process(name: str, repeats: int | None) -> Result:
    s = SCENARIOS[name]
    work_dir = DATA / name
    work_dir.mkdir(parents=True, exist_ok=True)
    state = s.setup(work_dir)
    extra: dict[str, Any] = {}
    if s.warmup:
        extra.update(s.run(state, work_dir) or {})
    times = []
    for _ in range(repeats or s.repeats):
        started = time.perf_counter()
        extra.update(s.run(state, work_dir) or {})
        times.append(time.perf_counter() - started)
    median = statistics.median(times)
    work = s.work(state)
    return Result(
        name=name,
        target=s.target,
        median_s=round(median, 4),
        min_s=round(min(times), 4),
        max_s=round(max(times), 4),
        throughput=round(work / median, 1) if work else None,
        unit=s.unit,
        peak_rss_mb=round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        runs=len(times),
        extra=extra,
    )


def run_all(names: list[str], repeats: int | None) -> list[Result]:
    results = []
    for name in names:
        command = [sys.executable, "-m", "benchmarks", "--one", name]
        if repeats:
            command += ["--repeats", str(repeats)]
        print(f"… {name}", file=sys.stderr, flush=True)
        done = subprocess.run(command, capture_output=True, text=True, check=False)
        if done.returncode != 0:
            print(done.stderr, file=sys.stderr)
            raise SystemExit(f"benchmark {name} failed (exit {done.returncode})")
        results.append(Result(**json.loads(done.stdout.strip().splitlines()[-1])))
    return results


def save(results: list[Result]) -> Path:
    RESULTS.mkdir(parents=True, exist_ok=True)
    day = datetime.now(UTC).date().isoformat()
    path = RESULTS / f"{machine_tag()}-{day}.json"
    previous = json.loads(path.read_text()) if path.exists() else {"results": {}}
    previous["machine"] = machine()
    previous["date"] = day
    for r in results:
        previous["results"][r.name] = asdict(r)
    path.write_text(json.dumps(previous, indent=2, sort_keys=True) + "\n")
    return path


def table(results: list[Result]) -> str:
    lines = [
        "| scenario | target | median | min | max | throughput | peak RSS |",
        "|---|---|---|---|---|---|---|",
    ]
    for r in results:
        rate = f"{r.throughput:,.0f} {r.unit}" if r.throughput else "—"
        lines.append(
            f"| {r.name} | {r.target} | {r.median_s:.2f} s | {r.min_s:.2f} s | {r.max_s:.2f} s "
            f"| {rate} | {r.peak_rss_mb:,.0f} MB |"
        )
    return "\n".join(lines)


def emit(result: Result) -> None:
    sys.stdout.write(json.dumps(asdict(result)) + "\n")
