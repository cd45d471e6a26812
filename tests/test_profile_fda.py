"""The FDA profile builder (``drugradar.profile.fda``) on real Drugs@FDA and Orange Book rows.

The module's database holds the cut-down real fixture vocabulary and every release of
``../shared/data/fda`` cut, at test time, to the rows of the applications below (rows copied byte
for byte; lookups whole). The Orange Book releases are loaded in two steps: up to 2019-07 (when
Gleevec still had patents and an orphan exclusivity listed), built, then the rest, built again.
The values asserted were read in the raw files (quoted beside them).
"""

from __future__ import annotations

import gzip
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import orjson
import pytest
from sqlalchemy import Engine, select

from drugradar.dictionary import load_vocab
from drugradar.dictionary.ingest import load_release
from drugradar.profile import fda
from drugradar.resolve import Resolver
from drugradar.resolve.orgs import org_key
from drugradar.sources.registry import profile_releases
from drugradar.store import migrate
from drugradar.store.schema import approval, exclusivity, patent, unlinked_name

from .conftest import FIXTURE_VOCAB, ROOT, Database

SHARED = ROOT.parent / "shared" / "data" / "fda"
APPLICATIONS = {
    "020702",  # Lipitor (atorvastatin calcium)
    "021588",  # Gleevec tablets (imatinib mesylate)
    "021335",  # Gleevec capsules, discontinued
    "125057",  # Humira (adalimumab), a CDER BLA
    "761106",  # Herceptin Hylecta: trastuzumab + hyaluronidase-oysk
    "021832",  # levofloxacin; sodium chloride
    "017016",  # chorionic gonadotropin: NDA in 2019, BLA from 2020
    "077993",  # olanzapine, tentatively approved 2006 (TA)
    "208722",  # Lusduna (insulin glargine): TA 2017, gone from Drugs@FDA by 2023
    "210658",  # imatinib mesylate (Zydus): approved after the 2019-07 Submissions file
    "207937",  # cabazitaxel (Fresenius): tentative, no submission record
    "219019",  # 2025 NDA (Genzyme): no product record in the 2023-04 Products file
    "213378",  # Lybalvi: olanzapine + samidorphan L-malate, 2021, patents in 2026
    "204353",  # Invokamet: canagliflozin + metformin, patents
}
FIRST_OB = date(2019, 7, 1)  # Orange Book releases loaded before the first build
LICENCE = "public domain (FDA)"


# ---------------------------------------------------------------- the real rows, cut


def _cut(data: bytes, sep: bytes) -> bytes:
    """The header and the rows of ``APPLICATIONS``; a table without ApplNo (a lookup) whole."""
    lines = data.splitlines(keepends=True)
    cols = [c.strip().lower() for c in lines[0].rstrip(b"\r\n").split(sep)]
    col = next((cols.index(n) for n in (b"applno", b"appl_no") if n in cols), None)
    if col is None:
        return data
    keep = {a.encode() for a in APPLICATIONS}
    rows = [ln for ln in lines[1:] if len(ln.split(sep)) > col and ln.split(sep)[col] in keep]
    return b"".join([lines[0], *rows])


def _copy(src: Path, dst: Path, sep: bytes) -> None:
    dst.mkdir(parents=True)
    for path in sorted(p for p in src.iterdir() if p.is_file()):
        target = dst / path.name
        if path.suffix == ".zip":
            with zipfile.ZipFile(path) as zin, zipfile.ZipFile(target, "w") as zout:
                for info in zin.infolist():
                    zout.writestr(info, _cut(zin.read(info), sep), zipfile.ZIP_DEFLATED)
        elif path.suffix == ".gz":
            target.write_bytes(gzip.compress(_cut(gzip.decompress(path.read_bytes()), sep)))
        elif path.suffix == ".txt":
            target.write_bytes(_cut(path.read_bytes(), sep))
        else:
            target.write_bytes(path.read_bytes())


def real_cut(root: Path) -> Path:
    """``root/fda/…``: every release folder of ``../shared/data/fda``, cut to APPLICATIONS."""
    for kind, sep in (("drugsatfda", b"\t"), ("orange-book", b"~")):
        for folder in sorted(p for p in (SHARED / kind).iterdir() if p.is_dir()):
            _copy(folder, root / "fda" / kind / folder.name, sep)
    return root


