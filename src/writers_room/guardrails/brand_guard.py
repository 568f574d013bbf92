"""QA and brand guard: every proposal is checked before a human ever sees it.

:func:`check` runs each rule over one :class:`~writers_room.brief.proposals.BriefChangeProposal`
and returns a :class:`GuardVerdict` whose reasons a writer can read and an ideator can
fix: each names the check and the offending value. The checks:

``schema``
    The proposal validates, its paths exist, and the brief and shot manifest it leads to
    are still valid documents.
``traceability``
    Each change's ``before`` is what the brief in force says; the proposal cites evidence
    (report metrics or comment ids), and what it cites exists.
``brand_voice``
    No banned term (case-insensitive, whole word), nothing above the series' rating, no
    sensitive topic brought into an episode that never touched it.
``continuity``
    No name outside the bible (and the texts in force); locked beats intact.
``runtime``
    The episode's runtime after the changes is inside ``constraints.runtime_s``.
``slop``
    No stock phrases, no excessive repetition, no empty changes or duplicate assets.
``near_duplicate``
    Not the same idea as a proposal a human already rejected (embedding cosine of the
    summaries at or above 0.92).
``injection``
    Nothing that reads like instructions to a model, no room canary, and nothing copied
    from viewer comments that looked like instructions.
``story_cut``
    Nothing that carries the brief's twist or payoff is cut: their lines (verbatim, same
    speaker), their shots, their beats, ``brief.twist``/``brief.payoff``; the hook's lines
    too unless the proposal is a hook rewrite. ``new_episode`` proposals are exempt.
``spoiler``
    Headlines, thumbnail text, the title and the first shot's caption don't give the twist
    or payoff away (a 4-word run of a line that carries them, or two of their words the
    premise, hook, title and names don't already say).
``copied_comment``
    New copy (changed text, assets, choice options) lifts no run of five words from any
    viewer comment of the series.
``speaker``
    A line stays with its speaker, and a caption quoting a character's line sits on a shot
    where that character appears.
``notes``
    Nothing contradicts a standing writer's note: what a note keeps stays, what it cuts
    does not come back or grow, the episode does not newly open on what it says to avoid
    (see :mod:`writers_room.guardrails.directives`).

The last five live in :mod:`writers_room.guardrails.story`.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, ValidationError

from writers_room.brief.bundle import Brand, Brief, Character, Constraints
from writers_room.brief.manifest import ShotManifest
from writers_room.brief.paths import value_at
from writers_room.brief.proposals import BriefChangeProposal, apply_changes
from writers_room.brief.report import FindingKind
from writers_room.guardrails import brand, continuity, slop, story
from writers_room.guardrails.fencing import injection_markers
from writers_room.guardrails.text import shorten, strings_in, words

__all__ = [
    "CHECKS",
    "DUPLICATE_THRESHOLD",
    "GuardContext",
    "GuardVerdict",
    "RejectedIdea",
    "check",
    "check_all",
]

CHECKS: tuple[str, ...] = (
    "schema",
    "traceability",
    "brand_voice",
    "continuity",
    "runtime",
    "slop",
    "near_duplicate",
    "injection",
    "story_cut",
    "spoiler",
    "copied_comment",
    "speaker",
    "notes",
)
DUPLICATE_THRESHOLD = 0.92
# Words in a row shared with an instruction-like comment that count as copying it.
_COPY_WORDS = 5
_FINDING_KINDS = set(FindingKind.__args__)  # type: ignore[attr-defined]

Embed = Callable[[list[str]], Any]


class RejectedIdea(BaseModel):
    """A proposal a human rejected earlier, for the near-duplicate check."""

    proposal_id: str = ""
    summary: str = Field(description="The rejected proposal's summary.")
    reason: str = Field(default="", description="Why the human rejected it.")
    embedding: list[float] | None = Field(
        default=None, description="Unit vector of the summary, if already computed."
    )


class GuardContext(BaseModel):
    """What the guard checks a proposal against: the bible, the brief in force, history."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    series_id: str = ""
    episode_id: str = Field(min_length=1)
    episode_title: str = Field(default="", description="Packaging may repeat its words.")
    series_premise: str = Field(default="", description="Reference text for names/topics.")
    brand: Brand = Field(default_factory=Brand)
    characters: list[Character] = Field(default_factory=list)
    constraints: Constraints = Field(default_factory=Constraints)
    brief: dict[str, Any] = Field(description="The brief in force (the diff's base).")
    manifest: dict[str, Any] = Field(description="The shot manifest in force.")
    rejected: list[RejectedIdea] = Field(default_factory=list)
    known_comment_ids: list[str] | None = Field(
        default=None, description="Comment ids a proposal may cite; None = not checked."
    )
    known_metrics: dict[str, float] = Field(
        default_factory=dict, description="Report numbers; cited values must match them."
    )
    untrusted_texts: list[str] = Field(
        default_factory=list, description="Viewer comment texts the ideator could see."
    )
    reference_texts: list[str] = Field(
        default_factory=list, description="More texts whose names are known (titles, notes)."
    )
    comment_texts: list[str] = Field(
        default_factory=list,
        description="Every viewer comment of the series: new copy may not lift from them.",
    )
    notes: list[str] = Field(
        default_factory=list, description="The episode's writers' notes, newest first."
    )
    similarity_threshold: float = Field(default=DUPLICATE_THRESHOLD, gt=0, le=1)
    embed: Embed | None = Field(
        default=None,
        exclude=True,
        description="texts -> unit vectors (the room's embedder); None = lexical similarity.",
    )

    _vocabulary: set[str] | None = PrivateAttr(default=None)
    _comments: story.CommentIndex | None = PrivateAttr(default=None)

    def comment_index(self) -> story.CommentIndex:
        """The series' comments as 5-word runs, indexed once per context."""
        if self._comments is None:
            self._comments = story.CommentIndex(self.comment_texts)
        return self._comments

    def names(self) -> list[str]:
        """Character names: the bible's and the cast list's."""
        return [*(c.name for c in self.characters), *self.constraints.cast]

    def vocabulary(self) -> set[str]:
        """Every word of the bible and the texts in force (names that may appear)."""
        if self._vocabulary is None:
            self._vocabulary = continuity.known_vocabulary(
                [
                    self.series_premise,
                    *(c.name for c in self.characters),
                    *(c.description for c in self.characters),
                    *self.constraints.locations,
                    *self.constraints.cast,
                    *self.reference_texts,
                ],
                extra=[self.brief, self.manifest],
            )
        return self._vocabulary


