"""A room with a reviewed window: proposals, the analyst's report, a render's HLS folder."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from starlette.testclient import TestClient
from web_helpers import (
    OTHER_WINDOW,
    WINDOW,
    other_window_proposal,
    proposals_of_the_window,
    write_render,
)

from writers_room.config import Settings
from writers_room.guardrails.approval import store_pending
from writers_room.ingest.series import add_series_file
from writers_room.store.db import dispose_engines, session_scope


@pytest.fixture
def room(tmp_path: Path, tiny_series: Path) -> Iterator[Settings]:
    """The tiny series reviewed for WINDOW (3 proposals) and OTHER_WINDOW (1), a report
    for WINDOW and one render of ep1."""
    settings = Settings(home=tmp_path / "home", pii_key="test-key")
    add_series_file(settings, tiny_series)
    with session_scope(settings) as session:
        store_pending(
            session, series_id="tiny", window_end=WINDOW, proposals=proposals_of_the_window()
        )
        store_pending(
            session,
            series_id="tiny",
            window_end=OTHER_WINDOW,
            proposals=[other_window_proposal()],
        )
    report = settings.home / "reports" / "tiny" / "2026-11-19T00-00-00Z"
    report.mkdir(parents=True)
    (report / "report.html").write_text("<!doctype html><h1>Window report: tiny</h1>")
    (report / "report.json").write_text('{"series_id": "tiny"}')
    write_render(settings.home)
    yield settings
    dispose_engines()


@pytest.fixture
def client(room: Settings) -> Iterator[TestClient]:
    from writers_room.web.app import create_app

    with TestClient(create_app(room)) as test_client:
        yield test_client
