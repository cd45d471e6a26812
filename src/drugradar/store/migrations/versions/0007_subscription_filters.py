"""subscription_want, subscription_channel: subscriptions' filters as rows the matcher joins on

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-03 19:40:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "subscription_want",
        sa.Column("subscription_id", sa.Integer(), nullable=False),
        sa.Column("family", sa.String(length=30), nullable=False),
        sa.Column("type", sa.String(length=40), nullable=False),
        sa.ForeignKeyConstraint(
            ["subscription_id"],
            ["subscription.id"],
            name=op.f("fk_subscription_want_subscription_id_subscription"),
        ),
        sa.PrimaryKeyConstraint(
            "subscription_id", "family", "type", name=op.f("pk_subscription_want")
        ),
    )
    op.create_table(
        "subscription_channel",
        sa.Column("subscription_id", sa.Integer(), nullable=False),
        sa.Column("channel", sa.String(length=10), nullable=False),
        sa.ForeignKeyConstraint(
            ["subscription_id"],
            ["subscription.id"],
            name=op.f("fk_subscription_channel_subscription_id_subscription"),
        ),
        sa.PrimaryKeyConstraint("subscription_id", "channel", name=op.f("pk_subscription_channel")),
    )
    # existing subscriptions: their JSON columns, as rows
    from drugradar.alerts.filters import filter_rows

    subscription = sa.table(
        "subscription",
        sa.column("id", sa.Integer),
        sa.column("families", sa.Text),
        sa.column("types", sa.Text),
        sa.column("channels", sa.Text),
    )
    subscription_want = sa.table(
        "subscription_want",
        sa.column("subscription_id", sa.Integer),
        sa.column("family", sa.String),
        sa.column("type", sa.String),
    )
    subscription_channel = sa.table(
        "subscription_channel", sa.column("subscription_id", sa.Integer), sa.column("channel")
    )
    conn = op.get_bind()
    s = subscription.c
    wants: list[dict[str, object]] = []
    channels: list[dict[str, object]] = []
    for r in conn.execute(sa.select(s.id, s.families, s.types, s.channels)):
        w, c = filter_rows(r.id, r.families, r.types, r.channels)
        wants += w
        channels += c
    if wants:
        conn.execute(sa.insert(subscription_want), wants)
    if channels:
        conn.execute(sa.insert(subscription_channel), channels)


def downgrade() -> None:
    op.drop_table("subscription_channel")
    op.drop_table("subscription_want")
