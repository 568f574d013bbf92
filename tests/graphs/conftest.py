"""A seeded sample room (events and metrics; comments are not needed here)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from writers_room.config import Settings
from writers_room.ingest.events import ingest_events
from writers_room.ingest.metrics import ingest_metrics
from writers_room.ingest.series import add_series_file
from writers_room.sample.simulator import generate

# Large enough for the analyst's minimum samples: the planted cases yield findings.
SCALE = 1.0


@pytest.fixture(scope="session")
def sample_bundle(tmp_path_factory: pytest.TempPathFactory) -> Any:
    return generate(tmp_path_factory.mktemp("graph-sample"), seed=7, scale=SCALE)


@pytest.fixture
def room(settings: Settings, sample_bundle: Any) -> Settings:
    for path in sample_bundle.series_files:
        add_series_file(settings, path)
    ingest_events(settings, sample_bundle.events)
    ingest_metrics(settings, sample_bundle.metrics)
    return settings.model_copy(update={"approvers": ["U0SHOW"]})


@pytest.fixture
def sqlite_room(sqlite_settings: Settings, sample_bundle: Any) -> Settings:
    for path in sample_bundle.series_files:
        add_series_file(sqlite_settings, path)
    ingest_events(sqlite_settings, sample_bundle.events)
    return sqlite_settings.model_copy(update={"approvers": ["U0SHOW"]})


def window_end(bundle: Any, day: int) -> Any:
    from datetime import timedelta

    return bundle.window_start + timedelta(days=day)


__all__ = ["SCALE", "Path", "window_end"]
