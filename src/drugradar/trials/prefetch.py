"""Resolve the drug names of the studies being stored while the loader waits for its reader.

Storing a big input is paced by the reader process (decompressing and parsing): this process
mostly waits on its queue. When it would wait, it resolves instead a few of the names of the
records that have passed (``step``), into the bulk resolver's memory, so that linking (after
the store) finds them resolved. Cooperative, not a thread: a thread holding the interpreter would
stall the database driver, which gives it up on every statement. A name resolves the same
whenever it is asked (``Resolver(bulk=True)``), so the links are those a load without it makes.
"""

from __future__ import annotations

from typing import Any

from drugradar.resolve import Resolver
from drugradar.sources.base import Record
from drugradar.trials.roles import NOT_DRUG_TYPES

STEP = 200  # names per step: a few tens of milliseconds


class Prefetch:
    """``feed(record)`` as records pass, ``step()`` when idle, ``finish()`` before linking."""

    def __init__(self, resolver: Resolver) -> None:
        self.resolver = resolver
        self._pending: list[str] = []
        self._seen: set[str] = set()
        self._indexed = False

    def feed(self, record: Record) -> None:
        for name in _drug_names(record.data):
            if name not in self._seen:
                self._seen.add(name)
                self._pending.append(name)

    def step(self) -> bool:
        """Do a little of the work; ``False`` when there is none left."""
        if not self._indexed:  # the costly part, built while the reader works (a reader that
            self.resolver.fuzzy_index()  # picks versions yields nothing until the end)
            self._indexed = True
            return True
        if not self._pending:
            return False
        batch, self._pending = self._pending[:STEP], self._pending[STEP:]
        self.resolver.resolve_many(batch)
        return True

    def finish(self) -> None:
        if self._pending:
            batch, self._pending = self._pending, []
            self.resolver.resolve_many(batch)


def _drug_names(data: dict[str, Any]) -> list[str]:
    """The names linking will resolve: every intervention that may be a drug, all its names."""
    out: list[str] = []
    for iv in data.get("interventions") or ():
        if not isinstance(iv, dict) or iv.get("type") in NOT_DRUG_TYPES:
            continue
        name = iv.get("name")
        if isinstance(name, str) and name:
            out.append(name)
        out += [n for n in iv.get("other_names") or () if isinstance(n, str) and n]
    return out
