"""A room with the tiny series and helpers to make proposals."""

from __future__ import annotations

from pathlib import Path

import pytest
from guardrail_helpers import hook_proposal

from writers_room.config import Settings
from writers_room.guardrails.approval import store_pending
from writers_room.ingest.series import add_series_file
from writers_room.store.db import session_scope
from writers_room.store.models import Proposal


@pytest.fixture
def room(settings: Settings, tiny_series: Path) -> Settings:
    add_series_file(settings, tiny_series)
    return settings


@pytest.fixture
def pending(room: Settings) -> Proposal:
    with session_scope(room) as session:
        (row,) = store_pending(
            session, series_id="tiny", window_end=None, proposals=[hook_proposal()]
        )
        return row
