"""Set Alert over the API: a user's subscriptions (create, list, read, pause/resume, delete,
preview), their inbox, the Atom feed of a subscription (by its secret) and the one-click
unsubscribe link of digests (by its signed token).

Subscriptions and the inbox need an API key or the session; every read or change is the acting
user's own, and another user's ids answer 404 exactly like ids that do not exist.
"""

from __future__ import annotations

import html
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Path, Query, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response

from drugradar.alerts import inbox as inbox_lib
from drugradar.alerts import subscriptions as subs
from drugradar.alerts.channels.feed import atom_feed
from drugradar.alerts.preview import preview
from drugradar.alerts.tokens import server_secret, verify
from drugradar.api.deps import engine_of, require_user
from drugradar.api.models import (
    ChannelsOut,
    ErrorOut,
    EventOut,
    EventsOut,
    FollowOut,
    InboxItemOut,
    InboxOut,
    MarkReadIn,
    MarkReadOut,
    ScheduleOut,
    SubscriptionIn,
    SubscriptionOut,
    SubscriptionPatch,
    SubscriptionsOut,
    UnsubscribeOut,
)
from drugradar.model.subscription import Channels, Frequency, Schedule, Subscription, User
from drugradar.search.query import SearchError
from drugradar.track.query import as_dict

router = APIRouter()
CurrentUser = Annotated[User, Depends(require_user)]
MAX_ID = 2_147_483_647  # the columns are 32-bit integers
SubscriptionId = Annotated[int, Path(ge=1, le=MAX_ID)]
AUTH: dict[int | str, dict[str, Any]] = {401: {"model": ErrorOut}, 404: {"model": ErrorOut}}
FEED_DAYS = 90
FEED_ENTRIES = 100


def feed_url(request: Request, secret: str) -> str:
    return f"{str(request.base_url).rstrip('/')}/feeds/{secret}.atom"


def subscription_out(request: Request, s: Subscription) -> SubscriptionOut:
    return SubscriptionOut(
        id=s.id,
        name=s.name,
        follows=[
            FollowOut(kind=f.kind.value, ref=f.ref, label=f.label, alias=f.alias) for f in s.follows
        ],
        search=s.search,
        families=s.families,
        types=s.types,
        min_materiality=s.min_materiality.value,
        schedule=ScheduleOut(
            frequency=s.schedule.frequency.value,
            hour=s.schedule.hour,
            weekday=s.schedule.weekday,
            tz=s.schedule.tz,
        ),
        channels=ChannelsOut(
            emails=s.channels.emails,
            webhook_url=s.channels.webhook_url,
            inbox=s.channels.inbox,
            feed=s.channels.feed,
            apprise_urls=s.channels.apprise_urls,
        ),
        send_empty=s.send_empty,
        paused=s.paused,
        created_at=s.created_at,
        last_digest_at=s.last_digest_at,
        feed_url=feed_url(request, s.feed_secret) if s.feed_secret else None,
        webhook_secret=s.webhook_secret,
    )


def _not_found(exc: Exception) -> HTTPException:
    return HTTPException(404, str(exc))


@router.post(
    "/api/subscriptions",
    tags=["alerts"],
    status_code=201,
    response_model=SubscriptionOut,
    responses={**AUTH, 400: {"model": ErrorOut}},
)
def create_subscription(
    request: Request, user: CurrentUser, body: SubscriptionIn
) -> SubscriptionOut:
    """Set Alert: follow drugs (any name), targets, diseases, organizations or a saved search."""
    search = dict(body.search) if body.search is not None else None
    if search is not None and "q" in search:  # the name /api/drugs gives the text filter
        search["text"] = search.pop("q")
    c = body.channels
    try:
        sub = subs.add_subscription(
            engine_of(request),
            user.id,
            drugs=body.drugs,
            targets=body.targets,
            diseases=body.diseases,
            organizations=body.organizations,
            search=search,
            families=body.families,
            types=body.types,
            min_materiality=body.min_materiality,
            schedule=Schedule(
                Frequency(body.schedule.frequency),
                body.schedule.hour,
                body.schedule.weekday,
                body.schedule.tz,
            ),
            channels=Channels(
                emails=list(c.emails),
                webhook_url=c.webhook_url,
                inbox=c.inbox,
                feed=c.feed,
                apprise_urls=list(c.apprise_urls),
            ),
            send_empty=body.send_empty,
            name=body.name,
        )
    except (subs.SubscriptionError, SearchError) as exc:
        raise HTTPException(400, str(exc)) from None
    return subscription_out(request, sub)


