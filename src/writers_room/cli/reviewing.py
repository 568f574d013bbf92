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
    """One line per proposal, with the number it targets (`proposals show ID` for the rest)."""
    if not rows:
        out.print("No proposals.")
        return
    table = Table(box=None, pad_edge=False)
    for name in ("proposal", "episode", "kind", "status", "decided by"):
        table.add_column(name, no_wrap=True)
    table.add_column("targets", no_wrap=True, overflow="ellipsis", ratio=1)
    for p in rows:
        table.add_row(
            p["proposal_id"],
            f"{p['series_id']}/{p['episode_id']}",
            p["kind"],
            p["status"],
            p["decided_by"] or "—",
            escape(p.get("evidence", {}).get("target") or p["summary"]),
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
    print_waiting(outcome.waiting)
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
    who: Annotated[
        str | None,
        typer.Option("--as", help="Who asks for the draft (recorded in the audit log)."),
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """Draft the next episode (brief and script) as a proposal waiting for an approver."""
    from writers_room.writer.draft import propose_next_episode, script_text

    drafted, p = propose_next_episode(settings(), series, requested_by=who)
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


def plain_markers(console: Console) -> bool:
    """Whether cut and new words need ``[-…-]``/``{+…+}`` (no styles to strike them with)."""
    return not console.is_terminal or console.no_color or console.color_system is None


def print_change_set(
    proposal: dict[str, Any],
    console: Console,
    *,
    show_noise: bool = False,
    chosen: list[int | None] | None = None,
) -> None:
    """What a human approves, read like a script diff, with the short content hash.

    The key number first, the summary, every change (cut words struck, new words bold;
    without styles ``[-cut-]`` and ``{+new+}``), the alternatives, the viewers' words.
    """
    from writers_room.brief.diff import render_rich
    from writers_room.store.proposals import proposal_diff

    p = proposal
    ev = p.get("evidence", {})
    console.print(
        f"[bold]{p['proposal_id']}[/] {escape(p['series_id'])}/{escape(p['episode_id'])} · "
        f"{escape(p['kind'])} · {p['status']} · on brief v{p['base_version']}",
        highlight=False,
    )
    if ev.get("target"):
        console.print(f"[bold]Targets:[/] {escape(ev['target'])}", highlight=False)
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
    if ev.get("expected_effect"):
        console.print(f"[dim]Expected: {escape(ev['expected_effect'])}[/]", highlight=False)
    if ev.get("rationale"):
        console.print(f"[bold]Why:[/] {escape(ev['rationale'])}", highlight=False)
    diff = proposal_diff(settings(), p, show_noise=show_noise)
    console.print()
    console.print(render_rich(diff, markers=plain_markers(console)), highlight=False)
    if chosen and any(chosen):
        for choice, pick in zip(diff.choices, chosen, strict=False):
            if pick:
                console.print(
                    f"[bold]Chosen:[/] {escape(choice.label)} ({pick + 1}) "
                    f"{escape(choice.options[pick])}",
                    highlight=False,
                )
    _print_pictures(p, console)
    quotes = [q for q in ev.get("quotes", []) if str(q).strip()]
    if quotes:
        console.print("\n[bold]What viewers say[/] (redacted):", highlight=False)
        for quote in quotes:
            console.print(f"  “{escape(str(quote))}”", highlight=False)
    console.print(f"\nhash {short_hash(p)}", highlight=False)


def print_waiting(waiting: dict[str, str]) -> None:
    """Episodes the review left alone because an earlier proposal waits for a decision."""
    for episode_id, proposal_id in waiting.items():
        out.print(
            f"[cyan]waiting[/] {episode_id}: {proposal_id} from an earlier review still waits "
            "for a decision; no new proposal until it is decided",
            highlight=False,
        )


def _print_pictures(p: dict[str, Any], console: Console) -> None:
    """Where the packaging options are pictured on thumbnails (drawn on first show)."""
    from writers_room.jobs.previews import option_sheets

    for sheet in option_sheets(settings(), p):
        console.print(
            f"[bold]{escape(sheet.heading.split(' — ')[0])}:[/] {escape(str(sheet.path))}",
            highlight=False,
            soft_wrap=True,
        )


@proposals_app.command("show")
def proposals_show(
    proposal_id: Annotated[str, typer.Argument(help="Proposal id.")],
    noise: Annotated[
        bool,
        typer.Option("--noise", help="Also show start times, seeds, keyframe prompts, ids."),
    ] = False,
    as_json: JsonOpt = False,
) -> None:
    """Show one proposal's change set as a script diff and its short content hash (for
    `approve --hash`)."""
    from writers_room.store.proposals import chosen_options, get_proposal, proposal_diff

    s = settings()
    p = get_proposal(s, proposal_id)
    if as_json:
        diff = proposal_diff(s, p, show_noise=noise)
        emit_json(
            {
                **p,
                "short_hash": short_hash(p),
                "diff": diff.to_json(),
                "chosen": chosen_options(s, proposal_id),
            }
        )
        return
    print_change_set(p, out, show_noise=noise, chosen=chosen_options(s, proposal_id))
    if p["status"] == "pending":
        out.print(
            f"\nApprove exactly this with [bold]writers-room approve {p['proposal_id']} "
            f"--as NAME --hash {short_hash(p)}[/]",
            highlight=False,
        )
