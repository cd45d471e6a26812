"""After a load has stored its events: resolve what they concern, move saved searches, and put
what subscribers follow in the outbox. Loads call ``settle`` once their tables are built."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import Engine, func, select

from drugradar.alerts.match import match
from drugradar.search import members
from drugradar.store.schema import event, event_concern
from drugradar.store.sync import chunks
from drugradar.track import concerns
from drugradar.track.store import save


@dataclass(slots=True)
class SettleReport:
    events: int = 0
    search_events: int = 0
    deliveries: int = 0


def settle(engine: Engine, attached: Sequence[int] = ()) -> SettleReport:
    """``attached``: events whose concerns the load resolved already (``concerns.attach_pending``
    in its own transaction), settled with those still pending."""
    report = SettleReport()
    ids = sorted({*attached, *concerns.attach(engine)})
    report.events = len(ids)
    if not ids:
        return report
    with engine.begin() as conn:
        drugs: set[str] = set()
        ec = event_concern.c
        for batch in chunks(ids, 1000):
            drugs.update(
                conn.execute(
                    select(ec.ref).where(ec.event_id.in_(batch), ec.kind == "drug").distinct()
                ).scalars()
            )
        last = conn.execute(
            select(func.max(event.c.release_id), func.max(event.c.as_of)).where(
                event.c.id.in_(ids[-1000:])
            )
        ).one()
        if drugs and last[0] is not None:
            drafts = members.changes(conn, drugs, int(last[0]), last[1])
            if drafts:
                save(conn, drafts)
                report.search_events = len(drafts)
    if report.search_events:
        ids += concerns.attach(engine)
    with engine.begin() as conn:
        report.deliveries = match(conn, ids).deliveries
    return report
