"""The chat router: which of the room's intents a message asks for, and about what.

Three stages, cheapest first:

1. **Verbs.** ``/room`` subcommands and messages that start with one (``report ep3``,
   ``approve p-1a2b3c4d5e6f``, ``note 3 open on the storm``) are parsed by a grammar;
   nothing is guessed. A decision is *only* ever this: ``approve p-<id>`` alone, or
   ``reject p-<id> <reason>`` (buttons aside). ``approve it`` or ``approve p-… later``
   is not a decision.
2. **Decision words.** Any other message that looks like a decision ("do not approve
   that", "ship it", "lgtm", "nein", "no lo apruebes" — :func:`looks_like_decision`)
   routes to ``how_to_decide``, which says how to decide and changes nothing. Similarity
   and the LLM never pick ``approve`` or ``reject``: they ignore negation, quotes and
   conditionals, so they must not decide anything.
3. **Follow-ups.** A message that only names another episode (``and episode 4?``) asks
   the previous question about that episode; one that only names a character (``and
   Theo?``) asks what viewers say about them.
4. **Question rules** (``rules.py``): comparisons of episodes, variant tests, what viewers
   say about a character, and what to change next are read by rules, not guessed.
5. **Similarity.** Anything else is embedded (the room's offline sentence model) and
   compared with example utterances of each intent (< 10 ms warm).
6. **LLM, only when unsure and configured.** Below :data:`MIN_SIMILARITY`, with
   ``WRITERS_ROOM_LLM=openai``, the chat model picks the intent (schema-validated); if it
   fails, or offline, the room falls back to explaining the episode it is talking about,
   or to help. Verbs and confident matches never wait for a model.
"""

from __future__ import annotations

import logging
import re
import threading
import unicodedata
from collections.abc import Iterable
from typing import Any, Literal

import numpy as np
from pydantic import BaseModel, Field

from writers_room.config import Settings
from writers_room.graphs.chat import rules
from writers_room.index.embedding import get_embedder
from writers_room.writer.llm import LLMError, audit_recorder, chat_model, structured_call

__all__ = [
    "EPISODE_INTENTS",
    "LLMRoute",
    "EXAMPLES",
    "INTENTS",
    "MIN_SIMILARITY",
    "Intent",
    "Route",
    "Router",
    "find_episode_ref",
    "find_episode_refs",
    "find_proposal_id",
    "looks_like_decision",
    "parse_command",
    "resolve_episode",
    "split_series_prefix",
]

Intent = Literal[
    "explain",
    "propose",
    "draft",
    "brief",
    "note",
    "approve",
    "reject",
    "how_to_decide",
    "render_status",
    "status",
    "characters",
    "variants",
    "compare",
    "next_steps",
    "lessons",
    "help",
]
INTENTS: tuple[str, ...] = Intent.__args__  # type: ignore[attr-defined]
# Intents that are about one episode (and so take part in follow-ups).
EPISODE_INTENTS = frozenset({"explain", "propose", "brief", "render_status", "variants"})

log = logging.getLogger(__name__)

# Below this similarity (mean of an intent's TOP_K nearest examples) the router does not
# trust the match.
MIN_SIMILARITY = 0.4
TOP_K = 2

VERBS: dict[str, Intent] = {
    "help": "help",
    "status": "status",
    "report": "explain",
    "explain": "explain",
    "propose": "propose",
    "draft": "draft",
    "brief": "brief",
    "note": "note",
    "approve": "approve",
    "reject": "reject",
    "render": "render_status",
    "renders": "render_status",
    "compare": "compare",
    "variants": "variants",
    "variant": "variants",
    "thumbnails": "variants",
    "character": "characters",
    "characters": "characters",
}

