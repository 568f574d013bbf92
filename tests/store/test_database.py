"""Migrations, the append-only audit log, and SQLite under concurrent writers."""

from __future__ import annotations

import multiprocessing
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlmodel import SQLModel, func, select

from writers_room.config import Settings
from writers_room.graphs._checkpoint import checkpointer, not_a_checkpoint_table
from writers_room.store.db import audit, create_room_engine, get_engine, migrate, session_scope
from writers_room.store.models import AuditLog, BriefVersion, Note


def test_migrations_match_the_models(settings: Settings) -> None:
    engine = get_engine(settings)
    with checkpointer(settings):
        pass  # LangGraph's tables live in the same database and must not confuse Alembic
    with engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"include_name": not_a_checkpoint_table})
        diffs = compare_metadata(context, SQLModel.metadata)
    assert diffs == []
    migrate(engine)  # a second upgrade is a no-op
    with engine.connect() as conn:
        head = conn.execute(text("SELECT version_num FROM alembic_version")).scalar()
        assert head == "0008"


def test_an_existing_database_survives_upgrade(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'room.db'}"
    engine = create_room_engine(url)
    migrate(engine, "0001")  # a room.db made by the first release
    with engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO note (series_id, episode_id, author, text, kind, created_at) "
                "VALUES ('s', 'e', 'ana', 'keep me', 'note', '2026-11-01 10:00:00')"
            )
        )
    engine.dispose()
    again = create_room_engine(url)
    migrate(again)
    with session_scope(again) as session:
        assert [n.text for n in session.exec(select(Note))] == ["keep me"]
    again.dispose()


def test_brief_versions_of_proposals_are_back_filled(
    database_url: str | None, tmp_path: Path
) -> None:
    """0006 moves the proposal id out of ``source = 'proposal:<id>'`` into its own column."""
    url = database_url or f"sqlite:///{tmp_path / 'room.db'}"
    engine = create_room_engine(url)
    try:
        migrate(engine, "0005")
        with engine.begin() as conn:
            for version, source in ((1, "series_add"), (2, "proposal:p-abc123")):
                conn.execute(
                    text(
                        "INSERT INTO briefversion (series_id, episode_id, version, brief, "
                        "manifest, source, created_by, created_at) VALUES ('s', 'e', :v, '{}', "
                        "'{}', :source, 'ana', '2026-11-01 10:00:00')"
                    ),
                    {"v": version, "source": source},
                )
        migrate(engine)
        with session_scope(engine) as session:
            rows = session.exec(select(BriefVersion).order_by(BriefVersion.version)).all()
            assert [(r.source, r.proposal_id) for r in rows] == [
                ("series_add", None),
                ("proposal:p-abc123", "p-abc123"),
            ]
            found = session.exec(
                select(BriefVersion.version).where(BriefVersion.proposal_id == "p-abc123")
            ).one()
            assert found == 2
    finally:
        engine.dispose()


def test_audit_log_is_append_only(settings: Settings) -> None:
    with session_scope(settings) as session:
        audit(session, actor="ana", action="decision.approve", subject="p1", content_hash="h1")
    engine = get_engine(settings)
    for statement in ("UPDATE auditlog SET actor = 'mallory'", "DELETE FROM auditlog"):
        with pytest.raises(DBAPIError, match="append-only"), engine.begin() as conn:
            conn.execute(text(statement))
    with pytest.raises(DBAPIError, match="append-only"), session_scope(settings) as session:
        row = session.exec(select(AuditLog)).one()
        row.actor = "mallory"
        session.add(row)
    with session_scope(settings) as session:
        rows = list(session.exec(select(AuditLog)))
        assert [(r.actor, r.action, r.content_hash) for r in rows] == [
            ("ana", "decision.approve", "h1")
        ]


@pytest.mark.postgres
def test_truncate_cannot_empty_the_audit_log_on_postgresql(database_url: str | None) -> None:
    """Promise 19 on PostgreSQL: TRUNCATE fires no row triggers, so it needs its own."""
    if database_url is None:
        pytest.skip("SQLite has no TRUNCATE; DELETE FROM auditlog is refused above")
    engine = create_room_engine(database_url)
    try:
        migrate(engine, "0004")  # the schema before the TRUNCATE trigger: the fault
        with session_scope(engine) as session:
            audit(session, actor="ana", action="decision.approved", subject="p0")
        with engine.begin() as conn:
            conn.execute(text("TRUNCATE auditlog"))
            assert conn.execute(text("SELECT count(*) FROM auditlog")).scalar() == 0

        migrate(engine)  # 0005 adds the statement-level BEFORE TRUNCATE trigger
        with session_scope(engine) as session:
            audit(session, actor="ana", action="decision.approved", subject="p1", content_hash="h")
            audit(session, actor="bo", action="proposal.applied", subject="p1")
        for statement in (
            "TRUNCATE auditlog",
            "TRUNCATE TABLE auditlog RESTART IDENTITY",
            "TRUNCATE auditlog CASCADE",
            "TRUNCATE note, auditlog",
        ):
            with pytest.raises(DBAPIError, match="append-only"), engine.begin() as conn:
                conn.execute(text(statement))
        with session_scope(engine) as session:
            rows = list(session.exec(select(AuditLog).order_by(AuditLog.id)))  # type: ignore[arg-type]
        assert [(r.actor, r.action, r.subject) for r in rows] == [
            ("ana", "decision.approved", "p1"),
            ("bo", "proposal.applied", "p1"),
        ]
        migrate(engine)  # idempotent
    finally:
        engine.dispose()


def _writer(url: str, who: str, count: int) -> None:
    engine = create_room_engine(url)
    for i in range(count):
        with session_scope(engine) as session:
            session.add(Note(series_id="s", episode_id="e", author=who, text=f"note {i}"))
            # Read-then-write inside one transaction: the pattern that makes plain
            # deferred SQLite transactions fail with "database is locked".
            session.exec(select(func.count()).select_from(Note)).one()
    engine.dispose()


def test_two_sqlite_writer_processes_never_lock(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'room.db'}"
    engine = create_room_engine(url)
    migrate(engine)
    ctx = multiprocessing.get_context("spawn")
    procs = [ctx.Process(target=_writer, args=(url, who, 1000)) for who in ("a", "b")]
    for p in procs:
        p.start()
    for p in procs:
        p.join(timeout=240)
    assert [p.exitcode for p in procs] == [0, 0]
    with session_scope(engine) as session:
        assert session.exec(select(func.count()).select_from(Note)).one() == 2000
    with engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
    engine.dispose()
