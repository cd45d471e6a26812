"""Reading POSTed forms: the CSRF check first, then plain string fields."""

from __future__ import annotations

from typing import Any

from fastapi import Request
from starlette.datastructures import FormData

from drugradar.web.csrf import FIELD, CsrfError, verify


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


__all__ = ["CsrfError", "Form", "clean", "read_form"]


def clean(text: str, limit: int = 2000) -> str:
    """A value as the database may compare it: no NUL characters (PostgreSQL refuses them),
    trimmed, at most ``limit`` characters."""
    return text.replace("\x00", "").strip()[:limit]


def as_int(value: Any, default: int) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return default
