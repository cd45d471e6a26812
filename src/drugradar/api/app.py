"""The application: one FastAPI app serving the JSON API (``/api``), the Atom feeds (``/feeds``)
and the web pages (``/``), over one database engine.

``create_app(db_url)`` is the factory (tests make one per database); ``drugradar serve`` runs it
with uvicorn. Errors are JSON with one clear sentence for programs (``{"error": …}``) and an
HTML page for people (the web router renders its own).
"""

from __future__ import annotations

import gc
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import anyio.to_thread
from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles
from starlette.middleware.sessions import SessionMiddleware

from drugradar.alerts.tokens import server_secret
from drugradar.api import errors
from drugradar.api.deps import KeyCache
from drugradar.api.ratelimit import RateLimiter, RateLimitMiddleware, per_minute_from_env
from drugradar.config import database_url
from drugradar.search.name_index import NameIndexCache
from drugradar.search.suggest import ResolverCache
from drugradar.store import make_engine, migrate

STATIC = Path(__file__).resolve().parents[1] / "web" / "static"
SESSION_COOKIE = "drugradar_session"


PROCESSES_ENV = "DRUGRADAR_SERVER_PROCESSES"  # set by ``drugradar serve`` for its workers


def serving_app() -> FastAPI:
    """The factory ``drugradar serve`` gives uvicorn: the app, warmed up before it listens.

    Each of the N server processes keeps its own rate-limit buckets and allows a key 1/N of the
    limit (rounded up), so however its requests spread, a key never gets more than the limit."""
    processes = max(1, int(os.environ.get(PROCESSES_ENV, "1") or 1))
    per_minute = per_minute_from_env()
    return create_app(warm=True, rate_limit=-(-per_minute // processes))


def create_app(
    db_url: str | None = None,
    *,
    migrate_schema: bool = True,
    rate_limit: int | None = None,
    warm: bool = False,
) -> FastAPI:
    """The app over the database at ``db_url`` (default: ``DRUGRADAR_DB``, else the SQLite file);
    ``rate_limit``: requests per minute per API key (default ``DRUGRADAR_RATE_LIMIT``, 600).
    ``warm``: build the in-memory name indexes at startup rather than on the first search."""
    engine = make_engine(database_url(db_url))
    if migrate_schema:
        migrate(engine)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if warm:
            await anyio.to_thread.run_sync(_warm_up, app)
        yield
        engine.dispose()

    app = FastAPI(
        title="drugradar",
        summary="Open drug R&D intelligence: profiles, development status, changes, alerts.",
        version="0.1.0",
        lifespan=lifespan,
    )
    app.state.engine = engine
    app.state.resolvers = ResolverCache(engine)
    app.state.name_index = NameIndexCache(engine)
    app.state.key_cache = KeyCache()
    app.state.rate_limiter = RateLimiter(
        per_minute_from_env() if rate_limit is None else rate_limit
    )
    app.add_middleware(
        SessionMiddleware,
        secret_key=server_secret().hex(),
        session_cookie=SESSION_COOKIE,
        same_site="lax",
        https_only=False,
    )

    app.add_middleware(RateLimitMiddleware, limiter=app.state.rate_limiter)
    app.add_middleware(errors.CatchAll)  # outermost of ours: nothing escapes as a traceback
    errors.install(app)

    from drugradar.api.routes import router as api_router
    from drugradar.web.routes import router as web_router

    app.include_router(api_router)
    app.include_router(web_router)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    return app


def _warm_up(app: FastAPI) -> None:
    """Build the name indexes, then take everything alive now out of the collector's sight.

    The indexes and the loaded code are a few hundred thousand objects that live as long as the
    process; a full collection walks them all (~0.2 s), and one falls every so often on a
    request that made many small objects — the slowest percent of pages. Frozen, they are never
    walked again (an index rebuilt after a dictionary change is not frozen: that is rare)."""
    app.state.name_index.get()
    app.state.resolvers.get().fuzzy_index()
    gc.collect()
    gc.freeze()
