"""The episode put together: :func:`compose` runs the beats in order, spreads the series'
runtime over the shots (3-8 s each), renders them as manifest rows (framings varied, the
series' style and each character's look in every keyframe prompt) and writes the brief's
hook and premise.
"""

from __future__ import annotations

import re
import zlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from writers_room.brief.bundle import Constraints
from writers_room.brief.script import format_line
from writers_room.writer.audience import AudienceRead, Thread
from writers_room.writer.drafting.bible import PriorEpisode, StoryBible, Vetter
from writers_room.writer.drafting.ending import pad, payoff
from writers_room.writer.drafting.middle import held_hand, partner_secret, twist, witness_remembers
from writers_room.writer.drafting.opening import ally_arrives, cold_open, confrontation, consequence
from writers_room.writer.drafting.people import Person
from writers_room.writer.drafting.scenes import Shot, Writer
from writers_room.writer.drafting.story import Question, Story
from writers_room.writer.drafting.voice import answer_verb, first_vetted, strip_end

MIN_SHOT_S, MAX_SHOT_S = 3.0, 8.0
MIN_SHOTS, MAX_SHOTS = 8, 12
# What a framing repeated in a row is swapped for: the first that differs from both sides.
_FRAMINGS = (
    "close-up",
    "wide",
    "medium",
    "over-the-shoulder",
    "insert",
    "extreme close-up",
    "two-shot",
    "medium close-up",
    "low angle",
    "extreme wide",
)


@dataclass
class DraftEpisode:
    """The composed episode: brief fields and shots, plus what the rules used."""

    episode_id: str
    title: str
    title_options: list[str]
    brief: dict[str, Any]
    shots: list[dict[str, Any]]
    notes: list[str] = field(default_factory=list)
    """One line per rule applied, for the proposal's rationale."""
    roles: dict[str, str] = field(default_factory=dict)
    question: Thread | None = None
    """The audience question the twist answers, if any."""


def _seed(series_id: str, episode_id: str, shot_id: str) -> int:
    return zlib.crc32(f"{series_id}/{episode_id}/{shot_id}".encode()) & 0x7FFFFFFF


