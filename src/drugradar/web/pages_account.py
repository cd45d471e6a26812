"""Log in, log out, API keys and the inbox: the signed-in user's own pages."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from drugradar.alerts import inbox as inbox_lib
from drugradar.alerts.subscriptions import NotFound
from drugradar.alerts.users import (
    AccountError,
    NotAllowed,
    authenticate,
    create_api_key,
    list_api_keys,
    revoke_api_key,
)
from drugradar.web.auth import current_user, login_redirect, safe_next, sign_in, sign_out
from drugradar.web.csrf import rotate
from drugradar.web.forms import CsrfError, Form, as_int, read_form, signed_in_post
from drugradar.web.render import error_page, page

router = APIRouter()
INBOX_PAGE = 200


@router.get("/login", response_class=HTMLResponse)
def login_form(request: Request, next: str = "/") -> HTMLResponse:
    return page(
        request,
        "login.html",
        {"title": "Log in", "next": safe_next(next), "error": None, "email": ""},
    )


def _login(request: Request, form: Form) -> Response:
    email, target = form.get("email"), safe_next(form.get("next"))
    user = authenticate(request.app.state.engine, email, form.get("password"))
    if user is None:
        return page(
            request,
            "login.html",
            {
                "title": "Log in",
                "next": target,
                "email": email,
                "error": "That email and password do not match an account.",
            },
            status=400,
        )
    sign_in(request, user)
    rotate(request)
    return RedirectResponse(target, status_code=303)


@router.post("/login", response_class=HTMLResponse)
async def login(request: Request) -> Response:
    try:
        form = await read_form(request)
    except CsrfError as exc:
        return error_page(request, 403, str(exc))
    return await run_in_threadpool(_login, request, form)


@router.get("/logout", response_class=HTMLResponse)
def logout_form(request: Request) -> HTMLResponse:
    return page(request, "logout.html", {"title": "Log out"})


@router.post("/logout", response_class=HTMLResponse)
async def logout(request: Request) -> Response:
    try:
        await read_form(request)
    except CsrfError as exc:
        return error_page(request, 403, str(exc))
    sign_out(request)
    rotate(request)
    return RedirectResponse("/", status_code=303)


def _keys_page(request: Request, new_key: str | None = None, error: str | None = None) -> Response:
    user = current_user(request)
    assert user is not None
    keys = list_api_keys(request.app.state.engine, user.id)
    return page(
        request,
        "keys.html",
        {"title": "API keys", "keys": keys, "new_key": new_key, "error": error},
        status=400 if error else 200,
    )


@router.get("/keys", response_class=HTMLResponse)
def keys(request: Request) -> Response:
    if current_user(request) is None:
        return login_redirect(request)
    return _keys_page(request)


def _create_key(request: Request, form: Form) -> Response:
    user = current_user(request)
    assert user is not None
    try:
        key, _info = create_api_key(request.app.state.engine, user.id, form.get("name"))
    except (AccountError, NotAllowed) as exc:
        return _keys_page(request, error=str(exc))
    return _keys_page(request, new_key=key)


@router.post("/keys", response_class=HTMLResponse)
async def new_key(request: Request) -> Response:
    return await signed_in_post(request, lambda form: _create_key(request, form))


def _revoke(request: Request, key_id: int) -> Response:
    user = current_user(request)
    assert user is not None
    try:
        revoke_api_key(request.app.state.engine, user.id, key_id)
    except (AccountError, NotAllowed) as exc:
        return error_page(request, 404, str(exc))
    return RedirectResponse("/keys", status_code=303)


@router.post("/keys/{key_id}/revoke", response_class=HTMLResponse)
async def revoke(request: Request, key_id: str) -> Response:
    return await signed_in_post(request, lambda _form: _revoke(request, as_int(key_id, 0)))


@router.get("/inbox", response_class=HTMLResponse)
def inbox_page(request: Request) -> Response:
    user = current_user(request)
    if user is None:
        return login_redirect(request)
    engine = request.app.state.engine
    items = inbox_lib.inbox(engine, user.id, limit=INBOX_PAGE)
    unread = inbox_lib.unread_count(engine, user.id)
    return page(request, "inbox.html", {"title": "Inbox", "items": items, "unread": unread})


def _mark_read(request: Request, form: Form) -> Response:
    user = current_user(request)
    assert user is not None
    one = form.get("id")
    ids = None if not one else [as_int(one, 0)]
    try:
        inbox_lib.mark_read(request.app.state.engine, user.id, ids)
    except NotFound as exc:
        return error_page(request, 404, str(exc))
    return RedirectResponse("/inbox", status_code=303)


@router.post("/inbox/read", response_class=HTMLResponse)
async def inbox_read(request: Request) -> Response:
    return await signed_in_post(request, lambda form: _mark_read(request, form))
