"""The EMA profile builder on the real EMA downloads in ../shared/data/ema, with the cut-down
fixture vocabulary. Every value asserted was read by hand in the raw files:
``2025-03_medicines_output/medicines_output_*_en.csv[.gz]`` and the older EPAR workbook
``2020-12_epar_xlsx`` (a table EMA generated on 2018-12-23)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import orjson
import pytest
from sqlalchemy import Engine, Table, select

from drugradar.dictionary.ingest import load_release
from drugradar.profile.ema import build
from drugradar.resolve import Resolver
from drugradar.resolve.orgs import org_key
from drugradar.sources.registry import profile_releases
from drugradar.store.schema import (
    approval,
    designation,
    drug_xref,
    safety_communication,
    unlinked_name,
)

DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"
LICENCE = "EMA data; reuse with acknowledgement of EMA as the source"
LATEST = date(2025, 3, 1)
# UNIIs of drugs the fixture vocabulary knows (tests/fixtures/make_vocab_fixture.py)
UNII = {
    "talimogene laherparepvec": "07730V90L6",
    "pembrolizumab": "DPT0O3T46P",
    "adalimumab": "FYS6T7F842",
    "imatinib": "BKJ8M8G5HI",
    "onasemnogene abeparvovec": "MLU3LU3EVV",
    "tisagenlecleucel": "Q6C9WHR03O",
}
ALOFISEL, APLIDIN, IMLYGIC = "EMEA/H/C/004258", "EMEA/H/C/004354", "EMEA/H/C/002771"


@dataclass
class Built:
    engine: Engine
    stats: dict[str, int]
    early: list[dict[str, Any]]  # approval rows of Alofisel and Aplidin after the 2018 table only


def rows(engine: Engine, table: Table, *where: Any) -> list[dict[str, Any]]:
    with engine.connect() as conn:
        return [dict(r) for r in conn.execute(select(table).where(*where)).mappings()]


@pytest.fixture(scope="module")
def built(loaded_module: Engine) -> Iterator[Built]:
    engine = loaded_module
    releases = profile_releases(DATA, ("ema",))
    meds = [r for r in releases if r.spec.name == "ema_medicines"]
    assert [r.release_date for r in meds] == [date(2018, 12, 23), date(2019, 11, 25), LATEST]
    load_release(engine, meds[0])  # the oldest table first: Alofisel authorised, Aplidin refused
    with engine.begin() as conn:
        build(conn, Resolver(engine))
    early = rows(engine, approval, approval.c.application.in_([ALOFISEL, APLIDIN]))
    for release in releases:  # ema_medicines oldest first, then the other sources
        if release is not meds[0]:
            load_release(engine, release)
    with engine.begin() as conn:
        stats = build(conn, Resolver(engine))
    yield Built(engine, stats, early)


def drug_id(engine: Engine, name: str) -> str:
    x = drug_xref.c
    with engine.connect() as conn:
        found = conn.execute(
            select(x.drug_id).where(x.namespace == "unii", x.value == UNII[name]).distinct()
        ).scalar_one()
    assert isinstance(found, str)
    return found


def one(found: list[dict[str, Any]]) -> dict[str, Any]:
    assert len(found) == 1, found
    return found[0]


def test_imlygic_authorised_in_the_eu_as_an_atmp(built: Built) -> None:
    # raw: Human,Imlygic,EMEA/H/C/002771,Authorised,...,talimogene laherparepvec,...,Melanoma,,
    # No,L01XX51,...,Advanced therapy=Yes (other flags No),Amgen Europe B.V.,25/07/2024 (latest
    # EC decision),,,23/07/2015 (opinion),,16/12/2015 (marketing authorisation),...,04/06/2018
    row = one(rows(built.engine, approval, approval.c.application == IMLYGIC))
    assert row["drug_id"] == drug_id(built.engine, "talimogene laherparepvec")
    assert row["ingredient"] == "talimogene laherparepvec"
    assert row["match_kind"] == "exact"
    assert (row["agency"], row["country"], row["kind"]) == ("EMA", "EU", "authorisation")
    assert (row["product"], row["status"]) == ("Imlygic", "authorised")
    assert row["date"] == date(2015, 12, 16)  # the EC decision granting the authorisation
    assert row["holder"] == "Amgen Europe B.V."
    assert row["holder_key"] == org_key("Amgen Europe B.V.")
    assert row["detail"] == "Melanoma"
    assert row["indication"].startswith("Imlygic is indicated for the treatment of adults with")
    flags = orjson.loads(row["flags"])
    assert flags["atmp"] is True
    assert flags["orphan"] is False and flags["conditional"] is False
    assert flags["decision_date"] == "2024-07-25"  # the latest EC decision (a variation)
    assert flags["authorisation_date"] == "2015-12-16"
    assert flags["opinion_date"] == "2015-07-23"
    assert flags["atc_code"] == "L01XX51"
    assert flags["first_published"] == "2018-06-04"
    assert flags["withdrawal_date"] is None and flags["refusal_date"] is None
    assert flags["url"] == "https://www.ema.europa.eu/en/medicines/human/EPAR/imlygic"
    assert flags["ingredient_from"] == "inn"
    assert (row["source"], row["source_record_id"]) == ("ema_medicines", IMLYGIC)
    assert (row["source_date"], row["licence"]) == (LATEST, LICENCE)


MSD, ABBVIE = "Merck Sharp & Dohme B.V.", "AbbVie Deutschland GmbH  Co. KG"


@pytest.mark.parametrize(
    ("number", "product", "inn", "authorised", "holder"),
    [
        ("EMEA/H/C/003820", "Keytruda", "pembrolizumab", date(2015, 7, 17), MSD),
        ("EMEA/H/C/000481", "Humira", "adalimumab", date(2003, 9, 8), ABBVIE),
        ("EMEA/H/C/000406", "Glivec", "imatinib", date(2001, 11, 7), "Novartis Europharm Limited"),
    ],
)
def test_known_medicines_authorised_and_linked(
    built: Built, number: str, product: str, inn: str, authorised: date, holder: str
) -> None:
    row = one(rows(built.engine, approval, approval.c.application == number))
    assert (row["product"], row["ingredient"], row["status"]) == (product, inn, "authorised")
    assert row["drug_id"] == drug_id(built.engine, inn)
    assert row["date"] == authorised
    assert row["holder"] == holder  # Humira's holder has lost its "&" in EMA's own file


def test_the_build_reflects_the_latest_table(built: Built) -> None:
    # 2018 table: Alofisel (darvadstrocel) "Authorised", Aplidin (plitidepsin) "Refused"; the
    # 2025 table: Alofisel "Withdrawn" (withdrawal 13/12/2024), Aplidin no longer listed
    early = {r["application"]: r for r in built.early}
    assert early[ALOFISEL]["status"] == "authorised"
    assert early[APLIDIN]["status"] == "refused"
    row = one(rows(built.engine, approval, approval.c.application == ALOFISEL))
    assert row["status"] == "withdrawn"
    assert row["date"] == date(2018, 3, 23)  # still the date it was authorised
    flags = orjson.loads(row["flags"])
    assert flags["withdrawal_date"] == "2024-12-13"
    assert flags["orphan"] is True and flags["atmp"] is True
    assert flags["prime"] is False  # a column only the 2025 table has
    assert row["source_date"] == LATEST
    assert rows(built.engine, approval, approval.c.application == APLIDIN) == []


def test_unresolved_ingredients_are_kept(built: Built) -> None:
    # darvadstrocel and clopidogrel are not in the fixture vocabulary
    # raw: Human,Plavix,EMEA/H/C/000174,Authorised,,N/0156,clopidogrel,... MA 15/07/1998
    plavix = one(rows(built.engine, approval, approval.c.application == "EMEA/H/C/000174"))
    assert (plavix["ingredient"], plavix["drug_id"], plavix["match_kind"]) == (
        "clopidogrel",
        None,
        None,
    )
    assert plavix["date"] == date(1998, 7, 15)
    alofisel = one(rows(built.engine, approval, approval.c.application == ALOFISEL))
    assert (alofisel["ingredient"], alofisel["drug_id"]) == ("darvadstrocel", None)
    u = unlinked_name.c
    names = {
        r["name"]: r["records"]
        for r in rows(built.engine, unlinked_name, u.source == "ema_medicines")
    }
    assert names["darvadstrocel"] == 1
    assert names["clopidogrel"] > 1  # Plavix and the clopidogrel generics
    assert "pembrolizumab" not in names
    dhpc = {r["name"] for r in rows(built.engine, unlinked_name, u.source == "ema_dhpc")}
    assert "darvadstrocel" in dhpc  # the Alofisel DHPC


def test_veterinary_medicines_left_out(built: Built) -> None:
    # raw: Veterinary,Bravecto,EMEA/V/C/002526,Authorised,,,fluralaner,...
    assert rows(built.engine, approval, approval.c.application == "EMEA/V/C/002526") == []
    assert rows(built.engine, approval, approval.c.application.like("EMEA/V/%")) == []
    vet = safety_communication.c.source_record_id.like("veterinary/%")
    assert rows(built.engine, safety_communication, vet) == []


def test_orphan_designations(built: Built) -> None:
    d = designation.c
    # raw: Zolgensma,EMEA/H/C/004750,Adeno-associated viral vector serotype 9 containing the
    # human SMN gene (onasemnogene abeparvovec),19/06/2015,Treatment of spinal muscular
    # atrophy,EU/3/15/1509,Positive,27/07/2015,25/07/2022,https://...eu-3-15-1509
    row = one(rows(built.engine, designation, d.number == "EU/3/15/1509"))
    assert row["drug_id"] == drug_id(built.engine, "onasemnogene abeparvovec")
    assert row["substance"].endswith("(onasemnogene abeparvovec)")
    assert (row["agency"], row["kind"], row["status"]) == ("EMA", "orphan", "positive")
    assert (row["product"], row["date"]) == ("Zolgensma", date(2015, 6, 19))
    assert row["condition"] == "Treatment of spinal muscular atrophy"
    assert row["url"].endswith("/orphan-designations/eu-3-15-1509")
    # raw: ,,imatinib mesilate,15/02/2001,Treatment of chronic myeloid leukaemia,EU/3/01/021,
    # Expired,...
    row = one(rows(built.engine, designation, d.number == "EU/3/01/021"))
    assert (row["substance"], row["status"], row["date"]) == (
        "imatinib mesilate",
        "expired",
        date(2001, 2, 15),
    )
    assert row["drug_id"] == drug_id(built.engine, "imatinib")  # the salt names the drug
    assert row["product"] is None
    # raw: Kymriah,EMEA/H/C/004090,Autologous T cells ... (tisagenlecleucel),29/04/2014,
    # Treatment of B-lymphoblastic leukaemia/lymphoma,EU/3/14/1266,Positive
    row = one(rows(built.engine, designation, d.number == "EU/3/14/1266"))
    assert row["drug_id"] == drug_id(built.engine, "tisagenlecleucel")
    assert (row["product"], row["date"]) == ("Kymriah", date(2014, 4, 29))
    imatinib = rows(built.engine, designation, d.drug_id == drug_id(built.engine, "imatinib"))
    assert {"EU/3/01/021", "EU/3/21/2449", "EU/3/14/1357"} <= {r["number"] for r in imatinib}


def test_safety_communications(built: Built) -> None:
    s = safety_communication.c
    # raw DHPC: Human,Imlygic,EMEA/H/C/002771,talimogene laherparepvec,Adverse event;Quality
    # defect,Variation,,L01XX51,,Melanoma,,,16/06/2022,16/06/2022,,https://.../dhpc/imlygic
    row = one(rows(built.engine, safety_communication, s.source_record_id == "dhpc/imlygic"))
    assert (row["kind"], row["agency"], row["source"]) == ("dhpc", "EMA", "ema_dhpc")
    assert row["drug_id"] == drug_id(built.engine, "talimogene laherparepvec")
    assert row["substance"] == "talimogene laherparepvec"
    assert row["title"] == "Imlygic: Adverse event;Quality defect"
    assert (row["outcome"], row["date"]) == ("Variation", date(2022, 6, 16))
    assert row["url"] == "https://www.ema.europa.eu/en/medicines/dhpc/imlygic"
    # raw referral: Human,Lopid,gemfibrozil,European Commission final decision,No,Article 30
    # referrals,...,CHMP/289490/05,...,24/03/2004 (opinion),29/07/2004 (EC decision),...
    row = one(
        rows(built.engine, safety_communication, s.source_record_id == "human/referrals/lopid")
    )
    assert (row["kind"], row["substance"]) == ("referral", "gemfibrozil")
    assert row["title"] == "Lopid (Article 30 referrals)"
    assert (row["outcome"], row["date"]) == (
        "European Commission final decision",
        date(2004, 7, 29),
    )
    # raw PSUSA: ,Cyproterone / ethinylestradiol,cyproterone;ethinylestradiol,,
    # EMEA/H/N/PSR/J/0006,Variation,05/12/2023,,https://.../psusa/emea-h-n-psr-j-0006
    psusa = rows(
        built.engine, safety_communication, s.source_record_id == "psusa/emea-h-n-psr-j-0006"
    )
    assert sorted(r["substance"] for r in psusa) == ["cyproterone", "ethinylestradiol"]
    assert {(r["kind"], r["outcome"], r["date"]) for r in psusa} == {
        ("psusa", "Variation", date(2023, 12, 5))
    }
    # raw shortage: Human,Cisplatin,Ongoing,cisplatin,...,06/08/2024 (first published),,...
    row = one(
        rows(built.engine, safety_communication, s.source_record_id == "human/shortages/cisplatin")
    )
    assert (row["kind"], row["substance"], row["outcome"]) == ("shortage", "cisplatin", "Ongoing")
    assert row["date"] == date(2024, 8, 6)  # no start date given: when EMA published it


def test_counts_and_provenance(built: Built) -> None:
    for table in (approval, designation, safety_communication):
        found = rows(built.engine, table, table.c.agency == "EMA")
        assert len(found) == built.stats[table.name]
        assert sum(1 for r in found if r["drug_id"]) == built.stats[f"{table.name}_linked"]
        assert {(r["source_date"], r["licence"]) for r in found} == {(LATEST, LICENCE)}
    kinds = {r["kind"] for r in rows(built.engine, safety_communication)}
    assert kinds == {"dhpc", "referral", "psusa", "shortage"}


def snapshot(engine: Engine) -> dict[str, list[tuple[Any, ...]]]:
    out = {}
    for table in (approval, designation, safety_communication, unlinked_name):
        cols = [c for c in table.c if c.name != "id"]
        with engine.connect() as conn:
            found = conn.execute(select(*cols)).all()
        out[table.name] = sorted((tuple(r) for r in found), key=repr)
    return out


def test_rebuilding_gives_the_same_rows(built: Built) -> None:
    before = snapshot(built.engine)
    with built.engine.begin() as conn:
        stats = build(conn, Resolver(built.engine))
    assert stats == built.stats
    assert snapshot(built.engine) == before
