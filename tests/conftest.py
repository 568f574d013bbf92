"""Shared fixtures: an isolated room per test, on SQLite and on the local PostgreSQL."""

from __future__ import annotations

import textwrap
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from sample_helpers import SampleRoom, ingested_sample
from writers_room.config import Settings
from writers_room.store.db import dispose_engines

PG_BASE = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
_pg_state: dict[str, bool] = {}


def postgres_available() -> bool:
    if "ok" not in _pg_state:
        try:
            import psycopg

            with psycopg.connect(
                "host=127.0.0.1 port=5432 user=postgres dbname=test", connect_timeout=2
            ):
                _pg_state["ok"] = True
        except Exception:
            _pg_state["ok"] = False
    return _pg_state["ok"]


@pytest.fixture(autouse=True)
def _isolated_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No user configuration leaks into a test: no room env vars, no writers-room.toml."""
    import os

    for name in list(os.environ):
        if name.startswith(("WRITERS_ROOM_", "SLACK_", "OPENAI_")):
            monkeypatch.delenv(name)
    # One index shard whatever the machine's cores (tests that shard say so).
    monkeypatch.setenv("WRITERS_ROOM_INDEX_SHARDS", "1")
    monkeypatch.chdir(tmp_path)


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest) -> Iterator[str | None]:
    """``None`` (SQLite in the home) or a fresh schema on the local PostgreSQL."""
    if request.param == "sqlite":
        yield None
        dispose_engines()
        return
    if not postgres_available():
        pytest.skip("no PostgreSQL server reachable at 127.0.0.1:5432 (database 'test')")
    import psycopg

    schema = f"wr_{uuid.uuid4().hex[:12]}"
    dsn = "host=127.0.0.1 port=5432 user=postgres dbname=test"
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(f"CREATE SCHEMA {schema}")
    try:
        yield f"{PG_BASE}?options=-csearch_path%3D{schema}"
    finally:
        dispose_engines()
        with psycopg.connect(dsn, autocommit=True) as conn:
            conn.execute(f"DROP SCHEMA {schema} CASCADE")


@pytest.fixture
def settings(tmp_path: Path, database_url: str | None) -> Settings:
    """A room in a temporary home, on each database backend."""
    return Settings(home=tmp_path / "home", database_url=database_url, pii_key="test-key")


@pytest.fixture
def sqlite_settings(tmp_path: Path) -> Iterator[Settings]:
    """A room on SQLite only (for tests about files, not databases)."""
    yield Settings(home=tmp_path / "home", pii_key="test-key")
    dispose_engines()


SERIES_YAML = """
series_id: tiny
title: Tiny Tides
premise: A lighthouse keeper finds letters from her future self.
audience: 18-34 romance fans
tone_refs: [Normal People, Dark]
brand:
  voice: warm, wry, never cruel
  banned_terms: [hot singles]
  sensitive_topics: [self-harm]
  rating: PG-13
characters:
  - {name: Mara, description: the keeper}
  - {name: Theo, description: the stranger}
constraints: {runtime_s: [10, 90], locations: [lighthouse], cast: [Mara, Theo]}
approvers: [U0SHOW]
episodes:
  - episode_id: ep1
    title: The Letter
    variants: [v1-thumb, v2-hook]
    brief:
      premise: Mara finds a letter in her own handwriting.
      hook: A wave smashes the lighthouse door open.
      twist: The letter is dated next year.
      payoff: Theo knocks.
      beats: [storm, letter, dread, knock]
    shots:
      - {shot_id: s1, start_s: 0, duration_s: 5, caption: "Storm", characters: [Mara], seed: 1}
      - {shot_id: s2, start_s: 5, duration_s: 10, caption: "The letter", seed: 2}
      - {shot_id: s3, start_s: 15, duration_s: 5, caption: "Knock", seed: 3}
  - episode_id: ep2
    title: The Stranger
    brief:
      premise: Theo claims he has never met her.
      hook: Theo is soaked and bleeding.
    shots:
      - {shot_id: s1, start_s: 0, duration_s: 12}
      - {shot_id: s2, start_s: 12, duration_s: 8}
"""


@pytest.fixture
def tiny_series(tmp_path: Path) -> Path:
    """A small, hand-written series bundle (ep1 runs 20 s, ep2 20 s)."""
    path = tmp_path / "tiny.yaml"
    path.write_text(textwrap.dedent(SERIES_YAML))
    return path


@pytest.fixture(scope="module")
def sample_room(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SampleRoom]:
    """The seeded sample, ingested once per test module on SQLite with embedded Chroma."""
    yield from ingested_sample(tmp_path_factory)
