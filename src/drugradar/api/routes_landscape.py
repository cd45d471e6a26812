"""Trials, landscapes (target, disease, organization), the event stream and the interaction
checker."""

from __future__ import annotations

from dataclasses import replace
from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Query, Request

from drugradar.api.deps import engine_of, resolvers
from drugradar.api.jsonresp import JSONBytes
from drugradar.api.models import ErrorOut, EventOut, EventsOut, InteractionsOut, ResolvedName
from drugradar.api.params import EventParams, resolve_drug
from drugradar.profile.interactions import check
from drugradar.search.landscape import Landscape, by_phase, landscape, pipeline
from drugradar.track.query import as_dict, list_events
from drugradar.trials.detail import trial_detail

router = APIRouter()
MAX_CHECKED = 20
Row = dict[str, Any]


def _landscape_json(found: Landscape) -> Row:
    """``{<kind>: what it is, by_phase, drugs}``: each drug at its highest live phase in
    scope, with the highest ever."""
    drugs: list[Row] = []
    for r in found.rows:
        row: Row = {
            "id": r.drug_id,
            "preferred_name": r.name,
            "modality": r.modality,
            "highest_phase": r.phase,
            "highest_phase_ever": r.phase_ever,
        }
        if found.kind == "target":
            row["action_types"] = r.action_types
        drugs.append(row)
    return {
        found.kind: found.subject,
        "by_phase": [{"phase": p, "drugs": n} for p, n in by_phase(found.rows)],
        "drugs": drugs,
    }


def _doc(description: str) -> dict[int | str, dict[str, Any]]:
    return {
        404: {"model": ErrorOut},
        200: {
            "content": {"application/json": {"schema": {"type": "object"}}},
            "description": description,
        },
    }


@router.get(
    "/api/trials/{nct}",
    tags=["trials"],
    response_class=JSONBytes,
    responses=_doc("The trial, its linked drugs, conditions, parties, countries, events."),
)
def get_trial(request: Request, nct: str) -> JSONBytes:
    """By NCT number."""
    found = trial_detail(engine_of(request), nct) if len(nct) <= 20 else None
    if found is None:
        raise HTTPException(404, f"No trial {nct!r} is loaded.")
    return JSONBytes(found)


@router.get(
    "/api/targets/{symbol}",
    tags=["landscapes"],
    response_class=JSONBytes,
    responses=_doc("The target's drugs by highest phase."),
)
def get_target(request: Request, symbol: str) -> JSONBytes:
    found = landscape(engine_of(request), "target", symbol)
    if found is None:
        raise HTTPException(404, f"No target has the gene symbol {symbol!r}.")
    return JSONBytes(_landscape_json(found))


@router.get(
    "/api/organizations/{key}",
    tags=["landscapes"],
    response_class=JSONBytes,
    responses=_doc("The organization's pipeline, its subsidiaries' included."),
)
def get_organization(request: Request, key: str) -> JSONBytes:
    """By name or normalized key (``merck co``): drugs by highest phase and the pipeline."""
    engine = engine_of(request)
    found = landscape(engine, "organization", key)
    if found is None:
        raise HTTPException(404, f"No development is known for an organization called {key!r}.")
    return JSONBytes({**_landscape_json(found), "pipeline": pipeline(engine, found.ref)})


@router.get(
    "/api/diseases/{ident}",
    tags=["landscapes"],
    response_class=JSONBytes,
    responses=_doc("The disease's drugs by phase, child terms included."),
)
def get_disease(request: Request, ident: str) -> JSONBytes:
    """By MeSH id (``D008545``) or any MeSH name of the disease."""
    found = landscape(engine_of(request), "disease", ident)
    if found is None:
        raise HTTPException(404, f"No disease matches {ident!r} (try its MeSH name or id).")
    return JSONBytes(_landscape_json(found))


@router.get(
    "/api/events", tags=["events"], response_model=EventsOut, responses={400: {"model": ErrorOut}}
)
def get_events(
    request: Request,
    flt: EventParams,
    drug: Annotated[str | None, Query(max_length=200, description="Any name or id.")] = None,
) -> EventsOut:
    """Changes, newest first (as-of date), filtered."""
    if drug:
        drug_id, _ = resolve_drug(request, drug)
        flt = replace(flt, concern=("drug", drug_id))
    events = list_events(engine_of(request), flt)
    return EventsOut(events=[EventOut.model_validate(as_dict(e)) for e in events])


@router.get(
    "/api/interactions",
    tags=["interactions"],
    response_model=InteractionsOut,
    responses={400: {"model": ErrorOut}},
)
def get_interactions(
    request: Request,
    drugs: Annotated[
        list[str], Query(max_length=MAX_CHECKED, description="Names, comma-separated.")
    ],
) -> InteractionsOut:
    """Every pair of the drugs named, most severe first (``none``: no source lists the pair)."""
    names = [n.strip() for item in drugs for n in item.split(",") if n.strip()]
    if len(names) < 2:
        raise HTTPException(400, "Name at least two drugs, separated by commas.")
    if len(names) > MAX_CHECKED:
        raise HTTPException(400, f"Check at most {MAX_CHECKED} drugs at a time.")
    resolver = resolvers(request).get()
    resolved: list[ResolvedName] = []
    unresolved: list[str] = []
    for res in resolver.resolve_many(names):
        b = res.best
        if b is None:
            unresolved.append(res.query)
            resolved.append(
                ResolvedName(query=res.query, drug_id=None, preferred_name=None, matched_alias=None)
            )
        else:
            resolved.append(
                ResolvedName(
                    query=res.query,
                    drug_id=b.drug_id,
                    preferred_name=b.preferred_name,
                    matched_alias=b.matched_alias,
                )
            )
    ids = [r.drug_id for r in resolved if r.drug_id]
    with engine_of(request).connect() as conn:
        pairs = [p.to_dict() for p in check(conn, ids)]
    return InteractionsOut(drugs=resolved, unresolved=unresolved, pairs=pairs)
