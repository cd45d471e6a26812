"""The application: one FastAPI app serving the JSON API (``/api``), the Atom feeds (``/feeds``)
and the web pages (``/``), over one database engine.

``create_app(db_url)`` is the factory (tests make one per database); ``drugradar serve`` runs it
with uvicorn. Errors are JSON with one clear sentence for programs (``{"error": …}``) and an
HTML page for people (the web router renders its own).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.middleware.sessions import SessionMiddleware

from drugradar.alerts.tokens import server_secret
from drugradar.config import database_url
from drugradar.store import make_engine, migrate

STATIC = Path(__file__).resolve().parents[1] / "web" / "static"
SESSION_COOKIE = "drugradar_session"


def _validation_message(exc: RequestValidationError) -> str:
    errors = exc.errors()
    if not errors:
        return "The request is not valid."
    first = errors[0]
    where = ".".join(str(p) for p in first.get("loc", ()) if p not in ("body", "query", "path"))
    return f"{where or 'request'}: {first.get('msg', 'not valid')}."


def create_app(db_url: str | None = None, *, migrate_schema: bool = True) -> FastAPI:
    """The app over the database at ``db_url`` (default: ``DRUGRADAR_DB``, else the SQLite file)."""
    engine = make_engine(database_url(db_url))
    if migrate_schema:
        migrate(engine)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        yield
        engine.dispose()

    app = FastAPI(
        title="drugradar",
        summary="Open drug R&D intelligence: profiles, development status, changes, alerts.",
        version="0.1.0",
        lifespan=lifespan,
    )
    app.state.engine = engine
    app.add_middleware(
        SessionMiddleware,
        secret_key=server_secret().hex(),
        session_cookie=SESSION_COOKIE,
        same_site="lax",
        https_only=False,
    )

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        detail = exc.detail if isinstance(exc.detail, str) else "The request failed."
        return JSONResponse(
            {"error": detail}, status_code=exc.status_code, headers=getattr(exc, "headers", None)
        )

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        return JSONResponse({"error": _validation_message(exc)}, status_code=422)

    from drugradar.api.routes import router as api_router
    from drugradar.web.routes import router as web_router

    app.include_router(api_router)
    app.include_router(web_router)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    return app
