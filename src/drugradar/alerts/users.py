"""Local accounts, their passwords and their API keys.

Passwords and API keys are stored only as argon2id hashes (``PasswordHasher``): a copy of the
database gives neither. An API key ``dr_<prefix>_<secret>`` is shown once, when it is made; its
8-character prefix is kept in clear so a request finds its row without trying every hash, and so
the owner can tell keys apart. Functions that read or change an account's keys take the acting
user and refuse anyone else (an admin may revoke any key).
"""

from __future__ import annotations

import functools
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from sqlalchemy import Connection, Engine, Row, func, insert, select, update
from sqlalchemy.exc import IntegrityError

from drugradar.model.subscription import Role, User
from drugradar.store.schema import api_key, user_account

MIN_PASSWORD = 10
KEY_PREFIX = "dr_"
PREFIX_LEN = 8  # secrets.token_urlsafe(6): 6 random bytes, 8 url-safe characters
SECRET_BYTES = 32

# Module-level so a test (or a small deployment) can swap in cheaper parameters; hashes made
# with other parameters still verify and are upgraded on the next successful log-in.
HASHER = PasswordHasher()


class AccountError(ValueError):
    """An account or key that cannot be made or changed as asked; the message says why."""


class EmailTaken(AccountError):
    """Another account already uses this email."""


class NotAllowed(PermissionError):
    """The acting user may not do this (not theirs, not an admin, or disabled)."""


@dataclass(slots=True)
class ApiKeyInfo:
    """What may be shown about a key after it was made: never the key or its hash."""

    id: int
    prefix: str
    name: str
    created_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None

    @property
    def revoked(self) -> bool:
        return self.revoked_at is not None


def _now() -> datetime:
    return datetime.now(UTC)


def _aware(value: datetime | None) -> datetime | None:
    """SQLite gives naive datetimes back; every time stored here is UTC."""
    if value is not None and value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value


def normalize_email(email: str) -> str:
    """The stored form of an email (trimmed, lower-case), or AccountError if it is not one."""
    email = email.strip().lower()
    local, at, domain = email.partition("@")
    if (
        not at
        or not local
        or "@" in domain
        or "." not in domain
        or domain.startswith(".")
        or domain.endswith(".")
        or ".." in domain
        or any(ch.isspace() for ch in email)
        or len(email) > 320
    ):
        raise AccountError(f"{email!r} is not an email address.")
    return email


def _user(row: Row[Any]) -> User:
    created = _aware(row.created_at)
    assert created is not None
    return User(id=row.id, email=row.email, role=Role(row.role), created_at=created)


_USER_COLS = (
    user_account.c.id,
    user_account.c.email,
    user_account.c.role,
    user_account.c.created_at,
)


def create_user(engine: Engine, email: str, password: str, role: Role = Role.USER) -> User:
    """A new enabled account; the password is kept only as its argon2id hash."""
    email = normalize_email(email)
    if len(password) < MIN_PASSWORD:
        raise AccountError(f"The password needs at least {MIN_PASSWORD} characters.")
    role = Role(role)
    if user_by_email(engine, email) is not None:
        raise EmailTaken(f"An account with the email {email} already exists.")
    created = _now()
    try:
        with engine.begin() as conn:
            user_id = conn.execute(
                insert(user_account)
                .values(
                    email=email,
                    password_hash=HASHER.hash(password),
                    role=role.value,
                    created_at=created,
                    disabled=False,
                )
                .returning(user_account.c.id)
            ).scalar_one()
    except IntegrityError:  # a concurrent sign-up with the same email won the race
        raise EmailTaken(f"An account with the email {email} already exists.") from None
    return User(id=user_id, email=email, role=role, created_at=created)


@functools.cache
def _dummy_hash(hasher: PasswordHasher) -> str:
    return hasher.hash(secrets.token_urlsafe(16))


def _verify(hashed: str | None, secret: str) -> bool:
    """Whether ``secret`` matches ``hashed``; with no hash, spend the same time and say no."""
    try:
        return HASHER.verify(hashed or _dummy_hash(HASHER), secret) and hashed is not None
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def authenticate(engine: Engine, email: str, password: str) -> User | None:
    """The account for this email and password, or None (unknown, wrong or disabled alike)."""
    try:
        email = normalize_email(email)
    except AccountError:
        _verify(None, password)
        return None
    with engine.connect() as conn:
        row = conn.execute(
            select(*_USER_COLS, user_account.c.password_hash, user_account.c.disabled).where(
                user_account.c.email == email
            )
        ).one_or_none()
    if not _verify(row.password_hash if row else None, password) or row is None:
        return None
    if row.disabled:
        return None
    if HASHER.check_needs_rehash(row.password_hash):
        with engine.begin() as conn:
            conn.execute(
                update(user_account)
                .where(user_account.c.id == row.id)
                .values(password_hash=HASHER.hash(password))
            )
    return _user(row)


def get_user(engine: Engine, user_id: int) -> User | None:
    with engine.connect() as conn:
        row = conn.execute(select(*_USER_COLS).where(user_account.c.id == user_id)).one_or_none()
    return _user(row) if row else None


def user_by_email(engine: Engine, email: str) -> User | None:
    """The account for ``email`` (any case, surrounding blanks ignored), or None."""
    email = email.strip().lower()
    with engine.connect() as conn:
        row = conn.execute(select(*_USER_COLS).where(user_account.c.email == email)).one_or_none()
    return _user(row) if row else None


