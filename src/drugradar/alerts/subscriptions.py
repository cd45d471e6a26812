"""Subscriptions: create them from what a user types, and read or change them as their owner.

What to follow resolves once, when the subscription is made: a drug by any alias (the alias that
matched is kept, so "Imlygic" shows as the brand it was), a target by gene symbol, a disease by
MeSH id or any of its names (its child terms follow automatically: matching walks up from an
event's disease to its ancestors), an organization by its normalized name (its subsidiaries
follow: events carry the parent company too). Every read and change takes the acting user and
refuses a subscription that is not theirs.
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import orjson
from sqlalchemy import Connection, Engine, func, insert, select, update

from drugradar.alerts.filters import channel_rows, floor_of, key_rows
from drugradar.model.event import Materiality
from drugradar.model.subscription import (
    Channels,
    Follow,
    FollowKind,
    Frequency,
    Schedule,
    Subscription,
)
from drugradar.resolve import Resolver
from drugradar.resolve.normalize import norm_key
from drugradar.resolve.orgs import org_key
from drugradar.store.schema import (
    dev_status,
    disease,
    disease_synonym,
    subscription,
    subscription_channel,
    subscription_follow,
    subscription_key,
    target,
    trial_party,
)
from drugradar.track.catalogue import CATALOGUE, FAMILIES


class SubscriptionError(ValueError):
    """A subscription that cannot be made as asked; the message says why, in one sentence."""


class NotFound(PermissionError):
    """No such subscription for this user (another user's reads the same: no leak of ids)."""


def _resolve_drug(engine: Engine, name: str) -> Follow:
    best = Resolver(engine).resolve(name).best
    if best is None:
        raise SubscriptionError(f"No drug matches {name!r}.")
    return Follow(FollowKind.DRUG, best.drug_id, best.preferred_name, best.matched_alias)


def _resolve_target(conn: Connection, symbol: str) -> Follow:
    s = symbol.strip().upper()
    found = conn.execute(select(target.c.gene_symbol).where(target.c.gene_symbol == s)).first()
    if found is None:
        raise SubscriptionError(f"No target has the gene symbol {symbol!r}.")
    return Follow(FollowKind.TARGET, s, s)


def _resolve_disease(conn: Connection, name: str) -> Follow:
    text = name.strip()
    row = conn.execute(select(disease.c.id, disease.c.name).where(disease.c.id == text)).first()
    if row is None:
        ds = disease_synonym.c
        row = conn.execute(
            select(disease.c.id, disease.c.name)
            .join(disease_synonym, ds.disease_id == disease.c.id)
            .where(ds.norm_key == norm_key(text))
            .order_by(disease.c.id)
        ).first()
    if row is None:
        raise SubscriptionError(f"No disease matches {name!r} (try its MeSH name or id).")
    return Follow(FollowKind.DISEASE, row.id, row.name, text if text != row.name else None)


def _resolve_organization(conn: Connection, name: str) -> Follow:
    key = org_key(name)
    if not key:
        raise SubscriptionError(f"{name!r} is not an organization name.")
    known = (
        conn.execute(
            select(func.count())
            .select_from(dev_status)
            .where((dev_status.c.org_key == key) | (dev_status.c.org_parent_key == key))
        ).scalar()
        or conn.execute(
            select(func.count()).select_from(trial_party).where(trial_party.c.norm_name == key)
        ).scalar()
    )
    if not known:
        raise SubscriptionError(f"No organization called {name!r} is known yet.")
    return Follow(FollowKind.ORGANIZATION, key, name.strip())


def _check_events(families: Sequence[str], types: Sequence[str]) -> tuple[list[str], list[str]]:
    for f in families:
        if f not in FAMILIES:
            raise SubscriptionError(
                f"Unknown event family {f!r}; families are {', '.join(FAMILIES)}."
            )
    out = []
    for t in types:
        fam, _, typ = t.rpartition(".")
        matches = [k for k in CATALOGUE if k[1] == typ and (not fam or k[0] == fam)]
        if not matches:
            raise SubscriptionError(f"Unknown event type {t!r}.")
        out += [f"{k[0]}.{k[1]}" for k in matches]
    return list(families), sorted(set(out))


def _check_schedule(s: Schedule) -> None:
    try:
        ZoneInfo(s.tz)
    except (ZoneInfoNotFoundError, ValueError):
        raise SubscriptionError(
            f"Unknown time zone {s.tz!r} (use an IANA name such as Europe/Paris)."
        ) from None
    if not 0 <= s.hour <= 23 or not 0 <= s.weekday <= 6:
        raise SubscriptionError("The hour is 0-23 and the weekday 0 (Monday) to 6 (Sunday).")


def _check_channels(c: Channels) -> Channels:
    from drugradar.alerts.channels.webhook import validate_webhook_url

    for e in c.emails:
        if "@" not in e or "." not in e.rpartition("@")[2]:
            raise SubscriptionError(f"{e!r} is not an email address.")
    if c.webhook_url:
        try:
            c.webhook_url = validate_webhook_url(c.webhook_url)
        except ValueError as exc:
            raise SubscriptionError(str(exc)) from None
    if not c.kinds():
        raise SubscriptionError(
            "A subscription needs at least one channel (email, webhook, feed or inbox)."
        )
    return c


def add_subscription(
    engine: Engine,
    user_id: int,
    *,
    drugs: Sequence[str] = (),
    targets: Sequence[str] = (),
    diseases: Sequence[str] = (),
    organizations: Sequence[str] = (),
    search: dict[str, Any] | None = None,
    families: Sequence[str] = (),
    types: Sequence[str] = (),
    min_materiality: Materiality = Materiality.LOW,
    schedule: Schedule | None = None,
    channels: Channels | None = None,
    send_empty: bool = False,
    name: str | None = None,
) -> Subscription:
    """Resolve what to follow, check the rest, store the subscription (and a saved search's
    current result set, so that only later entries and exits raise events)."""
    schedule = schedule or Schedule()
    _check_schedule(schedule)
    fams, typs = _check_events(families, types)
    chans = _check_channels(channels or Channels())
    follows = [_resolve_drug(engine, d) for d in drugs]
    with engine.connect() as conn:
        follows += [_resolve_target(conn, t) for t in targets]
        follows += [_resolve_disease(conn, d) for d in diseases]
        follows += [_resolve_organization(conn, o) for o in organizations]
    query = None
    if search is not None:
        from drugradar.search.query import SearchQuery

        query = SearchQuery.from_dict(search)  # raises on unknown filters
        follows.append(Follow(FollowKind.SEARCH, "search", query.describe()))
    if not follows:
        raise SubscriptionError(
            "Follow at least one drug, target, disease, organization or search."
        )
    title = name or ", ".join(f.label for f in follows)[:400]
    now = datetime.now(UTC)
    with engine.begin() as conn:
        pk = conn.execute(
            insert(subscription).values(
                user_id=user_id,
                name=title,
                search=orjson.dumps(query.to_dict()).decode() if query else None,
                families=orjson.dumps(fams).decode(),
                types=orjson.dumps(typs).decode(),
                min_materiality=min_materiality.value,
                frequency=schedule.frequency.value,
                hour=schedule.hour,
                weekday=schedule.weekday,
                tz=schedule.tz,
                channels=_dump_channels(chans),
                send_empty=send_empty,
                paused=False,
                created_at=now,
                feed_secret=secrets.token_urlsafe(24) if chans.feed else None,
                webhook_secret=secrets.token_urlsafe(32) if chans.webhook_url else None,
                deleted=False,
            )
        ).inserted_primary_key
        assert pk is not None
        sid = int(pk[0])
        rows = {
            (f.kind.value, str(sid) if f.kind is FollowKind.SEARCH else f.ref): f for f in follows
        }
        conn.execute(
            insert(subscription_follow),
            [
                {
                    "subscription_id": sid,
                    "kind": k,
                    "ref": r[:400],
                    "label": f.label[:400],
                    "alias": f.alias,
                }
                for (k, r), f in rows.items()
            ],
        )
        keys = key_rows(
            sid,
            user_id,
            [(k, r[:400]) for k, r in rows],
            orjson.dumps(fams).decode(),
            orjson.dumps(typs).decode(),
            floor_of(min_materiality.value, paused=False, deleted=False),
        )
        conn.execute(insert(subscription_key), keys)
        chan = channel_rows(sid, _dump_channels(chans))
        if chan:
            conn.execute(insert(subscription_channel), chan)
        if query is not None:
            from drugradar.search.members import remember

            remember(conn, sid, query)
    found = get_subscription(engine, user_id, sid)
    return found


def _aware(value: datetime | None) -> datetime | None:
    """SQLite hands datetimes back without their zone; they were stored as UTC."""
    return value.replace(tzinfo=UTC) if value is not None and value.tzinfo is None else value


def _dump_channels(c: Channels) -> str:
    return orjson.dumps(
        {
            "emails": c.emails,
            "webhook_url": c.webhook_url,
            "inbox": c.inbox,
            "feed": c.feed,
            "apprise_urls": c.apprise_urls,
        }
    ).decode()


def _row_to_subscription(r: Any, follows: list[Follow]) -> Subscription:
    ch = orjson.loads(r.channels)
    return Subscription(
        id=r.id,
        user_id=r.user_id,
        name=r.name,
        follows=follows,
        search=orjson.loads(r.search) if r.search else None,
        families=orjson.loads(r.families),
        types=orjson.loads(r.types),
        min_materiality=Materiality(r.min_materiality),
        schedule=Schedule(Frequency(r.frequency), r.hour, r.weekday, r.tz),
        channels=Channels(
            emails=ch.get("emails", []),
            webhook_url=ch.get("webhook_url"),
            inbox=ch.get("inbox", False),
            feed=ch.get("feed", False),
            apprise_urls=ch.get("apprise_urls", []),
        ),
        send_empty=r.send_empty,
        paused=r.paused,
        created_at=_aware(r.created_at),
        last_digest_at=_aware(r.last_digest_at),
        feed_secret=r.feed_secret,
        webhook_secret=r.webhook_secret,
    )


def _follows(conn: Connection, ids: list[int]) -> dict[int, list[Follow]]:
    out: dict[int, list[Follow]] = {i: [] for i in ids}
    sf = subscription_follow.c
    for r in conn.execute(
        select(subscription_follow).where(sf.subscription_id.in_(ids)).order_by(sf.kind, sf.ref)
    ):
        out[r.subscription_id].append(Follow(FollowKind(r.kind), r.ref, r.label, r.alias))
    return out


def list_subscriptions(engine: Engine, user_id: int) -> list[Subscription]:
    s = subscription.c
    with engine.connect() as conn:
        rows = conn.execute(
            select(subscription).where(s.user_id == user_id, s.deleted.is_(False)).order_by(s.id)
        ).all()
        follows = _follows(conn, [r.id for r in rows])
    return [_row_to_subscription(r, follows[r.id]) for r in rows]


def get_subscription(engine: Engine, user_id: int, subscription_id: int) -> Subscription:
    """The user's subscription; ``NotFound`` when it is someone else's or does not exist."""
    s = subscription.c
    with engine.connect() as conn:
        row = conn.execute(
            select(subscription).where(
                s.id == subscription_id, s.user_id == user_id, s.deleted.is_(False)
            )
        ).first()
        if row is None:
            raise NotFound(f"You have no subscription {subscription_id}.")
        return _row_to_subscription(row, _follows(conn, [row.id])[row.id])


def _set(engine: Engine, user_id: int, subscription_id: int, **values: Any) -> Subscription:
    get_subscription(engine, user_id, subscription_id)  # the owner check
    s = subscription.c
    with engine.begin() as conn:
        conn.execute(
            update(subscription)
            .where(s.id == subscription_id, s.user_id == user_id)
            .values(**values)
        )
        _refresh_floor(conn, subscription_id)
    if values.get("deleted"):
        return _deleted(engine, subscription_id)
    return get_subscription(engine, user_id, subscription_id)


def _refresh_floor(conn: Connection, subscription_id: int) -> None:
    """The matcher's index follows a pause, resume or delete."""
    s = subscription.c
    row = conn.execute(
        select(s.min_materiality, s.paused, s.deleted).where(s.id == subscription_id)
    ).one()
    conn.execute(
        update(subscription_key)
        .where(subscription_key.c.subscription_id == subscription_id)
        .values(floor=floor_of(row.min_materiality, row.paused, row.deleted))
    )


def _deleted(engine: Engine, subscription_id: int) -> Subscription:
    with engine.connect() as conn:
        row = conn.execute(select(subscription).where(subscription.c.id == subscription_id)).one()
        return _row_to_subscription(row, _follows(conn, [row.id])[row.id])


def pause(engine: Engine, user_id: int, subscription_id: int) -> Subscription:
    return _set(engine, user_id, subscription_id, paused=True)


def resume(engine: Engine, user_id: int, subscription_id: int) -> Subscription:
    return _set(engine, user_id, subscription_id, paused=False)


def delete(engine: Engine, user_id: int, subscription_id: int) -> Subscription:
    """Deleted subscriptions match nothing more; their past deliveries stay for the record."""
    return _set(engine, user_id, subscription_id, deleted=True, paused=True)


def unsubscribe(engine: Engine, subscription_id: int) -> bool:
    """The one-click unsubscribe link (its token was checked by the caller): pause it."""
    with engine.begin() as conn:
        done = conn.execute(
            update(subscription).where(subscription.c.id == subscription_id).values(paused=True)
        )
        if done.rowcount:
            _refresh_floor(conn, subscription_id)
    return bool(done.rowcount)


def by_feed_secret(engine: Engine, secret: str) -> Subscription | None:
    s = subscription.c
    with engine.connect() as conn:
        row = conn.execute(
            select(subscription).where(s.feed_secret == secret, s.deleted.is_(False))
        ).first()
        if row is None:
            return None
        return _row_to_subscription(row, _follows(conn, [row.id])[row.id])
