"""Drafting the next episode: a ``new_episode`` proposal through the same gate as any other.

``writers-room draft --series S``, ``/room draft next`` and "draft the next episode" in
chat all come here. :func:`draft_next_episode` reads the series from SQL — the bible, every
episode's brief and shot manifest in force, and what the audience responded to (the
newest analyst report's comment themes, else the comments themselves; see
:mod:`writers_room.writer.audience`) — and the offline drafter
(:mod:`writers_room.writer.drafting`) writes episode N+1: a brief (title, premise,
hook, twist, payoff, beats) and a shot manifest with dialogue.

The draft is a :class:`~writers_room.brief.proposals.BriefChangeProposal` of kind
``new_episode``: a diff of the blank episode (``brief/new_episode.py``) with one change
per brief field and ``manifest.shots``, all with ``before`` = None. The brand guard checks
it like any proposal (brand, names, runtime, slop, injection), and nothing is written
until an approver approves exactly this content: :func:`propose_next_episode` stores it
pending (``guardrails.approval.store_pending``, base version 0), ``approve`` applies it
(the episode is registered at the next position with version 1), and the producer queues
its render like any applied proposal.

Comments are read, never copied: the guard's context carries every stored comment of the
series (its ``copied_comment`` index), each candidate line is checked against it before it is
used, and the guard checks the whole draft again. The title is also kept from giving the
draft's own twist or payoff away (the guard's ``spoiler`` rule, read against the draft).

The drafter is offline-only for now: with ``WRITERS_ROOM_LLM=openai`` the window review's
ideator uses the model, but drafting still runs these rules.
"""

from __future__ import annotations

import logging
import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlmodel import Session, col, select

from writers_room.brief import new_episode
from writers_room.brief.bundle import Brand, Character, Constraints
from writers_room.brief.proposals import (
    BriefChangeProposal,
    Choice,
    Evidence,
    FieldChange,
    apply_changes,
)
from writers_room.brief.script import format_line, parse_dialogue, script_lines
from writers_room.config import Settings
from writers_room.errors import GuardrailRefusal, InputError
from writers_room.guardrails import brand, continuity, slop, story
from writers_room.guardrails.approval import store_pending
from writers_room.guardrails.brand_guard import GuardContext, GuardVerdict, check
from writers_room.guardrails.fencing import injection_markers
from writers_room.guardrails.text import strings_in
from writers_room.ingest.series import current_brief
from writers_room.store.db import audit, session_scope
from writers_room.store.models import Comment, Episode, Proposal, Series
from writers_room.writer.audience import AudienceRead, read_audience
from writers_room.writer.drafting import (
    DraftEpisode,
    PriorEpisode,
    StoryBible,
    Vetter,
    compose,
    looks_from_prompts,
    next_episode_id,
    person_from,
    story_anchors,
    style_from_prompts,
)

__all__ = [
    "Draft",
    "draft_next_episode",
    "draft_texts",
    "pending_drafts",
    "propose_next_episode",
    "script_text",
]

log = logging.getLogger(__name__)


@dataclass
class Draft:
    """A drafted episode, the proposal that carries it, and the guard's verdict."""

    series_id: str
    episode_id: str
    position: int
    after: str
    """The episode it follows."""
    episode: DraftEpisode
    proposal: BriefChangeProposal
    audience: AudienceRead
    verdict: GuardVerdict
    brief: dict[str, Any]
    manifest: dict[str, Any]
    guard: GuardContext
    """What the guard checked the proposal against (the blank episode, the bible)."""


def draft_texts(brief: dict[str, Any], manifest: dict[str, Any]) -> list[str]:
    """Every text a draft puts on the page: brief fields, beats, and each shot's words."""
    texts = [str(v) for k, v in brief.items() if isinstance(v, str)]
    texts += [str(b) for b in brief.get("beats", [])]
    for shot in manifest.get("shots", []):
        texts += [str(shot.get(k, "")) for k in ("action", "caption", "dialogue")]
    return [t for t in texts if t.strip()]


