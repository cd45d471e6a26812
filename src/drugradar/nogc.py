"""Bulk work without the cyclic garbage collector.

Loading a release or building a table holds hundreds of thousands of small dicts and tuples at
once; the collector would scan them again and again for nothing (loads ran up to three times
slower with it). A trial load keeps it off to its end: its status rebuild and settling make as
many objects again, beside the resolver's half a million names. Nothing these steps build forms
reference cycles, and the previous state is restored afterwards, so memory is reclaimed by
reference counting as usual.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def no_gc() -> Iterator[None]:
    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was:
            gc.enable()
