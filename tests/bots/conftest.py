"""A room wired to a local mock Slack Web API, and the bolt app built from its settings."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from slack_mock_server import MockSlack
from slack_room import build_room, slack_settings

from writers_room.bots.slack.app import RoomApp, build_app
from writers_room.config import Settings


@pytest.fixture
def slack() -> Iterator[MockSlack]:
    with MockSlack() as mock:
        yield mock


@pytest.fixture
def room(settings: Settings, slack: MockSlack, tiny_series: Path, tmp_path: Path) -> Settings:
    """The tiny series with two days of metrics, on each database backend."""
    return build_room(slack_settings(settings, slack), tiny_series, tmp_path)


@pytest.fixture
def app(room: Settings, slack: MockSlack) -> Iterator[RoomApp]:
    """The room's real bolt app; its Web API client talks to the mock."""
    built = build_app(room)
    yield built
    built.close()  # drains first; a test may have closed it already
