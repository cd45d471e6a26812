"""The in-app inbox: a user's ``inbox`` deliveries with their events, newest first, and the
unread marker (``delivery.read_at``).

Every function takes the acting user and touches only that user's rows: an id of someone else's
delivery reads like one that does not exist (``NotFound``), so ids leak nothing.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import Engine, func, select, update

from drugradar.alerts.subscriptions import NotFound
from drugradar.model.event import Event
from drugradar.model.subscription import ChannelKind
from drugradar.store.schema import delivery, subscription
from drugradar.track.query import events_by_ids

CHANNEL = ChannelKind.INBOX.value


@dataclass(slots=True)
class InboxItem:
    id: int  # the delivery's id: what "mark read" takes
    subscription_id: int
    subscription_name: str
    created_at: datetime
    read_at: datetime | None
    event: Event


def _aware(value: datetime | None) -> datetime | None:
    """SQLite gives naive datetimes back; every time stored here is UTC."""
    return value.replace(tzinfo=UTC) if value is not None and value.tzinfo is None else value


def inbox(
    engine: Engine,
    user_id: int,
    *,
    unread_only: bool = False,
    limit: int = 50,
    before: int | None = None,
) -> list[InboxItem]:
    """The user's inbox items, newest first; ``before`` (a delivery id) pages back in time."""
    d, s = delivery.c, subscription.c
    stmt = (
        select(d.id, d.subscription_id, s.name, d.created_at, d.read_at, d.event_id)
        .join(subscription, s.id == d.subscription_id)
        .where(d.user_id == user_id, d.channel == CHANNEL)
        .order_by(d.id.desc())
        .limit(limit)
    )
    if unread_only:
        stmt = stmt.where(d.read_at.is_(None))
    if before is not None:
        stmt = stmt.where(d.id < before)
    with engine.connect() as conn:
        rows = conn.execute(stmt).all()
    events = {ev.id: ev for ev in events_by_ids(engine, [r.event_id for r in rows])}
    out = []
    for r in rows:
        created = _aware(r.created_at)
        assert created is not None
        out.append(
            InboxItem(
                r.id, r.subscription_id, r.name, created, _aware(r.read_at), events[r.event_id]
            )
        )
    return out


def unread_count(engine: Engine, user_id: int) -> int:
    d = delivery.c
    with engine.connect() as conn:
        n = conn.execute(
            select(func.count())
            .select_from(delivery)
            .where(d.user_id == user_id, d.channel == CHANNEL, d.read_at.is_(None))
        ).scalar()
    return int(n or 0)


def mark_read(
    engine: Engine,
    user_id: int,
    ids: Sequence[int] | None = None,
    *,
    now: datetime | None = None,
) -> int:
    """Mark the user's items ``ids`` read (``None``: all of them); how many were unread.
    An id that is not one of the user's inbox items refuses the whole call."""
    d = delivery.c
    now = now or datetime.now(UTC)
    mine = (d.user_id == user_id) & (d.channel == CHANNEL)
    with engine.begin() as conn:
        if ids is not None:
            wanted = sorted(set(ids))
            found = set(conn.execute(select(d.id).where(mine, d.id.in_(wanted))).scalars())
            missing = [i for i in wanted if i not in found]
            if missing:
                raise NotFound(f"You have no inbox item {missing[0]}.")
        stmt = update(delivery).where(mine, d.read_at.is_(None)).values(read_at=now)
        if ids is not None:
            stmt = stmt.where(d.id.in_(sorted(set(ids))))
        done = conn.execute(stmt)
    return int(done.rowcount or 0)