class GuardVerdict(BaseModel):
    """The guard's answer for one proposal."""

    passed: bool = Field(description="True only when every check that ran passed.")
    reasons: list[str] = Field(
        default_factory=list, description="'<check>: <what and where>' for each failure."
    )
    checks: dict[str, bool] = Field(
        default_factory=dict, description="Check name -> passed, for the checks that ran."
    )


class _Verdict:
    def __init__(self) -> None:
        self.checks: dict[str, bool] = {}
        self.reasons: list[str] = []

    def ran(self, name: str) -> None:
        self.checks.setdefault(name, True)

    def fail(self, name: str, reason: str) -> None:
        self.checks[name] = False
        if f"{name}: {reason}" not in self.reasons:
            self.reasons.append(f"{name}: {reason}")

    def done(self) -> GuardVerdict:
        passed = bool(self.checks) and all(self.checks.values()) and "schema" in self.checks
        return GuardVerdict(passed=passed, reasons=self.reasons, checks=dict(self.checks))


def _runtime(manifest: Mapping[str, Any]) -> float:
    return float(sum(float(shot.get("duration_s", 0)) for shot in manifest.get("shots", [])))


def _shingles(text: str, size: int) -> set[tuple[str, ...]]:
    tokens = words(text)
    return {tuple(tokens[i : i + size]) for i in range(len(tokens) - size + 1)}


