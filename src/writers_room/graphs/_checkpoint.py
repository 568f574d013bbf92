"""LangGraph checkpointers in the room's own database.

SQLite rooms keep checkpoints in ``room.db`` (WAL, busy timeout, like the rest of the
room); PostgreSQL rooms in the same database as the tables. The graphs run with
``durability="sync"``: a step's checkpoint is written before the next step starts, so a
``kill -9`` at an approval gate loses nothing.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from langgraph.checkpoint.base import BaseCheckpointSaver
from sqlalchemy.engine import make_url

from writers_room.config import Settings
from writers_room.store.db import CHECKPOINT_TABLES, SQLITE_BUSY_TIMEOUT_MS, not_a_checkpoint_table

__all__ = ["CHECKPOINT_TABLES", "checkpointer", "not_a_checkpoint_table"]

_PG_SETUP_LOCK = 0x57_52_43_50  # "WRCP"


@contextmanager
def checkpointer(settings: Settings) -> Iterator[BaseCheckpointSaver[str]]:
    """A checkpointer on the room's database, set up and closed around the block."""
    url = make_url(settings.sqlalchemy_url)
    if url.get_backend_name() == "sqlite":
        from langgraph.checkpoint.sqlite import SqliteSaver

        path = url.database or ":memory:"
        if path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        conn = sqlite3.connect(path, check_same_thread=False, timeout=SQLITE_BUSY_TIMEOUT_MS / 1000)
        try:
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
            saver = SqliteSaver(conn)
            saver.setup()
            yield saver
        finally:
            conn.close()
        return
    import psycopg
    from langgraph.checkpoint.postgres import PostgresSaver
    from psycopg.rows import dict_row

    conninfo = url.set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.Connection.connect(
        conninfo, autocommit=True, prepare_threshold=0, row_factory=dict_row
    ) as pg_conn:
        saver_pg = PostgresSaver(pg_conn)
        # setup() is not safe against a concurrent setup() on a new database (two serve
        # processes starting together): serialise it with a session advisory lock. Poll
        # for it rather than block: setup() runs CREATE INDEX CONCURRENTLY, which waits
        # for every open transaction, and a session blocked in pg_advisory_lock() is one
        # (a deadlock PostgreSQL reports on two processes setting up an empty database).
        while not pg_conn.execute(
            "SELECT pg_try_advisory_lock(%s) AS taken", (_PG_SETUP_LOCK,)
        ).fetchone()["taken"]:  # type: ignore[index]
            time.sleep(0.05)
        try:
            saver_pg.setup()
        finally:
            pg_conn.execute("SELECT pg_advisory_unlock(%s)", (_PG_SETUP_LOCK,))
        yield saver_pg
