"""Drug search results for the API, the pages and the exports: a page in a stable order (after
an opaque cursor, or at an offset for numbered pages), and every row for an export.

The filters are ``search.query.SearchQuery`` (the same as saved searches); ``also`` adds the
resolver's typo-tolerant matches of the text (``typo_matches``), which rank first. Orders, each
ending with the drug id so that it is total: ``relevance`` (a name equal to the text, then one
starting with it, then one containing it; the default with a text), ``name`` (the default
without), ``-name``, ``phase`` / ``-phase`` (the highest phase of live programs, least or most
advanced first; drugs with none count as below every phase), ``modality``.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from sqlalchemy import ColumnElement, Connection, Engine, case, func, select

from drugradar.model import ALIAS_RANK, AliasType
from drugradar.resolve import Match, Resolver
from drugradar.resolve.normalize import norm_key
from drugradar.search import cursor
from drugradar.search.name_index import NameHits, NameIndex
from drugradar.search.phases import LIVE, rank, rank_of, top_phase
from drugradar.search.query import SearchError, SearchQuery, drug_ids, named_ids
from drugradar.store.schema import dev_status, drug, synonym
from drugradar.store.sync import chunks

SORTS = ("relevance", "name", "-name", "phase", "-phase", "modality")
MAX_ORGANIZATIONS = 3


@dataclass(slots=True)
class Hit:
    id: str
    preferred_name: str
    modality: str
    highest_phase: str | None  # over live programs
    highest_phase_ever: str | None
    matched_alias: str | None  # the best name containing the text (or the resolver's match)
    organizations: list[str] = field(default_factory=list)  # the furthest along first
    alias_note: str | None = None  # matched_alias, when the preferred name does not say it

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(slots=True)
class Page:
    results: list[Hit]
    next_cursor: str | None
    sort: str


def typo_matches(resolver: Resolver, q: SearchQuery) -> list[Match]:
    """The resolver's matches of the text (exact, salt, partial, fuzzy…): what ``also`` takes."""
    return list(resolver.resolve(q.text).matches) if q.text else []


def resolve_sort(q: SearchQuery, sort: str | None) -> str:
    if sort is None or sort == "":
        return "relevance" if q.text else "name"
    if sort not in SORTS:
        raise SearchError(f"Unknown sort {sort!r}; sorts are {', '.join(SORTS)}.")
    if sort == "relevance" and not q.text:
        raise SearchError("Sorting by relevance needs a text to search for (q).")
    return sort


Order = list[tuple[ColumnElement[Any], bool, type]]


def _order(q: SearchQuery, sort: str, also: Sequence[str], named: NameHits | None = None) -> Order:
    """``(expression, descending, type of its cursor key)`` for the sort, id last; ``named``:
    the name index's answer, which knows the relevance tiers without reading the names."""
    d = drug.c
    name: ColumnElement[Any] = func.lower(d.preferred_name)
    if sort == "name":
        return [(name, False, str), (d.id, False, str)]
    if sort == "-name":
        return [(name, True, str), (d.id, True, str)]
    if sort == "modality":
        return [(d.modality, False, str), (name, False, str), (d.id, False, str)]
    if sort == "relevance" and named is not None:
        tiers = case(
            (d.id.in_(sorted({*also, *named.equal})), 0),
            (d.id.in_(named.starting), 1),
            else_=2,
        )
        return [(tiers, False, int), (name, False, str), (d.id, False, str)]
    if sort == "relevance":
        key = norm_key(q.text or "")
        s = synonym.alias("rel")
        how = case((s.c.norm_key == key, 0), (s.c.norm_key.like(f"{key}%"), 1), else_=2)
        best = func.coalesce(select(func.min(how)).where(s.c.drug_id == d.id).scalar_subquery(), 2)
        rel = case((d.id.in_(list(also)), 0), else_=best) if also else best
        return [(rel, False, int), (name, False, str), (d.id, False, str)]
    hp = dev_status.alias("hp")
    live = (
        select(func.max(rank_of(hp.c.phase)))
        .where(hp.c.drug_id == d.id, hp.c.activity.in_(LIVE))
        .scalar_subquery()
    )
    return [
        (func.coalesce(live, -1), sort == "-phase", int),
        (name, False, str),
        (d.id, False, str),
    ]


def _rows(
    conn: Connection,
    q: SearchQuery,
    order: Order,
    also: Sequence[str],
    keys: list[Any] | None,
    limit: int,
    offset: int = 0,
    named: NameHits | None = None,
) -> list[Any]:
    d = drug.c
    labelled = [col.label(f"k{i}") for i, (col, _, _) in enumerate(order)]
    stmt = drug_ids(q, also, named).add_columns(d.preferred_name, d.modality, *labelled)
    if keys is not None:
        stmt = stmt.where(cursor.after([(c, desc) for c, desc, _ in order], keys))
    stmt = stmt.order_by(
        *[
            lab.desc() if desc else lab.asc()
            for lab, (_, desc, _) in zip(labelled, order, strict=True)
        ]
    ).limit(limit)
    if offset:
        stmt = stmt.offset(offset)
    return list(conn.execute(stmt))


