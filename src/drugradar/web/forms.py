"""Reading POSTed forms: the CSRF check first, then plain string fields."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData

from drugradar.web.auth import current_user, login_redirect
from drugradar.web.csrf import FIELD, CsrfError, verify
from drugradar.web.render import error_page


class Form:
    """A submitted form whose CSRF token was checked (``CsrfError`` otherwise)."""

    def __init__(self, request: Request, data: FormData) -> None:
        token = data.get(FIELD)
        verify(request, token if isinstance(token, str) else None)
        self._data = data

    def get(self, name: str, default: str = "") -> str:
        value = self._data.get(name)
        return clean(value) if isinstance(value, str) else default

    def getlist(self, name: str) -> list[str]:
        return [clean(v) for v in self._data.getlist(name) if isinstance(v, str)]

    def checked(self, name: str) -> bool:
        return self.get(name) in ("on", "1", "true", "yes")


async def read_form(request: Request) -> Form:
    return Form(request, await request.form())


async def signed_in_post(request: Request, handle: Callable[[Form], Response]) -> Response:
    """A signed-in person's form: log in first, the CSRF token checked (403 page otherwise),
    then ``handle`` in a worker thread (it reads and writes the database)."""
    if current_user(request) is None:
        return login_redirect(request)
    try:
        form = await read_form(request)
    except CsrfError as exc:
        return error_page(request, 403, str(exc))
    return await run_in_threadpool(handle, form)


__all__ = ["CsrfError", "Form", "clean", "read_form", "signed_in_post"]


def clean(text: str, limit: int = 2000) -> str:
    """A value as the database may compare it: no NUL characters (PostgreSQL refuses them),
    trimmed, at most ``limit`` characters."""
    return text.replace("\x00", "").strip()[:limit]


def as_int(value: Any, default: int) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return default
