"""The middle beats: the twist that answers the audience's story question on screen (a
story object or an off-cast figure), the partner's secret, the held scene for the pair the
audience ships, and the witness who remembers. Each beat is one rule.
"""

from __future__ import annotations

import re

from writers_room.writer.drafting.lexicon import ENDURING
from writers_room.writer.drafting.people import Person
from writers_room.writer.drafting.scenes import Shot, Writer
from writers_room.writer.drafting.story import Question
from writers_room.writer.drafting.voice import (
    answer_verb,
    best_facts,
    cap,
    place_heading,
    present_tense,
    split_clauses,
    spoken,
    the_place,
    trait_phrases,
)


def twist(writer: Writer, q: Question | None) -> None:
    """The audience's question, raised in the story and answered on screen."""
    story, lead, partner = writer.story, writer.lead, writer.partner
    antagonist = writer.roles["antagonist"]
    if q is None or not (q.prop or q.entity or q.suspects):
        writer.add(
            Shot(
                beat=f"{partner.first}'s face",
                framing="extreme close-up",
                camera="snap zoom",
                people=[partner],
                action=f"{partner.first}'s face gives it away before {partner.pronoun} can",
                mood="reveal",
            )
        )
        writer.brief["twist"] = f"{partner.first} knew more than {partner.pronoun} ever said."
        writer.note("twist: no open story question to answer; the partner's secret turns it")
        return
    suspects = [p for p in q.suspects if p != lead]
    kind = "prediction" if q.thread.kind == "prediction" else "question"
    about = q.entity or ", ".join(q.words[:3]) or ", ".join(p.first for p in suspects)
    writer.note(
        f"twist: answers the story {kind} {q.thread.authors} distinct viewers "
        f"share (about {about}), in the episodes' own terms"
        + (f"; it began in {q.origin.episode_id}" if q.origin is not None else "")
    )
    if q.entity and suspects:
        _entity_twist(writer, q, suspects[0])
        return
    if suspects:
        name, speaker = suspects[0].first, suspects[0]
    elif q.kin and story.returned_first:
        name, speaker = story.returned_first, None
    elif antagonist is not None:
        name, speaker = antagonist.first, antagonist
    else:
        name, speaker = partner.first, partner
    _object_twist(writer, q, name, speaker)