# ---------------------------------------------------------------- the database


@dataclass
class Built:
    engine: Engine
    root: Path
    first: dict[str, int]  # build() after the first Orange Book release
    first_rows: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    latest: dict[str, int] = field(default_factory=dict)


def _rows(engine: Engine, table: Any, **where: str) -> list[dict[str, Any]]:
    stmt = select(table)
    for column, value in where.items():
        stmt = stmt.where(table.c[column] == value)
    with engine.connect() as conn:
        rows = [dict(r._mapping) for r in conn.execute(stmt)]
    for r in rows:
        r.pop("id", None)
        if "flags" in r:
            r["flags"] = orjson.loads(r["flags"])
    return sorted(rows, key=repr)


def _build(engine: Engine) -> dict[str, int]:
    with engine.begin() as conn:
        return fda.build(conn, Resolver(engine))


@pytest.fixture(scope="module")
def built(
    backend: str, tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest
) -> Iterator[Built]:
    if not SHARED.is_dir():
        pytest.fail(f"{SHARED} is missing: the suite needs the shared real data")
    tmp = tmp_path_factory.mktemp("fda")
    root = real_cut(tmp / "data")
    d = Database(backend, tmp, request.config.getoption("pg_url"))
    migrate(d.engine)
    load_vocab(d.engine, FIXTURE_VOCAB)
    releases = profile_releases(root, ("fda",))
    late = [r for r in releases if r.spec.name.startswith("ob_") and r.release_date > FIRST_OB]
    for r in releases:
        if r not in late:
            load_release(d.engine, r)
    out = Built(d.engine, root, _build(d.engine))
    out.first_rows = {
        "patent": _rows(d.engine, patent, application="NDA021588"),
        "exclusivity": _rows(d.engine, exclusivity, application="NDA021588"),
    }
    for r in late:
        load_release(d.engine, r)
    out.latest = _build(d.engine)
    yield out
    d.drop()


def drug_id(engine: Engine, name: str) -> str:
    best = Resolver(engine).resolve(name).best
    assert best is not None, f"the fixture vocabulary does not know {name}"
    return best.drug_id


def approvals(engine: Engine, application: str) -> list[dict[str, Any]]:
    return _rows(engine, approval, application=application)


def one(rows: list[dict[str, Any]], **match: Any) -> dict[str, Any]:
    found = [r for r in rows if all(r[k] == v for k, v in match.items())]
    assert len(found) == 1, f"{len(found)} rows match {match}"
    return found[0]


def submissions_of(root: Path, appl_no: str) -> list[list[str]]:
    """The raw 2019-07 Submissions rows of an application."""
    with zipfile.ZipFile(root / "fda/drugsatfda/2019-07_full/drugsatfda.zip") as zf:
        text = zf.read("Submissions.txt").decode("latin-1")
    return [line.split("\t") for line in text.splitlines()[1:] if line.startswith(appl_no)]


# ---------------------------------------------------------------- approvals


def test_lipitor_original_approval(built: Built) -> None:
    e = built.engine
    rows = approvals(e, "NDA020702")
    orig = one(rows, kind="original")
    # Submissions 2019-07: 020702  7  ORIG  1  AP  1996-12-17 00:00:00  PRIORITY (7 = TYPE 1)
    assert orig["date"] == date(1996, 12, 17)
    assert orig["status"] == "approved"
    assert orig["detail"] == "Type 1 - New Molecular Entity; PRIORITY"
    assert orig["drug_id"] == drug_id(e, "atorvastatin")
    assert orig["ingredient"] == "ATORVASTATIN CALCIUM"
    assert orig["match_kind"] == "exact"
    assert orig["product"] == "LIPITOR"
    # Applications 2025-09: 020702  NDA  (no notes)  UPJOHN
    assert orig["holder"] == "UPJOHN"
    assert orig["holder_key"] == org_key("UPJOHN")
    assert (orig["agency"], orig["country"], orig["indication"]) == ("FDA", "US", None)
    assert orig["flags"] == {
        "appl_type": "NDA",
        "marketing_status": ["Prescription"],  # MarketingStatus 2025-09: 1 for 001-004
        "orphan": False,
        "review_priority": "PRIORITY",
        "submission": "ORIG/1",
    }
    assert (orig["source"], orig["source_record_id"]) == ("fda_submissions", "NDA020702/ORIG/1")
    assert orig["licence"] == LICENCE
    supplements = [r for r in rows if r["kind"] == "supplement"]
    raw = {s[3] for s in submissions_of(built.root, "020702") if s[2].strip() == "SUPPL"}
    assert {r["flags"]["submission"] for r in supplements} == {f"SUPPL/{n}" for n in raw}
    assert {r["drug_id"] for r in rows} == {orig["drug_id"]}


