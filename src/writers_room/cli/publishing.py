"""``publish``: tie a render to the distribution variant whose events follow it."""

from __future__ import annotations

from typing import Annotated

import typer

from writers_room.cli._common import JsonOpt, emit_json, out, parse_time, settings


def publish(
    render_id: Annotated[str, typer.Argument(help="The render that went live.")],
    variant: Annotated[str, typer.Option("--variant", help="The variant id it is live as.")],
    as_: Annotated[
        str | None,
        typer.Option("--as", help="Who published it; default the login name (cli:NAME)."),
    ] = None,
    at: Annotated[
        str | None,
        typer.Option("--at", help="When it went live (ISO 8601, UTC if no zone); default now."),
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """Record that a render is live as a variant: the next reviews read its outcome."""
    from writers_room.jobs.publish import publish_render

    row, new = publish_render(
        settings(),
        render_id,
        variant_id=variant,
        published_by=as_ or f"cli:{_login()}",
        at=parse_time(at, "--at"),
    )
    if as_json:
        emit_json({**row.model_dump(mode="json"), "new": new})
        return
    what = f"proposal {row.proposal_id}" if row.proposal_id else "no proposal"
    verb = "published" if new else "already published"
    out.print(
        f"[green]✓[/] {row.render_id} {verb} as {row.series_id}/{row.episode_id}/"
        f"{row.variant_id} from {row.published_at.isoformat()} "
        f"(brief v{row.brief_version}, {what})"
    )


def _login() -> str:
    """The login name of whoever runs the command (``unknown`` where there is none)."""
    import getpass

    try:
        return getpass.getuser()
    except (OSError, KeyError):
        return "unknown"
