"""Landscapes of a target, a disease or an organization: drugs by highest phase."""

from __future__ import annotations

from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from drugradar.web.forms import clean
from drugradar.web.landscape_data import KINDS, landscape
from drugradar.web.render import error_page, page

router = APIRouter()
ALERT_KIND = {"target": "target", "disease": "disease", "organization": "organization"}


@router.get("/landscape/{kind}/{ref:path}", response_class=HTMLResponse)
def landscape_page(
    request: Request,
    kind: str,
    ref: str,
    modality: str = "",
    country: str = "",
    include: str = "",
) -> HTMLResponse:
    ref, modality, country = clean(ref, 400), clean(modality, 100), clean(country, 100)
    if kind not in KINDS:
        return error_page(request, 404, "A landscape is of a target, a disease or an organization.")
    found = landscape(
        request.app.state.engine,
        kind,
        ref[:400],
        modality=modality or None,
        country=country or None,
        include_inactive=include == "all",
    )
    if found is None:
        return error_page(request, 404, f"No {kind} “{ref[:300]}” is known.")
    return page(
        request,
        "landscape.html",
        {
            "title": f"Landscape: {found.title}",
            "l": found,
            "filters": {"modality": modality, "country": country, "include": include},
            "alert_link": "/alerts/new?" + urlencode({"kind": ALERT_KIND[kind], "ref": found.ref}),
        },
    )
