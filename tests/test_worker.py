"""``drugradar worker`` through real huey consumers, on a SQLite queue file and on Redis, over
both database backends: a digest goes out by email (a real aiosmtpd server) exactly once, even
with two consumers or four concurrent runs, and a failing live sync is reported, leaves the
consumer running and succeeds at its next run.

The event here is synthetic (made by the test, about nivolumab of the fixture vocabulary); the
"live API" is a local HTTP server that first refuses and then answers with an empty page.
"""

from __future__ import annotations

import signal
import threading
import uuid
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from datetime import UTC, date, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from huey import Huey, RedisHuey, SqliteHuey
from sqlalchemy import Engine, select

from drugradar.alerts.settle import settle
from drugradar.alerts.subscriptions import add_subscription
from drugradar.alerts.users import create_user
from drugradar.model.event import Change, Materiality
from drugradar.model.subscription import Channels, Frequency, Schedule
from drugradar.store.schema import digest
from drugradar.track.store import Sighting, save
from drugradar.worker import Tasks, WorkerConfigError, make_huey, register, sync_plan

from .conftest import Database
from .servers import Mailbox, free_port, smtp  # noqa: F401
from .test_events_store import new_release

pytestmark = pytest.mark.xdist_group("worker")

REDIS_URL = "redis://127.0.0.1:6379/0"
TIMEOUT = 30


# --- queues, consumers, tasks -----------------------------------------------------------------


@pytest.fixture(params=["sqlite-queue", "redis-queue"])
def queue(
    request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Callable[[], Huey]]:
    """Makes huey instances on one queue of its own (a unique name; Redis keys flushed after)."""
    monkeypatch.setenv("DRUGRADAR_QUEUE_NAME", f"drugradar-test-{uuid.uuid4().hex[:12]}")
    monkeypatch.delenv("DRUGRADAR_REDIS_URL", raising=False)
    monkeypatch.setenv("DRUGRADAR_HUEY_DB", str(tmp_path / "queue.db"))
    url = REDIS_URL if request.param == "redis-queue" else None
    made: list[Huey] = []

    def make() -> Huey:
        made.append(make_huey(url))
        return made[-1]

    yield make
    if made:
        made[0].storage.flush_all()


@pytest.fixture
def tasks_on(db: Database) -> Iterator[Callable[[Huey], Tasks]]:
    """Registers the worker's tasks on a huey, for the test's database; engines disposed after."""
    made: list[Tasks] = []

    def make(huey: Huey) -> Tasks:
        made.append(register(huey, db.url))
        return made[-1]

    yield make
    for t in made:
        t.engine.dispose()


@contextmanager
def consuming(huey: Huey, workers: int = 2) -> Iterator[Any]:
    """A real consumer (threads) running in this process; pytest's signal handlers restored."""
    saved = {s: signal.getsignal(s) for s in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)}
    consumer = huey.create_consumer(
        workers=workers, periodic=False, initial_delay=0.05, max_delay=0.2
    )
    consumer.start()
    try:
        yield consumer
    finally:
        consumer.stop(graceful=True)
        for s, handler in saved.items():
            signal.signal(s, handler)


# --- a subscriber with one pending email delivery ---------------------------------------------


@pytest.fixture
def pending(loaded: Engine) -> int:
    """alice follows nivolumab by email (immediate); one synthetic event is matched for her."""
    alice = create_user(loaded, "alice@example.org", "correct horse battery")
    sub = add_subscription(
        loaded,
        alice.id,
        drugs=["nivolumab"],
        schedule=Schedule(frequency=Frequency.IMMEDIATE),
        channels=Channels(emails=["alice@example.org"], inbox=False),
    )
    did = sub.follows[0].ref
    # Synthetic event (not real data): the followed drug reaching Phase 3.
    change = Change(
        "dev_status",
        "PHASE_3",
        "dev_status",
        f"{did}|None|US|None",
        "synthetic: reached Phase 3",
        field="phase",
        old="PHASE_2",
        new="PHASE_3",
        materiality=Materiality.HIGH,
        concerns=[("drug", did)],
    )
    day = date(2026, 3, 14)
    rid = new_release(loaded, "test_source", day)
    with loaded.begin() as c:
        save(c, [(change, Sighting("test_source", change.entity_id, rid, day))])
    assert settle(loaded).deliveries == 1
    return sub.id


