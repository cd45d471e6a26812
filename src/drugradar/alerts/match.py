"""Match stored events to subscriptions, through the index from followed entity to subscriptions.

For a batch of new events: their concerns (drugs, diseases and every ancestor of those diseases,
organizations and parent companies, targets, saved searches) are looked up in
``subscription_follow`` by (kind, ref) — an indexed join, never a scan of all subscriptions. The
subscriptions found are filtered by their families, types, minimum materiality and pause; each
match becomes one row of the outbox per (user, event, channel): two subscriptions of one user
matching one event deliver it once per channel. Inbox and feed rows are readable at once; email,
webhook and apprise rows wait for their subscription's digest.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import orjson
from sqlalchemy import Connection, Engine, and_, select, tuple_
from sqlalchemy.dialects import postgresql, sqlite

from drugradar.model.event import MATERIALITY_RANK, Materiality
from drugradar.model.subscription import ChannelKind
from drugradar.store.schema import (
    delivery,
    disease_ancestor,
    event,
    event_concern,
    subscription,
    subscription_follow,
)
from drugradar.store.sync import chunks

AT_ONCE = {ChannelKind.INBOX.value, ChannelKind.FEED.value}


@dataclass(slots=True)
class MatchReport:
    events: int = 0
    matches: int = 0  # (subscription, event) pairs
    deliveries: int = 0  # outbox rows added


def match_engine(engine: Engine, event_ids: Sequence[int]) -> MatchReport:
    with engine.begin() as conn:
        return match(conn, event_ids)


def _concerns(conn: Connection, ids: list[int]) -> dict[int, set[tuple[str, str]]]:
    out: dict[int, set[tuple[str, str]]] = defaultdict(set)
    ec = event_concern.c
    for r in conn.execute(select(ec.event_id, ec.kind, ec.ref).where(ec.event_id.in_(ids))):
        out[r.event_id].add((r.kind, r.ref))
    diseases = sorted({ref for cs in out.values() for k, ref in cs if k == "disease"})
    ancestors: dict[str, set[str]] = defaultdict(set)
    da = disease_ancestor.c
    for batch in chunks(diseases, 500):
        for r in conn.execute(
            select(da.disease_id, da.ancestor_id).where(da.disease_id.in_(batch))
        ):
            ancestors[r.disease_id].add(r.ancestor_id)
    for cs in out.values():
        for k, ref in list(cs):
            if k == "disease":
                cs.update(("disease", a) for a in ancestors.get(ref, ()))
    return out


@dataclass(frozen=True, slots=True)
class Wants:
    """A subscription's filters, parsed once per batch rather than once per match."""

    families: frozenset[str]
    types: frozenset[str]
    floor: int

    @classmethod
    def of(cls, sub: Any) -> Wants:
        return cls(
            frozenset(orjson.loads(sub.families)),
            frozenset(orjson.loads(sub.types)),
            MATERIALITY_RANK[Materiality(sub.min_materiality)],
        )

    def accepts(self, family: str, type_: str, rank: int) -> bool:
        if self.families and family not in self.families and not self.types:
            return False
        if self.types and f"{family}.{type_}" not in self.types and family not in self.families:
            return False
        return rank >= self.floor


def wants(sub: Any, ev: Any) -> bool:
    return Wants.of(sub).accepts(ev.family, ev.type, MATERIALITY_RANK[Materiality(ev.materiality)])


def match(conn: Connection, event_ids: Sequence[int]) -> MatchReport:
    """Put the events' deliveries in the outbox (see the module docstring)."""
    report = MatchReport()
    ids = sorted(set(event_ids))
    now = datetime.now(UTC)
    for batch in chunks(ids, 1000):
        events = {
            r.id: r
            for r in conn.execute(
                select(event.c.id, event.c.family, event.c.type, event.c.materiality).where(
                    event.c.id.in_(batch), event.c.baseline.is_(False)
                )
            )
        }
        report.events += len(events)
        concerns = _concerns(conn, sorted(events))
        keys = sorted({c for cs in concerns.values() for c in cs})
        followers: dict[tuple[str, str], set[int]] = defaultdict(set)
        sf = subscription_follow.c
        for kbatch in chunks(keys, 400):
            for r in conn.execute(
                select(sf.kind, sf.ref, sf.subscription_id).where(
                    tuple_(sf.kind, sf.ref).in_(kbatch)
                )
            ):
                followers[(r.kind, r.ref)].add(r.subscription_id)
        sub_ids = sorted({s for subs in followers.values() for s in subs})
        subs: dict[int, tuple[int, Wants, list[str]]] = {}  # id -> user, filters, channels
        s = subscription.c
        for sbatch in chunks(sub_ids, 500):
            for r in conn.execute(
                select(s.id, s.user_id, s.families, s.types, s.min_materiality, s.channels).where(
                    and_(s.id.in_(sbatch), s.paused.is_(False), s.deleted.is_(False))
                )
            ):
                subs[r.id] = (r.user_id, Wants.of(r), _kinds(orjson.loads(r.channels)))
        rows: dict[tuple[int, int, str], dict[str, Any]] = {}
        for eid, cs in concerns.items():
            ev = events[eid]
            rank = MATERIALITY_RANK[Materiality(ev.materiality)]
            matched = {sid for c in cs for sid in followers.get(c, ()) if sid in subs}
            for sid in sorted(matched):
                user_id, filters, kinds = subs[sid]
                if not filters.accepts(ev.family, ev.type, rank):
                    continue
                report.matches += 1
                for kind in kinds:
                    key = (user_id, eid, kind)
                    if key not in rows:
                        at_once = kind in AT_ONCE
                        rows[key] = {
                            "user_id": user_id,
                            "subscription_id": sid,
                            "event_id": eid,
                            "channel": kind,
                            "status": "sent" if at_once else "pending",
                            "created_at": now,
                            "sent_at": now if at_once else None,
                        }
        report.deliveries += _insert_deliveries(conn, list(rows.values()))
    return report


def _insert_deliveries(conn: Connection, rows: list[dict[str, Any]]) -> int:
    """Outbox rows not already there (one per user, event, channel), as one cached executemany
    statement: every row has the same keys, so it is compiled once however many there are."""
    if not rows:
        return 0
    dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
    stmt = (
        dialect.insert(delivery)
        .on_conflict_do_nothing(index_elements=["user_id", "event_id", "channel"])
        .returning(delivery.c.id)
    )
    added = 0
    for batch in chunks(rows, 5000):
        added += len(conn.execute(stmt, batch).all())
    return added


def _kinds(ch: dict[str, Any]) -> list[str]:
    out = []
    if ch.get("emails"):
        out.append(ChannelKind.EMAIL.value)
    if ch.get("webhook_url"):
        out.append(ChannelKind.WEBHOOK.value)
    if ch.get("feed"):
        out.append(ChannelKind.FEED.value)
    if ch.get("inbox"):
        out.append(ChannelKind.INBOX.value)
    if ch.get("apprise_urls"):
        out.append(ChannelKind.APPRISE.value)
    return out