# Example utterances for similarity. There are none for approve / reject on purpose: a
# decision is never inferred from similarity (see the module docstring).
EXAMPLES: dict[Intent, tuple[str, ...]] = {
    "explain": (
        "why did episode 3 drop?",
        "why are people leaving episode 2",
        "how is episode 5 doing",
        "explain the numbers for episode 4",
        "what happened to the retention of ep 6",
        "where do viewers drop off in episode 1",
        "what are viewers saying about episode 7",
        "show me the report for episode 2",
        "why is the score so low",
        "what is the cliff in episode 3",
        "how did the last window go",
        "did the hook work",
        "what do the comments say",
        "why did it flop",
        "what went wrong with episode 2",
        "are the numbers good",
    ),
    "propose": (
        "what should we change in episode 3",
        "any ideas to fix episode 5",
        "propose a new hook for episode 2",
        "how can we improve episode 4",
        "suggest changes for this episode",
        "give me proposals",
        "what would you rewrite",
        "run the review for this episode",
        "how do we make it better",
    ),
    "draft": (
        "draft the next episode",
        "write the next episode",
        "write episode 9",
        "draft a new episode",
        "write what happens next",
        "can you write the episode after the finale",
        "script the next episode for us",
        "we need episode 9, draft it",
    ),
    "brief": (
        "show me the brief for episode 3",
        "what is the hook of episode 2",
        "what happens in episode 5",
        "remind me of the beats",
        "what is the current script",
        "show the shot list",
        "what's the premise of this episode",
        "what is this episode about",
        "what's the twist",
        "tell me the story of episode 2",
    ),
    "note": (
        "add a note to episode 3",
        "note for the writers",
        "I want Theo angrier in this one",
        "my note: open on the storm",
    ),
    "render_status": (
        "is the render done",
        "render status for episode 3",
        "where is the new video",
        "show me the renders",
        "has the new cut been rendered",
    ),
    "status": (
        "room status",
        "how many comments do we have",
        "what is pending",
        "give me an overview of the series",
        "which proposals are open",
    ),
    "characters": (
        "what do viewers think of the characters",
        "who is the fan favourite",
        "which character do people like most",
        "how do fans feel about the lead",
        "what are people saying about her",
        "is the villain popular with viewers",
        "which characters do the comments mention",
    ),
    "variants": (
        "which thumbnail won",
        "which variant is winning",
        "how is the A/B test going",
        "did the new cover beat the old one",
        "thumbnail test results for episode 3",
        "which hook variant is ahead",
        "is the variant test conclusive",
    ),
    "compare": (
        "compare episode 1 and episode 4",
        "how does episode 2 compare to episode 5",
        "ep1 vs ep4",
        "side by side of two episodes",
        "which did better, episode 3 or episode 6",
    ),
    "lessons": (
        "what worked last time we had a hook problem",
        "did the last pacing cut work",
        "which changes worked",
        "what did our past changes do",
        "show the outcomes of published changes",
    ),
    "next_steps": (
        "what should we change next",
        "what should we work on first",
        "what are the priorities",
        "where is the biggest opportunity",
        "what to fix first",
        "rank the changes by impact",
        "what is the most important change to make",
    ),
    "help": (
        "help",
        "what can you do",
        "hi",
        "hello there",
        "how do I use this",
        "commands",
    ),
}

_EPISODE = re.compile(r"\b(?:episode|ep|e)\s*[-#.]?\s*(\d{1,3})\b", re.IGNORECASE)
_PROPOSAL = re.compile(r"\bp-[0-9a-f]{12}\b")
_SERIES_PREFIX = re.compile(r"^\s*series:\s*([\w.-]+)\s*", re.IGNORECASE)
_MENTION = re.compile(r"<@[A-Z0-9]+(?:\|[^>]*)?>")
# The proposal id right after approve/reject (Slack may wrap it in code or bold marks).
_COMMAND_ID = re.compile(r"[`*_]*(p-[0-9a-z]+)[`*_]*(?![\w-])(.*)", re.IGNORECASE | re.DOTALL)


class Route(BaseModel):
    """Where a message goes and the arguments the router found in it."""

    intent: Intent = Field(description="What the message asks the room to do.")
    source: Literal[
        "verb", "decision_words", "followup", "rule", "similarity", "llm", "fallback"
    ] = Field(description="Which stage decided.")
    score: float = Field(default=1.0, description="Cosine similarity when source=similarity.")
    series_id: str | None = Field(default=None, description="Series named in the message.")
    episode_ref: str | None = Field(
        default=None, description="Episode as written ('ep3', '3'); resolved by the graph."
    )
    episode_refs: list[str] = Field(
        default_factory=list, description="Every episode written, in order (compare)."
    )
    subject: str | None = Field(
        default=None, description="Character the message asks about, as written."
    )
    proposal_id: str | None = Field(default=None, description="Proposal id named, if any.")
    text: str = Field(default="", description="Free text: a note, or a rejection reason.")
    problem: str | None = Field(
        default=None, description="Why a verb command could not be parsed, for the user."
    )


