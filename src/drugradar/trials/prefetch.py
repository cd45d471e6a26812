"""Work done ahead on the studies being stored, while the loader waits for its reader.

Storing a big input is paced by the reader process (decompressing and parsing): this process
mostly waits on its queue. When it would wait, it does instead a little of what building the
trial tables (after the store) needs (``step``): the resolver's fuzzy index, then the names of
the interventions that passed, into the bulk resolver's memory, then the rows each study
becomes (``trials.rows``), kept by record id and content hash. Cooperative, not a thread: a
thread holding the interpreter would stall the database driver, which gives it up on every
statement. A name resolves the same whenever it is asked (``Resolver(bulk=True)``) and rows are
a pure function of the record, so the tables are those a load without it builds.
"""

from __future__ import annotations

from typing import Any

from drugradar.resolve import Resolver
from drugradar.sources.base import Record
from drugradar.trials.roles import NOT_DRUG_TYPES
from drugradar.trials.rows import TrialRows, rows_of, trial_from_dict

STEP = 200  # names per step: a few tens of milliseconds
ROWS_STEP = 50  # studies per step
MADE_LIMIT = 20_000  # studies whose rows are kept ahead at most (memory stays bounded)
Made = dict[tuple[str, str], TrialRows]


class Prefetch:
    """``feed(record)`` as records pass, ``step()`` when idle, ``finish()`` before linking."""

    def __init__(self, resolver: Resolver) -> None:
        self.resolver = resolver
        self._pending: list[str] = []
        self._seen: set[str] = set()
        self._indexed = False
        self._records: list[Record] = []
        self.made: Made = {}
        self.built: set[str] = set()  # studies already built (``load.EarlyBuild``): skipped

    def feed(self, record: Record) -> None:
        for name in _drug_names(record.data):
            if name not in self._seen:
                self._seen.add(name)
                self._pending.append(name)
        if record.digest and len(self.made) + len(self._records) < MADE_LIMIT:
            self._records.append(record)

    def forget(self) -> None:
        """Drop the rows made ahead (the release they were made for is built)."""
        self._records.clear()
        self.made.clear()
        self.built.clear()

    def step(self) -> bool:
        """Do a little of the work; ``False`` when there is none left."""
        if not self._indexed:  # the costly part, built while the reader works (a reader that
            self.resolver.fuzzy_index()  # picks versions yields nothing until the end)
            self._indexed = True
            return True
        if self._pending:
            batch, self._pending = self._pending[:STEP], self._pending[STEP:]
            self.resolver.resolve_many(batch)
            return True
        if self._records:
            todo, self._records = self._records[:ROWS_STEP], self._records[ROWS_STEP:]
            for rec in todo:  # fed only with a digest
                if rec.record_id not in self.built:
                    rows = rows_of(trial_from_dict(rec.data, sites=False))
                    self.made[(rec.record_id, str(rec.digest))] = rows
            return True
        return False

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
