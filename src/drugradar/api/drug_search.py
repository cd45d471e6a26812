"""Drug search for the API, the pages and the exports: a page of results in a stable order with
an opaque cursor, facet counts over the whole result set, and every row for an export.

The filters are ``search.query.SearchQuery`` (the same as saved searches). Orders, each ending
with the drug id so that it is total: ``relevance`` (a name equal to the text, then one starting
with it, then one containing it; the default with a text), ``name`` (the default without),
``-name``, ``phase`` / ``-phase`` (the highest phase of active or suspended programs, least or
most advanced first; drugs with none count as below every phase).

Facet counts say how many of the results a filter value would keep: ``modality`` (each drug
once), ``country`` and ``activity`` (drugs with a status row of that value) and ``phase`` (drugs
that reached at least that phase on some row — what the ``phase`` filter means).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, Connection, Engine, case, func, select

from drugradar.api import cursor
from drugradar.model import ALIAS_RANK, AliasType
from drugradar.model.devstatus import INACTIVE, RANK, Activity, Phase
from drugradar.resolve.normalize import norm_key
from drugradar.search.query import SearchError, SearchQuery, drug_ids
from drugradar.store.schema import dev_status, drug, synonym
from drugradar.store.sync import chunks

SORTS = ("relevance", "name", "-name", "phase", "-phase")
LIVE = [a.value for a in Activity if a not in INACTIVE]
PHASE_BY_RANK = {r: p for p, r in RANK.items()}
Row = dict[str, Any]


def phase_rank(phase_column: Any) -> ColumnElement[int]:
    """A phase column as its rank on drugradar's scale (-1 for a value the scale lacks)."""
    return case({p.value: r for p, r in RANK.items()}, value=phase_column, else_=-1)


def top_phase(phases: list[str]) -> str | None:
    known = [Phase(p) for p in phases if p in Phase.__members__]
    return max(known, key=lambda p: RANK[p]).value if known else None


@dataclass(slots=True)
class Page:
    results: list[Row]
    next_cursor: str | None
    sort: str


def resolve_sort(q: SearchQuery, sort: str | None) -> str:
    if sort is None or sort == "":
        return "relevance" if q.text else "name"
    if sort not in SORTS:
        raise SearchError(f"Unknown sort {sort!r}; sorts are {', '.join(SORTS)}.")
    if sort == "relevance" and not q.text:
        raise SearchError("Sorting by relevance needs a text to search for (q).")
    return sort


def _order(q: SearchQuery, sort: str) -> list[tuple[ColumnElement[Any], bool, type]]:
    """``(expression, descending, type of its cursor key)`` for the sort, id last."""
    d = drug.c
    name: ColumnElement[Any] = func.lower(d.preferred_name)
    if sort == "name":
        return [(name, False, str), (d.id, False, str)]
    if sort == "-name":
        return [(name, True, str), (d.id, True, str)]
    if sort == "relevance":
        key = norm_key(q.text or "")
        s = synonym.alias("rel")
        rel = (
            select(
                func.min(case((s.c.norm_key == key, 0), (s.c.norm_key.like(f"{key}%"), 1), else_=2))
            )
            .where(s.c.drug_id == d.id)
            .scalar_subquery()
        )
        return [(func.coalesce(rel, 2), False, int), (name, False, str), (d.id, False, str)]
    hp = dev_status.alias("hp")
    live = (
        select(func.max(phase_rank(hp.c.phase)))
        .where(hp.c.drug_id == d.id, hp.c.activity.in_(LIVE))
        .scalar_subquery()
    )
    return [
        (func.coalesce(live, -1), sort == "-phase", int),
        (name, False, str),
        (d.id, False, str),
    ]


def _rows(
    conn: Connection, q: SearchQuery, sort: str, keys: list[Any] | None, limit: int
) -> list[Any]:
    order = _order(q, sort)
    d = drug.c
    labelled = [col.label(f"k{i}") for i, (col, _, _) in enumerate(order)]
    stmt = drug_ids(q).add_columns(d.preferred_name, d.modality, *labelled)
    if keys is not None:
        stmt = stmt.where(cursor.after([(c, desc) for c, desc, _ in order], keys))
    stmt = stmt.order_by(
        *[
            lab.desc() if desc else lab.asc()
            for lab, (_, desc, _) in zip(labelled, order, strict=True)
        ]
    ).limit(limit)
    return list(conn.execute(stmt))


def _keys(row: Any, n: int) -> list[Any]:
    return [getattr(row, f"k{i}") for i in range(n)]


