"""The fuzzy index stored with the dictionary (``resolve.fuzzy``): used while it is the
dictionary's, set aside as soon as a name it should hold is added or the dictionary rebuilt."""

from __future__ import annotations

import random

from sqlalchemy import Engine, insert, select, update

from drugradar.dictionary.load import rebuild
from drugradar.resolve import Resolver, fuzzy
from drugradar.resolve.fuzzy import FuzzyIndex
from drugradar.store.schema import meta, resolver_index, synonym


def _stored(engine: Engine) -> tuple[str, int] | None:
    ri = resolver_index.c
    with engine.connect() as conn:
        row = conn.execute(select(ri.stamp, ri.max_synonym_id)).first()
    return None if row is None else (row.stamp, row.max_synonym_id)


def _add_name(engine: Engine, name: str, key: str, alias_type: str) -> None:
    with engine.begin() as conn:
        row = conn.execute(select(synonym).where(synonym.c.alias_type == "inn")).first()
        assert row is not None
        values = {k: v for k, v in row._mapping.items() if k != "id"}
        values |= {"name": name, "norm_key": key, "head_key": None, "alias_type": alias_type}
        conn.execute(insert(synonym).values(**values))


def test_rebuild_stores_the_index_a_resolver_then_reads(loaded: Engine) -> None:
    with loaded.connect() as conn:
        keys = fuzzy.read_keys(conn)
        stamp = conn.execute(select(meta.c.value).where(meta.c.key == "dictionary_stamp")).scalar()
        stored = fuzzy.load(conn)
    fresh, row = FuzzyIndex(keys), _stored(loaded)
    assert row is not None and row[0] == stamp
    assert (stored.by_head, stored.by_tail) == (fresh.by_head, fresh.by_tail)
    assert stored.keys == sorted(set(keys)) and len(stored.keys) > 1000
    assert all(fuzzy.FUZZY_MIN_LEN <= len(k) <= fuzzy.FUZZY_MAX_LEN for k in stored.keys)
    for key in ("pembrolizumub", "imatinibb", "trastuzumag", "acetaminophem"):
        assert stored.search(key, 85.0, 5) == fresh.search(key, 85.0, 5), key
    hit = Resolver(loaded).resolve("pembrolizumub").best
    assert hit is not None and hit.preferred_name.lower() == "pembrolizumab"


def test_a_new_name_of_a_fuzzy_type_sets_the_stored_index_aside(loaded: Engine) -> None:
    _add_name(loaded, "ZZQ-4242", "zzq4242", "code")  # as a trial load adds a research code
    with loaded.connect() as conn:
        assert "zzq4242" not in fuzzy.load(conn).keys  # codes are never in it: still the stored
    _add_name(loaded, "Quuxolizumab", "quuxolizumab", "common")
    with loaded.connect() as conn:
        assert "quuxolizumab" in fuzzy.load(conn).keys
    best = Resolver(loaded).resolve("quuxolizumeb").best
    assert best is not None and best.matched_alias == "Quuxolizumab"


def test_a_rebuild_writes_the_index_again(loaded: Engine) -> None:
    before = _stored(loaded)
    with loaded.begin() as conn:  # a stale stored index: a later rebuild replaces it
        conn.execute(update(resolver_index).values(stamp="old"))
    rebuild(loaded)
    after = _stored(loaded)
    assert before is not None and after is not None and after[0] not in (before[0], "old")
    with loaded.connect() as conn:
        assert fuzzy.load(conn).keys == sorted(fuzzy.read_keys(conn))


def test_blocks_are_runs_of_keys_in_order() -> None:
    """Laid out by each end, a block is a run of keys in their own order: the candidates are
    those of the keys filtered one by one (head block first, then tail block, per length)."""
    rnd = random.Random(7)
    keys = sorted({"".join(rnd.choices("abcdz", k=rnd.randint(4, 8))) for _ in range(2000)})
    index = FuzzyIndex(rnd.sample(keys, len(keys)))
    for q in [*rnd.sample(keys, 100), "zz", "a"]:
        expected: list[str] = []
        for size in range(max(1, len(q) - 2), len(q) + 3):
            expected += [k for k in keys if len(k) == size and len(q) >= 2 and k[:2] == q[:2]]
            expected += [k for k in keys if len(k) == size and len(q) >= 2 and k[-2:] == q[-2:]]
        assert index.candidates(q, 2) == expected, q
