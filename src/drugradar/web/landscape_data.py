"""Landscapes: the drugs of a target, a disease (its child terms included) or an organization
(its subsidiaries included), each at its highest phase there, counted by phase for the chart.

For a disease or an organization the phase is the drug's highest on that disease or in that
organization's programs; for a target it is the drug's highest anywhere. By default only live
programs count (active, suspended), as for a drug's highest phase; ``all`` counts every row.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Engine, and_, exists, or_, select

from drugradar.model.devstatus import INACTIVE, RANK, Phase
from drugradar.resolve.orgs import org_key
from drugradar.store.schema import dev_status, disease, disease_ancestor, drug, drug_target, target
from drugradar.web.format import phase_label
from drugradar.web.phase_sql import phase_of_rank

KINDS = ("target", "disease", "organization")
CHART_PHASES = [p for p in Phase if p is not Phase.UNKNOWN]


@dataclass(slots=True)
class LandscapeRow:
    drug_id: str
    name: str
    modality: str
    phase: str | None
    organizations: list[str] = field(default_factory=list)
    indications: list[str] = field(default_factory=list)


@dataclass(slots=True)
class Landscape:
    kind: str
    ref: str
    title: str
    rows: list[LandscapeRow]
    chart: dict[str, Any]
    modalities: list[str]
    countries: list[str]


def _title(engine: Engine, kind: str, ref: str) -> tuple[str, str] | None:
    """The canonical ref and its display name, or None when nothing by that name is known."""
    with engine.connect() as conn:
        if kind == "target":
            t = target.c
            sym = ref.strip().upper()
            row = conn.execute(
                select(t.gene_symbol, t.name).where(t.gene_symbol == sym).limit(1)
            ).first()
            return (sym, f"{sym} ({row.name})" if row.name else sym) if row else None
        if kind == "disease":
            row = conn.execute(
                select(disease.c.id, disease.c.name).where(disease.c.id == ref)
            ).first()
            return (row.id, row.name) if row else None
        ds = dev_status.c
        key = org_key(ref)
        row = conn.execute(
            select(ds.org_parent_key, ds.org_parent_name, ds.org_key, ds.org_name)
            .where(or_(ds.org_key == key, ds.org_parent_key == key))
            .limit(1)
        ).first()
        if row is None:
            return None
        return (key, row.org_parent_name if row.org_parent_key == key else row.org_name)


def _row_scope(kind: str, ref: str) -> Any:
    """The status rows that count for this landscape (none for a target: all of its drugs')."""
    ds = dev_status.c
    if kind == "disease":
        da = disease_ancestor.c
        return or_(
            ds.disease_id == ref,
            exists().where(and_(da.disease_id == ds.disease_id, da.ancestor_id == ref)),
        )
    if kind == "organization":
        return or_(ds.org_key == ref, ds.org_parent_key == ref)
    return None


def landscape(
    engine: Engine,
    kind: str,
    ref: str,
    *,
    modality: str | None = None,
    country: str | None = None,
    include_inactive: bool = False,
) -> Landscape | None:
    found = _title(engine, kind, ref)
    if found is None:
        return None
    ref, title = found
    ds, d = dev_status.c, drug.c
    conds: list[Any] = []
    scope = _row_scope(kind, ref)
    if scope is not None:
        conds.append(scope)
    if not include_inactive:
        conds.append(ds.activity.not_in([a.value for a in INACTIVE]))
    if country:
        conds.append(ds.country == country)
    rows_q = select(ds.drug_id, ds.phase, ds.org_parent_name, ds.indication_name, ds.country)
    if kind == "target":
        dt, t = drug_target.c, target.c
        in_target = (
            select(dt.drug_id).join(target, t.id == dt.target_id).where(t.gene_symbol == ref)
        )
        conds.append(ds.drug_id.in_(in_target))
        drugs_q = select(d.id, d.preferred_name, d.modality).where(
            d.id.in_(in_target), d.retired.is_(False)
        )
    else:
        drugs_q = select(d.id, d.preferred_name, d.modality).where(
            d.id.in_(select(ds.drug_id).where(*conds)), d.retired.is_(False)
        )
    if modality:
        drugs_q = drugs_q.where(d.modality == modality)
    with engine.connect() as conn:
        drugs = {r.id: r for r in conn.execute(drugs_q)}
        status = (
            conn.execute(rows_q.where(*conds, ds.drug_id.in_(list(drugs)))).all() if drugs else []
        )
        countries = (
            sorted(
                c
                for (c,) in conn.execute(
                    select(ds.country)
                    .where(*(c for c in [scope] if c is not None), ds.country != "")
                    .distinct()
                )
            )
            if kind != "target"
            else []
        )
    best: dict[str, int] = {}
    orgs: dict[str, list[str]] = {}
    inds: dict[str, list[str]] = {}
    for r in status:
        rank = RANK.get(Phase(r.phase), -1) if r.phase in Phase.__members__ else -1
        best[r.drug_id] = max(best.get(r.drug_id, -1), rank)
        if r.org_parent_name and r.org_parent_name not in orgs.setdefault(r.drug_id, []):
            orgs[r.drug_id].append(r.org_parent_name)
        if r.indication_name and r.indication_name not in inds.setdefault(r.drug_id, []):
            inds[r.drug_id].append(r.indication_name)
    if kind != "target" or country:
        drugs = {k: v for k, v in drugs.items() if k in best}
    out = [
        LandscapeRow(
            did,
            r.preferred_name,
            r.modality,
            phase_of_rank(best[did]) if did in best and best[did] >= 0 else None,
            sorted(orgs.get(did, []))[:5],
            sorted(inds.get(did, []))[:5],
        )
        for did, r in drugs.items()
    ]
    out.sort(key=lambda x: (-RANK[Phase(x.phase)] if x.phase else 1, x.name.lower()))
    counts: dict[Phase, int] = {p: 0 for p in CHART_PHASES}
    no_phase = 0
    for row in out:
        if row.phase and Phase(row.phase) in counts:
            counts[Phase(row.phase)] += 1
        else:
            no_phase += 1
    shown = [p for p in CHART_PHASES if counts[p]] or [Phase.PHASE_1, Phase.PHASE_2, Phase.PHASE_3]
    chart = {
        "labels": [phase_label(p.value) for p in shown],
        "phases": [p.value for p in shown],
        "counts": [counts[p] for p in shown],
        "no_phase": no_phase,
        "title": title,
    }
    modalities = sorted({r.modality for r in drugs.values()})
    return Landscape(kind, ref, title, out, chart, modalities, countries)
