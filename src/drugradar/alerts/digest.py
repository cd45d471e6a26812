"""A digest: a user's new events for one subscription and channel, grouped by drug, then by
family, highest materiality first, each with from -> to, dates and source links; rendered as
plain text, HTML (every source text escaped) and a JSON payload for webhooks."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from functools import cache
from typing import Any

from jinja2 import Environment, PackageLoader, select_autoescape
from sqlalchemy import Engine, select

from drugradar.alerts.channels import RenderedDigest
from drugradar.model.event import MATERIALITY_RANK, Event
from drugradar.model.subscription import Subscription
from drugradar.store.schema import drug
from drugradar.track.query import as_dict

OTHER = "Other changes"


@dataclass(slots=True)
class DigestGroup:
    """One drug's events, by family."""

    drug_id: str | None
    drug_name: str
    families: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    top: int = 0  # the highest materiality rank in the group (orders the groups)


@cache
def _env() -> Environment:
    """One environment per process: templates are compiled once, not per digest."""
    return Environment(
        loader=PackageLoader("drugradar.alerts", "templates"),
        autoescape=select_autoescape(enabled_extensions=("html", "html.j2"), default=False),
        trim_blocks=True,
        lstrip_blocks=True,
    )


def group(engine: Engine, events: list[Event]) -> list[DigestGroup]:
    """Events by drug (an event about several drugs is listed once, under the first by name),
    then by family; groups and items by materiality, highest first, then newest."""
    drug_ids = sorted({ref for ev in events for k, ref in ev.concerns if k == "drug"})
    names: dict[str, str] = {}
    with engine.connect() as conn:
        rows = conn.execute(select(drug.c.id, drug.c.preferred_name).where(drug.c.id.in_(drug_ids)))
        names.update((r.id, r.preferred_name) for r in rows)
    groups: dict[str | None, DigestGroup] = {}
    for ev in events:
        mine = sorted((names.get(ref, ref), ref) for k, ref in ev.concerns if k == "drug")
        key = mine[0][1] if mine else None
        g = groups.setdefault(key, DigestGroup(key, mine[0][0] if mine else OTHER))
        g.families.setdefault(ev.family, []).append(as_dict(ev))
        g.top = max(g.top, MATERIALITY_RANK[ev.materiality])
    for g in groups.values():
        for items in g.families.values():
            items.sort(key=lambda d: (-_rank(d), d["as_of"]))
        ordered = sorted(g.families.items(), key=lambda kv: -max(_rank(d) for d in kv[1]))
        g.families = dict(ordered)
    return sorted(
        groups.values(), key=lambda g: (-g.top, g.drug_id is None, g.drug_name.casefold())
    )


def _rank(item: dict[str, Any]) -> int:
    return MATERIALITY_RANK_BY_NAME[item["materiality"]]


MATERIALITY_RANK_BY_NAME = {m.value: r for m, r in MATERIALITY_RANK.items()}


def render(
    engine: Engine,
    sub: Subscription,
    events: list[Event],
    *,
    digest_id: int,
    period_end: datetime,
    idempotency_key: str,
    unsubscribe_url: str | None,
    base_url: str = "",
) -> RenderedDigest:
    groups = group(engine, events)
    n = len(events)
    subject = (
        f"drugradar: {n} change{'s' if n != 1 else ''} for {sub.name}"
        if n
        else f"drugradar: nothing new for {sub.name}"
    )
    env = _env()
    context = {
        "subscription": sub,
        "groups": groups,
        "count": n,
        "period_end": period_end,
        "unsubscribe_url": unsubscribe_url,
        "base_url": base_url,
    }
    payload = {
        "digest_id": digest_id,
        "idempotency_key": idempotency_key,
        "subscription": {"id": sub.id, "name": sub.name},
        "period_end": period_end.isoformat(),
        "items": [item for g in groups for items in g.families.values() for item in items],
    }
    return RenderedDigest(
        subject=subject,
        text=env.get_template("digest.txt.j2").render(context),
        html=env.get_template("digest.html.j2").render(context),
        payload=payload,
        idempotency_key=idempotency_key,
        unsubscribe_url=unsubscribe_url,
    )
