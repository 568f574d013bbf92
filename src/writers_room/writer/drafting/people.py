"""The series' people as the drafter uses them: a bible entry read into a :class:`Person`
(traits, facts, relations, role and the place it ties them to).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from writers_room.brief.script import content_words, stem


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
