"""Types shared by the analyst's fixtures and tests."""

from __future__ import annotations

from dataclasses import dataclass

from writers_room.config import Settings
from writers_room.sample.simulator import SampleBundle


@dataclass(frozen=True)
class SampleRoom:
    """The ingested sample: its room settings and what the generator wrote and planted."""

    settings: Settings
    bundle: SampleBundle
