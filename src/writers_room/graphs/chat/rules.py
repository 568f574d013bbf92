"""Question rules: the router's deterministic stage for the room's analytical questions.

Similarity to example utterances is good at the *kind* of question ("why did it drop?",
"what's the hook?") but not at the words that decide these four, so they are read by
rules first:

* ``compare`` — two episodes or more and a comparing word (``compare ep01 and ep04``,
  ``ep2 vs ep5``, ``is episode 3 better than episode 6``);
* ``variants`` — a variant word (thumbnail, variant, A/B test, cover …) and an outcome
  word (won, winning, ahead, best, results …);
* ``characters`` — the first name of a character of the room and a word about viewers
  (``what are viewers saying about Callum?``, ``do fans like Theo?``); the router learns
  the names from the graph (:meth:`Router.learn`), it never reads the database;
* ``next_steps`` — a room-wide "what now" (``what should we change next?``, ``what are
  the priorities``) without an episode.

None of them decides anything, and they run only after the decision-words stage, so a
message that reads like a decision never reaches them.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

__all__ = [
    "NamePattern",
    "TitlePattern",
    "character_named",
    "episode_mentions",
    "only_names",
    "only_names_episodes",
    "question_intent",
]

EPISODE = re.compile(r"\b(?:episode|ep|e)\s*[-#.]?\s*(\d{1,3})\b", re.IGNORECASE)

# "what worked last time…", "did the pacing cut work?", "which changes worked?"
_WORKED = re.compile(
    r"\b(?:worked|work(?:ed)? last time|did (?:it|that|the [\w -]+?) work|outcomes?)\b",
    re.IGNORECASE,
)
_COMPARE = re.compile(
    r"\b(?:compar\w*|vs\.?|versus|against|side[\s-]+by[\s-]+side|differen\w*|better|worse|"
    r"stronger|weaker)\b",
    re.IGNORECASE,
)
_VARIANT_WORD = re.compile(
    r"\b(?:thumbnails?|thumbs?|variants?|a/b|ab[\s-]tests?|split[\s-]tests?|covers?|"
    r"(?:hook|caption|title|thumbnail)\s+tests?)\b",
    re.IGNORECASE,
)
_OUTCOME_WORD = re.compile(
    r"\b(?:won|wins?|winning|winners?|lead\w*|ahead|best|better|beat\w*|perform\w*|results?|"
    r"doing|conclusive|significant|clicks?|ctr)\b",
    re.IGNORECASE,
)
_AUDIENCE_NOUN = re.compile(
    r"\b(?:viewers?|fans?|people|audiences?|comments?|commenters?|folks|everyone|chat)\b",
    re.IGNORECASE,
)
_OPINION_WORD = re.compile(
    r"\b(?:say\w*|said|think\w*|thought|feel\w*|felt|love\w*|hate\w*|lik(?:e|es|ed|ing)|"
    r"react\w*|sentiment|opinions?|reception|favou?rites?|popular|mention\w*|talk\w*|vibes?)\b",
    re.IGNORECASE,
)
_QUESTION_START = frozenset(
    "what how who which do does did is are why any whats what's hows how's".split()
)
_NOTE = re.compile(r"\bnotes?\b", re.IGNORECASE)
_NEXT = re.compile(
    r"\b(?:next\s+steps?|priorit\w*|to-?do|(?:biggest|most)\s+(?:impact\w*|important|urgent|"
    r"gaps?|wins?|opportunit\w*|problems?)|where\s+(?:do|should)\s+we\s+start)\b"
    r"|\b(?:change|fix|work\s+on|improve|tackle|do|focus\s+on|address|rewrite)\b"
    r"[^?.!]*\b(?:next|first)\b",
    re.IGNORECASE,
)
_FILLER = frozenset(
    "and what about how about the for of then ok okay so also now same with please too".split()
)


def episode_mentions(text: str) -> list[str]:
    """Every episode reference as written (``episode 3``, ``ep03``), in order."""
    return [m.group(0) for m in EPISODE.finditer(text)]


class NamePattern:
    """Finds the room's character first names (whole words, any case, ``Theo's`` too).

    Args:
        names: the names of the room's characters; each one's first word is matched.
    """

    def __init__(self, names: Iterable[str]) -> None:
        firsts = {n.split()[0].lower() for n in names if n.split()}
        self.names = frozenset(firsts)
        alternatives = "|".join(re.escape(n) for n in sorted(self.names, key=len, reverse=True))
        self._re = (
            re.compile(rf"(?<![\w-])({alternatives})(?:'s|’s|s')?(?![\w-])", re.IGNORECASE)
            if alternatives
            else None
        )

    def find(self, text: str) -> str | None:
        """The first character name in ``text``, as written, or ``None``."""
        if self._re is None:
            return None
        match = self._re.search(text)
        return match.group(1) if match else None

    def strip(self, text: str) -> str:
        return self._re.sub(" ", text) if self._re is not None else text


class TitlePattern:
    """Finds the room's episode titles: several words in any case, one word only as
    written (capitalised), so "Mother" is an episode and "mother" a word.

    Args:
        titles: the titles of the room's episodes.
    """

    def __init__(self, titles: Iterable[str]) -> None:
        clean = sorted({t.strip() for t in titles if t.strip()}, key=len, reverse=True)
        many = [re.escape(t) for t in clean if " " in t]
        one = [re.escape(t) for t in clean if " " not in t]
        self._many = (
            re.compile(rf"(?<![\w-])(?:{'|'.join(many)})(?![\w-])", re.IGNORECASE) if many else None
        )
        self._one = re.compile(rf"(?<![\w-])(?:{'|'.join(one)})(?![\w-])") if one else None

    def find_all(self, text: str) -> list[str]:
        """The titles in ``text`` as written, in order."""
        found: list[tuple[int, str]] = []
        for pattern in (self._many, self._one):
            if pattern is not None:
                found.extend((m.start(), m.group(0)) for m in pattern.finditer(text))
        return [t for _, t in sorted(found)]

    def mask(self, text: str, with_: str = "this episode") -> str:
        """``text`` with each title replaced (what similarity reads)."""
        for pattern in (self._many, self._one):
            if pattern is not None:
                text = pattern.sub(with_, text)
        return text


def character_named(text: str, names: NamePattern) -> str | None:
    """The character a question about viewers is about, or ``None``.

    A name alone is not enough ("I want Theo angrier" is a note): the message must talk
    about the audience (viewers, fans, comments …) or ask for an opinion (saying, think,
    love …) as a question. Messages about notes are never about characters.
    """
    name = names.find(text)
    if name is None or _NOTE.search(text):
        return None
    words = text.lower().split()
    question = "?" in text or (bool(words) and words[0].strip(",") in _QUESTION_START)
    if _AUDIENCE_NOUN.search(text) or (question and _OPINION_WORD.search(text)):
        return name
    return None


def only_names(text: str, names: NamePattern) -> bool:
    """True when ``text`` names a character and nothing else (``and Theo?``)."""
    if names.find(text) is None:
        return False
    return _nothing_but_filler(names.strip(text))


def only_names_episodes(text: str, titles: TitlePattern) -> bool:
    """True when ``text`` names episodes (numbers or titles) and nothing else."""
    masked = titles.mask(text, " ")
    if masked == text and EPISODE.search(text) is None:
        return False
    return _nothing_but_filler(EPISODE.sub(" ", masked))


def _nothing_but_filler(text: str) -> bool:
    return not [w for w in re.findall(r"[a-z']+", text.lower()) if w not in _FILLER]


def question_intent(text: str, refs: Sequence[str], character: str | None) -> str | None:
    """The analytical intent the rules read in ``text`` (see the module docstring).

    ``refs`` are the episodes the text names (numbers and titles)."""
    if len(refs) >= 2 and _COMPARE.search(text):
        return "compare"
    if _WORKED.search(text):
        return "lessons"
    if _VARIANT_WORD.search(text) and _OUTCOME_WORD.search(text):
        return "variants"
    if character is not None:
        return "characters"
    if not refs and _NEXT.search(text):
        return "next_steps"
    return None
