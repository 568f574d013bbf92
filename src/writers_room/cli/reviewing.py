"""``review`` and ``proposals``: a window's report and proposals, and one change set."""

from __future__ import annotations

from typing import Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from writers_room.cli._common import JsonOpt, emit_json, err, out, parse_time, settings, swept

proposals_app = typer.Typer(
    help="List proposals, or show one with its change set and hash.",
    invoke_without_command=True,
)

SHORT_HASH = 12  # hex characters of the content hash that `proposals show` prints


def print_proposals(rows: list[dict[str, Any]]) -> None:
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

    s = swept()
    outcome = start_review(s, series, window_end=parse_time(window_end, "--window-end"))
    if as_json:
        emit_json(outcome.report)
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
    print_proposals(pending)
    if pending:
        out.print(
            "\nSee a change set and its hash with [bold]writers-room proposals show ID[/]; "
            "decide with [bold]writers-room approve ID --as NAME[/] (add [bold]--hash HASH[/] "
            "when not on a terminal) or [bold]writers-room reject ID --as NAME --reason TEXT[/]."
        )


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
        emit_json(rows)
    else:
        print_proposals(rows)


def short_hash(proposal: dict[str, Any]) -> str:
    return str(proposal["content_hash"])[:SHORT_HASH]


def print_change_set(proposal: dict[str, Any], console: Console) -> None:
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
    console.print(f"hash {short_hash(p)}", highlight=False)


@proposals_app.command("show")
def proposals_show(
    proposal_id: Annotated[str, typer.Argument(help="Proposal id.")],
    as_json: JsonOpt = False,
) -> None:
    """Show one proposal's change set and its short content hash (for `approve --hash`)."""
    from writers_room.store.proposals import get_proposal

    p = get_proposal(settings(), proposal_id)
    if as_json:
        emit_json({**p, "short_hash": short_hash(p)})
        return
    print_change_set(p, out)
    if p["status"] == "pending":
        out.print(
            f"\nApprove exactly this with [bold]writers-room approve {p['proposal_id']} "
            f"--as NAME --hash {short_hash(p)}[/]",
            highlight=False,
        )
