"""Match stored events to subscriptions, through the index from followed entity to subscriptions.

For a batch of new events: their concerns (drugs, diseases and every ancestor of those diseases,
organizations and parent companies, targets, saved searches) are joined to
``subscription_follow`` on (kind, ref) — an indexed join, never a scan of all subscriptions. The
subscriptions found are filtered by pause, minimum materiality and their wanted families and types
(``subscription_want``, see ``alerts.filters``); each match becomes one outbox row per (user,
event, channel) through ``subscription_channel``: two subscriptions of one user matching one event
deliver it once per channel (the lower subscription id is the one recorded). Inbox and feed rows
are readable at once; email, webhook and apprise rows wait for their subscription's digest.

The whole of it is two INSERT … SELECT statements run by the database, whatever the number of
subscriptions or matches: no match passes through Python.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import (
    Column,
    Connection,
    Engine,
    Integer,
    MetaData,
    Table,
    and_,
    case,
    delete,
    exists,
    func,
    insert,
    literal,
    or_,
    select,
    true,
    union_all,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.sql import Select
from sqlalchemy.sql.elements import ColumnElement

from drugradar.alerts.filters import AT_ONCE, WHOLE_FAMILY, Wants, wants
from drugradar.store.schema import (
    delivery,
    disease_ancestor,
    event,
    event_concern,
    subscription,
    subscription_channel,
    subscription_follow,
    subscription_want,
)
from drugradar.store.sync import chunks

__all__ = ["MatchReport", "Wants", "match", "match_engine", "wants"]

# Per-connection scratch tables (temporary: each session sees only its own).
_scratch = MetaData()
_batch = Table(
    "match_batch", _scratch, Column("event_id", Integer, primary_key=True), prefixes=["TEMPORARY"]
)
_pair = Table(
    "match_pair",
    _scratch,
    Column("subscription_id", Integer, primary_key=True),
    Column("event_id", Integer, primary_key=True),
    Column("user_id", Integer, nullable=False),
    prefixes=["TEMPORARY"],
)


@dataclass(slots=True)
class MatchReport:
    events: int = 0
    matches: int = 0  # (subscription, event) pairs
    deliveries: int = 0  # outbox rows added


def match_engine(engine: Engine, event_ids: Sequence[int]) -> MatchReport:
    with engine.begin() as conn:
        return match(conn, event_ids)


def _rank(column: ColumnElement[str]) -> ColumnElement[int]:
    return case((column == "high", 3), (column == "medium", 2), else_=1)


def _pairs_select(only: int | None = None) -> Select[tuple[int, int, int]]:
    """(subscription, user, event) of every match of the events in ``match_batch`` (for
    subscription ``only``, when given)."""
    ec, da, e = event_concern.c, disease_ancestor.c, event.c
    b = _batch.c
    concerns = union_all(
        select(ec.event_id, ec.kind, ec.ref).join(_batch, b.event_id == ec.event_id),
        select(ec.event_id, literal("disease").label("kind"), da.ancestor_id.label("ref"))
        .join(_batch, b.event_id == ec.event_id)
        .join(disease_ancestor, da.disease_id == ec.ref)
        .where(ec.kind == "disease"),
    ).subquery("c")
    sf, s, w = subscription_follow.c, subscription.c, subscription_want.c
    named = exists().where(w.subscription_id == s.id)
    fits = exists().where(
        w.subscription_id == s.id,
        w.family == e.family,
        or_(w.type == WHOLE_FAMILY, w.type == e.type),
    )
    return (
        select(s.id, e.id, s.user_id)
        .distinct()
        .select_from(concerns)
        .join(event, e.id == concerns.c.event_id)
        .join(
            subscription_follow,
            and_(sf.kind == concerns.c.kind, sf.ref == concerns.c.ref),
        )
        .join(subscription, s.id == sf.subscription_id)
        .where(
            e.baseline.is_(False),
            s.paused.is_(False),
            s.deleted.is_(False),
            _rank(e.materiality) >= _rank(s.min_materiality),
            or_(~named, fits),
            true() if only is None else s.id == only,
        )
    )


def match(
    conn: Connection, event_ids: Sequence[int], *, subscription_id: int | None = None
) -> MatchReport:
    """Put the events' deliveries in the outbox (see the module docstring); only those of one
    subscription when ``subscription_id`` is given (a backfill)."""
    report = MatchReport()
    ids = sorted(set(event_ids))
    if not ids:
        return report
    _scratch.create_all(conn, checkfirst=True)
    conn.execute(delete(_batch))
    conn.execute(delete(_pair))
    for batch in chunks(ids, 5000):
        conn.execute(insert(_batch), [{"event_id": i} for i in batch])
    report.events = _count_events(conn)
    found = conn.execute(
        insert(_pair).from_select(
            ["subscription_id", "event_id", "user_id"], _pairs_select(subscription_id)
        ),
        execution_options={"preserve_rowcount": True},
    )
    report.matches = max(found.rowcount, 0)
    report.deliveries = _insert_deliveries(conn)
    conn.execute(delete(_batch))
    conn.execute(delete(_pair))
    return report


def _count_events(conn: Connection) -> int:
    return int(
        conn.execute(
            select(func.count())
            .select_from(event)
            .join(_batch, _batch.c.event_id == event.c.id)
            .where(event.c.baseline.is_(False))
        ).scalar_one()
    )


def _insert_deliveries(conn: Connection) -> int:
    """Outbox rows not already there, one per (user, event, channel), the lowest subscription id
    first so that the one recorded does not depend on the plan."""
    p, sc = _pair.c, subscription_channel.c
    now = datetime.now(UTC)
    at_once = sc.channel.in_(sorted(AT_ONCE))
    rows = (
        select(
            p.user_id,
            p.subscription_id,
            p.event_id,
            sc.channel,
            case((at_once, literal("sent")), else_=literal("pending")),
            literal(now, delivery.c.created_at.type),
            case((at_once, literal(now, delivery.c.sent_at.type)), else_=None),
        )
        .join(subscription_channel, sc.subscription_id == p.subscription_id)
        .where(true())  # SQLite parses INSERT … SELECT … ON CONFLICT only after a WHERE
        .order_by(p.subscription_id, p.event_id)
    )
    dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
    stmt = (
        dialect.insert(delivery)
        .from_select(
            [
                "user_id",
                "subscription_id",
                "event_id",
                "channel",
                "status",
                "created_at",
                "sent_at",
            ],
            rows,
        )
        .on_conflict_do_nothing(index_elements=["user_id", "event_id", "channel"])
    )
    return max(conn.execute(stmt, execution_options={"preserve_rowcount": True}).rowcount, 0)


def backfill(engine: Engine, subscription_id: int, days: int = 60) -> MatchReport:
    """Match one subscription against the events of the last ``days`` days of data (up to the
    newest as-of date stored), as if it had existed then: a new follower's inbox starts with
    recent history instead of empty."""
    from datetime import timedelta

    e = event.c
    with engine.begin() as conn:
        newest = conn.execute(select(func.max(e.as_of)).where(e.baseline.is_(False))).scalar()
        if newest is None:
            return MatchReport()
        ids = list(
            conn.execute(
                select(e.id).where(e.baseline.is_(False), e.as_of >= newest - timedelta(days=days))
            ).scalars()
        )
        return match(conn, ids, subscription_id=subscription_id)