def split_series_prefix(text: str) -> tuple[str | None, str]:
    """``"series:neon-heist report ep2"`` → ``("neon-heist", "report ep2")``."""
    match = _SERIES_PREFIX.match(text)
    if match is None:
        return None, text.strip()
    return match.group(1), text[match.end() :].strip()


def find_episode_ref(text: str) -> str | None:
    """The first episode reference in free text (``episode 3``, ``ep03``, ``e3``)."""
    match = _EPISODE.search(text)
    return match.group(1) if match else None


def find_episode_refs(text: str) -> list[str]:
    """Every episode reference as written (``ep01``, ``episode 4``), in order."""
    return rules.episode_mentions(text)


def _episode_mention(text: str) -> str | None:
    """The first episode reference as written (``episode 3``, ``ep03``)."""
    match = _EPISODE.search(text)
    return match.group(0) if match else None


def find_proposal_id(text: str) -> str | None:
    """The first proposal id (``p-`` and 12 hex digits) in ``text``."""
    match = _PROPOSAL.search(text)
    return match.group(0) if match else None


def resolve_episode(ref: str, episodes: list[tuple[str, int]]) -> str | None:
    """Map a written reference to an episode id of the series.

    Args:
        ref: what the user wrote: an id (``ep03``) or a number (``3``, ``episode 3``).
        episodes: the series' (episode_id, position) pairs; position is 0-based.

    Returns:
        The id of an exact (case-insensitive) id match; else the episode whose id ends in
        that number; else the episode at that 1-based position; else ``None``.
    """
    ref = ref.strip()
    by_lower = {eid.lower(): eid for eid, _ in episodes}
    if ref.lower() in by_lower:
        return by_lower[ref.lower()]
    number = ref
    match = _EPISODE.fullmatch(ref) or re.fullmatch(r"(\d{1,3})", ref)
    if match is None:
        return None
    number = match.group(1)
    wanted = int(number)
    for eid, _ in episodes:
        tail = re.search(r"(\d+)$", eid)
        if tail and int(tail.group(1)) == wanted:
            return eid
    for eid, position in episodes:
        if position == wanted - 1:
            return eid
    return None


def parse_command(text: str) -> Route | None:
    """Parse a verb command (``/room`` grammar); ``None`` when ``text`` has no verb.

    Grammar (after an optional ``series:<id>`` prefix)::

        help | status | report <episode> | propose <episode> | draft [next] | brief <episode>
        | note <episode> <text> | approve <proposal> | reject <proposal> <reason>
        | render [<episode>] | compare <episode> <episode>… | variants [<episode>]
        | character [<name>]
    """
    series_id, rest = split_series_prefix(_MENTION.sub("", text))
    words = rest.split(None, 1)
    if not words:
        return Route(intent="help", source="verb", series_id=series_id) if series_id else None
    verb = words[0].lower().rstrip(":,")
    intent = VERBS.get(verb)
    if intent is None:
        return None
    tail = words[1].strip() if len(words) > 1 else ""
    route = Route(intent=intent, source="verb", series_id=series_id)
    if intent in ("help", "status"):
        return route
    if intent in ("approve", "reject"):
        return _decision_command(route, tail)
    if intent in ("compare", "variants", "characters") and looks_like_decision(tail):
        route.intent = "how_to_decide"  # "compare and approve …": these verbs never decide
        return route
    if intent == "characters":
        route.subject = tail.strip(" ?!.,:") or None
        return route
    if intent == "compare":
        route.episode_refs = find_episode_refs(tail) or [
            word for word in re.findall(r"[\w-]+", tail) if re.fullmatch(r"[a-z]*\d+", word.lower())
        ]
        route.episode_ref = route.episode_refs[0] if route.episode_refs else None
        return route
    if intent == "note":
        head, _, after = tail.partition(" ")
        if head.lower() in ("episode", "ep") and after:
            # "note episode 3 <text>": the number is the next word.
            head, _, after = after.partition(" ")
        route.episode_ref = head.rstrip(":,") or None
        route.text = after.strip()
        if route.episode_ref is None or not route.text:
            route.problem = "`note` needs an episode and the note: `note <episode> <text>`"
        return route
    route.episode_ref = _episode_mention(tail) or (tail.split()[0].rstrip("?:,") if tail else None)
    return route


