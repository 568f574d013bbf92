"""The database seam: engine from Settings, migrations, sessions, audit log.

SQLite (the default) runs in WAL mode with a busy timeout, and every transaction starts
with ``BEGIN IMMEDIATE`` so two writer processes queue on the lock instead of failing
with "database is locked" when a read transaction tries to upgrade. Postgres is used
through psycopg 3 when ``WRITERS_ROOM_DATABASE_URL`` points at one.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from importlib import resources
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlmodel import Session

from writers_room.config import Settings
from writers_room.store.models import AuditLog, IngestRun

__all__ = ["audit", "get_engine", "migrate", "session_scope"]

SQLITE_BUSY_TIMEOUT_MS = 60_000

# Tables LangGraph's checkpoint savers create and migrate themselves; Alembic leaves them alone.
CHECKPOINT_TABLES = frozenset(
    {"checkpoints", "writes", "checkpoint_blobs", "checkpoint_writes", "checkpoint_migrations"}
)


def not_a_checkpoint_table(name: str | None, type_: str, _parent: object) -> bool:
    """Alembic ``include_name`` hook: leave the checkpoint tables to their own setup()."""
    return not (type_ == "table" and name in CHECKPOINT_TABLES)


_engines: dict[str, Engine] = {}
_engines_lock = threading.Lock()


def _configure_sqlite(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        # Let SQLAlchemy, not pysqlite, decide when transactions begin.
        dbapi_conn.isolation_level = None
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cur.execute("PRAGMA synchronous=NORMAL")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        conn.exec_driver_sql("BEGIN IMMEDIATE")


def create_room_engine(url: str) -> Engine:
    """Create an engine for ``url`` with the room's connection settings."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(
            url, connect_args={"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000, "check_same_thread": False}
        )
        _configure_sqlite(engine)
        return engine
    return create_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=20)


def get_engine(settings: Settings) -> Engine:
    """The migrated engine for these settings (one per URL per process)."""
    url = settings.sqlalchemy_url
    with _engines_lock:
        engine = _engines.get(url)
        if engine is None:
            engine = create_room_engine(url)
            migrate(engine)
            _engines[url] = engine
    return engine


def dispose_engines() -> None:
    """Close every pooled connection (tests and forked workers call this)."""
    with _engines_lock:
        for engine in _engines.values():
            engine.dispose()
        _engines.clear()


def alembic_config(engine: Engine) -> Config:
    script_location = resources.files("writers_room.store") / "migrations"
    cfg = Config()
    cfg.set_main_option("script_location", str(script_location))
    cfg.attributes["engine"] = engine
    return cfg


def migrate(engine: Engine, revision: str = "head") -> None:
    """Bring the schema up to ``revision`` (idempotent; safe with concurrent callers).

    PostgreSQL migrations hold an advisory lock (``migrations/env.py``). Alembic runs
    SQLite DDL outside one transaction, so two processes starting on a new SQLite room
    would both read the old revision and run the same step twice: a lock file next to
    the database makes them take turns.
    """
    database = engine.url.database if engine.url.get_backend_name() == "sqlite" else None
    if not database or database == ":memory:":
        command.upgrade(alembic_config(engine), revision)
        return
    import fcntl

    with open(f"{database}.migrate.lock", "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            command.upgrade(alembic_config(engine), revision)
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


@contextmanager
def session_scope(settings_or_engine: Settings | Engine) -> Iterator[Session]:
    """A session whose transaction commits on success and rolls back on any error."""
    engine = (
        get_engine(settings_or_engine)
        if isinstance(settings_or_engine, Settings)
        else settings_or_engine
    )
    with Session(engine, expire_on_commit=False) as session:
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise


def audit(
    session: Session,
    *,
    actor: str,
    action: str,
    subject: str = "",
    content_hash: str | None = None,
    detail: dict[str, Any] | None = None,
) -> AuditLog:
    """Append one audit row inside the caller's transaction."""
    row = AuditLog(
        actor=actor, action=action, subject=subject, content_hash=content_hash, detail=detail or {}
    )
    session.add(row)
    return row


def record_ingest(
    session: Session,
    *,
    kind: str,
    path: Path,
    sha256: str,
    rows: int,
    inserted: int,
    duration_s: float,
    detail: dict[str, Any],
) -> None:
    """The ingest-run row and its audit entry for one file, inside the caller's transaction."""
    session.add(
        IngestRun(
            kind=kind,
            file=str(path),
            sha256=sha256,
            rows=rows,
            inserted=inserted,
            duration_s=duration_s,
        )
    )
    audit(
        session,
        actor="ingest",
        action=f"ingest.{kind}",
        subject=str(path),
        detail={"rows": rows, "inserted": inserted, **detail},
    )
