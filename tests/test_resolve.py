"""Name resolution on the real (cut-down) dictionary: which alias matched, type, score."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine

from drugradar.resolve import Resolver

CASES = [
    ("Imlygic", "talimogene laherparepvec", "brand", "exact"),
    ("OncoVEX", "talimogene laherparepvec", "brand", "exact"),
    ("talimogene", "talimogene laherparepvec", "official", "partial"),
    ("Keytruda", "pembrolizumab", "brand", "exact"),
    ("MK-3475", "pembrolizumab", "code", "exact"),
    ("MK3475", "pembrolizumab", "code", "exact"),
    ("mk 3475", "pembrolizumab", "code", "exact"),
    ("pembrolizumub", "pembrolizumab", "official", "fuzzy"),
    ("Zejula", "niraparib", "brand", "exact"),
    ("niraparib tosylate", "niraparib", "salt", "exact"),
    ("Tylenol", "acetaminophen", "brand", "exact"),
    ("Herceptin", "trastuzumab", "brand", "exact"),
    ("Gleevec", "imatinib", "brand", "exact"),
    ("STI-571", "imatinib", "code", "exact"),
    ("STI571", "imatinib", "code", "exact"),
    ("imatinib mesylate", "imatinib", "salt", "exact"),
    ("Keytruda®", "pembrolizumab", "brand", "exact"),
    ("pembrolizumab hydrochloride", "pembrolizumab", "official", "salt"),
    ("pembrolizumab (MK-3475)", "pembrolizumab", "official", "partial"),
    ("salbutamol sulphate", "albuterol", "salt", "exact"),
    ("valproate sodium", "valproic acid", "salt", "exact"),
]


@pytest.fixture(scope="module")
def resolver(loaded_module: Engine) -> Resolver:
    return Resolver(loaded_module)


@pytest.mark.parametrize(("query", "drug", "alias_type", "kind"), CASES)
def test_required_cases(
    resolver: Resolver, query: str, drug: str, alias_type: str, kind: str
) -> None:
    res = resolver.resolve(query)
    best = res.best
    assert best is not None, res.message
    assert best.preferred_name.lower() == drug
    assert (best.alias_type, best.match_kind) == (alias_type, kind)
    assert best.score == (100 if kind == "exact" else best.score)
    assert not res.ambiguous
    assert best.source in {"unii", "drugbank", "drugcentral"}


def test_batch_equals_one_by_one(resolver: Resolver) -> None:
    queries = [c[0] for c in CASES]
    batch = resolver.resolve_many(queries)
    assert [r.to_dict() for r in batch] == [resolver.resolve(q).to_dict() for q in queries]


def test_json_shape(resolver: Resolver) -> None:
    out = resolver.resolve("Zejula").to_dict()
    assert set(out) == {"query", "matches", "ambiguous", "combination", "closest"}
    m = out["matches"][0]
    assert {"drug_id", "preferred_name", "matched_alias", "alias_type", "score", "source"} <= set(m)
    assert m["matched_alias"] == "ZEJULA" and m["salt_form"] == "195Q483UZD"


def test_combination_brand_is_ambiguous_and_ranked(resolver: Resolver) -> None:
    res = resolver.resolve("Herceptin Hylecta")  # trastuzumab + hyaluronidase in one product
    assert res.ambiguous
    names = {m.preferred_name.lower() for m in res.matches}
    assert "trastuzumab" in names and any("hyaluronidase" in n for n in names)
    assert all(m.score == 90 for m in res.matches)  # a component of a combination, not the drug


def test_written_exactly_beats_equal_after_normalization(resolver: Resolver) -> None:
    # UNII: PROAIR is a brand of albuterol sulfate, PRO-AIR one of procaterol hydrochloride
    a, b = resolver.resolve("ProAir"), resolver.resolve("PRO-AIR")
    assert a.best and a.best.preferred_name.lower() == "albuterol"
    assert b.best and b.best.preferred_name.lower() == "procaterol"
    assert {m.preferred_name.lower() for m in a.matches} == {"albuterol", "procaterol"}
    assert not a.ambiguous


def test_no_match_says_so_with_closest_names(resolver: Resolver) -> None:
    res = resolver.resolve("pembrozzzzumab")
    assert res.matches == [] and not res.ambiguous
    assert res.message.startswith("No drug matches 'pembrozzzzumab'.")
    assert any("PEMBROLIZUMAB" in c.upper() for c in res.closest)
    assert resolver.resolve("   ").matches == []


def test_codes_are_not_fuzzy_matched(resolver: Resolver) -> None:
    assert resolver.resolve("MK-3476").matches == []  # another compound, not a typo of MK-3475


def test_threshold_controls_fuzzy(loaded_module: Engine) -> None:
    assert Resolver(loaded_module, threshold=95).resolve("pembrolizumub").matches == []
    assert Resolver(loaded_module, threshold=85).resolve("pembrolizumub").matches


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        # research codes reused by different substances, told apart only by the hyphen (UNII)
        ("E-3810", "lucitanib"),
        ("E3810", "rabeprazole"),
        # brands told apart only by the hyphen: KETAS (ibudilast), KETA-S (esketamine)
        ("KETAS", "ibudilast"),
        ("Keta-S", "esketamine"),
    ],
)
def test_reused_codes_and_brands(resolver: Resolver, query: str, expected: str) -> None:
    res = resolver.resolve(query)
    assert res.best and res.best.preferred_name.lower() == expected
    assert len({m.drug_id for m in res.matches}) == 2  # the other one is listed too
    assert not res.ambiguous


def test_same_code_written_a_third_way_is_ambiguous(resolver: Resolver) -> None:
    res = resolver.resolve("e 3810")  # equal to both only after normalization
    assert res.ambiguous
    assert {m.preferred_name.lower() for m in res.matches} == {"lucitanib", "rabeprazole"}


def test_combination_product_names_each_component(resolver: Resolver) -> None:
    # Drugs@FDA writes combination products as their ingredients: "A AND B", "A; B"
    for query in ("TRASTUZUMAB AND HYALURONIDASE (HUMAN RECOMBINANT)",
                  "trastuzumab; hyaluronidase (human recombinant)"):  # fmt: skip
        res = resolver.resolve(query)
        assert res.combination and not res.ambiguous
        assert res.matches[0].preferred_name.lower() == "trastuzumab"
        assert len(res.matches) == 2 and {m.match_kind for m in res.matches} == {"combination"}
    one_unknown = resolver.resolve("trastuzumab and qqqqzzzz")
    assert not one_unknown.combination  # every part must resolve


def test_prefix_of_a_product_name(resolver: Resolver) -> None:
    res = resolver.resolve("pembrolizumab injection for intravenous use")
    assert res.best and res.best.preferred_name == "Pembrolizumab"
    assert (res.best.match_kind, res.best.score) == ("partial", 85.0)


def test_hyphenated_pair_of_drug_names(resolver: Resolver) -> None:
    res = resolver.resolve("Nivolumab-Pembrolizumab")
    assert res.combination
    assert [m.preferred_name for m in res.matches] == ["Nivolumab", "Pembrolizumab"]
    assert resolver.resolve("MK-3475").best.match_kind == "exact"  # type: ignore[union-attr]


def test_trailing_words_that_are_a_name(resolver: Resolver) -> None:
    res = resolver.resolve("intravenous infusion of pembrolizumab")
    assert res.best and res.best.preferred_name == "Pembrolizumab"
    assert (res.best.match_kind, res.best.score) == ("partial", 80.0)


def test_bulk_resolver_answers_alike_in_any_batch_and_remembers(loaded_module: Engine) -> None:
    """Trial linking's resolver: a name resolves the same alone as in a big batch (never the
    wider blocks a person's single query gets), with no closest names, and from memory the
    second time."""
    bulk = Resolver(loaded_module, trial_born=False, bulk=True)
    both_ends = "tblimogene laherparepvxc"  # a typo near each end: only wide blocks hold it
    unknown = [f"qqxz {n} wwvk" for n in range(25)]  # the fuzzy step gets more than 20
    queries = [c[0] for c in CASES] + ["pembrolizumub", "pembrozzzzumab", both_ends, *unknown]
    together = [r.to_dict() for r in bulk.resolve_many(queries)]
    fresh = Resolver(loaded_module, trial_born=False, bulk=True)
    alone = [fresh.resolve(q).to_dict() for q in queries]
    assert together == alone
    assert Resolver(loaded_module).resolve(both_ends).best is not None  # a person's query
    assert bulk.resolve("pembrolizumub").best is not None  # fuzzy still finds the typo
    assert bulk.resolve("pembrozzzzumab").closest == []  # no suggestions asked for
    first = bulk.resolve_many(["Keytruda"])[0]
    assert bulk.resolve_many(["Keytruda", "Keytruda"]) == [first, first]
    assert bulk.resolve_many(["Keytruda"], fuzzy=False)[0] is not first  # its own memory


def test_fuzzy_index_candidates_share_an_end_and_a_length() -> None:
    """A narrow search compares the query with exactly the keys of a length near its own that
    share its first two or its last two letters (the first-letters blocks are slices of the
    sorted keys, made on demand): checked against every key, odd characters included."""
    import random

    from drugradar.resolve.fuzzy import FuzzyIndex

    rnd = random.Random(4)
    alphabet = "abcz\U0010ffff"
    keys = {"".join(rnd.choices(alphabet, k=rnd.randint(4, 9))) for _ in range(3000)}
    index = FuzzyIndex(rnd.sample(sorted(keys), len(keys)))  # in any order
    queries = [*rnd.sample(sorted(keys), 200), "ab", "a", "\U0010ffff\U0010ffffzz", "qqqq"]
    for q in queries:
        for slack in (1, 2):
            sizes = range(max(1, len(q) - slack), len(q) + slack + 1)
            found = index.candidates(q, slack)
            head = sorted(k for k in keys if len(k) in sizes and len(q) >= 2 and k[:2] == q[:2])
            tail = sorted(k for k in keys if len(k) in sizes and k[-2:] == q[-2:])
            assert sorted(found) == sorted(head + tail), q
            assert all(found.count(k) == (k in head) + (k in tail) for k in set(found))
