"""The chat graph: one turn of a conversation with the room.

    route → explain | propose | draft | brief | note | decide | how_to_decide
          | render_status | status | characters | variants | compare | next_steps | help
          | clarify → END

``route`` picks the intent (verbs, follow-ups, question rules, then similarity to
examples; see ``router.py``) and resolves the series, episodes and character
(``resolve.py``: written out, an episode title or a character only one series has, the
thread's context, the episode numbers), remembering them in the thread's state so "and
episode 4?" works; with several series that fit it asks which, and answers the waiting
question once told. The analytical nodes (``insights.py``) read the newest saved report
and a few rows of SQL, and quote comments only through ``quotes.py`` (never a flagged
one). Each intent node does one thing and writes a
:class:`~writers_room.graphs.chat.state.ChatReply`. Nodes that change anything go
through the same guarded functions as the CLI: notes through ``add_note``, decisions
through ``decide_and_resume`` (approver allowlist, exactly-once, content hash), drafts of
the next episode through ``writer.draft.propose_next_episode`` (a pending proposal).

Free text never decides: ``decide`` runs only for the explicit commands
``approve p-<id>`` and ``reject p-<id> <reason>``, and approves only a version this
conversation showed (a proposal it never showed is shown first, with its short hash, and
the approver repeats the command). Anything else that reads like a decision goes to
``how_to_decide``, which says how to decide and changes nothing.
"""

from __future__ import annotations

import logging
import re
from pathlib import Path
from typing import Any, Literal

from langgraph.graph import END, START, StateGraph
from langgraph.runtime import Runtime

from writers_room.analyst.window import analyse, report_dir
from writers_room.errors import GuardrailRefusal, InputError
from writers_room.graphs.chat import answers as ans
from writers_room.graphs.chat import insights as ins
from writers_room.graphs.chat import lessons as learned
from writers_room.graphs.chat.quotes import (
    Quoted,
    character_quotes,
    flagged_comments,
)
from writers_room.graphs.chat.resolve import (
    NEEDS_EPISODE,
    load_catalog,
    only_names_a_series,
    resolve,
)
from writers_room.graphs.chat.router import Route
from writers_room.graphs.chat.state import ChatContext, ChatReply, ChatState
from writers_room.graphs.window_review.run import decide_and_resume, start_review
from writers_room.guardrails.approval import AlreadyDecided, NotAnApprover, add_note, is_approver
from writers_room.ingest.series import current_brief
from writers_room.store.db import session_scope
from writers_room.store.models import Episode
from writers_room.store.proposals import get_proposal, list_proposals
from writers_room.store.runs import get_run, last_closed_window_end, thread_id_for
from writers_room.store.status import room_status
from writers_room.writer.draft import propose_next_episode, script_text
from writers_room.writer.drafting import next_episode_id

__all__ = ["HELP", "builder", "graph"]

log = logging.getLogger(__name__)

HELP = """*Talk to the room* — ask in your own words, or use these commands:
• `status` — counts, pending proposals, renders
• `report <episode>` — the episode's scorecard, band, cliff and shot, findings, what viewers say
• `propose <episode>` — the window review's proposals for the episode (runs it if needed)
• `draft next` — write the next episode (brief and script) as a proposal for approvers
• `brief <episode>` — the brief and shot list in force
• `note <episode> <text>` — fresh human input (resets the blind-iteration count)
• `approve p-<id>` / `reject p-<id> <reason>` — approvers only, and only this exact command
  (or a button) decides; a proposal not shown here yet is shown first
• `render [<episode>]` — render jobs and where their output is
• `compare <episode> <episode>` — episodes side by side (score, CTR, 10-s retention, …)
• `variants [<episode>]` — which variant leads, by how much, and whether it is conclusive
• `character [<name>]` — what viewers say about a character
Or ask: “what are viewers saying about <name>?”, “which thumbnail won for ep02?”,
“compare ep01 and ep04”, “what should we change next?”, “what worked last time we had a
hook problem?”. With several series, name the
series (`series:<id>`), an episode title or a character; or the room asks which.
Follow-ups work: “why did episode 3 drop?” … “and episode 4?”"""

