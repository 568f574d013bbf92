"""What the drafter reads out of the episodes so far: how the last one ended (its payoff,
last line, place and who was in the frame), who plays which part next (:meth:`Story.cast`),
and the audience's story question the twist answers (:class:`Question`).
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from writers_room.brief.script import (
    Line,
    content_words,
    script_lines,
    sentences,
    shot_text,
    stem,
    story_shots,
)
from writers_room.writer.audience import AudienceRead, Thread
from writers_room.writer.drafting.bible import PriorEpisode, StoryBible, Vetter
from writers_room.writer.drafting.lexicon import (
    ANSWERING,
    ASPECTS,
    COMMON,
    DEPARTURE,
    HANDLING,
    KIN,
    KIN_ADDRESS,
    META,
    OBJECTS,
)
from writers_room.writer.drafting.people import Person, best_location
from writers_room.writer.drafting.voice import first_sentence, said_key, strip_end, the_place


@dataclass
class Story:
    """The series read for the next episode; ``notes`` collects the rules applied."""

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
                first_sentence(str(text))
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
            said_key(sentence)
            for episode in self.bible.episodes
            for line in script_lines(episode.manifest)
            for sentence in sentences(line.text)
        }
        self.loose = False
        self.the_place = the_place(self.place)
        # How the last line addresses the person the payoff brought back ("Dad?").
        self.address = ""
        if self.last_line is not None:
            for word, kin in KIN.items():
                if re.search(rf"\b{word}\b", self.last_line.text, re.I):
                    self.address = KIN_ADDRESS.get(kin, "")
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
            person = self.match(str(name))
            if person is not None and person not in out:
                out.append(person)
        return out

    def match(self, name: str) -> Person | None:
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
                return strip_end(caption)
        return strip_end(self.payoff)

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
                    if person.first in action and DEPARTURE.search(action):
                        departed[person.name] = at
            for beat in episode.brief.get("beats", []) or []:
                for person in self.bible.people:
                    if person.first in str(beat) and DEPARTURE.search(str(beat)):
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

    def question(self) -> Question | None:
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

    def _answered(self, q: Question) -> str:
        """The narration that already answers ``q``: a character doing or being the thing
        asked about ('Declan wrote the letters', 'Jonah is Mother'). A suspect question is
        answered only by that suspect ("Mother is Vex" is open after "Jonah is Mother")."""
        people = q.suspects or list(self.bible.people)
        wanted = set(q.words)
        for text in self.narration():
            for person in people:
                for name in person.name.split():
                    found = re.search(rf"\b{re.escape(name)}\s+(?:\w+\s+)?{ANSWERING}", text)
                    if found and wanted <= content_words(text[found.start() :]):
                        return strip_end(re.split(r"[:;]", text)[0])
        # A twist that turned on the very thing asked about, and showed it ('The first
        # letter was Walt's' with 'the same handwriting' among its beats).
        asked = wanted - set(KIN)
        for episode in self.bible.episodes:
            twist = str(episode.brief.get("twist", ""))
            shown = content_words(" ".join([twist, *map(str, episode.brief.get("beats", []))]))
            if q.prop and q.prop in content_words(twist) and asked <= shown:
                return strip_end(re.split(r"[:;]", twist)[0])
        return ""

    def _read_question(self, thread: Thread) -> Question | None:
        words = [w for w in thread.words if w not in META and w not in COMMON]
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
        kin = "" if entity else next((KIN[w] for w in words if w in KIN), "")
        aspect = next((ASPECTS[w] for w in words if w in ASPECTS), "")
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
        return Question(
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
        if word in OBJECTS:
            return True
        for episode in self.bible.episodes:
            for shot in episode.shots:
                for found in HANDLING.finditer(str(shot.get("action", ""))):
                    if word in content_words(found.group(1)):
                        return True
        return False

    def _prop(self, words: Sequence[str], origin: PriorEpisode | None) -> str:
        """The story object the question is about, as the episodes name it ('letter')."""
        candidates = [w for w in words if w not in KIN and w not in ASPECTS and self._handled(w)]
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
class Question:
    """An audience story question, in the episodes' own terms."""

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
