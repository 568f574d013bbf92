"""``link``: signed links to the review pages that ``serve`` serves."""

from __future__ import annotations

from typing import Annotated

import typer

from writers_room.cli._common import JsonOpt, emit_json, out, parse_time, settings
from writers_room.errors import InputError

link_app = typer.Typer(
    help="Print a signed, expiring link to a review page (served by `writers-room serve`).",
    no_args_is_help=True,
)

TtlOpt = Annotated[
    int | None,
    typer.Option(
        "--ttl", help="Seconds the link stays valid (default WRITERS_ROOM_LINK_TTL).", min=60
    ),
]


def _emit(url: str, as_json: bool) -> None:
    if as_json:
        query = dict(part.split("=", 1) for part in url.split("?", 1)[1].split("#")[0].split("&"))
        emit_json({"url": url, "expires": int(query["exp"])})
    else:
        out.print(url, soft_wrap=True, highlight=False)


@link_app.command("report")
def link_report(
    series: Annotated[str, typer.Argument(help="Series id.")],
    window_end: Annotated[str, typer.Argument(help="End of the window, ISO 8601 (…Z).")],
    ttl: TtlOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """The analyst's report of one window."""
    from writers_room.web.links import report_url

    end = parse_time(window_end, "WINDOW_END")
    assert end is not None
    _emit(report_url(settings(), series, end, ttl), as_json)


@link_app.command("proposals")
def link_proposals(
    series: Annotated[str, typer.Argument(help="Series id.")],
    window_end: Annotated[str, typer.Argument(help="End of the reviewed window, ISO 8601.")],
    ttl: TtlOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """A review's proposals, each change before and after."""
    from writers_room.web.links import proposals_url

    end = parse_time(window_end, "WINDOW_END")
    assert end is not None
    _emit(proposals_url(settings(), series, end, ttl), as_json)


@link_app.command("proposal")
def link_proposal(
    proposal_id: Annotated[str, typer.Argument(help="Proposal id (p-…).")],
    ttl: TtlOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """One proposal, on its review's page."""
    from writers_room.store.proposals import get_proposal
    from writers_room.web.links import proposals_url

    room = settings()
    view = get_proposal(room, proposal_id)
    if not view["window_end"]:
        raise InputError(f"proposal {proposal_id} belongs to no review window")
    url = proposals_url(room, view["series_id"], view["window_end"], ttl, proposal_id=proposal_id)
    _emit(url, as_json)


@link_app.command("render")
def link_render(
    render_id: Annotated[str, typer.Argument(help="Render id (see `writers-room status`).")],
    ttl: TtlOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """A render's preview: its HLS ladder, each rendition playable."""
    from writers_room.jobs.render import get_render_job
    from writers_room.web.links import render_url

    room = settings()
    job = get_render_job(room, render_id)
    if job is None:
        raise InputError(f"no render {render_id!r}")
    _emit(render_url(room, job.series_id, job.episode_id, job.render_id, ttl), as_json)
