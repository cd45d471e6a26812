"""``drugradar worker``: digests and live source syncs run by a real task queue (huey).

Why a queue rather than a cron loop: several workers (threads, processes or machines sharing
Redis) can run at once, the database claims each digest (``deliver.run_due``) so that running it
twice never sends twice, and a live sync that fails (no network, an API down) is logged and
simply runs again at its next schedule instead of stopping the worker.

Settings (environment): ``DRUGRADAR_REDIS_URL`` (use Redis, e.g. ``redis://127.0.0.1:6379/0``),
else ``DRUGRADAR_HUEY_DB`` (the SQLite queue file, default ``drugradar-queue.db``);
``DRUGRADAR_QUEUE_NAME`` (default ``drugradar``); ``DRUGRADAR_SYNC`` (``name=daily|weekly|off,…``,
default ``ctgov=daily``) at ``DRUGRADAR_SYNC_HOUR`` UTC (default 5; weekly syncs run on Mondays);
``DRUGRADAR_CTGOV_URL`` and ``DRUGRADAR_OPENFDA_URL`` (the live APIs, for mirrors and tests) and
``OPENFDA_API_KEY``.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from huey import Huey, RedisHuey, SqliteHuey, crontab
from sqlalchemy import Engine, select

from drugradar.store import make_engine

log = logging.getLogger(__name__)

DEFAULT_QUEUE_DB = "drugradar-queue.db"
DEFAULT_SYNC = "ctgov=daily"
DEFAULT_SYNC_HOUR = 5
FREQUENCIES = ("daily", "weekly", "off")
REDIS_SCHEMES = ("redis://", "rediss://", "unix://")

Status = dict[str, object]


class WorkerConfigError(ValueError):
    """A worker setting is wrong; the message is one sentence naming it."""


def make_huey(url: str | None = None) -> Huey:
    """The queue: Redis when ``url`` or ``DRUGRADAR_REDIS_URL`` is a redis:// URL, else a SQLite
    file (``sqlite:///path`` as ``url``, or ``DRUGRADAR_HUEY_DB``)."""
    name = os.environ.get("DRUGRADAR_QUEUE_NAME") or "drugradar"
    url = url or os.environ.get("DRUGRADAR_REDIS_URL") or None
    if url and url.startswith(REDIS_SCHEMES):
        return RedisHuey(name, url=url)
    if url and not url.startswith("sqlite:///"):
        raise WorkerConfigError(f"The queue URL must start with redis:// or sqlite:///: {url}.")
    path = url.removeprefix("sqlite:///") if url else None
    path = path or os.environ.get("DRUGRADAR_HUEY_DB") or DEFAULT_QUEUE_DB
    return SqliteHuey(name, filename=path)


def sync_plan(spec: str | None = None) -> dict[str, str]:
    """``DRUGRADAR_SYNC`` parsed: source name -> daily or weekly (``off`` entries dropped)."""
    spec = spec if spec is not None else os.environ.get("DRUGRADAR_SYNC", DEFAULT_SYNC)
    plan: dict[str, str] = {}
    for item in filter(None, (part.strip() for part in spec.split(","))):
        name, _, freq = (s.strip().lower() for s in item.partition("="))
        if name not in SOURCES or freq not in FREQUENCIES:
            raise WorkerConfigError(
                f"DRUGRADAR_SYNC entries are name=daily|weekly|off with a name among "
                f"{', '.join(sorted(SOURCES))}: {item!r} is not."
            )
        if freq != "off":
            plan[name] = freq
    return plan


def sync_hour() -> int:
    raw = os.environ.get("DRUGRADAR_SYNC_HOUR", str(DEFAULT_SYNC_HOUR)).strip()
    if not raw.isdigit() or not 0 <= int(raw) <= 23:
        raise WorkerConfigError(f"DRUGRADAR_SYNC_HOUR must be an hour from 0 to 23: {raw!r}.")
    return int(raw)


# --- the syncs -------------------------------------------------------------------------------


def _sync_ctgov(engine: Engine) -> Status:
    """Studies updated since the last complete sync (the day before today on a first run: a
    worker never starts a full download of the whole registry by itself)."""
    from drugradar.sources.ctgov_api import API_URL, Client, Query
    from drugradar.trials import sync

    query = Query()
    last = sync._get(engine, sync._key(query) + ":last_done")
    query.updated_since = (
        date.fromisoformat(last) if last else datetime.now(UTC).date() - timedelta(days=1)
    )
    rep = sync.sync_ctgov(engine, query, Client(os.environ.get("DRUGRADAR_CTGOV_URL") or API_URL))
    return {"pages": rep.pages, "studies": rep.studies, "added": rep.added, "changed": rep.changed}


def _sync_labels(engine: Engine) -> Status:
    """The openFDA labels of every drug an active subscription follows."""
    from drugradar.profile import sync
    from drugradar.sources.openfda_api import API_URL, Client
    from drugradar.store.schema import subscription, subscription_follow

    f, s = subscription_follow.c, subscription.c
    with engine.connect() as conn:
        drugs = list(
            conn.execute(
                select(f.ref)
                .join(subscription, s.id == f.subscription_id)
                .where(f.kind == "drug", s.deleted.is_(False), s.paused.is_(False))
                .distinct()
                .order_by(f.ref)
            ).scalars()
        )
    client = Client(
        os.environ.get("DRUGRADAR_OPENFDA_URL") or API_URL,
        api_key=os.environ.get("OPENFDA_API_KEY") or None,
    )
    labels, failed = 0, []
    for drug_id in drugs:
        try:
            labels += sync.sync_labels(engine, drug_id, client).report.n_records
        except Exception as exc:  # one drug's failure must not stop the others
            log.warning("label sync of %s failed: %s", drug_id, exc)
            failed.append(drug_id)
    if failed:
        raise RuntimeError(f"the label sync failed for {len(failed)} of {len(drugs)} drugs")
    return {"drugs": len(drugs), "labels": labels}


SOURCES: dict[str, Callable[[Engine], Status]] = {"ctgov": _sync_ctgov, "labels": _sync_labels}


def run_sync(engine: Engine, name: str) -> Status:
    """One source's live sync; a failure is logged and returned, never raised (it is retried at
    the next schedule)."""
    sync = SOURCES.get(name)
    if sync is None:
        return {"source": name, "status": "error", "error": f"unknown source {name!r}"}
    try:
        details = sync(engine)
    except Exception as exc:
        log.exception("sync of %s failed; it will run again at its next schedule", name)
        return {"source": name, "status": "error", "error": f"{type(exc).__name__}: {exc}"}
    log.info("sync of %s done: %s", name, details)
    return {"source": name, "status": "ok", **details}


def deliver(engine: Engine) -> Status:
    from drugradar.alerts.deliver import run_due

    report = run_due(engine)
    return {"sent": len(report.sent), "failed": len(report.failed), "empty": report.empty}


# --- the tasks -------------------------------------------------------------------------------


@dataclass(slots=True)
class Tasks:
    """The tasks ``register`` put on one huey (call them to enqueue; ``.call_local`` runs here)."""

    engine: Engine
    deliver_digests: Any
    deliver_due: Any
    sync_source: Any
    schedules: dict[str, Any] = field(default_factory=dict)  # source name -> periodic task


def register(huey: Huey, db_url: str | None) -> Tasks:
    """Define the worker's tasks on ``huey`` (a factory, so each test can use its own queue)."""
    engine = make_engine(db_url)
    plan, hour = sync_plan(), sync_hour()

    @huey.task(name="deliver_digests")
    def deliver_digests() -> Status:
        """Send the digests that are due now (claimed in the database), returning the counts."""
        return deliver(engine)

    @huey.periodic_task(crontab(), name="deliver_due")
    def deliver_due() -> None:
        """Every minute, in the consumer. (huey keeps no result of a periodic task, hence two.)"""
        deliver(engine)

    @huey.task(name="sync_source")
    def sync_source(name: str) -> Status:
        return run_sync(engine, name)

    def schedule(name: str, freq: str) -> Any:
        when = (
            crontab(minute="0", hour=str(hour), day_of_week="1")  # huey: 0 is Sunday
            if freq == "weekly"
            else crontab(minute="0", hour=str(hour))
        )

        def enqueue_sync() -> None:
            sync_source(name)

        return huey.periodic_task(when, name=f"sync_{name}_{freq}")(enqueue_sync)

    schedules = {name: schedule(name, freq) for name, freq in plan.items()}
    return Tasks(engine, deliver_digests, deliver_due, sync_source, schedules)


def run_worker(db_url: str | None, workers: int = 2, huey_url: str | None = None) -> None:
    """Run the consumer (its workers and the periodic scheduler) in this process until stopped."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    huey = make_huey(huey_url)
    tasks = register(huey, db_url)
    log.info("queue %s; sync schedules: %s", huey.name, sorted(tasks.schedules) or "none")
    try:
        huey.create_consumer(
            workers=workers,
            periodic=True,
            graceful_signal="TERM",  # what service managers send
        ).run()
    finally:
        tasks.engine.dispose()
