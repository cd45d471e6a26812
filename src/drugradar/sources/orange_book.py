"""FDA Orange Book (Approved Drug Products with Therapeutic Equivalence Evaluations): patents
and exclusivities listed for approved NDA/ANDA products.

Files: ``patent.txt`` and ``exclusivity.txt``, ``~``-delimited with a header row, one folder
per dated release (``orange-book/2019-07/``). Live download: https://www.fda.gov/media/76860/download
(``EOBZIP_YYYY_MM.zip``; described at https://www.fda.gov/drugs/drug-approvals-and-databases/
orange-book-data-files). Dates are written ``Jun 7, 2027``; flags are ``Y`` or empty.

``ob_patents``, id ``N020702/001/4681893`` (Appl_Type letter + Appl_No / Product_No /
Patent_No as written: a pediatric-exclusivity listing ``6894051*PED`` is its own record, with
its own later expiry). The file lists a patent once per use code, so those rows are folded
into one record::

    {"appl_type": "NDA" | "ANDA", "appl_no": "020702", "product_no": "001",
     "patent_no": "4681893" (without "*PED"), "pediatric_extension": bool (the "*PED" row),
     "expires": "2027-06-07", "drug_substance": bool, "drug_product": bool,
     "use_codes": ["U-1883", "U-791"] (sorted), "delisted": bool,
     "submission_date": "2014-07-21" | None}

The folded rows differ only in their use code, except in 5 listings over the 7 releases: there
flags are true if any row says so (2019-07 delists 7582621 of N204427/001 on 2 of its 4 rows)
and ``expires`` is the latest date (2020-04 lists 8222219 of N204353 with Jul 30, 2024 and with
Apr 11, 2025, its extended term); ``submission_date`` would be the earliest. Identical rows
(11 in 2019-07 and 2020-04) fold away.

``ob_exclusivities``, id ``N021588/001/ODE-40`` (Appl_Type letter + Appl_No / Product_No /
Exclusivity_Code as written). One code can be granted several times to one product (``NPP``
for two patient populations, ``ODE*`` for several orphan indications), each with its date::

    {"appl_type", "appl_no", "product_no", "code": "ODE-40" (verbatim), "kind": "ODE",
     "expires": "2020-01-25" (the latest), "expiry_dates": ["2019-05-03", "2020-01-25"]}

``kind`` is the code without a trailing ``-<number>`` or ``*``: ``ODE-40`` and ``ODE*`` ->
ODE (orphan drug), ``I-789`` -> I (new indication), ``M-204`` -> M, ``D-193`` -> D (new
dosing), ``NCE*`` -> NCE (new chemical entity); codes without a number are their own kind:
NP (new product), NPP (new patient population), PED (pediatric), PC (patent challenge, 180-day
generic), CGT (competitive generic therapy), GAIN (antibiotic, QIDP), NC, NDF, NS, RTO, W...
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from drugradar.sources.base import (
    JSONDict,
    Parsed,
    Record,
    Rejected,
    SourceSpec,
    decoded_lines,
)
from drugradar.sources.drugsatfda import folder_date

LICENCE = "public domain (FDA)"
APPL_TYPES = {"N": "NDA", "A": "ANDA"}
RAW_LIMIT = 2000
PATENT_COLUMNS = (
    "Appl_Type",
    "Appl_No",
    "Product_No",
    "Patent_No",
    "Patent_Expire_Date_Text",
    "Drug_Substance_Flag",
    "Drug_Product_Flag",
    "Patent_Use_Code",
    "Delist_Flag",
    "Submission_Date",
)
EXCLUSIVITY_COLUMNS = ("Appl_Type", "Appl_No", "Product_No", "Exclusivity_Code", "Exclusivity_Date")

_MONTHS = {
    m: i
    for i, m in enumerate(
        ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"),
        start=1,
    )
}
_OB_DATE = re.compile(r"^([A-Za-z]{3})\s+(\d{1,2}),\s*(\d{4})$")
_APPL_NO = re.compile(r"^\d{6}$")
_PRODUCT_NO = re.compile(r"^\d{3}$")
_PATENT = re.compile(r"^([A-Z]{0,2}\d{5,8})(\*PED)?$")
_USE_CODE = re.compile(r"^U-\d+$")
_EXCLUSIVITY = re.compile(r"^([A-Z]+)(?:-\d+)?\*?$")


class RowError(ValueError):
    """A row that cannot be read; becomes a ``Rejected`` naming its field."""

    def __init__(self, reason: str, field: str | None = None, record_id: str | None = None):
        super().__init__(reason)
        self.field = field
        self.record_id = record_id


def ob_date(text: str) -> str | None:
    """``'Jun 7, 2027'`` -> ``'2027-06-07'``; '' -> None; ValueError when malformed."""
    text = text.strip()
    if not text:
        return None
    m = _OB_DATE.match(text)
    if not m or m.group(1).lower() not in _MONTHS:
        raise ValueError(text)
    return date(int(m.group(3)), _MONTHS[m.group(1).lower()], int(m.group(2))).isoformat()


def _yes(value: str, column: str, rid: str) -> bool:
    if value not in ("", "Y"):
        raise RowError(f"{column} {value!r} is neither 'Y' nor empty", field=column, record_id=rid)
    return value == "Y"


def _date(row: dict[str, str], column: str, rid: str, required: bool) -> str | None:
    try:
        found = ob_date(row[column])
    except ValueError:
        raise RowError(f"malformed date {row[column]!r} in {column}", column, rid) from None
    if found is None and required:
        raise RowError(f"empty {column}", field=column, record_id=rid)
    return found


def _rows(
    path: Path, columns: Sequence[str]
) -> Iterator[tuple[int, dict[str, str], str] | Rejected]:
    """``(line, values by column, text)`` per data row of a ``~``-delimited file."""
    fname = path.name
    header: list[str] | None = None
    for n, text, raw in decoded_lines(path):
        if text is None:
            text = raw.decode("cp1252", "replace")
        if header is None:
            header = [c.strip() for c in text.lstrip("\ufeff").split("~")]
            lower = [c.lower() for c in header]
            missing = [c for c in columns if c.lower() not in lower]
            if missing:
                yield Rejected(fname, n, f"header has no {missing[0]} column", missing[0], raw=text)
                return
            index = {c: lower.index(c.lower()) for c in columns}
            continue
        if not text.strip():
            continue
        cols = text.split("~")
        if len(cols) != len(header):
            yield Rejected(
                fname,
                n,
                f"expected {len(header)} '~'-separated columns, found {len(cols)}",
                raw=text[:RAW_LIMIT],
            )
            continue
        yield n, {c: cols[i].strip() for c, i in index.items()}, text


def _product_key(row: dict[str, str]) -> tuple[str, str, str]:
    """``(appl type letter, appl no, product no)``, checked."""
    letter, appl_no, product_no = row["Appl_Type"], row["Appl_No"], row["Product_No"]
    if letter not in APPL_TYPES:
        raise RowError(f"unknown Appl_Type {letter!r} (want N or A)", field="Appl_Type")
    if not _APPL_NO.match(appl_no):
        raise RowError(f"malformed Appl_No {appl_no!r} (want 6 digits)", field="Appl_No")
    rid = f"{letter}{appl_no}"
    if not _PRODUCT_NO.match(product_no):
        raise RowError(
            f"malformed Product_No {product_no!r} (want 3 digits)",
            field="Product_No",
            record_id=rid,
        )
    return letter, appl_no, product_no


@dataclass(slots=True)
class _Patent:
    data: JSONDict
    use_codes: set[str] = field(default_factory=set)
    raws: list[str] = field(default_factory=list)


def _patent_row(row: dict[str, str]) -> tuple[str, JSONDict, str]:
    """``(record id, data without use_codes, use code)`` of one patent.txt row."""
    letter, appl_no, product_no = _product_key(row)
    patent = row["Patent_No"]
    rid = f"{letter}{appl_no}/{product_no}/{patent}"
    m = _PATENT.match(patent)
    if not m:
        raise RowError(f"malformed Patent_No {patent!r}", field="Patent_No", record_id=rid)
    use = row["Patent_Use_Code"]
    if use and not _USE_CODE.match(use):
        raise RowError(f"malformed Patent_Use_Code {use!r}", "Patent_Use_Code", rid)
    data: JSONDict = {
        "appl_type": APPL_TYPES[letter],
        "appl_no": appl_no,
        "product_no": product_no,
        "patent_no": m.group(1),
        "pediatric_extension": m.group(2) is not None,
        "expires": _date(row, "Patent_Expire_Date_Text", rid, required=True),
        "drug_substance": _yes(row["Drug_Substance_Flag"], "Drug_Substance_Flag", rid),
        "drug_product": _yes(row["Drug_Product_Flag"], "Drug_Product_Flag", rid),
        "delisted": _yes(row["Delist_Flag"], "Delist_Flag", rid),
        "submission_date": _date(row, "Submission_Date", rid, required=False),
    }
    return rid, data, use


def _fold_patent(into: JSONDict, data: JSONDict) -> None:
    """Merge a further row of the same patent (see the module docstring)."""
    for flag in ("drug_substance", "drug_product", "delisted"):
        into[flag] = into[flag] or data[flag]
    into["expires"] = max(into["expires"], data["expires"])
    dates = [d for d in (into["submission_date"], data["submission_date"]) if d]
    into["submission_date"] = min(dates) if dates else None


def parse_patents(paths: Sequence[Path]) -> Iterator[Parsed]:
    """One record per (application, product, patent) listing, use codes folded."""
    patents: dict[str, _Patent] = {}
    for path in paths:
        for item in _rows(path, PATENT_COLUMNS):
            if isinstance(item, Rejected):
                yield item
                continue
            n, row, text = item
            try:
                rid, data, use = _patent_row(row)
            except RowError as err:
                yield Rejected(path.name, n, str(err), err.field, err.record_id, text[:RAW_LIMIT])
                continue
            if rid in patents:
                _fold_patent(patents[rid].data, data)
            else:
                patents[rid] = _Patent(data)
            if use:
                patents[rid].use_codes.add(use)
            patents[rid].raws.append(text)
    for rid, p in patents.items():
        yield Record(rid, {**p.data, "use_codes": sorted(p.use_codes)}, raw="\n".join(p.raws))


def exclusivity_kind(code: str) -> str | None:
    """``'ODE-123'`` -> ``'ODE'``, ``'NCE*'`` -> ``'NCE'``, ``'NPP'`` -> ``'NPP'``."""
    m = _EXCLUSIVITY.match(code)
    return m.group(1) if m else None


def parse_exclusivities(paths: Sequence[Path]) -> Iterator[Parsed]:
    """One record per (application, product, exclusivity code), its dates folded."""
    found: dict[str, tuple[JSONDict, set[str], list[str]]] = {}
    for path in paths:
        for item in _rows(path, EXCLUSIVITY_COLUMNS):
            if isinstance(item, Rejected):
                yield item
                continue
            n, row, text = item
            try:
                letter, appl_no, product_no = _product_key(row)
                code = row["Exclusivity_Code"]
                rid = f"{letter}{appl_no}/{product_no}/{code}"
                kind = exclusivity_kind(code)
                if kind is None:
                    raise RowError(f"malformed Exclusivity_Code {code!r}", "Exclusivity_Code", rid)
                expires = _date(row, "Exclusivity_Date", rid, required=True)
            except RowError as err:
                yield Rejected(path.name, n, str(err), err.field, err.record_id, text[:RAW_LIMIT])
                continue
            if rid not in found:
                data = {
                    "appl_type": APPL_TYPES[letter],
                    "appl_no": appl_no,
                    "product_no": product_no,
                    "code": code,
                    "kind": kind,
                }
                found[rid] = (data, set(), [])
            found[rid][1].add(str(expires))
            found[rid][2].append(text)
    for rid, (data, dates, raws) in found.items():
        ordered = sorted(dates)
        yield Record(
            rid, {**data, "expires": ordered[-1], "expiry_dates": ordered}, raw="\n".join(raws)
        )


PATENTS = SourceSpec(
    name="ob_patents",
    licence=LICENCE,
    title="Orange Book patents",
    parse=parse_patents,
)
EXCLUSIVITIES = SourceSpec(
    name="ob_exclusivities",
    licence=LICENCE,
    title="Orange Book exclusivities",
    parse=parse_exclusivities,
)
SPECS = (PATENTS, EXCLUSIVITIES)
_FILES = {"patent.txt": PATENTS, "exclusivity.txt": EXCLUSIVITIES}


def releases(folder: Path) -> list[tuple[SourceSpec, str, tuple[Path, ...], date]]:
    """Every (source, folder name, file, date) under an Orange Book folder, oldest first."""
    out: list[tuple[SourceSpec, str, tuple[Path, ...], date]] = []
    for sub in sorted(p for p in folder.iterdir() if p.is_dir()):
        day = folder_date(sub.name)
        if day is None:
            continue
        for path in sorted(sub.iterdir()):
            spec = _FILES.get(path.name.lower().removesuffix(".gz"))
            if spec is not None and path.is_file():
                out.append((spec, sub.name, (path,), day))
    order = {s.name: i for i, s in enumerate(SPECS)}
    return sorted(out, key=lambda r: (r[3], order[r[0].name], r[1]))
