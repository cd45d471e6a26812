"""Match stored events to subscriptions, through the index from followed entity to subscriptions.

For a batch of new events: their concerns (drugs, diseases and every ancestor of those diseases,
organizations and parent companies, targets, saved searches) are joined to ``subscription_key``
on (kind, ref) — an indexed join, never a scan of all subscriptions. That index also holds each
subscription's wanted families and types, its minimum materiality (0 while paused) and its user,
so a match is found without reading the subscription itself (see ``alerts.filters``). Each match
becomes one outbox row per (user, event, channel) through ``subscription_channel``: two
subscriptions of one user matching one event deliver it once per channel (the lower subscription
id is the one recorded). Inbox and feed rows are readable at once; email, webhook and apprise rows
wait for their subscription's digest.

The whole of it is two INSERT … SELECT statements run by the database, whatever the number of
subscriptions or matches: no match passes through Python.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import (
    Column,
    Connection,
    Engine,
    Integer,
    MetaData,
    String,
    Table,
    and_,
    case,
    delete,
    func,
    insert,
    literal,
    select,
    true,
    union_all,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.sql import Select
from sqlalchemy.sql.elements import ColumnElement

from drugradar.alerts.filters import ANY_FAMILY, AT_ONCE, WHOLE_FAMILY
from drugradar.model.event import MATERIALITY_RANK
from drugradar.store.schema import (
    delivery,
    disease_ancestor,
    event,
    event_concern,
    subscription_channel,
    subscription_key,
)
from drugradar.store.sync import chunks

# Per-connection scratch tables (temporary: each session sees only its own).
_scratch = MetaData()
_batch = Table(
    "match_batch",
    _scratch,
    Column("event_id", Integer, primary_key=True),
    Column("family", String(30), nullable=False),
    Column("type", String(40), nullable=False),
    Column("rank", Integer, nullable=False),
    prefixes=["TEMPORARY"],
)
_pair = Table(
    "match_pair",
    _scratch,
    Column("subscription_id", Integer, primary_key=True),
    Column("event_id", Integer, primary_key=True),
    Column("user_id", Integer, nullable=False),
    prefixes=["TEMPORARY"],
    sqlite_with_rowid=False,  # one B-tree, read back in key order
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
    """``MATERIALITY_RANK`` of a materiality column, in SQL."""
    return case(*((column == m.value, rank) for m, rank in MATERIALITY_RANK.items()), else_=0)


def _pairs_select(only: int | None = None) -> Select[tuple[int, int, int]]:
    """(subscription, event, user) of every match of the events in ``match_batch`` (for
    subscription ``only``, when given): each concern probes ``subscription_key`` for the rows of
    any family, of the event's family and of its type, at a floor the event's materiality
    reaches — all within one covering index."""
    ec, da, b = event_concern.c, disease_ancestor.c, _batch.c
    # "+ 0" and coalesce() keep SQLite from driving the join from event_concern's indexes: it
    # has no statistics on a scratch table and would scan all concerns; the batch is read in
    # order and event_concern looked up by event id.
    by_event = ec.event_id == b.event_id + 0
    concerns = union_all(
        select(b.event_id, b.family, b.type, b.rank, ec.kind, ec.ref).join(event_concern, by_event),
        select(
            b.event_id,
            b.family,
            b.type,
            b.rank,
            literal("disease").label("kind"),
            da.ancestor_id.label("ref"),
        )
        .join(event_concern, and_(by_event, func.coalesce(ec.kind, "") == "disease"))
        .join(disease_ancestor, da.disease_id == ec.ref),
    ).subquery("c")
    c, k = concerns.c, subscription_key.c
    return (
        select(k.subscription_id, c.event_id, k.user_id)
        .select_from(concerns)
        .join(
            subscription_key,
            and_(
                k.kind == c.kind,
                k.ref == c.ref,
                k.family.in_([literal(ANY_FAMILY), c.family]),
                k.type.in_([literal(WHOLE_FAMILY), c.type]),
                k.floor.between(1, c.rank),
            ),
        )
        .where(true() if only is None else k.subscription_id == only)
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
    e = event.c
    for batch in chunks(ids, 5000):
        conn.execute(
            insert(_batch).from_select(
                ["event_id", "family", "type", "rank"],
                select(e.id, e.family, e.type, _rank(e.materiality)).where(
                    e.id.in_(batch), e.baseline.is_(False)
                ),
            )
        )
    report.events = int(conn.execute(select(func.count()).select_from(_batch)).scalar_one())
    dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
    found = conn.execute(
        dialect.insert(_pair)
        .from_select(["subscription_id", "event_id", "user_id"], _pairs_select(subscription_id))
        .on_conflict_do_nothing(),  # one subscription reached through two of its follows
        execution_options={"preserve_rowcount": True},
    )
    report.matches = max(found.rowcount, 0)
    report.deliveries = _insert_deliveries(conn)
    conn.execute(delete(_batch))
    conn.execute(delete(_pair))
    return report


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
        .order_by(p.subscription_id, p.event_id)  # the pairs' key order: no sort
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
    """Match one subscription against the events about what it follows from the last ``days``
    days before the newest of them, as if it had existed then: a new follower's inbox starts with
    recent history instead of empty."""
    e, ec, k = event.c, event_concern.c, subscription_key.c
    with engine.begin() as conn:
        followed = (
            select(k.kind, k.ref).where(k.subscription_id == subscription_id).distinct().subquery()
        )
        about = (
            select(e.id, e.as_of)
            .join(event_concern, ec.event_id == e.id)
            .join(followed, and_(followed.c.kind == ec.kind, followed.c.ref == ec.ref))
            .where(e.baseline.is_(False))
        ).subquery()
        newest = conn.execute(select(func.max(about.c.as_of))).scalar()
        if newest is None:
            return MatchReport()
        since = newest - timedelta(days=days)
        ids = sorted(set(conn.execute(select(about.c.id).where(about.c.as_of >= since)).scalars()))
        return match(conn, ids, subscription_id=subscription_id)
