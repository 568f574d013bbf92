"""What the ideator returns: field-level changes to an episode's brief and shot manifest.

A proposal is a value, not an action. It only becomes a new brief version after an
authorised human approved exactly this content (see ``guardrails/approval.py``).
"""

from __future__ import annotations

import copy
import hashlib
import json
import re
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

__all__ = [
    "KIND_WORDS",
    "PATH_PATTERN",
    "PATH_TOKEN",
    "PROPOSAL_KINDS",
    "BriefChangeProposal",
    "Choice",
    "Evidence",
    "FieldChange",
    "apply_changes",
    "apply_choices",
    "check_chosen",
    "chosen_hash",
    "content_hash",
]

# Each kind of proposal in words (cards, pages).
KIND_WORDS = {
    "promote_variant": "Make the leading variant the default",
    "hook_rewrite": "Hook rewrite",
    "packaging": "Packaging",
    "pacing_cut": "Pacing cut",
    "participation": "Participation",
    "sequel": "Stinger / sequel",
    "note_followup": "Following a writer's note",
    "new_episode": "New episode",
}

ProposalKind = Literal[
    "promote_variant",
    "hook_rewrite",
    "packaging",
    "pacing_cut",
    "participation",
    "sequel",
    "note_followup",
    "new_episode",
]
PROPOSAL_KINDS: tuple[str, ...] = ProposalKind.__args__  # type: ignore[attr-defined]

# "brief.hook", "brief.beats[2]", "manifest.shots[3].duration_s", "manifest.shots[+]"
PATH_PATTERN = re.compile(r"^(brief|manifest)(\.[A-Za-z_][A-Za-z0-9_]*|\[(\d+|\+)\])+$")
PATH_TOKEN = re.compile(r"\.([A-Za-z_][A-Za-z0-9_]*)|\[(\d+|\+)\]")


class FieldChange(BaseModel):
    """One field of the brief or shot manifest, before and after."""

    model_config = ConfigDict(extra="forbid")

    path: str = Field(
        pattern=PATH_PATTERN.pattern,
        description="Dotted path, e.g. 'brief.hook' or 'manifest.shots[2].duration_s'; "
        "'[+]' appends to a list.",
    )
    before: Any = Field(default=None, description="Value in the brief version the diff is on.")
    after: Any = Field(description="Proposed value.")


class Evidence(BaseModel):
    """Why: the report numbers and the comments behind a proposal."""

    model_config = ConfigDict(extra="forbid")

    metrics: dict[str, float] = Field(
        default_factory=dict, description="Report numbers that motivate the change."
    )
    comment_ids: list[str] = Field(default_factory=list, description="Comments quoted.")
    quotes: list[str] = Field(default_factory=list, description="Redacted comment excerpts.")
    findings: list[str] = Field(default_factory=list, description="Diagnosis kinds addressed.")


ChoiceSlot = Literal["hook", "headline", "title", "stinger", "caption", "thumbnail", "line"]


class Choice(BaseModel):
    """A creative choice the approver makes: two or three written alternatives.

    The first option is the one the proposal's ``changes`` already write (at ``path``, or
    inside a larger value they write, such as a new shot); choosing another sets ``path``
    to it after the changes are applied. A choice without a path is copy to publish with
    the episode (a headline, thumbnail text).
    """

    model_config = ConfigDict(extra="forbid")

    slot: ChoiceSlot = Field(description="What is being chosen: hook, headline, title, ...")
    path: str | None = Field(
        default=None,
        pattern=PATH_PATTERN.pattern,
        description="The brief/manifest field the chosen option writes; None for copy.",
    )
    options: list[str] = Field(min_length=1, max_length=3, description="Written alternatives.")


class BriefChangeProposal(BaseModel):
    """A concrete, reviewable change to one episode's brief (and shot manifest)."""

    model_config = ConfigDict(extra="forbid")

    episode_id: str = Field(min_length=1)
    kind: ProposalKind = Field(description="What sort of change this is.")
    summary: str = Field(min_length=10, max_length=600, description="One paragraph for humans.")
    target: str = Field(
        min_length=3, description="The metric gap it targets, e.g. 'retention_10s 19% vs 53%'."
    )
    expected_effect: str = Field(min_length=3, description="What should move, and how much.")
    changes: list[FieldChange] = Field(min_length=1)
    evidence: Evidence = Field(default_factory=Evidence)
    assets: list[str] = Field(
        default_factory=list,
        description="Assets to produce: thumbnails, headlines, alternate cuts.",
    )
    rationale: str = Field(default="", description="The rule or reasoning behind it.")
    choices: list[Choice] = Field(
        default_factory=list,
        description="Creative alternatives (hook line, headline, title, stinger) to choose from.",
    )

    @model_validator(mode="after")
    def _choices_match_changes(self) -> BriefChangeProposal:
        written = {c.path: c.after for c in self.changes}
        for choice in self.choices:
            if choice.path is None:
                continue
            if choice.path in written:
                if written[choice.path] != choice.options[0]:
                    raise ValueError(
                        f"choice {choice.slot!r}: its first option must be what the change at "
                        f"{choice.path} writes"
                    )
            elif not any(_field_of(choice.path) == _field_of(path) for path in written):
                raise ValueError(
                    f"choice {choice.slot!r} writes {choice.path}, which no change sets"
                )
        return self