def script_text(episode_id: str, brief: dict[str, Any], manifest: dict[str, Any]) -> list[str]:
    """A drafted episode as a writer reads it: the brief, then shot by shot with lines."""
    out = [f"{episode_id} · {brief.get('title') or episode_id}", ""]
    for key in ("premise", "hook", "twist", "payoff"):
        if brief.get(key):
            out.append(f"{key.capitalize()}: {brief[key]}")
    if brief.get("beats"):
        out.append("Beats: " + " · ".join(str(b) for b in brief["beats"]))
    shots = manifest.get("shots", [])
    runtime = sum(float(s["duration_s"]) for s in shots)
    out += ["", f"Script ({len(shots)} shots, {runtime:g} s)"]
    for shot in shots:
        who = ", ".join(shot.get("characters", [])) or "no one in frame"
        out.append(
            f"{shot['shot_id']}  {float(shot['start_s']):5.1f}s  {float(shot['duration_s']):g}s  "
            f"{shot.get('framing', '')}  [{who}]"
        )
        out.append(f"      {shot.get('action', '')}")
        if shot.get("caption"):
            out.append(f"      CAPTION: {shot['caption']}")
        for speaker, direction, text in parse_dialogue(str(shot.get("dialogue", ""))):
            out.append(f"          {format_line(speaker, text, direction)}")
    return out


def _read_bible(session: Session, series_id: str) -> tuple[StoryBible, Series, list[str]]:
    series = session.get(Series, series_id)
    if series is None:
        raise InputError(
            f"no series {series_id!r}; see `writers-room series list`",
            field="--series",
            value=series_id,
        )
    rows = session.exec(
        select(Episode).where(Episode.series_id == series_id).order_by(col(Episode.position))
    ).all()
    episodes = []
    for row in rows:
        version = current_brief(session, series_id, row.episode_id)
        if version is not None:
            episodes.append(
                PriorEpisode(
                    episode_id=row.episode_id,
                    title=row.title,
                    position=row.position,
                    brief=dict(version.brief),
                    manifest=dict(version.manifest),
                )
            )
    if not episodes:
        raise InputError(
            f"series {series_id!r} has no episodes yet: drafting writes the next one from the "
            "episodes so far; register some with `writers-room series add FILE.yaml`",
            field="--series",
            value=series_id,
        )
    characters = [Character.model_validate(c) for c in series.characters]
    constraints = Constraints.model_validate(series.constraints or {})
    names = [c.name for c in characters]
    looks = looks_from_prompts(episodes, names)
    people = tuple(
        person_from(
            c.name,
            c.description,
            cast=names,
            look=looks.get(c.name, ""),
            label=_label(episodes, c.name),
            first=_called(episodes, c.name),
            locations=constraints.locations,
        )
        for c in characters
    )
    bible = StoryBible(
        series_id=series_id,
        title=series.title,
        premise=series.premise,
        brand=Brand.model_validate(series.brand),
        constraints=constraints,
        people=people,
        locations=tuple(constraints.locations),
        style=style_from_prompts(episodes),
        episodes=tuple(episodes),
    )
    return bible, series, [r.episode_id for r in rows]


def _label(episodes: Sequence[PriorEpisode], name: str) -> str:
    """The speaker label the episodes give a character (``ROOK`` for Elias Rook)."""
    parts = {part.upper() for part in name.split()}
    counts: Counter[str] = Counter()
    for episode in episodes:
        for line in script_lines(episode.manifest):
            head = line.speaker.split()[0] if line.speaker else ""
            if head in parts:
                counts[head] += 1
    return counts.most_common(1)[0][0] if counts else name.split()[0].upper()


def _called(episodes: Sequence[PriorEpisode], name: str) -> str:
    """The part of a name the episodes use in their action lines ('Rook', not 'Elias')."""
    parts = name.split()
    counts: Counter[str] = Counter()
    for episode in episodes:
        texts = [str(episode.brief.get(k, "")) for k in ("hook", "twist", "payoff", "premise")]
        texts += [str(shot.get("action", "")) for shot in episode.manifest.get("shots", [])]
        for text in texts:
            for part in parts:
                counts[part] += len(re.findall(rf"\b{re.escape(part)}\b", text))
    best = max(parts, key=lambda part: (counts[part], -parts.index(part)))
    return best


