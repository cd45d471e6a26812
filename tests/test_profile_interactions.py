"""The interactions profile: real DDI records linked to drugs of the fixture vocabulary, the
checker over a list of drugs, a drug's summary.

Real data: cuts of the real DDInter and merged PDDI files written to tmp (every row naming
talimogene laherparepvec, and every row of a few pairs the fixture vocabulary knows), and the
real ONC, DrugBank 4 and CredibleMeds files and ANSM 2020 release as they are. Expected values
were read in the raw files (quoted next to each assertion).
"""

from __future__ import annotations

import bz2
import csv
import gzip
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, select

from drugradar.dictionary import load_vocab
from drugradar.dictionary.ingest import load_release
from drugradar.profile import interactions as ddi_profile
from drugradar.profile.common import Link
from drugradar.resolve import Resolver
from drugradar.sources import ansm, credible_meds, ddinter, drugbank_ddi, merged_pddi, onc_ddi
from drugradar.sources.ddi import LEVEL_RANK, LEVELS
from drugradar.sources.registry import Release
from drugradar.store import migrate
from drugradar.store.schema import interaction, unlinked_name

from .conftest import FIXTURE_VOCAB, ROOT, Database

SHARED_DDI = ROOT.parent / "shared" / "data" / "ddi"
TVEC = "talimogene laherparepvec"
# pairs the fixture vocabulary knows both drugs of, by DDInter names and by DrugBank ids
DDINTER_PAIRS = [
    {"meloxicam", "heparin"},
    {"insulin glargine", "salbutamol"},
    {"acetaminophen", "imatinib"},
    {"acetaminophen", "heparin"},
]
MERGED_PAIRS = [
    {"DB00814", "DB01109"},  # meloxicam, heparin
    {"DB01001", "DB00047"},  # salbutamol, insulin glargine
    {"DB00316", "DB00619"},  # acetaminophen, imatinib
    {"DB00316", "DB01109"},  # acetaminophen, heparin
]

pytestmark = pytest.mark.skipif(not SHARED_DDI.exists(), reason="../shared/data/ddi missing")


def _lines(path: Path) -> list[str]:
    opener = {".gz": gzip.open, ".bz2": bz2.open}.get(path.suffix)
    with opener(path, "rb") if opener else path.open("rb") as fh:  # type: ignore[operator]
        return fh.read().decode("utf-8").splitlines(keepends=True)


def _ddinter_files() -> list[Path]:
    return sorted((SHARED_DDI / "ddinter").glob("ddinter_downloads_code_*.csv*"))


def cut_ddinter(dst: Path, pairs: list[set[str]], tvec: bool = True) -> tuple[Path, ...]:
    """The real DDInter rows naming T-VEC and the rows of ``pairs``, file by file, verbatim."""
    dst.mkdir(parents=True, exist_ok=True)
    out = []
    for path in _ddinter_files():
        lines = _lines(path)
        keep = [lines[0]]
        for line in lines[1:]:
            row = next(csv.reader([line]))
            names = {row[1].lower(), row[3].lower()}
            if (tvec and TVEC in names) or names in pairs:
                keep.append(line)
        name = path.name.removesuffix(".gz")
        (dst / name).write_text("".join(keep), encoding="utf-8")
        out.append(dst / name)
    return tuple(out)


def cut_merged(dst: Path) -> Path:
    """The real merged-PDDI rows of ``MERGED_PAIRS`` (by DrugBank id), verbatim."""
    lines = _lines(SHARED_DDI / "merged_pddi" / merged_pddi.FILE)
    header = lines[0].rstrip("\r\n").split("\t")
    i1, i2 = header.index("drug1ID"), header.index("drug2ID")
    keep = [lines[0]]
    for line in lines[1:]:
        f = line.rstrip("\r\n").split("\t")
        if len(f) == len(header) and {f[i1], f[i2]} in MERGED_PAIRS:
            keep.append(line)
    path = dst / "cut_postprocessed-dataset-not-conservative.tsv"
    path.write_text("".join(keep), encoding="utf-8")
    return path


def tvec_partners_in_raw() -> set[str]:
    """T-VEC's partner names in the real DDInter files, one per pair (names compared as the
    parser keys them: lower case, single spaces)."""
    seen: dict[str, str] = {}
    for path in _ddinter_files():
        for row in csv.reader(_lines(path)[1:]):
            a, b = row[1], row[3]
            for me, other in ((a, b), (b, a)):
                if me.lower() == TVEC:
                    seen.setdefault(" ".join(other.lower().split()), other)
    return set(seen.values())