@router.get("/api/subscriptions", tags=["alerts"], response_model=SubscriptionsOut, responses=AUTH)
def list_subscriptions(request: Request, user: CurrentUser) -> SubscriptionsOut:
    found = subs.list_subscriptions(engine_of(request), user.id)
    return SubscriptionsOut(subscriptions=[subscription_out(request, s) for s in found])


@router.get(
    "/api/subscriptions/{subscription_id}",
    tags=["alerts"],
    response_model=SubscriptionOut,
    responses=AUTH,
)
def get_subscription(
    request: Request, user: CurrentUser, subscription_id: SubscriptionId
) -> SubscriptionOut:
    try:
        return subscription_out(
            request, subs.get_subscription(engine_of(request), user.id, subscription_id)
        )
    except subs.NotFound as exc:
        raise _not_found(exc) from None


@router.patch(
    "/api/subscriptions/{subscription_id}",
    tags=["alerts"],
    response_model=SubscriptionOut,
    responses=AUTH,
)
def patch_subscription(
    request: Request, user: CurrentUser, subscription_id: SubscriptionId, body: SubscriptionPatch
) -> SubscriptionOut:
    """Pause (``{"paused": true}``) or resume (``false``)."""
    action = subs.pause if body.paused else subs.resume
    try:
        return subscription_out(request, action(engine_of(request), user.id, subscription_id))
    except subs.NotFound as exc:
        raise _not_found(exc) from None


@router.delete(
    "/api/subscriptions/{subscription_id}",
    tags=["alerts"],
    status_code=204,
    response_class=Response,
    responses=AUTH,
)
def delete_subscription(
    request: Request, user: CurrentUser, subscription_id: SubscriptionId
) -> Response:
    try:
        subs.delete(engine_of(request), user.id, subscription_id)
    except subs.NotFound as exc:
        raise _not_found(exc) from None
    return Response(status_code=204)


@router.get(
    "/api/subscriptions/{subscription_id}/preview",
    tags=["alerts"],
    response_model=EventsOut,
    responses=AUTH,
)
def preview_subscription(
    request: Request,
    user: CurrentUser,
    subscription_id: SubscriptionId,
    days: Annotated[int, Query(ge=1, le=366)] = 30,
) -> EventsOut:
    """What the subscription would have delivered over the last ``days`` of stored events."""
    try:
        found = preview(engine_of(request), user.id, subscription_id, days=days)
    except subs.NotFound as exc:
        raise _not_found(exc) from None
    return EventsOut(events=[EventOut.model_validate(as_dict(e)) for e in found])


@router.get("/api/inbox", tags=["alerts"], response_model=InboxOut, responses=AUTH)
def get_inbox(
    request: Request,
    user: CurrentUser,
    unread: Annotated[bool, Query(description="Only unread items.")] = False,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    before: Annotated[
        int | None, Query(ge=1, le=MAX_ID, description="next_before of the previous page.")
    ] = None,
) -> InboxOut:
    """The user's in-app alerts with their events, newest first, and the unread count."""
    engine = engine_of(request)
    items = inbox_lib.inbox(engine, user.id, unread_only=unread, limit=limit, before=before)
    return InboxOut(
        unread=inbox_lib.unread_count(engine, user.id),
        items=[
            InboxItemOut(
                id=i.id,
                subscription_id=i.subscription_id,
                subscription_name=i.subscription_name,
                created_at=i.created_at,
                read_at=i.read_at,
                event=EventOut.model_validate(as_dict(i.event)),
            )
            for i in items
        ],
        next_before=items[-1].id if len(items) == limit else None,
    )


