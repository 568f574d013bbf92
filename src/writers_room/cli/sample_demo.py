"""``sample`` and ``demo``: the bundled sample series, and the whole loop run on it."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from writers_room.brief.report import BAND_WORDS, FINDING_WORDS
from writers_room.cli._common import (
    JsonOpt,
    emit_json,
    interactive,
    out,
    progress_bar,
    settings,
    stage_reporter,
)
from writers_room.cli.follow_up import follow_up, print_follow_up
from writers_room.cli.rendering import run_renders
from writers_room.cli.reviewing import print_change_set, print_proposals, print_waiting
from writers_room.cli.series_ingest import (
    ingest_comments_file,
    ingest_events_file,
    ingest_metrics_file,
)
from writers_room.config import Settings


def sample(
    out_dir: Annotated[Path, typer.Option("--out", help="Folder to write the bundle into.")],
    scale: Annotated[float, typer.Option(help="Multiplies viewers and comments.")] = 1.0,
    seed: Annotated[int, typer.Option(help="Random seed (same seed, same files).")] = 7,
    as_json: JsonOpt = False,
) -> None:
    """Write the bundled sample series (2 series, 16 episodes, events, metrics, comments)."""
    bundle = _generate_sample(out_dir, scale=scale, seed=seed, show=interactive(as_json))
    if as_json:
        emit_json({k: str(v) if isinstance(v, Path) else v for k, v in bundle.__dict__.items()})
        return
    out.print(f"[green]✓[/] sample bundle written to {out_dir}")


def _generate_sample(out_dir: Path, *, scale: float, seed: int, show: bool) -> Any:
    from writers_room.sample import generate

    if scale <= 0:
        raise typer.BadParameter(f"--scale must be > 0, got {scale}")
    with progress_bar(show) as bar:
        return generate(out_dir, seed=seed, scale=scale, progress=stage_reporter(bar, "sample"))


def demo(
    yes_as: Annotated[
        str | None,
        typer.Option("--yes-as", help="Approve as this human when not on a terminal."),
    ] = None,
    scale: Annotated[float, typer.Option(help="Sample size multiplier.")] = 1.0,
    as_json: JsonOpt = False,
) -> None:
    """Run the whole loop on the bundled sample series.

    Ingest → window review (report, proposals) → approval (a prompt on a terminal;
    ``--yes-as NAME``, or off a terminal the sample series' own approver, U0SHOWRUN1,
    saying so) → apply → render and package → publish → the next window's review, which
    reports whether the change worked; prints where everything is.
    """
    from writers_room.graphs.window_review.run import start_review
    from writers_room.ingest.series import add_series_file
    from writers_room.sample.notes import SAMPLE_AUTHOR, SAMPLE_NOTES, add_sample_notes
    from writers_room.store.status import episode_summaries

    s = settings()
    show = interactive(as_json)
    sample_dir = s.home / "sample"
    if not show and not as_json:
        out.print(f"Writing the sample series to {sample_dir} …")
    bundle = _generate_sample(sample_dir, scale=scale, seed=7, show=show)
    series_ids = [add_series_file(s, path).series_id for path in bundle.series_files]
    events = ingest_events_file(s, bundle.events, show=show)
    metrics = ingest_metrics_file(s, bundle.metrics, show=show)
    comments = ingest_comments_file(s, bundle.comments, show=show)
    summaries = {sid: episode_summaries(s, sid) for sid in series_ids}
    if not as_json:
        out.print(
            f"\n[green]✓[/] ingested {events.rows:,} events ({events.windows} windows), "
            f"{metrics.rows} metric rows, {comments.rows:,} comments "
            f"({comments.redactions:,} PII spans redacted)\n"
        )
        for sid, rows in summaries.items():
            _print_summary(sid, rows)
    if add_sample_notes(s, series_ids) and not as_json:
        out.print(f"Writers' notes from the sample's showrunner ({SAMPLE_AUTHOR}):")
        for sid, eid, text in SAMPLE_NOTES:
            out.print(f"  {sid} {eid}: “{text}”")
        out.print()
    reviews = {sid: start_review(s, sid) for sid in series_ids}
    if not as_json:
        for review in reviews.values():
            _print_review_brief(s, review)
    decided = _demo_decide(
        s,
        reviews,
        yes_as=yes_as,
        interactive=show and yes_as is None,
        as_sample_approver=not show and not as_json,
    )
    jobs = run_renders(s, [r for d in decided for r in d.render_ids], show=show)
    followed = follow_up(s, reviews, jobs, show=show)
    if as_json:
        emit_json(
            {
                "home": str(s.home),
                "events": events.__dict__,
                "metrics": metrics.__dict__,
                "comments": comments.__dict__,
                "episodes": [e.model_dump() for rows in summaries.values() for e in rows],
                "reviews": {
                    sid: {
                        "window_end": r.window_end.isoformat(),
                        "status": r.status,
                        "pending": r.pending,
                        "blocked": r.blocked,
                    }
                    for sid, r in reviews.items()
                },
                "decisions": [
                    {
                        "proposal_id": d.proposal_id,
                        "decision": d.decision,
                        "applied_version": d.applied_version,
                    }
                    for d in decided
                ],
                "renders": [
                    {"render_id": j.render_id, "status": j.status, "artifacts": j.artifacts}
                    for j in jobs
                ],
                "follow_up": followed,
            }
        )
        return
    _print_demo_end(s, reviews, decided, jobs)
    print_follow_up(followed)


def _print_summary(series_id: str, rows: list[Any]) -> None:
    # These are totals over every ingested window, not the review's last 24 hours: the
    # window column says which, so the two tables' figures are never read as one.
    table = Table(title=f"[bold]{series_id}[/] · every ingested window")
    table.add_column("episode", no_wrap=True)
    table.add_column("title", max_width=28, overflow="ellipsis", no_wrap=True)
    table.add_column("window", no_wrap=True)
    for name in ("variants", "impressions", "CTR", "starts", "ret@10s", "completion", "comments"):
        table.add_column(name, justify="right", no_wrap=True)
    for e in rows:
        table.add_row(
            e.episode_id,
            e.title,
            e.window_label,
            str(e.variants),
            f"{e.impressions:,}",
            f"{e.ctr:.1%}",
            f"{e.views:,}",
            f"{e.retention_10s:.0%}",
            f"{e.completion:.0%}",
            f"{e.comments:,}",
        )
    out.print(table)


def _print_review_brief(s: Settings, review: Any) -> None:
    from writers_room.store.proposals import get_proposal

    report = review.report
    out.print(
        f"\n[bold]{review.series_id}[/] window ending {review.window_end:%Y-%m-%d %H:%M} UTC "
        f"— report in {s.home / 'reports' / review.series_id}"
    )
    window = report.get("window_label") or f"24 h to {review.window_end:%Y-%m-%d %H:%M} UTC"
    table = Table("episode", "score", "next step", f"ret@10s ({window})", "cliff", "findings")
    for ep in report.get("episodes", []):
        cliff = ep.get("cliff") or {}
        where = (
            f"{cliff.get('second')}s ({cliff.get('shot_id')}) −{cliff.get('drop_pct', 0):.0f} pts"
            if cliff.get("second") is not None
            else "—"
        )
        table.add_row(
            ep["episode_id"],
            f"{ep['score']:.1f}",
            BAND_WORDS.get(ep["band"], ep["band"]),
            f"{ep['metrics']['retention_10s']:.0%}",
            where,
            "; ".join(FINDING_WORDS.get(f["kind"], f["kind"]) for f in ep.get("findings", []))
            or "—",
        )
    out.print(table)
    for episode_id, reason in review.blocked.items():
        out.print(f"[yellow]escalated[/] {episode_id}: {reason}")
    print_waiting(review.waiting)
    print_proposals([get_proposal(s, pid) for pid in review.pending])


def _demo_decide(
    s: Settings,
    reviews: dict[str, Any],
    *,
    yes_as: str | None,
    interactive: bool,
    as_sample_approver: bool = False,
) -> list[Any]:
    """Ask about each pending proposal (on a terminal), or approve one as ``yes_as`` — the
    one on the episode most viewers start, whose outcome the next window can measure — off
    a terminal (``as_sample_approver``) as the series' own approver, saying so; ``--json``
    without ``--yes-as`` decides nothing."""
    from writers_room.graphs.window_review.run import decide_and_resume
    from writers_room.store.proposals import get_proposal

    pending = [pid for review in reviews.values() for pid in review.pending]
    if not pending:
        return []
    if not interactive:
        # Approve where the outcome can be measured soonest: the episode most viewers start.
        starts = {
            (str(report.get("series_id")), e["episode_id"]): e["metrics"].get("starts", 0)
            for r in reviews.values()
            if (report := getattr(r, "report", None) or {})
            for e in report.get("episodes", [])
        }

        def traffic(pid: str) -> int:
            p = get_proposal(s, pid)
            return -int(starts.get((str(p.get("series_id")), str(p.get("episode_id"))), 0))

        if starts:
            pending.sort(key=traffic)
    decided = []
    if interactive:
        who = typer.prompt("Approve as (your approver id, e.g. U0SHOWRUN1)")
        for pid in pending:
            proposal = get_proposal(s, pid)
            out.print()
            print_change_set(proposal, out)
            shown = proposal["content_hash"]
            answer = typer.prompt("approve / reject / skip", default="skip")
            if answer.startswith("a"):
                chosen = _ask_choices(proposal)
                decided.append(
                    decide_and_resume(
                        s, pid, actor=who, approve=True, shown_hash=shown, chosen=chosen
                    )
                )
            elif answer.startswith("r"):
                reason = ""
                while not reason.strip():
                    reason = typer.prompt("reason (required)")
                decided.append(
                    decide_and_resume(
                        s, pid, actor=who, approve=False, note=reason.strip(), shown_hash=shown
                    )
                )
        return decided
    if yes_as is None and as_sample_approver:
        # No terminal to ask on: the sample series' own approver decides, and says so.
        yes_as = _sample_approver(s, pending[0])
        if yes_as is None:
            return decided
        out.print(
            f"\nNo terminal to ask on: approving {pending[0]} as {yes_as}, the sample "
            "series' approver (pass --yes-as NAME to approve as someone else)."
        )
    if yes_as:
        shown = get_proposal(s, pending[0])["content_hash"]
        decided.append(
            decide_and_resume(
                s, pending[0], actor=yes_as, approve=True, note="demo", shown_hash=shown
            )
        )
    return decided


def _ask_choices(proposal: dict[str, Any]) -> list[int | None] | None:
    """On a terminal: which written alternative of each choice (the first by default)."""
    choices = proposal.get("choices") or []
    if not choices:
        return None
    picks: list[int | None] = []
    for choice in choices:
        count = len(choice["options"])
        pick = 1
        if count > 1:
            pick = typer.prompt(
                f"{choice['slot']}: which option (1-{count})",
                default=1,
                type=click_range(count),
            )
        picks.append(pick - 1)
    return picks


def click_range(count: int) -> Any:
    import click

    return click.IntRange(1, count)


def _sample_approver(s: Settings, proposal_id: str) -> str | None:
    """The first approver the proposal's series names (the sample's is U0SHOWRUN1)."""
    from writers_room.store.db import session_scope
    from writers_room.store.models import Proposal, Series

    with session_scope(s) as session:
        proposal = session.get(Proposal, proposal_id)
        series = session.get(Series, proposal.series_id) if proposal is not None else None
        approvers = list(series.approvers) if series is not None else []
    return approvers[0] if approvers else None


def _review_link(s: Settings, job: Any) -> str:
    """A signed link to the render's preview page (served by `writers-room serve`)."""
    from writers_room.web.links import render_url

    return render_url(s, job.series_id, job.episode_id, job.render_id)


