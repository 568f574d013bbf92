"""The approval gate: no brief changes without an authorised human's decision on exactly
the content they saw.

The database, not graph state, is the authority:

* proposals are stored ``pending`` with a content hash of their summary and diff;
* a decision is one conditional update (``pending → approved | rejected``, only if the
  hash still matches) plus a unique decision row, in one transaction — which works on
  SQLite (no row locks) and PostgreSQL alike, so twenty concurrent clicks make one
  decision;
* the approver must be in ``WRITERS_ROOM_APPROVERS`` or the series' own list; an empty
  list denies everyone;
* applying needs an approved decision row bound to the proposal's current hash, and moves
  ``approved → applied`` exactly once.

A ``new_episode`` proposal (a drafted episode, see ``writer/draft.py``) goes through the
same gate. It is a diff of the blank episode (``brief/new_episode.py``), stored with
``base_version`` 0; applying it registers the episode (next position, its brief's title)
and writes its version 1, in the same transaction as ``approved → applied``. It is refused
if the episode exists by then (another draft for the same id was applied first).
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, NoReturn

from sqlalchemy import func, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from writers_room.brief import new_episode
from writers_room.brief.bundle import Brief
from writers_room.brief.manifest import ShotManifest
from writers_room.brief.proposals import BriefChangeProposal, apply_changes, content_hash
from writers_room.config import Settings
from writers_room.errors import GuardrailRefusal, InputError, NotAWriter
from writers_room.guardrails.iteration_limit import record_human_input
from writers_room.ingest.series import current_brief
from writers_room.store.db import audit, session_scope
from writers_room.store.models import BriefVersion, Decision, Episode, Note, Proposal, Series

__all__ = [
    "AlreadyDecided",
    "NotAWriter",
    "NotAnApprover",
    "add_note",
    "apply_proposal",
    "decide",
    "is_approver",
    "is_writer",
    "store_pending",
]


class NotAnApprover(GuardrailRefusal):
    """The person is not allowed to decide proposals of this series."""


class AlreadyDecided(GuardrailRefusal):
    """The proposal was decided before; carries who and when."""

    def __init__(self, message: str, *, decided_by: str | None, decided_at: datetime | None):
        super().__init__(message)
        self.decided_by = decided_by
        self.decided_at = decided_at


def _proposal_id(series_id: str, window_end: datetime | None, digest: str) -> str:
    stamp = window_end.isoformat() if window_end else "adhoc"
    return "p-" + hashlib.sha256(f"{series_id}|{stamp}|{digest}".encode()).hexdigest()[:12]


def store_pending(
    session: Session,
    *,
    series_id: str,
    window_end: datetime | None,
    proposals: list[BriefChangeProposal],
    thread_id: str | None = None,
    iteration: int = 0,
) -> list[Proposal]:
    """Store proposals as ``pending`` (idempotent: same content, same id, one row)."""
    rows = []
    for proposal in proposals:
        base_version = _base_version(session, series_id, proposal)
        changes = [c.model_dump(mode="json") for c in proposal.changes]
        choices = [c.model_dump(mode="json") for c in proposal.choices]
        digest = content_hash(
            episode_id=proposal.episode_id,
            kind=proposal.kind,
            summary=proposal.summary,
            changes=changes,
            base_version=base_version,
            choices=choices,
        )
        proposal_id = _proposal_id(series_id, window_end, digest)
        row = session.get(Proposal, proposal_id)
        if row is None:
            row = Proposal(
                proposal_id=proposal_id,
                series_id=series_id,
                episode_id=proposal.episode_id,
                window_end=window_end,
                status="pending",
                kind=proposal.kind,
                summary=proposal.summary,
                changes={"items": changes, **({"choices": choices} if choices else {})},
                evidence={
                    **proposal.evidence.model_dump(mode="json"),
                    "target": proposal.target,
                    "expected_effect": proposal.expected_effect,
                    "rationale": proposal.rationale,
                },
                assets=list(proposal.assets),
                content_hash=digest,
                base_version=base_version,
                iteration=iteration,
                thread_id=thread_id,
            )
            session.add(row)
            audit(
                session,
                actor="room",
                action="proposal.created",
                subject=proposal_id,
                content_hash=digest,
                detail={"series_id": series_id, "episode_id": proposal.episode_id},
            )
        rows.append(row)
    session.flush()
    return rows


def _base_version(session: Session, series_id: str, proposal: BriefChangeProposal) -> int:
    """The brief version a proposal is a diff of (0 for a new episode: the blank one).

    Raises:
        InputError: the episode does not exist (or, for ``new_episode``, already does),
            or the series does not exist.
    """
    if proposal.kind != new_episode.KIND:
        brief = current_brief(session, series_id, proposal.episode_id)
        if brief is None:
            raise InputError(f"series {series_id!r} has no episode {proposal.episode_id!r}")
        return brief.version
    if session.get(Series, series_id) is None:
        raise InputError(f"no series {series_id!r}", field="series_id", value=series_id)
    if session.get(Episode, (series_id, proposal.episode_id)) is not None:
        raise InputError(
            f"series {series_id!r} already has an episode {proposal.episode_id!r}; a "
            "new_episode proposal drafts one that does not exist yet",
            field="episode_id",
            value=proposal.episode_id,
        )
    return new_episode.BASE_VERSION


def is_approver(settings: Settings, session: Session, series_id: str, who: str) -> bool:
    """True when ``who`` may decide proposals of ``series_id`` (empty lists deny all)."""
    series = session.get(Series, series_id)
    allowed = settings.approver_set(series.approvers if series else [])
    return bool(who) and who in allowed


@dataclass(frozen=True)
class DecisionOutcome:
    decision: Decision
    proposal: Proposal


def decide(
    settings: Settings,
    proposal_id: str,
    *,
    actor: str,
    approve: bool,
    note: str = "",
    shown_hash: str | None = None,
    edited_changes: list[dict[str, Any]] | None = None,
) -> DecisionOutcome:
    """Record the one human decision on a proposal.

    Args:
        actor: who decides (Slack user id or CLI name); must be an approver.
        approve: approve (True) or reject (False).
        note: the approver's note or rejection reason.
        shown_hash: the content hash the human was shown; a mismatch is refused.
        edited_changes: the human's edit of the diff; it replaces the proposal's changes
            (a new content hash) and counts as fresh human creative input.

    Raises:
        NotAnApprover: ``actor`` may not decide for this series (nothing changes).
        AlreadyDecided: someone decided before (nothing changes).
        GuardrailRefusal: the content changed since it was shown.
        InputError: no such proposal, a rejection without a reason, or an edit that does
            not apply.
    """
    verdict = "approved" if approve else "rejected"
    edited = edited_changes is not None
    with session_scope(settings) as session:
        proposal = session.get(Proposal, proposal_id)
        if proposal is None:
            raise InputError(f"no proposal {proposal_id!r}; see `writers-room proposals`")
        _check_decidable(
            settings, session, proposal, actor=actor, approve=approve, note=note, shown=shown_hash
        )
        changes, expected_hash = _decided_content(session, proposal, edited_changes)
        now = datetime.now(UTC)
        values: dict[str, Any] = {"status": verdict, "decided_by": actor, "decided_at": now}
        if edited:
            values.update(
                changes={**proposal.changes, "items": changes}, content_hash=expected_hash
            )
        _claim_pending(settings, session, proposal, values)
        decision = Decision(
            proposal_id=proposal_id,
            decision=verdict,
            decided_by=actor,
            content_hash=expected_hash,
            note=note,
            edited=edited,
            decided_at=now,
        )
        session.add(decision)
        _record_decision(session, proposal, decision)
        try:
            session.flush()
        except IntegrityError:
            session.rollback()
            _raise_already(settings, proposal_id)
        session.refresh(proposal)
        return DecisionOutcome(decision=decision, proposal=proposal)


def _check_decidable(
    settings: Settings,
    session: Session,
    proposal: Proposal,
    *,
    actor: str,
    approve: bool,
    note: str,
    shown: str | None,
) -> None:
    """Refuse, before anything is written, a decision :func:`decide` must not record."""
    if not is_approver(settings, session, proposal.series_id, actor):
        raise NotAnApprover(
            f"{actor or 'an unknown user'} is not an approver for series "
            f"{proposal.series_id!r}: ask a showrunner, or add them to "
            "WRITERS_ROOM_APPROVERS or the series' approvers"
        )
    if proposal.status != "pending":
        raise _already(proposal)
    if not approve and not note.strip():
        raise InputError(
            f"rejecting {proposal.proposal_id} needs a reason (the ideator learns from it); "
            "nothing was decided",
            field="reason",
        )
    if shown is not None and shown != proposal.content_hash:
        raise GuardrailRefusal(
            f"proposal {proposal.proposal_id} changed after it was shown to {actor}; "
            "nothing was decided — review the current version and decide again"
        )


def _decided_content(
    session: Session, proposal: Proposal, edited_changes: list[dict[str, Any]] | None
) -> tuple[list[dict[str, Any]], str]:
    """The changes decided on and their content hash: the proposal's, or the human's edit."""
    if edited_changes is None:
        return proposal.changes.get("items", []), proposal.content_hash
    _check_edit(session, proposal, edited_changes)
    return edited_changes, content_hash(
        episode_id=proposal.episode_id,
        kind=proposal.kind,
        summary=proposal.summary,
        changes=edited_changes,
        base_version=proposal.base_version,
        choices=proposal.changes.get("choices"),
    )


def _claim_pending(
    settings: Settings, session: Session, proposal: Proposal, values: dict[str, Any]
) -> None:
    """The one conditional update: still pending, still the hash that was read."""
    result = session.execute(
        update(Proposal)
        .where(
            col(Proposal.proposal_id) == proposal.proposal_id,
            col(Proposal.status) == "pending",
            col(Proposal.content_hash) == proposal.content_hash,
        )
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:  # type: ignore[attr-defined]
        session.rollback()
        _raise_already(settings, proposal.proposal_id)


def _record_decision(session: Session, proposal: Proposal, decision: Decision) -> None:
    """The decision's side rows in the same transaction: fresh human input for an edit, audit."""
    actor, note = decision.decided_by, decision.note
    if decision.edited:
        record_human_input(
            session,
            series_id=proposal.series_id,
            episode_id=proposal.episode_id,
            author=actor,
            text=note or f"edited proposal {proposal.proposal_id}",
            kind="edit",
        )
    audit(
        session,
        actor=actor,
        action=f"decision.{decision.decision}",
        subject=proposal.proposal_id,
        content_hash=decision.content_hash,
        detail={"note": note, "edited": decision.edited},
    )


