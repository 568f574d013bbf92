"""``approve``, ``reject`` and ``note``: a human's decision, bound to what they saw."""

from __future__ import annotations

import sys
from typing import Annotated, Any

import typer
from rich.markup import escape

from writers_room.cli._common import JsonOpt, emit_json, err, interactive, out, settings, swept
from writers_room.cli.rendering import run_renders
from writers_room.cli.reviewing import print_change_set, short_hash
from writers_room.config import Settings
from writers_room.errors import InputError

MIN_HASH_PREFIX = 6


def _stdin_is_terminal() -> bool:
    return sys.stdin.isatty()


def _picks(p: dict[str, Any], choose: list[str]) -> list[int | None] | None:
    """``--choose hook=2`` (a slot or a choice number, then an option number) → picks.

    Raises:
        InputError: a pick that names no choice or no option (exit 2).
    """
    choices = p.get("choices") or []
    if not choose:
        return None
    picks: list[int | None] = [0] * len(choices)
    for raw in choose:
        name, _, number = raw.partition("=")
        name = name.strip().lower()
        index = next(
            (n for n, c in enumerate(choices) if c["slot"] == name or str(n + 1) == name), None
        )
        options = choices[index]["options"] if index is not None else []
        if index is None or not number.strip().isdigit() or not 1 <= int(number) <= len(options):
            slots = ", ".join(f"{c['slot']}=1..{len(c['options'])}" for c in choices) or "none"
            raise InputError(
                f"--choose {raw!r}: name a choice and an option number ({slots})",
                field="--choose",
                value=raw,
            )
        picks[index] = int(number) - 1
    return picks


def _bound_hash(
    s: Settings,
    proposal_id: str,
    prefix: str | None,
    who: str,
    chosen: list[int | None] | None = None,
) -> str:
    """The full content hash the approver saw: from ``--hash`` or confirmed on a terminal.

    Raises:
        InputError: no ``--hash`` off a terminal, or a malformed prefix (exit 2).
        GuardrailRefusal: the prefix does not match the proposal's current content (exit 3).
        typer.Exit(1): the person declined at the prompt.
    """
    from writers_room.errors import GuardrailRefusal
    from writers_room.store.proposals import get_proposal

    p = get_proposal(s, proposal_id)  # an unknown id is exit 2 whatever else is wrong
    if prefix is not None:
        clean = prefix.strip().lower()
        if len(clean) < MIN_HASH_PREFIX or any(c not in "0123456789abcdef" for c in clean):
            raise InputError(
                f"--hash: {prefix!r} is not a hash prefix; give at least {MIN_HASH_PREFIX} hex "
                f"characters of the hash `writers-room proposals show {proposal_id}` prints",
                field="--hash",
                value=prefix,
            )
        if not p["content_hash"].startswith(clean):
            raise GuardrailRefusal(
                f"--hash {clean} does not match proposal {proposal_id} as it is now "
                f"(hash {short_hash(p)}): it changed, or the hash is from another proposal; "
                f"nothing was decided — check `writers-room proposals show {proposal_id}`"
            )
        return str(p["content_hash"])
    if not _stdin_is_terminal():
        raise InputError(
            f"approve needs --hash when not on a terminal: run `writers-room proposals show "
            f"{proposal_id}`, check the change set, and pass the hash it prints "
            f"(`writers-room approve {proposal_id} --as {who or 'NAME'} --hash HASH`)",
            field="--hash",
        )
    print_change_set(p, err, chosen=chosen)
    try:
        answer = err.input(escape(f"Approve exactly this change set as {who}? [y/N] "))
    except EOFError:
        answer = ""
    if answer.strip().lower() not in ("y", "yes"):
        err.print("Not approved; nothing was recorded.")
        raise typer.Exit(1)
    return str(p["content_hash"])


