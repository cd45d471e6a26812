"""Send the digests that are due: at least once, never visibly twice, failures retried and shown.

Each (subscription, channel, schedule slot) has one ``digest`` row with a unique idempotency key.
A worker claims it with a conditional UPDATE (one winner among several workers; the claim is a
lease that expires, so a worker killed mid-send does not hold it forever), attaches the pending
deliveries, sends, then records. A crash between sending and recording sends again with the same
idempotency key (the webhook header, the email's Message-ID), which receivers dedupe on. A failed
send keeps its deliveries attached, is retried with exponential backoff, and is listed by
``failed_digests``; one dead webhook never blocks another subscription's digest.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Engine, Select, and_, func, or_, select, update

from drugradar.alerts.channels import ChannelError, RenderedDigest
from drugradar.alerts.digest import render
from drugradar.alerts.subscriptions import get_subscription
from drugradar.model.subscription import ChannelKind, Frequency, Schedule, Subscription
from drugradar.store.schema import delivery, digest, subscription
from drugradar.store.upsert import insert_ignore
from drugradar.track.query import events_by_ids

SENDING = (ChannelKind.EMAIL, ChannelKind.WEBHOOK, ChannelKind.APPRISE)
LEASE = timedelta(minutes=5)
MAX_BACKOFF = timedelta(hours=6)


def base_url() -> str:
    """Where links in digests point (``DRUGRADAR_BASE_URL``, default the local server)."""
    return os.environ.get("DRUGRADAR_BASE_URL", "http://127.0.0.1:8000").rstrip("/")


def last_slot(schedule: Schedule, now: datetime) -> datetime:
    """The latest scheduled time at or before ``now`` (UTC), in the schedule's time zone."""
    tz = ZoneInfo(schedule.tz)
    local = now.astimezone(tz)
    slot = local.replace(hour=schedule.hour, minute=0, second=0, microsecond=0)
    if schedule.frequency is Frequency.WEEKLY:
        slot -= timedelta(days=(slot.weekday() - schedule.weekday) % 7)
        if slot > local:
            slot -= timedelta(days=7)
    elif slot > local:
        slot -= timedelta(days=1)
    return slot.astimezone(UTC)


def due(sub: Subscription, created: datetime, now: datetime) -> datetime | None:
    """The slot this subscription's digest is due for, or None when it is not due."""
    if sub.schedule.frequency is Frequency.IMMEDIATE:
        return now
    slot = last_slot(sub.schedule, now)
    since = sub.last_digest_at or created
    return slot if slot > since else None


@dataclass(slots=True)
class RunReport:
    sent: list[int] = field(default_factory=list)  # digest ids
    failed: list[int] = field(default_factory=list)
    empty: int = 0  # due digests with nothing to send (not sent)


def _now() -> datetime:
    return datetime.now(UTC)


def _aware(value: datetime | None) -> datetime | None:
    """SQLite gives naive datetimes back: they were stored as UTC."""
    if value is not None and value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value


def run_due(engine: Engine, now: datetime | None = None, *, force: bool = False) -> RunReport:
    """Send every digest due at ``now`` (``force``: every subscription's, due or not), then
    retry failed digests whose backoff has passed."""
    now = now or _now()
    report = RunReport()
    with engine.connect() as conn:
        subs = conn.execute(_with_work()).all()
    for row in subs:
        sub = get_subscription(engine, row.user_id, row.id)
        kinds = [k for k in sub.channels.kinds() if k in SENDING]
        if not kinds:
            continue
        created = _aware(row.created_at) or now
        slot = now if force else due(sub, created, now)
        if slot is None:
            continue
        oldest = _aware(row.oldest)
        if not force and not sub.send_empty and (oldest is None or oldest > slot):
            report.empty += 1  # what came after the slot waits for the next one
        else:
            for kind in kinds:
                _run_one(engine, sub, kind, slot, now, report)
        with engine.begin() as conn:
            conn.execute(
                update(subscription).where(subscription.c.id == sub.id).values(last_digest_at=slot)
            )
    _retry_failed(engine, now, report)
    return report


def _with_work() -> Select[Any]:
    """Live subscriptions that may have a digest to send: those with pending deliveries on a
    sending channel (with the oldest one's time) and those that send even when nothing is new.
    The outbox bounds the work, not the number of subscriptions."""
    d, s = delivery.c, subscription.c
    pending = (
        select(d.subscription_id, func.min(d.created_at).label("oldest"))
        .where(
            d.status == "pending",
            d.digest_id.is_(None),
            d.channel.in_([k.value for k in SENDING]),
        )
        .group_by(d.subscription_id)
        .subquery()
    )
    return (
        select(s.id, s.user_id, s.created_at, pending.c.oldest)
        .outerjoin(pending, pending.c.subscription_id == s.id)
        .where(
            s.paused.is_(False),
            s.deleted.is_(False),
            or_(s.send_empty.is_(True), pending.c.oldest.is_not(None)),
        )
        .order_by(s.id)
    )


def _key(sub: Subscription, kind: ChannelKind, slot: datetime, first_pending: int | None) -> str:
    if sub.schedule.frequency is Frequency.IMMEDIATE:
        return f"s{sub.id}-{kind.value}-d{first_pending}"
    return f"s{sub.id}-{kind.value}-{slot:%Y%m%dT%H%MZ}"


