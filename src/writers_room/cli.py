"""``writers-room``: the command line of the room.

Exit status: 0 success, 2 bad input or usage, 3 refused by a guardrail, 1 anything else.
Every command that prints results takes ``--json``.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    SpinnerColumn,
    TextColumn,
    TimeElapsedColumn,
)
from rich.table import Table
from typer.core import TyperGroup

from writers_room.config import Settings
from writers_room.errors import InputError, RoomError

# The commands import the rooms they drive inside their functions, on purpose: importing
# them all (LangGraph, DuckDB, Chroma, the analyst) costs seconds, and every command
# (`--help` and `note` included) would pay for all of them at start-up.

# Piped output keeps whole table rows on one line instead of wrapping at 80 columns.
out = Console() if sys.stdout.isatty() else Console(width=160)
err = Console(stderr=True)


class _RoomGroup(TyperGroup):
    """Maps the room's errors to the contract's exit statuses for every command."""

    def invoke(self, ctx: Any) -> Any:
        try:
            return super().invoke(ctx)
        except RoomError as exc:
            err.print("[red]error:[/]", escape(str(exc)), highlight=False, soft_wrap=True)
            raise typer.Exit(exc.exit_code) from None


app = typer.Typer(
    cls=_RoomGroup,
    name="writers-room",
    help="A data-driven writers' room for microdramas.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
series_app = typer.Typer(help="Register and list series.", no_args_is_help=True)
ingest_app = typer.Typer(help="Ingest events, metrics and comments.", no_args_is_help=True)
index_app = typer.Typer(help="Maintain the comment index.", no_args_is_help=True)
app.add_typer(series_app, name="series")
app.add_typer(ingest_app, name="ingest")
app.add_typer(index_app, name="index")


JsonOpt = Annotated[bool, typer.Option("--json", help="Print machine-readable JSON.")]


class _State:
    home: Path | None = None


def settings() -> Settings:
    """Settings from the environment, with ``--home`` on top when given."""
    if _State.home is not None:
        return Settings(home=_State.home)
    return Settings()


@app.callback()
def _root(
    home: Annotated[
        Path | None,
        typer.Option(
            "--home", help="Data folder (overrides WRITERS_ROOM_HOME).", show_default=False
        ),
    ] = None,
) -> None:
    _State.home = home


def _swept() -> Settings:
    """The settings, after delivering any decision a crash left undelivered."""
    from writers_room.graphs.window_review.sweep import quiet_sweep

    s = settings()
    quiet_sweep(s)
    return s


def _emit_json(value: Any) -> None:
    sys.stdout.write(json.dumps(value, indent=2, default=str) + "\n")


def _interactive(as_json: bool) -> bool:
    return not as_json and err.is_terminal


@contextmanager
def _progress(enabled: bool) -> Iterator[Progress | None]:
    if not enabled:
        yield None
        return
    with Progress(
        SpinnerColumn(),
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=err,
        transient=False,
    ) as bar:
        yield bar


def _stage_reporter(bar: Progress | None, label: str) -> Callable[[str, int, int], None] | None:
    """A (stage, done, total) callback that drives one rich task per stage."""
    if bar is None:
        return None
    tasks: dict[str, Any] = {}

    def report(stage: str, done: int, total: int) -> None:
        if stage not in tasks:
            tasks[stage] = bar.add_task(f"{label}: {stage}", total=total or None)
        bar.update(tasks[stage], completed=done, total=total or None)

    return report


# ---------------------------------------------------------------- series


@series_app.command("add")
def series_add(
    file: Annotated[Path, typer.Argument(help="series.yaml bundle.")],
    as_json: JsonOpt = False,
) -> None:
    """Register a series bundle (idempotent)."""
    from writers_room.ingest.series import add_series_file

    result = add_series_file(settings(), file)
    if as_json:
        _emit_json(result.__dict__)
        return
    verb = "registered" if result.created else "updated"
    out.print(
        f"[green]✓[/] series [bold]{result.series_id}[/] {verb}: "
        f"{len(result.episodes_added)} new episode(s), {result.variants_added} new variant(s)"
    )
    for episode_id in result.briefs_differing:
        err.print(
            f"[yellow]![/] {episode_id}: the file's brief differs from the stored one; "
            "brief changes go through proposals and approval, so it was not applied."
        )


@series_app.command("list")
def series_list(as_json: JsonOpt = False) -> None:
    """List registered series."""
    from writers_room.store.status import room_status

    rows = room_status(settings())
    if as_json:
        _emit_json(
            [{"series_id": r.series_id, "title": r.title, "episodes": r.episodes} for r in rows]
        )
        return
    table = Table("series", "title", "episodes")
    for r in rows:
        table.add_row(r.series_id, r.title, str(r.episodes))
    out.print(table)


# ---------------------------------------------------------------- ingest


@ingest_app.command("events")
def ingest_events(
    file: Annotated[Path, typer.Argument(help="CSV/JSONL (optionally .gz) of raw events.")],
    as_json: JsonOpt = False,
) -> None:
    """Ingest raw player/distribution events and aggregate their windows."""
    result = _ingest_events(settings(), file, show=_interactive(as_json))
    if as_json:
        _emit_json(result.__dict__)
    else:
        out.print(
            f"[green]✓[/] {file}: {result.rows:,} events, {result.inserted:,} new, "
            f"{result.windows} window(s) aggregated in {result.duration_s:.1f}s"
        )


def _ingest_events(s: Settings, file: Path, *, show: bool) -> Any:
    from writers_room.ingest.events import ingest_events as run

    with _progress(show) as bar:
        task = bar.add_task(f"events {file.name}", total=None) if bar else None

        def stage(name: str) -> None:
            if bar is not None and task is not None:
                bar.update(task, description=f"events {file.name}: {name}")

        return run(s, file, progress=stage)


@ingest_app.command("rehash-viewers")
def ingest_rehash_viewers(as_json: JsonOpt = False) -> None:
    """Replace raw viewer ids in stored events by keyed hashes (idempotent)."""
    from writers_room.ingest.events import rehash_viewers

    result = rehash_viewers(settings())
    if as_json:
        _emit_json(result.__dict__)
    else:
        out.print(
            f"[green]✓[/] {result.rewritten} of {result.partitions} partition file(s) "
            f"rewritten: {result.raw_ids:,} raw viewer id(s) hashed, {result.rows:,} rows kept"
        )


@ingest_app.command("metrics")
def ingest_metrics(
    file: Annotated[Path, typer.Argument(help="CSV/JSONL (optionally .gz) metrics export.")],
    as_json: JsonOpt = False,
) -> None:
    """Ingest pre-aggregated platform metric rows."""
    result = _ingest_metrics(settings(), file, show=_interactive(as_json))
    if as_json:
        _emit_json(result.__dict__)
    else:
        out.print(
            f"[green]✓[/] {file}: {result.rows} rows, {result.inserted} new, "
            f"{result.updated} updated"
        )


def _ingest_metrics(s: Settings, file: Path, *, show: bool) -> Any:
    from writers_room.ingest.metrics import ingest_metrics as run

    with _progress(show) as bar:
        task = bar.add_task(f"metrics {file.name}", total=None) if bar else None

        def tick(n: int) -> None:
            if bar is not None and task is not None:
                bar.advance(task, n)

        return run(s, file, progress=tick)


@ingest_app.command("comments")
def ingest_comments(
    file: Annotated[Path, typer.Argument(help="CSV/JSONL (optionally .gz) of comments.")],
    as_json: JsonOpt = False,
) -> None:
    """Ingest comments: redact PII, store, embed and index."""
    result = _ingest_comments(settings(), file, show=_interactive(as_json))
    if as_json:
        _emit_json({**result.__dict__, "rate": result.rate})
    else:
        out.print(
            f"[green]✓[/] {file}: {result.rows:,} comments, {result.inserted:,} new, "
            f"{result.redactions:,} PII span(s) redacted, {result.rate:,.0f} comments/s"
        )


def _ingest_comments(s: Settings, file: Path, *, show: bool) -> Any:
    from writers_room.ingest.comments import ingest_comments as run

    with _progress(show) as bar:
        return run(s, file, progress=_stage_reporter(bar, f"comments {file.name}"))


# ---------------------------------------------------------------- index


@index_app.command("rebuild")
def index_rebuild(as_json: JsonOpt = False) -> None:
    """Recreate the comment index from the SQL comments."""
    from writers_room.index.chroma import rebuild_index

    with _progress(_interactive(as_json)) as bar:
        report = _stage_reporter(bar, "index")
        result = rebuild_index(
            settings(), progress=(lambda d, t: report("rebuild", d, t)) if report else None
        )
    if as_json:
        _emit_json(result.__dict__)
    else:
        out.print(
            f"[green]✓[/] index rebuilt: {result.indexed:,} vectors for "
            f"{result.sql_comments:,} stored comments"
            + (f" in {result.shards} shards" if result.shards > 1 else "")
        )


# ---------------------------------------------------------------- status


@app.command()
def status(
    series: Annotated[str | None, typer.Option("--series", help="Only this series.")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Counts per series: episodes, variants, events, windows, comments, proposals, renders."""
    from writers_room.store.status import room_status

    rows = room_status(_swept(), series)
    if as_json:
        _emit_json({"series": [r.model_dump(exclude={"title"}) for r in rows]})
        return
    if not rows:
        out.print("No series registered yet. Try `writers-room demo` or `writers-room series add`.")
        return
    table = Table(
        "series", "episodes", "variants", "events", "windows", "comments", "proposals", "renders"
    )
    for r in rows:
        table.add_row(
            r.series_id,
            str(r.episodes),
            str(r.variants),
            f"{r.events:,}",
            str(r.metric_windows),
            f"{r.comments:,}",
            ", ".join(f"{k} {v}" for k, v in r.proposals.items()) or "—",
            ", ".join(f"{k} {v}" for k, v in r.render_jobs.items()) or "—",
        )
    out.print(table)


