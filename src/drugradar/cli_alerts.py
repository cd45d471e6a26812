"""``drugradar alerts …``, ``users …`` and ``keys …``: Set Alert from the command line.

The command line acts for one user: ``--user EMAIL`` (or ``DRUGRADAR_USER``); without one, a
local operator account (``local@drugradar.invalid``, admin, no usable password) is used, made on
first use. Every command goes through the library, which checks ownership.
"""

from __future__ import annotations

import os
import secrets
import sys
from collections.abc import Callable
from datetime import date
from typing import Annotated, Any

import orjson
import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table
from sqlalchemy import Engine

from drugradar.model.event import Materiality
from drugradar.model.subscription import Channels, Frequency, Role, Schedule, Subscription
from drugradar.track.query import as_dict

alerts_app = typer.Typer(help="Set Alert: follow drugs, targets, diseases, companies, searches.")
users_app = typer.Typer(help="Local accounts.", no_args_is_help=True)
keys_app = typer.Typer(help="API keys (shown once, stored hashed).", no_args_is_help=True)
console = Console(soft_wrap=True)
err = Console(stderr=True, soft_wrap=True)
LOCAL_USER = "local@drugradar.invalid"
UserOpt = Annotated[
    str | None, typer.Option("--user", help="Act as this account (default $DRUGRADAR_USER)")
]


def _engine() -> Engine:
    from drugradar.cli import _engine as engine

    return engine()


def _user_id(engine: Engine, email: str | None) -> int:
    from drugradar.alerts.users import create_user, user_by_email

    email = email or os.environ.get("DRUGRADAR_USER") or LOCAL_USER
    user = user_by_email(engine, email)
    if user is None:
        if email != LOCAL_USER:
            err.print(f"No account {email}; create it with `drugradar users add {email}`.")
            raise typer.Exit(1)
        user = create_user(engine, LOCAL_USER, secrets.token_urlsafe(32), Role.ADMIN)
    return int(user.id)


def _fail(call: Callable[[], Any]) -> Any:
    """Run ``call``; a user error becomes its one-sentence message and exit code 1."""
    try:
        return call()
    except (ValueError, PermissionError) as exc:
        err.print(str(exc))
        raise typer.Exit(1) from None


def _split(values: list[str] | None) -> list[str]:
    return [v.strip() for item in values or [] for v in item.split(",") if v.strip()]


@alerts_app.command("add")
def add_cmd(
    user: UserOpt = None,
    drug: Annotated[list[str] | None, typer.Option(help="A drug, any name (repeatable)")] = None,
    target: Annotated[list[str] | None, typer.Option(help="A target gene symbol")] = None,
    disease: Annotated[list[str] | None, typer.Option(help="A disease (MeSH name or id)")] = None,
    org: Annotated[list[str] | None, typer.Option(help="An organization")] = None,
    search: Annotated[
        str | None, typer.Option(help='A saved search as JSON: {"target": "TIGIT", "phase": …}')
    ] = None,
    events: Annotated[
        list[str] | None, typer.Option(help="Event families, e.g. dev_status,approval")
    ] = None,
    types: Annotated[
        list[str] | None, typer.Option(help="Event types, e.g. dev_status.PHASE_3")
    ] = None,
    min_materiality: Annotated[str, typer.Option(help="low, medium or high")] = "low",
    immediate: Annotated[bool, typer.Option("--immediate", help="Send as events arrive")] = False,
    daily: Annotated[bool, typer.Option("--daily", help="A daily digest (default)")] = False,
    weekly: Annotated[bool, typer.Option("--weekly", help="A weekly digest")] = False,
    hour: Annotated[int, typer.Option(help="Hour of the digest, 0-23")] = 8,
    weekday: Annotated[int, typer.Option(help="Day of a weekly digest, 0 = Monday")] = 0,
    tz: Annotated[str, typer.Option(help="IANA time zone")] = "UTC",
    email: Annotated[list[str] | None, typer.Option(help="Email recipient (repeatable)")] = None,
    webhook: Annotated[str | None, typer.Option(help="HTTPS URL receiving JSON")] = None,
    feed: Annotated[bool, typer.Option(help="An Atom feed at a secret URL")] = False,
    inbox: Annotated[bool, typer.Option(help="The in-app inbox")] = True,
    apprise: Annotated[list[str] | None, typer.Option(help="An apprise URL")] = None,
    send_empty: Annotated[
        bool, typer.Option(help="Send a digest even when nothing is new")
    ] = False,
    name: Annotated[str | None, typer.Option(help="A name for it")] = None,
) -> None:
    """Follow something: e.g. ``alerts add --drug Imlygic --events dev_status,approval --daily
    --email a@b.org``."""
    from drugradar.alerts.subscriptions import add_subscription

    freq = Frequency.WEEKLY if weekly else Frequency.IMMEDIATE if immediate else Frequency.DAILY
    engine = _engine()
    uid = _user_id(engine, user)
    query = None
    if search:
        try:
            query = orjson.loads(search)
        except orjson.JSONDecodeError:
            err.print('--search takes JSON, e.g. \'{"target": "TIGIT", "phase": "PHASE_2"}\'.')
            raise typer.Exit(2) from None
    sub: Subscription = _fail(
        lambda: add_subscription(
            engine,
            uid,
            drugs=_split(drug),
            targets=_split(target),
            diseases=disease or [],
            organizations=org or [],
            search=query,
            families=_split(events),
            types=_split(types),
            min_materiality=Materiality(min_materiality),
            schedule=Schedule(freq, hour, weekday, tz),
            channels=Channels(
                emails=_split(email),
                webhook_url=webhook,
                inbox=inbox,
                feed=feed,
                apprise_urls=apprise or [],
            ),
            send_empty=send_empty,
            name=name,
        )
    )
    _show(sub)