def _field_of(path: str) -> str:
    """``manifest.shots[3].caption`` → ``manifest.shots``: the top field a path lives in."""
    match = re.match(r"^(brief|manifest)\.[A-Za-z_][A-Za-z0-9_]*", path)
    return match.group(0) if match else path


def content_hash(
    *,
    episode_id: str,
    kind: str,
    summary: str,
    changes: list[dict[str, Any]],
    base_version: int,
    choices: list[dict[str, Any]] | None = None,
) -> str:
    """SHA-256 of exactly what a human approves: the summary, the field-level diff and the
    written alternatives (when there are any, so hashes of proposals without stay as they
    were)."""
    content: dict[str, Any] = {
        "episode_id": episode_id,
        "kind": kind,
        "summary": summary,
        "changes": changes,
        "base_version": base_version,
    }
    if choices:
        content["choices"] = choices
    blob = json.dumps(
        content,
        sort_keys=True,
        separators=(",", ":"),
        default=str,
    )
    return hashlib.sha256(blob.encode()).hexdigest()


def apply_changes(
    brief: dict[str, Any], manifest: dict[str, Any], changes: list[dict[str, Any]]
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Return new (brief, manifest) with ``changes`` applied; inputs are not modified.

    Shot start times are recomputed afterwards so the manifest stays contiguous whatever
    durations changed.

    Raises:
        ValueError: a path does not exist or does not fit the document.
    """
    docs = {"brief": copy.deepcopy(brief), "manifest": copy.deepcopy(manifest)}
    for change in changes:
        path = change["path"]
        if not PATH_PATTERN.match(path):
            raise ValueError(f"change path {path!r} is not a brief/manifest path")
        root = "brief" if path.startswith("brief") else "manifest"
        tokens = [(m.group(1), m.group(2)) for m in PATH_TOKEN.finditer(path[len(root) :])]
        target: Any = docs[root]
        for index, (key, item) in enumerate(tokens):
            last = index == len(tokens) - 1
            if key is not None:
                if not isinstance(target, dict):
                    raise ValueError(f"{path}: {key!r} is not a field here")
                if last:
                    target[key] = change["after"]
                else:
                    target = target.setdefault(key, {} if tokens[index + 1][0] else [])
            else:
                if not isinstance(target, list):
                    raise ValueError(f"{path}: [{item}] used on something that is not a list")
                if item == "+":
                    if not last:
                        raise ValueError(f"{path}: '[+]' must end the path")
                    target.append(change["after"])
                else:
                    position = int(item)
                    if position >= len(target):
                        raise ValueError(f"{path}: index {position} is past the end")
                    if last:
                        target[position] = change["after"]
                    else:
                        target = target[position]
    shots = docs["manifest"].get("shots")
    if isinstance(shots, list):
        start = 0.0
        for shot in shots:
            shot["start_s"] = round(start, 3)
            start += float(shot["duration_s"])
    return docs["brief"], docs["manifest"]


def apply_choices(
    brief: dict[str, Any],
    manifest: dict[str, Any],
    choices: list[dict[str, Any]],
    chosen: list[int | None] | None,
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Return new (brief, manifest) with the chosen alternatives written (after the changes).

    ``chosen[i]`` is the option picked for ``choices[i]``: 0 (the first, which the changes
    already write), another index (its text is written at the choice's ``path``), or
    ``None`` (the approver wrote their own). Choices without a path (copy such as a
    headline) write nothing here.

    Raises:
        ValueError: ``chosen`` does not fit ``choices``.
    """
    picks = check_chosen(choices, chosen)
    writes = [
        {"path": choice["path"], "after": choice["options"][pick]}
        for choice, pick in zip(choices, picks, strict=True)
        if pick and choice.get("path")
    ]
    if not writes:
        return brief, manifest
    return apply_changes(brief, manifest, writes)


def check_chosen(
    choices: list[dict[str, Any]], chosen: list[int | None] | None
) -> list[int | None]:
    """``chosen`` checked against ``choices`` (``None`` = the first option of each).

    Raises:
        ValueError: a different number of picks than choices, or an option that is not there.
    """
    if chosen is None:
        return [0] * len(choices)
    if len(chosen) != len(choices):
        raise ValueError(f"{len(chosen)} pick(s) for {len(choices)} choice(s)")
    for choice, pick in zip(choices, chosen, strict=True):
        if pick is None:
            continue
        if isinstance(pick, bool) or not isinstance(pick, int):
            raise ValueError(f"choice {choice.get('slot')!r}: {pick!r} is not an option number")
        if not 0 <= pick < len(choice.get("options", [])):
            raise ValueError(
                f"choice {choice.get('slot')!r} has {len(choice.get('options', []))} "
                f"option(s); there is no option {pick + 1}"
            )
    return list(chosen)


def chosen_hash(content_hash: str, chosen: list[int | None] | None) -> str:
    """The hash of what an approver approved: the content, and the alternatives they chose.

    With no choices, or the first option of each (what the changes write), it is the
    content hash itself; otherwise the SHA-256 of the content hash and the picks.
    """
    if not chosen or all(pick == 0 for pick in chosen):
        return content_hash
    blob = json.dumps({"content_hash": content_hash, "chosen": chosen}, separators=(",", ":"))
    return hashlib.sha256(blob.encode()).hexdigest()
