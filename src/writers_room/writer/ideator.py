"""The ideator: turns a metric gap into concrete proposals for one episode's brief.

Two writers share one protocol, :class:`Ideator`:

* :class:`OfflineWriter` (the default, ``WRITERS_ROOM_LLM=offline``): deterministic,
  rule-based, says so in every rationale.
* :class:`LLMIdeator` (``openai``): a chat model handed the whole script, the bible, the
  brief, the evidence as sentences, fenced comments, the writers' notes and the rejected
  ideas (see :mod:`writers_room.writer.prompts`). It answers through structured output
  (:class:`ProposalDrafts`: changes, written alternatives in ``choices``, the findings and
  comments it rests on), schema-validated and re-asked on errors. The ``before`` values,
  the measured numbers and the comment quotes are filled from the context rather than
  trusted from the model, and it has no tools at all.

Both return :class:`~writers_room.brief.proposals.BriefChangeProposal` values and nothing
else; the brand guard checks them and a human decides.
"""

from __future__ import annotations

import re
from typing import Any, Protocol, runtime_checkable

from langchain_core.language_models import BaseChatModel
from pydantic import BaseModel, ConfigDict, Field

from writers_room.brief.bundle import Brief
from writers_room.brief.paths import value_at
from writers_room.brief.proposals import (
    PATH_PATTERN,
    BriefChangeProposal,
    Choice,
    ChoiceSlot,
    Evidence,
    FieldChange,
    ProposalKind,
    apply_changes,
)
from writers_room.brief.report import FindingKind
from writers_room.config import Settings
from writers_room.guardrails.fencing import leaks_canary, new_canary
from writers_room.guardrails.text import shorten
from writers_room.writer.context import (
    IdeationContext,
    build_contexts,
    guard_context,
    known_numbers,
)
from writers_room.writer.llm import (
    DEFAULT_ATTEMPTS,
    LLMUsage,
    Method,
    UsageRecorder,
    audit_recorder,
    chat_model,
    structured_call,
)
from writers_room.writer.offline import OfflineWriter
from writers_room.writer.prompts import ideation_messages

__all__ = [
    "DraftChange",
    "DraftChoice",
    "DraftEvidence",
    "IdeationContext",
    "Ideator",
    "LLMIdeator",
    "OfflineWriter",
    "ProposalDraft",
    "ProposalDrafts",
    "build_contexts",
    "get_ideator",
    "guard_context",
]

MAX_PROPOSALS = 5
MAX_CHOICES = 8


@runtime_checkable
class Ideator(Protocol):
    """Anything that turns an :class:`IdeationContext` into proposals."""

    def propose(self, ctx: IdeationContext) -> list[BriefChangeProposal]:
        """Proposals for ``ctx.episode_id`` (possibly none)."""
        ...


class DraftChange(BaseModel):
    """One field to change (the room fills in the current value itself)."""

    model_config = ConfigDict(extra="forbid")

    path: str = Field(
        pattern=PATH_PATTERN.pattern,
        description="brief.hook, brief.title, brief.beats[2], manifest.shots[3].dialogue, "
        "manifest.shots[3].duration_s, manifest.shots[3] (whole shot) or manifest.shots[+] "
        "(append a shot).",
    )
    after: Any = Field(
        description="The new value, written out: text for brief fields, captions and "
        "actions; dialogue as 'SPEAKER: line' with ' / ' between speakers; a number of "
        "seconds for duration_s; a whole shot object for manifest.shots[i] or [+]."
    )


class DraftChoice(BaseModel):
    """A creative choice: two or three written alternatives for a human to pick from."""

    model_config = ConfigDict(extra="forbid")

    slot: ChoiceSlot = Field(
        description="What is chosen: hook, headline, title, stinger, caption, thumbnail, line."
    )
    path: str | None = Field(
        default=None,
        pattern=PATH_PATTERN.pattern,
        description="The field the chosen option writes (a path one of the changes sets); "
        "null for copy published with the episode (headlines, thumbnail text).",
    )
    options: list[str] = Field(
        min_length=1,
        max_length=3,
        description="The written alternatives, 2-3 for hook, headline, title and stinger; "
        "with a path, the first is exactly what the change at that path writes.",
    )


class DraftEvidence(BaseModel):
    """What the proposal rests on (the room attaches the measured numbers itself)."""

    model_config = ConfigDict(extra="forbid")

    findings: list[FindingKind] = Field(
        default_factory=list, description="The diagnosis kinds it answers."
    )
    comment_ids: list[str] = Field(
        default_factory=list, description="Ids of the comments behind it (from the blocks)."
    )