# ---------------------------------------------------------------- sample + demo


@app.command()
def sample(
    out_dir: Annotated[Path, typer.Option("--out", help="Folder to write the bundle into.")],
    scale: Annotated[float, typer.Option(help="Multiplies viewers and comments.")] = 1.0,
    seed: Annotated[int, typer.Option(help="Random seed (same seed, same files).")] = 7,
    as_json: JsonOpt = False,
) -> None:
    """Write the bundled sample series (2 series, 16 episodes, events, metrics, comments)."""
    bundle = _generate_sample(out_dir, scale=scale, seed=seed, show=_interactive(as_json))
    if as_json:
        _emit_json({k: str(v) if isinstance(v, Path) else v for k, v in bundle.__dict__.items()})
        return
    out.print(f"[green]✓[/] sample bundle written to {out_dir}")


def _generate_sample(out_dir: Path, *, scale: float, seed: int, show: bool) -> Any:
    from writers_room.sample.simulator import generate

    if scale <= 0:
        raise typer.BadParameter(f"--scale must be > 0, got {scale}")
    with _progress(show) as bar:
        return generate(out_dir, seed=seed, scale=scale, progress=_stage_reporter(bar, "sample"))


@app.command()
def demo(
    yes_as: Annotated[
        str | None,
        typer.Option("--yes-as", help="Approve as this human when not on a terminal."),
    ] = None,
    scale: Annotated[float, typer.Option(help="Sample size multiplier.")] = 1.0,
    as_json: JsonOpt = False,
) -> None:
    """Run the whole loop on the bundled sample series.

    Ingest → window review (report, proposals) → approval (a prompt on a terminal, or
    ``--yes-as NAME``) → apply → render and package; prints where everything is.
    """
    from writers_room.graphs.window_review.run import start_review
    from writers_room.ingest.series import add_series_file
    from writers_room.store.status import episode_summaries

    s = settings()
    show = _interactive(as_json)
    sample_dir = s.home / "sample"
    if not show and not as_json:
        out.print(f"Writing the sample series to {sample_dir} …")
    bundle = _generate_sample(sample_dir, scale=scale, seed=7, show=show)
    series_ids = [add_series_file(s, path).series_id for path in bundle.series_files]
    events = _ingest_events(s, bundle.events, show=show)
    metrics = _ingest_metrics(s, bundle.metrics, show=show)
    comments = _ingest_comments(s, bundle.comments, show=show)
    summaries = {sid: episode_summaries(s, sid) for sid in series_ids}
    if not as_json:
        out.print(
            f"\n[green]✓[/] ingested {events.rows:,} events ({events.windows} windows), "
            f"{metrics.rows} metric rows, {comments.rows:,} comments "
            f"({comments.redactions:,} PII spans redacted)\n"
        )
        for sid, rows in summaries.items():
            _print_summary(sid, rows)
    reviews = {sid: start_review(s, sid) for sid in series_ids}
    if not as_json:
        for review in reviews.values():
            _print_review_brief(s, review)
    decided = _demo_decide(s, reviews, yes_as=yes_as, interactive=show and yes_as is None)
    jobs = _run_renders(s, [r for d in decided for r in d.render_ids], show=show)
    if as_json:
        _emit_json(
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
            }
        )
        return
    _print_demo_end(s, reviews, decided, jobs)


