"""Preview: what a subscription would have sent over the last days, from the stored events
(the same predicate as matching, run over history instead of at ingest)."""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import Engine, select, union

from drugradar.alerts.filters import wants
from drugradar.alerts.subscriptions import get_subscription
from drugradar.model.event import Event
from drugradar.model.subscription import FollowKind
from drugradar.store.schema import disease_ancestor, event, event_concern, subscription
from drugradar.track.query import events_by_ids


def preview(
    engine: Engine,
    user_id: int,
    subscription_id: int,
    *,
    days: int = 30,
    today: date | None = None,
    limit: int = 500,
) -> list[Event]:
    """The events of the last ``days`` (by as-of date, up to ``today`` or the newest event) that
    the subscription follows and wants, newest first."""
    sub = get_subscription(engine, user_id, subscription_id)  # the owner check
    e, ec, da = event.c, event_concern.c, disease_ancestor.c
    with engine.connect() as conn:
        end = today or conn.execute(select(e.as_of).order_by(e.as_of.desc()).limit(1)).scalar()
        if end is None:
            return []
        since = end - timedelta(days=days)
        keys = [
            (f.kind.value, str(sub.id) if f.kind is FollowKind.SEARCH else f.ref)
            for f in sub.follows
        ]
        parts = []
        for kind, ref in keys:
            parts.append(select(ec.event_id).where(ec.kind == kind, ec.ref == ref))
            if kind == "disease":
                parts.append(
                    select(ec.event_id)
                    .join(disease_ancestor, da.disease_id == ec.ref)
                    .where(ec.kind == "disease", da.ancestor_id == ref)
                )
        ids_q = union(*parts).subquery()
        s = subscription.c
        row = conn.execute(
            select(s.families, s.types, s.min_materiality).where(s.id == sub.id)
        ).one()
        rows = conn.execute(
            select(e.id, e.family, e.type, e.materiality)
            .where(e.id.in_(select(ids_q.c.event_id)), e.baseline.is_(False))
            .where(e.as_of >= since, e.as_of <= end)
            .order_by(e.as_of.desc(), e.id.desc())
        ).all()
    wanted = [r.id for r in rows if wants(row, r)][:limit]
    found = events_by_ids(engine, wanted)
    return sorted(found, key=lambda ev: (ev.as_of, ev.id), reverse=True)
