"""The JSON API routes (``/api/…``, ``/feeds/…``)."""

from __future__ import annotations

from fastapi import APIRouter, Request

from drugradar.api.deps import engine_of

router = APIRouter()


@router.get("/api/health", tags=["meta"])
def health(request: Request) -> dict[str, str]:
    """Liveness: the database answers."""
    with engine_of(request).connect() as conn:
        conn.exec_driver_sql("SELECT 1")
    return {"status": "ok"}