@pytest.fixture(scope="module")
def ddi_db(
    backend: str, tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest
) -> Iterator[tuple[Engine, dict[str, int]]]:
    tmp = tmp_path_factory.mktemp("ddi")
    d = Database(backend, tmp, request.config.getoption("pg_url"))
    migrate(d.engine)
    load_vocab(d.engine, FIXTURE_VOCAB)
    found = [
        (
            ddinter.SPEC,
            "ddinter cut",
            cut_ddinter(tmp / "ddinter", DDINTER_PAIRS),
            date(2022, 1, 1),
        ),
        (merged_pddi.SPEC, "merged cut", (cut_merged(tmp),), merged_pddi.RELEASE_DATE),
        *onc_ddi.releases(SHARED_DDI),
        *drugbank_ddi.releases(SHARED_DDI),
        *credible_meds.releases(SHARED_DDI),
        *[r for r in ansm.releases(SHARED_DDI) if r[1] == "2020_01"],
    ]
    for spec, label, paths, day in found:
        report = load_release(d.engine, Release(spec, label, paths, day))
        assert report.status == "done", report.message
    with d.engine.begin() as conn:
        stats = ddi_profile.build(conn, Resolver(d.engine))
    yield d.engine, stats
    d.drop()


def drug_ids(engine: Engine, *names: str) -> list[str]:
    out = []
    for res in Resolver(engine).resolve_many(list(names), fuzzy=False):
        assert res.best is not None, res.query
        out.append(res.best.drug_id)
    return out


def rows(engine: Engine, **where: Any) -> list[Any]:
    q = select(interaction)
    for col, value in where.items():
        q = q.where(interaction.c[col] == value)
    with engine.connect() as conn:
        return list(conn.execute(q.order_by(interaction.c.source, interaction.c.source_record_id)))


# --- build --------------------------------------------------------------------------------


def test_rows_are_ordered_pairs_with_provenance(ddi_db: tuple[Engine, dict[str, int]]) -> None:
    engine, stats = ddi_db
    every = rows(engine)
    assert len(every) == stats["interaction"] > 0
    for r in every:
        assert r.drug_a < r.drug_b
        assert r.level in LEVELS
        assert r.source in ddi_profile.SOURCES and r.source_record_id and r.licence
    assert {r.source for r in every} >= {"ddinter", "ansm_ddi", "merged_pddi", "drugbank4_ddi"}


def test_ddinter_row_as_the_file_says(ddi_db: tuple[Engine, dict[str, int]]) -> None:
    # raw: "DDInter909,Imatinib,DDInter1743,Talimogene laherparepvec,Major"
    engine, _ = ddi_db
    tvec, imatinib = drug_ids(engine, TVEC, "imatinib")
    (r,) = rows(engine, source="ddinter", source_record_id="imatinib|talimogene laherparepvec")
    assert {r.drug_a, r.drug_b} == {tvec, imatinib}
    names = {r.drug_a: r.name_a, r.drug_b: r.name_b}  # the names travel with their drugs
    assert names == {tvec: "Talimogene laherparepvec", imatinib: "Imatinib"}
    assert (r.level, r.severity, r.lang, r.mechanism) == ("major", "Major", "en", None)
    assert r.source_date == date(2022, 1, 1)


def test_ansm_class_statement_expanded_and_linked(ddi_db: tuple[Engine, dict[str, int]]) -> None:
    # raw (2020): "HÉPARINES (DOSES CURATIVES ET/OU SUJET ÂGÉ)" + "ANTI-INFLAMMATOIRES NON
    # STÉROÏDIENS": "Association DECONSEILLEE", "Si l'association ne peut être évitée,
    # surveillance clinique étroite."; the index puts heparine calcique and heparine sodique in
    # the heparins, meloxicam in the NSAIDs: two records, both on the drug pair
    engine, _ = ddi_db
    meloxicam, heparin = drug_ids(engine, "meloxicam", "heparin")
    got = [
        r for r in rows(engine, source="ansm_ddi") if {r.drug_a, r.drug_b} == {meloxicam, heparin}
    ]
    assert [r.source_record_id for r in got] == [
        "heparine calcique|meloxicam",
        "heparine sodique|meloxicam",
    ]
    for r in got:
        assert (r.level, r.severity, r.lang) == ("major", "Association DECONSEILLEE", "fr")
        assert (
            r.management == "Si l'association ne peut être évitée, surveillance clinique étroite."
        )
        assert r.mechanism.startswith("Augmentation du risque hémorragique")
        assert r.source_date == date(2020, 1, 1)