def _decision_report(s: Settings, result: Any, jobs: list[Any], as_json: bool) -> None:
    from writers_room.store.proposals import get_proposal

    if as_json:
        emit_json(
            {
                "proposal": get_proposal(s, result.proposal_id),
                "decision": result.decision,
                "applied_version": result.applied_version,
                "render_refused": result.render_refused,
                "renders": [
                    {"render_id": j.render_id, "status": j.status, "artifacts": j.artifacts}
                    for j in jobs
                ],
            }
        )
        return
    out.print(f"[green]✓[/] {result.proposal_id} {result.decision}")
    if result.applied_version:
        out.print(f"  brief version {result.applied_version} written")
    if result.render_refused:
        out.print(f"  [yellow]![/] no render queued: {escape(result.render_refused)}")
    for job in jobs:
        where = s.home / "renders" / job.series_id / job.episode_id / job.render_id
        if job.status == "done":
            out.print(f"  render {job.render_id} done: {where}")
        else:
            out.print(f"  render {job.render_id} {job.status}: {job.error or ''}")


def approve(
    proposal_id: Annotated[str, typer.Argument(help="Proposal id.")],
    as_: Annotated[str, typer.Option("--as", help="Who approves (must be an approver).")],
    hash_: Annotated[
        str | None,
        typer.Option(
            "--hash",
            help="The hash `proposals show ID` prints (at least 6 hex characters); needed "
            "when not on a terminal, where the change set is shown and confirmed instead.",
            show_default=False,
        ),
    ] = None,
    note: Annotated[str, typer.Option("--note", help="A note for the record.")] = "",
    choose: Annotated[
        list[str] | None,
        typer.Option(
            "--choose",
            help="Pick another written alternative, e.g. --choose hook=2 (the first option "
            "of each choice is what the change set writes).",
            show_default=False,
        ),
    ] = None,
    no_render: Annotated[
        bool, typer.Option("--no-render", help="Queue the render but do not run it now.")
    ] = False,
    as_json: JsonOpt = False,
) -> None:
    """Approve exactly the change set you saw: resumes the review (apply → render)."""
    from writers_room.graphs.window_review.run import decide_and_resume
    from writers_room.store.proposals import get_proposal

    s = swept()
    chosen = _picks(get_proposal(s, proposal_id), choose or [])
    shown = _bound_hash(s, proposal_id, hash_, as_, chosen)
    result = decide_and_resume(
        s, proposal_id, actor=as_, approve=True, note=note, shown_hash=shown, chosen=chosen
    )
    jobs = [] if no_render else run_renders(s, result.render_ids, show=interactive(as_json))
    _decision_report(s, result, jobs, as_json)


def reject(
    proposal_id: Annotated[str, typer.Argument(help="Proposal id.")],
    as_: Annotated[str, typer.Option("--as", help="Who rejects (must be an approver).")],
    reason: Annotated[
        str, typer.Option("--reason", help="Why (required; the ideator learns from it).")
    ],
    as_json: JsonOpt = False,
) -> None:
    """Reject a proposal, saying why."""
    from writers_room.graphs.window_review.run import decide_and_resume

    s = settings()
    if not reason.strip():
        raise InputError("--reason: a rejection needs a reason", field="--reason", value=reason)
    result = decide_and_resume(s, proposal_id, actor=as_, approve=False, note=reason.strip())
    _decision_report(s, result, [], as_json)


def note(
    text: Annotated[str, typer.Argument(help="The note.")],
    series: Annotated[str, typer.Option("--series", help="Series id.")],
    episode: Annotated[str, typer.Option("--episode", help="Episode id.")],
    as_: Annotated[str, typer.Option("--as", help="Who writes.")],
    as_json: JsonOpt = False,
) -> None:
    """Add fresh human creative input (resets the blind-iteration count)."""
    from writers_room.guardrails.approval import add_note

    row = add_note(settings(), series_id=series, episode_id=episode, author=as_, text=text)
    if as_json:
        emit_json(row.model_dump(mode="json"))
    else:
        out.print(f"[green]✓[/] note saved for {series}/{episode}; blind-iteration count reset")