NodeName = Literal[
    "explain",
    "characters",
    "variants",
    "compare",
    "next_steps",
    "lessons",
    "propose",
    "draft",
    "brief",
    "note",
    "decide",
    "how_to_decide",
    "render_status",
    "status",
    "help",
    "clarify",
]
# Questions that only read: one that waited for "which series?" is asked again once the
# person names the series (nothing that writes or decides is ever replayed).
ASKS_AGAIN = frozenset(
    {
        "explain",
        "brief",
        "render_status",
        "characters",
        "variants",
        "compare",
        "next_steps",
        "lessons",
    }
)


def _reply(state: ChatState, intent: str, **fields: Any) -> dict[str, Any]:
    """The partial update every intent node returns: the reply plus the turn record."""
    reply = ChatReply(
        intent=intent,
        series_id=state.get("series_id"),
        episode_id=state.get("episode_id"),
        **fields,
    )
    out: dict[str, Any] = {
        "reply": reply.model_dump(),
        "turns": [
            {"user": state.get("user", ""), "text": state.get("text", "")[:500], "intent": intent}
        ],
    }
    if intent != "clarify":
        out["last_intent"] = intent
    return out


def _route(state: ChatState) -> Route:
    return Route.model_validate(state["route"])


def route(state: ChatState, runtime: Runtime[ChatContext]) -> dict[str, Any]:
    """Pick the intent and resolve which series, episodes and character it is about.

    A message that only names a series answers a question that waited for one ("which
    series?"): that question is asked again, about the series named.
    """
    ctx = runtime.context
    catalog = load_catalog(ctx.settings)
    ctx.router.learn(names=catalog.character_names(), titles=catalog.titles())
    text = state.get("text", "")
    waiting = state.get("pending")
    answered = only_names_a_series(catalog, text) if waiting else None
    if answered is not None:
        text = f"series:{answered} {waiting}"
    chosen: Route = ctx.router.route(text, last_intent=state.get("last_intent"))
    context = (state.get("series_id"), state.get("episode_id"))
    if chosen.intent == "draft":
        # The episode to draft does not exist yet: only the series is resolved here, and
        # _not_the_next checks the episode written.
        about = chosen.model_copy(update={"episode_ref": None, "episode_refs": []})
        found = resolve(catalog, about, text, context_series=context[0], context_episode=None)
        found.episode_ids = []
    else:
        found = resolve(
            catalog, chosen, text, context_series=context[0], context_episode=context[1]
        )
    if chosen.intent == "propose" and chosen.source != "verb" and not found.episode_ids:
        # "what should we change?" about no episode in particular: the room's next steps.
        chosen.intent = "next_steps"
        found = resolve(
            catalog, chosen, text, context_series=context[0], context_episode=context[1]
        )
    problem = chosen.problem or found.problem
    episode_ids = found.episode_ids
    if chosen.intent == "compare" and len(episode_ids) == 1 and found.series_id == context[0]:
        if context[1] is not None and context[1] != episode_ids[0]:
            episode_ids = [context[1], episode_ids[0]]  # "compare it with ep5"
    if problem is None and chosen.intent == "draft" and found.series_id is not None:
        problem = _not_the_next(ctx.settings, found.series_id, chosen.episode_ref)
    if problem is None and chosen.intent == "compare" and len(episode_ids) < 2:
        problem = "name two episodes to compare, e.g. `compare ep1 ep4`"
    if problem is None and chosen.intent in NEEDS_EPISODE and not episode_ids:
        problem = f"which episode? e.g. `{_verb(chosen.intent)} ep1`"
    chosen.problem = problem
    chosen.subject = found.character or chosen.subject
    out: dict[str, Any] = {
        "route": chosen.model_dump(),
        "pending": text if found.ambiguous and chosen.intent in ASKS_AGAIN else None,
    }
    if problem is None or found.series_id is not None:
        out["series_id"] = found.series_id
        out["episode_id"] = episode_ids[0] if episode_ids else None
        out["episode_ids"] = episode_ids
    return out


