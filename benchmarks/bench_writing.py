"""The ``writing`` scenario: what the offline writer writes, measured as a story editor would.

Two sample rooms — the seeded sample (seed 7) and the generator's second draw (seed 23),
both series each, so two bibles and two seeds — with the sample's writers' notes. For every
episode of every window review: the proposals the offline writer writes, checked by the
guard, and these measures:

- ``new_text_share``: proposals that write new words (lines, captions, titles, headlines,
  stingers) — a promoted variant writes none and counts against it;
- ``twist_payoff_cuts``, ``spoilers``, ``comment_copies``, ``captions_off_speaker``: proposals
  the guard's ``story_cut``, ``spoiler``, ``copied_comment`` and ``speaker`` checks refuse;
- ``notes_satisfied``: sample notes every directive of which some proposal of the episode
  carries out (and none contradicts);
- ``promote_variant_recall``: episodes whose data has a winning variant that got a
  ``promote_variant`` proposal;
- ``ms_per_episode``: the writer's time per episode (contexts are read from SQL first).

``python -m benchmarks writing`` runs it with the others' harness; ``python -m
benchmarks.bench_writing`` prints the table and one episode's proposals.
"""

from __future__ import annotations

import gzip
import json
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

SEEDS = (7, 23)
COMMENT_STRIDE = 10  # every 10th comment (all the flagged ones): the index is not measured


@dataclass
class _Room:
    settings: Any
    reports: dict[str, Any]
    contexts: list[tuple[Any, Any]] = field(default_factory=list)


def _room(work: Path, seed: int) -> _Room:
    from writers_room.analyst.window import analyse
    from writers_room.config import Settings
    from writers_room.ingest.comments import ingest_comments
    from writers_room.ingest.events import ingest_events
    from writers_room.ingest.metrics import ingest_metrics
    from writers_room.ingest.series import add_series_file
    from writers_room.sample.notes import add_sample_notes
    from writers_room.sample.simulator import generate
    from writers_room.store.db import session_scope
    from writers_room.writer.context import build_contexts

    root = work / f"writing-seed{seed}"
    shutil.rmtree(root, ignore_errors=True)
    bundle = generate(root / "bundle", seed=seed, scale=1.0)
    settings = Settings(
        home=root / "home", database_url=None, chroma_url=None, pii_key="bench",
        approvers=["U0SHOWRUN1"],
    )  # fmt: skip
    series_ids = [add_series_file(settings, p).series_id for p in bundle.series_files]
    ingest_events(settings, bundle.events)
    ingest_metrics(settings, bundle.metrics)
    keep = set(bundle.markers["bot_burst"]) | set(bundle.markers["injection"])
    subset = root / "comments-subset.jsonl"
    with gzip.open(bundle.comments, "rt", encoding="utf-8") as src, subset.open("w") as out:
        for index, line in enumerate(src):
            if index % COMMENT_STRIDE == 0 or json.loads(line)["comment_id"] in keep:
                out.write(line)
    ingest_comments(settings, subset)
    add_sample_notes(settings, series_ids)
    room = _Room(settings=settings, reports={})
    for series_id in series_ids:
        report = analyse(settings, series_id, write=False).model_dump(mode="json")
        room.reports[series_id] = report
        for episode in report["episodes"]:
            with session_scope(settings) as session:
                room.contexts.append(
                    build_contexts(settings, session, series_id, episode["episode_id"], report)
                )
    return room


def setup(work: Path) -> list[_Room]:
    return [_room(work, seed) for seed in SEEDS]


def _new_words(proposal: Any, ctx: Any) -> bool:
    """Whether a proposal writes words the brief and manifest in force do not have."""
    from writers_room.brief.script import shot_text

    known = " ".join(str(v) for v in ctx.brief.values()) + " ".join(
        shot_text(s) for s in ctx.manifest.get("shots", [])
    )
    written: list[str] = [o for c in proposal.choices for o in c.options]
    for change in proposal.changes:
        after = change.after
        if isinstance(after, str):
            written.append(after)
        elif isinstance(after, dict):
            written.append(shot_text(after))
        elif isinstance(after, list):
            written += [shot_text(s) for s in after if isinstance(s, dict)]
    return any(text.strip() and text.strip() not in known for text in written)