def test_onc_row_linked_by_drugbank_id(ddi_db: tuple[Engine, dict[str, int]]) -> None:
    # raw: "Heparin$DB01109$Acetaminophen$DB00316$" in the non-interruptive list
    engine, _ = ddi_db
    acetaminophen, heparin = drug_ids(engine, "acetaminophen", "heparin")
    (r,) = rows(engine, source="onc_non_interruptive", source_record_id="acetaminophen|heparin")
    assert {r.drug_a, r.drug_b} == {acetaminophen, heparin}
    assert (r.level, r.severity) == ("moderate", "non-interruptive")


def test_merged_row_takes_the_strongest_statements(ddi_db: tuple[Engine, dict[str, int]]) -> None:
    # raw: MELOXICAM / HEPARINE_CALCIQUE, French National Formulary (Fr.): one "AD" row
    # ("Association DECONSEILLEE Si l'association ne peut etre evitee, …") and "PC" rows
    engine, _ = ddi_db
    meloxicam, heparin = drug_ids(engine, "meloxicam", "heparin")
    got = [
        r
        for r in rows(engine, source="merged_pddi")
        if {r.drug_a, r.drug_b} == {meloxicam, heparin}
    ]
    (r,) = got
    assert (r.level, r.severity, r.lang) == ("major", "French National Formulary (Fr.): AD", "fr")
    assert r.management.startswith("Association DECONSEILLEE Si l'association ne peut etre")


def test_unlinked_names_are_kept(ddi_db: tuple[Engine, dict[str, int]]) -> None:
    # raw (ANSM 2020): "ALCOOL (BOISSON OU EXCIPIENT)" + "METFORMINE": a name, not a substance
    engine, stats = ddi_db
    with engine.connect() as conn:
        kept = {(r.source, r.name): r.records for r in conn.execute(select(unlinked_name))}
    assert kept[("ansm_ddi", "ALCOOL (BOISSON OU EXCIPIENT)")] > 0
    assert stats["unlinked_name"] == len(kept)
    named = {n for r in rows(engine) for n in (r.name_a, r.name_b)}
    assert "ALCOOL (BOISSON OU EXCIPIENT)" not in named


def test_tvec_partners_all_accounted_for(ddi_db: tuple[Engine, dict[str, int]]) -> None:
    """Every T-VEC pair of DDInter (213 in the raw files: 261 rows, pairs listed in several ATC
    files) is either an interaction row or a partner name kept as unlinked."""
    engine, _ = ddi_db
    raw = tvec_partners_in_raw()
    assert len(raw) == 213
    with engine.connect() as conn:
        assert ddi_profile.pairs_by_name(conn, "Talimogene  Laherparepvec", ["ddinter"]) == raw
        unlinked = {
            n
            for (n,) in conn.execute(
                select(unlinked_name.c.name).where(unlinked_name.c.source == "ddinter")
            )
        }
    (tvec,) = drug_ids(engine, TVEC)
    in_rows = {
        r.name_b if r.drug_a == tvec else r.name_a
        for r in rows(engine, source="ddinter")
        if tvec in (r.drug_a, r.drug_b)
    }
    # the fixture vocabulary knows only some partners: Imatinib, Trastuzumab, Adalimumab…
    assert {"Imatinib", "Trastuzumab", "Adalimumab", "Etanercept"} <= in_rows
    assert in_rows | (raw & unlinked) == raw
    assert not in_rows & unlinked


def test_build_is_idempotent(ddi_db: tuple[Engine, dict[str, int]]) -> None:
    engine, stats = ddi_db

    def content() -> list[tuple[Any, ...]]:
        return sorted(tuple(r)[1:] for r in rows(engine))

    before = content()
    with engine.begin() as conn:
        again = ddi_profile.build(conn, Resolver(engine))
    assert again == stats
    assert content() == before


# --- check and summary --------------------------------------------------------------------


