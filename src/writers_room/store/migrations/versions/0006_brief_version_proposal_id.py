"""brief version proposal id

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-06 19:20:00.000000

The proposal that wrote a brief version was only in ``source = 'proposal:<id>'``, and
every reader matched that string. A nullable, indexed ``proposal_id`` column holds it;
existing rows are back-filled from ``source``.
"""

from __future__ import annotations

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

_PREFIX = "proposal:"


def upgrade() -> None:
    with op.batch_alter_table("briefversion", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("proposal_id", sqlmodel.sql.sqltypes.AutoString(), nullable=True)
        )
        batch_op.create_index("ix_briefversion_proposal_id", ["proposal_id"], unique=False)
    op.execute(
        sa.text(
            "UPDATE briefversion SET proposal_id = substr(source, :start) "
            "WHERE source LIKE :prefix AND proposal_id IS NULL"
        ).bindparams(start=len(_PREFIX) + 1, prefix=_PREFIX + "%")
    )


def downgrade() -> None:
    with op.batch_alter_table("briefversion", schema=None) as batch_op:
        batch_op.drop_index("ix_briefversion_proposal_id")
        batch_op.drop_column("proposal_id")
