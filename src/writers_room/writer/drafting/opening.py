"""The opening beats: the last episode's last frame, its consequence played at once, the
ally arriving with their grudge, and the lead facing it. Each beat is one rule.
"""

from __future__ import annotations

import re

from writers_room.writer.drafting.people import Person
from writers_room.writer.drafting.scenes import Shot, Writer
from writers_room.writer.drafting.voice import (
    best_facts,
    split_clauses,
    spoken,
    strip_end,
    the_place,
    trait_phrases,
)


def cold_open(writer: Writer) -> None:
    """The last frame of the last episode, its last line: the viewer is back in it."""
    story, lead = writer.story, writer.lead
    lines: list[tuple[Person, str]] = []
    last = story.last_line
    if last is not None and last.speaker:
        speaker = story.match(last.speaker.split()[0])
        said = strip_end(last.text.lstrip(". …")) + ("?" if last.text.endswith("?") else ".")
        if speaker is not None and writer.vet(said):
            lines.append((speaker, said))
    payoff = story.payoff
    image = strip_end(
        payoff if not re.search(r"['\"“‘]", payoff) else str(story.final.get("action", ""))
    )
    writer.add(
        Shot(
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
    writer.note(
        f"continuity: opens on the last frame of {story.last.episode_id} "
        f"('{story.last.title}'): {strip_end(payoff)}"
    )


def consequence(writer: Writer) -> None:
    """The payoff's consequence, played at once, answered by who shared the frame."""
    story, lead, partner = writer.story, writer.lead, writer.partner
    others = [p for p in story.final_people if p != lead] or ([partner] if partner != lead else [])
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
    elif responder is not None and responder == writer.roles["antagonist"]:
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
    writer.add(
        Shot(
            beat=strip_end(story.fact) if story.fact else "the first seconds after",
            framing="wide",
            camera="handheld",
            people=[lead, *([responder] if responder else [])],
            action=action,
            mood=mood,
            lines=[(responder, writer.pick(*reply))] if responder else [],
            weight=0.8,
        )
    )


def ally_arrives(writer: Writer) -> None:
    """Family (or the favourite) arrives, with the grudge their entry gives them."""
    ally, lead, story = writer.roles["ally"], writer.lead, writer.story
    if ally is None:
        return
    grudges = [
        spoken(f, ally, lead)
        for f in best_facts(ally)
        if lead.first in f or re.search(r"\b(left|alone|owe|blame)\b", f)
    ]
    situation = story.situation()
    fallback = {
        "return": [f"Is that really {story.returned_first}?" if story.returned_first else ""],
        "exposed": ["Tell me that footage is fake.", "Say it isn't you."],
        "danger": ["What did you do?"],
    }.get(situation, ["What did I miss?"])
    said = writer.pick(*grudges, *fallback)
    if said in grudges and situation == "return" and story.returned_first:
        # The old grudge, turned on what just happened.
        back = story.address or story.returned_first
        tail = writer.pick(f"And now {back} just walks back in?", "And now this?")
        said = f"{said} {tail}".strip()
    remote = story.direction_of(ally)
    home = ally.home if ally.home and ally.home != story.place else ""
    if remote:
        where = f" from {the_place(home)}" if home else ""
        action = f"{ally.first}'s voice cuts in over the line{where}"
        people = [lead]
    else:
        where = f"from {the_place(home)}" if home else "from up the road"
        action = f"{ally.first} comes running {where} and stops short beside {lead.first}"
        people = [ally, lead]
    shot = Shot(
        beat=f"{ally.first} arrives",
        framing="medium",
        camera="handheld",
        people=people,
        action=action,
        mood="raw",
        lines=[(ally, said)],
        direction=remote,
    )
    writer.add(shot)
    if grudges and said in grudges:
        writer.note(
            f"voice: {ally.first}'s line is the bible's '{strip_end(ally.description)[:60]}…' "
            f"said to {lead.first}"
        )


def confrontation(writer: Writer) -> None:
    """The lead faces the consequence, in their own words."""
    story, lead, partner = writer.story, writer.lead, writer.partner
    returned, address = story.returned_first, story.address
    if story.situation() == "return" and returned:
        confession = [
            split_clauses(spoken(f, lead)) for f in lead.facts if re.search(r"\b(left|never)\b", f)
        ]
        first = writer.pick(*confession)
        second = writer.pick(
            f"You let me think you were gone, {address}." if address else "",
            "You let me think you were gone.",
        )
        writer.add(
            Shot(
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
    traits = [f"I'm {t}." for t in trait_phrases(lead)]
    said = writer.pick(
        "I did it. I had my reasons, and you're not going to like them."
        if story.situation() == "exposed"
        else "",
        *traits,
        "You want the truth? Sit down.",
    )
    writer.add(
        Shot(
            beat=f"{lead.first} owns it",
            framing="close-up",
            camera="slow push-in",
            people=[lead],
            action=f"{lead.first} squares up to {partner.first}",
            mood="defiant",
            lines=[(lead, said)],
        )
    )
