"""Query parameters several routes share: the search filters and the event filters, checked
into the library's own types (a value that makes no sense is a 400 with one sentence)."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import Depends, HTTPException, Query, Request
from sqlalchemy import select

from drugradar.api.deps import engine_of, resolvers
from drugradar.model.event import Materiality
from drugradar.resolve import Resolution
from drugradar.search.query import SearchError, SearchQuery
from drugradar.store.schema import drug
from drugradar.track.catalogue import CATALOGUE, FAMILIES
from drugradar.track.query import EventFilter

Text = Annotated[str | None, Query(max_length=200)]


def search_query(
    q: Annotated[str | None, Query(max_length=200, description="Any name of the drug.")] = None,
    phase: Annotated[
        str | None, Query(max_length=40, description="Reached at least, e.g. PHASE_2.")
    ] = None,
    activity: Annotated[str | None, Query(max_length=40)] = None,
    modality: Annotated[str | None, Query(max_length=40)] = None,
    target: Annotated[str | None, Query(max_length=60, description="A gene symbol.")] = None,
    indication: Annotated[
        str | None, Query(max_length=20, description="A MeSH id; child terms included.")
    ] = None,
    organization: Annotated[
        str | None, Query(max_length=200, description="Subsidiaries included.")
    ] = None,
    country: Annotated[str | None, Query(max_length=100)] = None,
) -> SearchQuery:
    filters = {
        "text": q,
        "phase": phase.strip().upper() if phase else None,
        "activity": activity.strip().lower() if activity else None,
        "modality": modality.strip().lower() if modality else None,
        "target": target,
        "indication": indication,
        "organization": organization,
        "country": country,
    }
    try:
        return SearchQuery.from_dict(filters)
    except SearchError as exc:
        raise HTTPException(400, str(exc)) from None


SearchParams = Annotated[SearchQuery, Depends(search_query)]


def _types(values: list[str]) -> tuple[str, ...]:
    known = {t for _, t in CATALOGUE}
    out = []
    for v in values:
        fam, _, typ = v.strip().rpartition(".")
        if typ not in known or (fam and (fam, typ) not in CATALOGUE):
            raise HTTPException(400, f"Unknown event type {v!r}.")
        out.append(typ)
    return tuple(out)


def event_filter(
    since: Annotated[date | None, Query(description="As-of date, inclusive.")] = None,
    until: Annotated[date | None, Query()] = None,
    family: Annotated[list[str] | None, Query(max_length=20)] = None,
    type: Annotated[  # the API's parameter name
        list[str] | None, Query(max_length=50, description="A type, or family.type.")
    ] = None,
    min_materiality: Materiality = Materiality.LOW,
    baseline: Annotated[bool, Query(description="Include first-seen records.")] = False,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> EventFilter:
    family = family or []
    for f in family:
        if f not in FAMILIES:
            raise HTTPException(
                400, f"Unknown event family {f!r}; families are {', '.join(FAMILIES)}."
            )
    return EventFilter(
        since=since,
        until=until,
        families=tuple(family),
        types=_types(type or []),
        min_materiality=min_materiality,
        include_baseline=baseline,
        limit=limit,
    )


EventParams = Annotated[EventFilter, Depends(event_filter)]


def resolve_drug(request: Request, ident: str) -> tuple[str, Resolution | None]:
    """A drug id as given, else the drug any name resolves to; 404 when none does."""
    ident = ident.strip()
    with engine_of(request).connect() as conn:
        known = conn.execute(select(drug.c.id).where(drug.c.id == ident)).scalar()
    if known is not None:
        return str(known), None
    res = resolvers(request).get().resolve(ident)
    if res.best is None:
        raise HTTPException(404, res.message)
    return res.best.drug_id, res
