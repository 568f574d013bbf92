"""``writers-room``: the command line of the room.

Exit status: 0 success, 2 bad input or usage, 3 refused by a guardrail, 1 anything else.
Every command that prints results takes ``--json``.

The commands live in modules by topic (``series_ingest``, ``serving``, ``sample_demo``,
``reviewing`` — with ``draft`` —, ``approval``, ``rendering``; what they share is in
``_common``). They import
the rooms they drive inside their functions, on purpose: importing them all (LangGraph,
DuckDB, Chroma, the analyst) costs seconds, and every command (`--help` and `note`
included) would pay for all of them at start-up.
"""

from __future__ import annotations

from writers_room.cli._common import app
from writers_room.cli.approval import approve, note, reject
from writers_room.cli.rendering import render
from writers_room.cli.reviewing import draft, proposals_app, review
from writers_room.cli.sample_demo import demo, sample
from writers_room.cli.series_ingest import index_app, ingest_app, series_app
from writers_room.cli.serving import chat, serve, status

__all__ = ["app", "main"]

# Mounted here, in the order `writers-room --help` lists them.
for _command in (status, sample, demo, review, draft, approve, reject, note, render, chat, serve):
    app.command()(_command)
for _name, _group in (
    ("series", series_app),
    ("ingest", ingest_app),
    ("index", index_app),
    ("proposals", proposals_app),
):
    app.add_typer(_group, name=_name)


def main() -> None:
    """Console-script entry point."""
    app()
