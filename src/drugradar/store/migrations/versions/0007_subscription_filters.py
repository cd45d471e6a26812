"""subscription_key, subscription_channel: the matcher's index of subscriptions, and channels;
the outbox (delivery) without foreign keys on user, subscription and event

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-03 19:40:00.000000
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "subscription_key",
        sa.Column("subscription_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("ref", sa.String(length=400), nullable=False),
        sa.Column("family", sa.String(length=30), nullable=False),
        sa.Column("type", sa.String(length=40), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("floor", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["subscription_id"],
            ["subscription.id"],
            name=op.f("fk_subscription_key_subscription_id_subscription"),
        ),
        sa.PrimaryKeyConstraint(
            "subscription_id", "kind", "ref", "family", "type", name=op.f("pk_subscription_key")
        ),
    )
    op.create_index(
        "ix_subscription_key_match",
        "subscription_key",
        ["kind", "ref", "family", "type", "floor", "subscription_id", "user_id"],
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
    _backfill()
    with op.batch_alter_table("delivery", schema=None) as batch_op:
        batch_op.drop_index("ix_delivery_user_id")
        batch_op.drop_constraint("fk_delivery_user_id_user_account", type_="foreignkey")
        batch_op.drop_constraint("fk_delivery_subscription_id_subscription", type_="foreignkey")
        batch_op.drop_constraint("fk_delivery_event_id_event", type_="foreignkey")


def _backfill() -> None:
    """Subscriptions made before 0007: their JSON filters and follows, as rows."""
    from drugradar.alerts.filters import channel_rows, floor_of, key_rows

    sub = sa.table(
        "subscription",
        *(sa.column(c) for c in ("id", "user_id", "families", "types", "channels")),
        *(sa.column(c) for c in ("min_materiality", "paused", "deleted")),
    )
    follow = sa.table(
        "subscription_follow", *(sa.column(c) for c in ("subscription_id", "kind", "ref"))
    )
    key = sa.table(
        "subscription_key",
        *(sa.column(c) for c in ("subscription_id", "kind", "ref", "family", "type")),
        *(sa.column(c) for c in ("user_id", "floor")),
    )
    channel = sa.table("subscription_channel", sa.column("subscription_id"), sa.column("channel"))
    conn = op.get_bind()
    follows: dict[int, list[tuple[str, str]]] = {}
    for f in conn.execute(sa.select(follow.c.subscription_id, follow.c.kind, follow.c.ref)):
        follows.setdefault(f.subscription_id, []).append((f.kind, f.ref))
    keys: list[dict[str, Any]] = []
    channels: list[dict[str, Any]] = []
    for r in conn.execute(sa.select(sub)):
        floor = floor_of(r.min_materiality, bool(r.paused), bool(r.deleted))
        keys += key_rows(r.id, r.user_id, follows.get(r.id, []), r.families, r.types, floor)
        channels += channel_rows(r.id, r.channels)
    if keys:
        conn.execute(sa.insert(key), keys)
    if channels:
        conn.execute(sa.insert(channel), channels)


def downgrade() -> None:
    with op.batch_alter_table("delivery", schema=None) as batch_op:
        batch_op.create_foreign_key(
            "fk_delivery_user_id_user_account", "user_account", ["user_id"], ["id"]
        )
        batch_op.create_foreign_key(
            "fk_delivery_subscription_id_subscription", "subscription", ["subscription_id"], ["id"]
        )
        batch_op.create_foreign_key("fk_delivery_event_id_event", "event", ["event_id"], ["id"])
        batch_op.create_index("ix_delivery_user_id", ["user_id", "channel"], unique=False)
    op.drop_table("subscription_channel")
    op.drop_index("ix_subscription_key_match", table_name="subscription_key")
    op.drop_table("subscription_key")
