"""An index on (source, source_record_id) of each profile table: resolving what an event of a
profile source concerns looks up the rows its source records became, by record id (without it,
each lookup scanned the whole table: 7.6 s of scanning ``approval`` in one profile load)

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-08 02:00:00.000000
"""

from __future__ import annotations

from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

TABLES = ("approval", "patent", "exclusivity", "designation", "safety_communication")


def upgrade() -> None:
    for table in TABLES:
        op.create_index(f"ix_{table}_source_record", table, ["source", "source_record_id"])


def downgrade() -> None:
    for table in TABLES:
        op.drop_index(f"ix_{table}_source_record", table_name=table)