def _winner(report: Any) -> bool:
    from writers_room.writer.offline import PROMOTE_MIN_STARTS, PROMOTE_P_BEST

    variants = report.variants
    return (
        len(variants) >= 2
        and min(v.starts for v in variants) >= PROMOTE_MIN_STARTS
        and max(v.p_best_retention for v in variants) >= PROMOTE_P_BEST
    )


def _note_done(directive: Any, ctx: Any, proposals: list[Any]) -> bool:
    """Whether the proposals carry the directive out: some proposal does what a keep, cut
    or open-on says; for an avoid, none opens on what it names or shows it on a thumbnail."""
    from writers_room.brief.proposals import apply_changes
    from writers_room.brief.script import script_lines
    from writers_room.guardrails.directives import resolve

    targets = resolve(directive, ctx.manifest)
    if not targets or not proposals:
        return False
    shot_ids = {ctx.manifest["shots"][i]["shot_id"] for i, _ in targets}
    said = {s for _, s in targets if s}
    opening = ctx.manifest["shots"][0]["shot_id"]
    done = []
    for proposal in proposals:
        _, after = apply_changes(
            ctx.brief, ctx.manifest, [c.model_dump() for c in proposal.changes]
        )
        spoken = " ".join(line.text for line in script_lines(after))
        first = str(after["shots"][0]["shot_id"])
        opens_on = first != opening and any(first.startswith(sid) for sid in shot_ids)
        if directive.verb == "keep":
            done.append(all(s in spoken for s in said))
        elif directive.verb == "cut":
            done.append(bool(said) and not any(s in spoken for s in said))
        elif directive.verb == "open_on":
            done.append(opens_on)
        elif directive.verb == "avoid":
            thumbs = [a for a in proposal.assets if a.startswith("thumbnail:")]
            shown = any(f"thumbnail: {sid}," in t for t in thumbs for sid in shot_ids)
            if opens_on or shown:
                return False
            done.append(True)
    return all(done) if directive.verb in ("avoid", "keep") else any(done)


def run(rooms: list[_Room], _work: Path | None = None) -> dict[str, Any]:
    from writers_room.guardrails import brand_guard
    from writers_room.guardrails.directives import directives
    from writers_room.writer.offline import OfflineWriter

    writer = OfflineWriter()
    totals = dict.fromkeys(
        ("proposals", "new_text", "twist_payoff_cuts", "spoilers", "comment_copies",
         "captions_off_speaker", "refused", "notes", "notes_satisfied", "winners",
         "promoted"), 0,
    )  # fmt: skip
    seconds, episodes = 0.0, 0
    for room in rooms:
        for ictx, gctx in room.contexts:
            t = time.perf_counter()
            proposals = writer.propose(ictx)
            seconds += time.perf_counter() - t
            episodes += 1
            verdicts = brand_guard.check_all(proposals, gctx)
            totals["proposals"] += len(proposals)
            for proposal, verdict in zip(proposals, verdicts, strict=True):
                totals["new_text"] += _new_words(proposal, ictx)
                checks = verdict.checks
                totals["twist_payoff_cuts"] += not checks.get("story_cut", True)
                totals["spoilers"] += not checks.get("spoiler", True)
                totals["comment_copies"] += not checks.get("copied_comment", True)
                totals["captions_off_speaker"] += not checks.get("speaker", True)
                totals["refused"] += not verdict.passed
            if _winner(ictx.report):
                totals["winners"] += 1
                totals["promoted"] += any(p.kind == "promote_variant" for p in proposals)
            for note in ictx.notes:
                found = directives(note)
                totals["notes"] += 1
                totals["notes_satisfied"] += bool(found) and all(
                    _note_done(d, ictx, proposals) for d in found
                )
    share = totals["new_text"] / max(totals["proposals"], 1)
    return {
        **totals,
        "new_text_share": round(share, 3),
        "notes_satisfied_share": round(totals["notes_satisfied"] / max(totals["notes"], 1), 3),
        "promote_variant_recall": round(totals["promoted"] / max(totals["winners"], 1), 3),
        "episodes": episodes,
        "ms_per_episode": round(1000 * seconds / max(episodes, 1), 2),
    }


def main() -> None:
    work = Path(__file__).parent / ".data"
    work.mkdir(exist_ok=True)
    rooms = setup(work)
    result = run(rooms)
    width = max(len(k) for k in result)
    for key, value in result.items():
        print(f"{key:<{width}}  {value}")


if __name__ == "__main__":
    main()
