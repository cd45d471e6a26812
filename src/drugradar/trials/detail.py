"""A trial with everything linked to it, as the API shows it: its interventions with the drugs
they link to, conditions, parties, countries and events."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from sqlalchemy import Engine, select

from drugradar.store.schema import (
    drug,
    trial,
    trial_condition,
    trial_country,
    trial_drug,
    trial_intervention,
    trial_party,
)
from drugradar.track.query import EventFilter, as_dict, list_events

Row = dict[str, Any]


def trial_detail(engine: Engine, nct: str) -> Row | None:
    """A trial as stored, its interventions with the drugs they link to, conditions, parties,
    countries and its events."""
    nct = nct.strip().upper()
    with engine.connect() as conn:
        row = conn.execute(select(trial).where(trial.c.nct_id == nct)).first()
        if row is None:
            return None
        ti, td, tc, tp = (
            trial_intervention.c,
            trial_drug.c,
            trial_condition.c,
            trial_party.c,
        )
        links: dict[int, list[Row]] = defaultdict(list)
        for r in conn.execute(
            select(td.position, td.drug_id, drug.c.preferred_name, td.role, td.matched_alias)
            .join(drug, drug.c.id == td.drug_id)
            .where(td.nct_id == nct)
            .order_by(td.position, td.drug_id)
        ):
            links[r.position].append(
                {
                    "drug_id": r.drug_id,
                    "preferred_name": r.preferred_name,
                    "role": r.role,
                    "matched_alias": r.matched_alias,
                }
            )
        interventions = [
            {
                "type": r.type,
                "name": r.name,
                "role": r.role,
                "drugs": links.get(r.position, []),
            }
            for r in conn.execute(
                select(ti.position, ti.type, ti.name, ti.role)
                .where(ti.nct_id == nct)
                .order_by(ti.position)
            )
        ]
        conditions = [
            {"kind": r.kind, "term": r.term, "disease_id": r.disease_id}
            for r in conn.execute(
                select(tc.kind, tc.term, tc.disease_id)
                .where(tc.nct_id == nct, tc.kind.in_(("condition", "mesh")))
                .order_by(tc.kind, tc.term)
            )
        ]
        parties = [
            {"role": r.role, "name": r.name, "class": r.cls, "parent": r.parent_name}
            for r in conn.execute(
                select(tp.role, tp.name, tp.cls, tp.parent_name)
                .where(tp.nct_id == nct)
                .order_by(tp.role.desc(), tp.name)
            )
        ]
        countries = list(
            conn.execute(
                select(trial_country.c.country)
                .where(trial_country.c.nct_id == nct)
                .order_by(trial_country.c.country)
            ).scalars()
        )
    events = list_events(engine, EventFilter(entity=("trial", nct), limit=200))
    return {
        **dict(row._mapping),
        "url": f"https://clinicaltrials.gov/study/{nct}",
        "interventions": interventions,
        "conditions": conditions,
        "parties": parties,
        "countries": countries,
        "events": [as_dict(e) for e in events],
    }
