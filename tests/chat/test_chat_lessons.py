"""Chat answers "what worked last time?" from the measured outcomes of published changes."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from writers_room.config import Settings
from writers_room.graphs.chat.router import Router
from writers_room.graphs.chat.run import ChatRoom, chat_thread_id
from writers_room.ingest.series import add_series_file
from writers_room.store.db import dispose_engines, session_scope
from writers_room.store.models import Outcome


def _outcome(
    pid: str, kind: str, metric: str, effect: float | None, verdict: str, day: int
) -> Outcome:
    return Outcome(
        proposal_id=pid, window_end=datetime(2026, 11, day, tzinfo=UTC), series_id="tiny",
        episode_id="ep1", variant_id="v1-thumb", kind=kind, finding=kind, metric=metric,
        published_at=datetime(2026, 11, day - 2, tzinfo=UTC), verdict=verdict, effect=effect,
        ci_low=None if effect is None else effect - 0.02,
        ci_high=None if effect is None else effect + 0.02,
    )  # fmt: skip


@pytest.fixture
def room(tmp_path: Path, tiny_series: Path) -> Iterator[Settings]:
    settings = Settings(home=tmp_path / "home", pii_key="test-key", writers=["U0ANA"])
    add_series_file(settings, tiny_series)
    with session_scope(settings) as session:
        session.add(_outcome("p-hook1", "hook_rewrite", "retention_10s", 0.061, "improved", 20))
        # The same change measured again a window later: only its newest outcome counts.
        session.add(_outcome("p-hook1", "hook_rewrite", "retention_10s", 0.058, "improved", 21))
        session.add(_outcome("p-hook2", "promote_variant", "retention_10s", 0.004, "no_change", 18))
        session.add(_outcome("p-cut1", "pacing_cut", "completion", -0.03, "worse", 19))
    yield settings
    dispose_engines()


@pytest.fixture(scope="module")
def router(tmp_path_factory: pytest.TempPathFactory) -> Router:
    shared = Router(Settings(home=tmp_path_factory.mktemp("router")))
    shared.warm()
    return shared


def ask(room: Settings, router: Router, text: str) -> str:
    with ChatRoom(room, router=router) as chat:
        reply = chat.ask(
            text, thread_id=chat_thread_id("lessons", uuid.uuid4().hex[:8]), user="U0ANA"
        )
    return reply.text


def test_what_worked_last_time_for_a_hook_problem(room: Settings, router: Router) -> None:
    text = ask(room, router, "what worked last time we had a hook problem?")
    assert "hook problem" in text and "2 published change(s), 1 improved" in text
    assert "`p-hook1`" in text and "10-s retention +5.8 pp" in text  # the newest window
    assert "(90 % interval +3.8 to +7.8) — improved" in text
    assert "`p-hook2`" in text and "no change" in text
    assert "p-cut1" not in text  # a pacing cut does not treat a hook problem


def test_did_the_pacing_cut_work(room: Settings, router: Router) -> None:
    text = ask(room, router, "did the last pacing cut work?")
    assert "`p-cut1`" in text and "completion -3.0 pp" in text and "worse" in text
    assert "p-hook" not in text


def test_nothing_measured_says_how_to_start(room: Settings, router: Router) -> None:
    text = ask(room, router, "what worked last time we had a packaging problem?")
    assert "No published change for a packaging problem" in text
    assert "writers-room publish" in text
