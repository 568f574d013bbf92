"""Writers' notes read as directives: what a note tells the room to keep, cut or open on.

A note is free text ("keep the line about Callum, cut the parcel numbers"). The writer has to
obey it and the guard refuses a proposal that contradicts it, so both read it the same way,
here. :func:`directives` splits a note into :class:`Directive` s (a verb and what it names);
:func:`resolve` finds the shots and sentences of a shot manifest that a directive's target
names. The reading is deliberately plain: a clause it does not understand gives no
directive, and a target that names nothing in the manifest resolves to nothing, so an odd
note never blocks a proposal by accident.

Verbs:

``keep``
    "keep X", "save X", "leave X in", "X stays", and the negated cuts ("don't cut X",
    "never lose X").
``cut``
    "cut X", "lose X", "drop X", "trim X", "get rid of X", "no more X", "X goes", "don't keep X".
``open_on``
    "open on X", "open with X", "start on X", "lead with X".
``avoid``
    "avoid X", "no X", "don't open on X", "never show X", and "never ..." / "don't ..." with
    any other verb.
``more`` / ``less``
    "more X", "lean into X", "play up X" / "less X", "fewer X", "tone down X".
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from writers_room.brief.script import content_words, parse_dialogue, sentences, stem

__all__ = ["VERBS", "Directive", "Verb", "directives", "resolve"]

Verb = Literal["keep", "cut", "open_on", "avoid", "more", "less"]
VERBS: tuple[str, ...] = Verb.__args__  # type: ignore[attr-defined]


@dataclass(frozen=True)
class Directive:
    """One thing a note tells the room to do."""

    verb: Verb
    """keep, cut, open_on, avoid, more or less."""
    target: str
    """What it names, as written: a quoted line (without its quotes), a paraphrase ("the line
    about Callum", "the fog shot"), a shot id (normalised to ``s05``) or a character name."""
    note: str
    """The whole note the directive comes from (to quote in a refusal)."""
    quoted: bool = False
    """The target was in quotes: it names the words themselves, not a topic."""


# --- parsing -------------------------------------------------------------------------------

_QUOTE = re.compile(r"\"([^\"]+)\"|“([^”]+)”|‘([^’]+)’|(?<![\w])'([^']+)'(?![\w])")
_PLACEHOLDER = re.compile(r"\x00(\d+)\x00")
_NEG = (
    r"(?:do\s+not|don['’]?t|dont|never|should\s*n['’]?t|should\s+not|must\s*n['’]?t|"
    r"must\s+not|no\s+need\s+to|won['’]?t|can['’]?t|cannot|let['’]?s\s+not)\s+(?:ever\s+)?"
)
_CUT = (
    r"cut(?:\s+out)?|lose|drop|remove|trim|kill|delete|get\s+rid\s+of|scrap|ditch|skip|"
    r"shorten|tighten|chop|axe"
)
_KEEP = r"keep|save|leave|protect|preserve|hold\s+on\s+to|retain"
_OPEN = r"(?:cold\s+)?open(?:\s+the\s+episode)?\s+(?:on|with)|start\s+(?:on|with)|begin\s+(?:on|with)|lead\s+with"  # noqa: E501
_LESS = (
    r"cut\s+(?:back|down)\s+on|tone\s+down|play\s+down|dial\s+(?:back|down)(?:\s+on)?|"
    r"scale\s+back(?:\s+on)?"
)
_MORE = r"lean\s+(?:into|in\s+on)|play\s+up|linger\s+on"
_SHOW = r"show|mention|use|reveal|give\s+away|spoil|include|add|explain|say|put|bring\s+in"
# Anywhere in a clause ("we should cut ..."); order matters: the longer phrase first.
_ANYWHERE: list[tuple[re.Pattern[str], Verb]] = [
    (re.compile(rf"\b{_NEG}(?:{_OPEN})\b", re.I), "avoid"),
    (re.compile(rf"\b{_NEG}(?:{_CUT}|touch|change|rewrite|lose)\b", re.I), "keep"),
    (re.compile(rf"\b{_NEG}(?:bring\s+back|put\s+back|keep|save)\b", re.I), "cut"),
    (re.compile(rf"\b{_NEG}(?:{_SHOW})\b", re.I), "avoid"),
    (re.compile(rf"\b{_NEG}(?:[a-z]+)\b", re.I), "avoid"),
    (re.compile(rf"\b(?:{_OPEN})\b", re.I), "open_on"),
    (re.compile(rf"\b(?:{_LESS})\b", re.I), "less"),
    (re.compile(rf"\b(?:{_KEEP})\b", re.I), "keep"),
    (re.compile(r"\bno\s+more\b", re.I), "cut"),
    (re.compile(rf"\b(?:{_CUT})\b", re.I), "cut"),
    (re.compile(r"\b(?:avoid|stay\s+away\s+from|steer\s+clear\s+of)\b", re.I), "avoid"),
    (re.compile(rf"\b(?:{_MORE})\b", re.I), "more"),
]
# Only at the start of a clause ("more June", "less exposition", "no flashbacks").
_LEADING: list[tuple[re.Pattern[str], Verb]] = [
    (re.compile(r"^(?:less\s+of|less|fewer)\b", re.I), "less"),
    (re.compile(r"^(?:more\s+of|more|expand|lengthen|extend)\b", re.I), "more"),
    (re.compile(r"^(?:no|not|never)\b", re.I), "avoid"),
]
# "the line about Callum stays" / "the parcel numbers have to go".
_TRAILING = re.compile(
    r"^(?P<target>.+?)\s+(?:(?:should|must|can|has\s+to|have\s+to|needs?\s+to)\s+)?"
    r"(?:(?P<keep>stays?|remains?)|(?P<cut>go(?:es)?|is\s+gone))\s*$",
    re.I,
)
_FILLER = re.compile(
    r"^(?:(?:please|pls|also|then|just|maybe|definitely|really|and|but|so|ok(?:ay)?|"
    r"i\s+think|i['’]?d|i\s+would|i\s+want\s+to|i['’]?d\s+like\s+to|we\s+should|we\s+must|"
    r"we\s+need\s+to|let['’]?s|can\s+we|could\s+we|you\s+should|try\s+to|again)\b[\s,]*)+",
    re.I,
)
_TAIL = re.compile(
    r"(?:\s+(?:please|alone|as\s+is|in\s+place|intact|at\s+all|in|out|again|anymore|"
    r"any\s+more|too|for\s+now|here|there))+$",
    re.I,
)
_DETERMINER = re.compile(
    r"^(?:the|a|an|that|this|those|these|his|her|their|its|any|all|every|shot|s\d+|\x00)",
    re.I,
)
_SHOT_ID = re.compile(r"^(?:the\s+)?(?:shot\s+)?(?:s|#)?0*(\d{1,3})(?:\s+shot)?$", re.I)


def _clauses(text: str) -> list[str]:
    pieces = [p for p in re.split(r"\s*(?:[;,:!?]|\.(?=\s|$)|\s-\s|\s—\s)\s*", text) if p]
    out: list[str] = []
    for piece in pieces:
        parts = re.split(r"\s+(and|but|plus)\s+", piece, flags=re.I)
        current = parts[0]
        for joiner, right in zip(parts[1::2], parts[2::2], strict=True):
            starts = _FILLER.sub("", right)
            if joiner.lower() == "but" or _verb(starts) or _DETERMINER.match(starts):
                out.append(current)
                current = right
            else:  # "the photos of Theo and Walt": one target
                current = f"{current} {joiner} {right}"
        out.append(current)
    return [c.strip() for c in out if c.strip()]


def _verb(clause: str) -> tuple[Verb, str] | None:
    """(verb, the text after it) for a clause, or None when it has no directive verb."""
    clause = _FILLER.sub("", clause).strip()
    for pattern, verb in _ANYWHERE:  # "never show X", "no more X": the phrase first
        found = pattern.match(clause)
        if found:
            return verb, clause[found.end() :]
    for pattern, verb in _LEADING:
        found = pattern.match(clause)
        if found:
            return verb, clause[found.end() :]
    trailing = _TRAILING.match(clause)
    if trailing and not any(p.search(trailing.group("target")) for p, _ in _ANYWHERE):
        return ("keep" if trailing.group("keep") else "cut"), trailing.group("target")
    best: tuple[int, Verb, str] | None = None
    for pattern, verb in _ANYWHERE:
        found = pattern.search(clause)
        if found and (best is None or found.start() < best[0]):
            best = (found.start(), verb, clause[found.end() :])
    return (best[1], best[2]) if best else None


def _target(text: str, quotes: Sequence[str]) -> tuple[str, bool]:
    text = _FILLER.sub("", text.strip())
    text = _TAIL.sub("", text).strip(" \t'\"“”‘’.,")
    held = _PLACEHOLDER.search(text)
    if held:
        return quotes[int(held.group(1))].strip(), True
    shot = _shot_number(text)
    if shot is not None:
        return f"s{shot:02d}", False
    return text, False


def _shot_number(text: str) -> int | None:
    """5 for "s05", "shot 5", "the shot s5", "#5"; None for anything else."""
    found = _SHOT_ID.match(text.strip())
    bare = re.sub(r"^the\s+", "", text.strip(), flags=re.I).lower()
    if found and bare.startswith(("s", "#")):
        return int(found.group(1))
    return None


def directives(note: str) -> list[Directive]:
    """The directives in one writer's note, in the order written.

    Several per note, split on commas, semicolons, sentence ends, "but", and "and" where a
    new verb or a new object follows ("cut the parcel numbers and the fog shot" is two
    cuts; "keep the photos of Theo and Walt" is one keep). A clause without a verb of its
    own takes the previous clause's. Quoted text ('cut "Parcel fourteen-B"') is taken
    whole.

    Args:
        note: The note as a writer wrote it.

    Returns:
        One :class:`Directive` per clause that says keep, cut, open on, avoid, more or
        less about something; clauses that don't are left out.
    """
    quotes: list[str] = []

    def hold(match: re.Match[str]) -> str:
        quotes.append(next(g for g in match.groups() if g is not None))
        return f"\x00{len(quotes) - 1}\x00"

    text = _QUOTE.sub(hold, note)
    out: list[Directive] = []
    previous: Verb | None = None
    for clause in _clauses(text):
        found = _verb(clause)
        if found is None:
            if previous is None or not _DETERMINER.match(_FILLER.sub("", clause)):
                continue
            verb, rest = previous, clause
        else:
            verb, rest = found
        target, quoted = _target(rest, quotes)
        previous = verb
        if target and re.search(r"\w", target):
            out.append(Directive(verb=verb, target=target, note=note, quoted=quoted))
    return out


# --- resolving -----------------------------------------------------------------------------

_TOKEN = re.compile(r"[^\W_]+(?:['’][^\W_]+)*", re.UNICODE)
_NUMBER_WORDS = frozenset(
    """zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen
    fifteen sixteen seventeen eighteen nineteen twenty thirty forty fifty sixty seventy eighty
    ninety hundred thousand million billion dozen first second third fourth fifth""".split()
)
_NUMBERISH = frozenset({"number", "numbers", "figure", "figures", "digits", "dates", "date"})
_LINE_WORDS = re.compile(
    r"^(?:the\s+|that\s+|this\s+|his\s+|her\s+)?(?:lines?|bits?|parts?|moments?|dialogue|speech|"
    r"exchange)\s+(?:about|with|where|when|of|in\s+which|on|from|mentioning)\s+",
    re.I,
)
_SHOT_WORDS = re.compile(
    r"^(?:the\s+|that\s+|this\s+)?(?:shots?|images?|cutaways?|inserts?|visuals?)\s+"
    r"(?:about|with|where|when|of|in\s+which|on|showing)\s+",
    re.I,
)
_NAME_FILLER = frozenset({"the", "and", "s", "lines", "line", "scenes", "scene", "of", "more"})
_SHOT_SUFFIX = re.compile(r"\s+(?:shots?|images?|cutaways?|inserts?|scenes?|visuals?)$", re.I)
# Words that say what kind of thing is named, not which one.
_GENERIC = frozenset(
    stem(w)
    for w in """line lines bit bits part parts moment moments scene scenes shot shots stuff thing
    things dialogue speech exchange opening ending beginning episode""".split()
)


def _norm(text: str) -> str:
    return " ".join(t.lower().replace("’", "'") for t in _TOKEN.findall(text))


def _alike(a: str, b: str) -> bool:
    """Stems that name the same thing: equal, or one a long prefix of the other
    ("parcel"/"parcels", "exposition"/"expository")."""
    if a == b:
        return True
    shorter = min(len(a), len(b))
    common = 0
    while common < shorter and a[common] == b[common]:
        common += 1
    return common >= 6 or (common == shorter and shorter >= 5)


def _mentions(topic: set[str], text: str) -> bool:
    words = content_words(text)
    return bool(topic) and all(any(_alike(t, w) for w in words) for t in topic)


def _has_number(text: str) -> bool:
    return bool(re.search(r"\d", text)) or any(t in _NUMBER_WORDS for t in _norm(text).split())


def _spoken(shots: Sequence[Mapping[str, Any]]) -> list[tuple[int, str, str]]:
    """(shot index, speaker, sentence) for every spoken sentence."""
    return [
        (index, speaker, sentence)
        for index, shot in enumerate(shots)
        for speaker, _, text in parse_dialogue(str(shot.get("dialogue", "") or ""))
        for sentence in sentences(text)
    ]


def _cast(shot: Mapping[str, Any]) -> list[tuple[str, ...]]:
    """The shot's characters, each as its name's words."""
    cast = shot.get("characters") or []
    names = cast if isinstance(cast, list) else re.split(r"[,\s]+", str(cast))
    return [tuple(_norm(str(n)).split()) for n in names if str(n).strip()]


Found = list[tuple[int, str | None]]


def resolve(directive: Directive, manifest: Mapping[str, Any]) -> list[tuple[int, str | None]]:
    """The lines and shots of ``manifest`` that a directive's target names.

    * quoted text → every spoken sentence (and caption) containing it;
    * a shot id (``s05``) → that shot;
    * a character's name ("more June") → their spoken sentences, and the shots they appear
      in without a line;
    * "the line(s) about/with/where X" → the sentences (and captions) that mention X;
      "Lena's line about X" → Lena's sentences that do;
    * "the parcel numbers" → sentences (and captions) that mention parcels and carry a
      number (a digit or a number word);
    * "the fog shot", "the shot of the fog" → shots whose action, caption or mood mention fog;
    * anything else ("the lockbox", "exposition") → the sentences and captions that mention
      it, and the other shots whose action or mood do.

    Words match by stem, loosely ("parcels" names "parcel", "exposition" names an
    "expository" shot).

    Args:
        directive: A directive from :func:`directives`.
        manifest: A shot manifest (``{"shots": [...]}``, the shots as dicts).

    Returns:
        ``(shot_index, sentence)`` for a line (a caption's text for a caption),
        ``(shot_index, None)`` for a whole shot; in manifest order, without repeats. Empty
        when the target names nothing here.
    """
    shots = list(manifest.get("shots", []) or [])
    target = directive.target.strip()
    found: Found | None
    if directive.quoted:
        found = _quoted(_norm(target), shots)
    elif _shot_number(target) is not None:
        found = _by_shot_id(target, shots)
    else:
        found = _by_character(target, shots)
        if found is None:
            found = _by_whose_line(target, shots)
        if found is None:
            found = _by_topic(target, shots)
    return sorted(dict.fromkeys(found), key=lambda item: item[0])


_WHOSE = re.compile(r"^(?P<who>[\w-]+)['’]s\s+(?P<rest>(?:line|lines|speech|words)\b.*)$", re.I)


def _by_whose_line(target: str, shots: Sequence[Mapping[str, Any]]) -> Found | None:
    """ "Lena's line about the palm print": that character's sentences about it; None when
    the target is not of that form or names no character."""
    match = _WHOSE.match(target.strip())
    if match is None:
        return None
    theirs = _by_character(match.group("who"), shots)
    if not theirs:
        return None
    about = set(_by_topic("the " + match.group("rest"), shots))
    return [item for item in theirs if item[1] is not None and item in about]


def _quoted(needle: str, shots: Sequence[Mapping[str, Any]]) -> Found:
    if not needle:
        return []
    out: Found = []
    for index, _, sentence in _spoken(shots):
        said = _norm(sentence)
        if needle in said or (len(said.split()) >= 2 and said in needle):
            out.append((index, sentence))
    for index, shot in enumerate(shots):
        caption = str(shot.get("caption", "") or "")
        if caption and needle in _norm(caption):
            out.append((index, caption))
    return out


def _by_shot_id(target: str, shots: Sequence[Mapping[str, Any]]) -> Found:
    number = _shot_number(target)
    out: Found = []
    for index, shot in enumerate(shots):
        sid = str(shot.get("shot_id", ""))
        digits = re.sub(r"\D", "", sid)
        if sid.lower() == target.lower() or (digits and int(digits) == number):
            out.append((index, None))
    return out


def _by_character(target: str, shots: Sequence[Mapping[str, Any]]) -> Found | None:
    """A character's lines and the shots they are in without a line; None when the target
    is not a character's name ("June", "June Quinn", "June's lines", a speaker label)."""
    wanted = {w[:-2] if w.endswith("'s") else w for w in _norm(target).split()} - _NAME_FILLER
    if not wanted:
        return None
    spoken = _spoken(shots)
    labels = {speaker for _, speaker, _ in spoken if speaker}
    people = {name for shot in shots for name in _cast(shot) if wanted <= set(name)}
    named = {label for label in labels if wanted <= set(_norm(label).split())}
    if not people and not named:
        return None
    their_words = {w for name in people for w in name}
    named |= {label for label in labels if set(_norm(label).split()) & their_words}
    out: Found = [(i, sentence) for i, speaker, sentence in spoken if speaker in named]
    voiced = {i for i, _ in out}
    out += [
        (i, None) for i, shot in enumerate(shots) if i not in voiced and people & set(_cast(shot))
    ]
    return out


def _by_topic(target: str, shots: Sequence[Mapping[str, Any]]) -> Found:
    """Sentences and/or shots that mention what the target is about."""
    lines_only = _LINE_WORDS.match(target)
    shot_words = _SHOT_WORDS.match(target)
    shot_suffix = _SHOT_SUFFIX.search(target)
    topic_text = target
    if lines_only:
        topic_text = target[lines_only.end() :]
    elif shot_words:
        topic_text = target[shot_words.end() :]
    elif shot_suffix:
        topic_text = target[: shot_suffix.start()]
    topic = {w for w in content_words(topic_text) if w not in _GENERIC}
    numbers = bool(set(_norm(topic_text).split()) & _NUMBERISH)
    if numbers:
        topic -= {stem(n) for n in _NUMBERISH}
    if not topic:
        return []

    def names(text: str) -> bool:
        return _mentions(topic, text) and (not numbers or _has_number(text))

    out: Found = []
    if not (shot_words or shot_suffix) or lines_only:
        out += [(i, sentence) for i, _, sentence in _spoken(shots) if names(sentence)]
        for index, shot in enumerate(shots):
            caption = str(shot.get("caption", "") or "")
            if caption and names(caption):
                out.append((index, caption))
    if not lines_only:
        said = {i for i, _ in out}
        for index, shot in enumerate(shots):
            seen = " ".join(str(shot.get(k, "") or "") for k in ("action", "caption", "mood"))
            if index not in said and names(seen):
                out.append((index, None))
    return out
