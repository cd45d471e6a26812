"""The resolver's fuzzy index: every name key the fuzzy step compares a query with, in blocks.

Reading half a million keys and laying them out costs ~0.7 s, paid by every trial load and every
new resolver. A dictionary rebuild, the only writer of these names, stores the keys laid out
(``layout``: in the order of each end's blocks, so a block is one run found by bisection) in
``resolver_index``, with the rebuild's stamp and the largest synonym id then; reading that back
takes ~0.1 s. The stored keys are used while the stamp is the same and no name of these types
has been added since (a trial load adds only codes); otherwise the keys are read as before.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections import defaultdict
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from operator import itemgetter

from rapidfuzz import fuzz, process
from sqlalchemy import Connection, func, select

from drugradar.store.schema import DICTIONARY_STAMP, meta, resolver_index, synonym

FUZZY_TYPES = ("official", "inn", "common", "brand", "salt")
FUZZY_MIN_LEN, FUZZY_MAX_LEN = 4, 60  # name keys the fuzzy index holds
INDEX_NAME = "fuzzy_keys"


def _label(end: str, size: int) -> str:
    """A narrow block's label: its two end letters, then its length as one character (a string
    compares faster than a tuple; keys have 2+ letters, so the length always comes third)."""
    return end + chr(size + 48)


def _head(key: str) -> str:
    return _label(key[:2], len(key))


def _tail(key: str) -> str:
    return _label(key[-2:], len(key))


_FIRST_TWO = itemgetter(slice(0, 2))  # C callables: a bisection then calls no Python code
_LAST_TWO = itemgetter(slice(-2, None))


def _block(keys: list[str], end: Callable[[str], str], at: str, size: int) -> list[str]:
    """The keys, laid out by the ends ``end`` gives (two letters, then length: ``_label``),
    whose end is ``at`` and length ``size``: one run, found by bisecting first on the two
    letters, then on the length within them."""
    if len(at) != 2:
        return []
    lo = bisect_left(keys, at, key=end)
    hi = bisect_right(keys, at, lo, key=end)
    lo = bisect_left(keys, size, lo, hi, key=len)
    return keys[lo : bisect_right(keys, size, lo, hi, key=len)]


class FuzzyIndex:
    """Normalized name keys in blocks, so that a query is compared with few candidates.

    Narrow blocks are (first two letters, length) and (last two letters, length): a typo leaves
    one of the two ends intact. The keys are laid out twice, ordered by each block and then by
    themselves, so a narrow block is one run of a list, found by bisection. Wide blocks use one
    letter, for single queries where finding the closest names matters more than speed.
    """

    def __init__(
        self, keys: Iterable[str], laid_out: tuple[list[str], list[str]] | None = None
    ) -> None:
        """``laid_out``: the keys in head and in tail order, as ``layout`` gives them."""
        self.by_head, self.by_tail = laid_out if laid_out is not None else layout(keys)
        self.blocks: dict[tuple[str, str, int], list[str]] = defaultdict(list)
        self._runs: dict[tuple[int, str, int], list[str]] = {}
        self._wide = False

    def _run(self, end: int, at: str, size: int) -> list[str]:
        """A narrow block (``end`` 0: first letters, 1: last), kept once found: the queries of
        a load share their ends."""
        found = self._runs.get((end, at, size))
        if found is None:
            keys, ends = (self.by_head, _FIRST_TWO) if end == 0 else (self.by_tail, _LAST_TWO)
            found = self._runs[(end, at, size)] = _block(keys, ends, at, size)
        return found

    @property
    def keys(self) -> list[str]:
        """Every key, in order."""
        return sorted(self.by_head)

    def _widen(self) -> None:
        """The one-letter blocks, built the first time a wide search needs them."""
        for k in self.keys:
            n = len(k)
            self.blocks[("^1", k[:1], n)].append(k)
            self.blocks[("$1", k[-1:], n)].append(k)
        self._wide = True

    def candidates(self, key: str, slack: int, wide: bool = False) -> list[str]:
        if wide and not self._wide:
            self._widen()
        out: list[str] = []
        for size in range(max(1, len(key) - slack), len(key) + slack + 1):
            if wide:
                out += self.blocks.get(("^1", key[:1], size), ())
                out += self.blocks.get(("$1", key[-1:], size), ())
            else:
                out += self._run(0, key[:2], size)
                out += self._run(1, key[-2:], size)
        return out

    def search(
        self, key: str, cutoff: float, limit: int, *, wide: bool = False
    ) -> list[tuple[str, float]]:
        slack = max(2, len(key) // 5) if not wide else max(3, len(key) // 3)
        cands = self.candidates(key, slack, wide)
        found = process.extract(key, cands, scorer=fuzz.ratio, score_cutoff=cutoff, limit=limit * 2)
        best: dict[str, float] = {}
        for k, score, _ in found:  # a key can sit in both end blocks
            best[k] = max(best.get(k, 0.0), float(score))
        return sorted(best.items(), key=lambda kv: -kv[1])[:limit]


def layout(keys: Iterable[str]) -> tuple[list[str], list[str]]:
    """The keys (each once) ordered by first two letters and length, then by key; and likewise
    by last two letters (sorted, then sorted again by block: a stable sort keeps key order)."""
    ordered = sorted(set(keys))
    return sorted(ordered, key=_head), sorted(ordered, key=_tail)


def read_keys(conn: Connection) -> list[str]:
    """Every name key (not codes) of a length the index holds, read with the driver's own
    cursor — half a million short strings, where row objects would cost seconds. SQLite reads
    them distinct and in order from the (norm_key, alias_type) index alone, joined into one text
    (a key holds only letters and digits, so a newline parts them): one string to split instead
    of a row each. Elsewhere Python makes them a set."""
    s = synonym.c
    where = (s.alias_type.in_(FUZZY_TYPES),)  # lengths kept in Python: SQLite would count the
    # characters of every row, a quarter of the read
    joined = conn.dialect.name == "sqlite"
    stmt = (
        select(s.norm_key).where(*where).distinct().order_by(s.norm_key)
        if joined
        else select(s.norm_key).where(*where)  # a set in Python: 4x faster here
    )
    compiled = stmt.compile(dialect=conn.dialect, compile_kwargs={"render_postcompile": True})
    params = compiled.construct_params()
    sql = str(compiled)
    if joined:
        sql = f"SELECT group_concat(norm_key, char(10)) FROM ({sql})"
    cur = conn.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
    try:
        if compiled.positiontup:
            cur.execute(sql, [params[k] for k in compiled.positiontup])
        else:
            cur.execute(sql, params)
        rows = cur.fetchall()
    finally:
        cur.close()
    if joined:
        text = rows[0][0] if rows else None
        keys = text.split("\n") if text else []
    else:
        keys = list({r[0] for r in rows})
    return [k for k in keys if FUZZY_MIN_LEN <= len(k) <= FUZZY_MAX_LEN]


def _version(conn: Connection) -> tuple[str | None, int]:
    """The last dictionary rebuild's stamp and the largest synonym id."""
    stamp = select(meta.c.value).where(meta.c.key == DICTIONARY_STAMP).scalar_subquery()
    row = conn.execute(select(stamp, func.max(synonym.c.id))).one()
    return row[0], int(row[1] or 0)


