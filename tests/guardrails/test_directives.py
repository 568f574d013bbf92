"""Writers' notes read as directives, and what their targets name in a manifest."""

from __future__ import annotations

import pytest
from guardrail_helpers import PARCELS, TWIST_LINE, sample_guard

from ideation_helpers import manifest
from writers_room.guardrails.directives import VERBS, Directive, directives, resolve


@pytest.mark.parametrize(
    ("note", "expected"),
    [
        (
            "keep the line about Callum, cut the parcel numbers",
            [("keep", "the line about Callum"), ("cut", "the parcel numbers")],
        ),
        ('cut "Parcel fourteen-B"', [("cut", "Parcel fourteen-B")]),
        ("Cut “It was legal. Airtight.”", [("cut", "It was legal. Airtight.")]),
        ("open on the lockbox", [("open_on", "the lockbox")]),
        ("Open with the photos.", [("open_on", "the photos")]),
        ("don't cut the fog shot", [("keep", "the fog shot")]),
        ("Do not open on the fog", [("avoid", "the fog")]),
        ("never open on the fog, it's boring", [("avoid", "the fog")]),
        ("more June", [("more", "June")]),
        ("less exposition", [("less", "exposition")]),
        ("lose the parcel numbers", [("cut", "the parcel numbers")]),
        ("never show the photos", [("avoid", "the photos")]),
        ("never cut June's line", [("keep", "June's line")]),
        ("don't bring back the lease", [("cut", "the lease")]),
        ("no more flashbacks", [("cut", "flashbacks")]),
        ("cut shot 5", [("cut", "s05")]),
        ("please keep s04 as is", [("keep", "s04")]),
        ("the line about Callum stays", [("keep", "the line about Callum")]),
        ("the parcel numbers have to go", [("cut", "the parcel numbers")]),
        (
            "We should cut back on the flashback and play up the storm.",
            [("less", "the flashback"), ("more", "the storm")],
        ),
        (
            "Keep the fog; lose s04 and the notary stamp but don't cut June's line",
            [
                ("keep", "the fog"),
                ("cut", "s04"),
                ("cut", "the notary stamp"),
                ("keep", "June's line"),
            ],
        ),
        ("keep the photos of Theo and Walt", [("keep", "the photos of Theo and Walt")]),
        (
            "cut the parcel numbers and the fog shot",
            [("cut", "the parcel numbers"), ("cut", "the fog shot")],
        ),
        ("more June and less exposition", [("more", "June"), ("less", "exposition")]),
        ("Theo should sound colder here.", []),
        ("Great episode, thanks!", []),
    ],
)
def test_directives_read_the_usual_phrasings(note: str, expected: list[tuple[str, str]]) -> None:
    found = directives(note)
    assert [(d.verb, d.target) for d in found] == expected
    assert all(d.note == note and d.verb in VERBS for d in found)


def test_a_quoted_target_is_marked_quoted() -> None:
    (quoted,) = directives("cut 'Mail came.' please")
    assert quoted == Directive(
        verb="cut", target="Mail came.", note="cut 'Mail came.' please", quoted=True
    )
    (paraphrase,) = directives("cut the mail")
    assert not paraphrase.quoted


HARBOR_05 = sample_guard("harbor-hearts", "ep05").manifest
TIDES = manifest()
THEO_04 = [
    "Your father came to me about the harbor lease.",
    "The council had voted on the rezoning in March.",
    "The Reyes Group filed its option on the parcels.",
]


@pytest.mark.parametrize(
    ("note", "shots", "expected"),
    [
        ("keep the line about Callum", HARBOR_05, [(5, TWIST_LINE)]),
        # Parcels with a number; the "waterfront parcels" line has none.
        (
            "cut the parcel numbers",
            HARBOR_05,
            [(5, PARCELS), (5, "Harbor Deed Transfer — Parcel 14-B")],
        ),
        ('cut "Parcel fourteen-B"', HARBOR_05, [(5, PARCELS)]),
        ("cut s07", HARBOR_05, [(6, None)]),
        ("don't cut the fog shot", TIDES, [(0, None)]),
        ("open on the lockbox", TIDES, []),  # nothing shows a lockbox here
        ("less exposition", TIDES, [(3, None)]),  # the "expository" flashback
        ("more June", TIDES, [(2, "Mail came.")]),
        # A character: their lines ("Theo..." is Mara's), and shots they are in silently.
        (
            "never open on Theo",
            TIDES,
            [*((3, s) for s in THEO_04), (6, "You weren't supposed to find that.")],
        ),
        (
            "more Quinn",
            TIDES,
            [(1, None), (2, "Mail came."), (5, "Theo..."), (6, None), (7, "Stay away from me.")],
        ),
        ("keep the photos of Theo and Walt", TIDES, [(5, None)]),
    ],
)
def test_resolve_finds_what_a_target_names(
    note: str, shots: dict, expected: list[tuple[int, str | None]]
) -> None:
    (directive,) = directives(note)
    assert resolve(directive, shots) == expected


def test_resolve_of_a_character_is_their_lines_or_their_shots() -> None:
    bea = Directive(verb="more", target="Bea", note="more Bea")
    assert resolve(bea, TIDES) == []
    june = Directive(verb="keep", target="June Quinn", note="keep June Quinn")
    assert resolve(june, TIDES) == [(2, "Mail came.")]  # not Mara Quinn's
    theo = Directive(verb="keep", target="Theo", note="keep Theo")
    silent = {"shots": [{**s, "dialogue": ""} for s in TIDES["shots"]]}
    assert resolve(theo, silent) == [(3, None), (6, None)]
