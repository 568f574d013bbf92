"""The offline drafter's story rules: the bible, the episodes so far and the audience in,
the next episode's brief and shot list out.

No model is involved and nothing is random: the same room drafts the same episode. The
rules are a working writer's, and each one is written down where it is applied:

* **Continuity.** The draft opens on the last episode's payoff — its image, its last
  line, its place — and plays the consequence next. It only names the bible's people
  (shots list only bible characters; a person the episodes brought back, such as a
  parent, appears in the action but does not get lines).
* **Cast.** The *lead* is who the last frame was on; the *partner* is who the audience
  pairs them with (the ship), else who shared the last frame; the *ally* is family or
  the favourite; the *antagonist* is whoever walked out on the story last and has not
  been seen since (a loose end), else the bible's rival; a *witness* (someone whose bible
  entry says they know or saw something) gets a line if there is room.
* **Voice.** Characters speak in lines built from their bible entries: what the entry
  says they do or know, turned into their own words ("keeps his promises and his
  secrets" → "I keep my promises. And my secrets."), and traits such as "allergic to
  pity" → "I'm allergic to pity.". Relations decide who they say it to.
* **The audience.** The twist answers the story question most distinct viewers asked or
  predicted, in the episodes' own words (the letter, the handwriting), by the person it
  points at; the ship gets a scene; comments are never copied (the caller checks every
  line against every stored comment for a shared run of five words).
* **Shape.** 8-12 shots of 3-8 s, inside the series' runtime, framings varied; captions
  only where a card earns its place; keyframe prompts in the series' style with each
  character's look.

The caller (:mod:`writers_room.writer.draft`) reads the material from SQL, hands a
:class:`Vetter` that refuses a line breaking the guard's rules, and turns the result into
a ``new_episode`` proposal.
"""

from __future__ import annotations

import re
import zlib
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from writers_room.brief.bundle import Brand, Constraints
from writers_room.brief.script import (
    Line,
    content_words,
    format_line,
    parse_dialogue,
    script_lines,
    sentences,
    shot_text,
    stem,
    story_shots,
)
from writers_room.writer.audience import AudienceRead, Thread

__all__ = [
    "DraftEpisode",
    "Person",
    "PriorEpisode",
    "StoryBible",
    "Vetter",
    "compose",
    "looks_from_prompts",
    "next_episode_id",
    "person_from",
    "spoken",
    "story_anchors",
    "style_from_prompts",
]

Vetter = Callable[[str], bool]
"""Says whether a text may go into the draft (brand, names, no copied comment)."""

MIN_SHOT_S, MAX_SHOT_S = 3.0, 8.0
MIN_SHOTS, MAX_SHOTS = 8, 12

# Words that are about the show, not the story: a viewer asking "why does every episode
# end on a cliffhanger" asks nothing the next episode can answer.
_META = frozenset(
    stem(w)
    for w in """episode episodes season series show part scene start opening intro ending end
    cliffhanger ads coins coin price prices paywall next actor acting dialogue filter shot shots
    thumbnail title cover preview feed app drama plot armor writer writers""".split()
)
# Verbs and fillers too common to anchor a question to the story.
_COMMON = frozenset(
    stem(w)
    for w in """look looks tell say said know knew see saw find found come came make made
    take took give gave want need think feel keep call calling called watch watching
    right wait really literally honestly okay maybe thing things people time times
    something nothing everything anyone someone nobody everybody guess real whole met meet
    already almost finally exactly sorry better best insane crazy love hate cool chills
    fr ngl lowkey bestie omg pls""".split()
)
_KIN = {
    "dad": "father",
    "father": "father",
    "daddy": "father",
    "mom": "mother",
    "mum": "mother",
    "mother": "mother",
    "brother": "brother",
    "sister": "sister",
}
_KIN_ADDRESS = {"father": "Dad", "mother": "Mom"}
# What a story object is, by the words that name it: what proves who is behind it.
_WRITTEN = frozenset(
    "letter letters note notes envelope message ledger contract deed diary journal".split()
)
_RECORDED = frozenset("tape footage recording drive video voice call phone camera".split())
_PICTURED = frozenset("photo photos photograph photographs picture pictures".split())
_ASPECTS = {
    "handwriting": "handwriting",
    "handwrit": "handwriting",
    "hand": "handwriting",
    "signature": "signature",
    "voice": "voice",
    "face": "face",
}
# A character as the subject of one of these answers what the rest of the clause names.
_ANSWERING = (
    r"(?:is|was|were|wrote|sent|set|took|made|left|killed|sank|started|staged|planted|"
    r"burned|paid|signed|pulled|saved|hid)\b[^.;:]*"
)
# Verbs that put a story object in someone's hands on screen ('hands her a folded lien').
_HANDLING = re.compile(
    r"\b(?:holds?|holding|hands?|pulls?|finds?|opens?|slams?|slides?|reads?|plays?|plugs?|"
    r"flips? through|lays?|drags? out|unfolds?|clutches|burns?|produces?)\b((?:\s+\S+){1,5})",
    re.IGNORECASE,
)
_OBJECTS = (
    _WRITTEN
    | _RECORDED
    | _PICTURED
    | frozenset("ring key keys chip box lockbox knife badge bag map blueprint blueprints".split())
)
_DEPARTURE = re.compile(
    r"\b(flees|fled|walks out|storms out|out the door|leaves (?:her|him|them)|vanishes|"
    r"disappears|escapes|runs off|slips away|drives off)\b",
    re.IGNORECASE,
)
_ENDURING = re.compile(r"\b(keep|keeps|know|knows|never|always|won't|owe|owes|promise|secret)")
_BACKSTORY = re.compile(r"\b(was framed|designed|has been|back after|is now|now a)\b")
_FRAMINGS = (
    "close-up",
    "wide",
    "medium",
    "over-the-shoulder",
    "insert",
    "extreme close-up",
    "two-shot",
    "medium close-up",
    "low angle",
    "extreme wide",
)


# --------------------------------------------------------------------------- the material


@dataclass(frozen=True)
class Person:
    """A bible character as the drafter uses them."""

    name: str
    first: str
    label: str
    """Speaker label as the episodes write it (``MARA``)."""
    description: str
    look: str = ""
    pronoun: str = "they"
    traits: tuple[str, ...] = ()
    """Lower-case trait words and phrases (``guarded``, ``allergic to pity``)."""
    facts: tuple[str, ...] = ()
    """What the entry says they did, do or know, as written (third person)."""
    relations: tuple[tuple[str, str], ...] = ()
    """(other character's full name, relation word), e.g. ("Mara Quinn", "sister")."""
    home: str = ""
    """A location of the bible their entry ties them to."""
    role: str = ""
    """What they are, as the entry says it ('the harbormaster')."""

    @property
    def possessive(self) -> str:
        return {"she": "her", "he": "his"}.get(self.pronoun, "their")

    @property
    def surname(self) -> str:
        parts = self.name.split()
        return parts[-1] if len(parts) > 1 else ""

    def relation_to(self, other: Person) -> str:
        return next((rel for name, rel in self.relations if name == other.name), "")


@dataclass(frozen=True)
class PriorEpisode:
    episode_id: str
    title: str
    position: int
    brief: Mapping[str, Any]
    manifest: Mapping[str, Any]

    @property
    def shots(self) -> list[dict[str, Any]]:
        return [dict(s) for s in self.manifest.get("shots", []) or []]

    @property
    def runtime_s(self) -> float:
        return sum(float(s.get("duration_s", 0)) for s in self.shots)


@dataclass(frozen=True)
class StoryBible:
    """Everything the drafter reads about the series (no database handles)."""

    series_id: str
    title: str
    premise: str
    brand: Brand
    constraints: Constraints
    people: tuple[Person, ...]
    locations: tuple[str, ...]
    style: str
    episodes: tuple[PriorEpisode, ...]

    def person(self, name: str) -> Person | None:
        return next((p for p in self.people if p.name == name), None)


@dataclass
class DraftEpisode:
    """The composed episode: brief fields and shots, plus what the rules used."""

    episode_id: str
    title: str
    title_options: list[str]
    brief: dict[str, Any]
    shots: list[dict[str, Any]]
    notes: list[str] = field(default_factory=list)
    """One line per rule applied, for the proposal's rationale."""
    roles: dict[str, str] = field(default_factory=dict)
    question: Thread | None = None
    """The audience question the twist answers, if any."""


# --------------------------------------------------------------------------- reading


def style_from_prompts(episodes: Sequence[PriorEpisode]) -> str:
    """The series' visual style: the part before the first ``;`` its keyframe prompts share."""
    heads = Counter(
        str(s.get("keyframe_prompt", "")).split(";")[0].strip()
        for e in episodes
        for s in e.shots
        if ";" in str(s.get("keyframe_prompt", ""))
    )
    if not heads:
        return ""
    head, count = heads.most_common(1)[0]
    return head if count >= 2 else ""