class ProposalDraft(BaseModel):
    """A proposal as the model writes it."""

    model_config = ConfigDict(extra="forbid")

    kind: ProposalKind = Field(description="hook_rewrite, packaging, pacing_cut, ...")
    summary: str = Field(min_length=10, max_length=600, description="One paragraph for humans.")
    target: str = Field(min_length=3, description="The metric gap it targets, with numbers.")
    expected_effect: str = Field(min_length=3, description="What should move, and how much.")
    changes: list[DraftChange] = Field(min_length=1, max_length=24)
    evidence: DraftEvidence = Field(default_factory=DraftEvidence)
    choices: list[DraftChoice] = Field(
        default_factory=list,
        max_length=MAX_CHOICES,
        description="Written alternatives for the creative choices (hook, headline, title, "
        "stinger).",
    )
    assets: list[str] = Field(
        default_factory=list,
        max_length=12,
        description="Other assets to produce: thumbnail: ..., alt opening (0-15 s): ...",
    )
    rationale: str = Field(
        default="", max_length=600, description="One or two sentences quoting the evidence."
    )


class ProposalDrafts(BaseModel):
    """The model's whole answer."""

    model_config = ConfigDict(extra="forbid")

    proposals: list[ProposalDraft] = Field(max_length=MAX_PROPOSALS)


_BRIEF_FIELDS = frozenset(Brief.model_fields)
_TOP_FIELD = re.compile(r"^(brief|manifest)\.[A-Za-z_][A-Za-z0-9_]*")


def _before(ctx: IdeationContext, path: str, where: str) -> Any:
    """The value in force at ``path``; a ``ValueError`` says which paths exist."""
    if path.endswith("[+]"):
        return None
    exists, before = value_at(ctx.brief, ctx.manifest, path)
    if exists:
        return before
    # A brief field only a proposal sets (title, default_variant) may be set the first time.
    if path.startswith("brief.") and path[len("brief.") :] in _BRIEF_FIELDS:
        return None
    shots = len(ctx.manifest.get("shots", []))
    raise ValueError(
        f"{where}.path {path!r} does not exist (brief fields: "
        f"{', '.join(sorted(set(ctx.brief) | _BRIEF_FIELDS))}; shots 0-{shots - 1})"
    )


def _field_of(path: str) -> str:
    """``manifest.shots[3].caption`` -> ``manifest.shots``: the top field a path is in."""
    match = _TOP_FIELD.match(path)
    return match.group(0) if match else path


def _choices(
    draft: ProposalDraft, changes: list[FieldChange], ctx: IdeationContext, where: str
) -> list[Choice]:
    """The draft's choices, each first option matching what its change writes.

    A choice's path is one a change sets, or lies inside a larger value a change writes
    (a line of a new shot); its first option is the value there once the changes apply.
    """
    written = {c.path: c.after for c in changes}
    fields = {_field_of(path) for path in written}
    applied: tuple[dict[str, Any], dict[str, Any]] | None = None
    out = []
    for number, choice in enumerate(draft.choices):
        options = list(dict.fromkeys(o.strip() for o in choice.options if o.strip()))
        label = f"{where}.choices[{number}] ({choice.slot})"
        if not options:
            raise ValueError(f"{label} has no written option")
        if choice.path is not None:
            if choice.path in written:
                after = written[choice.path]
            elif _field_of(choice.path) in fields:
                if applied is None:
                    try:
                        applied = apply_changes(
                            ctx.brief, ctx.manifest, [c.model_dump() for c in changes]
                        )
                    except (TypeError, KeyError) as exc:  # a shot object without its fields
                        raise ValueError(f"{where}.changes do not apply: {exc!r}") from exc
                exists, after = value_at(applied[0], applied[1], choice.path)
                if not exists:
                    raise ValueError(f"{label}: {choice.path} does not exist after the changes")
            else:
                raise ValueError(
                    f"{label} writes {choice.path}, which none of the changes sets; add that "
                    "change or give the choice path null"
                )
            if after in options:
                # The change's value leads: the order of the others is the model's.
                options.remove(after)
                options.insert(0, after)
            else:
                raise ValueError(
                    f"{label}: its first option must be exactly what the change at "
                    f"{choice.path} writes ({shorten(repr(after), 80)})"
                )
        out.append(Choice(slot=choice.slot, path=choice.path, options=options))
    return out