def _run_one(
    engine: Engine,
    sub: Subscription,
    kind: ChannelKind,
    slot: datetime,
    now: datetime,
    report: RunReport,
) -> None:
    d = delivery.c
    with engine.begin() as conn:
        first = conn.execute(
            select(d.id)
            .where(
                d.subscription_id == sub.id,
                d.channel == kind.value,
                d.status == "pending",
                d.digest_id.is_(None),
            )
            .order_by(d.id)
            .limit(1)
        ).scalar()
        if first is None and not sub.send_empty:
            report.empty += 1
            return
        key = _key(sub, kind, slot, first)
        insert_ignore(
            conn,
            digest,
            [
                {
                    "user_id": sub.user_id,
                    "subscription_id": sub.id,
                    "channel": kind.value,
                    "period_end": slot,
                    "idempotency_key": key,
                    "status": "pending",
                    "n_items": 0,
                    "attempts": 0,
                    "created_at": now,
                }
            ],
            ["idempotency_key"],
        )
        digest_id = conn.execute(
            select(digest.c.id).where(digest.c.idempotency_key == key)
        ).scalar_one()
    _send(engine, sub, kind, digest_id, now, report)


def _claim(engine: Engine, digest_id: int, now: datetime) -> bool:
    g = digest.c
    with engine.begin() as conn:
        won = conn.execute(
            update(digest)
            .where(
                g.id == digest_id,
                or_(
                    g.status == "pending",
                    and_(g.status.in_(("failed", "sending")), g.next_attempt_at <= now),
                ),
            )
            .values(status="sending", next_attempt_at=now + LEASE)
        ).rowcount
        if won:
            d = delivery.c
            row = conn.execute(select(digest).where(g.id == digest_id)).one()
            conn.execute(
                update(delivery)
                .where(
                    d.subscription_id == row.subscription_id,
                    d.channel == row.channel,
                    d.status == "pending",
                    d.digest_id.is_(None),
                )
                .values(digest_id=digest_id)
            )
    return bool(won)


def _send(
    engine: Engine,
    sub: Subscription,
    kind: ChannelKind,
    digest_id: int,
    now: datetime,
    report: RunReport,
) -> None:
    if not _claim(engine, digest_id, now):
        return
    d, g = delivery.c, digest.c
    with engine.connect() as conn:
        row = conn.execute(select(digest).where(g.id == digest_id)).one()
        event_ids = list(conn.execute(select(d.event_id).where(d.digest_id == digest_id)).scalars())
    events = events_by_ids(engine, event_ids)
    rendered = render(
        engine,
        sub,
        events,
        digest_id=digest_id,
        period_end=_aware(row.period_end) or now,
        idempotency_key=row.idempotency_key,
        unsubscribe_url=unsubscribe_url(sub.id),
        base_url=base_url(),
    )
    try:
        send(sub, kind, rendered)
    except ChannelError as exc:
        attempts = row.attempts + 1
        backoff = min(timedelta(minutes=2**attempts), MAX_BACKOFF)
        with engine.begin() as conn:
            conn.execute(
                update(digest)
                .where(g.id == digest_id)
                .values(
                    status="failed",
                    attempts=attempts,
                    next_attempt_at=now + backoff,
                    last_error=str(exc)[:2000],
                    n_items=len(events),
                )
            )
        report.failed.append(digest_id)
        return
    with engine.begin() as conn:
        sent_at = _now()
        conn.execute(
            update(digest)
            .where(g.id == digest_id)
            .values(
                status="sent",
                attempts=row.attempts + 1,
                sent_at=sent_at,
                n_items=len(events),
                last_error=None,
            )
        )
        conn.execute(
            update(delivery).where(d.digest_id == digest_id).values(status="sent", sent_at=sent_at)
        )
    report.sent.append(digest_id)


def send(sub: Subscription, kind: ChannelKind, rendered: RenderedDigest) -> None:
    """Hand a rendered digest to its channel."""
    if kind is ChannelKind.EMAIL:
        from drugradar.alerts.channels.email import SmtpSettings, send_email

        send_email(SmtpSettings.from_env(), sub.channels.emails, rendered)
    elif kind is ChannelKind.WEBHOOK:
        from drugradar.alerts.channels.webhook import send_webhook

        assert sub.channels.webhook_url and sub.webhook_secret
        send_webhook(sub.channels.webhook_url, sub.webhook_secret, rendered)
    elif kind is ChannelKind.APPRISE:
        from drugradar.alerts.channels.apprise_channel import send_apprise

        send_apprise(sub.channels.apprise_urls, rendered)


def unsubscribe_url(subscription_id: int) -> str:
    from drugradar.alerts.tokens import server_secret, sign

    token = sign("unsubscribe", str(subscription_id), server_secret())
    return f"{base_url()}/unsubscribe?token={token}"


def _retry_failed(engine: Engine, now: datetime, report: RunReport) -> None:
    g = digest.c
    with engine.connect() as conn:
        rows = conn.execute(
            select(g.id, g.user_id, g.subscription_id, g.channel).where(
                g.status.in_(("failed", "sending")), g.next_attempt_at <= now
            )
        ).all()
    for r in rows:
        if r.id in report.failed or r.id in report.sent:
            continue
        try:
            sub = get_subscription(engine, r.user_id, r.subscription_id)
        except PermissionError:
            continue  # deleted since: its digest is dropped
        _send(engine, sub, ChannelKind(r.channel), r.id, now, report)


def failed_digests(engine: Engine, user_id: int | None = None) -> list[dict[str, object]]:
    """Digests that failed and wait for a retry (a user's own, or all for an admin)."""
    g = digest.c
    q = select(digest).where(g.status == "failed").order_by(g.id)
    if user_id is not None:
        q = q.where(g.user_id == user_id)
    with engine.connect() as conn:
        return [
            {
                "digest_id": r.id,
                "subscription_id": r.subscription_id,
                "channel": r.channel,
                "attempts": r.attempts,
                "next_attempt_at": r.next_attempt_at,
                "error": r.last_error,
                "items": r.n_items,
            }
            for r in conn.execute(q)
        ]
