"""Run a reader in a second process, so that parsing overlaps with storing.

A load is two halves of similar cost: decompressing and parsing the source (pure Python and
lxml/orjson, one core) and storing and linking what was read (the database, the other core).
``background(read, *args)`` runs ``read(*args)`` in a child process and yields its items here in
order, a batch at a time, the child at most ``depth`` batches ahead (memory stays flat whatever
the input size).

The child is a fresh interpreter (``python -m drugradar.background``) that imports only the
reader's module. A ``multiprocessing`` child would first import this program's main module
again (the CLI, or any script: everything, ~1 s) and the reader's through it, while the loader
waits for its first study. The child gets the function's name and arguments on its stdin and
sends pickled batches back over a pipe of its own (its stdout stays free for whatever a library
prints), written by a thread so that reading goes on meanwhile. If this process dies, the
child's next write fails and it exits; an exception in the child is raised here with its
message.
"""

from __future__ import annotations

import importlib
import os
import pickle
import queue
import subprocess
import sys
import threading
from collections.abc import Callable, Iterable, Iterator
from multiprocessing.connection import Connection
from typing import Any, TypeVar

T = TypeVar("T")
W = TypeVar("W")

BATCH = 128  # items per message; the first ones are smaller, so the loader starts sooner
FIRST_BATCH = 8
_ITEMS, _ERROR, _DONE = "items", "error", "done"


class BackgroundError(RuntimeError):
    """The reader failed in the child process; the message is the child's."""


def background(
    fn: Callable[..., Iterable[T]],
    *args: Any,
    depth: int = 16,
    idle: Callable[[], bool] | None = None,
    waiting: W | None = None,
) -> Iterator[T | W]:
    """Yield ``fn(*args)``'s items, computed in a child process (``fn`` must be importable).

    ``idle``: called instead of waiting when the child has nothing ready yet, to do a little
    other work here (it returns ``False`` when it has none left). ``waiting``: yielded then,
    once ``idle`` has no work left, so that the caller may do some of its own (once per wait:
    the next item is then waited for)."""
    read_end, write_end = os.pipe()
    env = dict(os.environ)  # the child finds modules where this process does, in that order
    env["PYTHONPATH"] = os.pathsep.join(p for p in sys.path if p)
    try:
        child = subprocess.Popen(
            [sys.executable, "-m", "drugradar.background", str(write_end), str(depth)],
            stdin=subprocess.PIPE,
            pass_fds=(write_end,),
            env=env,
        )
    except BaseException:
        os.close(read_end)
        raise
    finally:
        os.close(write_end)
    conn = Connection(read_end, writable=False)
    try:
        assert child.stdin is not None
        try:
            child.stdin.write(pickle.dumps((fn.__module__, fn.__qualname__, args)))
            child.stdin.close()
        except BrokenPipeError:
            pass  # the child is gone already: said below
        said = False  # ``waiting`` yielded since the last batch
        while True:
            got = _next(conn, idle, waiting is not None and not said)
            if got is None:
                continue
            if got is _WAITING and waiting is not None:
                said = True
                yield waiting
                continue
            said = False
            kind, payload = got
            if kind == _ITEMS:
                yield from payload
            elif kind == _ERROR:
                raise BackgroundError(payload)
            else:
                return
    except EOFError:
        code = child.wait(timeout=5)
        raise BackgroundError(
            f"the reader process stopped unexpectedly (exit code {code})"
        ) from None
    finally:
        if child.poll() is None:
            child.terminate()
        try:
            child.wait(timeout=5)
        except subprocess.TimeoutExpired:
            child.kill()
            child.wait()
        conn.close()


_WAITING = ("waiting", None)


def _next(
    conn: Connection, idle: Callable[[], bool] | None, say: bool = False
) -> tuple[str, Any] | None:
    """The child's next message (doing ``idle`` work while there is none), ``_WAITING`` when
    ``say`` and none is ready once the idle work is done, or ``None`` after waiting a while for
    none; ``EOFError`` when the child has gone without saying it is done."""
    while idle is not None:
        if conn.poll(0):
            break
        if not idle():
            break
    if say and not conn.poll(0):
        return _WAITING
    if not conn.poll(5.0):
        return None
    message: tuple[str, Any] = pickle.loads(conn.recv_bytes())
    return message


def _child(argv: list[str]) -> None:
    """The child's side: read the call from stdin, send its items in batches."""
    conn = Connection(int(argv[1]), readable=False)
    outbox: queue.Queue[bytes | None] = queue.Queue(maxsize=int(argv[2]))

    def send() -> None:
        while (data := outbox.get()) is not None:
            try:
                conn.send_bytes(data)
            except OSError:  # the loader is gone: stop at once, nobody reads
                os._exit(0)

    writer = threading.Thread(target=send, daemon=True)
    writer.start()

    def put(kind: str, payload: Any) -> None:
        outbox.put(pickle.dumps((kind, payload), protocol=pickle.HIGHEST_PROTOCOL))

    batch: list[Any] = []
    size = FIRST_BATCH
    try:
        module, name, args = pickle.loads(sys.stdin.buffer.read())
        sys.stdin.close()
        fn: Any = importlib.import_module(module)
        for part in name.split("."):
            fn = getattr(fn, part)
        for item in fn(*args):
            batch.append(item)
            if len(batch) >= size:
                put(_ITEMS, batch)
                batch, size = [], min(BATCH, size * 2)
        if batch:
            put(_ITEMS, batch)
        put(_DONE, None)
    except Exception as exc:  # handed to the parent, which raises it
        put(_ERROR, f"{type(exc).__name__}: {exc}")
    outbox.put(None)
    writer.join()
    conn.close()


if __name__ == "__main__":
    _child(sys.argv)
