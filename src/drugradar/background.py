"""Run a reader in a second process, so that parsing overlaps with storing.

A load is two halves of similar cost: decompressing and parsing the source (pure Python and
lxml/orjson, one core) and storing and linking what was read (the database, the other core).
``background(read, *args)`` runs ``read(*args)`` in a child process and yields its items here in
order, a batch at a time through a bounded queue (memory stays flat whatever the input size).

The child is a daemon started with ``spawn`` (no inherited database connections or threads); if
this process dies, the child notices at its next ``put`` and exits. An exception in the child is
re-raised here with its message.
"""

from __future__ import annotations

import multiprocessing as mp
import os
import queue
from collections.abc import Callable, Iterable, Iterator
from typing import Any, TypeVar

T = TypeVar("T")

BATCH = 128
_DONE = "__drugradar_background_done__"


class BackgroundError(RuntimeError):
    """The reader failed in the child process; the message is the child's."""


def _run(fn: Callable[..., Iterable[Any]], args: tuple[Any, ...], out: Any, parent: int) -> None:
    def put(item: Any) -> bool:
        while True:
            try:
                out.put(item, timeout=1.0)
                return True
            except queue.Full:
                if os.getppid() != parent:  # the loader is gone: stop quietly, and do not
                    out.cancel_join_thread()  # wait at exit to flush a pipe nobody reads
                    return False

    batch: list[Any] = []
    try:
        for item in fn(*args):
            batch.append(item)
            if len(batch) >= BATCH:
                if not put(batch):
                    return
                batch = []
        if batch and not put(batch):
            return
        put(_DONE)
    except Exception as exc:  # handed to the parent, which raises it
        put(BackgroundError(f"{type(exc).__name__}: {exc}"))


def background(
    fn: Callable[..., Iterable[T]],
    *args: Any,
    depth: int = 16,
    idle: Callable[[], bool] | None = None,
) -> Iterator[T]:
    """Yield ``fn(*args)``'s items, computed in a child process (``fn`` must be importable).

    ``idle``: called instead of waiting when the child has nothing ready yet, to do a little
    other work here (it returns ``False`` when it has none left)."""
    ctx = mp.get_context("spawn")
    out = ctx.Queue(maxsize=depth)
    child = ctx.Process(target=_run, args=(fn, args, out, os.getpid()), daemon=True)
    child.start()
    try:
        while True:
            got = _next(out, idle)
            if got is _EMPTY:
                if not child.is_alive():
                    raise BackgroundError(
                        f"the reader process stopped unexpectedly (exit code {child.exitcode})"
                    ) from None
                continue
            if isinstance(got, BackgroundError):
                raise got
            if isinstance(got, str) and got == _DONE:
                return
            yield from got
    finally:
        if child.is_alive():
            child.terminate()
        child.join(timeout=5)
        out.close()


_EMPTY = object()


def _next(out: Any, idle: Callable[[], bool] | None) -> Any:
    """The child's next batch (doing ``idle`` work while there is none), or ``_EMPTY`` after
    waiting a while for none."""
    while idle is not None:
        try:
            return out.get_nowait()
        except queue.Empty:
            if not idle():
                break
    try:
        return out.get(timeout=5.0)
    except queue.Empty:
        return _EMPTY