def digest_rows(engine: Engine) -> list[tuple[str, int]]:
    with engine.connect() as c:
        return [tuple(r) for r in c.execute(select(digest.c.status, digest.c.n_items))]


def test_a_consumer_sends_the_due_digest_once(
    queue: Callable[[], Huey],
    tasks_on: Callable[[Huey], Tasks],
    loaded: Engine,
    pending: int,
    smtp: Mailbox,  # noqa: F811
) -> None:
    huey = queue()
    tasks = tasks_on(huey)
    first = tasks.deliver_digests()  # enqueued before the consumer starts: it waits in the queue
    assert len(smtp.messages) == 0
    with consuming(huey):
        assert first.get(blocking=True, timeout=TIMEOUT) == {"sent": 1, "failed": 0, "empty": 0}
        again = tasks.deliver_digests().get(blocking=True, timeout=TIMEOUT)
    assert again["sent"] == 0
    (msg,) = smtp.messages
    assert msg["X-Envelope-To"] == "alice@example.org"
    assert "synthetic: reached Phase 3" in msg.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    assert digest_rows(loaded) == [("sent", 1)]


def test_two_consumers_on_one_queue_send_once(
    queue: Callable[[], Huey],
    tasks_on: Callable[[Huey], Tasks],
    loaded: Engine,
    pending: int,
    smtp: Mailbox,  # noqa: F811
) -> None:
    one, two = queue(), queue()
    t1, _ = tasks_on(one), tasks_on(two)
    results = [t1.deliver_digests() for _ in range(6)]  # 6 runs for 4 worker threads
    with ExitStack() as stack:
        stack.enter_context(consuming(one))
        stack.enter_context(consuming(two))
        outs = [r.get(blocking=True, timeout=TIMEOUT) for r in results]
    assert sum(o["sent"] for o in outs) == 1 and sum(o["failed"] for o in outs) == 0
    assert len(smtp.messages) == 1
    assert digest_rows(loaded) == [("sent", 1)]


def test_concurrent_runs_send_once(
    tmp_path: Path,
    tasks_on: Callable[[Huey], Tasks],
    loaded: Engine,
    pending: int,
    smtp: Mailbox,  # noqa: F811
) -> None:
    """Four threads start ``deliver_digests`` at the same instant over the same database."""
    tasks = tasks_on(make_huey(f"sqlite:///{tmp_path / 'q.db'}"))
    gate = threading.Barrier(4)
    outs: list[dict[str, int]] = []
    errors: list[BaseException] = []

    def run() -> None:
        gate.wait()
        try:
            outs.append(tasks.deliver_digests.call_local())
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=run) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(TIMEOUT)
    assert not errors and len(outs) == 4
    assert sum(o["sent"] for o in outs) == 1
    assert len(smtp.messages) == 1


# --- live syncs --------------------------------------------------------------------------------


