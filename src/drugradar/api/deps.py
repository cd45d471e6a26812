"""Request dependencies shared by the API and the pages: the engine, and who is asking.

A program authenticates with an API key (``Authorization: Bearer dr_…`` or ``X-API-Key``); a
person with the session cookie set at log-in. Per-user data is only ever read for that user.
"""

from __future__ import annotations

from fastapi import HTTPException, Request
from sqlalchemy import Engine

from drugradar.alerts.users import get_user, user_for_api_key
from drugradar.model.subscription import User


def engine_of(request: Request) -> Engine:
    engine: Engine = request.app.state.engine
    return engine


def api_key_of(request: Request) -> str | None:
    auth = request.headers.get("authorization", "")
    if auth.lower().startswith("bearer "):
        return auth[7:].strip() or None
    return request.headers.get("x-api-key") or None


def optional_user(request: Request) -> User | None:
    """The API key's user, else the session's user, else None."""
    engine = engine_of(request)
    key = api_key_of(request)
    if key is not None:
        user = user_for_api_key(engine, key)
        if user is None:
            raise HTTPException(401, "The API key is not valid (revoked, or mistyped).")
        return user
    uid = request.session.get("user_id") if "session" in request.scope else None
    if isinstance(uid, int):
        return get_user(engine, uid)
    return None


def require_user(request: Request) -> User:
    user = optional_user(request)
    if user is None:
        raise HTTPException(
            401,
            "Sign in, or send an API key as 'Authorization: Bearer <key>'.",
            headers={"WWW-Authenticate": "Bearer"},
        )
    return user
