"""The search page's data: the drugs a ``SearchQuery`` finds (plus the resolver's typo-tolerant
matches of the text), sorted and paged in SQL, with facet counts over the whole result set.

Facets count drugs: "Phase 2 or later" counts drugs with a status row that reached at least
Phase 2, which is what choosing it (``phase=PHASE_2``) filters on.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

from sqlalchemy import Engine, case, func, select, union

from drugradar.model.devstatus import RANK, Phase
from drugradar.resolve import Resolver, norm_key
from drugradar.search.query import SearchQuery, drug_ids
from drugradar.store.schema import dev_status, drug, drug_target, synonym, target
from drugradar.web.format import phase_label
from drugradar.web.phase_sql import LADDER, highest_phase_query, phase_of_rank, rank_of

PAGE_SIZE = 50
SORTS = ("relevance", "name", "phase", "modality")
TOP = 12


@dataclass(frozen=True, slots=True)
class FacetValue:
    value: str
    label: str
    count: int


@dataclass(slots=True)
class ResultRow:
    drug_id: str
    name: str
    modality: str
    phase: str | None
    alias: str | None = None  # the name that matched the text, when not the preferred name
    organizations: list[str] = field(default_factory=list)


@dataclass(slots=True)
class Results:
    rows: list[ResultRow]
    total: int
    page: int
    pages: int
    facets: dict[str, list[FacetValue]]


def _ids(engine: Engine, q: SearchQuery, resolver: Resolver) -> tuple[Any, list[str]]:
    """The result ids as a subquery, and the resolver's matches (ranked first)."""
    if not q.text:
        return drug_ids(q).subquery(), []
    matched = [m.drug_id for m in resolver.resolve(q.text).matches]
    stmt = drug_ids(q)
    if matched:
        stmt = union(stmt, drug_ids(replace(q, text=None)).where(drug.c.id.in_(matched)))  # type: ignore[assignment]
    return stmt.subquery(), matched


def search(
    engine: Engine, q: SearchQuery, resolver: Resolver, *, sort: str = "relevance", page: int = 1
) -> Results:
    ids, matched = _ids(engine, q, resolver)
    d = drug.c
    hp = highest_phase_query().subquery()
    order: list[Any] = []
    if sort == "phase":
        order = [case((hp.c.rank.is_(None), 1), else_=0), hp.c.rank.desc()]
    elif sort == "modality":
        order = [d.modality]
    elif sort == "relevance" and matched:
        order = [case((d.id.in_(matched), 0), else_=1)]
    order += [func.lower(d.preferred_name), d.id]
    with engine.connect() as conn:
        total = int(conn.execute(select(func.count()).select_from(ids)).scalar() or 0)
        pages = max(1, -(-total // PAGE_SIZE))
        page = min(max(1, page), pages)
        rows = conn.execute(
            select(d.id, d.preferred_name, d.modality, hp.c.rank)
            .select_from(drug.outerjoin(hp, hp.c.drug_id == d.id))
            .where(d.id.in_(select(ids.c.id)))
            .order_by(*order)
            .limit(PAGE_SIZE)
            .offset((page - 1) * PAGE_SIZE)
        ).all()
        out = [ResultRow(r.id, r.preferred_name, r.modality, phase_of_rank(r.rank)) for r in rows]
        _decorate(conn, out, q)
        facets = _facets(conn, ids)
    return Results(out, total, page, pages, facets)


def _decorate(conn: Any, rows: list[ResultRow], q: SearchQuery) -> None:
    """The page's rows: which alias matched the text, the main organizations."""
    by_id = {r.drug_id: r for r in rows}
    if not by_id:
        return
    ds = dev_status.c
    orgs = conn.execute(
        select(ds.drug_id, ds.org_parent_name, func.max(rank_of(ds.phase)).label("rank"))
        .where(ds.drug_id.in_(list(by_id)))
        .group_by(ds.drug_id, ds.org_parent_name)
        .order_by(ds.drug_id, func.max(rank_of(ds.phase)).desc(), ds.org_parent_name)
    ).all()
    for r in orgs:
        row = by_id[r.drug_id]
        if r.org_parent_name and len(row.organizations) < 3:
            row.organizations.append(r.org_parent_name)
    key = norm_key(q.text or "")
    if not key:
        return
    s = synonym.c
    hits = conn.execute(
        select(s.drug_id, s.name, s.norm_key)
        .where(s.drug_id.in_(list(by_id)), s.norm_key.like(f"%{key}%"))
        .order_by(s.drug_id, func.length(s.norm_key), s.name)
    ).all()
    for h in hits:  # the preferred name says it already, unless another alias is exact
        row = by_id[h.drug_id]
        own = norm_key(row.name)
        exact = h.norm_key == key and own != key
        if exact or (row.alias is None and key not in own):
            row.alias = h.name


def _facets(conn: Any, ids: Any) -> dict[str, list[FacetValue]]:
    ds, d, dt, t = dev_status.c, drug.c, drug_target.c, target.c
    in_ids = select(ids.c.id)
    ranks = (
        select(ds.drug_id, func.max(rank_of(ds.phase)).label("rank"))
        .where(ds.drug_id.in_(in_ids), ds.phase != Phase.UNKNOWN.value)
        .group_by(ds.drug_id)
        .subquery()
    )
    per_rank = dict(
        conn.execute(select(ranks.c.rank, func.count()).group_by(ranks.c.rank)).tuples().all()
    )
    phase = []
    for p in LADDER:
        n = sum(c for r, c in per_rank.items() if r is not None and int(r) >= RANK[p])
        if n:
            label = phase_label(p.value) + ("" if p is Phase.APPROVED else " or later")
            phase.append(FacetValue(p.value, label, n))
    modality = [
        FacetValue(m, m, n)
        for m, n in conn.execute(
            select(d.modality, func.count())
            .where(d.id.in_(in_ids))
            .group_by(d.modality)
            .order_by(func.count().desc(), d.modality)
        ).tuples()
    ]
    n_drugs = func.count(ds.drug_id.distinct())

    def top(col: Any, label: Any, where: Any) -> list[FacetValue]:
        rows = conn.execute(
            select(col, label, n_drugs)
            .where(ds.drug_id.in_(in_ids), where)
            .group_by(col, label)
            .order_by(n_drugs.desc(), label)
            .limit(TOP)
        ).all()
        return [FacetValue(str(r[0]), str(r[1]), int(r[2])) for r in rows]

    countries = top(ds.country, ds.country, ds.country != "")
    organizations = top(ds.org_parent_name, ds.org_parent_name, ds.org_parent_name != "")
    indications = top(ds.disease_id, ds.indication_name, ds.disease_id.is_not(None))
    n_t = func.count(dt.drug_id.distinct())
    targets = [
        FacetValue(str(sym), str(sym), int(n))
        for sym, n in conn.execute(
            select(t.gene_symbol, n_t)
            .join(drug_target, dt.target_id == t.id)
            .where(dt.drug_id.in_(in_ids), t.gene_symbol.is_not(None))
            .group_by(t.gene_symbol)
            .order_by(n_t.desc(), t.gene_symbol)
            .limit(TOP)
        ).tuples()
    ]
    return {
        "phase": phase,
        "modality": modality,
        "target": targets,
        "indication": indications,
        "organization": organizations,
        "country": countries,
    }
