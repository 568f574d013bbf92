"""The draft in progress: its :class:`Shot` list and the :class:`Writer` the beats write
into (roles, brief fields, title ideas; a line only if the guard accepts it and no episode
has said it). The beats themselves are in :mod:`.opening`, :mod:`.middle` and
:mod:`.ending`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from writers_room.brief.script import sentences
from writers_room.writer.drafting.bible import Vetter
from writers_room.writer.drafting.people import Person
from writers_room.writer.drafting.story import Story
from writers_room.writer.drafting.voice import first_vetted, said_key


@dataclass
class Shot:
    """One shot of the draft, before it is timed and rendered as a manifest row."""

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


@dataclass
class Writer:
    """Writes the shots beat by beat; each beat is one rule."""

    story: Story
    roles: dict[str, Person | None]
    shots: list[Shot] = field(default_factory=list)
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
        fresh = [o for o in options if o and not any(said_key(x) in said for x in sentences(o))]
        return first_vetted(fresh, self.vet)

    def add(self, shot: Shot) -> None:
        shot.lines = [(p, t) for p, t in shot.lines if t]
        self.story.said.update(said_key(x) for _, t in shot.lines for x in sentences(t))
        self.shots.append(shot)