def _raise_already(settings: Settings, proposal_id: str) -> NoReturn:
    """Someone else decided first: say who and when, read in a fresh session."""
    with session_scope(settings) as fresh:
        current = fresh.get(Proposal, proposal_id)
        assert current is not None
        raise _already(current) from None


def _already(proposal: Proposal) -> AlreadyDecided:
    when = proposal.decided_at.strftime("%Y-%m-%d %H:%M UTC") if proposal.decided_at else "?"
    return AlreadyDecided(
        f"proposal {proposal.proposal_id} was already {proposal.status} by "
        f"{proposal.decided_by} at {when}; nothing changed",
        decided_by=proposal.decided_by,
        decided_at=proposal.decided_at,
    )


def _base(session: Session, proposal: Proposal) -> tuple[dict[str, Any], dict[str, Any]]:
    """The (brief, manifest) a stored proposal is a diff of."""
    if proposal.kind == new_episode.KIND:
        return new_episode.blank_episode(proposal.series_id, proposal.episode_id)
    base = session.exec(
        select(BriefVersion).where(
            BriefVersion.series_id == proposal.series_id,
            BriefVersion.episode_id == proposal.episode_id,
            BriefVersion.version == proposal.base_version,
        )
    ).one()
    return base.brief, base.manifest


def _check_edit(session: Session, proposal: Proposal, changes: list[dict[str, Any]]) -> None:
    brief, manifest = _base(session, proposal)
    try:
        brief, manifest = apply_changes(brief, manifest, changes)
        ShotManifest.model_validate(manifest)
        if proposal.kind == new_episode.KIND:
            Brief.model_validate(brief)
    except (ValueError, TypeError, KeyError) as exc:
        # KeyError/TypeError: a shot without a duration, a value of the wrong type.
        raise InputError(f"the edited proposal does not apply: {exc!s}") from None


