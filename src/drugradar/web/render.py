"""Rendering pages: one Jinja2 environment (autoescape on: every source text is escaped), the
context every page needs (who is signed in, the CSRF token), and the error page.

Web routes answer people with HTML, never the app's JSON errors: they render ``error.html``
themselves with the right status.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates
from jinja2 import Environment, FileSystemLoader

from drugradar.web import format as fmt
from drugradar.web.auth import current_user
from drugradar.web.csrf import FIELD, csrf_token

TEMPLATES = Path(__file__).resolve().parent / "templates"

_env = Environment(
    loader=FileSystemLoader(TEMPLATES),
    autoescape=True,
    trim_blocks=True,
    lstrip_blocks=True,
)
_env.filters.update(
    phase=fmt.phase_label,
    day=fmt.day,
    source_name=fmt.source_name,
    level_class=fmt.level_class,
    title_case=fmt.title_case,
)
_env.globals.update(csrf_field=FIELD)
templates = Jinja2Templates(env=_env)


def page(
    request: Request, name: str, context: dict[str, Any] | None = None, status: int = 200
) -> HTMLResponse:
    """The template ``name`` with ``context`` plus the signed-in user and the CSRF token."""
    ctx: dict[str, Any] = {
        "user": current_user(request),
        "csrf": csrf_token(request),
        "path": request.url.path,
    }
    ctx.update(context or {})
    return templates.TemplateResponse(request, name, ctx, status_code=status)


def error_page(request: Request, status: int, message: str) -> HTMLResponse:
    """A friendly page with one sentence saying what went wrong."""
    titles = {400: "Bad request", 403: "Not allowed", 404: "Not found"}
    return page(
        request,
        "error.html",
        {"title": titles.get(status, "Something went wrong"), "message": message},
        status=status,
    )
