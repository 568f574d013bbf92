"""decision choices

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-06 21:30:00.000000

An approval records which written alternative the approver chose for each of the
proposal's choices (hook line, headline, title, stinger…): a JSON list with one entry per
choice — the option's index, or null where the approver wrote their own text. Null for
decisions made before, and for proposals without choices.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("decision", schema=None) as batch_op:
        batch_op.add_column(sa.Column("choices", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("decision", schema=None) as batch_op:
        batch_op.drop_column("choices")