@router.post(
    "/api/inbox/read",
    tags=["alerts"],
    response_model=MarkReadOut,
    responses={**AUTH, 400: {"model": ErrorOut}},
)
def mark_read(request: Request, user: CurrentUser, body: MarkReadIn) -> MarkReadOut:
    """Mark items read: ``{"ids": [..]}`` or ``{"all": true}``."""
    if body.all == (body.ids is not None):
        raise HTTPException(400, "Give either the ids to mark read or all=true.")
    engine = engine_of(request)
    try:
        n = inbox_lib.mark_read(engine, user.id, None if body.all else body.ids)
    except subs.NotFound as exc:
        raise _not_found(exc) from None
    return MarkReadOut(marked=n, unread=inbox_lib.unread_count(engine, user.id))


@router.get(
    "/feeds/{secret}.atom",
    tags=["alerts"],
    response_class=Response,
    responses={
        404: {"model": ErrorOut},
        200: {"content": {"application/atom+xml": {}}, "description": "An Atom feed."},
    },
)
def feed(request: Request, secret: str) -> Response:
    """The subscription's matching events of the last 90 days of data, newest first (computed
    like its preview, so each feed holds all it follows). The secret is the feed's password."""
    engine = engine_of(request)
    sub = subs.by_feed_secret(engine, secret) if len(secret) <= 64 else None
    if sub is None:
        raise HTTPException(404, "No feed has this address.")
    events = preview(engine, sub.user_id, sub.id, days=FEED_DAYS, limit=FEED_ENTRIES)
    body = atom_feed(
        f"drugradar: {sub.name}", feed_url(request, secret), [as_dict(e) for e in events]
    )
    return Response(body, media_type="application/atom+xml")


def _wants_html(request: Request) -> bool:
    return "text/html" in request.headers.get("accept", "")


def _page(title: str, text: str, status: int) -> HTMLResponse:
    return HTMLResponse(
        f"<!doctype html><meta charset=utf-8><title>{html.escape(title)}</title>"
        f"<main><h1>{html.escape(title)}</h1><p>{html.escape(text)}</p>"
        '<p><a href="/">drugradar</a></p></main>',
        status_code=status,
    )


UNSUBSCRIBE_DOC: dict[int | str, dict[str, Any]] = {
    400: {"model": ErrorOut},
    404: {"model": ErrorOut},
}
Token = Annotated[str, Query(min_length=1, max_length=500)]


def _unsubscribe(request: Request, token: str) -> Any:
    value = verify("unsubscribe", token, server_secret())
    if value is None or not (value.isascii() and value.isdigit()) or len(value) > 10:
        msg = "This unsubscribe link is not valid (it may have been altered or cut short)."
        if _wants_html(request):
            return _page("Link not valid", msg, 400)
        return JSONResponse({"error": msg}, status_code=400)
    sid = int(value)
    if not subs.unsubscribe(engine_of(request), sid):
        raise HTTPException(404, "This subscription no longer exists.")
    if _wants_html(request):
        return _page("Unsubscribed", "This alert is paused: no more digests will be sent.", 200)
    return UnsubscribeOut(unsubscribed=True, subscription_id=sid)


@router.get(
    "/unsubscribe", tags=["alerts"], response_model=UnsubscribeOut, responses=UNSUBSCRIBE_DOC
)
def unsubscribe_link(request: Request, token: Token) -> Any:
    """The link in every digest: a genuine token pauses its subscription (JSON, or a short page
    for a browser); an altered one is refused."""
    return _unsubscribe(request, token)


@router.post(
    "/unsubscribe", tags=["alerts"], response_model=UnsubscribeOut, responses=UNSUBSCRIBE_DOC
)
def unsubscribe_one_click(request: Request, token: Token) -> Any:
    """The mail client's one-click unsubscribe (RFC 8058 ``List-Unsubscribe-Post``)."""
    return _unsubscribe(request, token)