def test_check_every_pair_most_severe_first(ddi_db: tuple[Engine, dict[str, int]]) -> None:
    engine, _ = ddi_db
    names = [
        TVEC,
        "imatinib",
        "acetaminophen",
        "heparin",
        "meloxicam",
        "albuterol",
        "insulin glargine",
    ]
    ids = drug_ids(engine, *names)
    tvec, imatinib, acetaminophen, heparin, meloxicam, albuterol, glargine = ids
    with engine.connect() as conn:
        got = ddi_profile.check(conn, [*ids, imatinib])  # a repeated drug is one drug
    assert len(got) == 21
    listed = [(p.drug_a, p.drug_b) for p in got]
    assert listed[:5] == [
        (heparin, meloxicam),  # major, 3 sources
        (tvec, imatinib),  # major, 1 source
        (imatinib, acetaminophen),  # moderate, 3 sources, then the order given
        (acetaminophen, heparin),
        (albuterol, glargine),
    ]
    by_pair = {(p.drug_a, p.drug_b): p for p in got}

    # DDInter "Meloxicam,…,Heparin,Moderate"; ANSM and the merged French formulary: déconseillée
    p = by_pair[heparin, meloxicam]
    assert (p.level, p.agree) == ("major", False)
    assert [(s["source"], s["level"]) for s in p.sources] == [
        ("ansm_ddi", "major"),  # its two records on the pair give one statement
        ("merged_pddi", "major"),
        ("ddinter", "moderate"),
    ]
    ansm_says = p.sources[0]
    assert ansm_says["name_a"].startswith("heparine") and ansm_says["name_b"] == "meloxicam"
    assert ansm_says["licence"] and ansm_says["source_date"] == date(2020, 1, 1)
    assert ansm_says["severity"] == "Association DECONSEILLEE"

    # DDInter "Acetaminophen,…,Heparin,Unknown", ONC non-interruptive: moderate, merged (ONC):
    # an "unknown" grades nothing, so the sources that grade agree
    p = by_pair[acetaminophen, heparin]
    assert (p.level, p.agree) == ("moderate", True)
    assert {s["source"]: s["level"] for s in p.sources} == {
        "onc_non_interruptive": "moderate",
        "merged_pddi": "moderate",
        "ddinter": "unknown",
    }
    # DDInter "Insulin glargine,…,Salbutamol,Moderate"; ANSM "Précaution d'emploi"; merged "PE"
    p = by_pair[albuterol, glargine]
    assert (p.level, p.agree, len(p.sources)) == ("moderate", True, 3)
    assert p.name_a == "Albuterol" and p.sources[0]["name_a"] in ("salbutamol", "Salbutamol")

    rest = got[5:]
    assert all(p.level == ddi_profile.NONE and p.sources == [] and p.agree for p in rest)
    assert (tvec, acetaminophen) in {(p.drug_a, p.drug_b) for p in rest}


def test_check_small_lists(ddi_db: tuple[Engine, dict[str, int]]) -> None:
    engine, _ = ddi_db
    (tvec,) = drug_ids(engine, TVEC)
    with engine.connect() as conn:
        assert ddi_profile.check(conn, [tvec]) == []
        assert ddi_profile.check(conn, []) == []
        (p,) = ddi_profile.check(conn, [tvec, "DRNOSUCHDRUG"])
    assert (p.level, p.name_b, p.to_dict()["sources"]) == ("none", "DRNOSUCHDRUG", [])


def test_summary_counts_partners_at_their_worst(ddi_db: tuple[Engine, dict[str, int]]) -> None:
    engine, _ = ddi_db
    heparin, meloxicam, acetaminophen = drug_ids(engine, "heparin", "meloxicam", "acetaminophen")
    with engine.connect() as conn:
        s = ddi_profile.summary(conn, heparin, top=3)
    partners = {
        r.drug_b if r.drug_a == heparin else r.drug_a
        for r in rows(engine)
        if heparin in (r.drug_a, r.drug_b)
    }
    assert s["partners"] == len(partners) == sum(s["by_level"].values())
    assert list(s["by_level"]) == list(LEVELS)
    assert len(s["top"]) == 3
    first = s["top"][0]
    assert (first["drug_id"], first["level"], first["agree"]) == (meloxicam, "major", False)
    assert first["sources"] == ["ansm_ddi", "merged_pddi", "ddinter"]
    ranks = [LEVEL_RANK[p["level"]] for p in s["top"]]
    assert ranks == sorted(ranks)
    with engine.connect() as conn:
        full = ddi_profile.summary(conn, heparin, top=1000)
    assert {p["drug_id"]: p["level"] for p in full["top"]}[acetaminophen] == "moderate"


