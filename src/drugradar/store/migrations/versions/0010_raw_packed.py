"""source_record.raw_packed: a long raw record (a study's XML or JSON) stored compressed (zstd),
~5x smaller than as text, instead of in ``raw``

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-07 21:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("source_record", sa.Column("raw_packed", sa.LargeBinary(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("source_record") as batch_op:
        batch_op.drop_column("raw_packed")
