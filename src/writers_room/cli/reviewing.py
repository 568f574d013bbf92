"""``review``, ``draft`` and ``proposals``: a window's report and proposals, the next
episode drafted as a proposal, and one change set."""

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


def draft(
    series: Annotated[str, typer.Option("--series", help="Series id.")],
    as_json: JsonOpt = False,
) -> None:
    """Draft the next episode (brief and script) as a proposal waiting for an approver."""
    from writers_room.writer.draft import propose_next_episode, script_text

    drafted, p = propose_next_episode(settings(), series)
    if as_json:
        emit_json(
            {
                "proposal": {**p, "short_hash": short_hash(p)},
                "episode_id": drafted.episode_id,
                "after": drafted.after,
                "position": drafted.position,
                "brief": drafted.brief,
                "manifest": drafted.manifest,
                "audience": {
                    "source": drafted.audience.source,
                    "window_end": drafted.audience.window_end,
                },
            }
        )
        return
    for line in script_text(drafted.episode_id, drafted.brief, drafted.manifest):
        out.print(escape(line), highlight=False, soft_wrap=True)
    pid, hash_ = p["proposal_id"], short_hash(p)
    out.print(f"\n[bold]{pid}[/] · new_episode · {p['status']} · hash {hash_}", highlight=False)
    if p["status"] != "pending":
        out.print(
            f"This exact draft was {p['status']} by {p['decided_by']}; the room drafts the same "
            "episode until the episodes, the bible or the audience change.",
            highlight=False,
        )
        return
    for line in (
        f"See the change set: [bold]writers-room proposals show {pid}[/]",
        f"Approve it (registers {drafted.episode_id} at brief v1 and renders it): "
        f"[bold]writers-room approve {pid} --as NAME --hash {hash_}[/]",
        f"Or reject it: [bold]writers-room reject {pid} --as NAME --reason TEXT[/]",
    ):
        out.print(line, highlight=False, soft_wrap=True)


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
    if p["kind"] == "new_episode":
        # A whole episode: shown as the script it writes, which is exactly the change set.
        from writers_room.brief.new_episode import blank_episode
        from writers_room.brief.proposals import apply_changes
        from writers_room.writer.draft import script_text

        brief, manifest = apply_changes(
            *blank_episode(p["series_id"], p["episode_id"]), p["changes"]
        )
        for line in script_text(p["episode_id"], brief, manifest):
            console.print(escape(line), highlight=False, soft_wrap=True)
        for choice in p.get("choices", []):
            options = " | ".join(choice["options"])
            console.print(escape(f"{choice['slot']} options: {options}"), highlight=False)
        console.print(f"hash {short_hash(p)}", highlight=False)
        return
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