def _print_summary(series_id: str, rows: list[Any]) -> None:
    table = Table(title=f"[bold]{series_id}[/]")
    table.add_column("episode", no_wrap=True)
    table.add_column("title", max_width=28, overflow="ellipsis", no_wrap=True)
    for name in ("variants", "impressions", "CTR", "starts", "ret@10s", "completion", "comments"):
        table.add_column(name, justify="right", no_wrap=True)
    for e in rows:
        table.add_row(
            e.episode_id,
            e.title,
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
    table = Table("episode", "score", "band", "cliff", "findings")
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
            ep["band"],
            where,
            ", ".join(f["kind"] for f in ep.get("findings", [])) or "—",
        )
    out.print(table)
    for episode_id, reason in review.blocked.items():
        out.print(f"[yellow]escalated[/] {episode_id}: {reason}")
    _print_proposals([get_proposal(s, pid) for pid in review.pending])


def _demo_decide(
    s: Settings, reviews: dict[str, Any], *, yes_as: str | None, interactive: bool
) -> list[Any]:
    """Approve the first pending proposal (non-interactive), or ask about each one."""
    from writers_room.graphs.window_review.run import decide_and_resume
    from writers_room.store.proposals import get_proposal

    pending = [pid for review in reviews.values() for pid in review.pending]
    if not pending:
        return []
    decided = []
    if interactive:
        who = typer.prompt("Approve as (your approver id, e.g. U0SHOWRUN1)")
        for pid in pending:
            proposal = get_proposal(s, pid)
            out.print(f"\n[bold]{pid}[/] {proposal['episode_id']} · {proposal['kind']}")
            out.print(proposal["summary"])
            for change in proposal["changes"]:
                out.print(f"  {change['path']}: {change.get('before')!r} → {change['after']!r}")
            out.print(f"hash {_short_hash(proposal)}", highlight=False)
            shown = proposal["content_hash"]
            answer = typer.prompt("approve / reject / skip", default="skip")
            if answer.startswith("a"):
                decided.append(decide_and_resume(s, pid, actor=who, approve=True, shown_hash=shown))
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
    if yes_as:
        shown = get_proposal(s, pending[0])["content_hash"]
        decided.append(
            decide_and_resume(
                s, pending[0], actor=yes_as, approve=True, note="demo", shown_hash=shown
            )
        )
    return decided