def enrich(conn: Connection, rows: list[Any], text: str | None) -> list[Row]:
    """Result rows: id, name, modality, highest phase (live and ever), the alias that matched."""
    ids = [r.id for r in rows]
    phases: dict[str, list[tuple[str, str]]] = defaultdict(list)
    ds = dev_status.c
    for batch in chunks(ids, 500):
        for r in conn.execute(
            select(ds.drug_id, ds.phase, ds.activity).where(ds.drug_id.in_(batch))
        ):
            phases[r.drug_id].append((r.phase, r.activity))
    aliases: dict[str, str] = {}
    if text:
        key = norm_key(text)
        s = synonym.c
        best: dict[str, tuple[Any, ...]] = {}
        for batch in chunks(ids, 500):
            for r in conn.execute(
                select(s.drug_id, s.name, s.norm_key, s.alias_type).where(
                    s.drug_id.in_(batch), s.norm_key.like(f"%{key}%")
                )
            ):
                how = 0 if r.norm_key == key else 1 if r.norm_key.startswith(key) else 2
                try:
                    tier = ALIAS_RANK[AliasType(r.alias_type)]
                except ValueError:
                    tier = 99
                rank = (how, tier, len(r.name), r.name)
                if r.drug_id not in best or rank < best[r.drug_id]:
                    best[r.drug_id] = rank
        aliases = {k: str(v[3]) for k, v in best.items()}
    out = []
    for r in rows:
        ps = phases.get(r.id, [])
        out.append(
            {
                "id": r.id,
                "preferred_name": r.preferred_name,
                "modality": r.modality,
                "highest_phase": top_phase([p for p, a in ps if a in LIVE]),
                "highest_phase_ever": top_phase([p for p, _ in ps]),
                "matched_alias": aliases.get(r.id),
            }
        )
    return out


def search_page(
    engine: Engine,
    q: SearchQuery,
    *,
    sort: str | None = None,
    limit: int = 25,
    after: str | None = None,
) -> Page:
    """One page of results after the cursor ``after`` (raises ``SearchError`` or
    ``cursor.CursorError`` with a one-sentence message)."""
    sort = resolve_sort(q, sort)
    order = _order(q, sort)
    filters = q.to_dict()
    keys = cursor.decode(after, sort, filters, [t for _, _, t in order]) if after else None
    with engine.connect() as conn:
        rows = _rows(conn, q, sort, keys, limit + 1)
        more = len(rows) > limit
        rows = rows[:limit]
        results = enrich(conn, rows, q.text)
    token = cursor.encode(sort, filters, _keys(rows[-1], len(order))) if more and rows else None
    return Page(results, token, sort)


def iter_results(
    engine: Engine, q: SearchQuery, *, sort: str | None = None, batch: int = 1000
) -> Iterator[Row]:
    """Every result, in order, read a batch at a time (for exports: memory stays flat)."""
    sort = resolve_sort(q, sort)
    n = len(_order(q, sort))
    keys: list[Any] | None = None
    while True:
        with engine.connect() as conn:
            rows = _rows(conn, q, sort, keys, batch)
            results = enrich(conn, rows, q.text)
        yield from results
        if len(rows) < batch:
            return
        keys = _keys(rows[-1], n)


def facets(engine: Engine, q: SearchQuery) -> tuple[int, dict[str, dict[str, int]]]:
    """The number of results and the facet counts (see the module docstring)."""
    ids = drug_ids(q).subquery()
    in_results = select(ids.c.id)
    d, ds = drug.c, dev_status.c
    out: dict[str, dict[str, int]] = {}
    with engine.connect() as conn:
        total = int(conn.execute(select(func.count()).select_from(ids)).scalar() or 0)
        out["modality"] = {
            str(m): int(n)
            for m, n in conn.execute(
                select(d.modality, func.count())
                .where(d.id.in_(in_results))
                .group_by(d.modality)
                .order_by(func.count().desc(), d.modality)
            )
        }
        for name, col in (("activity", ds.activity), ("country", ds.country)):
            n_drugs = func.count(func.distinct(ds.drug_id))
            out[name] = {
                str(v): int(n)
                for v, n in conn.execute(
                    select(col, n_drugs)
                    .where(ds.drug_id.in_(in_results), col != "")
                    .group_by(col)
                    .order_by(n_drugs.desc(), col)
                )
            }
        top = (
            select(ds.drug_id, func.max(phase_rank(ds.phase)).label("r"))
            .where(ds.drug_id.in_(in_results), ds.phase != Phase.UNKNOWN.value)
            .group_by(ds.drug_id)
            .subquery()
        )
        per_rank = dict(
            conn.execute(select(top.c.r, func.count()).group_by(top.c.r)).tuples().all()
        )
    reached: dict[str, int] = {}
    for p in sorted(Phase, key=lambda p: -RANK[p]):
        if p is Phase.UNKNOWN:
            continue
        n = sum(int(c) for r, c in per_rank.items() if r is not None and r >= RANK[p])
        if n:
            reached[p.value] = n
    out["phase"] = reached
    return total, out
