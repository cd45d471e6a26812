"""The core that the API and the pages share, called as a library on both backends: search
results (typo-tolerant matches, cursor and numbered pages, sorts, the alias worth showing),
facets, the in-memory name index (the same results as SQL; never stale after a load),
suggestions, landscapes and pipelines, and the inbox's owner checks.

One database per backend and module, loaded like the web tests' (``web_data``).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from sqlalchemy import Engine, insert, select

from drugradar.alerts import inbox
from drugradar.alerts import subscriptions as subs
from drugradar.alerts.subscriptions import NotFound
from drugradar.alerts.users import create_user
from drugradar.dictionary import load_vocab
from drugradar.resolve import norm_key
from drugradar.search import name_index
from drugradar.search.facets import facets
from drugradar.search.landscape import by_phase, countries, landscape, pipeline, ranked
from drugradar.search.phases import rank
from drugradar.search.query import SearchQuery, drug_ids
from drugradar.search.results import iter_results, search_page, typo_matches
from drugradar.search.suggest import ResolverCache, prefix_matches, suggest
from drugradar.store import migrate
from drugradar.store.schema import delivery, drug, event, synonym

from .conftest import FIXTURE_VOCAB, Database
from .web_data import PASSWORD, load_web_data

TVEC = "Talimogene laherparepvec"
MELANOMA = "D008545"


@pytest.fixture(scope="module")
def engine(
    backend: str, tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest
) -> Iterator[Engine]:
    d = Database(backend, tmp_path_factory.mktemp("core"), request.config.getoption("pg_url"))
    migrate(d.engine)
    load_web_data(d.engine, tmp_path_factory.mktemp("coredata"))
    yield d.engine
    d.drop()


@pytest.fixture(scope="module")
def resolvers(engine: Engine) -> ResolverCache:
    return ResolverCache(engine)


# -- search results ---------------------------------------------------------------------------
def test_typo_matches_join_the_results_and_rank_first(
    engine: Engine, resolvers: ResolverCache
) -> None:
    q = SearchQuery(text="imlygc")  # a letter missing: no name contains it
    assert search_page(engine, q).results == []
    matches = typo_matches(resolvers.get(), q)
    hits = search_page(engine, q, matches=matches).results
    assert hits[0].preferred_name == TVEC and hits[0].alias_note == "IMLYGIC"
    total, _ = facets(engine, q, names=(), also=[m.drug_id for m in matches])
    assert total == len(hits)


def test_offset_pages_and_cursor_pages_agree(engine: Engine) -> None:
    q = SearchQuery(text="mab")
    every = [h.id for h in iter_results(engine, q, sort="-phase", batch=7)]
    with engine.connect() as conn:
        assert set(every) == set(conn.execute(drug_ids(q)).scalars())
    by_offset = [
        h.id
        for start in range(0, len(every), 5)
        for h in search_page(engine, q, sort="-phase", limit=5, offset=start).results
    ]
    by_cursor, after = [], None
    while True:
        page = search_page(engine, q, sort="-phase", limit=5, after=after)
        by_cursor += [h.id for h in page.results]
        if page.next_cursor is None:
            break
        after = page.next_cursor
    assert by_offset == by_cursor == every


def test_rows_carry_phases_organizations_and_the_alias(engine: Engine) -> None:
    hits = list(iter_results(engine, SearchQuery(text="mab"), sort="modality"))
    assert [(h.modality, h.preferred_name.lower()) for h in hits] == sorted(
        (h.modality, h.preferred_name.lower()) for h in hits
    )
    for h in hits:
        assert len(h.organizations) <= 3 and rank(h.highest_phase) <= rank(h.highest_phase_ever)
        assert h.matched_alias is not None and "mab" in norm_key(h.matched_alias)
        if "mab" in norm_key(h.preferred_name):
            assert h.alias_note is None  # the name says it already
    tvec = search_page(engine, SearchQuery(text="T-VEC")).results[0]
    assert tvec.preferred_name == TVEC and tvec.alias_note is not None


# -- facets -----------------------------------------------------------------------------------
def test_facets_count_what_each_filter_keeps(engine: Engine) -> None:
    q = SearchQuery(text="mab")
    total, found = facets(engine, q, top=3)
    assert sum(f.count for f in found["modality"]) == total
    assert all(len(found[n]) <= 3 for n in ("country", "organization", "indication", "target"))
    counts = [f.count for f in found["phase"]]
    assert counts == sorted(counts)  # "reached at least": more drugs at each earlier phase
    for name in ("phase", "country", "organization", "indication", "target"):
        f = found[name][0]
        narrowed, _ = facets(engine, SearchQuery(text="mab", **{name: f.value}), names=())
        if name == "indication":  # the filter keeps child terms too; the facet counts the term
            assert narrowed >= f.count, (name, f)
        else:
            assert narrowed == f.count, (name, f)
    melanoma = [f for f in facets(engine, SearchQuery())[1]["indication"] if f.value == MELANOMA]
    assert melanoma and melanoma[0].label == "Melanoma"


# -- the name index ---------------------------------------------------------------------------
# a code with a hyphen, a brand, an INN, a part of many names, two letters, no name at all
TEXTS = ("T-VEC", "Imlygic", "pembrolizumab", "mab", "ab", "ol", "zzqxj")


def _everything(
    engine: Engine, q: SearchQuery, index: name_index.NameIndex | None
) -> tuple[object, ...]:
    """What a search shows, by every means: pages in each sort, a cursor walk, facets, export."""
    pages = [search_page(engine, q, sort=s, limit=7, index=index) for s in ("relevance", "-phase")]
    walk, after = [], None
    while True:
        page = search_page(engine, q, sort="name", limit=4, after=after, index=index)
        walk += page.results
        if page.next_cursor is None:
            break
        after = page.next_cursor
    return (
        pages,
        walk,
        facets(engine, q, index=index),
        list(iter_results(engine, q, sort="relevance", batch=5, index=index)),
        search_page(engine, q, offset=3, limit=3, index=index),
    )


@pytest.mark.parametrize("text", TEXTS)
def test_name_index_finds_exactly_what_sql_finds(
    engine: Engine, resolvers: ResolverCache, text: str
) -> None:
    index = name_index.NameIndexCache(engine).get()
    assert index is not None
    q = SearchQuery(text=text)
    hits = index.drugs_containing(norm_key(text))
    assert hits is not None  # the fast path answered
    with engine.connect() as conn:
        live = set(conn.execute(drug_ids(q)).scalars())
        retired = set(conn.execute(select(drug.c.id).where(drug.c.retired.is_(True))).scalars())
    assert set(hits.ids) - retired == live and (live or text == "zzqxj")
    assert _everything(engine, q, index) == _everything(engine, q, None)
    matches = typo_matches(resolvers.get(), q)  # the page's way: typo matches join, rank first
    with_typos = [
        search_page(engine, q, matches=matches, limit=50, index=ix).results for ix in (index, None)
    ]
    assert with_typos[0] == with_typos[1]
    also = [m.drug_id for m in matches]
    assert facets(engine, q, also=also, index=index) == facets(engine, q, also=also)
    filtered = SearchQuery(text=text, phase="PHASE_2", country="United States")
    assert _everything(engine, filtered, index) == _everything(engine, filtered, None)


@pytest.mark.parametrize("block", [8, 64, 4096])
def test_name_index_against_every_name(
    engine: Engine, backend: str, monkeypatch: pytest.MonkeyPatch, block: int
) -> None:
    """Every piece of every name (and a few of no name), blocks small and large: the index's
    drugs and tiers are those of reading each name."""
    if backend != "sqlite" and block != 4096:
        pytest.skip("the index lives in memory: the small blocks need one backend, not two")
    monkeypatch.setattr(name_index, "BLOCK", block)
    with engine.connect() as conn:
        pairs = sorted(set(conn.execute(select(synonym.c.norm_key, synonym.c.drug_id)).tuples()))
    index = name_index.NameIndex(pairs)
    keys = sorted({k[i : i + n] for k, _ in pairs[::7] for n in (1, 2, 3, 6) for i in (0, 2)})
    for key in [*keys, "zzqxj", "q9q9", "0"]:
        hits = index.drugs_containing(key)
        every = {d for k, d in pairs if key in k}
        if hits is None:
            assert len(every) > name_index.MAX_DRUGS or key == ""
            continue
        equal = {d for k, d in pairs if k == key}
        starting = {d for k, d in pairs if k.startswith(key)} - equal
        assert (hits.ids, hits.equal, hits.starting) == (
            sorted(every),
            sorted(equal),
            sorted(starting),
        ), key


def test_cursors_carry_over_between_the_index_and_sql(engine: Engine) -> None:
    """A cursor made on one path pages on the other (the index is rebuilt between pages)."""
    index = name_index.NameIndexCache(engine).get()
    q = SearchQuery(text="mab")
    first = search_page(engine, q, limit=5, index=index)
    assert first.next_cursor is not None
    second = [
        search_page(engine, q, limit=5, after=first.next_cursor, index=ix).results
        for ix in (index, None)
    ]
    assert second[0] == second[1] and second[0]


def test_too_common_a_text_is_left_to_sql(engine: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    index = name_index.NameIndexCache(engine).get()
    assert index is not None and index.drugs_containing("") is None
    q = SearchQuery(text="ab")
    hits = index.drugs_containing("ab")
    assert hits is not None and len(hits.ids) > 2
    monkeypatch.setattr(name_index, "MAX_DRUGS", 2)
    fresh = name_index.NameIndex.load(engine)  # nothing remembered
    assert fresh.drugs_containing("ab") is None
    assert _everything(engine, q, fresh) == _everything(engine, q, None)


def test_the_name_index_is_never_stale(
    backend: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    """A dictionary load after the index was built (names added, a rebuild), and a name a trial
    load adds without a rebuild: the next search sees them."""
    d = Database(backend, tmp_path, request.config.getoption("pg_url"))
    try:
        migrate(d.engine)
        load_vocab(d.engine, FIXTURE_VOCAB, until=date(2025, 3, 1))
        cache = name_index.NameIndexCache(d.engine)
        q = SearchQuery(text="Qvantig")  # OPDIVO QVANTIG: first named by the UNII of 2025-06
        built = cache.get()
        assert built is not None and built is cache.get()  # kept while nothing changes
        assert search_page(d.engine, q, index=built).results == []
        load_vocab(d.engine, FIXTURE_VOCAB)
        again = cache.get()
        assert again is not None and again is not built
        found = search_page(d.engine, q, index=again).results
        assert "Nivolumab" in {h.preferred_name for h in found}
        assert _everything(d.engine, q, again) == _everything(d.engine, q, None)
        nivolumab = next(h.id for h in found if h.preferred_name == "Nivolumab")
        with d.engine.begin() as conn:  # as a trial load adds a research code's name
            row = conn.execute(select(synonym).where(synonym.c.drug_id == nivolumab)).first()
            assert row is not None
            values = {k: v for k, v in row._mapping.items() if k != "id"}
            values |= {"name": "ZZQ-4242", "norm_key": "zzq4242", "head_key": None}
            conn.execute(insert(synonym).values(**values))
        latest = cache.get()
        assert latest is not None and latest is not again
        code = SearchQuery(text="zzq 4242")
        assert [h.id for h in search_page(d.engine, code, index=latest).results] == [nivolumab]
    finally:
        d.drop()


def test_suggestions_are_typo_tolerant_then_by_prefix(
    engine: Engine, resolvers: ResolverCache
) -> None:
    typo = suggest(resolvers, "imlygc")
    assert typo[0].preferred_name == TVEC and typo[0].matched_alias == "IMLYGIC"
    prefix = prefix_matches(engine, "pembro")
    assert prefix and all(m.match_kind == "prefix" for m in prefix)
    assert prefix[0].preferred_name == "Pembrolizumab"
    many = suggest(resolvers, "am")
    assert 0 < len(many) <= 8 and len({m.drug_id for m in many}) == len(many)
    assert suggest(resolvers, "!!") == [] and prefix_matches(engine, "a") == []
    assert resolvers.get() is resolvers.get()  # one resolver, kept


# -- landscapes -------------------------------------------------------------------------------
def test_target_landscape(engine: Engine) -> None:
    pd1 = landscape(engine, "target", "pdcd1")
    assert pd1 is not None and pd1.ref == "PDCD1" and pd1.title.startswith("PDCD1 (")
    assert {"Nivolumab", "Pembrolizumab"} <= {r.name for r in pd1.rows}
    assert sum(n for _, n in by_phase(pd1.rows)) == len(pd1.rows)
    assert any(r.action_types for r in pd1.rows)
    assert landscape(engine, "target", "NOSUCHGENE") is None
    assert landscape(engine, "planet", "mars") is None and countries(engine, "target", "X") == []


def test_disease_landscape_by_name_children_and_inactive_programs(engine: Engine) -> None:
    by_name = landscape(engine, "disease", "Melanoma")
    every = landscape(engine, "disease", MELANOMA)
    live = landscape(engine, "disease", MELANOMA, include_inactive=False)
    assert by_name is not None and every is not None and live is not None
    assert by_name.ref == MELANOMA and by_name.rows == every.rows
    assert {r.drug_id for r in live.rows} <= {r.drug_id for r in every.rows}
    assert all(r.phase is not None or r.phase_ever is None for r in live.rows)
    ranks = [rank(r.phase) for r in every.rows]
    assert ranks == sorted(ranks, reverse=True)
    ever = [rank(r.phase_ever) for r in ranked(every.rows, ever=True)]
    assert ever == sorted(ever, reverse=True)
    here = countries(engine, "disease", MELANOMA)
    assert "United States" in here
    us = landscape(engine, "disease", MELANOMA, country="United States")
    assert us is not None and 0 < len(us.rows) <= len(every.rows)
    antibodies = landscape(engine, "disease", MELANOMA, modality="antibody")
    assert antibodies is not None and {r.modality for r in antibodies.rows} == {"antibody"}


def test_organization_landscape_and_pipeline(engine: Engine) -> None:
    roche = landscape(engine, "organization", "Roche")
    assert roche is not None and roche.ref == "roche"
    assert "Genentech, Inc." in roche.subject["subsidiaries"]
    programs = pipeline(engine, roche.ref)
    assert "Genentech, Inc." in {o for p in programs for o in p["organizations"]}
    assert {p["drug_id"] for p in programs} <= {r.drug_id for r in roche.rows}
    ranks = [rank(p["phase"]) for p in programs]
    assert ranks == sorted(ranks, reverse=True)
    assert landscape(engine, "organization", "No Such Company Ltd") is None


# -- the inbox --------------------------------------------------------------------------------
def test_inbox_is_the_owners_only(engine: Engine) -> None:
    alice = create_user(engine, f"a{uuid.uuid4().hex[:8]}@example.org", PASSWORD)
    bob = create_user(engine, f"b{uuid.uuid4().hex[:8]}@example.org", PASSWORD)
    sub = subs.add_subscription(engine, alice.id, drugs=["T-VEC"])
    first, second = _deliver(engine, alice.id, sub.id, 0), _deliver(engine, alice.id, sub.id, 1)
    items = inbox.inbox(engine, alice.id)
    assert [i.id for i in items] == [second, first] and items[0].event.summary
    assert inbox.unread_count(engine, alice.id) == 2 and inbox.inbox(engine, bob.id) == []
    with pytest.raises(NotFound):
        inbox.mark_read(engine, bob.id, [first])
    assert inbox.mark_read(engine, alice.id, [first]) == 1
    assert [i.id for i in inbox.inbox(engine, alice.id, unread_only=True)] == [second]
    assert inbox.mark_read(engine, alice.id) == 1 and inbox.unread_count(engine, alice.id) == 0


def _deliver(engine: Engine, user_id: int, sub_id: int, nth: int) -> int:
    """An inbox delivery of the ``nth`` stored event (as matching would make it)."""
    with engine.begin() as conn:
        ev = conn.execute(select(event.c.id).order_by(event.c.id).offset(nth).limit(1)).scalar_one()
        values = {"user_id": user_id, "subscription_id": sub_id, "event_id": ev}
        stmt = insert(delivery).values(
            **values, channel="inbox", status="sent", created_at=datetime.now(UTC)
        )
        return int(conn.execute(stmt.returning(delivery.c.id)).scalar_one())