def _guard_context(
    bible: StoryBible,
    series: Series,
    episode_id: str,
    audience: AudienceRead,
    metrics: dict[str, float],
    comments: list[str],
) -> GuardContext:
    base_brief, base_manifest = new_episode.blank_episode(bible.series_id, episode_id)
    # The episodes so far are the bible too: their names (a parent, a boat) may recur.
    reference = [series.title, series.audience]
    for episode in bible.episodes:
        reference.append(episode.title)
        reference += list(strings_in(dict(episode.brief)))
        reference += list(strings_in(dict(episode.manifest)))
    untrusted = [t for thread in audience.threads for t in thread.texts]
    return GuardContext(
        series_id=bible.series_id,
        episode_id=episode_id,
        series_premise=bible.premise,
        brand=bible.brand,
        characters=[Character(name=p.name, description=p.description) for p in bible.people],
        constraints=bible.constraints,
        brief=base_brief,
        manifest=base_manifest,
        known_comment_ids=audience.comment_ids,
        known_metrics=metrics,
        untrusted_texts=untrusted,
        reference_texts=reference,
        comment_texts=comments,
    )


def _vetter(ctx: GuardContext, reference: str) -> Vetter:
    """The guard's rules for one candidate text: brand, names, slop, injection, copying."""
    vocabulary = ctx.vocabulary()
    comments = ctx.comment_index()

    def vet(text: str) -> bool:
        if not text.strip():
            return False
        if brand.banned_terms_in(text, ctx.brand.banned_terms):
            return False
        if brand.rating_violations(text, ctx.brand.rating):
            return False
        if brand.sensitive_topics_introduced(text, ctx.brand.sensitive_topics, reference):
            return False
        if continuity.unknown_names(text, vocabulary):
            return False
        if slop.slop_phrases(text) or slop.empty_slots(text) or slop.repetition(text):
            return False
        if injection_markers(text):
            return False
        return comments.lifted(text) is None

    return vet


def _comment_texts(session: Session, series_id: str) -> Iterable[str]:
    query = (
        select(Comment.text)
        .where(Comment.series_id == series_id)
        .order_by(col(Comment.comment_id))
        .execution_options(yield_per=5000)
    )
    yield from session.exec(query)


def draft_next_episode(settings: Settings, series_id: str) -> Draft:
    """Draft the series' next episode (nothing is stored; see :func:`propose_next_episode`).

    Raises:
        InputError: no such series, or it has no episodes to continue.
        GuardrailRefusal: the draft fails the brand guard (the reasons say where).
    """
    with session_scope(settings) as session:
        bible, series, existing = _read_bible(session, series_id)
        cast = [p.name for p in bible.people]
        anchors = story_anchors(bible.episodes, [bible.premise])
        audience = read_audience(settings, session, series_id, cast, anchors)
        comments = list(_comment_texts(session, series_id))
    episode_id = next_episode_id(existing)
    metrics: dict[str, float] = {}
    ctx = _guard_context(bible, series, episode_id, audience, metrics, comments)
    base_brief, base_manifest = new_episode.blank_episode(series_id, episode_id)
    reference = " \n".join(
        [ctx.series_premise, *sorted(set(strings_in(base_brief)) | set(strings_in(base_manifest)))]
    )
    vet = _vetter(ctx, reference)
    episode = compose(bible, audience, episode_id=episode_id, vet=vet)
    _unspoiled_title(episode, ctx)
    last = bible.episodes[-1]
    if episode.question is not None:
        metrics["question_viewers"] = float(episode.question.authors)
    if audience.ship is not None:
        metrics["ship_viewers"] = float(audience.ship.authors)
    metrics["runtime_s"] = sum(float(s["duration_s"]) for s in episode.shots)
    ctx.known_metrics = metrics
    proposal = _proposal(bible, episode, audience, metrics, base_manifest, last, vet)
    verdict = check(proposal, ctx)
    brief, manifest = apply_changes(
        base_brief, base_manifest, [c.model_dump() for c in proposal.changes]
    )
    if not verdict.passed:
        raise GuardrailRefusal(
            f"the draft of {series_id}/{episode_id} did not pass the brand guard, so nothing "
            "was proposed: " + "; ".join(verdict.reasons)
        )
    return Draft(
        series_id=series_id,
        episode_id=episode_id,
        position=last.position + 1,
        after=last.episode_id,
        episode=episode,
        proposal=proposal,
        audience=audience,
        verdict=verdict,
        brief=brief,
        manifest=manifest,
        guard=ctx,
    )