def looks_from_prompts(episodes: Sequence[PriorEpisode], names: Sequence[str]) -> dict[str, str]:
    """Each character's look as the episodes' keyframe prompts give it: ``Name (look)``."""
    looks: dict[str, str] = {}
    for episode in episodes:
        for shot in episode.shots:
            prompt = str(shot.get("keyframe_prompt", ""))
            for name in names:
                if name in looks:
                    continue
                found = re.search(re.escape(name) + r" \(([^()]{3,120})\)", prompt)
                if found:
                    looks[name] = found.group(1).strip()
    return looks


def _pronoun(text: str) -> str:
    words = re.findall(r"[a-z]+", text.lower())
    she = sum(w in {"she", "her", "hers", "herself", "woman", "girl"} for w in words)
    he = sum(w in {"he", "his", "him", "himself", "man", "boy"} for w in words)
    return "she" if she > he else "he" if he > she else "they"


_RELATION = re.compile(
    r"^(?:the\s+)?([A-Z][\w'-]+)['’]s\s+((?:[a-z-]+\s+){0,3}?)"
    r"(sister|brother|ex-fiancée?|fianc[ée]e?|ex-husband|ex-wife|husband|wife|father|mother|"
    r"son|daughter|cousin|partner|best friend|friend|mentor|boss|ex)\b"
)
_AGE = re.compile(r"^\s*\d{1,3}\s*,\s*")
_VERBISH = re.compile(r"^(?:[a-z]+s|has|is|was|knows|never|always|still|now|who)\b")


def _clauses(description: str) -> list[str]:
    return [c.strip(" .;") for c in re.split(r"(?<=[.;])\s+", description.strip()) if c.strip()]


def person_from(
    name: str,
    description: str,
    *,
    cast: Sequence[str],
    look: str = "",
    label: str = "",
    first: str = "",
    locations: Sequence[str] = (),
) -> Person:
    """Read a bible entry: traits, facts, relations and the place it ties them to."""
    traits: list[str] = []
    facts: list[str] = []
    relations: list[tuple[str, str]] = []
    role = ""
    firsts = {c.split()[0]: c for c in cast}
    for clause in _clauses(description):
        aged = bool(_AGE.match(clause))
        clause = _AGE.sub("", clause)
        if aged:
            head, _, rest = re.sub(r",? who ", " who ", clause, count=1).partition(" who ")
            head, _, now = head.partition(", now ")
            relation = _RELATION.match(head)
            if relation and relation.group(1) in firsts:
                relations.append((firsts[relation.group(1)], relation.group(3)))
                traits.extend(
                    w for w in relation.group(2).split() if w not in {"younger", "older", "little"}
                )
            elif _VERBISH.match(head):
                facts.append(head)
            else:
                role = role or head
                facts.extend(_agent_facts(head))
            if rest:
                facts.append(rest)
            continue
        items = [i.strip() for i in clause.split(",") if i.strip()]
        if len(items) >= 2 and all(len(i.split()) <= 4 or " that " in i for i in items[:-1]):
            for item in items:
                low = item[0].lower() + item[1:]
                if " that " in low and len(low.split()[0]) > 2:
                    adjective, _, what = low.partition(" that ")
                    traits.append(adjective)
                    facts.append(what)
                elif _VERBISH.match(low) and len(low.split()) > 1:
                    facts.append(low)
                else:
                    traits.append(low)
            continue
        facts.append(clause[0].lower() + clause[1:] if clause[:2] != clause[:2].upper() else clause)
    return Person(
        name=name,
        first=first or name.split()[0],
        label=label or name.split()[0].upper(),
        description=description,
        look=look,
        pronoun=_pronoun(f"{description} {look}"),
        traits=tuple(traits),
        facts=tuple(facts),
        relations=tuple(relations),
        home=best_location(description, locations, cast),
        role=role,
    )


def best_location(text: str, locations: Sequence[str], cast: Sequence[str] = ()) -> str:
    """The bible location ``text`` names best (shared words, names aside; earliest wins)."""
    names = {stem(w) for n in cast for w in n.split()}
    tokens = [stem(w) for w in re.findall(r"[A-Za-z][A-Za-z'’-]*", text)]
    words = content_words(text) - names
    best, score = "", (0, 0)
    for location in locations:
        shared = (content_words(location) - names) & words
        if not shared:
            continue
        first = (
            min(tokens.index(w) for w in shared if w in tokens)
            if any(w in tokens for w in shared)
            else len(tokens)
        )
        key = (len(shared), -first)
        if key > score:
            best, score = location, key
    return best


_AGENT = re.compile(r"^(?:the\s+|a\s+|an\s+)?([a-z]+(?:er|or))\s+of\s+(.+)$")
_AGENT_VERBS = {
    "keeper": "keeps",
    "owner": "owns",
    "collector": "collects",
    "protector": "protects",
}


def _agent_facts(role: str) -> list[str]:
    """'keeper of the lighthouse, collector of debts' → ['keeps the lighthouse', ...]."""
    out = []
    for part in re.split(r",\s*(?=[a-z]+(?:er|or)\s+of\b)", role):
        found = _AGENT.match(part.strip())
        if found:
            verb = _AGENT_VERBS.get(found.group(1)) or (
                found.group(1)[:-2] + "s" if found.group(1).endswith("er") else ""
            )
            if verb:
                out.append(f"{verb} {found.group(2)}")
    return out


def story_anchors(episodes: Sequence[PriorEpisode], extra: Sequence[str] = ()) -> set[str]:
    """Stems of the words the episodes put on screen and in their turns (not show talk)."""
    texts = list(extra)
    for episode in episodes:
        brief = episode.brief
        texts += [str(brief.get(k, "")) for k in ("premise", "hook", "twist", "payoff")]
        texts += [str(b) for b in brief.get("beats", []) or []]
        for shot in episode.shots:
            texts += [str(shot.get(k, "")) for k in ("action", "caption")]
            texts += [text for _, _, text in parse_dialogue(str(shot.get("dialogue", "")))]
    words: set[str] = set()
    for text in texts:
        words |= content_words(text)
    return {
        w
        for w in words
        if w not in _META and w not in _COMMON and len(w) >= 3 and "'" not in w and w.isalpha()
    }


def next_episode_id(existing: Sequence[str]) -> str:
    """The next free id in the series' own pattern (``ep08`` → ``ep09``, ``e7`` → ``e8``)."""
    patterns: Counter[tuple[str, int]] = Counter()
    highest: dict[tuple[str, int], int] = {}
    for episode_id in existing:
        found = re.fullmatch(r"(.*?)(\d+)", episode_id)
        if found:
            key = (found.group(1), len(found.group(2)))
            patterns[key] += 1
            highest[key] = max(highest.get(key, 0), int(found.group(2)))
    taken = set(existing)
    if patterns:
        (prefix, width), _ = patterns.most_common(1)[0]
        number = highest[(prefix, width)] + 1
    else:
        prefix, width, number = "ep", 2, len(existing) + 1
    while True:
        candidate = f"{prefix}{number:0{width}d}"
        if candidate not in taken:
            return candidate
        number += 1


# --------------------------------------------------------------------------- voice

_SUBJECT = {"he": "I", "she": "I", "they": "I"}
_THIRD_TO_BASE = {"is": "am", "has": "have", "was": "was", "does": "do", "goes": "go"}
_NOT_VERBS = frozenset("his her its this was has is always news less".split())
# Words a fact can open with that are not its verb: it has its own subject then.
_NOT_SUBJECTS = frozenset(
    """the a an his her their its my our your this that these those there it he she they
    nobody everyone someone what who""".split()
)


def _base_verb(word: str) -> str:
    if word in _THIRD_TO_BASE:
        return _THIRD_TO_BASE[word]
    if word in _NOT_VERBS or not word.endswith("s") or word.endswith("ss") or len(word) < 4:
        return word
    if word.endswith("ies"):
        return word[:-3] + "y"
    if word.endswith(("ches", "shes", "sses", "xes", "oes")):
        return word[:-2]
    return word[:-1]


