"""atc_ddd: WHO ATC level-5 codes' defined daily doses per route

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-26 09:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "atc_ddd",
        sa.Column("code", sa.String(length=10), nullable=False),
        sa.Column("route", sa.String(length=40), nullable=False),
        sa.Column("ddd", sa.String(length=20), nullable=False),
        sa.Column("uom", sa.String(length=20), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("source", sa.String(length=40), nullable=False),
        sa.Column("source_record_id", sa.String(length=200), nullable=False),
        sa.Column("source_date", sa.Date(), nullable=True),
        sa.Column("licence", sa.String(length=60), nullable=False),
        sa.PrimaryKeyConstraint("code", "route", "ddd", "uom", name=op.f("pk_atc_ddd")),
    )


def downgrade() -> None:
    op.drop_table("atc_ddd")
