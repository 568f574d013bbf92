"""``status``, ``chat`` and ``serve``: where the room stands, and its conversations."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from writers_room.cli._common import JsonOpt, emit_json, out, settings, swept
from writers_room.errors import InputError


def status(
    series: Annotated[str | None, typer.Option("--series", help="Only this series.")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Counts per series: episodes, variants, events, windows, comments, proposals, renders."""
    from writers_room.store.status import room_status

    rows = room_status(swept(), series)
    if as_json:
        emit_json({"series": [r.model_dump(exclude={"title"}) for r in rows]})
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
            f"{r.metric_windows} ({r.window_label})" if r.window_label else str(r.metric_windows),
            f"{r.comments:,}",
            ", ".join(f"{k} {v}" for k, v in r.proposals.items()) or "—",
            ", ".join(f"{k} {v}" for k, v in r.render_jobs.items()) or "—",
        )
    out.print(table)


def chat(
    as_: Annotated[
        str | None, typer.Option("--as", help="Who you are (default: your login name).")
    ] = None,
) -> None:
    """Talk to the room in the terminal (the same conversation as in Slack)."""
    from writers_room.bots.terminal import run_chat

    raise typer.Exit(run_chat(settings(), user=as_))


def serve(
    http: Annotated[bool, typer.Option("--http", help="Serve Slack over HTTP (default).")] = False,
    port: Annotated[int, typer.Option("--port", help="HTTP port.")] = 3000,
    socket_mode: Annotated[
        bool, typer.Option("--socket-mode", help="Connect with Slack Socket Mode instead.")
    ] = False,
    pages_port: Annotated[
        int | None,
        typer.Option(
            "--pages-port",
            help="Port of the review pages (default WRITERS_ROOM_PAGES_PORT, 3001; 0 = none).",
            min=0,
            max=65535,
        ),
    ] = None,
) -> None:
    """Run the Slack app, the 24h scheduler (reviews, re-posts, renders) and the pages."""
    from writers_room.bots.serve import serve as run_serve

    if http and socket_mode:
        raise InputError("choose one of --http and --socket-mode")
    room = settings()
    if pages_port is not None:
        # The links the room posts point at this port unless WRITERS_ROOM_PUBLIC_URL says.
        room = room.model_copy(update={"pages_port": pages_port})
    run_serve(room, http=not socket_mode, port=port, socket_mode=socket_mode)
