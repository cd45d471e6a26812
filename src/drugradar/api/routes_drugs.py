"""Drugs: search with facets and cursor paging, suggestions for the search box, a drug's whole
profile (by id or any name), its events, and any search exported as CSV, JSON or XLSX."""

from __future__ import annotations

from itertools import chain, islice
from typing import Annotated, Any, Literal

from fastapi import APIRouter, HTTPException, Query, Request
from fastapi.responses import Response, StreamingResponse

from drugradar.api import export
from drugradar.api.deps import engine_of, name_index, resolvers
from drugradar.api.jsonresp import JSONBytes
from drugradar.api.models import (
    DrugHit,
    ErrorOut,
    EventOut,
    EventsOut,
    SearchOut,
    Suggestion,
    SuggestOut,
)
from drugradar.api.params import EventParams, SearchParams, resolve_drug
from drugradar.profile.view import profile_of
from drugradar.search.cursor import CursorError
from drugradar.search.facets import facets
from drugradar.search.query import SearchError
from drugradar.search.results import SORTS, Hit, iter_results, resolve_sort, search_page
from drugradar.search.suggest import suggest
from drugradar.track.query import as_dict, list_events

router = APIRouter(tags=["drugs"])
API_FACETS = ("modality", "activity", "country", "phase")
NOT_FOUND: dict[int | str, dict[str, Any]] = {404: {"model": ErrorOut}}
BAD: dict[int | str, dict[str, Any]] = {400: {"model": ErrorOut}}
Sort = Annotated[
    str | None,
    Query(description=f"One of {', '.join(SORTS)}; relevance with q, else name."),
]


@router.get("/api/drugs", response_model=SearchOut, responses=BAD)
def search_drugs(
    request: Request,
    query: SearchParams,
    sort: Sort = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 25,
    cursor: Annotated[str | None, Query(max_length=2000)] = None,
    with_facets: Annotated[
        bool, Query(alias="facets", description="Facet counts and total (false: faster).")
    ] = True,
) -> SearchOut:
    """Drugs matching the filters, a page at a time (cursor pagination, no offset cap), with
    facet counts over the whole result set."""
    engine = engine_of(request)
    index = name_index(request) if query.text else None
    try:
        page = search_page(engine, query, sort=sort, limit=limit, after=cursor, index=index)
    except (SearchError, CursorError) as exc:
        raise HTTPException(400, str(exc)) from None
    total, counts = (
        facets(engine, query, names=API_FACETS, index=index) if with_facets else (None, None)
    )
    return SearchOut(
        query=query.to_dict(),
        sort=page.sort,
        total=total,
        facets={k: {f.value: f.count for f in v} for k, v in counts.items()} if counts else None,
        results=[_hit(h) for h in page.results],
        next_cursor=page.next_cursor,
    )


def _hit(h: Hit) -> DrugHit:
    return DrugHit(
        id=h.id,
        preferred_name=h.preferred_name,
        modality=h.modality,
        highest_phase=h.highest_phase,
        highest_phase_ever=h.highest_phase_ever,
        matched_alias=h.matched_alias,
        organizations=h.organizations,
    )


@router.get(
    "/api/drugs/export.{fmt}",
    responses={
        **BAD,
        200: {
            "content": {m.split(";")[0]: {} for m in export.MEDIA.values()},
            "description": "Every result of the search, in the format asked.",
        },
    },
    response_class=Response,
)
def export_drugs(
    request: Request,
    fmt: Literal["csv", "json", "xlsx"],
    query: SearchParams,
    sort: Sort = None,
) -> Response:
    """The whole result set of a search (same filters as /api/drugs) as a file."""
    engine = engine_of(request)
    try:
        sort = resolve_sort(query, sort)  # refused here, before the response starts
    except SearchError as exc:
        raise HTTPException(400, str(exc)) from None
    index = name_index(request) if query.text else None
    results = (h.as_dict() for h in iter_results(engine, query, sort=sort, index=index))
    head = list(islice(results, 1))  # the first query runs here: its errors are still a 4xx
    rows = chain(head, results)
    headers = {"Content-Disposition": f'attachment; filename="drugradar-search.{fmt}"'}
    if fmt == "xlsx":
        return Response(export.xlsx_bytes(rows), media_type=export.MEDIA[fmt], headers=headers)
    chunks = export.csv_chunks(rows) if fmt == "csv" else export.json_chunks(rows)
    return StreamingResponse(chunks, media_type=export.MEDIA[fmt], headers=headers)


@router.get("/api/suggest", response_model=SuggestOut)
def suggest_names(
    request: Request, q: Annotated[str, Query(min_length=1, max_length=200)]
) -> SuggestOut:
    """Suggestions for a search box: any alias, typo-tolerant, saying which alias matched."""
    found = suggest(resolvers(request), q)
    return SuggestOut(
        query=q,
        suggestions=[
            Suggestion(
                drug_id=m.drug_id,
                preferred_name=m.preferred_name,
                matched_alias=m.matched_alias,
                alias_type=m.alias_type,
                match_kind=m.match_kind,
                score=m.score,
            )
            for m in found
        ],
    )


@router.get(
    "/api/drugs/{ident}",
    response_class=JSONBytes,
    responses={
        **NOT_FOUND,
        200: {
            "content": {"application/json": {"schema": {"type": "object"}}},
            "description": "The drug's whole profile, every fact with its sources.",
        },
    },
)
def drug_profile(request: Request, ident: str) -> JSONBytes:
    """The full profile of a drug, by its id or any of its names (brand, code, INN…);
    ``resolved`` says which name matched when the id was not given."""
    drug_id, res = resolve_drug(request, ident)
    profile = profile_of(engine_of(request), drug_id)
    if profile is None:
        raise HTTPException(404, f"No drug {ident!r}.")
    if res is not None and res.best is not None:
        b = res.best
        profile["resolved"] = {
            "query": res.query,
            "matched_alias": b.matched_alias,
            "alias_type": b.alias_type,
            "match_kind": b.match_kind,
            "score": b.score,
            "ambiguous": res.ambiguous,
            "candidates": [
                {"drug_id": m.drug_id, "preferred_name": m.preferred_name} for m in res.matches
            ],
        }
    return JSONBytes(profile)


@router.get("/api/drugs/{ident}/events", response_model=EventsOut, responses=NOT_FOUND)
def drug_events(request: Request, ident: str, flt: EventParams) -> EventsOut:
    """The drug's events (what changed about it), newest first."""
    from dataclasses import replace

    drug_id, _ = resolve_drug(request, ident)
    events = list_events(engine_of(request), replace(flt, concern=("drug", drug_id)))
    return EventsOut(events=[EventOut.model_validate(as_dict(e)) for e in events])
