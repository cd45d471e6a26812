"""The web pages (server-rendered), one small router per group of pages."""

from __future__ import annotations

from fastapi import APIRouter

from drugradar.web import (
    pages_account,
    pages_alerts,
    pages_drug,
    pages_events,
    pages_landscape,
    pages_search,
)

router = APIRouter(include_in_schema=False)
for _module in (
    pages_search,
    pages_drug,
    pages_landscape,
    pages_events,
    pages_alerts,
    pages_account,
):
    router.include_router(_module.router)
