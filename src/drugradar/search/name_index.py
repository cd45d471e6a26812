"""Which drugs have a name containing a text: the in-memory index the search's text filter uses
instead of reading every name in SQL (``synonym.norm_key LIKE '%key%'`` is a scan of a million
names, twice per search: ~300 ms on the whole dictionary).

Every distinct normalized name (``norm_key``: only ``a-z`` and ``0-9``) is one line of one
string; a search is a ``str.find`` loop over it (C speed: ~15 ms over 1.1 M names), each hit
mapped to its line by bisection and the line to its drugs, then the search skips to the next
line. The answer is the ids of the drugs with such a name, retired ones included as in the
table: the SQL that takes them applies every other filter, so the results are exactly those of
the SQL text filter. A text that very many names contain (``a``, ``ol``) answers ``None``: the
search then takes the SQL path, which is no slower than the loop would be.

``NameIndexCache`` keeps one index per app (like the resolver), built on first use. Each use
first reads the dictionary's version — the largest synonym id (trial loads add names) and the
stamp every dictionary rebuild writes (``dictionary.load.STAMP_KEY``): two index look-ups — and
rebuilds the index when it changed; while it is being (re)built, other searches take the SQL
path. Results are never stale.
"""

from __future__ import annotations

import threading
from array import array
from bisect import bisect_right
from collections import OrderedDict
from collections.abc import Iterable
from dataclasses import dataclass
from itertools import pairwise
from typing import Any

from sqlalchemy import Engine, func, select

from drugradar.dictionary.load import STAMP_KEY
from drugradar.store.schema import meta, synonym

BLOCK = 4096  # characters per block of lines: the bigram filter says which blocks to read
MAX_NAMES = 20_000  # names containing the text beyond which the SQL path is taken
MAX_DRUGS = 10_000  # drugs likewise: their ids are bound into the SQL
REMEMBERED = 64  # recent answers kept (a page asks twice: its rows, then its facets)

Version = tuple[Any, ...]


@dataclass(frozen=True, slots=True)
class NameHits:
    """The drugs with a name containing a text (ids sorted): every one, those with a name equal
    to it, and the others with a name starting with it (the ``relevance`` sort's tiers)."""

    ids: list[str]
    equal: list[str]
    starting: list[str]


def dictionary_version(engine: Engine) -> Version:
    """What changes whenever the names do: (largest synonym id, the last rebuild's stamp)."""
    stamp = select(meta.c.value).where(meta.c.key == STAMP_KEY).scalar_subquery()
    with engine.connect() as conn:
        row = conn.execute(select(func.max(synonym.c.id), stamp)).one()
    return tuple(row)


