"""The sample room (two series, events, metrics, themed comments), reviewed once per module."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from writers_room.config import Settings
from writers_room.graphs.chat.router import Router
from writers_room.graphs.chat.run import ChatRoom
from writers_room.store.db import dispose_engines

SCALE = 0.03


@pytest.fixture(scope="module")
def sample_room(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Settings]:
    """Sample series ingested (SQLite) with a saved report per series."""
    from writers_room.analyst.window import analyse
    from writers_room.ingest.comments import ingest_comments
    from writers_room.ingest.events import ingest_events
    from writers_room.ingest.metrics import ingest_metrics
    from writers_room.ingest.series import add_series_file
    from writers_room.sample.simulator import generate

    root = tmp_path_factory.mktemp("chat-room")
    settings = Settings(home=root / "home", pii_key="test-key", writers=["U0WRITER", "U0ANA"])
    bundle = generate(root / "sample", seed=7, scale=SCALE)
    for path in bundle.series_files:
        add_series_file(settings, path)
    ingest_events(settings, bundle.events)
    ingest_metrics(settings, bundle.metrics)
    ingest_comments(settings, bundle.comments)
    for path in bundle.series_files:
        analyse(settings, path.stem, write=True)
    yield settings
    dispose_engines()


@pytest.fixture(scope="module")
def router(tmp_path_factory: pytest.TempPathFactory) -> Router:
    """The offline router, its examples embedded once per module."""
    shared = Router(Settings(home=tmp_path_factory.mktemp("router")))
    shared.warm()
    return shared


@pytest.fixture
def chat(sample_room: Settings, router: Router) -> Iterator[ChatRoom]:
    with ChatRoom(sample_room, router=router) as room:
        yield room
