"""Landscapes: the drugs of a target, a disease (its child terms included) or an organization
(its subsidiaries included), each at the highest phase it reached there; an organization's
pipeline. Plain functions over the engine for the API and the pages; ``None`` means "no such
thing".

A drug's phase in a landscape is the highest of its live (active or suspended) status rows in
scope, with the highest ever beside it; for a target the scope is every row of its drugs. Drugs
with no row in scope sort last.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Engine, and_, exists, or_, select

from drugradar.resolve.normalize import norm_key
from drugradar.resolve.orgs import org_key
from drugradar.search.phases import LIVE, rank, top_phase
from drugradar.store.schema import (
    dev_status,
    disease,
    disease_ancestor,
    disease_synonym,
    drug,
    drug_target,
    target,
)

KINDS = ("target", "disease", "organization")
SHOWN = 5  # organizations and indications listed per drug


@dataclass(slots=True)
class LandscapeRow:
    drug_id: str
    name: str
    modality: str
    phase: str | None  # highest over live rows in scope
    phase_ever: str | None  # highest over every row in scope
    organizations: list[str] = field(default_factory=list)
    indications: list[str] = field(default_factory=list)
    action_types: list[str] = field(default_factory=list)  # on the target (targets only)


@dataclass(slots=True)
class Landscape:
    kind: str
    ref: str  # canonical: gene symbol, MeSH id, organization key
    title: str
    subject: dict[str, Any]  # what the landscape is of, as the API shows it
    rows: list[LandscapeRow]


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


def _target(engine: Engine, ref: str) -> tuple[str, str, dict[str, Any]] | None:
    sym = ref.strip().upper()
    t = target.c
    with engine.connect() as conn:
        found = conn.execute(
            select(t.name, t.uniprot, t.organism).where(t.gene_symbol == sym).order_by(t.id)
        ).all()
    if not found:
        return None
    names = sorted({f.name for f in found if f.name})
    subject = {
        "gene_symbol": sym,
        "names": names,
        "uniprot": sorted({f.uniprot for f in found if f.uniprot}),
        "organisms": sorted({f.organism for f in found if f.organism}),
    }
    return sym, f"{sym} ({names[0]})" if names else sym, subject


def _disease(engine: Engine, ref: str) -> tuple[str, str, dict[str, Any]] | None:
    found = find_disease(engine, ref)
    if found is None:
        return None
    did, name = found
    da, dz = disease_ancestor.c, disease.c
    with engine.connect() as conn:
        children = conn.execute(
            select(dz.id, dz.name)
            .join(disease_ancestor, da.disease_id == dz.id)
            .where(da.ancestor_id == did, da.disease_id != did)
            .order_by(dz.name)
        ).all()
    subject = {
        "id": did,
        "name": name,
        "children": [{"id": c.id, "name": c.name} for c in children],
    }
    return did, name, subject


def _organization(engine: Engine, ref: str) -> tuple[str, str, dict[str, Any]] | None:
    key = org_key(ref)
    if not key:
        return None
    ds = dev_status.c
    with engine.connect() as conn:
        names = conn.execute(
            select(ds.org_key, ds.org_name, ds.org_parent_name)
            .where(or_(ds.org_key == key, ds.org_parent_key == key))
            .distinct()
        ).all()
    if not names:
        return None
    own = sorted(r.org_name for r in names if r.org_key == key)
    label = own[0] if own else min(r.org_parent_name for r in names)
    subsidiaries = sorted({r.org_name for r in names if r.org_key != key})
    return key, label, {"key": key, "name": label, "subsidiaries": subsidiaries}


def scope(kind: str, ref: str) -> Any:
    """The status rows of a disease or an organization landscape (canonical ``ref``)."""
    ds = dev_status.c
    if kind == "disease":
        da = disease_ancestor.c
        return or_(
            ds.disease_id == ref,
            exists().where(and_(da.disease_id == ds.disease_id, da.ancestor_id == ref)),
        )
    if kind == "organization":
        return or_(ds.org_key == ref, ds.org_parent_key == ref)
    raise ValueError(f"A landscape is of a target, a disease or an organization, not {kind!r}.")


def landscape(
    engine: Engine,
    kind: str,
    ref: str,
    *,
    modality: str | None = None,
    country: str | None = None,
    include_inactive: bool = True,
) -> Landscape | None:
    """The landscape of ``ref`` (a gene symbol; a MeSH id or name; an organization's name or
    key). ``country`` keeps drugs with a row there (and reads only those rows);
    ``include_inactive=False`` drops drugs whose every program in scope is inactive."""
    finders = {"target": _target, "disease": _disease, "organization": _organization}
    if kind not in finders:
        return None
    found = finders[kind](engine, ref)
    if found is None:
        return None
    ref, title, subject = found
    ds, d, dt, t = dev_status.c, drug.c, drug_target.c, target.c
    actions: dict[str, set[str]] = defaultdict(set)
    conds: list[Any] = []
    if kind == "target":
        in_target = (
            select(dt.drug_id).join(target, t.id == dt.target_id).where(t.gene_symbol == ref)
        )
        conds.append(ds.drug_id.in_(in_target))
    else:
        conds.append(scope(kind, ref))
    if country:
        conds.append(ds.country == country)
    members = in_target if kind == "target" and not country else select(ds.drug_id).where(*conds)
    drugs_q = select(d.id, d.preferred_name, d.modality).where(
        d.id.in_(members), d.retired.is_(False)
    )
    if modality:
        drugs_q = drugs_q.where(d.modality == modality)
    status_q = select(
        ds.drug_id, ds.phase, ds.activity, ds.org_parent_name, ds.indication_name
    ).where(*conds)
    with engine.connect() as conn:
        drugs = {r.id: r for r in conn.execute(drugs_q)}
        status = conn.execute(status_q).all() if drugs else []
        if kind == "target" and drugs:
            for r in conn.execute(
                select(dt.drug_id, dt.action_type)
                .join(target, t.id == dt.target_id)
                .where(t.gene_symbol == ref, dt.action_type.is_not(None))
            ):
                actions[r.drug_id].add(r.action_type)
    rows = _rows(drugs, status, actions)
    if not include_inactive:
        rows = [r for r in rows if r.phase is not None or r.phase_ever is None]
    return Landscape(kind, ref, title, subject, ranked(rows))


def _rows(
    drugs: dict[str, Any], status: Iterable[Any], actions: dict[str, set[str]]
) -> list[LandscapeRow]:
    per: dict[str, list[Any]] = defaultdict(list)
    for r in status:
        if r.drug_id in drugs:
            per[r.drug_id].append(r)
    out = []
    for did, dr in drugs.items():
        rs = per.get(did, [])
        out.append(
            LandscapeRow(
                did,
                dr.preferred_name,
                dr.modality,
                top_phase([r.phase for r in rs if r.activity in LIVE]),
                top_phase([r.phase for r in rs]),
                sorted({r.org_parent_name for r in rs if r.org_parent_name})[:SHOWN],
                sorted({r.indication_name for r in rs if r.indication_name})[:SHOWN],
                sorted(actions.get(did, ())),
            )
        )
    return out


def ranked(rows: Iterable[LandscapeRow], *, ever: bool = False) -> list[LandscapeRow]:
    """Most advanced first (live phase, or ``ever``), then by name."""
    return sorted(
        rows,
        key=lambda r: (-rank(r.phase_ever if ever else r.phase), r.name.lower(), r.drug_id),
    )


def by_phase(rows: Iterable[LandscapeRow], *, ever: bool = False) -> list[tuple[str | None, int]]:
    """How many drugs stand at each phase, most advanced first (None: no phase)."""
    counts: dict[str | None, int] = defaultdict(int)
    for r in rows:
        counts[r.phase_ever if ever else r.phase] += 1
    return sorted(counts.items(), key=lambda kv: -rank(kv[0]))


def countries(engine: Engine, kind: str, ref: str) -> list[str]:
    """The countries of a disease's or an organization's status rows (canonical ``ref``)."""
    if kind == "target":
        return []
    ds = dev_status.c
    with engine.connect() as conn:
        return sorted(
            conn.execute(
                select(ds.country).where(scope(kind, ref), ds.country != "").distinct()
            ).scalars()
        )


def pipeline(engine: Engine, key: str) -> list[dict[str, Any]]:
    """An organization's (and its subsidiaries') programs: per drug and indication, the
    furthest phase with its activity, countries and organizations; most advanced first."""
    ds, d = dev_status.c, drug.c
    with engine.connect() as conn:
        rows = conn.execute(
            select(dev_status, d.preferred_name)
            .join(drug, d.id == ds.drug_id)
            .where(scope("organization", key), d.retired.is_(False))
        ).all()
    grouped: dict[tuple[str, str], list[Any]] = defaultdict(list)
    for r in rows:
        grouped[(r.drug_id, r.indication_key)].append(r)
    out = []
    for (drug_id, _), rs in grouped.items():
        live = [r for r in rs if r.activity in LIVE]
        best = max(live or rs, key=lambda r: (rank(r.phase), str(r.activity_since or "")))
        out.append(
            {
                "drug_id": drug_id,
                "preferred_name": best.preferred_name,
                "indication": best.indication_name,
                "disease_id": best.disease_id,
                "phase": best.phase,
                "activity": best.activity,
                "since": best.activity_since,
                "countries": sorted({r.country for r in rs if r.country}),
                "organizations": sorted({r.org_name for r in rs}),
            }
        )
    out.sort(key=lambda p: (-rank(p["phase"]), p["preferred_name"].lower(), p["indication"]))
    return out
