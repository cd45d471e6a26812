"""Landscapes of a target, a disease or an organization: drugs by highest phase, as a Chart.js
bar chart and a table, with filters."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from drugradar.api.deps import engine_of
from drugradar.model.devstatus import Phase
from drugradar.search.landscape import KINDS, by_phase, countries, landscape, ranked
from drugradar.web.format import phase_label
from drugradar.web.forms import clean
from drugradar.web.render import error_page, page

router = APIRouter()
CHART_PHASES = [p for p in Phase if p is not Phase.UNKNOWN]
DEFAULT_BARS = [Phase.PHASE_1, Phase.PHASE_2, Phase.PHASE_3]


def chart(counts: list[tuple[str | None, int]], title: str) -> dict[str, Any]:
    """The bar chart's data: drugs per phase reached (UNKNOWN and none counted apart)."""
    per = dict(counts)
    shown = [p for p in CHART_PHASES if per.get(p.value)] or DEFAULT_BARS
    charted = sum(per.get(p.value, 0) for p in CHART_PHASES)
    return {
        "labels": [phase_label(p.value) for p in shown],
        "phases": [p.value for p in shown],
        "counts": [per.get(p.value, 0) for p in shown],
        "no_phase": sum(per.values()) - charted,
        "title": title,
    }


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
    every = include == "all"  # inactive programs count too: phases are the highest ever
    engine = engine_of(request)
    found = landscape(
        engine,
        kind,
        ref[:400],
        modality=modality or None,
        country=country or None,
        include_inactive=every,
    )
    if found is None:
        return error_page(request, 404, f"No {kind} “{ref[:300]}” is known.")
    rows = ranked(found.rows, ever=every)
    return page(
        request,
        "landscape.html",
        {
            "title": f"Landscape: {found.title}",
            "l": found,
            "rows": rows,
            "ever": every,
            "chart": chart(by_phase(rows, ever=every), found.title),
            "modalities": sorted({r.modality for r in rows}),
            "countries": countries(engine, kind, found.ref),
            "filters": {"modality": modality, "country": country, "include": include},
            "alert_link": "/alerts/new?" + urlencode({"kind": kind, "ref": found.ref}),
        },
    )