def apply_proposal(settings: Settings, proposal_id: str, *, actor: str = "room") -> BriefVersion:
    """Write the new brief version of an approved proposal (exactly once).

    A ``new_episode`` proposal registers its episode and writes version 1 instead.

    Raises:
        GuardrailRefusal: there is no approved decision bound to the proposal's content,
            or the proposal was already applied, or the brief moved on since, or the
            drafted episode exists by now (nothing changes in any of these cases).
    """
    with session_scope(settings) as session:
        proposal = session.get(Proposal, proposal_id)
        if proposal is None:
            raise InputError(f"no proposal {proposal_id!r}")
        decision = session.exec(select(Decision).where(Decision.proposal_id == proposal_id)).first()
        if decision is None or decision.decision != "approved":
            raise GuardrailRefusal(
                f"proposal {proposal_id} has no approval by an authorised human; "
                "the brief was not changed"
            )
        if decision.content_hash != proposal.content_hash:
            raise GuardrailRefusal(
                f"proposal {proposal_id} changed after it was approved; the brief was not changed"
            )
        if proposal.status == "applied":
            raise GuardrailRefusal(f"proposal {proposal_id} was already applied")
        if proposal.kind == new_episode.KIND:
            return _apply_new_episode(session, proposal, decision, actor=actor)
        episode = session.get(Episode, (proposal.series_id, proposal.episode_id))
        assert episode is not None
        if episode.current_version != proposal.base_version:
            raise GuardrailRefusal(
                f"proposal {proposal_id} was written for brief version {proposal.base_version} "
                f"but {proposal.episode_id} is at version {episode.current_version} now"
            )
        _mark_applied(session, proposal_id)
        base = current_brief(session, proposal.series_id, proposal.episode_id)
        assert base is not None
        brief, manifest = apply_changes(base.brief, base.manifest, proposal.changes["items"])
        version = base.version + 1
        manifest["brief_version"] = version
        ShotManifest.model_validate(manifest)
        row = BriefVersion(
            series_id=proposal.series_id,
            episode_id=proposal.episode_id,
            version=version,
            brief=brief,
            manifest=manifest,
            source=f"proposal:{proposal_id}",
            proposal_id=proposal_id,
            created_by=decision.decided_by,
        )
        session.add(row)
        episode.current_version = version
        session.add(episode)
        audit(
            session,
            actor=actor,
            action="proposal.applied",
            subject=proposal_id,
            content_hash=proposal.content_hash,
            detail={"version": version, "approved_by": decision.decided_by},
        )
        session.flush()
        return row