def _object_twist(writer: Writer, q: Question, name: str, speaker: Person | None) -> None:
    story, lead = writer.story, writer.lead
    thing = story.prop_phrase(q.prop)
    verb = answer_verb(q.prop)
    aspect = q.aspect or {"wrote": "handwriting", "made": "voice"}.get(verb, "")
    address = story.address
    asked = writer.pick(
        f"Did you {present_tense(verb)} this, {address}?" if speaker is None and address else "",
        f"Who {verb} this? Tell me the truth.",
        f"Somebody {verb} this. I want a name.",
    )
    card = q.quote if q.quote and writer.vet(q.quote) else ""
    writer.add(
        Shot(
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
            f"{cap(thing)} beside a page in {name}'s hand: the same handwriting, stroke for stroke"
        )
        beat = "the same handwriting"
    elif aspect:
        proof = f"{cap(thing)}, and {name}: the same {aspect}, no doubt left"
        beat = f"the same {aspect}"
    else:
        proof = f"{cap(thing)} in {name}'s hands, where it has been all along"
        beat = f"{name}'s {q.prop}"
    lines: list[tuple[Person, str]] = []
    if speaker is not None and speaker != lead:
        lines.append(
            (speaker, writer.pick(f"I {verb} it. Someone had to tell you.", f"Yes. I {verb} it."))
        )
    writer.add(
        Shot(
            beat=beat,
            framing="extreme close-up",
            camera="snap zoom",
            people=[speaker] if speaker is not None else [],
            action=proof,
            mood="reveal",
            lines=lines,
            caption=writer.pick(f"{name} {verb} it."),
        )
    )
    reaction = writer.pick(
        f"You {verb} it yourself, {address}. And you let me chase it."
        if speaker is None and address
        else "",
        f"You {verb} it. And you let me chase it.",
        f"You {verb} it.",
    )
    writer.add(
        Shot(
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
    writer.brief["twist"] = f"{cap(thing)} was {name}'s: {name} {verb} it{origin}."
    if aspect == "handwriting":
        writer.titles.append(
            "In His Own Hand" if q.kin in ("father", "brother") else "The Same Hand"
        )
    if q.prop:
        writer.titles.append(f"{name}'s {q.prop.title()}")


def _entity_twist(writer: Writer, q: Question, suspect: Person) -> None:
    lead, entity = writer.lead, q.entity
    device = f"{suspect.first}'s phone"
    # Someone heard over a line in this episode is not in the room: show them at home.
    remote = writer.story.direction_of(suspect) if suspect != writer.roles["ally"] else ""
    spoke_remotely = (s.direction for s in writer.shots if s.direction and suspect in s.speakers)
    remote = remote or next(spoke_remotely, "")
    # Someone who was not in the last scene is not in this one either.
    here = {p.name for shot in writer.shots for p in shot.people}
    away = suspect.name not in here
    on_line = bool(remote)
    remote = remote or ("away" if away else "")
    writer.add(
        Shot(
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
                    writer.pick(f"Who else was talking to {entity}?", f"{entity} had help. Who?"),
                )
            ],
        )
    )
    writer.add(
        Shot(
            beat=f"{suspect.first} and {entity}",
            framing="extreme close-up",
            camera="snap zoom",
            people=[suspect],
            action=(
                f"{place_heading(suspect.home)}, {device} lights up with one word: {entity}"
                if remote and suspect.home
                else f"{cap(device)} lights up with one word: {entity}"
            ),
            mood="reveal",
            lines=[
                (
                    suspect,
                    writer.pick(
                        f"I knew {entity}'s voice before you did.",
                        f"I knew about {entity} from the first night.",
                    ),
                )
            ],
            caption=writer.pick(f"{suspect.first} knew."),
        )
    )
    writer.add(
        Shot(
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
            lines=[(lead, writer.pick("You knew. The whole time, you knew.", "You knew."))],
        )
    )
    writer.brief["twist"] = f"{suspect.first} has been taking {entity}'s calls all along."
    writer.titles.append(f"{suspect.first} Knew")


def partner_secret(writer: Writer) -> None:
    """The partner answers with what their entry says they keep."""
    partner, lead = writer.partner, writer.lead
    if partner == lead:
        return
    enduring = [
        split_clauses(spoken(f, partner, lead)) for f in best_facts(partner) if ENDURING.search(f)
    ]
    said = writer.pick(*enduring)
    if not said:
        return
    writer.add(
        Shot(
            beat=f"{partner.first}'s secret",
            framing="over-the-shoulder",
            camera="rack focus",
            people=[partner, lead],
            action=f"{partner.first} won't meet {lead.first}'s eyes",
            mood="guilty",
            lines=[(partner, said)],
        )
    )
    writer.note(f"voice: {partner.first} answers with what the bible says {partner.pronoun} keeps")


def held_hand(writer: Writer) -> None:
    """What the audience pairs gets a held scene before the payoff."""
    lead, partner = writer.lead, writer.partner
    if partner == lead:
        return
    phrases = trait_phrases(lead)
    to_noun = next((t for t in phrases if re.search(r"\bto (\w+)$", t)), "")
    other = next((t for t in phrases if t != to_noun), "")
    if to_noun:
        noun = to_noun.rsplit(" ", 1)[-1]
        exchange = [
            (lead, writer.pick(f"Don't look at me like that. I'm {to_noun}.", f"I'm {to_noun}.")),
            (partner, writer.pick(f"It isn't {noun}.", f"This isn't {noun}, {lead.first}.")),
        ]
    elif other:
        exchange = [
            (lead, writer.pick(f"You know I'm {other}.", f"I'm {other}.")),
            (partner, writer.pick("I know. I'm still here.", "I'm still here.")),
        ]
    else:
        exchange = [
            (lead, writer.pick("No more secrets. Not from me.", "Don't disappear on me.")),
            (partner, writer.pick("Not from you. Never from you.", "I'm not going anywhere.")),
        ]
    writer.add(
        Shot(
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
    ship = writer.story.audience.ship
    if ship is not None and {lead.name, partner.name} <= set(ship.characters):
        writer.note(
            f"ship: {lead.first} and {partner.first} are the pair {ship.authors} commenters "
            "talk about together; they get the held beat before the payoff"
        )


def witness_remembers(writer: Writer) -> None:
    """Someone whose entry says they know what they saw, watching from their place."""
    witness = writer.roles["witness"]
    if witness is None:
        return
    said = writer.pick(
        *(spoken(f, witness) for f in witness.facts if re.search(r"\b(knows|saw)\b", f))
    )
    if not said:
        return
    where = the_place(witness.home) if witness.home else "a window above it all"
    writer.add(
        Shot(
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


def _pocket(person: Person) -> str:
    found = re.search(
        r"\b(?:[a-z-]+\s+)?(jacket|coat|peacoat|overcoat|sweater|hoodie|apron)\b", person.look
    )
    return f"{person.possessive} {found.group(0) if found else 'pocket'}"