def test_gleevec_approvals(built: Built) -> None:
    e = built.engine
    imatinib = drug_id(e, "imatinib")
    tablets = one(approvals(e, "NDA021588"), kind="original")
    # Submissions 2019-07: 021588  12  ORIG  1  AP  2003-04-18 00:00:00  PRIORITY (12 = TYPE 3);
    # SubmissionPropertyType: 021588  ORIG  1  Orphan
    assert tablets["date"] == date(2003, 4, 18)
    assert tablets["detail"] == "Type 3 - New Dosage Form; PRIORITY"
    assert tablets["flags"]["orphan"] is True
    assert (tablets["drug_id"], tablets["ingredient"]) == (imatinib, "IMATINIB MESYLATE")
    assert (tablets["product"], tablets["holder"]) == ("GLEEVEC", "NOVARTIS")
    capsules = one(approvals(e, "NDA021335"), kind="original")
    # 021335  7  ORIG  1  AP  2001-05-10; MarketingStatus 2025-09: 3 (Discontinued) for both
    assert capsules["date"] == date(2001, 5, 10)
    assert capsules["drug_id"] == imatinib
    assert capsules["flags"]["marketing_status"] == ["Discontinued"]


def test_gleevec_orange_book_2019(built: Built) -> None:
    imatinib = drug_id(built.engine, "imatinib")
    excl = built.first_rows["exclusivity"]
    # exclusivity.txt 2019-07: N~021588~001~ODE-40~Jan 25, 2020 (and 002)
    assert [(r["product_no"], r["code"], r["kind"], r["expires"]) for r in excl] == [
        ("001", "ODE-40", "ODE", date(2020, 1, 25)),
        ("002", "ODE-40", "ODE", date(2020, 1, 25)),
    ]
    assert {r["drug_id"] for r in excl} == {imatinib}
    assert {(r["source"], r["source_record_id"]) for r in excl} == {
        ("ob_exclusivities", "N021588/001/ODE-40"),
        ("ob_exclusivities", "N021588/002/ODE-40"),
    }
    pats = built.first_rows["patent"]
    assert {r["drug_id"] for r in pats} == {imatinib}
    # patent.txt 2019-07, product 001: 6894051 May 23, 2019 Y Y U-649; 6958335 Dec 19, 2021
    # on two rows (U-1883, U-791); 6894051*PED Nov 23, 2019; 6958335*PED; RE43932*PED
    first = {r["patent_no"]: r for r in pats if r["product_no"] == "001"}
    assert set(first) == {"6894051", "6958335", "6894051*PED", "6958335*PED", "RE43932*PED"}
    p = first["6894051"]
    assert (p["expires"], p["drug_substance"], p["drug_product"], p["delisted"]) == (
        date(2019, 5, 23),
        True,
        True,
        False,
    )
    assert orjson.loads(p["use_codes"]) == ["U-649"]
    assert orjson.loads(first["6958335"]["use_codes"]) == ["U-1883", "U-791"]
    assert first["6958335"]["expires"] == date(2021, 12, 19)
    assert first["6894051*PED"]["expires"] == date(2019, 11, 23)
    assert len(pats) == 10  # the same five for product 002


