"""Review pages benchmark: how fast ``serve`` answers a signed link to a window's report.

``python -m benchmarks.bench_pages [--requests 300] [--clients 1 4] [--work DIR]``
prints a table (and :func:`run` returns the numbers).

The room is the window-review benchmark's series (``bench_review``: 20 episodes × 3
variants) at a small scale (300k events, 4k comments: enough for every chart), reviewed
once by the analyst, which writes ``report.html`` — 20 retention charts, the scorecard
and the themes, embedded — and given one pending proposal per episode. It is built once
and kept under ``--work``.

The pages run in their own process, as in ``writers-room serve`` (uvicorn on a thread),
so the clients here do not share its interpreter. Each request opens a new connection
(the worst case: no keep-alive), sends a signed link and reads the whole page; latency is
request sent → last byte read, on the client. ``clients`` threads send at once, each
``requests / clients`` requests, after 20 warm-up requests. Target: the report page,
p95 ≤ 200 ms on 2 cores. The proposals page of the same review (20 proposals, rendered
from the database on each request) is measured the same way.
"""

from __future__ import annotations

import argparse
import http.client
import json
import statistics
import subprocess
import sys
import threading
import time
from datetime import datetime
from pathlib import Path
from typing import Any

from writers_room.config import Settings

TARGETS = {"report_p95_ms": 200.0}
DEFAULT_WORK = Path(__file__).parent / ".data" / "pages"
EVENTS = 300_000
COMMENTS = 4_000


def build(work: Path) -> tuple[Settings, str]:
    """The reviewed room (built once): its settings and the reviewed window's end."""
    from benchmarks.bench_review import SERIES_ID
    from benchmarks.bench_review import build as build_room

    settings = build_room(work / "room", events=EVENTS, comments=COMMENTS, days=3)
    marker = work / "reviewed.json"
    if marker.exists():
        return settings, json.loads(marker.read_text())["window_end"]
    from writers_room.analyst.window import analyse
    from writers_room.brief.proposals import BriefChangeProposal, FieldChange
    from writers_room.guardrails.approval import store_pending
    from writers_room.store.db import session_scope

    report = analyse(settings, SERIES_ID, write=True)
    end = report.window_end
    proposals = [
        BriefChangeProposal(
            episode_id=e.episode_id,
            kind="hook_rewrite",
            summary=f"Open {e.episode_id} on its strongest beat instead of the slow start.",
            target=f"retention_10s {e.metrics.retention_10s:.0%}",
            expected_effect="10-s retention toward the cohort",
            changes=[
                FieldChange(
                    path="brief.hook",
                    before="Something happens at once.",
                    after=f"Cold open on beat 4 of {e.episode_id}, then the episode as written.",
                ),
                FieldChange(path="manifest.shots[0].duration_s", before=4, after=2.5),
            ],
        )
        for e in report.episodes
    ]
    with session_scope(settings) as session:
        store_pending(
            session,
            series_id=SERIES_ID,
            window_end=datetime.fromisoformat(end),
            proposals=proposals,
        )
    marker.write_text(json.dumps({"window_end": end, "episodes": len(report.episodes)}))
    return settings, end


_SERVER = """
import sys
from writers_room.config import Settings
from writers_room.web.server import PagesServer
server = PagesServer(Settings(home=sys.argv[1]), host="127.0.0.1", port=0).start()
print(server.port, flush=True)
sys.stdin.read()  # until the benchmark closes our stdin
server.stop()
"""


class _Pages:
    """The pages of ``home`` served by a child process on a free port."""

    def __init__(self, home: Path) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-c", _SERVER, str(home)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        assert self.process.stdout is not None
        self.port = int(self.process.stdout.readline())

    def close(self) -> None:
        assert self.process.stdin is not None
        self.process.stdin.close()
        self.process.wait(timeout=10)


def _get(port: int, target: str) -> tuple[float, int]:
    started = time.perf_counter()
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        connection.request("GET", target)
        response = connection.getresponse()
        body = response.read()
        if response.status != 200:
            raise RuntimeError(f"GET {target.split('?')[0]} → {response.status}")
    finally:
        connection.close()
    return time.perf_counter() - started, len(body)


def measure(port: int, target: str, *, requests: int, clients: int) -> dict[str, Any]:
    """Latencies of ``requests`` GETs of ``target`` from ``clients`` threads at once."""
    for _ in range(20):
        _get(port, target)
    per_client = max(1, requests // clients)
    latencies: list[float] = []
    sizes: list[int] = []
    lock = threading.Lock()
    gate = threading.Barrier(clients)

    def client() -> None:
        gate.wait()
        mine = [_get(port, target) for _ in range(per_client)]
        with lock:
            latencies.extend(t for t, _ in mine)
            sizes.extend(n for _, n in mine)

    started = time.perf_counter()
    threads = [threading.Thread(target=client) for _ in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    wall = time.perf_counter() - started
    ordered = sorted(latencies)

    def pct(p: float) -> float:
        return round(ordered[min(len(ordered) - 1, int(p * len(ordered)))] * 1000, 1)

    return {
        "clients": clients,
        "requests": len(ordered),
        "p50_ms": pct(0.50),
        "p95_ms": pct(0.95),
        "p99_ms": pct(0.99),
        "max_ms": round(ordered[-1] * 1000, 1),
        "mean_ms": round(statistics.fmean(ordered) * 1000, 1),
        "pages_per_s": round(len(ordered) / wall, 1),
        "page_kb": round(statistics.fmean(sizes) / 1024, 1),
    }


def run(
    work: Path = DEFAULT_WORK, *, requests: int = 300, clients: tuple[int, ...] = (1, 4)
) -> dict[str, Any]:
    """Build the room if needed, serve it, and measure the report and proposals pages."""
    from benchmarks.bench_review import SERIES_ID
    from writers_room.web.links import proposals_url, report_url

    settings, end = build(work)
    pages = _Pages(settings.home)
    try:
        base = settings.pages_url
        targets = {
            "report": report_url(settings, SERIES_ID, end).removeprefix(base),
            "proposals": proposals_url(settings, SERIES_ID, end).removeprefix(base),
        }
        results: dict[str, Any] = {}
        for page, target in targets.items():
            for n in clients:
                results[f"{page}_{n}"] = measure(pages.port, target, requests=requests, clients=n)
    finally:
        pages.close()
    worst = max(v["p95_ms"] for k, v in results.items() if k.startswith("report_"))
    return {"window_end": end, "report_p95_ms": worst, "pages": results}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--work", type=Path, default=DEFAULT_WORK)
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--clients", type=int, nargs="+", default=[1, 4])
    args = parser.parse_args()
    result = run(args.work, requests=args.requests, clients=tuple(args.clients))
    print("| page | clients | p50 | p95 | p99 | max | pages/s | size |")
    print("|---|---|---|---|---|---|---|---|")
    for name, r in result["pages"].items():
        print(
            f"| {name.rsplit('_', 1)[0]} | {r['clients']} | {r['p50_ms']} ms | {r['p95_ms']} ms "
            f"| {r['p99_ms']} ms | {r['max_ms']} ms | {r['pages_per_s']} | {r['page_kb']} KB |"
        )
    met = result["report_p95_ms"] <= TARGETS["report_p95_ms"]
    verdict = "met" if met else "NOT met"
    print(f"\nreport page p95 {result['report_p95_ms']} ms (target ≤ 200 ms): {verdict}")


if __name__ == "__main__":
    main()
