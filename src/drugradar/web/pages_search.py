"""Home, search (facets, sort, export, Set Alert) and the suggestions fragment."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from drugradar.search.query import SearchError, SearchQuery
from drugradar.web.forms import clean
from drugradar.web.render import page, templates
from drugradar.web.search_results import SORTS, search
from drugradar.web.suggest import resolver_of, suggestions

router = APIRouter()
FILTERS = ("phase", "activity", "modality", "target", "indication", "organization", "country")


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
    default = "relevance" if params.get("q") else "phase"  # no text: most advanced first
    sort = params.get("sort", default)
    sort = sort if sort in SORTS else default
    try:
        q = query_of(params)
    except SearchError as exc:
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
    try:
        number = int(params.get("page", "1"))
    except ValueError:
        number = 1
    results = search(request.app.state.engine, q, resolver_of(request), sort=sort, page=number)
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
    found = suggestions(request.app.state.engine, resolver_of(request), clean(q, 200))
    return templates.TemplateResponse(request, "_suggest.html", {"items": found, "q": q})
