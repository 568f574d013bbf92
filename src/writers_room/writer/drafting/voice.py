"""How the drafter says things: a bible fact in the speaker's own words (:func:`spoken`),
the facts and traits worth a line, and the small phrasings the beats share (a place as a
heading, the verb that answers a story object, the first option the guard accepts).
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from writers_room.brief.script import sentences
from writers_room.writer.drafting.bible import Vetter
from writers_room.writer.drafting.lexicon import ENDURING, PICTURED, RECORDED, WRITTEN
from writers_room.writer.drafting.people import Person

_THIRD_TO_BASE = {"is": "am", "has": "have", "was": "was", "does": "do", "goes": "go"}
_NOT_VERBS = frozenset("his her its this was has is always news less".split())
# Words a fact can open with that are not its verb: it has its own subject then.
_NOT_SUBJECTS = frozenset(
    """the a an his her their its my our your this that these those there it he she they
    nobody everyone someone what who""".split()
)
# A fact about the past scores lower as a line than one the speaker still lives by.
_BACKSTORY = re.compile(r"\b(was framed|designed|has been|back after|is now|now a)\b")


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


def split_clauses(line: str) -> str:
    """'I keep my promises and my secrets.' → 'I keep my promises. And my secrets.'"""
    line = re.sub(r"\s+and (my|our|your) ", r". And \1 ", line)
    line = re.sub(r"\s+and (never|won't|always) ", r". I \1 ", line)
    return line


def _fact_score(fact: str) -> int:
    score = 2 * len(ENDURING.findall(fact)) - 2 * len(_BACKSTORY.findall(fact))
    return score - max(0, len(fact.split()) - 12) // 4


def best_facts(person: Person) -> list[str]:
    return sorted(person.facts, key=lambda f: (-_fact_score(f), person.facts.index(f)))


_SORE = re.compile(r"\b(terrible|bad|allergic|afraid|scared|hopeless|never|no good)\b")


def trait_phrases(person: Person) -> list[str]:
    """Traits that say something as a line ('allergic to pity', 'terrible at trust'), the
    sore ones first: a character admits a weakness in a scene, not a skill."""
    phrases = [t for t in person.traits if 3 <= len(t.split()) <= 5]
    return sorted(phrases, key=lambda t: (not _SORE.search(t), phrases.index(t)))


# --------------------------------------------------------------------------- phrasing


def first_sentence(text: str) -> str:
    found = sentences(str(text))
    return found[0].strip() if found else str(text).strip()


def strip_end(text: str) -> str:
    return text.strip().rstrip(".!?;:,").strip()


def cap(text: str) -> str:
    return text[:1].upper() + text[1:] if text else text


def first_vetted(options: Sequence[str], vet: Vetter) -> str:
    """The first option the vetter accepts ('' when none does)."""
    for option in options:
        option = " ".join(option.split())
        if option and vet(option):
            return option
    return ""


def said_key(text: str) -> str:
    return " ".join(re.findall(r"[a-z0-9']+", text.lower().replace("’", "'")))


def place_heading(location: str) -> str:
    """'On the rooftop helipad', 'In Vex's laundromat basement': a place as a heading."""
    surface = re.search(
        r"\b(floor|dock|docks|pier|rooftop|helipad|deck|street|road|roof)$", location
    )
    return f"{'On' if surface else 'In'} {the_place(location)}"


def the_place(location: str) -> str:
    """'Gull & Anchor diner' → 'the Gull & Anchor diner'; "Vex's basement" stays."""
    if not location:
        return ""
    if re.match(r"^(the|a|an)\s", location, re.I) or re.match(r"^\w+['’]s\s", location):
        return location
    return f"the {location}"


def answer_verb(prop: str) -> str:
    if prop in WRITTEN:
        return "wrote"
    if prop in RECORDED:
        return "made"
    if prop in PICTURED:
        return "took"
    if prop in {"fire", "flare"}:
        return "set"
    return "left"


def present_tense(verb: str) -> str:
    return {"wrote": "write", "made": "make", "took": "take", "set": "set", "left": "leave"}.get(
        verb, verb
    )
