"""Landscapes: the drugs of a target, a disease or an organization by the phase they reached,
and a trial with everything linked to it. Plain functions over the engine (the pages use them
too); ``None`` means "no such thing".

A drug's phase in a landscape is the highest of its active or suspended status rows in that
scope (for a disease: the disease and its child terms; for an organization: itself and its
subsidiaries), with the highest ever beside it; drugs with no row in scope sort last.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from typing import Any

from sqlalchemy import Engine, and_, exists, or_, select

from drugradar.api.drug_search import LIVE, top_phase
from drugradar.model.devstatus import RANK, Phase
from drugradar.resolve.normalize import norm_key
from drugradar.resolve.orgs import org_key
from drugradar.store.schema import (
    dev_status,
    disease,
    disease_ancestor,
    disease_synonym,
    drug,
    drug_target,
    target,
    trial,
    trial_condition,
    trial_country,
    trial_drug,
    trial_intervention,
    trial_party,
)
from drugradar.track.query import EventFilter, as_dict, list_events

Row = dict[str, Any]


def _rank(phase: str | None) -> int:
    return RANK[Phase(phase)] if phase else -1


def by_phase(drugs: list[Row]) -> list[Row]:
    """How many drugs stand at each phase, most advanced first (None: no status row)."""
    counts: dict[str | None, int] = defaultdict(int)
    for d in drugs:
        counts[d["highest_phase"]] += 1
    order = sorted(counts, key=lambda p: -_rank(p))
    return [{"phase": p, "drugs": counts[p]} for p in order]


def _drug_rows(engine: Engine, ids: Iterable[str], status_where: Any = None) -> list[Row]:
    """The drugs ``ids`` with their highest phase over the status rows ``status_where`` picks,
    most advanced first, then by name."""
    wanted = sorted(set(ids))
    if not wanted:
        return []
    d, ds = drug.c, dev_status.c
    phases: dict[str, list[tuple[str, str]]] = defaultdict(list)
    names: dict[str, Any] = {}
    with engine.connect() as conn:
        for i in range(0, len(wanted), 500):
            batch = wanted[i : i + 500]
            for r in conn.execute(
                select(d.id, d.preferred_name, d.modality).where(
                    d.id.in_(batch), d.retired.is_(False)
                )
            ):
                names[r.id] = r
            stmt = select(ds.drug_id, ds.phase, ds.activity).where(ds.drug_id.in_(batch))
            if status_where is not None:
                stmt = stmt.where(status_where)
            for r in conn.execute(stmt):
                phases[r.drug_id].append((r.phase, r.activity))
    out = []
    for did, r in names.items():
        ps = phases.get(did, [])
        out.append(
            {
                "id": did,
                "preferred_name": r.preferred_name,
                "modality": r.modality,
                "highest_phase": top_phase([p for p, a in ps if a in LIVE]),
                "highest_phase_ever": top_phase([p for p, _ in ps]),
            }
        )
    out.sort(key=lambda x: (-_rank(x["highest_phase"]), x["preferred_name"].lower(), x["id"]))
    return out


def target_landscape(engine: Engine, symbol: str) -> Row | None:
    s = symbol.strip().upper()
    t, dt = target.c, drug_target.c
    with engine.connect() as conn:
        found = conn.execute(
            select(t.id, t.gene_symbol, t.name, t.uniprot, t.organism)
            .where(t.gene_symbol == s)
            .order_by(t.id)
        ).all()
        if not found:
            return None
        actions: dict[str, set[str]] = defaultdict(set)
        for r in conn.execute(
            select(dt.drug_id, dt.action_type).where(dt.target_id.in_([f.id for f in found]))
        ):
            actions[r.drug_id].update([r.action_type] if r.action_type else [])
    drugs = _drug_rows(engine, actions)
    for row in drugs:
        row["action_types"] = sorted(actions[row["id"]])
    return {
        "target": {
            "gene_symbol": s,
            "names": sorted({f.name for f in found if f.name}),
            "uniprot": sorted({f.uniprot for f in found if f.uniprot}),
            "organisms": sorted({f.organism for f in found if f.organism}),
        },
        "by_phase": by_phase(drugs),
        "drugs": drugs,
    }


def find_disease(engine: Engine, ident: str) -> tuple[str, str] | None:
    """A disease by MeSH id, else by any of its names: ``(id, name)``."""
    text = ident.strip()
    dz, ds = disease.c, disease_synonym.c
    with engine.connect() as conn:
        row = conn.execute(select(dz.id, dz.name).where(dz.id == text)).first()
        if row is None and norm_key(text):
            row = conn.execute(
                select(dz.id, dz.name)
                .join(disease_synonym, ds.disease_id == dz.id)
                .where(ds.norm_key == norm_key(text))
                .order_by(dz.id)
            ).first()
    return (row.id, row.name) if row is not None else None


def disease_landscape(engine: Engine, ident: str) -> Row | None:
    found = find_disease(engine, ident)
    if found is None:
        return None
    did, name = found
    ds, da = dev_status.c, disease_ancestor.c
    in_scope = or_(
        ds.disease_id == did,
        exists().where(and_(da.disease_id == ds.disease_id, da.ancestor_id == did)),
    )
    with engine.connect() as conn:
        ids = list(conn.execute(select(ds.drug_id).where(in_scope).distinct()).scalars())
        children = conn.execute(
            select(disease.c.id, disease.c.name)
            .join(disease_ancestor, da.disease_id == disease.c.id)
            .where(da.ancestor_id == did, da.disease_id != did)
            .order_by(disease.c.name)
        ).all()
    drugs = _drug_rows(engine, ids, in_scope)
    return {
        "disease": {
            "id": did,
            "name": name,
            "children": [{"id": c.id, "name": c.name} for c in children],
        },
        "by_phase": by_phase(drugs),
        "drugs": drugs,
    }


def organization_landscape(engine: Engine, ident: str) -> Row | None:
    """The pipeline of an organization (by name or normalized key) and its subsidiaries: per
    drug and indication, the furthest phase with its activity, countries and organizations."""
    key = org_key(ident)
    if not key:
        return None
    ds = dev_status.c
    in_scope = or_(ds.org_key == key, ds.org_parent_key == key)
    with engine.connect() as conn:
        rows = conn.execute(select(dev_status).where(in_scope)).all()
    if not rows:
        return None
    grouped: dict[tuple[str, str], list[Any]] = defaultdict(list)
    for r in rows:
        grouped[(r.drug_id, r.indication_key)].append(r)
    drugs = _drug_rows(engine, {r.drug_id for r in rows}, in_scope)
    names = {d["id"]: d["preferred_name"] for d in drugs}
    pipeline = []
    for (drug_id, _), rs in grouped.items():
        live = [r for r in rs if r.activity in LIVE]
        best = max(live or rs, key=lambda r: (_rank(r.phase), str(r.activity_since or "")))
        pipeline.append(
            {
                "drug_id": drug_id,
                "preferred_name": names.get(drug_id, drug_id),
                "indication": best.indication_name,
                "disease_id": best.disease_id,
                "phase": best.phase,
                "activity": best.activity,
                "since": best.activity_since,
                "countries": sorted({r.country for r in rs if r.country}),
                "organizations": sorted({r.org_name for r in rs}),
            }
        )
    pipeline.sort(key=lambda p: (-_rank(p["phase"]), p["preferred_name"].lower(), p["indication"]))
    own = [r for r in rows if r.org_key == key]
    label = own[0].org_name if own else rows[0].org_parent_name
    subsidiaries = sorted({r.org_name for r in rows if r.org_key != key})
    return {
        "organization": {"key": key, "name": label, "subsidiaries": subsidiaries},
        "by_phase": by_phase(drugs),
        "drugs": drugs,
        "pipeline": pipeline,
    }


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