def test_gleevec_listings_leave_with_the_orange_book(built: Built) -> None:
    # 2026-05 lists no 021588 row: the current records, and so the rows, are gone
    assert _rows(built.engine, exclusivity, application="NDA021588") == []
    assert _rows(built.engine, patent, application="NDA021588") == []


def test_humira_bla(built: Built) -> None:
    e = built.engine
    rows = approvals(e, "BLA125057")
    adalimumab = drug_id(e, "adalimumab")
    assert {(r["drug_id"], r["ingredient"]) for r in rows} == {(adalimumab, "ADALIMUMAB")}
    orig = one(rows, kind="original")
    assert orig["date"] == date(2002, 12, 31)  # 125057  7  ORIG  1  AP  2002-12-31  STANDARD
    assert (orig["holder"], orig["product"]) == ("ABBVIE INC", "HUMIRA")
    assert orig["flags"]["appl_type"] == "BLA"
    raw = submissions_of(built.root, "125057")
    assert len(rows) == len(raw)  # one drug: one row per submission (all AP)
    assert _rows(e, patent, application="BLA125057") == []  # BLAs are not in the Orange Book


def test_combination_split_into_its_drugs(built: Built) -> None:
    e = built.engine
    # Products 2023-04: 761106  001  …  HERCEPTIN HYLECTA  TRASTUZUMAB; HYALURONIDASE-OYSK
    # Submissions 2019-07: 761106  15  ORIG  1  AP  2019-02-28  STANDARD (15 = TYPE 5)
    orig = [r for r in approvals(e, "BLA761106") if r["kind"] == "original"]
    assert {(r["ingredient"], r["drug_id"]) for r in orig} == {
        ("TRASTUZUMAB", drug_id(e, "trastuzumab")),
        ("HYALURONIDASE-OYSK", drug_id(e, "HYALURONIDASE-OYSK")),
    }
    assert {(r["date"], r["source_record_id"], r["product"]) for r in orig} == {
        (date(2019, 2, 28), "BLA761106/ORIG/1", "HERCEPTIN HYLECTA")
    }
    # LEVOFLOXACIN; SODIUM CHLORIDE: the fixture vocabulary knows only sodium chloride; the
    # other ingredient is kept by name, without a drug, and reported as unlinked
    rows = approvals(e, "NDA021832")
    assert {r["ingredient"] for r in rows if r["drug_id"] is None} == {"LEVOFLOXACIN"}
    assert {r["drug_id"] for r in rows if r["ingredient"] == "SODIUM CHLORIDE"} == {
        drug_id(e, "sodium chloride")
    }
    assert len(rows) == 2 * len({r["source_record_id"] for r in rows})
    unlinked = {r["name"]: r["records"] for r in _rows(e, unlinked_name, source="fda_products")}
    assert unlinked["LEVOFLOXACIN"] == 1
    assert "SODIUM CHLORIDE" not in unlinked


def test_application_that_became_a_bla(built: Built) -> None:
    # Submissions 2019-07: 017016  15  ORIG  1  AP  1974-01-15; Applications 2025-09: BLA FERRING
    orig = one(approvals(built.engine, "BLA017016"), kind="original")
    assert orig["source_record_id"] == "NDA017016/ORIG/1"
    assert (orig["date"], orig["holder"]) == (date(1974, 1, 15), "FERRING")
    assert orig["ingredient"] == "GONADOTROPIN, CHORIONIC"
    assert orig["flags"]["appl_type"] == "BLA"
    assert approvals(built.engine, "NDA017016") == []


def test_tentative_approval(built: Built) -> None:
    # 077993  (no class)  ORIG  1  TA  2006-09-29; MarketingStatus 2025-09: 4
    row = one(approvals(built.engine, "ANDA077993"), kind="original")
    assert (row["status"], row["date"]) == ("tentative", date(2006, 9, 29))
    assert row["drug_id"] == drug_id(built.engine, "olanzapine")
    assert row["detail"] is None
    assert row["flags"]["marketing_status"] == ["None (Tentative Approval)"]


