"""SQLite checkpoints run beside a bulk load (``store.checkpoint``), and everything is back to
normal afterwards. A checkpoint is seen by the database file growing: with checkpoints on
commit turned off, nothing else copies the log into it."""

from __future__ import annotations

import os
import threading
import time

from sqlalchemy import Engine, text

from drugradar.store import checkpoint
from drugradar.store.checkpoint import AUTOCHECKPOINT, checkpoints_aside

ROW = 4000  # bytes per scratch row


def _threads() -> list[str]:
    return [t.name for t in threading.enumerate() if t.name == "sqlite-checkpoints"]


def _write(engine: Engine, rows: int) -> None:
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE IF NOT EXISTS scratch_blob (id INTEGER, body TEXT)"))
        conn.execute(
            text("INSERT INTO scratch_blob VALUES (:i, :b)"),
            [{"i": i, "b": "x" * ROW} for i in range(rows)],
        )


def _size(engine: Engine) -> int:
    return os.path.getsize(str(engine.url.database))


def test_checkpoints_move_to_a_thread_and_come_back(engine: Engine, backend: str) -> None:
    if backend != "sqlite":  # PostgreSQL has no WAL checkpoints to move: nothing changes
        with checkpoints_aside(engine):
            assert _threads() == []
            _write(engine, 10)
        return
    before = _size(engine)
    with checkpoints_aside(engine):
        assert _threads() == ["sqlite-checkpoints"]
        with engine.connect() as conn:  # commits no longer checkpoint...
            assert conn.exec_driver_sql("PRAGMA wal_autocheckpoint").scalar() == 0
        _write(engine, 3000)  # ~12 MB: three times the log size a commit would checkpoint at
    assert _threads() == []  # ...the thread did, the last time as the block ended, and is gone
    assert _size(engine) - before > 3000 * ROW * 0.9
    with engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA wal_autocheckpoint").scalar() == AUTOCHECKPOINT
        assert conn.exec_driver_sql("SELECT count(*) FROM scratch_blob").scalar() == 3000


def test_the_thread_checkpoints_while_the_load_goes_on(engine: Engine, backend: str) -> None:
    """Frames committed inside the block reach the database file before the block ends: the
    load does not wait for them at its end."""
    if backend != "sqlite":
        return
    before = _size(engine)
    with checkpoints_aside(engine):
        _write(engine, 2000)
        deadline = time.monotonic() + 20
        while _size(engine) - before < 2000 * ROW * 0.9 and time.monotonic() < deadline:
            time.sleep(checkpoint.INTERVAL)
        assert _size(engine) - before > 2000 * ROW * 0.9


def test_blocks_nest(engine: Engine, backend: str) -> None:
    """A load inside a replay: one thread, and checkpoints stay aside until the outer block
    ends."""
    if backend != "sqlite":
        return
    with checkpoints_aside(engine):
        with checkpoints_aside(engine):
            assert _threads() == ["sqlite-checkpoints"]
        assert _threads() == ["sqlite-checkpoints"]
        with engine.connect() as conn:
            assert conn.exec_driver_sql("PRAGMA wal_autocheckpoint").scalar() == 0
    assert _threads() == []
