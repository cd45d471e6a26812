"""resolver_index: the fuzzy index's name keys laid out by each dictionary rebuild, so a trial
load or a new resolver reads them in one row instead of laying out half a million keys

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-07 20:30:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "resolver_index",
        sa.Column("name", sa.String(60), primary_key=True),
        sa.Column("stamp", sa.String(60), nullable=False),
        sa.Column("max_synonym_id", sa.Integer, nullable=False),
        sa.Column("by_head", sa.LargeBinary, nullable=False),
        sa.Column("by_tail", sa.LargeBinary, nullable=False),
        sa.Column("built_at", sa.DateTime, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("resolver_index")