def _texts(proposal: BriefChangeProposal, base_strings: set[str]) -> list[tuple[str, str]]:
    """(where, text) for everything the proposal says that is not already in force."""
    out = [
        ("summary", proposal.summary),
        ("target", proposal.target),
        ("expected_effect", proposal.expected_effect),
    ]
    if proposal.rationale:
        out.append(("rationale", proposal.rationale))
    out += [(f"assets[{i}]", asset) for i, asset in enumerate(proposal.assets)]
    for change in proposal.changes:
        for text in strings_in(change.after):
            if text.strip() and text not in base_strings:
                out.append((change.path, text))
    # Every alternative is text the approver may choose: checked like the first.
    for i, choice in enumerate(proposal.choices):
        for j, option in enumerate(choice.options):
            if option.strip() and option not in base_strings:
                # A title capitalises every word: read it in sentence case, or each word
                # would look like a name the bible does not know.
                text = option[:1] + option[1:].lower() if choice.slot == "title" else option
                out.append((f"choices[{i}].options[{j}]", text))
    return out


def _check_schema(
    proposal: BriefChangeProposal, ctx: GuardContext, verdict: _Verdict
) -> tuple[dict[str, Any], dict[str, Any]] | None:
    verdict.ran("schema")
    if proposal.episode_id != ctx.episode_id:
        verdict.fail(
            "schema",
            f"episode_id {proposal.episode_id!r} is not the episode under review "
            f"({ctx.episode_id!r})",
        )
    try:
        new_brief, new_manifest = apply_changes(
            ctx.brief, ctx.manifest, [c.model_dump() for c in proposal.changes]
        )
    except (ValueError, TypeError, KeyError) as exc:
        verdict.fail("schema", f"the changes do not apply: {exc}")
        return None
    try:
        Brief.model_validate(new_brief)
    except ValidationError as exc:
        err = exc.errors()[0]
        field = ".".join(str(p) for p in err["loc"])
        verdict.fail("schema", f"brief.{field} after the changes: {err['msg']}")
    try:
        ShotManifest.model_validate(new_manifest)
    except ValidationError as exc:
        err = exc.errors()[0]
        field = ".".join(str(p) for p in err["loc"]) or "(manifest)"
        verdict.fail("schema", f"manifest {field} after the changes: {err['msg']}")
    return new_brief, new_manifest


def _check_traceability(
    proposal: BriefChangeProposal, ctx: GuardContext, verdict: _Verdict
) -> None:
    verdict.ran("traceability")
    for change in proposal.changes:
        if change.path.endswith("[+]"):
            continue
        exists, current = value_at(ctx.brief, ctx.manifest, change.path)
        if exists and current != change.before:
            verdict.fail(
                "traceability",
                f"{change.path}: 'before' is {shorten(repr(change.before), 60)} but the "
                f"version in force has {shorten(repr(current), 60)}",
            )
    evidence = proposal.evidence
    if not evidence.metrics and not evidence.comment_ids:
        verdict.fail(
            "traceability", "no evidence: cite the report numbers or comment ids behind it"
        )
    if ctx.known_comment_ids is not None:
        known = set(ctx.known_comment_ids)
        for comment_id in evidence.comment_ids:
            if comment_id not in known:
                verdict.fail(
                    "traceability",
                    f"comment id {comment_id!r} is not among the comments of this review",
                )
    for key, value in evidence.metrics.items():
        if key in ctx.known_metrics:
            expected = ctx.known_metrics[key]
            if abs(value - expected) > 1e-6 + 0.01 * abs(expected):
                verdict.fail(
                    "traceability",
                    f"evidence {key}={value:g} but the report says {expected:g}",
                )
    for kind in evidence.findings:
        if kind not in _FINDING_KINDS:
            verdict.fail(
                "traceability",
                f"finding {kind!r} is not a diagnosis kind ({', '.join(sorted(_FINDING_KINDS))})",
            )