def _print_demo_end(
    s: Settings, reviews: dict[str, Any], decided: list[Any], jobs: list[Any]
) -> None:
    for d in decided:
        extra = f", brief version {d.applied_version} written" if d.applied_version else ""
        out.print(f"[green]✓[/] {d.proposal_id} {d.decision}{extra}")
    for job in jobs:
        where = s.home / "renders" / job.series_id / job.episode_id / job.render_id
        out.print(f"[green]✓[/] rendered {job.series_id}/{job.episode_id}: {where}")
        out.print(f"    master {where / 'episode.mp4'} · HLS {where / 'hls' / 'master.m3u8'}")
    waiting = sum(len(r.pending) for r in reviews.values()) - len(decided)
    if waiting > 0:
        out.print(
            f"\n{waiting} proposal(s) wait for a human: [bold]writers-room proposals[/], "
            "[bold]writers-room proposals show ID[/] for the change set and its hash, then "
            "[bold]writers-room approve ID --as U0SHOWRUN1[/] (the sample series' approver; "
            "add [bold]--hash HASH[/] when not on a terminal)."
        )
    out.print(f"\nEverything is in [bold]{s.home}[/] (reports/, renders/, room.db).")


# ---------------------------------------------------------------- the rest of the contract


def _parse_time(value: str | None, option: str) -> datetime | None:
    if value is None:
        return None
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise InputError(f"{option}: {value!r} is not an ISO 8601 time") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _print_proposals(rows: list[dict[str, Any]]) -> None:
    if not rows:
        out.print("No proposals.")
        return
    table = Table("proposal", "episode", "kind", "status", "summary", "decided by")
    for p in rows:
        table.add_row(
            p["proposal_id"],
            p["episode_id"],
            p["kind"],
            p["status"],
            p["summary"],
            p["decided_by"] or "—",
        )
    out.print(table)


