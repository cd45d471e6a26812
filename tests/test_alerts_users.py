"""Accounts, API keys and signed tokens: who gets in, whose keys work, which links are genuine."""

from __future__ import annotations

import base64
import hashlib
import re
from collections.abc import Iterator

import pytest
from argon2 import PasswordHasher
from sqlalchemy import Engine, select, update

from drugradar.alerts import tokens, users
from drugradar.alerts.users import (
    AccountError,
    EmailTaken,
    NotAllowed,
    authenticate,
    create_api_key,
    create_user,
    get_user,
    list_api_keys,
    normalize_email,
    revoke_api_key,
    set_role,
    user_by_email,
    user_for_api_key,
)
from drugradar.model.subscription import Role
from drugradar.store.schema import api_key, user_account

PASSWORD = "correct horse battery"
SECRET = b"k" * 32


@pytest.fixture(autouse=True)
def cheap_hasher(monkeypatch: pytest.MonkeyPatch) -> Iterator[PasswordHasher]:
    """Real argon2id, with small parameters so the file stays fast."""
    hasher = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)
    monkeypatch.setattr(users, "HASHER", hasher)
    yield hasher


def _stored_hash(engine: Engine, user_id: int) -> str:
    with engine.connect() as conn:
        return str(
            conn.execute(
                select(user_account.c.password_hash).where(user_account.c.id == user_id)
            ).scalar_one()
        )


def _disable(engine: Engine, user_id: int) -> None:
    with engine.begin() as conn:
        conn.execute(update(user_account).where(user_account.c.id == user_id).values(disabled=True))


# --- accounts -----------------------------------------------------------------------------


def test_create_and_authenticate(engine: Engine) -> None:
    user = create_user(engine, "  Alice@Example.ORG ", PASSWORD)
    assert user.email == "alice@example.org"
    assert user.role is Role.USER
    assert user.created_at.tzinfo is not None
    stored = _stored_hash(engine, user.id)
    assert stored.startswith("$argon2id$") and PASSWORD not in stored

    again = authenticate(engine, "ALICE@example.org", PASSWORD)
    assert again is not None and again.id == user.id
    assert get_user(engine, user.id) == again
    assert user_by_email(engine, " alice@EXAMPLE.org") == again
    assert get_user(engine, user.id + 1000) is None


def test_wrong_password_and_unknown_user(engine: Engine) -> None:
    create_user(engine, "alice@example.org", PASSWORD)
    assert authenticate(engine, "alice@example.org", PASSWORD + "!") is None
    assert authenticate(engine, "alice@example.org", "") is None
    assert authenticate(engine, "nobody@example.org", PASSWORD) is None
    assert authenticate(engine, "not an email", PASSWORD) is None


def test_duplicate_email(engine: Engine) -> None:
    create_user(engine, "alice@example.org", PASSWORD)
    with pytest.raises(EmailTaken, match=r"alice@example\.org") as info:
        create_user(engine, "ALICE@example.org ", "another password")
    assert isinstance(info.value, ValueError)
    # the first account is untouched
    assert authenticate(engine, "alice@example.org", PASSWORD) is not None
    assert authenticate(engine, "alice@example.org", "another password") is None


def test_short_password(engine: Engine) -> None:
    with pytest.raises(AccountError, match="at least 10 characters"):
        create_user(engine, "alice@example.org", "x" * 9)
    assert user_by_email(engine, "alice@example.org") is None
    create_user(engine, "alice@example.org", "x" * 10)  # the boundary is allowed


@pytest.mark.parametrize(
    "email", ["alice", "alice@example", "a@b@example.org", "@example.org", "a@.org", "a b@c.org"]
)
def test_invalid_email(email: str) -> None:
    with pytest.raises(AccountError, match="not an email address"):
        normalize_email(email)


def test_create_user_refuses_invalid_email(engine: Engine) -> None:
    with pytest.raises(AccountError, match="not an email address"):
        create_user(engine, "alice@example", PASSWORD)
    assert user_by_email(engine, "alice@example") is None


def test_disabled_user_cannot_log_in(engine: Engine) -> None:
    user = create_user(engine, "alice@example.org", PASSWORD)
    key, _ = create_api_key(engine, user.id, "laptop")
    assert user_for_api_key(engine, key) is not None
    _disable(engine, user.id)
    assert authenticate(engine, "alice@example.org", PASSWORD) is None
    assert user_for_api_key(engine, key) is None