def _require_admin(conn: Connection, acting_user_id: int) -> None:
    row = conn.execute(
        select(user_account.c.role, user_account.c.disabled).where(
            user_account.c.id == acting_user_id
        )
    ).one_or_none()
    if row is None or row.disabled or row.role != Role.ADMIN.value:
        raise NotAllowed("Only an administrator may do this.")


def set_role(engine: Engine, acting_user_id: int, user_id: int, role: Role) -> User:
    """Make ``user_id`` a user or an admin (admins only; the last enabled admin stays one)."""
    role = Role(role)
    with engine.begin() as conn:
        _require_admin(conn, acting_user_id)
        row = conn.execute(
            select(user_account.c.role).where(user_account.c.id == user_id)
        ).one_or_none()
        if row is None:
            raise AccountError(f"There is no account {user_id}.")
        if row.role == Role.ADMIN.value and role is not Role.ADMIN:
            admins = conn.execute(
                select(func.count()).where(
                    user_account.c.role == Role.ADMIN.value, user_account.c.disabled.is_(False)
                )
            ).scalar_one()
            if admins <= 1:
                raise AccountError("The last administrator cannot stop being one.")
        conn.execute(
            update(user_account).where(user_account.c.id == user_id).values(role=role.value)
        )
    user = get_user(engine, user_id)
    assert user is not None
    return user


def create_api_key(engine: Engine, user_id: int, name: str) -> tuple[str, ApiKeyInfo]:
    """A new key for the acting user ``user_id``: the full key is returned here and only here."""
    name = name.strip()
    if not name or len(name) > 200:
        raise AccountError("An API key needs a name of 1 to 200 characters.")
    with engine.connect() as conn:
        disabled = conn.execute(
            select(user_account.c.disabled).where(user_account.c.id == user_id)
        ).scalar_one_or_none()
    if disabled is None or disabled:
        raise NotAllowed("Only an enabled account can have API keys.")
    created = _now()
    for _attempt in range(5):  # a prefix collision (48 random bits) is retried
        prefix = secrets.token_urlsafe(6)
        key = f"{KEY_PREFIX}{prefix}_{secrets.token_urlsafe(SECRET_BYTES)}"
        try:
            with engine.begin() as conn:
                key_id = conn.execute(
                    insert(api_key)
                    .values(
                        user_id=user_id,
                        prefix=prefix,
                        key_hash=HASHER.hash(key),
                        name=name,
                        created_at=created,
                    )
                    .returning(api_key.c.id)
                ).scalar_one()
        except IntegrityError:
            continue
        return key, ApiKeyInfo(key_id, prefix, name, created, None, None)
    raise RuntimeError("Could not draw an unused API key prefix.")


def list_api_keys(engine: Engine, user_id: int) -> list[ApiKeyInfo]:
    """The acting user's own keys, oldest first (prefix and dates, never the key)."""
    k = api_key.c
    with engine.connect() as conn:
        rows = conn.execute(
            select(k.id, k.prefix, k.name, k.created_at, k.last_used_at, k.revoked_at)
            .where(k.user_id == user_id)
            .order_by(k.id)
        ).all()
    out = []
    for r in rows:
        created = _aware(r.created_at)
        assert created is not None
        out.append(
            ApiKeyInfo(
                r.id, r.prefix, r.name, created, _aware(r.last_used_at), _aware(r.revoked_at)
            )
        )
    return out


def revoke_api_key(engine: Engine, acting_user_id: int, key_id: int) -> None:
    """Revoke a key for good (its owner or an admin; revoking twice keeps the first time)."""
    with engine.begin() as conn:
        owner = conn.execute(
            select(api_key.c.user_id).where(api_key.c.id == key_id)
        ).scalar_one_or_none()
        if owner != acting_user_id:
            try:
                _require_admin(conn, acting_user_id)
            except NotAllowed:  # another's key reads like a missing one: no leak of ids
                raise NotAllowed(f"You have no API key {key_id}.") from None
            if owner is None:
                raise AccountError(f"There is no API key {key_id}.")
        conn.execute(
            update(api_key)
            .where(api_key.c.id == key_id, api_key.c.revoked_at.is_(None))
            .values(revoked_at=_now())
        )


def _split_key(key: str) -> str | None:
    """The prefix of a well-formed ``dr_<prefix>_<secret>`` key (prefix and secret may hold
    ``_`` themselves, so positions decide, not splitting)."""
    key = key.strip()
    head = len(KEY_PREFIX) + PREFIX_LEN
    if not key.startswith(KEY_PREFIX) or len(key) < head + 2 or key[head] != "_":
        return None
    return key[len(KEY_PREFIX) : head]


def user_for_api_key(engine: Engine, key: str) -> User | None:
    """The enabled account a live key belongs to, or None; a hit records ``last_used_at``."""
    prefix = _split_key(key)
    if prefix is None:
        return None
    key = key.strip()
    u, k = user_account.c, api_key.c
    with engine.connect() as conn:
        row = conn.execute(
            select(*_USER_COLS, u.disabled, k.id.label("key_id"), k.key_hash, k.revoked_at)
            .join_from(api_key, user_account, k.user_id == u.id)
            .where(k.prefix == prefix)
        ).one_or_none()
    if not _verify(row.key_hash if row else None, key) or row is None:
        return None
    if row.revoked_at is not None or row.disabled:
        return None
    with engine.begin() as conn:
        conn.execute(update(api_key).where(k.id == row.key_id).values(last_used_at=_now()))
    return _user(row)
