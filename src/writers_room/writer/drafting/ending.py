"""The closing beats: breathing room when the story came out short, then the cliffhanger
(the loose end walks back in, or the rival already in play makes a move).
"""

from __future__ import annotations

from writers_room.writer.drafting.lexicon import ENDURING
from writers_room.writer.drafting.people import Person
from writers_room.writer.drafting.scenes import Shot, Writer
from writers_room.writer.drafting.voice import cap, split_clauses, spoken, the_place, trait_phrases


def pad(writer: Writer, wanted: int) -> None:
    """Breathing room when the story beats came out short (the payoff still to come)."""
    lead, partner, story = writer.lead, writer.partner, writer.story
    where = story.the_place or (
        the_place(story.bible.locations[0]) if story.bible.locations else ""
    )
    fillers = [
        Shot(
            beat="",
            framing="extreme wide",
            camera="static",
            people=[],
            action=f"Wide on {where}, gone quiet" if where else "The world outside, gone quiet",
            mood="still",
            weight=0.7,
        ),
        Shot(
            beat="",
            framing="close-up",
            camera="slow push-in",
            people=[lead],
            action=f"{lead.first}, alone for a second, lets it land",
            mood="heavy",
            weight=0.8,
        ),
        Shot(
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
        if len(writer.shots) + 1 >= wanted:
            break
        writer.add(filler)


def payoff(writer: Writer) -> None:
    """The cliffhanger: the loose end walks back in, with the line their entry gives them."""
    antagonist, lead, partner = writer.roles["antagonist"], writer.lead, writer.partner
    if antagonist is None:
        said = writer.pick("It's done. She knows.", "It's done.")
        action = f"Alone, {partner.first} makes a call {partner.pronoun} swore never to make"
        writer.add(
            Shot(
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
        writer.brief["payoff"] = f"{action}."
        return
    threats = [
        split_clauses(spoken(f, antagonist, lead)) for f in antagonist.facts if ENDURING.search(f)
    ]
    short = [t for t in threats if len(t.split()) <= 6]
    options = [" ".join(short[:2])] if len(short) >= 2 else []
    options += threats + [f"I'm {t}." for t in trait_phrases(antagonist)]
    said = writer.pick(*options, "You thought I was gone.", "This isn't over.")
    thing = writer.story.signature_thing(antagonist)
    if not writer.story.loose:
        _rival_payoff(writer, antagonist, said)
        return
    if thing:
        action = (
            f"{cap(thing)} waits out past the last light, {antagonist.first} at the rail, watching"
        )
        payoff = (
            f"{antagonist.first} never left: {thing} waits past the last light, and "
            f"{antagonist.pronoun} is watching {lead.first}."
        )
    else:
        action = f"{antagonist.first} steps out of the dark, watching {lead.first}"
        payoff = f"{antagonist.first} is back, and {antagonist.pronoun} is watching {lead.first}."
    writer.add(
        Shot(
            beat=f"{antagonist.first} never left",
            framing="extreme wide" if thing else "close-up",
            camera="slow push-in",
            people=[antagonist],
            action=action,
            mood="cliffhanger",
            lines=[(antagonist, said)],
            caption=writer.pick(f"{antagonist.first} never left."),
            weight=1.2,
        )
    )
    writer.brief["payoff"] = payoff
    writer.titles.append(f"{antagonist.first} Never Left")
    writer.note(
        f"payoff: {antagonist.first} walked out of the story and has not been seen since; "
        f"{antagonist.pronoun} comes back at the end"
    )


def _rival_payoff(writer: Writer, antagonist: Person, said: str) -> None:
    """The rival is in play already: the cliffhanger is their move, not their return."""
    lead, story = writer.lead, writer.story
    where = f" onto {the_place(story.place)}" if story.place else ""
    action = f"{antagonist.first} walks out of the dark{where}, straight toward {lead.first}"
    writer.add(
        Shot(
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