def _print_demo_end(
    s: Settings, reviews: dict[str, Any], decided: list[Any], jobs: list[Any]
) -> None:
    for d in decided:
        extra = f", brief version {d.applied_version} written" if d.applied_version else ""
        out.print(f"[green]✓[/] {d.proposal_id} {d.decision}{extra}")
    for job in jobs:
        where = (s.home / "renders" / job.series_id / job.episode_id / job.render_id).resolve()
        if job.status != "done":
            out.print(f"[red]✗[/] render {job.render_id} {job.status}: {job.error}")
            continue
        out.print(f"[green]✓[/] rendered {job.series_id}/{job.episode_id}: {where}")
        out.print(f"    HLS {where / 'hls' / 'master.m3u8'}", highlight=False)
        out.print("\nWatch the animatic (voices, subtitles, storyboard):")
        out.print(f"    {where / 'episode.mp4'}", soft_wrap=True, highlight=False)
        link = _review_link(s, job)
        if link:
            out.print(f"    review page: {link}", soft_wrap=True, highlight=False)
    waiting = sum(len(r.pending) for r in reviews.values()) - len(decided)
    if waiting > 0:
        out.print(
            f"\n{waiting} proposal(s) wait for a human: [bold]writers-room proposals[/], "
            "[bold]writers-room proposals show ID[/] for the change set and its hash, then "
            "[bold]writers-room approve ID --as U0SHOWRUN1[/] (the sample series' approver; "
            "add [bold]--hash HASH[/] when not on a terminal)."
        )
    out.print(f"\nEverything is in [bold]{s.home}[/] (reports/, renders/, room.db).")