def _unspoiled_title(episode: DraftEpisode, ctx: GuardContext) -> None:
    """Drop title options that give the draft's own twist or payoff away."""
    manifest = {"shots": episode.shots}
    names = ctx.names()
    keep = [
        t
        for t in episode.title_options
        if not story.spoilers([("brief.title", t)], episode.brief, manifest, names=names)
    ]
    if keep and keep != episode.title_options:
        episode.title_options = keep
        episode.title = episode.brief["title"] = keep[0]


def _proposal(
    bible: StoryBible,
    episode: DraftEpisode,
    audience: AudienceRead,
    metrics: dict[str, float],
    base_manifest: dict[str, Any],
    last: PriorEpisode,
    vet: Vetter,
) -> BriefChangeProposal:
    brief = episode.brief
    changes = [
        FieldChange(path=f"brief.{key}", before=None, after=brief[key])
        for key in ("title", "premise", "hook", "twist", "payoff", "beats")
        if brief.get(key)
    ]
    frame = {k: last.manifest.get(k) for k in ("fps", "width", "height")}
    for key, value in frame.items():
        if value is not None and value != base_manifest[key]:
            changes.append(FieldChange(path=f"manifest.{key}", before=None, after=value))
    changes.append(FieldChange(path="manifest.shots", before=None, after=episode.shots))
    question = episode.question
    asked = (
        f"answers the story {question.kind} {question.authors} distinct viewers share"
        if question is not None
        else "has no open audience question to answer"
    )
    # The title is not repeated here: it is its own change (with alternatives to choose).
    summary = (
        f"Draft of {episode.episode_id}, the episode after {last.episode_id}: it opens on "
        f"that episode's payoff, {asked}, and ends on a new cliffhanger. "
        f"{len(episode.shots)} shots, {metrics['runtime_s']:g} s."
    )
    choices = []
    if len(episode.title_options) >= 2:
        choices.append(Choice(slot="title", path="brief.title", options=episode.title_options))
    return BriefChangeProposal(
        episode_id=episode.episode_id,
        kind="new_episode",
        summary=summary[:600],
        target=f"the next episode after {last.episode_id} ('{last.title}')",
        expected_effect=(
            "an episode that starts where viewers were left hanging and pays off what they "
            "asked, ready to render once approved"
        ),
        changes=changes,
        evidence=Evidence(metrics=metrics, comment_ids=_cited(episode, audience)),
        rationale="; ".join(n for n in episode.notes if vet(n)),
        choices=choices,
    )


def _cited(episode: DraftEpisode, audience: AudienceRead) -> list[str]:
    """The comments behind the draft: the question it answers and the ship it serves."""
    ids: list[str] = []
    for thread in (episode.question, audience.ship):
        if thread is not None:
            ids += thread.comment_ids
    return list(dict.fromkeys(ids))


def propose_next_episode(
    settings: Settings, series_id: str, *, requested_by: str | None = None
) -> tuple[Draft, dict[str, Any]]:
    """Draft the next episode and store it as a pending ``new_episode`` proposal.

    Idempotent: the same room drafts the same episode, which is the same proposal.

    Args:
        settings: The room.
        series_id: The series to draft for.
        requested_by: Who asked for the draft (``--as``, the Slack user), recorded in the
            audit log as ``draft.requested``; asking is not approving.

    Returns:
        ``(draft, proposal)`` — the proposal as ``store.proposals.public_view`` shows it.
    """
    from writers_room.store.proposals import public_view

    draft = draft_next_episode(settings, series_id)
    with session_scope(settings) as session:
        (row,) = store_pending(
            session, series_id=series_id, window_end=None, proposals=[draft.proposal]
        )
        view = public_view(row)
        if requested_by:
            audit(
                session,
                actor=requested_by,
                action="draft.requested",
                subject=view["proposal_id"],
                content_hash=view["content_hash"],
                detail={"series_id": series_id, "episode_id": draft.episode_id},
            )
    existing = view["status"]
    log.info("draft %s of %s/%s is %s", view["proposal_id"], series_id, draft.episode_id, existing)
    return draft, view


def pending_drafts(settings: Settings, series_id: str) -> list[str]:
    """Ids of the series' ``new_episode`` proposals waiting for a decision."""
    with session_scope(settings) as session:
        return list(
            session.exec(
                select(Proposal.proposal_id).where(
                    Proposal.series_id == series_id,
                    Proposal.kind == new_episode.KIND,
                    Proposal.status == "pending",
                )
            )
        )