class FakeApi:
    """A local stand-in for ClinicalTrials.gov: refuses with HTTP 400 while ``down``, else answers
    an empty page of studies. Keeps the query string of each request."""

    def __init__(self) -> None:
        self.down = True
        self.queries: list[dict[str, list[str]]] = []
        api = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                api.queries.append(parse_qs(urlsplit(self.path).query))
                body = b'{"error": "down"}' if api.down else b'{"studies": [], "totalCount": 0}'
                self.send_response(400 if api.down else 200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", free_port()), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/api/v2"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def since(self, n: int) -> str:
        (advanced,) = self.queries[n]["filter.advanced"]
        return advanced


@pytest.fixture
def fake_api(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeApi]:
    api = FakeApi()
    monkeypatch.setenv("DRUGRADAR_CTGOV_URL", api.url)
    yield api
    api.server.shutdown()
    api.server.server_close()


def test_a_failing_sync_is_reported_and_runs_again(
    queue: Callable[[], Huey],
    tasks_on: Callable[[Huey], Tasks],
    engine: Engine,
    fake_api: FakeApi,
) -> None:
    huey = queue()
    tasks = tasks_on(huey)
    today = datetime.now(UTC).date()
    with consuming(huey):
        failed = tasks.sync_source("ctgov").get(blocking=True, timeout=TIMEOUT)
        assert failed["source"] == "ctgov" and failed["status"] == "error"
        assert "HTTP 400" in str(failed["error"])
        # the consumer is still there: other tasks run, and the next sync succeeds
        assert tasks.deliver_digests().get(blocking=True, timeout=TIMEOUT)["sent"] == 0
        fake_api.down = False
        ok = tasks.sync_source("ctgov").get(blocking=True, timeout=TIMEOUT)
        assert ok["status"] == "ok" and ok["studies"] == 0
        later = tasks.sync_source("ctgov").get(blocking=True, timeout=TIMEOUT)
        unknown = tasks.sync_source("nosuch").get(blocking=True, timeout=TIMEOUT)
    assert later["status"] == "ok" and unknown["status"] == "error"
    # a first sync asks for the last day; the next one for what changed since it completed
    yesterday = (today - timedelta(days=1)).isoformat()
    assert (
        fake_api.since(0) == fake_api.since(1) == f"AREA[LastUpdatePostDate]RANGE[{yesterday},MAX]"
    )
    assert fake_api.since(2) == f"AREA[LastUpdatePostDate]RANGE[{today.isoformat()},MAX]"


# --- settings ------------------------------------------------------------------------------------


def test_queue_and_schedule_settings(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, tasks_on: Callable[[Huey], Tasks]
) -> None:
    monkeypatch.delenv("DRUGRADAR_REDIS_URL", raising=False)
    monkeypatch.setenv("DRUGRADAR_HUEY_DB", str(tmp_path / "q.db"))
    monkeypatch.setenv("DRUGRADAR_QUEUE_NAME", "isolated")
    huey = make_huey()
    assert isinstance(huey, SqliteHuey) and huey.name == "isolated"
    assert huey.storage.filename == str(tmp_path / "q.db")
    monkeypatch.setenv("DRUGRADAR_REDIS_URL", REDIS_URL)
    assert isinstance(make_huey(), RedisHuey)
    with pytest.raises(WorkerConfigError):
        make_huey("http://127.0.0.1:6379")

    assert sync_plan("ctgov=weekly, labels=off") == {"ctgov": "weekly"}
    assert sync_plan("") == {}
    for bad in ("ctgov=hourly", "pubmed=daily", "ctgov"):
        with pytest.raises(WorkerConfigError):
            sync_plan(bad)

    monkeypatch.setenv("DRUGRADAR_SYNC", "ctgov=weekly,labels=daily")
    monkeypatch.setenv("DRUGRADAR_SYNC_HOUR", "7")
    tasks = tasks_on(make_huey(f"sqlite:///{tmp_path / 'p.db'}"))
    monday = datetime(2026, 1, 5, 7, 0)
    assert monday.weekday() == 0

    def due(when: datetime) -> set[str]:
        return {t.name for t in tasks.deliver_digests.huey.read_periodic(when)}

    assert due(monday) == {"deliver_due", "sync_ctgov_weekly", "sync_labels_daily"}
    assert due(monday + timedelta(days=1)) == {"deliver_due", "sync_labels_daily"}
    assert due(monday + timedelta(minutes=1)) == {"deliver_due"}
    huey = tasks.deliver_digests.huey
    tasks.schedules["ctgov"].call_local()  # what the scheduler runs: it enqueues the sync
    (queued,) = huey.pending()
    assert queued.name == "sync_source" and queued.args == ("ctgov",)
