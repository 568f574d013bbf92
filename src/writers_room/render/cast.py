"""The cast as the renderer sees it: who looks how, who sounds how, who says which line.

A series bible names its characters with an optional ``look`` (age, hair, wardrobe) and
``voice`` (variant, pitch, rate). The renderer turns them into a :class:`Cast`: each
character's :class:`Voice`, filled in where the bible leaves it out — deterministically
(the same bible always gives the same voices) and distinct per character — and a way to
find the character behind a dialogue label (``THEO`` → Theo Vance).

Dialogue is the manifest's text, ``"NAME (DIR): line"`` with ``" / "`` between speakers;
:func:`spoken_lines` reads it with :func:`writers_room.brief.script.parse_dialogue`, the
writer's and the guard's own reading, so the voice says the line the writer wrote.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from writers_room.brief.manifest import Shot
from writers_room.brief.script import parse_dialogue

__all__ = [
    "DEFAULT_PITCH",
    "DEFAULT_RATE",
    "Cast",
    "CastMember",
    "SpokenLine",
    "Voice",
    "cast_from_bible",
    "parse_dialogue",
    "spoken_lines",
]

DEFAULT_RATE = 170
"""Words per minute of a voice the bible gives no rate (eSpeak NG's own is 175)."""
DEFAULT_PITCH = 50

# eSpeak NG variants, in the order defaults are handed out: female, male and neutral
# pools, so a cast gets audibly different voices before any variant repeats.
_FEMALE = ("f3", "f4", "f2", "f5", "f1")
_MALE = ("m3", "m1", "m7", "m2", "m5", "m4", "m6")
_OTHER = ("klatt", "klatt3", "m8", "klatt4")
_WOMAN = re.compile(r"\b(woman|girl|female|she|her)\b", re.IGNORECASE)
_MAN = re.compile(r"\b(man|boy|male|he|his)\b", re.IGNORECASE)


def _digest(text: str) -> int:
    return int.from_bytes(hashlib.sha256(text.encode("utf-8")).digest()[:4], "big")


@dataclass(frozen=True)
class Voice:
    """One character's temp voice.

    Attributes:
        character: Who speaks with it (the bible's name, or the dialogue label).
        variant: eSpeak NG variant (``f3``, ``m1``...) or an API voice name.
        pitch: 0-100; 50 is the variant's own pitch.
        rate: Words per minute.
        slot: The character's place in the cast (distinct per character), for engines
            with a fixed list of voices.
        assigned: ``True`` when the room chose the voice (the bible gave none or part).
    """

    character: str
    variant: str
    pitch: int = DEFAULT_PITCH
    rate: int = DEFAULT_RATE
    slot: int = 0
    assigned: bool = False

    def describe(self) -> dict[str, Any]:
        """The voice as provenance records it."""
        return {
            "character": self.character,
            "variant": self.variant,
            "pitch": self.pitch,
            "rate": self.rate,
            "assigned": self.assigned,
        }


@dataclass(frozen=True)
class CastMember:
    """A character of the series bible, as the renderer uses it."""

    name: str
    look: str = ""
    voice: Mapping[str, Any] | None = None
    """The bible's ``voice`` (``variant``, ``pitch``, ``rate``; any may be missing)."""

    @property
    def first_name(self) -> str:
        return self.name.split()[0] if self.name.split() else self.name


@dataclass(frozen=True)
class SpokenLine:
    """One line of dialogue in one shot."""

    shot_index: int
    shot_id: str
    label: str
    """The speaker as written (``THEO``), or "" for an unattributed line."""
    text: str
    direction: str = ""
    character: str = ""
    """The cast member behind the label (``Theo Vance``), or the label itself."""

    @property
    def speaker(self) -> str:
        """The name shown on screen: the character's first name, upper case."""
        return (self.character.split()[0] if self.character else self.label).upper()

    @property
    def subtitle(self) -> str:
        return f"{self.speaker}: {self.text}" if self.speaker else self.text


@dataclass(frozen=True)
class Cast:
    """The characters of a series and their voices."""

    members: tuple[CastMember, ...] = ()
    voices: Mapping[str, Voice] = field(default_factory=dict)
    """Character name (or unknown label) → voice."""

    @classmethod
    def of(cls, members: Sequence[CastMember], labels: Sequence[str] = ()) -> Cast:
        """The cast with every voice filled in, plus voices for ``labels`` no member has.

        The bible's values win; missing variants come from a pool chosen by the look
        (``woman``/``man``), skipping variants already taken; missing pitch and rate are
        spread around the defaults by a hash of the name, so they never change between
        renders.
        """
        cast = cls(members=tuple(members))
        taken = {str((m.voice or {}).get("variant") or "") for m in members} - {""}
        voices: dict[str, Voice] = {}
        people = [(m.name, m.look, dict(m.voice or {})) for m in members]
        people += [(label, "", {}) for label in labels if cast.member(label) is None]
        for slot, (name, look, given) in enumerate(people):
            if name in voices:
                continue
            variant = str(given.get("variant") or "")
            if not variant:
                pool = _FEMALE if _WOMAN.search(look) else _MALE if _MAN.search(look) else None
                variant = _pick(pool or (_FEMALE + _MALE + _OTHER), taken, name)
                taken.add(variant)
            spread = _digest(name)
            pitch = given.get("pitch")
            rate = given.get("rate")
            voices[name] = Voice(
                character=name,
                variant=variant,
                pitch=int(pitch) if pitch is not None else 38 + spread % 25,
                rate=int(rate) if rate is not None else 155 + (spread >> 8) % 30,
                slot=slot,
                assigned=not (given.get("variant") and pitch is not None and rate is not None),
            )
        return cls(members=cast.members, voices=voices)

    def member(self, label: str) -> CastMember | None:
        """The member a dialogue label names (full name, first name or any name part)."""
        wanted = " ".join(label.upper().split())
        if not wanted:
            return None
        for test in (
            lambda m: m.name.upper() == wanted,
            lambda m: m.first_name.upper() == wanted,
            lambda m: wanted in m.name.upper().split(),
        ):
            for member in self.members:
                if test(member):
                    return member
        return None

    def voice(self, line: SpokenLine) -> Voice:
        """The voice of a line's speaker (a narrator's default for unattributed lines)."""
        found = self.voices.get(line.character)
        if found is not None:
            return found
        name = line.character or line.label or "NARRATOR"
        spread = _digest(name)
        return Voice(
            character=name,
            variant=_pick(_OTHER, set(), name),
            pitch=40 + spread % 20,
            rate=DEFAULT_RATE,
            slot=len(self.voices) + spread % 7,
            assigned=True,
        )

    def character_of(self, label: str) -> str:
        """Who a label names: the member's full name, else the label as written."""
        member = self.member(label)
        return member.name if member is not None else label


def _pick(pool: Sequence[str], taken: set[str], name: str) -> str:
    start = _digest(name) % len(pool)
    ordered = [*pool[start:], *pool[:start]]
    return next((v for v in ordered if v not in taken), ordered[0])


def spoken_lines(shots: Sequence[Shot], cast: Cast | None = None) -> list[SpokenLine]:
    """Every line of dialogue, in order, with the cast member behind each label."""
    cast = cast or Cast()
    lines = []
    for index, shot in enumerate(shots):
        for label, direction, text in parse_dialogue(shot.dialogue):
            if not text.strip():
                continue
            lines.append(
                SpokenLine(
                    shot_index=index,
                    shot_id=shot.shot_id,
                    label=label,
                    text=text.strip(),
                    direction=direction,
                    character=cast.character_of(label) if label else "",
                )
            )
    return lines


def cast_from_bible(characters: Sequence[Mapping[str, Any]]) -> tuple[CastMember, ...]:
    """Cast members from a stored bible's ``characters`` (dicts with name, look, voice)."""
    members = []
    for person in characters:
        name = str(person.get("name") or "").strip()
        if not name:
            continue
        voice = person.get("voice")
        members.append(
            CastMember(
                name=name,
                look=str(person.get("look") or ""),
                voice=dict(voice) if isinstance(voice, Mapping) else None,
            )
        )
    return tuple(members)