def _pack(keys: list[str]) -> bytes:
    """One key per line (not compressed: inflating would double the time to read them)."""
    return "\n".join(keys).encode()


def _unpack(body: bytes) -> list[str]:
    text = bytes(body).decode()
    return text.split("\n") if text else []


def save(conn: Connection) -> None:
    """Store the index's keys laid out, for the dictionary just rebuilt in ``conn``'s
    transaction (``dictionary.load.rebuild`` calls it last, after writing its stamp)."""
    stamp, max_id = _version(conn)
    by_head, by_tail = layout(read_keys(conn))
    conn.execute(resolver_index.delete().where(resolver_index.c.name == INDEX_NAME))
    conn.execute(
        resolver_index.insert().values(
            name=INDEX_NAME,
            stamp=stamp or "",
            max_synonym_id=max_id,
            by_head=_pack(by_head),
            by_tail=_pack(by_tail),
            built_at=datetime.now(UTC).replace(tzinfo=None),
        )
    )


def load(conn: Connection) -> FuzzyIndex:
    """The index of the dictionary in ``conn``: the stored one when it is still that of the
    dictionary, else made from the names themselves."""
    ri, s = resolver_index.c, synonym.c
    row = conn.execute(
        select(ri.stamp, ri.max_synonym_id, ri.by_head, ri.by_tail).where(ri.name == INDEX_NAME)
    ).first()
    if row is not None:
        stamp, _ = _version(conn)
        added = conn.execute(
            select(s.id).where(s.id > row.max_synonym_id, s.alias_type.in_(FUZZY_TYPES)).limit(1)
        ).first()
        if (stamp or "") == row.stamp and added is None:
            return FuzzyIndex((), (_unpack(row.by_head), _unpack(row.by_tail)))
    return FuzzyIndex(read_keys(conn))