def test_rehash_on_login_when_parameters_change(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    user = create_user(engine, "alice@example.org", PASSWORD)
    old = _stored_hash(engine, user.id)
    stronger = PasswordHasher(time_cost=2, memory_cost=16, parallelism=1)
    assert stronger.check_needs_rehash(old)
    monkeypatch.setattr(users, "HASHER", stronger)

    assert authenticate(engine, "alice@example.org", PASSWORD) is not None
    new = _stored_hash(engine, user.id)
    assert new != old and not stronger.check_needs_rehash(new)
    assert authenticate(engine, "alice@example.org", PASSWORD) is not None
    assert authenticate(engine, "alice@example.org", "wrong password!") is None


def test_set_role_admin_only(engine: Engine) -> None:
    admin = create_user(engine, "admin@example.org", PASSWORD, Role.ADMIN)
    alice = create_user(engine, "alice@example.org", PASSWORD)
    bob = create_user(engine, "bob@example.org", PASSWORD)

    with pytest.raises(NotAllowed, match="administrator"):
        set_role(engine, alice.id, bob.id, Role.ADMIN)
    assert get_user(engine, bob.id).role is Role.USER  # type: ignore[union-attr]

    with pytest.raises(NotAllowed):  # nor on herself
        set_role(engine, alice.id, alice.id, Role.ADMIN)

    assert set_role(engine, admin.id, alice.id, Role.ADMIN).role is Role.ADMIN
    assert get_user(engine, alice.id).role is Role.ADMIN  # type: ignore[union-attr]
    # two admins: one may step down; then the last one may not
    assert set_role(engine, alice.id, admin.id, Role.USER).role is Role.USER
    with pytest.raises(AccountError, match="last administrator"):
        set_role(engine, alice.id, alice.id, Role.USER)
    with pytest.raises(AccountError, match="no account"):
        set_role(engine, alice.id, 9999, Role.ADMIN)


def test_disabled_admin_cannot_act(engine: Engine) -> None:
    admin = create_user(engine, "admin@example.org", PASSWORD, Role.ADMIN)
    alice = create_user(engine, "alice@example.org", PASSWORD)
    _disable(engine, admin.id)
    with pytest.raises(NotAllowed):
        set_role(engine, admin.id, alice.id, Role.ADMIN)


# --- API keys -----------------------------------------------------------------------------


def test_api_key_shown_once(engine: Engine) -> None:
    alice = create_user(engine, "alice@example.org", PASSWORD)
    key, info = create_api_key(engine, alice.id, "laptop")
    m = re.fullmatch(r"dr_([A-Za-z0-9_-]{8})_([A-Za-z0-9_-]+)", key)
    assert m is not None
    assert m.group(1) == info.prefix
    assert len(base64.urlsafe_b64decode(m.group(2) + "=" * (-len(m.group(2)) % 4))) == 32
    assert info.name == "laptop" and not info.revoked and info.last_used_at is None

    listed = list_api_keys(engine, alice.id)
    assert [k.id for k in listed] == [info.id]
    shown = repr(listed)
    assert key not in shown and m.group(2) not in shown
    with engine.connect() as conn:
        row = conn.execute(select(api_key).where(api_key.c.id == info.id)).one()
    assert key not in tuple(str(v) for v in row)
    assert row.key_hash.startswith("$argon2id$")

    found = user_for_api_key(engine, key)
    assert found is not None and found.id == alice.id
    used = list_api_keys(engine, alice.id)[0].last_used_at
    assert used is not None and used >= info.created_at


def test_api_key_wrong_secret_or_malformed(engine: Engine) -> None:
    alice = create_user(engine, "alice@example.org", PASSWORD)
    key, info = create_api_key(engine, alice.id, "ci")
    forged = key[:-4] + ("AAAA" if not key.endswith("AAAA") else "BBBB")
    assert user_for_api_key(engine, forged) is None
    assert user_for_api_key(engine, f"dr_{info.prefix}") is None
    assert user_for_api_key(engine, "") is None
    assert user_for_api_key(engine, "xx" + key[2:]) is None
    assert list_api_keys(engine, alice.id)[0].last_used_at is None


def test_keys_are_per_user(engine: Engine) -> None:
    alice = create_user(engine, "alice@example.org", PASSWORD)
    bob = create_user(engine, "bob@example.org", PASSWORD)
    admin = create_user(engine, "admin@example.org", PASSWORD, Role.ADMIN)
    a_key, a_info = create_api_key(engine, alice.id, "alice's")
    b_key, b_info = create_api_key(engine, bob.id, "bob's")

    assert [k.id for k in list_api_keys(engine, alice.id)] == [a_info.id]
    assert [k.id for k in list_api_keys(engine, bob.id)] == [b_info.id]

    with pytest.raises(PermissionError):
        revoke_api_key(engine, bob.id, a_info.id)
    assert user_for_api_key(engine, a_key).id == alice.id  # type: ignore[union-attr]
    assert not list_api_keys(engine, alice.id)[0].revoked

    revoke_api_key(engine, admin.id, a_info.id)  # an admin may
    assert user_for_api_key(engine, a_key) is None
    assert user_for_api_key(engine, b_key).id == bob.id  # type: ignore[union-attr]

    with pytest.raises(PermissionError):  # a missing key reads like another's
        revoke_api_key(engine, bob.id, 9999)
    with pytest.raises(AccountError):
        revoke_api_key(engine, admin.id, 9999)


def test_revoked_key_refused(engine: Engine) -> None:
    alice = create_user(engine, "alice@example.org", PASSWORD)
    key, info = create_api_key(engine, alice.id, "old")
    keep, _ = create_api_key(engine, alice.id, "new")
    revoke_api_key(engine, alice.id, info.id)
    assert user_for_api_key(engine, key) is None
    assert user_for_api_key(engine, keep) is not None
    listed = {k.id: k for k in list_api_keys(engine, alice.id)}
    first = listed[info.id].revoked_at
    assert first is not None
    revoke_api_key(engine, alice.id, info.id)  # twice: the first time stays
    assert list_api_keys(engine, alice.id)[0].revoked_at == first


# --- signed tokens ------------------------------------------------------------------------


def test_token_round_trip() -> None:
    token = tokens.sign("unsubscribe", "42", SECRET)
    assert re.fullmatch(r"[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+", token)
    assert tokens.verify("unsubscribe", token, SECRET) == "42"
    value = "a:b.c/ü"
    assert tokens.verify("x", tokens.sign("x", value, SECRET), SECRET) == value


def test_token_tampered() -> None:
    token = tokens.sign("unsubscribe", "42", SECRET)
    body, mac = token.split(".")
    payload = base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)).decode()
    stamp = payload.split(":", 1)[0]
    other = base64.urlsafe_b64encode(f"{stamp}:43".encode()).rstrip(b"=").decode()
    assert tokens.verify("unsubscribe", f"{other}.{mac}", SECRET) is None
    flipped = mac[:-1] + ("A" if mac[-1] != "A" else "B")  # may differ in unused bits only
    assert tokens.verify("unsubscribe", f"{body}.{flipped}", SECRET) is None
    first = ("A" if mac[0] != "A" else "B") + mac[1:]  # a different MAC byte
    assert tokens.verify("unsubscribe", f"{body}.{first}", SECRET) is None
    for bad in ("", ".", token.replace(".", ""), f"{body}.", f"{body}.!!", "a.b.c"):
        assert tokens.verify("unsubscribe", bad, SECRET) is None
    assert tokens.verify("unsubscribe", token, b"another secret") is None


