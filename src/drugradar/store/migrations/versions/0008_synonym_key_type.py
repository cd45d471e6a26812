"""synonym: the name-key index also holds the alias type, so the resolver's fuzzy index reads
its distinct keys, in order, from the index alone (not a scan of the whole names table)

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-07 15:10:00.000000
"""

from __future__ import annotations

from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_synonym_norm_key_type", "synonym", ["norm_key", "alias_type"])
    op.drop_index("ix_synonym_norm_key", table_name="synonym")


def downgrade() -> None:
    op.create_index("ix_synonym_norm_key", "synonym", ["norm_key"])
    op.drop_index("ix_synonym_norm_key_type", table_name="synonym")
