"""Set Alert (the form), My alerts (list, pause/resume, preview, delete).

Per-user pages: the signed-in user only ever sees and changes their own subscriptions (the
library refuses another's id as if it did not exist); anonymous visitors go to the log-in page.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from drugradar.alerts import subscriptions as subs
from drugradar.alerts.preview import preview
from drugradar.api.deps import resolvers
from drugradar.model.event import Materiality
from drugradar.model.subscription import Channels, Frequency, Schedule
from drugradar.search.query import SearchError
from drugradar.store.repository import get_drug
from drugradar.track.catalogue import FAMILIES
from drugradar.track.query import as_dict
from drugradar.web.auth import current_user, login_redirect
from drugradar.web.forms import Form, as_int, clean, signed_in_post
from drugradar.web.render import error_page, page

router = APIRouter()
KINDS = ("drug", "target", "disease", "organization", "search")
SEARCH_FIELDS = (
    "q",
    "phase",
    "activity",
    "modality",
    "target",
    "indication",
    "organization",
    "country",
)
WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


def _what(request: Request, kind: str, ref: str, search: dict[str, str]) -> str:
    """What the alert follows, as the form shows it."""
    if kind == "drug":
        known = get_drug(request.app.state.engine, ref) if len(ref) <= 16 else None
        if known is not None:
            return f"the drug {known.preferred_name}"
        best = resolvers(request).get().resolve(ref[:300]).best
        return f"the drug {best.preferred_name}" if best else f"the drug “{ref}”"
    if kind == "search":
        parts = [f"{k}={v}" for k, v in search.items() if v]
        return "the search " + (", ".join(parts) if parts else "all drugs")
    return f"the {kind} {ref}"


def _form(
    request: Request,
    kind: str,
    ref: str,
    search: dict[str, str],
    values: dict[str, Any] | None = None,
    error: str | None = None,
) -> HTMLResponse:
    defaults: dict[str, Any] = {
        "name": "",
        "families": [],
        "min_materiality": "low",
        "frequency": "daily",
        "hour": 8,
        "weekday": 0,
        "tz": "UTC",
        "inbox": True,
        "feed": False,
        "email": "",
        "webhook": "",
    }
    defaults.update(values or {})
    return page(
        request,
        "alert_form.html",
        {
            "title": "Set Alert",
            "kind": kind,
            "ref": ref,
            "search": search,
            "what": _what(request, kind, ref, search),
            "v": defaults,
            "families": FAMILIES,
            "weekdays": WEEKDAYS,
            "error": error,
        },
        status=400 if error else 200,
    )


@router.get("/alerts/new", response_class=HTMLResponse)
def new_alert(request: Request, kind: str = "drug", ref: str = "") -> Response:
    if current_user(request) is None:
        return login_redirect(request)
    if kind not in KINDS:
        return error_page(request, 400, f"An alert follows a {', '.join(KINDS)}.")
    ref = clean(ref, 400)
    search = (
        {k: clean(request.query_params.get(k, ""), 300) for k in SEARCH_FIELDS}
        if kind == "search"
        else {}
    )
    if kind != "search" and not ref:
        return error_page(request, 400, "Say what the alert follows (ref=…).")
    return _form(request, kind, ref, search)


def _create(request: Request, form: Form) -> Response:
    user = current_user(request)
    assert user is not None
    kind, ref = form.get("kind"), form.get("ref")
    search = {k: form.get(f"search_{k}") for k in SEARCH_FIELDS} if kind == "search" else {}
    values: dict[str, Any] = {
        "name": form.get("name"),
        "families": [f for f in form.getlist("families") if f in FAMILIES],
        "min_materiality": form.get("min_materiality", "low"),
        "frequency": form.get("frequency", "daily"),
        "hour": as_int(form.get("hour"), 8),
        "weekday": as_int(form.get("weekday"), 0),
        "tz": form.get("tz") or "UTC",
        "inbox": form.checked("inbox"),
        "feed": form.checked("feed"),
        "email": form.get("email"),
        "webhook": form.get("webhook"),
    }
    if kind not in KINDS:
        return error_page(request, 400, f"An alert follows a {', '.join(KINDS)}.")
    follow: dict[str, Any] = {}
    if kind == "search":
        data = {("text" if k == "q" else k): v for k, v in search.items() if v}
        follow["search"] = data
    elif kind == "drug":  # the page links by drug id; the library resolves names
        known = get_drug(request.app.state.engine, ref) if len(ref) <= 16 else None
        follow["drugs"] = [known.preferred_name if known else ref]
    else:
        follow[f"{kind}s"] = [ref]
    try:
        schedule = Schedule(
            Frequency(values["frequency"]), values["hour"], values["weekday"], values["tz"]
        )
        channels = Channels(
            emails=[e.strip() for e in values["email"].split(",") if e.strip()],
            webhook_url=values["webhook"] or None,
            inbox=values["inbox"],
            feed=values["feed"],
        )
        sub = subs.add_subscription(
            request.app.state.engine,
            user.id,
            **follow,
            families=values["families"],
            min_materiality=Materiality(values["min_materiality"]),
            schedule=schedule,
            channels=channels,
            name=values["name"] or None,
        )
    except (subs.SubscriptionError, SearchError) as exc:
        return _form(request, kind, ref, search, values, str(exc))
    except ValueError:
        return _form(
            request, kind, ref, search, values, "The frequency or materiality is not one offered."
        )
    return RedirectResponse(f"/alerts?{urlencode({'created': sub.id})}", status_code=303)


@router.post("/alerts/new", response_class=HTMLResponse)
async def create_alert(request: Request) -> Response:
    return await signed_in_post(request, lambda form: _create(request, form))


@router.get("/alerts", response_class=HTMLResponse)
def my_alerts(request: Request, created: str = "") -> Response:
    user = current_user(request)
    if user is None:
        return login_redirect(request)
    found = subs.list_subscriptions(request.app.state.engine, user.id)
    return page(
        request,
        "alerts.html",
        {"title": "My alerts", "subs": found, "created": as_int(created, 0), "weekdays": WEEKDAYS},
    )


def _act(request: Request, action: str, sid: int) -> Response:
    user = current_user(request)
    assert user is not None
    fn = {"pause": subs.pause, "resume": subs.resume, "delete": subs.delete}[action]
    try:
        fn(request.app.state.engine, user.id, sid)
    except subs.NotFound as exc:
        return error_page(request, 404, str(exc))
    return RedirectResponse("/alerts", status_code=303)


@router.post("/alerts/{sid}/{action}", response_class=HTMLResponse)
async def alert_action(request: Request, sid: str, action: str) -> Response:
    if current_user(request) is not None and action not in ("pause", "resume", "delete"):
        return error_page(request, 404, "An alert can be paused, resumed or deleted.")
    return await signed_in_post(request, lambda _form: _act(request, action, as_int(sid, 0)))


@router.get("/alerts/{sid}/preview", response_class=HTMLResponse)
def alert_preview(request: Request, sid: str, days: str = "30") -> Response:
    user = current_user(request)
    if user is None:
        return login_redirect(request)
    engine = request.app.state.engine
    n_days = max(1, min(as_int(days, 30), 3650))
    try:
        sub = subs.get_subscription(engine, user.id, as_int(sid, 0))
        events = preview(engine, user.id, sub.id, days=n_days)
    except subs.NotFound as exc:
        return error_page(request, 404, str(exc))
    return page(
        request,
        "alert_preview.html",
        {
            "title": f"Preview: {sub.name}",
            "sub": sub,
            "events": [as_dict(e) for e in events],
            "days": n_days,
        },
    )