def _not_the_next(settings: Any, series_id: str, ref: str | None) -> str | None:
    """Why ``ref`` is not the series' next episode (None when it is, or when none is named)."""
    if ref is None or ref.lower() in ("next", "new", "the", "a", "an", "one", "it"):
        return None
    ids = [e for e, _, _ in ans.episode_list(settings, series_id)]
    upcoming = next_episode_id(ids)
    number = re.search(r"(\d+)$", ref)
    wanted = re.search(r"(\d+)$", upcoming)
    if ref.lower() == upcoming.lower() or (
        number is not None and wanted is not None and int(number.group(1)) == int(wanted.group(1))
    ):
        return None
    return (
        f"only the next episode can be drafted: `{upcoming}` comes after `{ids[-1]}`"
        if ids
        else f"{series_id} has no episodes to continue yet"
    ) + f" (`draft next`), not `{ref}`"


def _verb(intent: str) -> str:
    return {"explain": "report", "render_status": "render"}.get(intent, intent)


def pick(state: ChatState) -> NodeName:
    """Route to the node of the chosen intent (or to ``clarify`` when something is missing)."""
    chosen = _route(state)
    if chosen.problem:
        return "clarify"
    if chosen.intent in ("approve", "reject"):
        # Only the explicit command, with the id written out, reaches a decision.
        explicit = chosen.source == "verb" and chosen.proposal_id is not None
        return "decide" if explicit else "how_to_decide"
    return chosen.intent  # type: ignore[return-value]


def clarify(state: ChatState) -> dict[str, Any]:
    """Say what is missing or wrong, and how to ask."""
    return _reply(state, "clarify", text=f"I need a bit more: {_route(state).problem}.")


def help_node(state: ChatState) -> dict[str, Any]:
    """List what the room understands."""
    return _reply(state, "help", text=HELP)


def _report(ctx: ChatContext, series_id: str) -> tuple[dict[str, Any], Path] | str:
    """The newest saved report of the series (reviewing the last window if there is
    none yet), or why there is none."""
    found = ans.latest_report(ctx.settings, series_id)
    if found is None:
        try:
            fresh = analyse(ctx.settings, series_id, write=True)
        except InputError as exc:
            return f"No review to read yet: {exc}"
        found = fresh.model_dump(mode="json"), report_dir(ctx.settings, fresh)
    return found


def explain(state: ChatState, runtime: Runtime[ChatContext]) -> dict[str, Any]:
    """Explain an episode's (or the window's) numbers from the newest saved report."""
    ctx = runtime.context
    series_id = state["series_id"]
    assert series_id is not None
    found = _report(ctx, series_id)
    if isinstance(found, str):
        return _reply(state, "explain", text=found)
    report, folder = found
    flagged = flagged_comments(ctx.settings, report)
    episode_id = state.get("episode_id")
    if episode_id is None:
        return _reply(state, "explain", text=ans.format_series(report, flagged))
    episode = next((e for e in report.get("episodes", []) if e["episode_id"] == episode_id), None)
    if episode is None:
        return _reply(
            state,
            "explain",
            text=f"{episode_id} had no audience data in the window that ended "
            f"{report['window_end']}; nothing to explain yet.",
        )
    chosen = _route(state)
    nearby: list[Quoted] = []
    if ctx.search_comments and chosen.source in ("similarity", "fallback"):
        try:
            nearby = ans.nearby_comments(
                ctx.settings, report, episode_id, state.get("text", ""), flagged
            )
        except Exception:  # noqa: BLE001 - the index is optional for an answer
            log.warning("comment index unavailable for chat; answering without it", exc_info=True)
    chart = folder / f"retention-{episode_id}.png"
    files = [str(chart)] if chart.is_file() else []
    text = ans.format_episode(report, episode, nearby, flagged=flagged)
    return _reply(state, "explain", text=text, files=files)


def brief(state: ChatState, runtime: Runtime[ChatContext]) -> dict[str, Any]:
    """Show the brief and shot list in force for the episode."""

    settings = runtime.context.settings
    series_id, episode_id = state["series_id"], state["episode_id"]
    assert series_id is not None and episode_id is not None
    with session_scope(settings) as session:
        row = current_brief(session, series_id, episode_id)
        episode = session.get(Episode, (series_id, episode_id))
        assert row is not None and episode is not None
        text = ans.format_brief(
            series_id, episode_id, episode.title, row.version, row.brief, row.manifest
        )
    return _reply(state, "brief", text=text)


