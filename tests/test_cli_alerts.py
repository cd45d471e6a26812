"""Set Alert from the command line, run as a user runs it: real processes, a real database on each
backend, a real SMTP server. Two accounts try each other's subscriptions and keys.

The one event here is synthetic (made by the test: the followed drug reaching Phase 3)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from datetime import date
from pathlib import Path

import orjson
from sqlalchemy import Engine

from drugradar.alerts.settle import settle
from drugradar.model.event import Change, Materiality
from drugradar.track.store import Sighting, save

from .conftest import Database
from .servers import Mailbox, smtp  # noqa: F401
from .test_cli import run
from .test_events_store import new_release

ALICE, BOB = "alice@example.org", "bob@example.org"


def ok(db: Database, *args: str) -> str:
    out = run(db, *args)
    assert out.returncode == 0, out.stdout + out.stderr
    return out.stdout


def refused(db: Database, *args: str, code: int = 1) -> str:
    out = run(db, *args)
    assert out.returncode == code, out.stdout + out.stderr
    assert "Traceback" not in out.stderr and out.stderr.strip().count("\n") == 0, out.stderr
    return out.stderr.strip()


def synthetic_phase_3(engine: Engine, drug_id: str) -> None:
    """Synthetic (not real data): the drug reached Phase 3 in the US; matched at once."""
    change = Change(
        "dev_status",
        "PHASE_3",
        "dev_status",
        f"{drug_id}|None|US|None",
        "synthetic: reached Phase 3",
        field="phase",
        old="PHASE_2",
        new="PHASE_3",
        materiality=Materiality.HIGH,
        concerns=[("drug", drug_id)],
    )
    day = date(2026, 3, 14)
    rid = new_release(engine, "test_source", day)
    with engine.begin() as c:
        save(c, [(change, Sighting("test_source", change.entity_id, rid, day))])
    settle(engine)


def test_alerts_from_the_command_line(
    db: Database,
    loaded: Engine,
    smtp: Mailbox,  # noqa: F811
) -> None:
    for who in (ALICE, BOB):
        assert "created" in ok(db, "users", "add", who, "--password", "a long enough password")
    assert "already" in refused(db, "users", "add", ALICE, "--password", "another long one")

    added = ok(
        db, "alerts", "add", "--drug", "Imlygic", "--events", "dev_status,approval", "--daily",
        "--email", "a@b.org", "--user", ALICE,
    )  # fmt: skip
    assert "#1" in added and "Talimogene laherparepvec (as IMLYGIC)" in added
    assert "events: dev_status, approval" in added and "daily at 08:00 UTC" in added
    assert "channels: email, inbox" in added

    assert "Talimogene" in ok(db, "alerts", "list", "--user", ALICE)
    assert "No subscriptions yet" in ok(db, "alerts", "list", "--user", BOB)
    # bob cannot touch alice's subscription, whatever the command
    for action in ("pause", "resume", "delete", "preview"):
        msg = refused(db, "alerts", action, "1", "--user", BOB)
        assert msg == "You have no subscription 1.", msg
    assert "No account" in refused(db, "alerts", "list", "--user", "nobody@example.org")
    assert "qqqzzz" in refused(db, "alerts", "add", "--drug", "qqqzzz", "--user", ALICE)

    assert "paused" in ok(db, "alerts", "pause", "1", "--user", ALICE)
    assert "(paused)" in ok(db, "alerts", "list", "--user", ALICE)
    assert "resumed" in ok(db, "alerts", "resume", "1", "--user", ALICE)
    assert "(paused)" not in ok(db, "alerts", "list", "--user", ALICE)

    assert orjson.loads(ok(db, "alerts", "preview", "1", "--json", "--user", ALICE)) == []
    follow = orjson.loads(ok(db, "resolve", "Imlygic", "--json"))["matches"][0]["drug_id"]
    synthetic_phase_3(loaded, follow)
    (seen,) = orjson.loads(
        ok(db, "alerts", "preview", "1", "--json", "--until", "2026-03-20", "--user", ALICE)
    )
    assert seen["type"] == "PHASE_3" and seen["from"] == "PHASE_2" and seen["to"] == "PHASE_3"

    assert "1 digest(s) sent" in ok(db, "alerts", "run", "--now")
    assert "0 digest(s) sent" in ok(db, "alerts", "run", "--now")  # once
    (msg,) = smtp.messages
    assert msg["X-Envelope-To"] == "a@b.org"
    assert "synthetic: reached Phase 3" in msg.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    assert "0 failed digest(s)" in ok(db, "alerts", "deliveries", "--failed", "--user", ALICE)

    assert "deleted" in ok(db, "alerts", "delete", "1", "--user", ALICE)
    assert "No subscriptions yet" in ok(db, "alerts", "list", "--user", ALICE)


def test_api_keys_from_the_command_line(db: Database, engine: Engine) -> None:
    for who in (ALICE, BOB):
        ok(db, "users", "add", who, "--password", "a long enough password")
    out = ok(db, "keys", "create", "scripts", "--user", ALICE).splitlines()
    key = out[-1].strip()
    assert len(key) > 20 and "not shown again" in " ".join(out)
    listed = ok(db, "keys", "list", "--user", ALICE)
    assert "scripts" in listed and key not in listed
    assert "scripts" not in ok(db, "keys", "list", "--user", BOB)
    refused(db, "keys", "revoke", "1", "--user", BOB)
    assert "revoked" in ok(db, "keys", "revoke", "1", "--user", ALICE)

    from drugradar.alerts.users import user_for_api_key

    assert user_for_api_key(engine, key) is None


def test_worker_process_starts_and_stops(db: Database, engine: Engine, tmp_path: Path) -> None:
    """``drugradar worker`` as a real process on a SQLite queue: it starts its consumer, and a
    SIGTERM stops it cleanly; a wrong queue URL is one sentence."""
    msg = refused(db, "worker", "--queue", "http://127.0.0.1:1/", code=2)
    assert "queue URL" in msg
    env = {**os.environ, "DRUGRADAR_DB": db.url, "DRUGRADAR_SYNC": "ctgov=off"}
    env["DRUGRADAR_HUEY_DB"] = str(tmp_path / "queue.db")
    proc = subprocess.Popen(
        [sys.executable, "-m", "drugradar.cli", "worker", "--threads", "1"],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=env,
    )
    assert proc.stdout is not None
    lines: list[str] = []
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if not line:
            break
        lines.append(line)
        if "commands are available" in line:  # logged just before its signal handlers are set
            time.sleep(1.0)
            break
    try:
        assert any("sync schedules: none" in line for line in lines), "".join(lines)
    finally:
        proc.send_signal(signal.SIGTERM)
        rest, _ = proc.communicate(timeout=60)
    assert proc.returncode == 0, "".join(lines) + rest
    assert "Traceback" not in rest and "All workers have stopped" in rest, rest