def _shot_count(constraints: Constraints) -> int:
    """At least :data:`MIN_SHOTS`, unless the series' longest runtime cannot hold them."""
    return max(1, min(MIN_SHOTS, int(constraints.runtime_s[1] // MIN_SHOT_S)))


def compose(
    bible: StoryBible,
    audience: AudienceRead,
    *,
    episode_id: str,
    vet: Vetter,
) -> DraftEpisode:
    """Draft the episode after the last one of ``bible``.

    Args:
        bible: the series, its cast and its episodes so far (at least one).
        audience: what viewers responded to (may be empty).
        episode_id: the id the new episode gets.
        vet: accepts or refuses each candidate text (the caller's guard rules).
    """
    if not bible.episodes:
        raise ValueError("drafting continues a series: it needs at least one episode")
    story = Story(bible=bible, audience=audience, vet=vet, episode_id=episode_id)
    writer = Writer(story=story, roles=story.cast())
    q = story.question()
    cold_open(writer)
    consequence(writer)
    ally_arrives(writer)
    confrontation(writer)
    twist(writer, q)
    partner_secret(writer)
    held_hand(writer)
    witness_remembers(writer)
    pad(writer, _shot_count(bible.constraints))
    payoff(writer)
    shots = writer.shots
    while len(shots) > MAX_SHOTS:
        shots.pop(-2)
    _fit(shots, bible.constraints, bible.episodes, story.notes)
    lead = writer.lead
    antagonist = writer.roles["antagonist"]
    if story.returned_first:
        writer.titles.append(f"{story.returned_first} Comes Home")
    writer.titles.append(f"After {story.last.title}")
    used = {e.title.lower() for e in bible.episodes}
    titles = [t for t in dict.fromkeys(writer.titles) if vet(t) and t.lower() not in used][:3]
    titles = titles or [f"Episode {episode_id}"]
    brief = {
        "title": titles[0],
        "premise": _premise(story, lead, writer.partner, q, antagonist),
        "hook": _hook(story, lead),
        "twist": writer.brief.get("twist", ""),
        "payoff": writer.brief.get("payoff", ""),
        "beats": list(dict.fromkeys(s.beat for s in shots if s.beat)),
    }
    return DraftEpisode(
        episode_id=episode_id,
        title=titles[0],
        title_options=titles,
        brief=brief,
        shots=_render(shots, bible, episode_id),
        notes=story.notes,
        roles={k: v.name for k, v in writer.roles.items() if v is not None},
        question=q.thread if q is not None else None,
    )


def _fit(
    shots: list[Shot], constraints: Constraints, episodes: Sequence[PriorEpisode], notes: list[str]
) -> None:
    """Spread the runtime over the shots: 3-8 s each, total inside the series' window."""
    low, high = constraints.runtime_s
    runtimes = [e.runtime_s for e in episodes if e.runtime_s > 0]
    typical = sum(runtimes) / len(runtimes) if runtimes else (low + high) / 2
    target = min(max(typical, low), high)
    target = min(max(target, MIN_SHOT_S * len(shots)), MAX_SHOT_S * len(shots))
    total_weight = sum(s.weight for s in shots)
    durations = [
        min(MAX_SHOT_S, max(MIN_SHOT_S, round(target * s.weight / total_weight * 2) / 2))
        for s in shots
    ]
    # Nudge half-seconds, longest-weighted shots first, until the total is the target.
    order = sorted(range(len(shots)), key=lambda i: -shots[i].weight)
    for _ in range(400):
        gap = target - sum(durations)
        if abs(gap) < 0.25:
            break
        step = 0.5 if gap > 0 else -0.5
        movable = [
            i
            for i in (order if gap > 0 else order[::-1])
            if MIN_SHOT_S <= durations[i] + step <= MAX_SHOT_S
        ]
        if not movable:
            break
        durations[movable[0]] += step
        order = order[1:] + order[:1]
    for shot, seconds in zip(shots, durations, strict=True):
        shot.weight = seconds
    notes.append(
        f"shape: {len(shots)} shots, {sum(durations):g} s (series window {low:g}-{high:g} s; "
        f"the episodes so far average {typical:.0f} s)"
    )


def _vary_framings(shots: list[Shot]) -> None:
    """No framing twice in a row."""
    for index in range(1, len(shots)):
        if shots[index].framing != shots[index - 1].framing:
            continue
        after = shots[index + 1].framing if index + 1 < len(shots) else ""
        shots[index].framing = next(
            f for f in _FRAMINGS if f not in (shots[index - 1].framing, after)
        )


def _render(shots: list[Shot], bible: StoryBible, episode_id: str) -> list[dict[str, Any]]:
    _vary_framings(shots)
    out: list[dict[str, Any]] = []
    start = 0.0
    for index, shot in enumerate(shots):
        # "sh01", not "s01": an id is a string of the change set, and the guard wants words.
        shot_id = f"sh{index + 1:02d}"
        # Whoever the action names is in the shot.
        named = [
            p
            for p in bible.people
            if re.search(rf"\b{re.escape(p.first)}\b(?!['’]s\b)", shot.action)
            and not (shot.direction and p in shot.speakers)
        ]
        people = list(dict.fromkeys([*shot.people, *named]))
        looks = "; ".join(f"{p.name} ({p.look})" if p.look else p.name for p in people)
        dialogue = " / ".join(
            format_line(p.label, text, shot.direction if p not in shot.people else "")
            for p, text in shot.lines
        )
        prompt = "; ".join(
            part
            for part in (
                bible.style,
                f"{shot.framing}, {shot.camera}",
                shot.action,
                f"{shot.mood} mood",
                looks or "no people in frame",
            )
            if part
        )
        out.append(
            {
                "shot_id": shot_id,
                "start_s": round(start, 3),
                "duration_s": float(shot.weight),
                "camera": shot.camera,
                "action": shot.action,
                "mood": shot.mood,
                "framing": shot.framing,
                "caption": shot.caption,
                "dialogue": dialogue,
                "characters": [p.name for p in people],
                "keyframe_prompt": prompt,
                "seed": _seed(bible.series_id, episode_id, shot_id),
            }
        )
        start += float(shot.weight)
    return out


def _hook(story: Story, lead: Person) -> str:
    payoff = strip_end(story.payoff)
    payoff = payoff[0].lower() + payoff[1:] if re.match(r"^(As|When|While)\b", payoff) else payoff
    opening = f"Open on the last frame of '{story.last.title}': {payoff}"
    if story.returned_first:
        follow = f"{lead.first} is running before anyone else can move"
    else:
        follow = f"{lead.first} has to answer for it, now"
    return first_vetted([f"{opening}; {follow}.", f"{opening}."], story.vet) or f"{opening}."


def _premise(
    story: Story, lead: Person, partner: Person, q: Question | None, antagonist: Person | None
) -> str:
    her = lead.possessive if lead.pronoun != "they" else "them"
    her = {"his": "him", "her": "her"}.get(her, her)
    if story.returned_first:
        first = f"{story.returned or story.returned_first} comes home"
        learner = f"{lead.first} learns"
    else:
        self_ = {"she": "herself", "he": "himself"}.get(lead.pronoun, "themself")
        to = f" to {partner.first}" if partner != lead else ""
        first = {
            "exposed": f"After '{story.last.title}', {lead.first} has to explain {self_}{to}",
            "danger": f"After '{story.last.title}', {lead.first} has to get everyone out",
        }.get(
            story.situation(),
            f"After '{story.last.title}', {lead.first} has to face what {partner.first} is hiding"
            if partner != lead
            else f"After '{story.last.title}', {lead.first} has to face what comes next",
        )
        learner = "learns"
    parts = [first]
    if q is not None and q.entity and q.suspects:
        parts.append(f"{learner} who else knew {q.entity}")
    elif q is not None and q.prop:
        parts.append(f"{learner} who {answer_verb(q.prop)} {story.prop_phrase(q.prop)}")
    if antagonist is not None:
        parts.append(f"{antagonist.first} is not done with {her}")
    text = parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + f", and {parts[-1]}"
    return first_vetted([text + ".", parts[0] + "."], story.vet) or parts[0] + "."
