"""Who is signed in to the pages: the session's user id (set at log-in), nothing else.

API keys are for programs (``drugradar.api.deps``); a page never reads one.
"""

from __future__ import annotations

from urllib.parse import quote

from fastapi import Request
from fastapi.responses import RedirectResponse

from drugradar.alerts.users import get_user
from drugradar.model.subscription import User

_KEY = "user_id"


def current_user(request: Request) -> User | None:
    cached = request.scope.get("drugradar.web_user", False)
    if cached is not False:
        return cached  # type: ignore[no-any-return]
    uid = request.session.get(_KEY)
    user = get_user(request.app.state.engine, uid) if isinstance(uid, int) else None
    request.scope["drugradar.web_user"] = user
    return user


def sign_in(request: Request, user: User) -> None:
    """A new session for ``user`` (what an anonymous visitor's session held is dropped)."""
    request.session.clear()
    request.session[_KEY] = user.id
    request.scope["drugradar.web_user"] = user


def sign_out(request: Request) -> None:
    request.session.clear()
    request.scope["drugradar.web_user"] = None


def login_redirect(request: Request) -> RedirectResponse:
    """To the log-in page, coming back here afterwards."""
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    return RedirectResponse(f"/login?next={quote(target, safe='')}", status_code=303)


def safe_next(target: str | None) -> str:
    """Only a local path: an open redirect would let another site borrow our log-in page."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/"
    return target