def _keys(row: Any, n: int) -> list[Any]:
    return [getattr(row, f"k{i}") for i in range(n)]


def _tier(alias_type: str) -> int:
    try:
        return ALIAS_RANK[AliasType(alias_type)]
    except ValueError:
        return 99


def _aliases(conn: Connection, ids: list[str], key: str) -> dict[str, str]:
    """Per drug, its best name containing ``key``: equal, then starting with it, then
    containing it; official names first, then the shortest."""
    s = synonym.c
    best: dict[str, tuple[Any, ...]] = {}
    for batch in chunks(ids, 500):
        for r in conn.execute(
            select(s.drug_id, s.name, s.norm_key, s.alias_type).where(
                s.drug_id.in_(batch), s.norm_key.like(f"%{key}%")
            )
        ):
            how = 0 if r.norm_key == key else 1 if r.norm_key.startswith(key) else 2
            ranked = (how, _tier(r.alias_type), len(r.name), r.name)
            if r.drug_id not in best or ranked < best[r.drug_id]:
                best[r.drug_id] = ranked
    return {k: str(v[3]) for k, v in best.items()}


def _note(alias: str | None, name: str, key: str) -> str | None:
    """The alias worth showing beside the name: not when the name already contains the text,
    unless the alias is the text exactly."""
    if not alias or not key:
        return None
    own, theirs = norm_key(name), norm_key(alias)
    return alias if theirs != own and (theirs == key or key not in own) else None


def enrich(
    conn: Connection, rows: list[Any], text: str | None, matches: Sequence[Match] = ()
) -> list[Hit]:
    """Result rows: highest phase (live and ever), main organizations, the alias that matched;
    two queries for the whole page."""
    ids = [r.id for r in rows]
    phases: dict[str, list[tuple[str, str]]] = defaultdict(list)
    orgs: dict[str, dict[str, int]] = defaultdict(dict)
    ds = dev_status.c
    for batch in chunks(ids, 500):
        for r in conn.execute(
            select(ds.drug_id, ds.phase, ds.activity, ds.org_parent_name).where(
                ds.drug_id.in_(batch)
            )
        ):
            phases[r.drug_id].append((r.phase, r.activity))
            if r.org_parent_name:
                mine = orgs[r.drug_id]
                mine[r.org_parent_name] = max(mine.get(r.org_parent_name, -1), rank(r.phase))
    key = norm_key(text or "")
    aliases = _aliases(conn, ids, key) if key else {}
    for m in matches:
        aliases.setdefault(m.drug_id, m.matched_alias)
    out = []
    for r in rows:
        ps = phases.get(r.id, [])
        by_rank = sorted(orgs.get(r.id, {}).items(), key=lambda kv: (-kv[1], kv[0]))
        alias = aliases.get(r.id)
        out.append(
            Hit(
                r.id,
                r.preferred_name,
                r.modality,
                top_phase([p for p, a in ps if a in LIVE]),
                top_phase([p for p, _ in ps]),
                alias,
                [o for o, _ in by_rank[:MAX_ORGANIZATIONS]],
                _note(alias, r.preferred_name, key),
            )
        )
    return out


def search_page(
    engine: Engine,
    q: SearchQuery,
    *,
    sort: str | None = None,
    limit: int = 25,
    after: str | None = None,
    offset: int = 0,
    matches: Sequence[Match] = (),
    index: NameIndex | None = None,
) -> Page:
    """One page of results after the cursor ``after`` (or ``offset`` rows in); raises
    ``SearchError`` or ``cursor.CursorError`` with a one-sentence message. ``index``: the
    app's name index (``search.name_index``), which finds the text without reading every name
    (same results)."""
    sort = resolve_sort(q, sort)
    also = [m.drug_id for m in matches]
    named = named_ids(q, index)
    order = _order(q, sort, also, named)
    filters = q.to_dict()
    keys = cursor.decode(after, sort, filters, [t for _, _, t in order]) if after else None
    with engine.connect() as conn:
        rows = _rows(conn, q, order, also, keys, limit + 1, offset if keys is None else 0, named)
        more = len(rows) > limit
        rows = rows[:limit]
        results = enrich(conn, rows, q.text, matches)
    token = cursor.encode(sort, filters, _keys(rows[-1], len(order))) if more and rows else None
    return Page(results, token, sort)


def iter_results(
    engine: Engine,
    q: SearchQuery,
    *,
    sort: str | None = None,
    batch: int = 1000,
    matches: Sequence[Match] = (),
    index: NameIndex | None = None,
) -> Iterator[Hit]:
    """Every result, in order, read a batch at a time (for exports: memory stays flat)."""
    sort = resolve_sort(q, sort)
    also = [m.drug_id for m in matches]
    named = named_ids(q, index)
    order = _order(q, sort, also, named)
    keys: list[Any] | None = None
    while True:
        with engine.connect() as conn:
            rows = _rows(conn, q, order, also, keys, batch, named=named)
            results = enrich(conn, rows, q.text, matches)
        yield from results
        if len(rows) < batch:
            return
        keys = _keys(rows[-1], len(order))
