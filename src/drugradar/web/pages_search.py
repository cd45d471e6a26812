"""Home, search (facets, sort, export, Set Alert) and the suggestions fragment."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from drugradar.api.deps import engine_of, name_index, resolvers
from drugradar.model.devstatus import Phase
from drugradar.search.facets import FacetValue, facets
from drugradar.search.phases import LADDER
from drugradar.search.query import SearchError, SearchQuery
from drugradar.search.results import Hit, typo_matches
from drugradar.search.results import search_page as results_page
from drugradar.search.suggest import suggest as suggest_names
from drugradar.web.format import phase_label
from drugradar.web.forms import clean
from drugradar.web.render import page, templates

router = APIRouter()
FILTERS = ("phase", "activity", "modality", "target", "indication", "organization", "country")
FACETS = ("phase", "modality", "target", "indication", "organization", "country")
PAGE_SIZE = 50
TOP = 12
# The page's sorts: "phase" puts the most advanced first.
SORTS = {"relevance": "relevance", "name": "name", "phase": "-phase", "modality": "modality"}


@dataclass(slots=True)
class Results:
    rows: list[Hit]
    total: int
    page: int
    pages: int
    facets: dict[str, list[FacetValue]]


def _results(request: Request, q: SearchQuery, sort: str, number: int) -> Results:
    """One numbered page of the search (the resolver's typo-tolerant matches of the text
    included and ranked first), with its facets; "Phase 2 or later" labels on the phase ladder."""
    engine = engine_of(request)
    matches = typo_matches(resolvers(request).get(), q)
    index = name_index(request) if q.text else None
    also = [m.drug_id for m in matches]
    total, found = facets(engine, q, names=FACETS, top=TOP, also=also, index=index)
    pages = max(1, -(-total // PAGE_SIZE))
    number = min(max(1, number), pages)
    hits = results_page(
        engine,
        q,
        sort=SORTS[sort],
        limit=PAGE_SIZE,
        offset=(number - 1) * PAGE_SIZE,
        matches=matches,
        index=index,
    ).results
    ladder = {p.value for p in LADDER}
    found["phase"] = [
        FacetValue(
            f.value,
            phase_label(f.value) + ("" if f.value == Phase.APPROVED else " or later"),
            f.count,
        )
        for f in reversed(found["phase"])
        if f.value in ladder
    ]
    return Results(hits, total, number, pages, found)


def query_of(params: dict[str, str]) -> SearchQuery:
    """The ``SearchQuery`` of the page's parameters (``q`` is the text)."""
    data: dict[str, Any] = {k: params.get(k) for k in FILTERS}
    data["text"] = params.get("q")
    return SearchQuery.from_dict(data)


def _params(request: Request) -> dict[str, str]:
    return {k: clean(v, 300) for k, v in request.query_params.items() if clean(v, 300)}


def _link(params: dict[str, str], **change: str | None) -> str:
    merged = {**params, **change}
    if "page" not in change:
        merged.pop("page", None)
    return "/search?" + urlencode({k: v for k, v in merged.items() if v})


@router.get("/", response_class=HTMLResponse)
def home(request: Request) -> HTMLResponse:
    return page(request, "home.html", {"title": "drugradar"})


@router.get("/search", response_class=HTMLResponse)
def search_page(request: Request) -> HTMLResponse:
    params = _params(request)
    try:
        q = query_of(params)
    except SearchError as exc:
        sort = params.get("sort", "")
        return page(
            request,
            "search.html",
            {
                "title": "Search",
                "params": params,
                "error": str(exc),
                "results": None,
                "sort": sort,
                "link": lambda **c: _link(params, **c),
                "export": "",
            },
            status=400,
        )
    default = "relevance" if q.text else "phase"  # no text: most advanced first
    sort = params.get("sort", default)
    sort = sort if sort in SORTS and (sort != "relevance" or q.text) else default
    try:
        number = int(params.get("page", "1"))
    except ValueError:
        number = 1
    results = _results(request, q, sort, number)
    search_args = {k: v for k, v in params.items() if k in (*FILTERS, "q")}
    return page(
        request,
        "search.html",
        {
            "title": f"Search: {q.text}" if q.text else "Search",
            "params": params,
            "query": q,
            "results": results,
            "sort": sort,
            "error": None,
            "link": lambda **c: _link(params, **c),
            "export": urlencode(search_args),
            "alert_link": "/alerts/new?" + urlencode({"kind": "search", **search_args}),
        },
    )


@router.get("/search/suggest", response_class=HTMLResponse)
def suggest(request: Request, q: str = "") -> HTMLResponse:
    """The suggestion list under the search box (an htmx fragment)."""
    text = clean(q, 200)
    found = suggest_names(resolvers(request), text) if len(text.strip()) > 1 else []
    return templates.TemplateResponse(request, "_suggest.html", {"items": found, "q": q})