def _show(sub: Subscription) -> None:
    follows = "; ".join(
        f"{f.kind.value} {f.label}" + (f" (as {f.alias})" if f.alias and f.alias != f.label else "")
        for f in sub.follows
    )
    console.print(f"[bold]#{sub.id}[/bold] {escape(sub.name)}: {escape(follows)}")
    console.print(
        f"  events: {', '.join(sub.families) or 'all'}"
        + (f"; types: {', '.join(sub.types)}" if sub.types else "")
        + f"; at least {sub.min_materiality.value}; {sub.schedule.frequency.value}"
        + (
            f" at {sub.schedule.hour:02d}:00 {sub.schedule.tz}"
            if sub.schedule.frequency is not Frequency.IMMEDIATE
            else ""
        )
        + f"; channels: {', '.join(k.value for k in sub.channels.kinds())}"
        + (" (paused)" if sub.paused else "")
    )
    if sub.feed_secret:
        from drugradar.alerts.deliver import base_url

        console.print(f"  feed: {base_url()}/feeds/{sub.feed_secret}.atom")
    if sub.webhook_secret:
        console.print(f"  webhook signing secret (HMAC-SHA256): {sub.webhook_secret}")


@alerts_app.command("list")
def list_cmd(user: UserOpt = None) -> None:
    """Your subscriptions."""
    from drugradar.alerts.subscriptions import list_subscriptions

    engine = _engine()
    subs = list_subscriptions(engine, _user_id(engine, user))
    for sub in subs:
        _show(sub)
    if not subs:
        console.print("No subscriptions yet: `drugradar alerts add --drug NAME`.")


def _change(action: str) -> Callable[..., None]:
    def command(
        subscription_id: Annotated[int, typer.Argument(help="The subscription's number")],
        user: UserOpt = None,
    ) -> None:
        from drugradar.alerts import subscriptions

        engine = _engine()
        uid = _user_id(engine, user)
        sub = _fail(lambda: getattr(subscriptions, action)(engine, uid, subscription_id))
        console.print(
            f"#{sub.id} {escape(sub.name)}: {action}d"
            if action != "delete"
            else f"#{sub.id} deleted"
        )

    command.__doc__ = f"{action.capitalize()} a subscription."
    return command


for _action in ("pause", "resume", "delete"):
    alerts_app.command(_action)(_change(_action))


@alerts_app.command("preview")
def preview_cmd(
    subscription_id: Annotated[int, typer.Argument(help="The subscription's number")],
    days: Annotated[int, typer.Option(help="How far back")] = 30,
    until: Annotated[
        str | None, typer.Option(help="Up to this date (default: newest event)")
    ] = None,
    user: UserOpt = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON")] = False,
) -> None:
    """What this subscription would have sent over the last days."""
    from drugradar.alerts.preview import preview

    engine = _engine()
    uid = _user_id(engine, user)
    end = date.fromisoformat(until) if until else None
    found = _fail(lambda: preview(engine, uid, subscription_id, days=days, today=end))
    if as_json:
        sys.stdout.write(
            orjson.dumps([as_dict(e) for e in found], option=orjson.OPT_INDENT_2).decode() + "\n"
        )
        return
    table = Table("as of", "family", "type", "materiality", "what changed")
    for ev in found:
        table.add_row(
            ev.as_of.isoformat(), ev.family, ev.type, ev.materiality.value, escape(ev.summary)
        )
    console.print(table)
    console.print(f"{len(found)} event(s) in the last {days} days.")