def spoken(fact: str, speaker: Person, to: Person | None = None) -> str:
    """A bible fact about ``speaker`` in their own words, said to ``to``.

    ``"keeps his promises and his secrets"`` → ``"I keep my promises and my secrets."``;
    ``"Mara left her alone with their father"`` (June to Mara) → ``"You left me alone
    with Dad."``
    """
    text = fact.strip().rstrip(".;,")
    if not text:
        return ""
    words = text.split()
    # A clause that starts with a verb is about the speaker: give it its subject.
    first = words[0]
    starts_with_verb = first.islower() and first not in _NOT_SUBJECTS
    if starts_with_verb:
        text = "I " + text[0].lower() + text[1:]

    # Each coordinated clause's leading verb loses its third-person -s.
    def verb_fix(match: re.Match[str]) -> str:
        lead, adverb, verb = match.group(1), match.group(2) or "", match.group(3)
        return f"{lead}{adverb}{_base_verb(verb.lower())}"

    text = re.sub(
        r"(\bI |\band |\bbut |; )((?:never |always |still |now )?)([A-Za-z]+)", verb_fix, text
    )

    # Pronouns of the speaker become first person.
    def pronoun(match: re.Match[str]) -> str:
        word = match.group(0)
        low = word.lower()
        following = text[match.end() :].lstrip()
        if low in ("he", "she"):
            return "I"
        if low in ("his",):
            return "my"
        if low in ("him",):
            return "me"
        if low in ("himself", "herself"):
            return "myself"
        if low == "her":
            nxt = re.match(r"[A-Za-z']+", following)
            possessive = nxt is not None and nxt.group(0).lower() not in {
                "alone", "to", "and", "or", "in", "on", "with", "out", "up", "down", "back",
                "again", "anymore", "now", "then", "that", "because",
            }  # fmt: skip
            return "my" if possessive else "me"
        return word

    text = re.sub(r"\b(?:he|she|his|him|himself|herself|her)\b", pronoun, text, flags=re.I)
    if to is not None:
        kin = speaker.relation_to(to) or to.relation_to(speaker)
        if kin in {"sister", "brother"} or (speaker.surname and speaker.surname == to.surname):
            text = re.sub(r"\btheir father\b", "Dad", text)
            text = re.sub(r"\btheir mother\b", "Mom", text)
        text = re.sub(rf"\b{re.escape(to.first)}['’]s\b", "your", text)
        text = re.sub(rf"\b{re.escape(to.name)}\b|\b{re.escape(to.first)}\b", "you", text)
        if to.surname:
            text = re.sub(rf"\bthe {re.escape(to.surname)} family['’]s\b", "your family's", text)
    if speaker.surname:
        text = re.sub(rf"\bthe {re.escape(speaker.surname)} family['’]s\b", "my family's", text)
    text = re.sub(r"\bI have been\b", "I've been", text)
    text = re.sub(r"\bI am\b", "I'm", text)
    text = re.sub(r"\bI will\b", "I'll", text)
    text = text[0].upper() + text[1:]
    return text + ("" if text.endswith(("?", "!", ".")) else ".")


def _split_clauses(line: str) -> str:
    """'I keep my promises and my secrets.' → 'I keep my promises. And my secrets.'"""
    line = re.sub(r"\s+and (my|our|your) ", r". And \1 ", line)
    line = re.sub(r"\s+and (never|won't|always) ", r". I \1 ", line)
    return line


def _fact_score(fact: str) -> int:
    score = 2 * len(_ENDURING.findall(fact)) - 2 * len(_BACKSTORY.findall(fact))
    return score - max(0, len(fact.split()) - 12) // 4


def _best_facts(person: Person) -> list[str]:
    return sorted(person.facts, key=lambda f: (-_fact_score(f), person.facts.index(f)))


_SORE = re.compile(r"\b(terrible|bad|allergic|afraid|scared|hopeless|never|no good)\b")


def _trait_phrases(person: Person) -> list[str]:
    """Traits that say something as a line ('allergic to pity', 'terrible at trust'), the
    sore ones first: a character admits a weakness in a scene, not a skill."""
    phrases = [t for t in person.traits if 3 <= len(t.split()) <= 5]
    return sorted(phrases, key=lambda t: (not _SORE.search(t), phrases.index(t)))


# --------------------------------------------------------------------------- helpers


def _first_sentence(text: str) -> str:
    found = sentences(str(text))
    return found[0].strip() if found else str(text).strip()


def _strip_end(text: str) -> str:
    return text.strip().rstrip(".!?;:,").strip()


def _cap(text: str) -> str:
    return text[:1].upper() + text[1:] if text else text


def _seed(series_id: str, episode_id: str, shot_id: str) -> int:
    return zlib.crc32(f"{series_id}/{episode_id}/{shot_id}".encode()) & 0x7FFFFFFF


def _pick(options: Sequence[str], vet: Vetter) -> str:
    """The first option the vetter accepts ('' when none does)."""
    for option in options:
        option = " ".join(option.split())
        if option and vet(option):
            return option
    return ""


@dataclass
class _Shot:
    beat: str
    framing: str
    camera: str
    people: list[Person]
    action: str
    mood: str
    lines: list[tuple[Person, str]] = field(default_factory=list)
    caption: str = ""
    weight: float = 1.0
    """Relative length; durations are spread over the runtime by weight."""
    direction: str = ""
    """How a speaker not in frame is heard ('(comms)', '(V.O.)')."""

    @property
    def speakers(self) -> list[Person]:
        return [person for person, _ in self.lines]


# --------------------------------------------------------------------------- the story