def _mark_applied(session: Session, proposal_id: str) -> None:
    result = session.execute(
        update(Proposal)
        .where(col(Proposal.proposal_id) == proposal_id, col(Proposal.status) == "approved")
        .values(status="applied")
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:  # type: ignore[attr-defined]
        raise GuardrailRefusal(f"proposal {proposal_id} is not in the approved state")


def _apply_new_episode(
    session: Session, proposal: Proposal, decision: Decision, *, actor: str
) -> BriefVersion:
    """Register a drafted episode at the next position and write its version 1.

    Runs inside :func:`apply_proposal`'s transaction: ``approved → applied``, the
    ``Episode`` row and ``BriefVersion`` 1 commit together or not at all.
    """
    series_id, episode_id = proposal.series_id, proposal.episode_id
    if session.get(Episode, (series_id, episode_id)) is not None:
        raise GuardrailRefusal(
            f"proposal {proposal.proposal_id} drafts {episode_id}, but {series_id} has an "
            f"episode {episode_id} now (another draft was applied first); nothing was written"
        )
    _mark_applied(session, proposal.proposal_id)
    base_brief, base_manifest = new_episode.blank_episode(series_id, episode_id)
    brief, manifest = apply_changes(base_brief, base_manifest, proposal.changes["items"])
    version = new_episode.BASE_VERSION + 1
    manifest["brief_version"] = version
    stored_manifest = ShotManifest.model_validate(manifest).model_dump(mode="json")
    stored_brief = Brief.model_validate(brief).stored()
    last = session.exec(
        select(func.max(Episode.position)).where(Episode.series_id == series_id)
    ).one()
    position = 0 if last is None else int(last) + 1
    session.add(
        Episode(
            series_id=series_id,
            episode_id=episode_id,
            title=new_episode.episode_title(stored_brief, episode_id),
            position=position,
            current_version=version,
        )
    )
    row = BriefVersion(
        series_id=series_id,
        episode_id=episode_id,
        version=version,
        brief=stored_brief,
        manifest=stored_manifest,
        source=f"proposal:{proposal.proposal_id}",
        proposal_id=proposal.proposal_id,
        created_by=decision.decided_by,
    )
    session.add(row)
    audit(
        session,
        actor=actor,
        action="proposal.applied",
        subject=proposal.proposal_id,
        content_hash=proposal.content_hash,
        detail={
            "version": version,
            "approved_by": decision.decided_by,
            "new_episode": episode_id,
            "position": position,
        },
    )
    try:
        session.flush()
    except IntegrityError:
        # Two drafts of the same episode applied at once: the other one registered it
        # (session_scope rolls this transaction back, ``applied`` included).
        raise GuardrailRefusal(
            f"proposal {proposal.proposal_id} drafts {episode_id}, which was registered "
            "meanwhile; nothing was written"
        ) from None
    return row


# A note resets the blind-iteration count, so it has to say something: at least this
# many words (a word: a run of letters or digits).
NOTE_MIN_WORDS = 3


def is_writer(settings: Settings, session: Session, series_id: str, who: str) -> bool:
    """True when ``who`` may add notes to ``series_id``: a writer, showrunner or approver."""
    series = session.get(Series, series_id)
    allowed = settings.writer_set(series.approvers if series else [])
    return bool(who.strip()) and who in allowed


def add_note(
    settings: Settings, *, series_id: str, episode_id: str, author: str, text: str
) -> Note:
    """Fresh human creative input about an episode (resets its blind-iteration count).

    Raises:
        InputError: empty text, fewer than ``NOTE_MIN_WORDS`` words, or no such episode.
        NotAWriter: ``author`` is not in ``WRITERS_ROOM_WRITERS``, the showrunners or the
            approvers (global or the series' own); nothing is stored.
    """

    text = text.strip()
    if not text:
        raise InputError("a note needs some text", field="text", value=text)
    words = len(re.findall(r"\w+", text))
    if words < NOTE_MIN_WORDS:
        raise InputError(
            f"a note needs at least {NOTE_MIN_WORDS} words of creative direction "
            f"(got {words}: {text!r}); it resets the blind-iteration count",
            field="text",
            value=text,
        )
    with session_scope(settings) as session:
        if session.get(Episode, (series_id, episode_id)) is None:
            raise InputError(f"series {series_id!r} has no episode {episode_id!r}")
        if not is_writer(settings, session, series_id, author):
            raise NotAWriter(
                f"{author.strip() or 'an unidentified person'} may not add notes to series "
                f"{series_id!r}: notes come from writers (WRITERS_ROOM_WRITERS), showrunners "
                "and approvers only; nothing was stored"
            )
        return record_human_input(
            session, series_id=series_id, episode_id=episode_id, author=author, text=text
        )
