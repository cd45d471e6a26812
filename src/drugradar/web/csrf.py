"""CSRF protection for the pages' POST forms: one random token per session, sent back in a
hidden field (or the ``X-CSRF-Token`` header for htmx) and compared in constant time.

The session cookie is signed and SameSite=Lax; the token makes a forged cross-site form fail
even where a browser would send the cookie.
"""

from __future__ import annotations

import secrets

from fastapi import Request

FIELD = "csrf_token"
HEADER = "x-csrf-token"
_KEY = "csrf"


class CsrfError(Exception):
    """A POST without the session's token: refused with 403."""


def csrf_token(request: Request) -> str:
    """The session's token, made on first use."""
    token = request.session.get(_KEY)
    if not isinstance(token, str) or not token:
        token = secrets.token_urlsafe(32)
        request.session[_KEY] = token
    return token


def rotate(request: Request) -> None:
    """A fresh token (at log-in and log-out: a token seen before stops working)."""
    request.session[_KEY] = secrets.token_urlsafe(32)


def verify(request: Request, sent: str | None) -> None:
    """Raise ``CsrfError`` unless ``sent`` (the form field) or the ``X-CSRF-Token`` header
    carries the session's token."""
    expected = request.session.get(_KEY)
    sent = sent or request.headers.get(HEADER)
    if not isinstance(expected, str) or not sent or not secrets.compare_digest(sent, expected):
        raise CsrfError("The form has expired or did not come from this site; reload the page.")
