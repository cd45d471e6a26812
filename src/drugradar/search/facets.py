"""Facet counts over a search's whole result set: how many of the results a filter value would
keep, so that choosing it narrows to exactly that many.

``modality`` counts each drug once; ``activity``, ``country``, ``organization`` (parent
companies), ``indication`` (a MeSH id, labelled with its name) count drugs with a status row of
that value; ``target`` drugs acting on that gene; ``phase`` drugs that reached at least that
phase on some row (what the ``phase`` filter means), most advanced first. An indication counts
its own term only (the filter also keeps its child terms, so it may keep more): counting every
ancestor would fill the facet with the broadest headings.

All of it is one statement: the result set is a common table expression that the database
evaluates once (a text search reads every name, unless the app's name index found them), then
each facet aggregates over it.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import CTE, Engine, Select, String, cast, func, literal, null, select, union_all

from drugradar.model.devstatus import RANK, Phase
from drugradar.search.name_index import NameIndex
from drugradar.search.phases import rank_of
from drugradar.search.query import SearchQuery, drug_ids, named_ids
from drugradar.store.schema import dev_status, drug, drug_target, target

FACETS = ("phase", "modality", "activity", "country", "organization", "indication", "target")


@dataclass(frozen=True, slots=True)
class FacetValue:
    value: str
    label: str
    count: int


def facets(
    engine: Engine,
    q: SearchQuery,
    *,
    names: Iterable[str] = FACETS,
    top: int | None = None,
    also: Sequence[str] = (),
    index: NameIndex | None = None,
) -> tuple[int, dict[str, list[FacetValue]]]:
    """The number of results and the facets ``names`` (each of row values at most ``top``, the
    most frequent); ``also`` as in ``drug_ids``; ``index`` the app's name index, as in
    ``results.search_page``."""
    wanted = list(names)
    unknown = sorted(set(wanted) - set(FACETS))
    if unknown:
        raise ValueError(f"Unknown facet {unknown[0]!r}; facets are {', '.join(FACETS)}.")
    ids = drug_ids(q, also, named_ids(q, index)).cte("results")
    total = select(literal("total"), cast(null(), String), cast(null(), String), func.count())
    branches = [total.select_from(ids)] + [_branch(n, ids, top) for n in wanted]
    with engine.connect() as conn:
        rows = conn.execute(union_all(*branches)).all()
    found: dict[str, list[FacetValue]] = defaultdict(list)
    n_results = 0
    for name, value, label, n in rows:
        if name == "total":
            n_results = int(n)
        else:
            found[name].append(FacetValue(str(value), str(label), int(n)))
    out = {n: sorted(found[n], key=lambda f: (-f.count, f.label)) for n in wanted}
    if "phase" in out:
        out["phase"] = _reached(out["phase"])
    return n_results, out


def _branch(name: str, ids: CTE, top: int | None) -> Select[Any]:
    """``(facet, value, label, drugs)`` rows of one facet, as a SELECT over the result set."""
    d, ds, dt, t = drug.c, dev_status.c, drug_target.c, target.c
    in_results = select(ids.c.id)
    tag = literal(name)
    if name == "phase":  # drugs per highest rank reached; ``_reached`` turns it into "at least"
        best = (
            select(ds.drug_id, func.max(rank_of(ds.phase)).label("r"))
            .where(ds.drug_id.in_(in_results), ds.phase != Phase.UNKNOWN.value)
            .group_by(ds.drug_id)
            .subquery()
        )
        r = cast(best.c.r, String)
        return select(tag, r, r, func.count()).group_by(best.c.r)
    if name == "modality":
        n = func.count()
        stmt = select(tag, d.modality, d.modality, n).where(d.id.in_(in_results))
        stmt = stmt.group_by(d.modality).order_by(n.desc(), d.modality)
    elif name == "target":
        n = func.count(dt.drug_id.distinct())
        stmt = (
            select(tag, t.gene_symbol, t.gene_symbol, n)
            .join(drug_target, dt.target_id == t.id)
            .where(dt.drug_id.in_(in_results), t.gene_symbol.is_not(None))
            .group_by(t.gene_symbol)
            .order_by(n.desc(), t.gene_symbol)
        )
    else:
        col, label, where = {
            "activity": (ds.activity, ds.activity, ds.activity != ""),
            "country": (ds.country, ds.country, ds.country != ""),
            "organization": (ds.org_parent_name, ds.org_parent_name, ds.org_parent_name != ""),
            "indication": (ds.disease_id, ds.indication_name, ds.disease_id.is_not(None)),
        }[name]
        n = func.count(ds.drug_id.distinct())
        stmt = (
            select(tag, col, label, n)
            .where(ds.drug_id.in_(in_results), where)
            .group_by(col, label)
            .order_by(n.desc(), label)
        )
    if top:
        stmt = stmt.limit(top)
    sub = stmt.subquery()
    return select(*sub.c)


def _reached(per_rank: list[FacetValue]) -> list[FacetValue]:
    """Drugs per highest rank -> drugs that reached at least each phase, most advanced first."""
    counts = {int(f.value): f.count for f in per_rank if f.value != "None"}
    out = []
    for p in sorted(Phase, key=lambda p: -RANK[p]):
        if p is Phase.UNKNOWN:
            continue
        n = sum(c for r, c in counts.items() if r >= RANK[p])
        if n:
            out.append(FacetValue(p.value, p.value, n))
    return out
