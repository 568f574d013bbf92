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

The package, one job a module: :mod:`.lexicon` (the words the rules read by),
:mod:`.people` (a bible entry read into a :class:`Person`), :mod:`.bible` (the series and
its episodes so far), :mod:`.voice` (facts and traits as lines), :mod:`.story` (how the
last episode ended, the cast, the audience's question), :mod:`.scenes` (the draft in
progress), the beats in :mod:`.opening`, :mod:`.middle` and :mod:`.ending`, and
:mod:`.episode` (:func:`compose`: the beats in order, the runtime, the manifest rows).
"""

from __future__ import annotations

from writers_room.writer.drafting.bible import (
    PriorEpisode,
    StoryBible,
    Vetter,
    looks_from_prompts,
    next_episode_id,
    story_anchors,
    style_from_prompts,
)
from writers_room.writer.drafting.episode import DraftEpisode, compose
from writers_room.writer.drafting.people import Person, person_from
from writers_room.writer.drafting.voice import spoken

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
