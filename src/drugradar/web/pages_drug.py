"""The drug page: ``/drugs/{id}``; any alias in the URL redirects to the drug's id."""

from __future__ import annotations

from urllib.parse import quote

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from drugradar.api.deps import resolvers
from drugradar.profile.view import profile_of
from drugradar.web.article import article, status_source_link
from drugradar.web.forms import clean
from drugradar.web.freshness import last_sync
from drugradar.web.render import error_page, page

router = APIRouter()


@router.get("/drugs/{ref}", response_class=HTMLResponse)
def drug_page(request: Request, ref: str) -> Response:
    engine = request.app.state.engine
    ref = clean(ref, 300)
    profile = profile_of(engine, ref) if len(ref) <= 16 else None
    if profile is None:
        best = resolvers(request).get().resolve(ref[:300]).best
        if best is None:
            return error_page(request, 404, f"No drug is known by the name “{ref[:300]}”.")
        return RedirectResponse(f"/drugs/{quote(best.drug_id)}", status_code=307)
    art = article(profile)
    return page(
        request,
        "drug.html",
        {
            "title": profile["preferred_name"],
            "p": profile,
            "a": art,
            "freshness": last_sync(engine, art["sources"]),
            "source_link": status_source_link,
        },
    )
