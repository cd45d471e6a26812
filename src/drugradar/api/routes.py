"""The JSON API routes (``/api/…``, ``/feeds/…``, ``/unsubscribe``), one router for the app."""

from __future__ import annotations

from fastapi import APIRouter, Request

from drugradar.api import routes_alerts, routes_drugs, routes_landscape
from drugradar.api.deps import engine_of

router = APIRouter()


@router.get("/api/health", tags=["meta"])
def health(request: Request) -> dict[str, str]:
    """Liveness: the database answers."""
    with engine_of(request).connect() as conn:
        conn.exec_driver_sql("SELECT 1")
    return {"status": "ok"}


router.include_router(routes_drugs.router)
router.include_router(routes_landscape.router)
router.include_router(routes_alerts.router)