@dataclass
class _Story:
    bible: StoryBible
    audience: AudienceRead
    vet: Vetter
    episode_id: str
    notes: list[str] = field(default_factory=list)

    # -- reading the last episode ------------------------------------------------------

    def __post_init__(self) -> None:
        self.last = self.bible.episodes[-1]
        self.last_shots = self.last.shots
        turns = story_shots(self.last.brief, self.last.manifest)
        self.payoff_idx = turns.get("payoff") or [len(self.last_shots) - 1]
        self.final = self.last_shots[-1]
        # What the last episode ended on: its payoff, else its last shot, else its hook.
        brief = self.last.brief
        self.payoff = next(
            (
                _first_sentence(str(text))
                for text in (
                    brief.get("payoff"),
                    self.final.get("action"),
                    self.final.get("caption"),
                    brief.get("hook"),
                    brief.get("premise"),
                )
                if text and str(text).strip()
            ),
            self.last.title,
        )
        lines = [ln for ln in script_lines(self.last.manifest) if ln.shot_index in self.payoff_idx]
        every = lines or script_lines(self.last.manifest)
        self.last_line: Line | None = every[-1] if every else None
        self.final_people = self._people_in(self.final) or self._people_in(
            self.last_shots[self.payoff_idx[0]]
        )
        self.place = self._scene_place()
        self.fact = self._payoff_fact()
        self.returned = self._returned()
        self.returned_first = self.returned.split()[0] if self.returned else ""
        # Every line the episodes have spoken: a draft does not say them again.
        self.said = {
            _said_key(sentence)
            for episode in self.bible.episodes
            for line in script_lines(episode.manifest)
            for sentence in sentences(line.text)
        }
        self.loose = False
        self.the_place = _the_place(self.place)
        # How the last line addresses the person the payoff brought back ("Dad?").
        self.address = ""
        if self.last_line is not None:
            for word, kin in _KIN.items():
                if re.search(rf"\b{word}\b", self.last_line.text, re.I):
                    self.address = _KIN_ADDRESS.get(kin, "")
                    break

    def direction_of(self, person: Person) -> str:
        """'(comms)' when the person's last line in the last episode came over a line."""
        for line in reversed(script_lines(self.last.manifest)):
            if line.speaker.split()[0] == person.label if line.speaker else False:
                off = re.search(r"comms|phone|radio|V\.O\.|O\.S\.|on tape", line.direction, re.I)
                return line.direction if off else ""
        return ""

    def prop_phrase(self, prop: str) -> str:
        """'the first letter' when the episodes have several; else 'the letter'."""
        if not prop:
            return "it"
        plural = any(re.search(rf"\b{prop}s\b", text, re.I) for text in self.narration())
        return f"the first {prop}" if plural else f"the {prop}"

    def signature_thing(self, person: Person) -> str:
        """The newest 'Name's <vehicle>' the episodes showed: 'Callum's white cruiser'."""
        vehicles = "cruiser|boat|car|yacht|truck|motorcycle|van|jet|helicopter|limo"
        for episode in reversed(self.bible.episodes):
            for shot in reversed(episode.shots):
                found = re.search(
                    rf"\b{re.escape(person.first)}['’]s ((?:[a-z]+ )?(?:{vehicles}))\b",
                    str(shot.get("action", "")),
                )
                if found:
                    return f"{person.first}'s {found.group(1)}"
        return ""

    def _people_in(self, shot: Mapping[str, Any]) -> list[Person]:
        out = []
        for name in shot.get("characters", []) or []:
            person = self._match(str(name))
            if person is not None and person not in out:
                out.append(person)
        return out

    def _match(self, name: str) -> Person | None:
        low = name.lower().strip()
        for person in self.bible.people:
            if low in (person.name.lower(), person.first.lower()):
                return person
        return None

    def _place(self, text: str) -> str:
        return best_location(text, self.bible.locations, [p.name for p in self.bible.people])

    def _scene_place(self) -> str:
        """Where the last scene plays: the newest shot that sets a place ('On the dock, ...'),
        else what the payoff's shots and sentence name."""
        for shot in reversed(self.last_shots):
            action = str(shot.get("action", ""))
            heading = re.match(
                r"^(?:On|In|At|Inside|Outside|Back on|Back at|Up at)\s+[^,;:]+", action
            )
            if heading:
                found = self._place(heading.group(0))
                if found:
                    return found
        return self._place(
            " ".join(str(self.last_shots[i].get("action", "")) for i in self.payoff_idx)
            + " "
            + self.payoff
        )

    def _payoff_fact(self) -> str:
        captions = [str(self.last_shots[i].get("caption", "")).strip() for i in self.payoff_idx]
        for caption in reversed(captions):
            if caption and not caption.endswith("?") and len(caption.split()) >= 3:
                return _strip_end(caption)
        return _strip_end(self.payoff)

    def _returned(self) -> str:
        """A person the payoff brings (back) on screen who is not a bible character."""
        cast_words = {w.lower() for p in self.bible.people for w in p.name.split()}
        for text in (self.fact, self.payoff):
            for found in re.finditer(r"\b([A-Z][a-z]+)(?:\s+([A-Z][a-z]+))?", text):
                name = found.group(0)
                first = found.group(1)
                if found.start() == 0 and not found.group(2):
                    continue
                if first.lower() not in cast_words and first not in {"As", "The", "A", "An"}:
                    return name
        return ""

    def situation(self) -> str:
        text = f"{self.payoff} {self.fact} {self.last_line.text if self.last_line else ''}"
        low = text.lower()
        if re.search(
            r"\b(alive|comes home|came home|returns|is back|drifts out|at the wheel)\b", low
        ):
            return "return"
        if re.search(
            r"\b(footage|camera|recording|tape|photos?|drive|it was her|it was him|really is|"
            r"really was)\b",
            low,
        ):
            return "exposed"
        if re.search(r"\b(fire|burning|flare|rifles|sirens|trapped|sealed|explodes?)\b", low):
            return "danger"
        return "turn"

    # -- the cast ------------------------------------------------------------------

    def cast(self) -> dict[str, Person | None]:
        people = list(self.bible.people)
        # The lead: the series' first character when the last frame is about them (even
        # if someone else is on screen, watching them), else who the last frame is on.
        protagonist = people[0]
        about = " ".join([self.payoff, str(self.final.get("action", ""))])
        if protagonist in self.final_people or re.search(rf"\b{protagonist.first}\b", about):
            lead = protagonist
        else:
            lead = self.final_people[0] if self.final_people else protagonist
        partner = None
        ship = self.audience.ship
        if ship is not None and lead.name in ship.characters:
            partner = self.bible.person(next(c for c in ship.characters if c != lead.name))
        if partner is None and len(self.final_people) > 1:
            partner = self.final_people[1]
        if partner is None:
            partner = self._most_with(lead, exclude={lead.name})
        antagonist = self._loose_end({lead.name, partner.name if partner else ""})
        taken = {lead.name, partner.name if partner else "", antagonist.name if antagonist else ""}
        ally = self._ally(lead, taken)
        if ally is not None:
            taken.add(ally.name)
        witness = next(
            (
                p
                for p in people
                if p.name not in taken
                and any(re.search(r"\b(knows|saw|remembers|memory)\b", f) for f in p.facts)
            ),
            None,
        )
        return {
            "lead": lead,
            "partner": partner,
            "ally": ally,
            "antagonist": antagonist,
            "witness": witness,
        }

    def _most_with(self, person: Person, exclude: set[str]) -> Person | None:
        counts: Counter[str] = Counter()
        for episode in self.bible.episodes:
            for shot in episode.shots:
                names = [p.name for p in self._people_in(shot)]
                if person.name in names:
                    counts.update(n for n in names if n not in exclude)
        for name, _ in counts.most_common():
            found = self.bible.person(name)
            if found is not None:
                return found
        return next((p for p in self.bible.people if p.name not in exclude), None)

    def _loose_end(self, exclude: set[str]) -> Person | None:
        """Who walked out on the story last and has not been seen since."""
        last_seen: dict[str, tuple[int, int]] = {}
        departed: dict[str, tuple[int, int]] = {}
        for e_index, episode in enumerate(self.bible.episodes):
            for s_index, shot in enumerate(episode.shots):
                at = (e_index, s_index)
                for person in self._people_in(shot):
                    last_seen[person.name] = at
                    action = str(shot.get("action", ""))
                    if person.first in action and _DEPARTURE.search(action):
                        departed[person.name] = at
            for beat in episode.brief.get("beats", []) or []:
                for person in self.bible.people:
                    if person.first in str(beat) and _DEPARTURE.search(str(beat)):
                        departed[person.name] = (e_index, 10_000)
        loose = [
            name
            for name, at in departed.items()
            if name not in exclude and last_seen.get(name, (-1, -1)) <= at
        ]
        if loose:
            loose.sort(key=lambda n: departed[n], reverse=True)
            self.loose = True
            return self.bible.person(loose[0])
        rivals = [
            p
            for p in self.bible.people
            if p.name not in exclude
            and re.search(r"\b(ex-|rival|owner|developer|never loses|blackmail)", p.description)
        ]
        return rivals[0] if rivals else None

    def _ally(self, lead: Person, taken: set[str]) -> Person | None:
        kin = [
            p
            for p in self.bible.people
            if p.name not in taken and (p.relation_to(lead) or lead.relation_to(p))
        ]
        in_last = {p.name for s in self.last_shots for p in self._people_in(s)}
        kin.sort(key=lambda p: (p.name not in in_last, self.bible.people.index(p)))
        if kin:
            return kin[0]
        for name, _ in self.audience.favourites:
            if name not in taken:
                return self.bible.person(name)
        return next((p for p in self.bible.people if p.name not in taken), None)

    # -- the audience's question -----------------------------------------------------

    def narration(self) -> list[str]:
        """The episodes' own narration: premises, hooks, twists, payoffs and beats."""
        texts = []
        for episode in self.bible.episodes:
            brief = episode.brief
            texts += [str(brief.get(k, "")) for k in ("premise", "hook", "twist", "payoff")]
            texts += [str(b) for b in brief.get("beats", []) or []]
        return texts

    def question(self) -> _Question | None:
        """What the twist answers: the most shared story question the episodes have not
        answered yet and that names something on screen (a thing or a figure)."""
        skipped: dict[str, list[str]] = {}
        chosen = None
        for thread in self.audience.questions:
            found = self._read_question(thread)
            if found is None:
                continue
            answered = self._answered(found)
            if not answered:
                chosen = found
                break
            about = found.entity or "/".join(sorted(found.words[:3]))
            if about not in skipped.setdefault(answered, []):
                skipped[answered].append(about)
        if skipped:
            self.notes.append(
                "answered on screen already, so not the twist: "
                + "; ".join(f"{', '.join(a)} ('{text}')" for text, a in skipped.items())
            )
        return chosen

    def _answered(self, q: _Question) -> str:
        """The narration that already answers ``q``: a character doing or being the thing
        asked about ('Declan wrote the letters', 'Jonah is Mother'). A suspect question is
        answered only by that suspect ("Mother is Vex" is open after "Jonah is Mother")."""
        people = q.suspects or list(self.bible.people)
        wanted = set(q.words)
        for text in self.narration():
            for person in people:
                for name in person.name.split():
                    found = re.search(rf"\b{re.escape(name)}\s+(?:\w+\s+)?{_ANSWERING}", text)
                    if found and wanted <= content_words(text[found.start() :]):
                        return _strip_end(re.split(r"[:;]", text)[0])
        # A twist that turned on the very thing asked about, and showed it ('The first
        # letter was Walt's' with 'the same handwriting' among its beats).
        asked = wanted - set(_KIN)
        for episode in self.bible.episodes:
            twist = str(episode.brief.get("twist", ""))
            shown = content_words(" ".join([twist, *map(str, episode.brief.get("beats", []))]))
            if q.prop and q.prop in content_words(twist) and asked <= shown:
                return _strip_end(re.split(r"[:;]", twist)[0])
        return ""

    def _read_question(self, thread: Thread) -> _Question | None:
        words = [w for w in thread.words if w not in _META and w not in _COMMON]
        suspects = [p for p in (self.bible.person(n) for n in thread.characters) if p]
        if not words:
            return None
        entity = self._entity(words)
        origin: PriorEpisode | None = None
        best = 0
        for episode in self.bible.episodes:
            texts = [str(episode.brief.get(k, "")) for k in ("premise", "hook", "twist", "payoff")]
            texts += [str(b) for b in episode.brief.get("beats", []) or []]
            texts += [str(s.get("caption", "")) for s in episode.shots]
            score = sum(1 for w in words if any(w in content_words(t) for t in texts))
            if score > best:
                best, origin = score, episode
        prop = "" if entity else self._prop(words, origin)
        kin = "" if entity else next((_KIN[w] for w in words if w in _KIN), "")
        aspect = next((_ASPECTS[w] for w in words if w in _ASPECTS), "")
        # The card the thing first carried: the origin's caption nearest the question.
        quote = ""
        if origin is not None and prop:
            best_shared = 0
            for shot in origin.shots:
                caption = str(shot.get("caption", "")).strip()
                shared = len(set(words) & content_words(shot_text(shot)))
                if caption and shared >= max(1, best_shared):
                    quote, best_shared = caption, shared
        if not prop and not entity:
            return None  # nothing on screen to answer it with
        return _Question(
            thread=thread,
            words=words,
            origin=origin,
            prop=prop,
            entity=entity,
            kin=kin,
            aspect=aspect,
            quote=quote,
            suspects=suspects,
        )

    def _entity(self, words: Sequence[str]) -> str:
        """A question word the narration writes as a name ('Mother'): someone off the cast."""
        cast_words = {w for p in self.bible.people for w in p.name.split()}
        for word in words:
            for text in self.narration():
                for found in re.finditer(r"(?<=[a-z,] )([A-Z][a-z]+)\b", text):
                    name = found.group(1)
                    if stem(name) == word and name not in cast_words:
                        return name
        return ""

    def _handled(self, word: str) -> bool:
        """Whether the episodes show ``word`` as a thing in someone's hands."""
        if word in _OBJECTS:
            return True
        for episode in self.bible.episodes:
            for shot in episode.shots:
                for found in _HANDLING.finditer(str(shot.get("action", ""))):
                    if word in content_words(found.group(1)):
                        return True
        return False

    def _prop(self, words: Sequence[str], origin: PriorEpisode | None) -> str:
        """The story object the question is about, as the episodes name it ('letter')."""
        candidates = [w for w in words if w not in _KIN and w not in _ASPECTS and self._handled(w)]
        texts: list[str] = []
        for episode in [origin] if origin else list(self.bible.episodes):
            texts += [str(b) for b in episode.brief.get("beats", []) or []]
            texts += [str(episode.brief.get(k, "")) for k in ("hook", "twist", "payoff")]
        for word in candidates:
            for text in texts:
                found = re.search(rf"\b(?:the|a|an|his|her|their)\s+({word}\w*)", text, re.I)
                if found:
                    return stem(found.group(1))
        return ""


