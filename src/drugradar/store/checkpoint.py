"""SQLite checkpoints beside a bulk load, not inside its commits.

In WAL mode a commit that leaves the log over 1,000 pages copies the log into the database file
(a checkpoint) before it returns: after a trial load's store, hundreds of megabytes, half a
second or more during which the load waits. ``checkpoints_aside(engine)`` turns that off for
the engine's connections and runs the checkpoints in a thread of its own instead. SQLite does
the copying without holding Python's interpreter lock, so it goes on, on the other core, while
the load builds its tables in Python. On leaving, the thread does a last checkpoint and stops,
and connections checkpoint on commit again. Blocks nest (a load inside a replay): the outermost
one does the work. Other engines (PostgreSQL) are left alone.
"""

from __future__ import annotations

import logging
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Engine, event

log = logging.getLogger(__name__)
AUTOCHECKPOINT = 1000  # SQLite's default, restored on leaving
INTERVAL = 0.1  # seconds between the thread's checkpoints


def _on_file(engine: Engine) -> str | None:
    db = engine.url.database
    if engine.dialect.name != "sqlite" or not db or db == ":memory:" or db.startswith("file:"):
        return None
    return db


_active: set[int] = set()  # engines inside a block (by id), so that blocks nest
_lock = threading.Lock()


@contextmanager
def checkpoints_aside(engine: Engine) -> Iterator[None]:
    path = _on_file(engine)
    with _lock:
        outer = path is not None and id(engine) not in _active
        if outer:
            _active.add(id(engine))
    if path is None or not outer:
        yield
        return
    try:
        with _aside(engine, path):
            yield
    finally:
        with _lock:
            _active.discard(id(engine))


@contextmanager
def _aside(engine: Engine, path: str) -> Iterator[None]:
    def checkout(dbapi_conn: Any, _record: Any, _proxy: Any) -> None:
        dbapi_conn.execute("PRAGMA wal_autocheckpoint=0")

    def checkin(dbapi_conn: Any, _record: Any) -> None:
        if dbapi_conn is not None:
            dbapi_conn.execute(f"PRAGMA wal_autocheckpoint={AUTOCHECKPOINT}")

    stop = threading.Event()
    thread = threading.Thread(
        target=_checkpoints, args=(path, stop), name="sqlite-checkpoints", daemon=True
    )
    event.listen(engine, "checkout", checkout)
    event.listen(engine, "checkin", checkin)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join()
        event.remove(engine, "checkout", checkout)
        event.remove(engine, "checkin", checkin)


def _checkpoints(path: str, stop: threading.Event) -> None:
    """PASSIVE checkpoints (they never wait for readers or the writer) until told to stop,
    then one more. A failure only leaves the copying to the next commit that checkpoints."""
    try:
        conn = sqlite3.connect(path, timeout=30, check_same_thread=False)
    except sqlite3.Error as exc:
        log.warning("background checkpoints off for %s: %s", path, exc)
        return
    try:
        while not stop.wait(INTERVAL):
            conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()
        conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()
    except sqlite3.Error as exc:
        log.warning("background checkpoints stopped for %s: %s", path, exc)
    finally:
        conn.close()