def note(state: ChatState, runtime: Runtime[ChatContext]) -> dict[str, Any]:
    """Record fresh human creative input about the episode."""

    series_id, episode_id = state["series_id"], state["episode_id"]
    assert series_id is not None and episode_id is not None
    try:
        add_note(
            runtime.context.settings,
            series_id=series_id,
            episode_id=episode_id,
            author=state.get("user", ""),
            text=_route(state).text,
        )
    except (GuardrailRefusal, InputError) as exc:
        return _reply(state, "note", refused=True, text=f"Nothing was noted: {exc}")
    return _reply(
        state,
        "note",
        text=f"Noted for {series_id}/{episode_id}. That is fresh human input: the room's "
        "blind-iteration count for the episode is back to 0, and the next review reads it.",
    )


def propose(state: ChatState, runtime: Runtime[ChatContext]) -> dict[str, Any]:
    """Point at the window review's proposals for the episode, running the review if needed."""

    ctx = runtime.context
    series_id, episode_id = state["series_id"], state["episode_id"]
    assert series_id is not None and episode_id is not None

    def pending() -> list[dict[str, Any]]:
        return [
            p
            for p in list_proposals(ctx.settings, status="pending", series_id=series_id)
            if p["episode_id"] == episode_id
        ]

    found = pending()
    review_thread = None
    notes: list[str] = []
    if not found:
        window_end = last_closed_window_end(ctx.settings, series_id)
        if window_end is None:
            return _reply(
                state,
                "propose",
                text=f"{series_id} has no closed 24-hour window with data yet, so there is "
                "nothing to review. Ingest events or metrics first.",
            )
        review_thread = thread_id_for(series_id, window_end)
        run = get_run(ctx.settings, review_thread)
        if run is None or run.status in ("running", "failed"):
            outcome = start_review(
                ctx.settings, series_id, window_end=window_end, agents=ctx.review_agents
            )
            if episode_id in outcome.blocked:
                notes.append(f"Escalated to the showrunners: {outcome.blocked[episode_id]}")
            if episode_id in outcome.waiting:
                notes.append(
                    f"{outcome.waiting[episode_id]} from an earlier review still waits for a "
                    "decision, so this review wrote nothing new for it."
                )
            notes.extend(
                f"Dropped by the brand guard: {'; '.join(d.get('reasons', []))}"
                for d in outcome.dropped
                if d.get("episode_id") == episode_id
            )
            found = pending()
    if not found:
        text = (
            f"No pending proposal for {series_id}/{episode_id} from the review of the last "
            "closed window. " + " ".join(notes)
        ).strip()
        if not notes:
            text += " No diagnosis rule fired for it, or its proposals were decided already."
        return _reply(state, "propose", text=text, review_thread=review_thread)
    body = "\n".join(ans.format_proposal(p) for p in found)
    out = _reply(
        state,
        "propose",
        text=f"{len(found)} proposal(s) waiting for an approver:\n{body}",
        proposals=[p["proposal_id"] for p in found],
        review_thread=review_thread,
    )
    out["shown"] = {p["proposal_id"]: p["content_hash"] for p in found}
    return out


def draft(state: ChatState, runtime: Runtime[ChatContext]) -> dict[str, Any]:
    """Draft the series' next episode and put it before the approvers as a proposal."""
    ctx = runtime.context
    series_id = state["series_id"]
    assert series_id is not None
    try:
        drafted, p = propose_next_episode(
            ctx.settings, series_id, requested_by=state.get("user") or None
        )
    except (GuardrailRefusal, InputError) as exc:
        return _reply(state, "draft", refused=True, text=f"Nothing was drafted: {exc}")
    script = "\n".join(script_text(drafted.episode_id, drafted.brief, drafted.manifest))
    waiting = (
        f"It waits for an approver as `{p['proposal_id']}` (hash "
        f"`{ans.short_hash(p['content_hash'])}`): `approve {p['proposal_id']}` registers "
        f"{drafted.episode_id} and queues its render; `reject {p['proposal_id']} <reason>` "
        "drops it."
        if p["status"] == "pending"
        else f"This draft is `{p['proposal_id']}`, already {p['status']}."
    )
    out = _reply(
        state,
        "draft",
        text=f"Drafted {series_id}/{drafted.episode_id}, after {drafted.after}:\n"
        f"```\n{ans.escape(script)}\n```\n{waiting}",
        proposals=[p["proposal_id"]] if p["status"] == "pending" else [],
    )
    out["reply"]["episode_id"] = drafted.episode_id
    out["shown"] = {p["proposal_id"]: p["content_hash"]}
    return out