@dataclass
class _Question:
    thread: Thread
    words: list[str]
    origin: PriorEpisode | None
    prop: str
    """The story object asked about, as a stem ('letter'), or ''."""
    entity: str
    """A named figure off the cast the question is about ('Mother'), or ''."""
    kin: str
    """The family member the question asks about ('father'), or ''."""
    aspect: str
    """What would prove it ('handwriting', 'voice'), or ''."""
    quote: str
    """The card the object carried when it first appeared."""
    suspects: list[Person]


# --------------------------------------------------------------------------- composing


def _answer_verb(prop: str) -> str:
    if prop in _WRITTEN:
        return "wrote"
    if prop in _RECORDED:
        return "made"
    if prop in _PICTURED:
        return "took"
    if prop in {"fire", "flare"}:
        return "set"
    return "left"


def _present(verb: str) -> str:
    return {"wrote": "write", "made": "make", "took": "take", "set": "set", "left": "leave"}.get(
        verb, verb
    )


def _pocket(person: Person) -> str:
    found = re.search(
        r"\b(?:[a-z-]+\s+)?(jacket|coat|peacoat|overcoat|sweater|hoodie|apron)\b", person.look
    )
    return f"{person.possessive} {found.group(0) if found else 'pocket'}"


@dataclass
class _Writer:
    """Writes the shots beat by beat; each beat is one rule."""

    story: _Story
    roles: dict[str, Person | None]
    shots: list[_Shot] = field(default_factory=list)
    brief: dict[str, Any] = field(default_factory=dict)
    titles: list[str] = field(default_factory=list)

    @property
    def vet(self) -> Vetter:
        return self.story.vet

    @property
    def lead(self) -> Person:
        lead = self.roles["lead"]
        assert lead is not None
        return lead

    @property
    def partner(self) -> Person:
        return self.roles["partner"] or self.lead

    def note(self, text: str) -> None:
        self.story.notes.append(text)

    def pick(self, *options: str) -> str:
        """The first option the guard's rules accept that no episode has said already."""
        said = self.story.said
        fresh = [o for o in options if o and not any(_said_key(x) in said for x in sentences(o))]
        return _pick(fresh, self.vet)

    def add(self, shot: _Shot) -> None:
        shot.lines = [(p, t) for p, t in shot.lines if t]
        self.story.said.update(_said_key(x) for _, t in shot.lines for x in sentences(t))
        self.shots.append(shot)

    # -- beats -----------------------------------------------------------------------

    def cold_open(self) -> None:
        """The last frame of the last episode, its last line: the viewer is back in it."""
        story, lead = self.story, self.lead
        lines: list[tuple[Person, str]] = []
        last = story.last_line
        if last is not None and last.speaker:
            speaker = story._match(last.speaker.split()[0])
            said = _strip_end(last.text.lstrip(". …")) + ("?" if last.text.endswith("?") else ".")
            if speaker is not None and self.vet(said):
                lines.append((speaker, said))
        payoff = story.payoff
        image = _strip_end(
            payoff if not re.search(r"['\"“‘]", payoff) else str(story.final.get("action", ""))
        )
        self.add(
            _Shot(
                beat=f"the last frame of '{story.last.title}'",
                framing="close-up",
                camera="snap zoom",
                people=story.final_people or [lead],
                action=image,
                mood="suspended",
                lines=lines,
                weight=0.6,
            )
        )
        self.note(
            f"continuity: opens on the last frame of {story.last.episode_id} "
            f"('{story.last.title}'): {_strip_end(payoff)}"
        )

    def consequence(self) -> None:
        """The payoff's consequence, played at once, answered by who shared the frame."""
        story, lead, partner = self.story, self.lead, self.partner
        others = [p for p in story.final_people if p != lead] or (
            [partner] if partner != lead else []
        )
        responder = others[0] if others else None
        place = story.the_place
        situation = story.situation()
        returned = story.returned_first
        if situation == "return":
            who = returned or "the figure at the wheel"
            action = (
                f"{lead.first} runs the length of {place} as {who} steps ashore"
                if place
                else f"{lead.first} runs to meet {who}"
            )
            reply = [f"Go. I'm right behind you, {lead.first}.", "Go. I'm right behind you."]
            mood = "disbelief"
        elif situation == "exposed":
            action = f"{lead.first} shuts the screen; nobody on {place or 'the set'} moves"
            can = re.match(r"i can (\w+)", story.last_line.text, re.I) if story.last_line else None
            reply = (
                [f"Then {can.group(1).lower()}. Slowly.", f"Then {can.group(1).lower()}."]
                if can
                else ["Start talking.", "Say it. All of it."]
            )
            mood = "cold"
        elif situation == "danger":
            action = f"{lead.first} moves first, pulling {partner.first} clear"
            reply = ["Move. Now.", "Don't look back. Move."]
            mood = "urgent"
        elif responder is not None and responder == self.roles["antagonist"]:
            action = f"{lead.first} sees {responder.first} and goes very still"
            reply = [f"Hello, {lead.first}.", "Miss me?"]
            mood = "menacing"
        else:
            action = (
                f"{lead.first} turns to {responder.first}, still reeling"
                if responder is not None
                else f"{lead.first} turns to face what the last frame showed"
            )
            reply = ["Say that again.", "Tell me I heard that wrong."]
            mood = "stunned"
        self.add(
            _Shot(
                beat=_strip_end(story.fact) if story.fact else "the first seconds after",
                framing="wide",
                camera="handheld",
                people=[lead, *([responder] if responder else [])],
                action=action,
                mood=mood,
                lines=[(responder, self.pick(*reply))] if responder else [],
                weight=0.8,
            )
        )

    def ally(self) -> None:
        """Family (or the favourite) arrives, with the grudge their entry gives them."""
        ally, lead, story = self.roles["ally"], self.lead, self.story
        if ally is None:
            return
        grudges = [
            spoken(f, ally, lead)
            for f in _best_facts(ally)
            if lead.first in f or re.search(r"\b(left|alone|owe|blame)\b", f)
        ]
        situation = story.situation()
        fallback = {
            "return": [f"Is that really {story.returned_first}?" if story.returned_first else ""],
            "exposed": ["Tell me that footage is fake.", "Say it isn't you."],
            "danger": ["What did you do?"],
        }.get(situation, ["What did I miss?"])
        said = self.pick(*grudges, *fallback)
        if said in grudges and situation == "return" and story.returned_first:
            # The old grudge, turned on what just happened.
            back = story.address or story.returned_first
            tail = self.pick(f"And now {back} just walks back in?", "And now this?")
            said = f"{said} {tail}".strip()
        remote = story.direction_of(ally)
        home = ally.home if ally.home and ally.home != story.place else ""
        if remote:
            where = f" from {_the_place(home)}" if home else ""
            action = f"{ally.first}'s voice cuts in over the line{where}"
            people = [lead]
        else:
            where = f"from {_the_place(home)}" if home else "from up the road"
            action = f"{ally.first} comes running {where} and stops short beside {lead.first}"
            people = [ally, lead]
        shot = _Shot(
            beat=f"{ally.first} arrives",
            framing="medium",
            camera="handheld",
            people=people,
            action=action,
            mood="raw",
            lines=[(ally, said)],
            direction=remote,
        )
        self.add(shot)
        if grudges and said in grudges:
            self.note(
                f"voice: {ally.first}'s line is the bible's '{_strip_end(ally.description)[:60]}…' "
                f"said to {lead.first}"
            )

    def confrontation(self) -> None:
        """The lead faces the consequence, in their own words."""
        story, lead, partner = self.story, self.lead, self.partner
        returned, address = story.returned_first, story.address
        if story.situation() == "return" and returned:
            confession = [
                _split_clauses(spoken(f, lead))
                for f in lead.facts
                if re.search(r"\b(left|never)\b", f)
            ]
            first = self.pick(*confession)
            second = self.pick(
                f"You let me think you were gone, {address}." if address else "",
                "You let me think you were gone.",
            )
            self.add(
                _Shot(
                    beat=f"{lead.first} faces {returned}",
                    framing="close-up",
                    camera="slow push-in",
                    people=[lead],
                    action=f"{lead.first} stops an arm's length from {returned}",
                    mood="wounded",
                    lines=[(lead, " ".join(x for x in (first, second) if x))],
                )
            )
            return
        traits = [f"I'm {t}." for t in _trait_phrases(lead)]
        said = self.pick(
            "I did it. I had my reasons, and you're not going to like them."
            if story.situation() == "exposed"
            else "",
            *traits,
            "You want the truth? Sit down.",
        )
        self.add(
            _Shot(
                beat=f"{lead.first} owns it",
                framing="close-up",
                camera="slow push-in",
                people=[lead],
                action=f"{lead.first} squares up to {partner.first}",
                mood="defiant",
                lines=[(lead, said)],
            )
        )

    def twist(self, q: _Question | None) -> None:
        """The audience's question, raised in the story and answered on screen."""
        story, lead, partner = self.story, self.lead, self.partner
        antagonist = self.roles["antagonist"]
        if q is None or not (q.prop or q.entity or q.suspects):
            self.add(
                _Shot(
                    beat=f"{partner.first}'s face",
                    framing="extreme close-up",
                    camera="snap zoom",
                    people=[partner],
                    action=f"{partner.first}'s face gives it away before {partner.pronoun} can",
                    mood="reveal",
                )
            )
            self.brief["twist"] = f"{partner.first} knew more than {partner.pronoun} ever said."
            self.note("twist: no open story question to answer; the partner's secret turns it")
            return
        suspects = [p for p in q.suspects if p != lead]
        kind = "prediction" if q.thread.kind == "prediction" else "question"
        about = q.entity or ", ".join(q.words[:3]) or ", ".join(p.first for p in suspects)
        self.note(
            f"twist: answers the story {kind} {q.thread.authors} distinct viewers "
            f"share (about {about}), in the episodes' own terms"
            + (f"; it began in {q.origin.episode_id}" if q.origin is not None else "")
        )
        if q.entity and suspects:
            self._entity_twist(q, suspects[0])
            return
        if suspects:
            name, speaker = suspects[0].first, suspects[0]
        elif q.kin and story.returned_first:
            name, speaker = story.returned_first, None
        elif antagonist is not None:
            name, speaker = antagonist.first, antagonist
        else:
            name, speaker = partner.first, partner
        self._object_twist(q, name, speaker)

    def _object_twist(self, q: _Question, name: str, speaker: Person | None) -> None:
        story, lead = self.story, self.lead
        thing = story.prop_phrase(q.prop)
        verb = _answer_verb(q.prop)
        aspect = q.aspect or {"wrote": "handwriting", "made": "voice"}.get(verb, "")
        address = story.address
        asked = self.pick(
            f"Did you {_present(verb)} this, {address}?" if speaker is None and address else "",
            f"Who {verb} this? Tell me the truth.",
            f"Somebody {verb} this. I want a name.",
        )
        card = q.quote if q.quote and self.vet(q.quote) else ""
        self.add(
            _Shot(
                beat=thing,
                framing="insert",
                camera="slow push-in",
                people=[lead],
                action=f"{lead.first} pulls {thing} from {_pocket(lead)} and holds it up",
                mood="searching",
                lines=[(lead, asked)],
                caption=card,
            )
        )
        if aspect == "handwriting":
            proof = (
                f"{_cap(thing)} beside a page in {name}'s hand: the same handwriting, "
                "stroke for stroke"
            )
            beat = "the same handwriting"
        elif aspect:
            proof = f"{_cap(thing)}, and {name}: the same {aspect}, no doubt left"
            beat = f"the same {aspect}"
        else:
            proof = f"{_cap(thing)} in {name}'s hands, where it has been all along"
            beat = f"{name}'s {q.prop}"
        lines: list[tuple[Person, str]] = []
        if speaker is not None and speaker != lead:
            lines.append(
                (speaker, self.pick(f"I {verb} it. Someone had to tell you.", f"Yes. I {verb} it."))
            )
        self.add(
            _Shot(
                beat=beat,
                framing="extreme close-up",
                camera="snap zoom",
                people=[speaker] if speaker is not None else [],
                action=proof,
                mood="reveal",
                lines=lines,
                caption=self.pick(f"{name} {verb} it."),
            )
        )
        reaction = self.pick(
            f"You {verb} it yourself, {address}. And you let me chase it."
            if speaker is None and address
            else "",
            f"You {verb} it. And you let me chase it.",
            f"You {verb} it.",
        )
        self.add(
            _Shot(
                beat="",
                framing="medium close-up",
                camera="static",
                people=[lead],
                action=f"{lead.first} lowers {thing}, shaking",
                mood="betrayed",
                lines=[(lead, reaction)],
            )
        )
        origin = f", back in '{q.origin.title}'" if q.origin is not None else ""
        self.brief["twist"] = f"{_cap(thing)} was {name}'s: {name} {verb} it{origin}."
        if aspect == "handwriting":
            self.titles.append(
                "In His Own Hand" if q.kin in ("father", "brother") else "The Same Hand"
            )
        if q.prop:
            self.titles.append(f"{name}'s {q.prop.title()}")

    def _entity_twist(self, q: _Question, suspect: Person) -> None:
        lead, entity = self.lead, q.entity
        device = f"{suspect.first}'s phone"
        # Someone heard over a line in this episode is not in the room: show them at home.
        remote = self.story.direction_of(suspect) if suspect != self.roles["ally"] else ""
        spoke_remotely = (s.direction for s in self.shots if s.direction and suspect in s.speakers)
        remote = remote or next(spoke_remotely, "")
        # Someone who was not in the last scene is not in this one either.
        here = {p.name for shot in self.shots for p in shot.people}
        away = suspect.name not in here
        on_line = bool(remote)
        remote = remote or ("away" if away else "")
        self.add(
            _Shot(
                beat=f"{entity}'s last call",
                framing="insert",
                camera="slow push-in",
                people=[lead],
                action=(
                    f"{lead.first} replays {entity}'s last message, listening for who else "
                    "was on the line"
                ),
                mood="searching",
                lines=[
                    (
                        lead,
                        self.pick(f"Who else was talking to {entity}?", f"{entity} had help. Who?"),
                    )
                ],
            )
        )
        self.add(
            _Shot(
                beat=f"{suspect.first} and {entity}",
                framing="extreme close-up",
                camera="snap zoom",
                people=[suspect],
                action=(
                    f"{_at(suspect.home)}, {device} lights up with one word: {entity}"
                    if remote and suspect.home
                    else f"{_cap(device)} lights up with one word: {entity}"
                ),
                mood="reveal",
                lines=[
                    (
                        suspect,
                        self.pick(
                            f"I knew {entity}'s voice before you did.",
                            f"I knew about {entity} from the first night.",
                        ),
                    )
                ],
                caption=self.pick(f"{suspect.first} knew."),
            )
        )
        self.add(
            _Shot(
                beat="",
                framing="medium close-up",
                camera="static",
                people=[lead] if remote else [lead, suspect],
                action=(
                    f"{lead.first} pulls out {lead.possessive} earpiece and stares at it"
                    if on_line
                    else f"{lead.first} stares at {suspect.first}'s name on the screen"
                    if remote
                    else f"{lead.first} turns slowly to {suspect.first}"
                ),
                mood="betrayed",
                lines=[(lead, self.pick("You knew. The whole time, you knew.", "You knew."))],
            )
        )
        self.brief["twist"] = f"{suspect.first} has been taking {entity}'s calls all along."
        self.titles.append(f"{suspect.first} Knew")

    def secret(self) -> None:
        """The partner answers with what their entry says they keep."""
        partner, lead = self.partner, self.lead
        if partner == lead:
            return
        enduring = [
            _split_clauses(spoken(f, partner, lead))
            for f in _best_facts(partner)
            if _ENDURING.search(f)
        ]
        said = self.pick(*enduring)
        if not said:
            return
        self.add(
            _Shot(
                beat=f"{partner.first}'s secret",
                framing="over-the-shoulder",
                camera="rack focus",
                people=[partner, lead],
                action=f"{partner.first} won't meet {lead.first}'s eyes",
                mood="guilty",
                lines=[(partner, said)],
            )
        )
        self.note(
            f"voice: {partner.first} answers with what the bible says {partner.pronoun} keeps"
        )

    def ship(self) -> None:
        """What the audience pairs gets a held scene before the payoff."""
        lead, partner = self.lead, self.partner
        if partner == lead:
            return
        phrases = _trait_phrases(lead)
        to_noun = next((t for t in phrases if re.search(r"\bto (\w+)$", t)), "")
        other = next((t for t in phrases if t != to_noun), "")
        if to_noun:
            noun = to_noun.rsplit(" ", 1)[-1]
            exchange = [
                (lead, self.pick(f"Don't look at me like that. I'm {to_noun}.", f"I'm {to_noun}.")),
                (partner, self.pick(f"It isn't {noun}.", f"This isn't {noun}, {lead.first}.")),
            ]
        elif other:
            exchange = [
                (lead, self.pick(f"You know I'm {other}.", f"I'm {other}.")),
                (partner, self.pick("I know. I'm still here.", "I'm still here.")),
            ]
        else:
            exchange = [
                (lead, self.pick("No more secrets. Not from me.", "Don't disappear on me.")),
                (partner, self.pick("Not from you. Never from you.", "I'm not going anywhere.")),
            ]
        self.add(
            _Shot(
                beat="the held hand",
                framing="two-shot",
                camera="slow orbit",
                people=[lead, partner],
                action=f"{lead.first} takes {partner.first}'s hand anyway, and holds on",
                mood="yearning",
                lines=exchange,
                weight=1.2,
            )
        )
        ship = self.story.audience.ship
        if ship is not None and {lead.name, partner.name} <= set(ship.characters):
            self.note(
                f"ship: {lead.first} and {partner.first} are the pair {ship.authors} commenters "
                "talk about together; they get the held beat before the payoff"
            )

    def witness(self) -> None:
        """Someone whose entry says they know what they saw, watching from their place."""
        witness = self.roles["witness"]
        if witness is None:
            return
        said = self.pick(
            *(spoken(f, witness) for f in witness.facts if re.search(r"\b(knows|saw)\b", f))
        )
        if not said:
            return
        where = _the_place(witness.home) if witness.home else "a window above it all"
        self.add(
            _Shot(
                beat=f"{witness.first} remembers",
                framing="wide",
                camera="slow pan",
                people=[witness],
                action=f"From {where}, {witness.first} watches, very still",
                mood="foreboding",
                lines=[(witness, said)],
                weight=0.8,
            )
        )

    def _rival_moves(self, antagonist: Person, said: str) -> None:
        _rival_payoff(self, antagonist, said)

    def pad(self, wanted: int) -> None:
        """Breathing room when the story beats came out short (the payoff still to come)."""
        lead, partner, story = self.lead, self.partner, self.story
        where = story.the_place or (
            _the_place(story.bible.locations[0]) if story.bible.locations else ""
        )
        fillers = [
            _Shot(
                beat="",
                framing="extreme wide",
                camera="static",
                people=[],
                action=f"Wide on {where}, gone quiet" if where else "The world outside, gone quiet",
                mood="still",
                weight=0.7,
            ),
            _Shot(
                beat="",
                framing="close-up",
                camera="slow push-in",
                people=[lead],
                action=f"{lead.first}, alone for a second, lets it land",
                mood="heavy",
                weight=0.8,
            ),
            _Shot(
                beat="",
                framing="medium",
                camera="static",
                people=[partner] if partner != lead else [],
                action=f"{partner.first} watches {lead.first} from a distance"
                if partner != lead
                else f"Night settles over {where or 'everything'}",
                mood="watchful",
                weight=0.8,
            ),
        ]
        for filler in fillers:
            if len(self.shots) + 1 >= wanted:
                break
            self.add(filler)

    def payoff(self) -> None:
        """The cliffhanger: the loose end walks back in, with the line their entry gives them."""
        antagonist, lead, partner = self.roles["antagonist"], self.lead, self.partner
        if antagonist is None:
            said = self.pick("It's done. She knows.", "It's done.")
            action = f"Alone, {partner.first} makes a call {partner.pronoun} swore never to make"
            self.add(
                _Shot(
                    beat=f"{partner.first}'s call",
                    framing="close-up",
                    camera="slow push-in",
                    people=[partner],
                    action=action,
                    mood="cliffhanger",
                    lines=[(partner, said)],
                    weight=1.1,
                )
            )
            self.brief["payoff"] = f"{action}."
            return
        threats = [
            _split_clauses(spoken(f, antagonist, lead))
            for f in antagonist.facts
            if _ENDURING.search(f)
        ]
        short = [t for t in threats if len(t.split()) <= 6]
        options = [" ".join(short[:2])] if len(short) >= 2 else []
        options += threats + [f"I'm {t}." for t in _trait_phrases(antagonist)]
        said = self.pick(*options, "You thought I was gone.", "This isn't over.")
        thing = self.story.signature_thing(antagonist)
        if not self.story.loose:
            self._rival_moves(antagonist, said)
            return
        if thing:
            action = (
                f"{_cap(thing)} waits out past the last light, {antagonist.first} at the rail, "
                "watching"
            )
            payoff = (
                f"{antagonist.first} never left: {thing} waits past the last light, and "
                f"{antagonist.pronoun} is watching {lead.first}."
            )
        else:
            action = f"{antagonist.first} steps out of the dark, watching {lead.first}"
            payoff = (
                f"{antagonist.first} is back, and {antagonist.pronoun} is watching {lead.first}."
            )
        self.add(
            _Shot(
                beat=f"{antagonist.first} never left",
                framing="extreme wide" if thing else "close-up",
                camera="slow push-in",
                people=[antagonist],
                action=action,
                mood="cliffhanger",
                lines=[(antagonist, said)],
                caption=self.pick(f"{antagonist.first} never left."),
                weight=1.2,
            )
        )
        self.brief["payoff"] = payoff
        self.titles.append(f"{antagonist.first} Never Left")
        self.note(
            f"payoff: {antagonist.first} walked out of the story and has not been seen since; "
            f"{antagonist.pronoun} comes back at the end"
        )


