"""``series``, ``ingest`` and ``index``: register series and take files in."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from writers_room.cli._common import (
    JsonOpt,
    emit_json,
    err,
    interactive,
    out,
    progress_bar,
    settings,
    stage_reporter,
)
from writers_room.config import Settings

series_app = typer.Typer(help="Register and list series.", no_args_is_help=True)
ingest_app = typer.Typer(help="Ingest events, metrics and comments.", no_args_is_help=True)
index_app = typer.Typer(help="Maintain the comment index.", no_args_is_help=True)


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
        emit_json(result.__dict__)
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
        emit_json(
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
    result = ingest_events_file(settings(), file, show=interactive(as_json))
    if as_json:
        emit_json(result.__dict__)
    else:
        out.print(
            f"[green]✓[/] {file}: {result.rows:,} events, {result.inserted:,} new, "
            f"{result.windows} window(s) aggregated in {result.duration_s:.1f}s"
        )


def ingest_events_file(s: Settings, file: Path, *, show: bool) -> Any:
    from writers_room.ingest.events import ingest_events as run

    with progress_bar(show) as bar:
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
        emit_json(result.__dict__)
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
    result = ingest_metrics_file(settings(), file, show=interactive(as_json))
    if as_json:
        emit_json(result.__dict__)
    else:
        out.print(
            f"[green]✓[/] {file}: {result.rows} rows, {result.inserted} new, "
            f"{result.updated} updated"
        )


def ingest_metrics_file(s: Settings, file: Path, *, show: bool) -> Any:
    from writers_room.ingest.metrics import ingest_metrics as run

    with progress_bar(show) as bar:
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
    result = ingest_comments_file(settings(), file, show=interactive(as_json))
    if as_json:
        emit_json({**result.__dict__, "rate": result.rate})
    else:
        out.print(
            f"[green]✓[/] {file}: {result.rows:,} comments, {result.inserted:,} new, "
            f"{result.redactions:,} PII span(s) redacted, {result.rate:,.0f} comments/s"
        )


def ingest_comments_file(s: Settings, file: Path, *, show: bool) -> Any:
    from writers_room.ingest.comments import ingest_comments as run

    with progress_bar(show) as bar:
        return run(s, file, progress=stage_reporter(bar, f"comments {file.name}"))


# ---------------------------------------------------------------- index


@index_app.command("rebuild")
def index_rebuild(as_json: JsonOpt = False) -> None:
    """Recreate the comment index from the SQL comments."""
    from writers_room.index.chroma import rebuild_index

    with progress_bar(interactive(as_json)) as bar:
        report = stage_reporter(bar, "index")
        result = rebuild_index(
            settings(), progress=(lambda d, t: report("rebuild", d, t)) if report else None
        )
    if as_json:
        emit_json(result.__dict__)
    else:
        out.print(
            f"[green]✓[/] index rebuilt: {result.indexed:,} vectors for "
            f"{result.sql_comments:,} stored comments"
            + (f" in {result.shards} shards" if result.shards > 1 else "")
        )