def decide(state: ChatState, runtime: Runtime[ChatContext]) -> dict[str, Any]:
    """Approve or reject a proposal — only for approvers, only once, bound to what was shown."""

    ctx = runtime.context
    chosen = _route(state)
    approve = chosen.intent == "approve"
    verb = "approve" if approve else "reject"
    shown = state.get("shown", {})
    proposal_id = chosen.proposal_id
    if chosen.source != "verb" or proposal_id is None:
        return how_to_decide(state, runtime)  # never reached through pick; kept as a guard
    if not approve and not chosen.text.strip():
        return _reply(
            state,
            "clarify",
            text=f"A rejection needs a reason: `reject {proposal_id} <reason>`. Nothing changed.",
        )
    user = state.get("user", "")
    if approve and proposal_id not in shown:
        return _show_before_approving(state, runtime, proposal_id)
    try:
        result = decide_and_resume(
            ctx.settings,
            proposal_id,
            actor=user,
            approve=approve,
            note=chosen.text,
            shown_hash=shown.get(proposal_id),
            agents=ctx.review_agents,
        )
    except NotAnApprover:
        return _reply(state, chosen.intent, refused=True, text=_NOT_AN_APPROVER.format(verb=verb))
    except AlreadyDecided as exc:
        return _reply(state, chosen.intent, refused=True, text=_already(exc))
    except (GuardrailRefusal, InputError) as exc:
        return _reply(state, chosen.intent, refused=True, text=f"Nothing changed: {exc}")
    if result.decision == "approved":
        text = f"Approved `{proposal_id}`."
        if result.applied_version is not None:
            text += f" The brief is at version {result.applied_version} now."
        if result.render_ids:
            text += " Render queued: " + ", ".join(f"`{r}`" for r in result.render_ids) + "."
    else:
        text = f"Rejected `{proposal_id}`: {chosen.text}"
    return _reply(state, chosen.intent, text=text, decided=[proposal_id])


def _show_before_approving(
    state: ChatState, runtime: Runtime[ChatContext], proposal_id: str
) -> dict[str, Any]:
    """Show a proposal this conversation never showed, and ask for the command again."""

    settings = runtime.context.settings
    try:
        p = get_proposal(settings, proposal_id)
    except InputError as exc:
        return _reply(state, "approve", refused=True, text=f"Nothing changed: {exc}")
    with session_scope(settings) as session:
        allowed = is_approver(settings, session, p["series_id"], state.get("user", ""))
    if not allowed:
        return _reply(state, "approve", refused=True, text=_NOT_AN_APPROVER.format(verb="approve"))
    if p["status"] != "pending":
        when = f"{p['decided_at'][:16].replace('T', ' ')} UTC" if p["decided_at"] else "earlier"
        return _reply(
            state,
            "approve",
            refused=True,
            text=f"Already decided by {p['decided_by']} at {when}; nothing changed.",
        )
    out = _reply(
        state,
        "confirm",
        text=f"This conversation has not shown `{proposal_id}` yet, so nothing was decided. "
        f"Here it is (hash `{ans.short_hash(p['content_hash'])}`):\n"
        f"{ans.format_proposal(p)}\n"
        f"To approve exactly this version, send `approve {proposal_id}` again.",
    )
    out["shown"] = {proposal_id: p["content_hash"]}
    return out


_NOT_AN_APPROVER = (
    "Only approvers can {verb} proposals, and you are not on the list for this series. "
    "Nothing changed. Ask a showrunner (approvers come from WRITERS_ROOM_APPROVERS and the "
    "series' own list)."
)