def _check_brand(
    texts: Sequence[tuple[str, str]], ctx: GuardContext, reference: str, verdict: _Verdict
) -> None:
    verdict.ran("brand_voice")
    for where, text in texts:
        for term in brand.banned_terms_in(text, ctx.brand.banned_terms):
            verdict.fail("brand_voice", f"banned term {term!r} in {where}: {shorten(text, 70)!r}")
        for word in brand.rating_violations(text, ctx.brand.rating):
            verdict.fail(
                "brand_voice", f"{word!r} in {where} is above the series' {ctx.brand.rating} rating"
            )
        for topic in brand.sensitive_topics_introduced(text, ctx.brand.sensitive_topics, reference):
            verdict.fail(
                "brand_voice",
                f"sensitive topic {topic!r} brought into {where}, which the episode never "
                "touched; leave that to a human writer",
            )


def _check_continuity(
    proposal: BriefChangeProposal,
    texts: Sequence[tuple[str, str]],
    ctx: GuardContext,
    new_brief: dict[str, Any] | None,
    verdict: _Verdict,
) -> None:
    verdict.ran("continuity")
    vocabulary = ctx.vocabulary()
    bible = [c.name for c in ctx.characters]
    for where, text in texts:
        if where in {"target", "expected_effect", "rationale"}:
            continue
        for name in continuity.unknown_names(text, vocabulary):
            verdict.fail(
                "continuity",
                f"{name!r} in {where} is not a character of the bible "
                f"({', '.join(bible) or 'no characters listed'}) nor anywhere in the brief",
            )
    if bible:
        for change in proposal.changes:
            casts: list[Any] = []
            if change.path.endswith(".characters") and isinstance(change.after, list):
                casts = change.after
            elif isinstance(change.after, dict) and isinstance(
                change.after.get("characters"), list
            ):
                casts = change.after["characters"]
            for name in continuity.unknown_cast([str(n) for n in casts], bible):
                verdict.fail(
                    "continuity",
                    f"{name!r} in {change.path} is not a character of the bible "
                    f"({', '.join(bible)})",
                )
    if new_brief is not None:
        for problem in continuity.locked_beat_violations(ctx.brief, new_brief):
            verdict.fail("continuity", problem)


def _check_runtime(ctx: GuardContext, new_manifest: dict[str, Any], verdict: _Verdict) -> None:
    verdict.ran("runtime")
    low, high = ctx.constraints.runtime_s
    before, after = _runtime(ctx.manifest), _runtime(new_manifest)
    if low - 1e-6 <= after <= high + 1e-6:
        return

    def distance(value: float) -> float:
        return max(low - value, value - high, 0.0)

    # A brief already out of range is not this proposal's fault unless it makes it worse.
    if low <= before <= high or distance(after) > distance(before) + 1e-6:
        verdict.fail(
            "runtime",
            f"{after:.1f} s after the changes is outside the series' {low:g}-{high:g} s "
            f"(now {before:.1f} s)",
        )


def _check_slop(
    proposal: BriefChangeProposal,
    texts: Sequence[tuple[str, str]],
    ctx: GuardContext,
    verdict: _Verdict,
) -> None:
    verdict.ran("slop")
    for where, text in texts:
        for phrase in slop.slop_phrases(text):
            verdict.fail("slop", f"stock phrase {phrase!r} in {where}")
        repeated = slop.repetition(text)
        if repeated:
            verdict.fail("slop", f"{repeated} in {where}")
        for slot in slop.empty_slots(text):
            verdict.fail("slop", f"unfilled template slot {slot!r} in {where}")
        if not re.search(r"[A-Za-z]{2}", text):
            verdict.fail("slop", f"{where} has no words: {shorten(text, 40)!r}")
    seen_paths: set[str] = set()
    for change in proposal.changes:
        if change.path in seen_paths and not change.path.endswith("[+]"):
            verdict.fail("slop", f"{change.path} is changed twice in one proposal")
        seen_paths.add(change.path)
        exists, current = value_at(ctx.brief, ctx.manifest, change.path)
        if change.before == change.after or (exists and current == change.after):
            verdict.fail("slop", f"{change.path} changes nothing (before == after)")
    seen_assets: set[str] = set()
    for asset in proposal.assets:
        key = " ".join(asset.lower().split())
        if key in seen_assets:
            verdict.fail("slop", f"asset {shorten(asset, 60)!r} is listed twice")
        seen_assets.add(key)