def _rival_payoff(writer: _Writer, antagonist: Person, said: str) -> None:
    """The rival is in play already: the cliffhanger is their move, not their return."""
    lead, story = writer.lead, writer.story
    where = f" onto {_the_place(story.place)}" if story.place else ""
    action = f"{antagonist.first} walks out of the dark{where}, straight toward {lead.first}"
    writer.add(
        _Shot(
            beat=f"{antagonist.first} makes {antagonist.possessive} move",
            framing="low angle",
            camera="slow push-in",
            people=[antagonist],
            action=action,
            mood="cliffhanger",
            lines=[(antagonist, said)],
            weight=1.2,
        )
    )
    writer.brief["payoff"] = (
        f"{antagonist.first} stops watching and makes {antagonist.possessive} move: "
        f"{antagonist.pronoun} comes for {lead.first} in the open."
    )
    writer.titles.append(f"{antagonist.first}'s Move")
    writer.note(f"payoff: {antagonist.first}, the rival already in play, makes the next move")


def _said_key(text: str) -> str:
    return " ".join(re.findall(r"[a-z0-9']+", text.lower().replace("’", "'")))


def _shot_count(constraints: Constraints) -> int:
    """At least :data:`MIN_SHOTS`, unless the series' longest runtime cannot hold them."""
    return max(1, min(MIN_SHOTS, int(constraints.runtime_s[1] // MIN_SHOT_S)))


def _at(location: str) -> str:
    """'On the rooftop helipad', 'In Vex's laundromat basement': a place as a heading."""
    surface = re.search(
        r"\b(floor|dock|docks|pier|rooftop|helipad|deck|street|road|roof)$", location
    )
    return f"{'On' if surface else 'In'} {_the_place(location)}"


def _the_place(location: str) -> str:
    """'Gull & Anchor diner' → 'the Gull & Anchor diner'; "Vex's basement" stays."""
    if not location:
        return ""
    if re.match(r"^(the|a|an)\s", location, re.I) or re.match(r"^\w+['’]s\s", location):
        return location
    return f"the {location}"


def compose(
    bible: StoryBible,
    audience: AudienceRead,
    *,
    episode_id: str,
    vet: Vetter,
) -> DraftEpisode:
    """Draft the episode after the last one of ``bible``.

    Args:
        bible: the series, its cast and its episodes so far (at least one).
        audience: what viewers responded to (may be empty).
        episode_id: the id the new episode gets.
        vet: accepts or refuses each candidate text (the caller's guard rules).
    """
    if not bible.episodes:
        raise ValueError("drafting continues a series: it needs at least one episode")
    story = _Story(bible=bible, audience=audience, vet=vet, episode_id=episode_id)
    writer = _Writer(story=story, roles=story.cast())
    q = story.question()
    writer.cold_open()
    writer.consequence()
    writer.ally()
    writer.confrontation()
    writer.twist(q)
    writer.secret()
    writer.ship()
    writer.witness()
    writer.pad(_shot_count(bible.constraints))
    writer.payoff()
    shots = writer.shots
    while len(shots) > MAX_SHOTS:
        shots.pop(-2)
    _fit(shots, bible.constraints, bible.episodes, story.notes)
    lead = writer.lead
    antagonist = writer.roles["antagonist"]
    if story.returned_first:
        writer.titles.append(f"{story.returned_first} Comes Home")
    writer.titles.append(f"After {story.last.title}")
    used = {e.title.lower() for e in bible.episodes}
    titles = [t for t in dict.fromkeys(writer.titles) if vet(t) and t.lower() not in used][:3]
    titles = titles or [f"Episode {episode_id}"]
    brief = {
        "title": titles[0],
        "premise": _premise(story, lead, writer.partner, q, antagonist),
        "hook": _hook(story, lead),
        "twist": writer.brief.get("twist", ""),
        "payoff": writer.brief.get("payoff", ""),
        "beats": list(dict.fromkeys(s.beat for s in shots if s.beat)),
    }
    return DraftEpisode(
        episode_id=episode_id,
        title=titles[0],
        title_options=titles,
        brief=brief,
        shots=_render(shots, bible, episode_id),
        notes=story.notes,
        roles={k: v.name for k, v in writer.roles.items() if v is not None},
        question=q.thread if q is not None else None,
    )


def _fit(
    shots: list[_Shot], constraints: Constraints, episodes: Sequence[PriorEpisode], notes: list[str]
) -> None:
    """Spread the runtime over the shots: 3-8 s each, total inside the series' window."""
    low, high = constraints.runtime_s
    runtimes = [e.runtime_s for e in episodes if e.runtime_s > 0]
    typical = sum(runtimes) / len(runtimes) if runtimes else (low + high) / 2
    target = min(max(typical, low), high)
    target = min(max(target, MIN_SHOT_S * len(shots)), MAX_SHOT_S * len(shots))
    total_weight = sum(s.weight for s in shots)
    durations = [
        min(MAX_SHOT_S, max(MIN_SHOT_S, round(target * s.weight / total_weight * 2) / 2))
        for s in shots
    ]
    # Nudge half-seconds, longest-weighted shots first, until the total is the target.
    order = sorted(range(len(shots)), key=lambda i: -shots[i].weight)
    for _ in range(400):
        gap = target - sum(durations)
        if abs(gap) < 0.25:
            break
        step = 0.5 if gap > 0 else -0.5
        movable = [
            i
            for i in (order if gap > 0 else order[::-1])
            if MIN_SHOT_S <= durations[i] + step <= MAX_SHOT_S
        ]
        if not movable:
            break
        durations[movable[0]] += step
        order = order[1:] + order[:1]
    for shot, seconds in zip(shots, durations, strict=True):
        shot.weight = seconds
    notes.append(
        f"shape: {len(shots)} shots, {sum(durations):g} s (series window {low:g}-{high:g} s; "
        f"the episodes so far average {typical:.0f} s)"
    )


def _vary_framings(shots: list[_Shot]) -> None:
    """No framing twice in a row."""
    for index in range(1, len(shots)):
        if shots[index].framing != shots[index - 1].framing:
            continue
        after = shots[index + 1].framing if index + 1 < len(shots) else ""
        shots[index].framing = next(
            f for f in _FRAMINGS if f not in (shots[index - 1].framing, after)
        )


def _render(shots: list[_Shot], bible: StoryBible, episode_id: str) -> list[dict[str, Any]]:
    _vary_framings(shots)
    out: list[dict[str, Any]] = []
    start = 0.0
    for index, shot in enumerate(shots):
        # "sh01", not "s01": an id is a string of the change set, and the guard wants words.
        shot_id = f"sh{index + 1:02d}"
        # Whoever the action names is in the shot.
        named = [
            p
            for p in bible.people
            if re.search(rf"\b{re.escape(p.first)}\b(?!['’]s\b)", shot.action)
            and not (shot.direction and p in shot.speakers)
        ]
        people = list(dict.fromkeys([*shot.people, *named]))
        looks = "; ".join(f"{p.name} ({p.look})" if p.look else p.name for p in people)
        dialogue = " / ".join(
            format_line(p.label, text, shot.direction if p not in shot.people else "")
            for p, text in shot.lines
        )
        prompt = "; ".join(
            part
            for part in (
                bible.style,
                f"{shot.framing}, {shot.camera}",
                shot.action,
                f"{shot.mood} mood",
                looks or "no people in frame",
            )
            if part
        )
        out.append(
            {
                "shot_id": shot_id,
                "start_s": round(start, 3),
                "duration_s": float(shot.weight),
                "camera": shot.camera,
                "action": shot.action,
                "mood": shot.mood,
                "framing": shot.framing,
                "caption": shot.caption,
                "dialogue": dialogue,
                "characters": [p.name for p in people],
                "keyframe_prompt": prompt,
                "seed": _seed(bible.series_id, episode_id, shot_id),
            }
        )
        start += float(shot.weight)
    return out


def _hook(story: _Story, lead: Person) -> str:
    payoff = _strip_end(story.payoff)
    payoff = payoff[0].lower() + payoff[1:] if re.match(r"^(As|When|While)\b", payoff) else payoff
    opening = f"Open on the last frame of '{story.last.title}': {payoff}"
    if story.returned_first:
        follow = f"{lead.first} is running before anyone else can move"
    else:
        follow = f"{lead.first} has to answer for it, now"
    return _pick([f"{opening}; {follow}.", f"{opening}."], story.vet) or f"{opening}."


def _premise(
    story: _Story, lead: Person, partner: Person, q: _Question | None, antagonist: Person | None
) -> str:
    her = lead.possessive if lead.pronoun != "they" else "them"
    her = {"his": "him", "her": "her"}.get(her, her)
    if story.returned_first:
        first = f"{story.returned or story.returned_first} comes home"
        learner = f"{lead.first} learns"
    else:
        self_ = {"she": "herself", "he": "himself"}.get(lead.pronoun, "themself")
        to = f" to {partner.first}" if partner != lead else ""
        first = {
            "exposed": f"After '{story.last.title}', {lead.first} has to explain {self_}{to}",
            "danger": f"After '{story.last.title}', {lead.first} has to get everyone out",
        }.get(
            story.situation(),
            f"After '{story.last.title}', {lead.first} has to face what {partner.first} is hiding"
            if partner != lead
            else f"After '{story.last.title}', {lead.first} has to face what comes next",
        )
        learner = "learns"
    parts = [first]
    if q is not None and q.entity and q.suspects:
        parts.append(f"{learner} who else knew {q.entity}")
    elif q is not None and q.prop:
        parts.append(f"{learner} who {_answer_verb(q.prop)} {story.prop_phrase(q.prop)}")
    if antagonist is not None:
        parts.append(f"{antagonist.first} is not done with {her}")
    text = parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + f", and {parts[-1]}"
    return _pick([text + ".", parts[0] + "."], story.vet) or parts[0] + "."
