"""Saved searches as subscriptions: their result sets, and the drugs entering or leaving them.

The members are stored when the subscription is made; after a load, only the drugs whose facts
changed (those its events concern) are evaluated again, so a saved search costs nothing when
nothing it could see changed.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date

import orjson
from sqlalchemy import Connection, delete, insert, select

from drugradar.model.event import Change, Materiality
from drugradar.search.query import SearchQuery, drug_ids
from drugradar.store.schema import drug, search_member, subscription
from drugradar.store.sync import chunks
from drugradar.track.store import Sighting

FAMILY = "query_result"


def remember(conn: Connection, subscription_id: int, q: SearchQuery) -> int:
    ids = list(conn.execute(drug_ids(q)).scalars())
    for batch in chunks(ids):
        conn.execute(
            insert(search_member),
            [{"subscription_id": subscription_id, "drug_id": i} for i in batch],
        )
    return len(ids)


def changes(
    conn: Connection, drugs: Iterable[str], release_id: int, as_of: date
) -> list[tuple[Change, Sighting]]:
    """``entered``/``left`` drafts for every live saved search, over ``drugs`` only; the stored
    members are brought up to date."""
    candidates = sorted(set(drugs))
    if not candidates:
        return []
    s = subscription.c
    searches = conn.execute(
        select(s.id, s.search, s.name).where(s.search.is_not(None), s.deleted.is_(False))
    ).all()
    out: list[tuple[Change, Sighting]] = []
    rows = conn.execute(select(drug.c.id, drug.c.preferred_name).where(drug.c.id.in_(candidates)))
    names: dict[str, str] = {r.id: r.preferred_name for r in rows}
    for sub in searches:
        q = SearchQuery.from_dict(orjson.loads(sub.search))
        now: set[str] = set()
        before: set[str] = set()
        sm = search_member.c
        for batch in chunks(candidates, 500):
            now |= set(conn.execute(drug_ids(q).where(drug.c.id.in_(batch))).scalars())
            before |= set(
                conn.execute(
                    select(sm.drug_id).where(sm.subscription_id == sub.id, sm.drug_id.in_(batch))
                ).scalars()
            )
        for did, type_ in [(d, "entered") for d in now - before] + [
            (d, "left") for d in before - now
        ]:
            label = names.get(did, did)
            verb = "now matches" if type_ == "entered" else "no longer matches"
            change = Change(
                FAMILY,
                type_,
                "search",
                f"{sub.id}:{did}",
                f"{label} {verb} the saved search {sub.name!r}",
                field="member",
                new=type_ == "entered",
                old=type_ != "entered",
                materiality=Materiality.MEDIUM,
                concerns=[("drug", did), ("search", str(sub.id))],
            )
            out.append((change, Sighting("search", str(sub.id), release_id, as_of)))
        entered, left = now - before, before - now
        if left:
            conn.execute(
                delete(search_member).where(
                    sm.subscription_id == sub.id, sm.drug_id.in_(sorted(left))
                )
            )
        if entered:
            conn.execute(
                insert(search_member),
                [{"subscription_id": sub.id, "drug_id": d} for d in sorted(entered)],
            )
    return out
