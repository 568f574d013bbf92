"""The drafter's rules in isolation: voices from bible entries, ids, a bare series."""

from __future__ import annotations

from pathlib import Path

import pytest

from writers_room.brief.manifest import ShotManifest
from writers_room.config import Settings
from writers_room.errors import InputError
from writers_room.ingest.series import add_series_file
from writers_room.writer.draft import draft_next_episode
from writers_room.writer.drafting import next_episode_id, person_from, spoken

CAST = ["Mara Quinn", "Theo Vance", "June Quinn", "Callum Reyes", "Bea Hollis"]


def person(name: str, description: str):  # type: ignore[no-untyped-def]
    return person_from(name, description, cast=CAST, locations=["Gull & Anchor diner"])


THEO = person(
    "Theo Vance",
    "32, the harbormaster. Quiet, salt-weathered, keeps his promises and his secrets; has "
    "been paying the Quinn family's debts and won't say why.",
)
MARA = person(
    "Mara Quinn",
    "29, marine biologist. Guarded, sharp, allergic to pity; left town two years ago and "
    "never called.",
)
JUNE = person(
    "June Quinn",
    "24, Mara's younger sister, who stayed and runs the Gull & Anchor diner. Funny, "
    "exhausted, furious that Mara left her alone with their father.",
)
BEA = person(
    "Bea Hollis",
    "71, keeper of the Hollis Point lighthouse and the town's memory. Knows what she saw "
    "the night Walt Quinn's boat went down.",
)


def test_bible_entries_are_read_into_traits_facts_relations_and_places() -> None:
    assert THEO.traits == ("quiet", "salt-weathered") and THEO.pronoun == "he"
    assert "keeps his promises and his secrets" in THEO.facts
    assert MARA.traits == ("guarded", "sharp", "allergic to pity")
    assert JUNE.relations == (("Mara Quinn", "sister"),) and JUNE.home == "Gull & Anchor diner"
    assert "keeps the Hollis Point lighthouse and the town's memory" in BEA.facts


def test_characters_speak_their_entries_in_their_own_words() -> None:
    assert spoken("keeps his promises and his secrets", THEO) == (
        "I keep my promises and my secrets."
    )
    assert spoken("has been paying the Quinn family's debts and won't say why", THEO, MARA) == (
        "I've been paying your family's debts and won't say why."
    )
    assert spoken("Mara left her alone with their father", JUNE, MARA) == (
        "You left me alone with Dad."
    )
    assert spoken("knows what she saw the night Walt Quinn's boat went down", BEA) == (
        "I know what I saw the night Walt Quinn's boat went down."
    )
    assert spoken("left town two years ago and never called", MARA) == (
        "I left town two years ago and never called."
    )


def test_the_next_id_follows_the_series_pattern() -> None:
    assert next_episode_id(["ep01", "ep02", "ep08"]) == "ep09"
    assert next_episode_id(["ep1", "ep2"]) == "ep3"
    assert next_episode_id(["e9", "e10"]) == "e11"
    assert next_episode_id(["pilot"]) == "ep02"


def test_a_bare_series_gets_a_valid_draft(sqlite_settings: Settings, tiny_series: Path) -> None:
    """Two short episodes, two characters, no comments: still 8 shots inside the runtime."""
    add_series_file(sqlite_settings, tiny_series)
    draft = draft_next_episode(sqlite_settings, "tiny")
    assert draft.episode_id == "ep3" and draft.audience.source == "none"
    assert draft.verdict.passed
    manifest = ShotManifest.model_validate(draft.manifest)
    assert 10 <= manifest.runtime_s <= 90 and len(manifest.shots) >= 8
    assert {c for s in manifest.shots for c in s.characters} <= {"Mara", "Theo"}
    assert "Theo is soaked and bleeding" in manifest.shots[0].action  # ep2's last beat


def test_drafting_needs_a_series_with_episodes(sqlite_settings: Settings) -> None:
    with pytest.raises(InputError, match="no series 'nope'"):
        draft_next_episode(sqlite_settings, "nope")
