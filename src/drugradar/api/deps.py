"""Request dependencies shared by the API and the pages: the engine, and who is asking.

A program authenticates with an API key (``Authorization: Bearer dr_…`` or ``X-API-Key``); a
person with the session cookie set at log-in. Per-user data is only ever read for that user.

Checking a key against its argon2 hash costs tens of milliseconds by design, so a key that
verified once is remembered (by its SHA-256, in this process) and later requests only re-read
its row: a revoked key or a disabled account is refused at once. A change made with the session
cookie (not a key) must carry the session's CSRF token in ``X-CSRF-Token``, as the pages' htmx
requests do: the cookie alone would let another site act for a signed-in person.
"""

from __future__ import annotations

import hashlib
import secrets
import threading
import time
from datetime import UTC, datetime

from fastapi import HTTPException, Request
from sqlalchemy import Engine, select, update

from drugradar.alerts.users import get_user, user_for_api_key
from drugradar.model.subscription import Role, User
from drugradar.search.name_index import NameIndex, NameIndexCache
from drugradar.search.suggest import ResolverCache
from drugradar.store.schema import api_key, user_account

SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}
CSRF_SESSION_KEY = "csrf"  # where the pages keep the session's token (web/csrf.py)
CSRF_HEADER = "x-csrf-token"
TOUCH_EVERY_S = 60.0
MAX_CACHED_KEYS = 10_000


def engine_of(request: Request) -> Engine:
    engine: Engine = request.app.state.engine
    return engine


def resolvers(request: Request) -> ResolverCache:
    cache: ResolverCache = request.app.state.resolvers
    return cache


def name_index(request: Request) -> NameIndex | None:
    """The app's in-memory name index, current (``None`` while it is being rebuilt: the search
    then reads the names in SQL)."""
    cache: NameIndexCache = request.app.state.name_index
    return cache.get()


def api_key_of(request: Request) -> str | None:
    auth = request.headers.get("authorization", "")
    if auth.lower().startswith("bearer "):
        return auth[7:].strip() or None
    return request.headers.get("x-api-key") or None


class KeyCache:
    """Keys that verified: SHA-256 of the key -> (key id, last time ``last_used_at`` was set)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._known: dict[bytes, tuple[int, float]] = {}

    def user(self, engine: Engine, key: str) -> User | None:
        digest = hashlib.sha256(key.strip().encode()).digest()
        with self._lock:
            hit = self._known.get(digest)
        if hit is None:
            return self._verify(engine, key, digest)
        key_id, touched = hit
        k, u = api_key.c, user_account.c
        with engine.connect() as conn:
            row = conn.execute(
                select(u.id, u.email, u.role, u.created_at, u.disabled, k.revoked_at)
                .join_from(api_key, user_account, k.user_id == u.id)
                .where(k.id == key_id)
            ).one_or_none()
        if row is None or row.revoked_at is not None or row.disabled:
            with self._lock:
                self._known.pop(digest, None)
            return None
        now = time.monotonic()
        if now - touched > TOUCH_EVERY_S:
            with engine.begin() as conn:
                conn.execute(
                    update(api_key).where(k.id == key_id).values(last_used_at=datetime.now(UTC))
                )
            with self._lock:
                self._known[digest] = (key_id, now)
        created = row.created_at
        if created.tzinfo is None:
            created = created.replace(tzinfo=UTC)
        return User(id=row.id, email=row.email, role=Role(row.role), created_at=created)

    def _verify(self, engine: Engine, key: str, digest: bytes) -> User | None:
        user = user_for_api_key(engine, key)  # argon2; records last_used_at
        if user is None:
            return None
        prefix = key.strip()[3:11]
        with engine.connect() as conn:
            key_id = conn.execute(
                select(api_key.c.id).where(api_key.c.prefix == prefix)
            ).scalar_one_or_none()
        if key_id is not None:
            with self._lock:
                if len(self._known) >= MAX_CACHED_KEYS:
                    self._known.clear()
                self._known[digest] = (int(key_id), time.monotonic())
        return user


def _who(request: Request) -> tuple[User | None, str]:
    """The user and how they came: ``key``, ``session`` or ``none``."""
    cached = request.scope.get("drugradar.api_user")
    if cached is not None:
        return cached  # type: ignore[no-any-return]
    engine = engine_of(request)
    key = api_key_of(request)
    found: tuple[User | None, str]
    if key is not None:
        user = request.app.state.key_cache.user(engine, key)
        if user is None:
            raise HTTPException(401, "The API key is not valid (revoked, or mistyped).")
        found = (user, "key")
    else:
        uid = request.session.get("user_id") if "session" in request.scope else None
        user = get_user(engine, uid) if isinstance(uid, int) else None
        found = (user, "session") if user is not None else (None, "none")
    request.scope["drugradar.api_user"] = found
    return found


def optional_user(request: Request) -> User | None:
    """The API key's user, else the session's user, else None."""
    return _who(request)[0]


def require_user(request: Request) -> User:
    user, via = _who(request)
    if user is None:
        raise HTTPException(
            401,
            "Sign in, or send an API key as 'Authorization: Bearer <key>'.",
            headers={"WWW-Authenticate": "Bearer"},
        )
    if via == "session" and request.method not in SAFE_METHODS:
        expected = request.session.get(CSRF_SESSION_KEY)
        sent = request.headers.get(CSRF_HEADER)
        if not isinstance(expected, str) or not sent or not secrets.compare_digest(sent, expected):
            raise HTTPException(
                403, "A change made with the session cookie needs the page's X-CSRF-Token header."
            )
    return user
