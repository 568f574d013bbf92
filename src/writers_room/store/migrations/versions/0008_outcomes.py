"""publications and outcomes

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-06 22:10:00.000000

``publication`` ties a render to the distribution variant whose events follow it;
``outcome`` holds what a published change did to its targeted metric, one row per
(proposal, review window).
"""

from __future__ import annotations

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def _text(name: str, *, nullable: bool = False) -> sa.Column:
    return sa.Column(name, sqlmodel.sql.sqltypes.AutoString(), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "publication",
        sa.Column("id", sa.Integer(), nullable=False),
        _text("render_id"),
        _text("series_id"),
        _text("episode_id"),
        _text("variant_id"),
        sa.Column("brief_version", sa.Integer(), nullable=False),
        _text("proposal_id", nullable=True),
        sa.Column("published_at", sa.DateTime(timezone=True), nullable=False),
        _text("published_by"),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("render_id", "variant_id"),
    )
    with op.batch_alter_table("publication", schema=None) as batch_op:
        batch_op.create_index("ix_publication_render_id", ["render_id"], unique=False)
        batch_op.create_index("ix_publication_series_id", ["series_id"], unique=False)
        batch_op.create_index("ix_publication_proposal_id", ["proposal_id"], unique=False)
    op.create_table(
        "outcome",
        sa.Column("id", sa.Integer(), nullable=False),
        _text("proposal_id"),
        sa.Column("window_end", sa.DateTime(timezone=True), nullable=False),
        _text("series_id"),
        _text("episode_id"),
        _text("variant_id"),
        _text("kind"),
        _text("finding"),
        _text("metric"),
        sa.Column("published_at", sa.DateTime(timezone=True), nullable=False),
        _text("verdict"),
        sa.Column("effect", sa.Float(), nullable=True),
        sa.Column("ci_low", sa.Float(), nullable=True),
        sa.Column("ci_high", sa.Float(), nullable=True),
        sa.Column("detail", sa.JSON(), nullable=False),
        sa.Column("computed_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("proposal_id", "window_end"),
    )
    with op.batch_alter_table("outcome", schema=None) as batch_op:
        batch_op.create_index("ix_outcome_proposal_id", ["proposal_id"], unique=False)
        batch_op.create_index("ix_outcome_series_id", ["series_id"], unique=False)


def downgrade() -> None:
    op.drop_table("outcome")
    op.drop_table("publication")