def _check_injection(
    proposal: BriefChangeProposal,
    texts: Sequence[tuple[str, str]],
    ctx: GuardContext,
    verdict: _Verdict,
) -> None:
    verdict.ran("injection")
    everything = list(texts) + [
        (f"evidence.quotes[{i}]", quote) for i, quote in enumerate(proposal.evidence.quotes)
    ]
    for change in proposal.changes:
        # Injection is checked on every string a change carries, new or not.
        everything += [(change.path, text) for text in strings_in(change.after)]
    for where, text in everything:
        for marker in injection_markers(text):
            verdict.fail("injection", f"{marker} in {where}")
    instruction_like = [t for t in ctx.untrusted_texts if injection_markers(t)]
    if not instruction_like:
        return
    shingles = set().union(*(_shingles(t, _COPY_WORDS) for t in instruction_like))
    for where, text in everything:
        copied = _shingles(text, _COPY_WORDS) & shingles
        if copied:
            sample = " ".join(sorted(copied)[0])
            verdict.fail(
                "injection",
                f"{where} copies instruction-like viewer text ({sample!r}...)",
            )


def _similarity(summaries: list[str], ctx: GuardContext) -> list[tuple[float, int]]:
    """Best (similarity, rejected index) per summary."""
    if not ctx.rejected:
        return [(0.0, -1) for _ in summaries]
    if ctx.embed is not None:
        # One batch for the new summaries and the rejected ones without a stored vector:
        # the int8 embedder's scale is per batch, so texts compared are encoded together.
        missing = [r.summary for r in ctx.rejected if r.embedding is None]
        encoded = np.asarray(ctx.embed([*summaries, *missing]), dtype=np.float32)
        mine, fresh = encoded[: len(summaries)], iter(encoded[len(summaries) :])
        vectors = np.vstack(
            [
                np.asarray(r.embedding, dtype=np.float32)
                if r.embedding is not None
                else next(fresh)
                for r in ctx.rejected
            ]
        )
        sims = mine @ vectors.T
        return [(float(row.max()), int(row.argmax())) for row in sims]
    # No embedder: a lexical ratio on normalised text is the honest fallback.
    out = []
    for summary in summaries:
        norm = " ".join(words(summary))
        scores = [
            difflib.SequenceMatcher(None, norm, " ".join(words(r.summary))).ratio()
            for r in ctx.rejected
        ]
        best = max(range(len(scores)), key=scores.__getitem__)
        out.append((scores[best], best))
    return out


def _check_near_duplicate(
    similarity: tuple[float, int], ctx: GuardContext, verdict: _Verdict
) -> None:
    verdict.ran("near_duplicate")
    score, index = similarity
    if index >= 0 and score >= ctx.similarity_threshold:
        rejected = ctx.rejected[index]
        label = (
            f"rejected proposal {rejected.proposal_id}"
            if rejected.proposal_id
            else "a rejected proposal"
        )
        because = f"; rejected because: {shorten(rejected.reason, 80)}" if rejected.reason else ""
        verdict.fail(
            "near_duplicate",
            f"similarity {score:.2f} >= {ctx.similarity_threshold:.2f} with {label} "
            f"({shorten(rejected.summary, 80)!r}{because})",
        )