def _complete(
    drafts: ProposalDrafts, ctx: IdeationContext, *, canary: str, model: str
) -> list[BriefChangeProposal]:
    """Turn drafts into proposals; a ``ValueError`` names what to fix (and is re-asked)."""
    comments = {c.comment_id: c for c in ctx.comments}
    numbers = known_numbers(ctx.report)
    fired = {f.kind: f for f in ctx.report.findings}
    proposals = []
    for index, draft in enumerate(drafts.proposals):
        where = f"proposals[{index}]"
        if leaks_canary(draft.model_dump_json(), canary):
            raise ValueError(f"{where} repeats a line of the system prompt; never repeat it")
        changes = [
            FieldChange(
                path=change.path,
                before=_before(ctx, change.path, f"{where}.changes[{number}]"),
                after=change.after,
            )
            for number, change in enumerate(draft.changes)
        ]
        choices = _choices(draft, changes, ctx, where)
        unknown = [i for i in draft.evidence.comment_ids if i not in comments]
        if unknown:
            raise ValueError(
                f"{where}.evidence.comment_ids {unknown} are not ids of the comments given; "
                "cite only ids shown in the comment blocks"
            )
        unfired = [k for k in draft.evidence.findings if k not in fired]
        if unfired:
            raise ValueError(
                f"{where}.evidence.findings {unfired} did not fire for this episode; cite "
                f"only the diagnoses given ({', '.join(fired) or 'none'})"
            )
        # The report's numbers behind each diagnosis cited, never the model's copy of them.
        metrics = {
            key: numbers[key]
            for kind in draft.evidence.findings
            for key in fired[kind].evidence
            if key in numbers
        }
        proposals.append(
            BriefChangeProposal(
                episode_id=ctx.episode_id,
                kind=draft.kind,
                summary=draft.summary,
                target=draft.target,
                expected_effect=draft.expected_effect,
                changes=changes,
                evidence=Evidence(
                    metrics=metrics,
                    comment_ids=list(draft.evidence.comment_ids),
                    quotes=[comments[i].text[:200] for i in draft.evidence.comment_ids],
                    findings=list(dict.fromkeys(draft.evidence.findings)),
                ),
                assets=list(draft.assets),
                rationale=f"LLM ideator ({model}): {draft.rationale}".strip(),
                choices=choices,
            )
        )
    return proposals


class LLMIdeator:
    """Proposals from a chat model, schema-validated; the model gets no tools.

    Args:
        model: Any langchain-core chat model (see :func:`~writers_room.writer.llm.chat_model`).
        method: How structured output is requested (``json_schema`` by default).
        max_attempts: Calls per round, including re-asks with validation errors.
        recorder: Where each call's token accounting goes (e.g. the audit log).
        max_proposals: The most proposals asked for per episode.
    """

    name = "llm"

    def __init__(
        self,
        model: BaseChatModel,
        *,
        method: Method = "json_schema",
        max_attempts: int = DEFAULT_ATTEMPTS,
        recorder: UsageRecorder | None = None,
        max_proposals: int = MAX_PROPOSALS,
    ) -> None:
        self.model = model
        self.method: Method = method
        self.max_attempts = max_attempts
        self.recorder = recorder
        self.max_proposals = max_proposals
        self.usage: list[LLMUsage] = []

    def _record(self, usage: LLMUsage) -> None:
        self.usage.append(usage)
        if self.recorder is not None:
            self.recorder(usage)

    def propose(self, ctx: IdeationContext) -> list[BriefChangeProposal]:
        """Ask the model for proposals for ``ctx.episode_id``.

        Raises:
            LLMCallError: The model could not be reached.
            LLMOutputError: It gave no valid answer in ``max_attempts`` calls.
        """
        canary = new_canary()
        model_name = str(getattr(self.model, "model_name", "") or type(self.model).__name__)
        messages = ideation_messages(ctx, canary=canary, max_proposals=self.max_proposals)
        return structured_call(
            self.model,
            messages,
            ProposalDrafts,
            postprocess=lambda drafts: _complete(drafts, ctx, canary=canary, model=model_name),
            method=self.method,
            max_attempts=self.max_attempts,
            recorder=self._record,
            purpose=f"ideate:{ctx.series.series_id}/{ctx.episode_id}",
        )


def get_ideator(settings: Settings) -> Ideator:
    """The ideator the settings ask for: the offline writer, or an LLM one.

    The LLM ideator writes its token accounting to the audit log, each call in its own
    short transaction (so do not hold a SQLite write transaction open around ``propose``).
    """
    model = chat_model(settings)
    if model is None:
        return OfflineWriter()
    return LLMIdeator(model, recorder=audit_recorder(settings))
