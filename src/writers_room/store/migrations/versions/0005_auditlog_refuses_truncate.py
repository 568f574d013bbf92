"""auditlog refuses TRUNCATE

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-06 18:20:00.000000

Row-level triggers (0001) refuse UPDATE and DELETE, but PostgreSQL's TRUNCATE fires no
row triggers, so ``TRUNCATE auditlog`` emptied the audit log. A statement-level BEFORE
TRUNCATE trigger refuses it. SQLite has no TRUNCATE (``DELETE FROM`` is already refused).
"""

from __future__ import annotations

from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    # The same function as the UPDATE/DELETE trigger (re-created here so that this
    # migration stands on its own); it raises before anything is removed.
    op.execute(
        "CREATE OR REPLACE FUNCTION auditlog_append_only() RETURNS trigger AS $$ "
        "BEGIN RAISE EXCEPTION 'auditlog is append-only'; END $$ LANGUAGE plpgsql"
    )
    op.execute(
        "CREATE TRIGGER auditlog_no_truncate BEFORE TRUNCATE ON auditlog "
        "FOR EACH STATEMENT EXECUTE FUNCTION auditlog_append_only()"
    )


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("DROP TRIGGER IF EXISTS auditlog_no_truncate ON auditlog")