def test_token_wrong_purpose() -> None:
    token = tokens.sign("unsubscribe", "42", SECRET)
    assert tokens.verify("confirm-email", token, SECRET) is None
    assert tokens.verify("unsubscribe", token, SECRET) == "42"


def test_token_expiry() -> None:
    made = 1_700_000_000.0
    token = tokens.sign("reset", "7", SECRET, now=made)
    assert tokens.verify("reset", token, SECRET, max_age_s=3600, now=made + 3599) == "7"
    assert tokens.verify("reset", token, SECRET, max_age_s=3600, now=made + 3601) is None
    assert tokens.verify("reset", token, SECRET, now=made + 10**8) == "7"  # no max age given
    assert tokens.verify("reset", token, SECRET, max_age_s=3600, now=made - 86400) is None


def test_server_secret(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DRUGRADAR_SECRET", "00ff" * 8)
    assert tokens.server_secret() == bytes.fromhex("00ff" * 8)
    monkeypatch.setenv("DRUGRADAR_SECRET", "not hex, a passphrase")
    assert tokens.server_secret() == b"not hex, a passphrase"

    monkeypatch.delenv("DRUGRADAR_SECRET")
    monkeypatch.setenv("DRUGRADAR_DB", "sqlite:///one.db")
    one = tokens.server_secret()
    assert one == tokens.server_secret()  # stable across calls (and processes)
    assert one != hashlib.sha256(b"sqlite:///one.db").digest()  # salted
    monkeypatch.setenv("DRUGRADAR_DB", "sqlite:///two.db")
    assert tokens.server_secret() != one
