"""The events page (latest changes, filtered) and the interaction checker."""

from __future__ import annotations

from datetime import date

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from drugradar.api.deps import resolvers
from drugradar.model.event import Materiality
from drugradar.profile.interactions import check
from drugradar.sources.ddi import LEVELS
from drugradar.track.catalogue import FAMILIES
from drugradar.track.query import EventFilter, as_dict, list_events
from drugradar.web.forms import clean
from drugradar.web.render import page

router = APIRouter()
MAX_DRUGS = 12


@router.get("/events", response_class=HTMLResponse)
def events_page(
    request: Request,
    family: str = "",
    materiality: str = "low",
    since: str = "",
    drug: str = "",
) -> HTMLResponse:
    family, drug = clean(family, 100), clean(drug, 300)
    problems: list[str] = []
    fams = (family,) if family in FAMILIES else ()
    if family and not fams:
        problems.append(f"Unknown event family “{family}”.")
    try:
        mat = Materiality(materiality or "low")
    except ValueError:
        mat, materiality = Materiality.LOW, "low"
        problems.append("Materiality is low, medium or high.")
    try:
        since_day = date.fromisoformat(since) if since else None
    except ValueError:
        since_day = None
        problems.append("The date is written YYYY-MM-DD.")
    concern = None
    drug_name = None
    if drug:
        best = resolvers(request).get().resolve(drug[:300]).best
        if best is None:
            problems.append(f"No drug matches “{drug[:300]}”.")
        else:
            concern, drug_name = ("drug", best.drug_id), best.preferred_name
    events = []
    if not (drug and concern is None):
        found = list_events(
            request.app.state.engine,
            EventFilter(
                since=since_day, concern=concern, families=fams, min_materiality=mat, limit=100
            ),
        )
        events = [as_dict(e) for e in found]
    return page(
        request,
        "events.html",
        {
            "title": "Events",
            "events": events,
            "families": FAMILIES,
            "f": {"family": family, "materiality": materiality, "since": since, "drug": drug},
            "drug_name": drug_name,
            "problems": problems,
        },
    )


@router.get("/interactions", response_class=HTMLResponse)
def interactions_page(request: Request, drugs: str = "") -> HTMLResponse:
    names = [clean(n, 300) for n in drugs.split(",") if clean(n, 300)][:MAX_DRUGS]
    resolver = resolvers(request).get()
    resolved: list[dict[str, str]] = []
    unknown: list[str] = []
    for name in names:
        best = resolver.resolve(name[:300]).best
        if best is None:
            unknown.append(name[:300])
        else:
            resolved.append({"query": name, "id": best.drug_id, "name": best.preferred_name})
    with request.app.state.engine.connect() as conn:
        pairs = [p.to_dict() for p in check(conn, [r["id"] for r in resolved])]
    return page(
        request,
        "interactions.html",
        {
            "title": "Interaction checker",
            "drugs": drugs,
            "resolved": resolved,
            "unknown": unknown,
            "pairs": pairs,
            "levels": LEVELS,
        },
    )