def test_withdrawn_application_keeps_its_drug(built: Built) -> None:
    # 208722  15  ORIG  1  TA  2017-07-19; its product LUSDUNA / INSULIN GLARGINE is in the
    # 2019-07 Products file, no longer in 2023-04, nor the application in 2025-09
    row = one(approvals(built.engine, "NDA208722"), kind="original")
    assert (row["status"], row["date"]) == ("tentative", date(2017, 7, 19))
    assert (row["ingredient"], row["product"]) == ("INSULIN GLARGINE", "LUSDUNA")
    assert row["drug_id"] == drug_id(built.engine, "insulin glargine")
    assert row["flags"]["removed_records"] is True


def test_applications_without_submission_record(built: Built) -> None:
    e = built.engine
    assert submissions_of(built.root, "210658") == []
    # Zydus imatinib: Products 2023-04 001/002 IMATINIB MESYLATE; MarketingStatus 2025-09: 1
    row = one(approvals(e, "ANDA210658"))
    assert (row["kind"], row["status"], row["date"]) == ("original", "approved", None)
    assert row["drug_id"] == drug_id(e, "imatinib")
    assert (row["source"], row["source_record_id"]) == ("fda_applications", "ANDA210658")
    assert row["flags"]["no_submission_record"] is True
    assert row["holder"] == "ZYDUS PHARMS"
    # cabazitaxel 207937: its one product "None (Tentative Approval)" (status 4)
    row = one(approvals(e, "NDA207937"))
    assert (row["status"], row["ingredient"], row["drug_id"]) == ("tentative", "CABAZITAXEL", None)
    # 219019: in Applications and MarketingStatus 2025-07/09, not in Products 2023-04
    row = one(approvals(e, "NDA219019"))
    assert (row["ingredient"], row["drug_id"], row["product"]) == ("", None, None)
    assert row["holder"] == "GENZYME CORP"
    assert row["flags"]["no_product_record"] is True


def test_combination_patents_and_exclusivities(built: Built) -> None:
    e = built.engine
    olanzapine = drug_id(e, "olanzapine")
    # Lybalvi 213378: OLANZAPINE; SAMIDORPHAN L-MALATE (the fixture vocabulary knows olanzapine)
    rows = approvals(e, "NDA213378")
    assert {(r["ingredient"], r["drug_id"]) for r in rows} == {
        ("OLANZAPINE", olanzapine),
        ("SAMIDORPHAN L-MALATE", None),
    }
    text = (built.root / "fda/orange-book/2026-05/patent.txt").read_text("latin-1")
    listed = {(c[2], c[3]) for c in (ln.split("~") for ln in text.splitlines()) if c[1] == "213378"}
    pats = _rows(e, patent, application="NDA213378")
    # one row per listing: the ingredient that names no drug adds no row
    assert {(r["product_no"], r["patent_no"]) for r in pats} == listed
    assert len(pats) == len(listed)
    assert {r["drug_id"] for r in pats} == {olanzapine}
    excl = _rows(e, exclusivity, application="NDA213378")
    # exclusivity.txt 2026-05: N~213378~001~NCE~May 28, 2026 (and 002-004)
    assert {(r["product_no"], r["code"], r["expires"], r["drug_id"]) for r in excl} == {
        (no, "NCE", date(2026, 5, 28), olanzapine) for no in ("001", "002", "003", "004")
    }
    # Invokamet 204353: neither ingredient known -> one row per listing, without a drug
    pats = _rows(e, patent, application="NDA204353")
    assert pats and {r["drug_id"] for r in pats} == {None}
    assert len(pats) == len({r["source_record_id"] for r in pats})


def test_counts_and_idempotence(built: Built) -> None:
    e = built.engine
    before = {t.name: _rows(e, t) for t in (approval, patent, exclusivity, unlinked_name)}
    again = _build(e)
    assert again == built.latest
    after = {t.name: _rows(e, t) for t in (approval, patent, exclusivity, unlinked_name)}
    assert after == before
    assert again["approval"] == len(before["approval"])
    assert again["patent"] == len(before["patent"])
    assert again["exclusivity"] == len(before["exclusivity"])
    assert {r["agency"] for r in before["approval"]} == {"FDA"}
    assert {r["licence"] for r in before["patent"]} == {LICENCE}