@app.command()
def review(
    series: Annotated[str, typer.Option("--series", help="Series id.")],
    window_end: Annotated[
        str | None, typer.Option("--window-end", help="End of the window (ISO 8601).")
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """Review the last closed 24h window: report, proposals, then stop at the approval gate."""
    from writers_room.analyst.window import render_report_text
    from writers_room.brief.report import AnalystReport
    from writers_room.graphs.window_review.run import start_review
    from writers_room.store.proposals import get_proposal

    s = _swept()
    outcome = start_review(s, series, window_end=_parse_time(window_end, "--window-end"))
    if as_json:
        _emit_json(outcome.report)
        return
    if not outcome.created:
        err.print(
            f"[yellow]![/] window ending {outcome.window_end:%Y-%m-%d %H:%M} UTC was already "
            f"reviewed ({outcome.status}); showing where it stands."
        )
    if outcome.report:
        out.print(render_report_text(AnalystReport.model_validate(outcome.report)))
    for episode_id, reason in outcome.blocked.items():
        out.print(f"[yellow]escalated[/] {episode_id}: {reason}")
    for item in outcome.dropped:
        out.print(
            f"[red]dropped[/] a proposal for {item['episode_id']}: " + "; ".join(item["reasons"])
        )
    pending = [get_proposal(s, pid) for pid in outcome.pending]
    _print_proposals(pending)
    if pending:
        out.print(
            "\nSee a change set and its hash with [bold]writers-room proposals show ID[/]; "
            "decide with [bold]writers-room approve ID --as NAME[/] (add [bold]--hash HASH[/] "
            "when not on a terminal) or [bold]writers-room reject ID --as NAME --reason TEXT[/]."
        )


proposals_app = typer.Typer(
    help="List proposals, or show one with its change set and hash.",
    invoke_without_command=True,
)
app.add_typer(proposals_app, name="proposals")


@proposals_app.callback()
def proposals(
    ctx: typer.Context,
    status_: Annotated[
        str | None, typer.Option("--status", help="pending, approved, rejected, applied, dropped.")
    ] = None,
    series: Annotated[str | None, typer.Option("--series", help="Series id.")] = None,
    as_json: JsonOpt = False,
) -> None:
    """List proposals (`proposals show ID` prints one with the hash that `approve` needs)."""
    from writers_room.store.proposals import list_proposals

    if ctx.invoked_subcommand is not None:
        return
    rows = list_proposals(settings(), status=status_, series_id=series)
    if as_json:
        _emit_json(rows)
    else:
        _print_proposals(rows)


SHORT_HASH = 12  # hex characters of the content hash that `proposals show` prints
MIN_HASH_PREFIX = 6


def _short_hash(proposal: dict[str, Any]) -> str:
    return str(proposal["content_hash"])[:SHORT_HASH]


def _print_change_set(proposal: dict[str, Any], console: Console) -> None:
    """What a human approves: summary and field-level diff, with the short content hash."""
    p = proposal
    console.print(
        f"[bold]{p['proposal_id']}[/] {escape(p['series_id'])}/{escape(p['episode_id'])} · "
        f"{escape(p['kind'])} · {p['status']} · on brief v{p['base_version']}",
        highlight=False,
    )
    console.print(escape(p["summary"]), highlight=False)
    for change in p["changes"]:
        console.print(
            f"  {escape(str(change['path']))}: {escape(repr(change.get('before')))} → "
            f"{escape(repr(change.get('after')))}",
            highlight=False,
        )
    console.print(f"hash {_short_hash(p)}", highlight=False)


@proposals_app.command("show")
def proposals_show(
    proposal_id: Annotated[str, typer.Argument(help="Proposal id.")],
    as_json: JsonOpt = False,
) -> None:
    """Show one proposal's change set and its short content hash (for `approve --hash`)."""
    from writers_room.store.proposals import get_proposal

    p = get_proposal(settings(), proposal_id)
    if as_json:
        _emit_json({**p, "short_hash": _short_hash(p)})
        return
    _print_change_set(p, out)
    if p["status"] == "pending":
        out.print(
            f"\nApprove exactly this with [bold]writers-room approve {p['proposal_id']} "
            f"--as NAME --hash {_short_hash(p)}[/]",
            highlight=False,
        )


def _stdin_is_terminal() -> bool:
    return sys.stdin.isatty()


def _bound_hash(s: Settings, proposal_id: str, prefix: str | None, who: str) -> str:
    """The full content hash the approver saw: from ``--hash`` or confirmed on a terminal.

    Raises:
        InputError: no ``--hash`` off a terminal, or a malformed prefix (exit 2).
        GuardrailRefusal: the prefix does not match the proposal's current content (exit 3).
        typer.Exit(1): the person declined at the prompt.
    """
    from writers_room.errors import GuardrailRefusal
    from writers_room.store.proposals import get_proposal

    p = get_proposal(s, proposal_id)  # an unknown id is exit 2 whatever else is wrong
    if prefix is not None:
        clean = prefix.strip().lower()
        if len(clean) < MIN_HASH_PREFIX or any(c not in "0123456789abcdef" for c in clean):
            raise InputError(
                f"--hash: {prefix!r} is not a hash prefix; give at least {MIN_HASH_PREFIX} hex "
                f"characters of the hash `writers-room proposals show {proposal_id}` prints",
                field="--hash",
                value=prefix,
            )
        if not p["content_hash"].startswith(clean):
            raise GuardrailRefusal(
                f"--hash {clean} does not match proposal {proposal_id} as it is now "
                f"(hash {_short_hash(p)}): it changed, or the hash is from another proposal; "
                f"nothing was decided — check `writers-room proposals show {proposal_id}`"
            )
        return str(p["content_hash"])
    if not _stdin_is_terminal():
        raise InputError(
            f"approve needs --hash when not on a terminal: run `writers-room proposals show "
            f"{proposal_id}`, check the change set, and pass the hash it prints "
            f"(`writers-room approve {proposal_id} --as {who or 'NAME'} --hash HASH`)",
            field="--hash",
        )
    _print_change_set(p, err)
    try:
        answer = err.input(escape(f"Approve exactly this change set as {who}? [y/N] "))
    except EOFError:
        answer = ""
    if answer.strip().lower() not in ("y", "yes"):
        err.print("Not approved; nothing was recorded.")
        raise typer.Exit(1)
    return str(p["content_hash"])


def _run_renders(s: Settings, render_ids: list[str], *, show: bool) -> list[Any]:
    from writers_room.jobs.render import get_render_job, run_render

    jobs = []
    for render_id in render_ids:
        job = get_render_job(s, render_id)
        if job is not None and job.status == "queued":
            with _progress(show) as bar:
                job = run_render(s, render_id, progress=_stage_reporter(bar, "render"))
        jobs.append(job)
    return jobs


def _decision_report(s: Settings, result: Any, jobs: list[Any], as_json: bool) -> None:
    from writers_room.store.proposals import get_proposal

    if as_json:
        _emit_json(
            {
                "proposal": get_proposal(s, result.proposal_id),
                "decision": result.decision,
                "applied_version": result.applied_version,
                "render_refused": result.render_refused,
                "renders": [
                    {"render_id": j.render_id, "status": j.status, "artifacts": j.artifacts}
                    for j in jobs
                ],
            }
        )
        return
    out.print(f"[green]✓[/] {result.proposal_id} {result.decision}")
    if result.applied_version:
        out.print(f"  brief version {result.applied_version} written")
    if result.render_refused:
        out.print(f"  [yellow]![/] no render queued: {escape(result.render_refused)}")
    for job in jobs:
        where = s.home / "renders" / job.series_id / job.episode_id / job.render_id
        if job.status == "done":
            out.print(f"  render {job.render_id} done: {where}")
        else:
            out.print(f"  render {job.render_id} {job.status}: {job.error or ''}")


@app.command()
def approve(
    proposal_id: Annotated[str, typer.Argument(help="Proposal id.")],
    as_: Annotated[str, typer.Option("--as", help="Who approves (must be an approver).")],
    hash_: Annotated[
        str | None,
        typer.Option(
            "--hash",
            help="The hash `proposals show ID` prints (at least 6 hex characters); needed "
            "when not on a terminal, where the change set is shown and confirmed instead.",
            show_default=False,
        ),
    ] = None,
    note: Annotated[str, typer.Option("--note", help="A note for the record.")] = "",
    no_render: Annotated[
        bool, typer.Option("--no-render", help="Queue the render but do not run it now.")
    ] = False,
    as_json: JsonOpt = False,
) -> None:
    """Approve exactly the change set you saw: resumes the review (apply → render)."""
    from writers_room.graphs.window_review.run import decide_and_resume

    s = _swept()
    shown = _bound_hash(s, proposal_id, hash_, as_)
    result = decide_and_resume(s, proposal_id, actor=as_, approve=True, note=note, shown_hash=shown)
    jobs = [] if no_render else _run_renders(s, result.render_ids, show=_interactive(as_json))
    _decision_report(s, result, jobs, as_json)


@app.command()
def reject(
    proposal_id: Annotated[str, typer.Argument(help="Proposal id.")],
    as_: Annotated[str, typer.Option("--as", help="Who rejects (must be an approver).")],
    reason: Annotated[
        str, typer.Option("--reason", help="Why (required; the ideator learns from it).")
    ],
    as_json: JsonOpt = False,
) -> None:
    """Reject a proposal, saying why."""
    from writers_room.graphs.window_review.run import decide_and_resume

    s = settings()
    if not reason.strip():
        raise InputError("--reason: a rejection needs a reason", field="--reason", value=reason)
    result = decide_and_resume(s, proposal_id, actor=as_, approve=False, note=reason.strip())
    _decision_report(s, result, [], as_json)


@app.command()
def note(
    text: Annotated[str, typer.Argument(help="The note.")],
    series: Annotated[str, typer.Option("--series", help="Series id.")],
    episode: Annotated[str, typer.Option("--episode", help="Episode id.")],
    as_: Annotated[str, typer.Option("--as", help="Who writes.")],
    as_json: JsonOpt = False,
) -> None:
    """Add fresh human creative input (resets the blind-iteration count)."""
    from writers_room.guardrails.approval import add_note

    row = add_note(settings(), series_id=series, episode_id=episode, author=as_, text=text)
    if as_json:
        _emit_json(row.model_dump(mode="json"))
    else:
        out.print(f"[green]✓[/] note saved for {series}/{episode}; blind-iteration count reset")


@app.command()
def render(
    series: Annotated[str, typer.Option("--series", help="Series id.")],
    episode: Annotated[str, typer.Option("--episode", help="Episode id.")],
    preview: Annotated[bool, typer.Option("--preview", help="360x640 only, fast.")] = False,
    as_json: JsonOpt = False,
) -> None:
    """Render the episode's current (approved) brief version."""
    from writers_room.ingest.series import current_brief
    from writers_room.jobs.render import queue_render
    from writers_room.store.db import session_scope

    s = settings()
    with session_scope(s) as session:
        brief = current_brief(session, series, episode)
        if brief is None:
            raise InputError(f"series {series!r} has no episode {episode!r}")
        version = brief.version
    kind = "preview" if preview else "full"
    job = queue_render(
        s,
        series,
        episode,
        version,
        preview=preview,
        idempotency_key=f"manual:{series}:{episode}:v{version}:{kind}",
    )
    (job,) = _run_renders(s, [job.render_id], show=_interactive(as_json))
    if as_json:
        _emit_json({"render_id": job.render_id, "status": job.status, "artifacts": job.artifacts})
        return
    where = s.home / "renders" / series / episode / job.render_id
    if job.status == "done":
        out.print(f"[green]✓[/] {series}/{episode} v{version} ({kind}) rendered: {where}")
    else:
        raise RoomError(f"render {job.render_id} {job.status}: {job.error}")


@app.command()
def chat(
    as_: Annotated[
        str | None, typer.Option("--as", help="Who you are (default: your login name).")
    ] = None,
) -> None:
    """Talk to the room in the terminal (the same conversation as in Slack)."""
    from writers_room.bots.terminal import run_chat

    raise typer.Exit(run_chat(settings(), user=as_))


@app.command()
def serve(
    http: Annotated[bool, typer.Option("--http", help="Serve Slack over HTTP (default).")] = False,
    port: Annotated[int, typer.Option("--port", help="HTTP port.")] = 3000,
    socket_mode: Annotated[
        bool, typer.Option("--socket-mode", help="Connect with Slack Socket Mode instead.")
    ] = False,
) -> None:
    """Run the Slack app and the 24h scheduler (reviews, re-posts, renders)."""
    from writers_room.bots.serve import serve as run_serve

    if http and socket_mode:
        raise InputError("choose one of --http and --socket-mode")
    run_serve(settings(), http=not socket_mode, port=port, socket_mode=socket_mode)


def main() -> None:
    """Console-script entry point."""
    app()
