"""Names to drugs as one types: one resolver per app (its fuzzy index of every name takes
seconds to build on the whole dictionary, so it is kept, and rebuilt after a while so that names
loaded meanwhile are found), and the search box's suggestions.
"""

from __future__ import annotations

import threading
import time

from sqlalchemy import Engine, func, select

from drugradar.model import ALIAS_RANK, AliasType
from drugradar.resolve import Match, Resolver
from drugradar.resolve.normalize import norm_key
from drugradar.store.schema import drug, synonym

REFRESH_S = 600.0
SUGGEST_LIMIT = 8
_TOP = "\U0010ffff"  # above every character: key <= k < key + _TOP is "k starts with key"


class ResolverCache:
    """The app's resolver, made on first use and again after ``refresh_s``."""

    def __init__(self, engine: Engine, refresh_s: float = REFRESH_S) -> None:
        self.engine = engine
        self.refresh_s = refresh_s
        self._lock = threading.Lock()
        self._resolver: Resolver | None = None
        self._made = 0.0

    def get(self) -> Resolver:
        with self._lock:
            now = time.monotonic()
            if self._resolver is None or now - self._made > self.refresh_s:
                self._resolver = Resolver(self.engine, limit=SUGGEST_LIMIT)
                self._made = now
            return self._resolver


def _tier(alias_type: str) -> int:
    try:
        return ALIAS_RANK[AliasType(alias_type)]
    except ValueError:
        return 99


def prefix_matches(engine: Engine, text: str, limit: int = SUGGEST_LIMIT) -> list[Match]:
    """Drugs with a name starting with ``text`` (after normalization), shortest names first:
    what someone typing the beginning of a name wants (an index range, not a scan)."""
    key = norm_key(text)
    if len(key) < 2:
        return []
    s, d = synonym.c, drug.c
    wanted = limit * 6
    in_range = (s.norm_key >= key, s.norm_key < key + _TOP)
    # A short prefix starts tens of thousands of names (``NSC…``): first the shortest keys, read
    # from the index on ``norm_key`` alone, then the rows of those keys only; more keys only if
    # retired drugs left fewer rows than wanted (the same rows as one sorted query).
    n_keys = wanted
    with engine.connect() as conn:
        while True:
            keys = list(
                conn.execute(
                    select(s.norm_key)
                    .where(*in_range)
                    .group_by(s.norm_key)
                    .order_by(func.length(s.norm_key), s.norm_key)
                    .limit(n_keys)
                ).scalars()
            )
            rows = list(
                conn.execute(
                    select(s.drug_id, s.name, s.alias_type, s.source, s.form, d.preferred_name)
                    .join(drug, d.id == s.drug_id)
                    .where(s.norm_key.in_(keys), d.retired.is_(False))
                    .order_by(func.length(s.norm_key), s.norm_key, s.drug_id)
                    .limit(wanted)
                )
            )
            if len(rows) >= wanted or len(keys) < n_keys:
                break
            n_keys *= 4
    best: dict[str, tuple[tuple[int, int, str], Match]] = {}
    for r in rows:
        m = Match(
            r.drug_id, r.preferred_name, r.name, r.alias_type, 80.0, r.source, "prefix", r.form
        )
        rank = (len(r.name), _tier(r.alias_type), r.name)
        if r.drug_id not in best or rank < best[r.drug_id][0]:
            best[r.drug_id] = (rank, m)
    found = sorted(best.values(), key=lambda t: t[0])
    return [m for _, m in found][:limit]


def suggest(cache: ResolverCache, text: str, limit: int = SUGGEST_LIMIT) -> list[Match]:
    """Typo-tolerant suggestions: the resolver's matches (exact, salt, partial, fuzzy…) first,
    then names starting with the text; one per drug."""
    text = text.strip()
    if not norm_key(text):
        return []
    out: list[Match] = []
    seen: set[str] = set()
    for m in cache.get().resolve(text).matches + prefix_matches(cache.engine, text, limit):
        if m.drug_id not in seen:
            seen.add(m.drug_id)
            out.append(m)
    return out[:limit]