def _check_story(
    proposal: BriefChangeProposal,
    texts: Sequence[tuple[str, str]],
    ctx: GuardContext,
    applied: tuple[dict[str, Any], dict[str, Any]] | None,
    base_strings: set[str],
    verdict: _Verdict,
) -> None:
    new_brief, new_manifest = applied if applied is not None else (None, None)
    names = ctx.names()
    verdict.ran("spoiler")
    packaging = story.packaging_texts(proposal, ctx.brief, ctx.manifest, new_brief, new_manifest)
    for reason in story.spoilers(
        packaging, ctx.brief, ctx.manifest, episode_title=ctx.episode_title, names=names
    ):
        verdict.fail("spoiler", reason)
    verdict.ran("copied_comment")
    copy = [(w, t) for w, t in texts if w not in {"summary", "target", "expected_effect"}]
    copy = [(w, t) for w, t in copy if w != "rationale"]
    for position, choice in enumerate(proposal.choices):
        copy += [
            (f"choices[{position}] ({choice.slot}, option {n})", option)
            for n, option in enumerate(choice.options, start=1)
            if option not in base_strings
        ]
    for reason in story.copied_comments(
        copy, ctx.comment_index(), [ctx.series_premise, *base_strings]
    ):
        verdict.fail("copied_comment", reason)
    if new_brief is None or new_manifest is None:
        return  # the changes do not apply (schema said why): nothing to read the story of
    verdict.ran("story_cut")
    for reason in story.story_cut(proposal.kind, ctx.brief, ctx.manifest, new_brief, new_manifest):
        verdict.fail("story_cut", reason)
    verdict.ran("speaker")
    for reason in story.speaker_moves(ctx.manifest, new_manifest, names=names):
        verdict.fail("speaker", reason)
    verdict.ran("notes")
    if proposal.kind != "new_episode":
        for reason in story.note_conflicts(ctx.notes, ctx.manifest, new_manifest):
            verdict.fail("notes", reason)


def _parse(proposal: BriefChangeProposal | Mapping[str, Any]) -> BriefChangeProposal | str:
    if isinstance(proposal, BriefChangeProposal):
        return proposal
    try:
        return BriefChangeProposal.model_validate(dict(proposal))
    except ValidationError as exc:
        parts = []
        for err in exc.errors()[:5]:
            field = ".".join(str(p) for p in err["loc"]) or "(proposal)"
            parts.append(f"{field}: {err['msg']}")
        return "; ".join(parts)


def _run(
    proposal: BriefChangeProposal, ctx: GuardContext, similarity: tuple[float, int]
) -> GuardVerdict:
    verdict = _Verdict()
    applied = _check_schema(proposal, ctx, verdict)
    _check_traceability(proposal, ctx, verdict)
    base_strings = set(strings_in(ctx.brief)) | set(strings_in(ctx.manifest))
    texts = _texts(proposal, base_strings)
    reference = " \n".join([ctx.series_premise, *sorted(base_strings)])
    _check_brand(texts, ctx, reference, verdict)
    _check_continuity(proposal, texts, ctx, applied[0] if applied else None, verdict)
    if applied is not None:
        _check_runtime(ctx, applied[1], verdict)
    _check_slop(proposal, texts, ctx, verdict)
    _check_near_duplicate(similarity, ctx, verdict)
    _check_injection(proposal, texts, ctx, verdict)
    _check_story(proposal, texts, ctx, applied, base_strings, verdict)
    return verdict.done()


def check(proposal: BriefChangeProposal | Mapping[str, Any], ctx: GuardContext) -> GuardVerdict:
    """Check one proposal against the bible, the brief in force and past rejections.

    Args:
        proposal: The proposal, as the model or a plain mapping (e.g. from JSON); a
            mapping that does not validate fails the ``schema`` check.
        ctx: What to check against (see :func:`writers_room.writer.context.build_contexts`).

    Returns:
        The verdict: ``passed`` only if every check passed; one reason per failure.
    """
    return check_all([proposal], ctx)[0]


def check_all(
    proposals: Sequence[BriefChangeProposal | Mapping[str, Any]], ctx: GuardContext
) -> list[GuardVerdict]:
    """Check several proposals for one episode (summaries are embedded in one batch)."""
    parsed = [_parse(p) for p in proposals]
    valid = [p for p in parsed if isinstance(p, BriefChangeProposal)]
    similarities = iter(_similarity([p.summary for p in valid], ctx) if valid else [])
    verdicts = []
    for item in parsed:
        if isinstance(item, str):
            verdicts.append(
                GuardVerdict(
                    passed=False,
                    reasons=[f"schema: not a valid proposal: {item}"],
                    checks={"schema": False},
                )
            )
        else:
            verdicts.append(_run(item, ctx, next(similarities)))
    return verdicts