def how_to_decide(state: ChatState, runtime: Runtime[ChatContext]) -> dict[str, Any]:
    """A message that reads like a decision but is not the command: say how, change nothing."""

    chosen = _route(state)
    series_id = state.get("series_id")
    waiting = [
        p["proposal_id"]
        for p in list_proposals(runtime.context.settings, status="pending", series_id=series_id)
    ]
    shown = [pid for pid in state.get("shown", {}) if pid in waiting]
    named = chosen.proposal_id if chosen.proposal_id in waiting else None
    # Name the proposal only when it is unambiguous; else list the ones waiting.
    only = shown if len(shown) == 1 else waiting if not shown and len(waiting) == 1 else []
    example = named or (only[0] if only else "p-<id>")
    waiting = shown + [pid for pid in waiting if pid not in shown]
    text = (
        "Nothing changed: I only decide on the exact command "
        f"`approve {example}` or `reject {example} <reason>` (as `/room …`, a mention, or a "
        "reply in the thread), or a proposal's Approve / Reject button."
    )
    if waiting and example == "p-<id>":
        more = f" and {len(waiting) - 3} more" if len(waiting) > 3 else ""
        text += " Waiting: " + ", ".join(f"`{pid}`" for pid in waiting[:3]) + more + "."
    return _reply(state, "how_to_decide", text=text)


def _already(exc: Any) -> str:
    when = exc.decided_at.strftime("%Y-%m-%d %H:%M UTC") if exc.decided_at else "earlier"
    return f"Already decided by {exc.decided_by} at {when}; nothing changed."


def render_status(state: ChatState, runtime: Runtime[ChatContext]) -> dict[str, Any]:
    """Show the newest render jobs of the series (or the episode)."""
    series_id = state["series_id"]
    assert series_id is not None
    text = ans.format_renders(runtime.context.settings, series_id, state.get("episode_id"))
    return _reply(state, "render_status", text=text)


def _series_report(
    state: ChatState, runtime: Runtime[ChatContext], intent: str
) -> tuple[dict[str, Any], dict[str, Any] | None]:
    """The newest report of the conversation's series, or the reply saying there is none."""
    series_id = state["series_id"]
    assert series_id is not None
    found = _report(runtime.context, series_id)
    if isinstance(found, str):
        return {}, _reply(state, intent, text=found)
    return found[0], None


def _no_data(report: dict[str, Any], episode_ids: list[str]) -> str:
    return (
        f"{', '.join(episode_ids)}: no audience data in the window that ended "
        f"{report['window_end']}; nothing to show yet."
    )


def characters(state: ChatState, runtime: Runtime[ChatContext]) -> dict[str, Any]:
    """What viewers say about a character (or how often each character comes up)."""
    ctx = runtime.context
    report, refused = _series_report(state, runtime, "characters")
    if refused is not None:
        return refused
    chosen = _route(state)
    if chosen.subject is None:
        return _reply(state, "characters", text=ins.format_characters(report))
    flagged = flagged_comments(ctx.settings, report)
    # An episode written in the question narrows the quotes; the thread's doesn't.
    episode_id = state.get("episode_id") if chosen.episode_refs else None
    quotes = character_quotes(
        ctx.settings,
        report,
        chosen.subject,
        flagged,
        episode_id=episode_id,
        use_index=ctx.search_comments,
    )
    text = ins.format_character(report, chosen.subject, quotes, flagged, episode_id)
    return _reply(state, "characters", text=text)


def variants(state: ChatState, runtime: Runtime[ChatContext]) -> dict[str, Any]:
    """The episode's variant test (or every episode's leader): who leads, by how much."""
    report, refused = _series_report(state, runtime, "variants")
    if refused is not None:
        return refused
    episode_id = state.get("episode_id")
    if episode_id is None:
        return _reply(state, "variants", text=ins.format_variants_overview(report))
    episode = next((e for e in report.get("episodes", []) if e["episode_id"] == episode_id), None)
    if episode is None:
        return _reply(state, "variants", text=_no_data(report, [episode_id]))
    kinds = ans.variant_kinds(runtime.context.settings, report["series_id"], episode_id)
    return _reply(state, "variants", text=ins.format_variants(report, episode, kinds))


def compare(state: ChatState, runtime: Runtime[ChatContext]) -> dict[str, Any]:
    """Episodes side by side from the newest report."""
    report, refused = _series_report(state, runtime, "compare")
    if refused is not None:
        return refused
    wanted = list(state.get("episode_ids") or [])
    by_id = {e["episode_id"]: e for e in report.get("episodes", [])}
    missing = [e for e in wanted if e not in by_id]
    present = [by_id[e] for e in wanted if e in by_id]
    if len(present) < 2:
        return _reply(state, "compare", text=_no_data(report, missing))
    text = ins.format_compare(report, present)
    if missing:
        text += "\n" + _no_data(report, missing)
    return _reply(state, "compare", text=text)


