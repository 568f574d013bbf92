"""Alembic environment: runs migrations on the engine the room hands over."""

from __future__ import annotations

from alembic import context
from sqlalchemy import text
from sqlmodel import SQLModel

import writers_room.store.models  # noqa: F401  (registers the tables)
from writers_room.store.db import not_a_checkpoint_table

target_metadata = SQLModel.metadata

# A fixed key for pg_advisory_xact_lock so concurrent start-ups migrate one at a time.
_PG_MIGRATION_LOCK = 0x57_52_4D_31


def run_migrations_online() -> None:
    engine = context.config.attributes.get("engine")
    if engine is None:
        from sqlalchemy import create_engine

        engine = create_engine(context.config.get_main_option("sqlalchemy.url") or "")
    with engine.connect() as connection:
        context.configure(
            connection=connection,
            target_metadata=target_metadata,
            render_as_batch=connection.dialect.name == "sqlite",
            compare_type=True,
            include_name=not_a_checkpoint_table,
        )
        with context.begin_transaction():
            if connection.dialect.name == "postgresql":
                connection.execute(text(f"SELECT pg_advisory_xact_lock({_PG_MIGRATION_LOCK})"))
            context.run_migrations()


run_migrations_online()
