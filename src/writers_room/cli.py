"""``writers-room``: the command line of the room.

Exit status: 0 success, 2 bad input or usage, 3 refused by a guardrail, 1 anything else.
Every command that prints results takes ``--json``.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
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
from writers_room.errors import NotBuiltError, RoomError

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


def _not_built(what: str, issue: str) -> None:
    raise NotBuiltError(
        f"`writers-room {what}` is not built yet ({issue}); see the README's 'Not built yet'."
    )


# ---------------------------------------------------------------- series


@series_app.command("add")
def series_add(
    file: Annotated[Path, typer.Argument(help="series.yaml bundle.")],
    as_json: JsonOpt = False,
) -> None:
    """Register a series bundle (idempotent)."""
    from writers_room.memory.series import add_series_file

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
    from writers_room.memory.status import room_status

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
    from writers_room.memory.events import ingest_events as run

    with _progress(show) as bar:
        task = bar.add_task(f"events {file.name}", total=None) if bar else None

        def stage(name: str) -> None:
            if bar is not None and task is not None:
                bar.update(task, description=f"events {file.name}: {name}")

        return run(s, file, progress=stage)


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
    from writers_room.memory.metrics import ingest_metrics as run

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
    from writers_room.memory.comments import ingest_comments as run

    with _progress(show) as bar:
        return run(s, file, progress=_stage_reporter(bar, f"comments {file.name}"))


# ---------------------------------------------------------------- index


@index_app.command("rebuild")
def index_rebuild(as_json: JsonOpt = False) -> None:
    """Recreate the comment index from the SQL comments."""
    from writers_room.memory.index import rebuild_index

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
        )


# ---------------------------------------------------------------- status


@app.command()
def status(
    series: Annotated[str | None, typer.Option("--series", help="Only this series.")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Counts per series: episodes, variants, events, windows, comments, proposals, renders."""
    from writers_room.memory.status import room_status

    rows = room_status(settings(), series)
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
    from writers_room.memory.sample import generate

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
    """Run the room's main job on the bundled sample series."""
    from writers_room.memory.series import add_series_file
    from writers_room.memory.status import episode_summaries

    s = settings()
    show = _interactive(as_json)
    sample_dir = s.home / "sample"
    if not show and not as_json:
        out.print(f"Writing the sample series to {sample_dir} …")
    bundle = _generate_sample(sample_dir, scale=scale, seed=7, show=show)
    series_ids = []
    for path in bundle.series_files:
        series_ids.append(add_series_file(s, path).series_id)
    events = _ingest_events(s, bundle.events, show=show)
    metrics = _ingest_metrics(s, bundle.metrics, show=show)
    comments = _ingest_comments(s, bundle.comments, show=show)
    summaries = {sid: episode_summaries(s, sid) for sid in series_ids}
    if as_json:
        _emit_json(
            {
                "home": str(s.home),
                "events": events.__dict__,
                "metrics": metrics.__dict__,
                "comments": comments.__dict__,
                "episodes": [e.model_dump() for rows in summaries.values() for e in rows],
            }
        )
        return
    out.print(
        f"\n[green]✓[/] ingested {events.rows:,} events ({events.windows} windows), "
        f"{metrics.rows} metric rows, {comments.rows:,} comments "
        f"({comments.redactions:,} PII spans redacted)\n"
    )
    for sid, rows in summaries.items():
        table = Table(
            "episode",
            "title",
            "variants",
            "impressions",
            "CTR",
            "starts",
            "ret@10s",
            "completion",
            "comments",
            title=f"[bold]{sid}[/]",
        )
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
    out.print(
        f"\nEverything is in [bold]{s.home}[/]. Next: the window review, proposals, approval "
        "and render are not built yet (see the README's 'Not built yet')."
    )


# ---------------------------------------------------------------- the rest of the contract


@app.command()
def review(
    series: Annotated[str, typer.Option("--series", help="Series id.")],
    window_end: Annotated[str | None, typer.Option("--window-end", help="ISO time.")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Run the window review for the last closed 24h window."""
    _not_built("review", "issue #3 analyst, #4 window-review graph")


@app.command()
def proposals(
    status_: Annotated[str | None, typer.Option("--status", help="Filter by status.")] = None,
    series: Annotated[str | None, typer.Option("--series", help="Series id.")] = None,
    as_json: JsonOpt = False,
) -> None:
    """List proposals."""
    _not_built("proposals", "issue #4")


@app.command()
def approve(
    proposal_id: Annotated[str, typer.Argument(help="Proposal id.")],
    as_: Annotated[str, typer.Option("--as", help="Who approves.")],
    note: Annotated[str | None, typer.Option("--note", help="A note.")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Approve a proposal (resumes the graph: apply → render)."""
    _not_built("approve", "issue #4")


@app.command()
def reject(
    proposal_id: Annotated[str, typer.Argument(help="Proposal id.")],
    as_: Annotated[str, typer.Option("--as", help="Who rejects.")],
    reason: Annotated[str, typer.Option("--reason", help="Why.")],
    as_json: JsonOpt = False,
) -> None:
    """Reject a proposal."""
    _not_built("reject", "issue #4")


@app.command()
def note(
    text: Annotated[str, typer.Argument(help="The note.")],
    series: Annotated[str, typer.Option("--series", help="Series id.")],
    episode: Annotated[str, typer.Option("--episode", help="Episode id.")],
    as_: Annotated[str, typer.Option("--as", help="Who writes.")],
    as_json: JsonOpt = False,
) -> None:
    """Add fresh human creative input (resets the blind-iteration count)."""
    _not_built("note", "issue #4")


@app.command()
def render(
    series: Annotated[str, typer.Option("--series", help="Series id.")],
    episode: Annotated[str, typer.Option("--episode", help="Episode id.")],
    preview: Annotated[bool, typer.Option("--preview", help="360x640 only, fast.")] = False,
    as_json: JsonOpt = False,
) -> None:
    """Render the current approved brief of an episode."""
    _not_built("render", "issue #6")


@app.command()
def chat() -> None:
    """Talk to the room in the terminal."""
    _not_built("chat", "issue #5")


@app.command()
def serve(
    http: Annotated[bool, typer.Option("--http", help="Serve Slack over HTTP.")] = False,
    port: Annotated[int, typer.Option("--port", help="HTTP port.")] = 3000,
    socket_mode: Annotated[bool, typer.Option("--socket-mode", help="Slack Socket Mode.")] = False,
) -> None:
    """Run the Slack bot and the 24h scheduler."""
    _not_built("serve", "issue #5")


def main() -> None:
    """Console-script entry point."""
    app()