class NameIndex:
    """Normalized names -> drug ids, searched by substring. Immutable once made."""

    def __init__(self, pairs: Iterable[tuple[str, str]], version: Version = ()) -> None:
        """``pairs``: ``(norm_key, drug_id)``, equal keys next to each other (sorted by key)."""
        self.version = version
        lines: list[str] = []
        starts = array("q")  # where each line starts in the text; then the text's length
        first = array("l")  # each line's first entry in ``drugs``; then len(drugs)
        drugs = array("l")  # index into ``ids``
        ids: list[str] = []
        number: dict[str, int] = {}
        at = 0
        previous: str | None = None
        for key, drug_id in pairs:
            if not key or "\n" in key:
                continue
            if key != previous:
                lines.append(key)
                starts.append(at)
                first.append(len(drugs))
                at += len(key) + 1
                previous = key
            n = number.get(drug_id)
            if n is None:
                n = number[drug_id] = len(ids)
                ids.append(drug_id)
            if len(drugs) == first[-1] or drugs[-1] != n:  # pairs are distinct: drop repeats
                drugs.append(n)
        starts.append(at)
        first.append(len(drugs))
        self._text = text = "\n".join(lines) + "\n"
        self.names = len(lines)
        del lines
        self._starts = starts
        self._blocks, self._bigrams = _bigram_blocks(text)
        self._first = first
        self._drugs = drugs
        self._ids = ids
        self._lock = threading.Lock()
        self._recent: OrderedDict[str, NameHits | None] = OrderedDict()

    @classmethod
    def load(cls, engine: Engine) -> NameIndex:
        """Every name in the database; the version is read first, so that a load meanwhile
        makes the index look old (and rebuilt again), never new."""
        version = dictionary_version(engine)
        s = synonym.c
        stmt = select(s.norm_key, s.drug_id).distinct().order_by(s.norm_key, s.drug_id)
        with engine.connect() as conn:
            rows = conn.execution_options(stream_results=True, yield_per=20_000).execute(stmt)
            return cls(((r[0], r[1]) for r in rows), version)

    def drugs_containing(self, key: str) -> NameHits | None:
        """The drugs with a name containing ``key`` (a ``norm_key``), or ``None`` when too many
        names do (or the key is empty): then ask SQL."""
        if not key or "\n" in key:
            return None
        with self._lock:
            if key in self._recent:
                self._recent.move_to_end(key)
                return self._recent[key]
        found = self._search(key)
        with self._lock:
            self._recent[key] = found
            if len(self._recent) > REMEMBERED:
                self._recent.popitem(last=False)
        return found

    def _search(self, key: str) -> NameHits | None:
        text, starts, first, drugs = self._text, self._starts, self._first, self._drugs
        found: set[int] = set()
        equal: set[int] = set()
        starting: set[int] = set()
        names = 0
        size = len(key)
        for a, b in self._spans(key):
            i = text.find(key, a, b)
            while i >= 0:  # ``i`` is the key's first place in its line: each search starts one
                line = bisect_right(starts, i) - 1
                names += 1
                if names > MAX_NAMES:
                    return None
                these = drugs[first[line] : first[line + 1]]
                found.update(these)
                end = starts[line + 1]
                if i == starts[line]:
                    (equal if end - i - 1 == size else starting).update(these)
                i = text.find(key, end, b)
        if len(found) > MAX_DRUGS:
            return None
        ids = self._ids
        return NameHits(
            sorted(ids[n] for n in found),
            sorted(ids[n] for n in equal),
            sorted(ids[n] for n in starting - equal),
        )

    def _spans(self, key: str) -> list[tuple[int, int]]:
        """The stretches of the text whose blocks hold every two-letter piece of ``key``: the
        only places it can be (a block ends at a line's end, so a name never straddles two)."""
        blocks = self._blocks
        if len(key) < 2:
            return [(0, blocks[-1])]
        mask = -1
        for pair in set(pairwise(key)):
            mask &= self._bigrams.get(pair, 0)
        n = len(blocks) - 1
        flags = mask.to_bytes(n, "little")  # one byte per block: 1 = may hold the key
        spans = []
        i = flags.find(1)
        while i >= 0:
            j = flags.find(0, i)
            j = n if j < 0 else j
            spans.append((blocks[i], blocks[j]))
            i = flags.find(1, j)
        return spans


def _bigram_blocks(text: str) -> tuple[array[int], dict[tuple[str, str], int]]:
    """The text cut into blocks of about ``BLOCK`` characters at line ends (their starts, then
    the text's length), and for each two-letter piece, the blocks holding it: an integer with
    byte ``b`` set to 1 when block ``b`` does."""
    blocks = array("q", [0])
    while blocks[-1] < len(text):
        end = text.find("\n", min(blocks[-1] + BLOCK, len(text) - 1))
        blocks.append(len(text) if end < 0 else end + 1)
    n = len(blocks) - 1
    where: dict[tuple[str, str], bytearray] = {}
    for b in range(n):
        chunk = text[blocks[b] : blocks[b + 1]]
        for pair in set(pairwise(chunk)):
            flags = where.get(pair)
            if flags is None:
                flags = where[pair] = bytearray(n)
            flags[b] = 1
    return blocks, {pair: int.from_bytes(flags, "little") for pair, flags in where.items()}


class NameIndexCache:
    """The app's name index: made on first use, made again when the dictionary changed."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._building = threading.Lock()
        self._index: NameIndex | None = None

    def get(self) -> NameIndex | None:
        """The index, current as of now; ``None`` while another thread (re)builds it (the
        caller then searches in SQL)."""
        version = dictionary_version(self.engine)
        index = self._index
        if index is not None and index.version == version:
            return index
        if not self._building.acquire(blocking=False):
            return None
        try:
            index = self._index
            if index is None or index.version != version:
                index = NameIndex.load(self.engine)  # its version is at least ``version``
                self._index = index
            return index
        finally:
            self._building.release()