def _decision_command(route: Route, tail: str) -> Route:
    """``approve p-<id>`` (nothing else) or ``reject p-<id> <reason>``; else how to decide.

    The id must be written out: "approve it", "approve that one" or "approve p-… if the
    numbers hold" decide nothing (they route to ``how_to_decide``). A reject without a
    reason keeps its intent with an empty ``text``; the graph asks for the reason.
    """
    match = _COMMAND_ID.match(tail.strip())
    if match is None:
        route.intent = "how_to_decide"
        return route
    route.proposal_id = match.group(1).lower()
    rest = match.group(2).strip()
    if route.intent == "approve":
        if rest.strip(".! "):
            route.intent = "how_to_decide"  # "approve p-… tomorrow", "approve p-…?": no
        return route
    route.text = rest.strip(" ,:-—")
    return route


# Words and phrases that make a message look like a decision, in any phrasing or language
# (matched on lower-cased, accent-free, NFKC-normalised text). A message that has one but
# is not an explicit command gets told how to decide; it never decides.
_DECISION_PATTERNS = (
    # English
    r"approv\w*",
    r"disapprov\w*",
    r"reject\w*",
    r"(?:i\s+)?declin(?:e|ed|ing)\s+(?:it|that|this|the|to|p-\w+)|i\s+declin\w*",
    r"den(?:y|ied|ies)",
    r"accept(?:s|ed|ing)?",
    r"veto\w*",
    r"green[\s-]?l(?:ight|it)\w*",
    r"lgtm",
    r"ship(?:\s+|-)?it",
    r"sign(?:\s+|-)?off|signed\s+off",
    r"rubber[\s-]?stamp\w*",
    r"thumbs?\s+(?:up|down)",
    r"go\s+ahead",
    r"go\s+for\s+it",
    r"go\s+with",
    r"(?:ok|okay|k)\W*\s*go",
    r"let'?s\s+(?:do|go|ship|run\s+with)",
    r"do\s+it",
    r"kill\s+(?:it|that|this)",
    r"(?:looks|sounds)\s+(?:good|great|fine)",
    r"make\s+it\s+so",
    r"merge\s+it",
    r"turn\s+(?:it|that|this)\s+down",
    r"pass\s+on\s+(?:it|that|this)",
    # German
    r"genehmig\w*",
    r"freigeb\w*|freigabe\w*",
    r"ablehn\w*|abgelehnt\w*|lehne\w*",
    r"zustimm\w*|stimme\w*\s+zu",
    r"einverstanden",
    # French, Spanish, Italian, Portuguese, Dutch
    r"approuv\w*",
    r"valid(?:e|er|ez|ons|ee|e?s)",
    r"rejet\w*|rejett\w*|refus\w*",
    r"d'?accord",
    r"aprob\w*|aprueb\w*",
    r"rechaz\w*",
    r"acept\w*|accett\w*",
    r"de\s+acuerdo",
    r"rifiut\w*",
    r"aprov\w*",
    r"rejeit\w*|recus\w*",
    r"goedkeur\w*|goedgekeurd|keur\w*\s+(?:\w+\s+)?goed|afwijz\w*|afgewezen",
)
# Short answers that decide in a conversation ("yes", "nein", "non, pas ça"): they count
# only in a short message, where they can only be an answer.
_SHORT_ANSWERS = (
    r"yes|yep|yeah|yup|sure|no|nope|nah|ok|okay|k|go|\+1|-1",
    r"ja|jawohl|nein|oui|non|si|nee|nao|sim|da|niet|net|vale|claro|jamais|nunca|never",
    r"да|нет|はい|いいえ|是|不|好",
)
_DECISION_SYMBOLS = frozenset("👍👎✅❌✔✖☑🆗🚀🟢🔴")
_DECISION_SCRIPTS = (
    "承認",
    "却下",
    "拒否",
    "批准",
    "同意",
    "拒绝",
    "駁回",
    "승인",
    "거절",
    "одобр",
    "отклон",
)
_DECISION_RE = re.compile(r"(?<![\w-])(?:" + "|".join(_DECISION_PATTERNS) + r")(?![\w-])")
_SHORT_RE = re.compile(r"(?<![\w+-])(?:" + "|".join(_SHORT_ANSWERS) + r")(?![\w-])")
SHORT_ANSWER_WORDS = 4


