"""The in-app inbox of one user: deliveries on the ``inbox`` channel, newest first, with the
unread marker (``read_at``). Every query is bound to the signed-in user's id."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Engine, func, select, update

from drugradar.store.schema import delivery, event, subscription

CHANNEL = "inbox"


@dataclass(frozen=True, slots=True)
class InboxItem:
    id: int
    event_id: int
    summary: str
    family: str
    materiality: str
    as_of: Any
    subscription: str
    created_at: Any
    read: bool


def inbox(engine: Engine, user_id: int, limit: int = 200) -> tuple[list[InboxItem], int]:
    """The user's latest inbox items, and how many are unread in all."""
    dl, e, s = delivery.c, event.c, subscription.c
    with engine.connect() as conn:
        rows = conn.execute(
            select(
                dl.id,
                dl.event_id,
                dl.created_at,
                dl.read_at,
                e.summary,
                e.family,
                e.materiality,
                e.as_of,
                s.name,
            )
            .join(event, e.id == dl.event_id)
            .join(subscription, s.id == dl.subscription_id)
            .where(dl.user_id == user_id, dl.channel == CHANNEL)
            .order_by(dl.created_at.desc(), dl.id.desc())
            .limit(limit)
        ).all()
        unread = conn.execute(
            select(func.count())
            .select_from(delivery)
            .where(dl.user_id == user_id, dl.channel == CHANNEL, dl.read_at.is_(None))
        ).scalar()
    items = [
        InboxItem(
            r.id,
            r.event_id,
            r.summary,
            r.family,
            r.materiality,
            r.as_of,
            r.name,
            r.created_at,
            r.read_at is not None,
        )
        for r in rows
    ]
    return items, int(unread or 0)


def mark_read(engine: Engine, user_id: int, delivery_id: int | None = None) -> int:
    """Mark one of the user's items (or all of them) read; another user's ids change nothing."""
    dl = delivery.c
    stmt = (
        update(delivery)
        .where(dl.user_id == user_id, dl.channel == CHANNEL, dl.read_at.is_(None))
        .values(read_at=datetime.now(UTC))
    )
    if delivery_id is not None:
        stmt = stmt.where(dl.id == delivery_id)
    with engine.begin() as conn:
        return int(conn.execute(stmt).rowcount or 0)
