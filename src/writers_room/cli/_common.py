"""What every command shares: the root app, the consoles, the settings and the helpers."""

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
from typer.core import TyperGroup

from writers_room.config import Settings
from writers_room.errors import InputError, RoomError

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


def swept() -> Settings:
    """The settings, after delivering any decision a crash left undelivered."""
    from writers_room.graphs.window_review.sweep import quiet_sweep

    s = settings()
    quiet_sweep(s)
    return s


def emit_json(value: Any) -> None:
    sys.stdout.write(json.dumps(value, indent=2, default=str) + "\n")


def interactive(as_json: bool) -> bool:
    return not as_json and err.is_terminal


@contextmanager
def progress_bar(enabled: bool) -> Iterator[Progress | None]:
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


def stage_reporter(bar: Progress | None, label: str) -> Callable[[str, int, int], None] | None:
    """A (stage, done, total) callback that drives one rich task per stage."""
    if bar is None:
        return None
    tasks: dict[str, Any] = {}

    def report(stage: str, done: int, total: int) -> None:
        if stage not in tasks:
            tasks[stage] = bar.add_task(f"{label}: {stage}", total=total or None)
        bar.update(tasks[stage], completed=done, total=total or None)

    return report


def parse_time(value: str | None, option: str) -> datetime | None:
    if value is None:
        return None
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise InputError(f"{option}: {value!r} is not an ISO 8601 time") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