@alerts_app.command("run")
def run_cmd(
    now: Annotated[bool, typer.Option("--now", help="Send every digest now, due or not")] = False,
) -> None:
    """Send the digests that are due (the worker does this on its schedule)."""
    from drugradar.alerts.deliver import run_due

    report = run_due(_engine(), force=now)
    console.print(
        f"{len(report.sent)} digest(s) sent, {len(report.failed)} failed, "
        f"{report.empty} with nothing new."
    )


@alerts_app.command("deliveries")
def deliveries_cmd(
    failed: Annotated[bool, typer.Option("--failed", help="Only failed digests")] = True,
    user: UserOpt = None,
) -> None:
    """Digests that failed and wait for a retry, with the error."""
    from drugradar.alerts.deliver import failed_digests

    engine = _engine()
    rows = failed_digests(engine, _user_id(engine, user))
    table = Table("digest", "subscription", "channel", "attempts", "next try", "error")
    for r in rows:
        table.add_row(
            str(r["digest_id"]), str(r["subscription_id"]), str(r["channel"]), str(r["attempts"]),
            str(r["next_attempt_at"]), escape(str(r["error"])),
        )  # fmt: skip
    console.print(table)
    console.print(f"{len(rows)} failed digest(s).")


@users_app.command("add")
def users_add(
    email: Annotated[str, typer.Argument(help="The account's email")],
    password: Annotated[
        str, typer.Option(prompt=True, hide_input=True, confirmation_prompt=True, help="Password")
    ],
    admin: Annotated[bool, typer.Option(help="An administrator")] = False,
) -> None:
    """Create a local account."""
    from drugradar.alerts.users import create_user

    engine = _engine()
    user = _fail(lambda: create_user(engine, email, password, Role.ADMIN if admin else Role.USER))
    console.print(f"Account {escape(user.email)} ({user.role.value}) created.")


DEMO_EMAIL = "demo@drugradar.local"
DEMO_PASSWORD = "drugradar-demo"  # a demo account on a local database, said as such


@users_app.command("demo")
def users_demo() -> None:
    """The demo account (made once; a second run reuses it), following T-VEC and tiragolumab
    (the anti-TIGIT antibody of the replayed watch list) in its inbox, which starts with the
    last 60 days of their events; and how to log in."""
    from drugradar.alerts.match import backfill
    from drugradar.alerts.subscriptions import add_subscription, list_subscriptions
    from drugradar.alerts.users import create_user, user_by_email

    engine = _engine()
    user = user_by_email(engine, DEMO_EMAIL) or create_user(engine, DEMO_EMAIL, DEMO_PASSWORD)
    if not list_subscriptions(engine, user.id):
        for drug_name in ("Imlygic", "tiragolumab"):
            try:
                sub = add_subscription(
                    engine, user.id, drugs=[drug_name], channels=Channels(inbox=True)
                )
            except ValueError as exc:  # the data may not hold it (a partial load)
                err.print(f"Demo subscription skipped: {exc}")
                continue
            found = backfill(engine, sub.id)
            recent = f"{found.deliveries} recent events in the inbox"
            console.print(f"Following {escape(sub.name)}: {recent}")
    from drugradar.alerts.deliver import base_url

    console.print(f"Open {base_url()}/ and log in as {DEMO_EMAIL} / {DEMO_PASSWORD}")


@keys_app.command("create")
def keys_create(
    name: Annotated[str, typer.Argument(help="What the key is for")],
    user: UserOpt = None,
) -> None:
    """A new API key, shown this once."""
    from drugradar.alerts.users import create_api_key

    engine = _engine()
    key, info = _fail(lambda: create_api_key(engine, _user_id(engine, user), name))
    console.print(
        f"API key {escape(name)} (prefix {info.prefix}); keep it now, it is not shown again:"
    )
    sys.stdout.write(key + "\n")


@keys_app.command("list")
def keys_list(user: UserOpt = None) -> None:
    """Your API keys (never the keys themselves)."""
    from drugradar.alerts.users import list_api_keys

    engine = _engine()
    table = Table("id", "prefix", "name", "created", "last used", "revoked")
    for k in list_api_keys(engine, _user_id(engine, user)):
        table.add_row(
            str(k.id), k.prefix, escape(k.name), str(k.created_at), str(k.last_used_at or ""),
            str(k.revoked_at or ""),
        )  # fmt: skip
    console.print(table)


@keys_app.command("revoke")
def keys_revoke(
    key_id: Annotated[int, typer.Argument(help="The key's id (keys list)")],
    user: UserOpt = None,
) -> None:
    """Revoke an API key."""
    from drugradar.alerts.users import revoke_api_key

    engine = _engine()
    _fail(lambda: revoke_api_key(engine, _user_id(engine, user), key_id))
    console.print(f"Key {key_id} revoked.")