def next_steps(state: ChatState, runtime: Runtime[ChatContext]) -> dict[str, Any]:
    """Pending proposals and open findings, ranked by the score points at stake.

    Shows no change set, so it binds nothing: approving still shows the proposal first.
    """
    settings = runtime.context.settings
    series_id = state.get("series_id")
    reports: dict[str, dict[str, Any]] = {}
    if series_id is not None:
        report, refused = _series_report(state, runtime, "next_steps")
        if refused is not None:
            return refused
        reports[series_id] = report
    else:
        for sid in ans.series_ids(settings):
            found = ans.latest_report(settings, sid)
            if found is not None:
                reports[sid] = found[0]
    if not reports:
        return _reply(state, "next_steps", text="No review yet: nothing to rank.")
    steps = ins.rank_next_steps(reports, ans.pending_for_ranking(settings, list(reports)))
    text = ins.format_next_steps(reports, steps, room_wide=series_id is None)
    return _reply(state, "next_steps", text=text)


def lessons(state: ChatState, runtime: Runtime[ChatContext]) -> dict[str, Any]:
    """What worked last time: measured outcomes of published changes for the problem asked."""
    found = learned.answer(runtime.context.settings, state["text"], state.get("series_id"))
    return _reply(state, "lessons", text=found["text"])


def status(state: ChatState, runtime: Runtime[ChatContext]) -> dict[str, Any]:
    """Counts per series: proposals by status, blind iterations, render jobs."""

    settings = runtime.context.settings
    chosen = _route(state)
    rows = room_status(settings, chosen.series_id)
    if not rows:
        return _reply(state, "status", text="The room has no series yet.")
    lines = []
    for s in rows:
        proposals = ", ".join(f"{n} {k}" for k, n in sorted(s.proposals.items())) or "none"
        renders = ", ".join(f"{n} {k}" for k, n in sorted(s.render_jobs.items())) or "none"
        blind = ", ".join(f"{e}: {n}" for e, n in s.blind_iterations.items() if n) or "none"
        lines.append(
            f"*{s.title or s.series_id}* (`{s.series_id}`): {s.episodes} episodes, "
            f"{s.variants} variants, {s.comments} comments, {s.metric_windows} metric windows\n"
            f"   proposals: {proposals} · renders: {renders} · blind iterations: {blind}"
        )
    waiting = list_proposals(settings, status="pending", series_id=chosen.series_id)
    if waiting:
        lines.append(
            "*Waiting for a decision:* "
            + ", ".join(
                f"`{p['proposal_id']}` ({p['series_id']}/{p['episode_id']})" for p in waiting[:10]
            )
        )
    return _reply(state, "status", text="\n".join(lines))


builder: StateGraph[ChatState, ChatContext, ChatState, ChatState] = StateGraph(
    ChatState, context_schema=ChatContext
)
builder.add_node("route", route)
builder.add_node("explain", explain)
builder.add_node("propose", propose)
builder.add_node("draft", draft)
builder.add_node("brief", brief)
builder.add_node("note", note)
builder.add_node("decide", decide)
builder.add_node("how_to_decide", how_to_decide)
builder.add_node("render_status", render_status)
builder.add_node("status", status)
builder.add_node("characters", characters)
builder.add_node("variants", variants)
builder.add_node("compare", compare)
builder.add_node("next_steps", next_steps)
builder.add_node("lessons", lessons)
builder.add_node("help", help_node)
builder.add_node("clarify", clarify)
builder.add_edge(START, "route")
builder.add_conditional_edges("route", pick)
for _name in (
    "explain",
    "propose",
    "draft",
    "brief",
    "note",
    "decide",
    "how_to_decide",
    "render_status",
    "status",
    "characters",
    "variants",
    "compare",
    "next_steps",
    "lessons",
    "help",
    "clarify",
):
    builder.add_edge(_name, END)
# Compiled without a checkpointer for inspection; ChatRoom compiles it with the room's saver.
graph = builder.compile()
