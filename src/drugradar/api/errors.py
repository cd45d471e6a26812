"""Every error is JSON with one clear sentence: ``{"error": "…"}``. Framework defaults ("Not
Found") become sentences; a value the database refuses is a 400; anything unexpected is a 500
that says so without a traceback (the traceback goes to the log)."""

from __future__ import annotations

import logging
from collections.abc import Sequence

import orjson
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import DataError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

log = logging.getLogger("drugradar.api")
DATA_ERROR = (
    "A value in the request is not one the database can store or compare (a NUL character, say)."
)
INTERNAL = "Something went wrong on our side; the error is logged. Please try again later."


def _sentence(request: Request, exc: StarletteHTTPException) -> str:
    if isinstance(exc.detail, str) and exc.detail not in ("Not Found", "Method Not Allowed"):
        return exc.detail
    if exc.status_code == 404:
        return f"There is nothing at {request.url.path}."
    if exc.status_code == 405:
        return f"{request.method} is not allowed on {request.url.path}."
    return "The request failed."


def validation_message(exc: RequestValidationError) -> str:
    errors = exc.errors()
    if not errors:
        return "The request is not valid."
    first = errors[0]
    where = ".".join(str(p) for p in first.get("loc", ()) if p not in ("body", "query", "path"))
    msg = str(first.get("msg", "not valid")).rstrip(".")
    return f"{where or 'request'}: {msg}."


def install(app: FastAPI) -> None:
    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        return JSONResponse(
            {"error": _sentence(request, exc)},
            status_code=exc.status_code,
            headers=getattr(exc, "headers", None),
        )

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        return JSONResponse({"error": validation_message(exc)}, status_code=422)

    @app.exception_handler(DataError)
    async def data_error(request: Request, exc: DataError) -> JSONResponse:
        log.info("database refused a value: %s", exc.orig)
        return JSONResponse({"error": DATA_ERROR}, status_code=400)


async def send_error(
    send: Send, status: int, sentence: str, headers: Sequence[tuple[bytes, bytes]] = ()
) -> None:
    """A JSON error (``{"error": sentence}``) straight from ASGI middleware, before any route."""
    body = orjson.dumps({"error": sentence})
    head = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": status, "headers": [*head, *headers]})
    await send({"type": "http.response.body", "body": body})


class CatchAll:
    """The outermost guard: an exception no handler took becomes a 500 JSON sentence (when the
    response has not started) and is logged; it is not re-raised into the server."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def watch(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, receive, watch)
        except Exception:
            log.exception("unhandled error on %s %s", scope.get("method"), scope.get("path"))
            if started:
                raise
            await send_error(send, 500, INTERNAL)