def _fold(text: str) -> str:
    """NFKC, lower case, accents dropped, curly quotes straightened."""
    text = unicodedata.normalize("NFKC", text).casefold()
    text = text.replace("\u2019", "'").replace("\u2018", "'")
    decomposed = unicodedata.normalize("NFD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def looks_like_decision(text: str) -> bool:
    """True when ``text`` reads like approving or rejecting something.

    Deliberately broad: a false positive costs one line explaining how to decide; a
    false negative could only ever reach the similarity router, which cannot decide.
    """
    folded = _fold(_MENTION.sub(" ", text))
    if _DECISION_RE.search(folded):
        return True
    if any(c in _DECISION_SYMBOLS for c in folded) or any(w in folded for w in _DECISION_SCRIPTS):
        return True
    words = re.findall(r"[\w'+-]+", folded)
    return 0 < len(words) <= SHORT_ANSWER_WORDS and bool(_SHORT_RE.search(folded))


class LLMRoute(BaseModel):
    """What the chat model answers when asked to route a message."""

    intent: Intent = Field(description="The one intent the message asks for.")
    episode: str | None = Field(
        default=None, description="The episode the message is about, as written, or null."
    )


ROUTER_PROMPT = """You route messages that writers send to the bot of a microdrama writers' room.
Pick the one intent the message asks for:
- explain: why an episode's numbers are what they are (scores, retention, drop-offs, comments)
- propose: ideas or changes for an existing episode
- draft: write the next, new episode of the series
- brief: the episode's current brief, hook, beats or shot list
- note: the writer gives a creative note to record
- how_to_decide: anything about approving or rejecting a proposal (the room never decides
  from free text; it explains the command)
- render_status: whether a video render is done and where it is
- status: an overview of the room, counts, what is pending
- characters: what viewers say about a character (or about the characters)
- variants: which thumbnail / hook / caption variant of an episode is winning
- compare: two or more episodes side by side
- next_steps: what to change next across the series, ranked
- lessons: what worked last time, the measured outcomes of published changes
- help: greetings, questions about the bot, anything else
Answer with a JSON object {"intent": ..., "episode": ...} and nothing else."""


class Router:
    """Routes messages: verbs, follow-ups, similarity to :data:`EXAMPLES`, then an LLM.

    Args:
        settings: the room (embedding model; ``llm`` decides whether an LLM may help).
        model: a chat model for uncertain messages; by default the one the settings
            name (none for the offline provider).
    """

    def __init__(self, settings: Settings, *, model: Any = "settings") -> None:
        self.settings = settings
        self._model = model
        self._vectors: np.ndarray | None = None
        self._labels: list[Intent] = []
        self._rows: dict[Intent, np.ndarray] = {}
        self._lock = threading.Lock()
        self._names = rules.NamePattern(())
        self._titles = rules.TitlePattern(())
        self._known: tuple[frozenset[str], frozenset[str]] = (frozenset(), frozenset())

    def learn(self, *, names: Iterable[str] = (), titles: Iterable[str] = ()) -> None:
        """The room's character names and episode titles (the graph passes them).

        Names feed the question rules; a title counts as naming an episode ("why did Low
        Tide drop?"). The router itself reads no database: its settings may name another
        home (tests share one router between rooms), and these change only with a series.
        """
        known = (frozenset(names), frozenset(titles))
        if known != self._known:
            self._names = rules.NamePattern(known[0])
            self._titles = rules.TitlePattern(known[1])
            self._known = known

    def _embedder(self) -> Any:

        return get_embedder(self.settings)

    def warm(self) -> None:
        """Load the embedding model and embed the examples (done once per process)."""
        with self._lock:
            if self._vectors is not None:
                return
            labels: list[Intent] = []
            texts: list[str] = []
            for intent, examples in EXAMPLES.items():
                labels.extend([intent] * len(examples))
                texts.extend(examples)
            self._vectors = self._embedder().encode(texts)
            self._labels = labels
            self._rows = {
                intent: np.array([i for i, label in enumerate(labels) if label == intent])
                for intent in EXAMPLES
            }

    def similar(self, text: str, *, exclude: Iterable[str] = ()) -> tuple[Intent, float]:
        """The intent whose examples are nearest to ``text``, and that similarity.

        An intent's score is the mean cosine similarity of its two nearest examples: one
        lucky example does not win alone (on 37 phrasings that are not examples it chose
        34 right where the single nearest example chose 30).
        """
        self.warm()
        assert self._vectors is not None
        scores = self._vectors @ self._embedder().encode([text])[0]
        best: tuple[Intent, float] | None = None
        for intent, rows in self._rows.items():
            if intent in exclude:
                continue
            top = np.sort(scores[rows])[-TOP_K:]
            score = float(top.mean())
            if best is None or score > best[1]:
                best = (intent, score)
        assert best is not None
        return best

    def route(self, text: str, *, last_intent: str | None = None) -> Route:
        """Decide the intent of one message.

        Args:
            text: the message (Slack mentions already removed or not; both work).
            last_intent: the intent of the previous turn in this thread, for follow-ups.
        """
        parsed = parse_command(text)
        if parsed is not None:
            return parsed
        series_id, rest = split_series_prefix(_MENTION.sub("", text))
        if looks_like_decision(rest):
            return Route(
                intent="how_to_decide",
                source="decision_words",
                series_id=series_id,
                proposal_id=find_proposal_id(rest),
            )
        episode_refs = find_episode_refs(rest)
        episode_ref = episode_refs[0] if episode_refs else None
        proposal_id = find_proposal_id(rest)
        names, titles = self._names, self._titles
        named = episode_refs + titles.find_all(rest)  # episodes by number or title
        if rules.only_names(rest, names) and (last_intent == "characters" or not named):
            return Route(
                intent="characters",
                source="followup",
                series_id=series_id,
                subject=names.find(rest),
            )
        if named and rules.only_names_episodes(rest, titles):
            intent: Intent = (
                last_intent  # type: ignore[assignment]
                if last_intent in EPISODE_INTENTS
                else "explain"
            )
            return Route(
                intent=intent,
                source="followup",
                series_id=series_id,
                episode_ref=episode_ref,
                episode_refs=episode_refs,
            )
        if not rest.strip():
            return Route(intent="help", source="fallback", series_id=series_id)
        subject = rules.character_named(rest, names)
        ruled = rules.question_intent(rest, named, subject)
        if ruled is not None:
            return Route(
                intent=ruled,  # type: ignore[arg-type]
                source="rule",
                series_id=series_id,
                episode_ref=episode_ref,
                episode_refs=episode_refs,
                subject=subject,
            )
        # A comparison needs two episodes: with fewer, "show the brief of ep1" is not one.
        intent, score = self.similar(
            titles.mask(rest), exclude=("compare",) if len(named) < 2 else ()
        )
        if intent == "next_steps" and named:
            intent = "propose"  # "what should we change in episode 3": that episode's
        source: Literal["similarity", "llm", "fallback"] = "similarity"
        if score < MIN_SIMILARITY:
            asked = self._ask_model(rest)
            if asked is not None:
                source, intent = "llm", asked.intent
                if intent in ("approve", "reject"):
                    intent = "how_to_decide"  # a model's reading never decides
                episode_ref = episode_ref or asked.episode
            else:
                source = "fallback"
                intent = "explain" if named or last_intent in EPISODE_INTENTS else "help"
        route = Route(
            intent=intent,
            source=source,
            score=score,
            series_id=series_id,
            episode_ref=episode_ref,
            episode_refs=episode_refs or ([episode_ref] if episode_ref else []),
            proposal_id=proposal_id,
            subject=names.find(rest) if intent == "characters" else None,
        )
        if intent == "note":
            # Free-text notes are written only when the note is unmistakable.
            _, colon, after = rest.partition(":")
            route.text = after.strip() if colon else ""
            if not route.text:
                route.problem = "to add a note, write `note <episode> <text>`"
        return route

    def _ask_model(self, text: str) -> LLMRoute | None:
        """The chat model's routing of ``text``, or ``None`` (offline, or it failed)."""

        if isinstance(self._model, str):
            self._model = chat_model(self.settings)
        if self._model is None:
            return None
        from langchain_core.messages import HumanMessage, SystemMessage

        try:
            return structured_call(
                self._model,
                [SystemMessage(ROUTER_PROMPT), HumanMessage(text)],
                LLMRoute,
                max_attempts=2,
                recorder=audit_recorder(self.settings),
                purpose="chat.route",
            )
        except LLMError as exc:
            log.warning("LLM routing failed (%s); using the offline fallback", exc)
            return None