def test_pairs_by_name_folds_ansm_accents(ddi_db: tuple[Engine, dict[str, int]]) -> None:
    engine, _ = ddi_db
    with engine.connect() as conn:
        got = ddi_profile.pairs_by_name(conn, "Héparine Calcique", ["ansm_ddi"])
        assert "meloxicam" in got
        assert ddi_profile.pairs_by_name(conn, "no such drug") == set()


# --- a newer release replaces the pairs of the older one ------------------------------------


def test_rows_follow_the_current_release(loaded: Engine, tmp_path: Path) -> None:
    old = cut_ddinter(tmp_path / "old", [{"acetaminophen", "imatinib"}], tvec=False)
    new = cut_ddinter(tmp_path / "new", [], tvec=False)  # the pair is gone
    resolver = Resolver(loaded)
    load_release(loaded, Release(ddinter.SPEC, "old", old, date(2022, 1, 1)))
    with loaded.begin() as conn:
        assert ddi_profile.build(conn, resolver)["interaction"] == 1
    (r,) = rows(loaded)
    assert (r.name_a, r.name_b, r.level) in {
        ("Acetaminophen", "Imatinib", "moderate"),
        ("Imatinib", "Acetaminophen", "moderate"),
    }
    load_release(loaded, Release(ddinter.SPEC, "new", new, date(2023, 1, 1)))
    with loaded.begin() as conn:
        assert ddi_profile.build(conn, resolver)["interaction"] == 0
    assert rows(loaded) == []


# --- linking rules ------------------------------------------------------------------------


def test_side_linking_rules() -> None:
    links = {
        "DIGOXIN": [Link("DRDIGOXIN", "exact", "DIGOXIN")],
        "Timolol (ophthalmic)": [],
        "Timolol": [Link("DRTIMOLOL", "exact", "TIMOLOL")],
        "Paclitaxel": [Link("DRPACLI", "partial", "PACLITAXEL")],
        "amoxicillin and clavulanate": [
            Link("DRAMOX", "combination", "AMOXICILLIN"),
            Link("DRCLAV", "combination", "CLAVULANATE"),
        ],
    }
    xrefs = {
        "drugbank": {"DB00390": "DRDIGOXIN", "DB00391": "DRSULPIRIDE", "DB01000": "DRPACLI2"},
        "rxnorm": {"11289": "DRWARFARIN", "253182": "DRINSULIN"},
    }
    linker = ddi_profile._SideLinker(links, xrefs, {("rxnorm", "253182")})
    # CredibleMeds: "DIGOXIN DB00390" then "DIGOXIN DB00391" (sulpiride's id): the name wins
    assert linker.link("DIGOXIN", {"drugbank": ["DB00390"]}) == ["DRDIGOXIN"]
    assert linker.link("DIGOXIN", {"drugbank": ["DB00391"]}) == ["DRDIGOXIN"]
    assert linker.how["name_over_drugbank_id"] == 1
    # an id is taken over a name that resolves only partially, or not at all
    assert linker.link("Paclitaxel", {"drugbank": ["DB01000"]}) == ["DRPACLI2"]
    assert linker.link("Unknown name", {"drugbank": ["DB00391"]}) == ["DRSULPIRIDE"]
    # ids naming two drugs name none: the name decides
    assert linker.link("Timolol", {"drugbank": ["DB00390", "DB00391"]}) == ["DRTIMOLOL"]
    # a route in parentheses is dropped when the whole name does not resolve
    assert linker.link("Timolol (ophthalmic)", None) == ["DRTIMOLOL"]
    # a combination: every drug
    assert linker.link("amoxicillin and clavulanate", {}) == ["DRAMOX", "DRCLAV"]
    # RxNorm only when the (French) name resolves to nothing, and never a class id
    assert linker.link("warfarine", {"rxnorm": ["11289"]}) == ["DRWARFARIN"]
    assert linker.link("insuline lispro", {"rxnorm": ["253182"]}) == []
    assert linker.how["unlinked"] == 1


def test_strip_form_only_drops_routes_and_formulations() -> None:
    strip = ddi_profile._strip_form
    assert strip("Timolol (ophthalmic)") == "Timolol"
    assert strip("Insulin human (inhalation, rapid acting)") == "Insulin human"
    assert (
        strip("Human immunoglobulin G (intravenous and subcutaneous)") == "Human immunoglobulin G"
    )
    assert strip("sodium (oxybate de)") is None
    assert strip("ALCOOL (BOISSON OU EXCIPIENT)") is None
    assert strip("Polyethylene glycol (3350 with electrolytes)") is None
    assert strip("Timolol") is None
