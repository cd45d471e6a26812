"""Drugs@FDA: FDA's database of drugs approved by CDER (NDAs, ANDAs and CDER's BLAs).

Files: tab-separated tables with a header row, Windows line ends, ``ApplNo`` 6 digits and
``ProductNo`` 3 digits with leading zeros. A release folder holds them as ``drugsatfda.zip``
(read member by member, never unpacked) or as loose files, some gzipped; table names are
matched case-insensitively. Live download: https://www.fda.gov/media/89850/download
(described at https://www.fda.gov/drugs/drug-approvals-and-databases/drugsfda-data-files).

Two layouts:

- current (2019 and later here): ``Applications``, ``Products``, ``MarketingStatus`` (+
  ``_Lookup``), ``TE``, ``Submissions``, ``SubmissionClass_Lookup``, ``SubmissionPropertyType``,
  ``ApplicationDocs``, ``ApplicationsDocsType_Lookup``, ``ActionTypes_Lookup``;
- legacy (the 2016 zip): ``application`` (type N/A/B, chemical type, review class, orphan
  code), ``Product`` (strength in ``Dosage``, marketing status and TE code inline),
  ``Product_tecode``, ``RegActionDate`` (one row per regulatory action: ``InDocTypeSeqNo`` 000
  is the original application, others the supplement number), ``AppDoc``, lookups.

Legacy rows are mapped onto the current shapes; what the legacy layout lacks is None (a
supplement's review priority, a product's reference standard). Its submission classes come
from ``_LEGACY_CLASS`` (supplements) and ``_chemical_class`` (originals): where they give a
class, the 2019 files give the same one for 99.6% of the submissions both list. Several actions
on one legacy submission (a TA then an AP, a resubmission) are one submission: status AP if
any action approved it, dated by the latest such action (the 2019 date for 89% of them).

Every record id starts with the application type, which only the Applications table gives:
rows of an application that table lacks are rejected (4,432 Submissions rows of 1,296 old
applications in 2019), and a folder without one (``2018-07_products_only``) borrows it from
the nearest release (see ``releases``). 95 applications turned from NDA to BLA in 2020 (the
"deemed to be a BLA" transition): they get new ids (``NDA017016`` -> ``BLA017016``).

Each kind of record is its own source, because the dated folders carry different tables:

``fda_applications``, id ``NDA020702`` (type + ApplNo)::

    {"appl_type": "NDA" | "ANDA" | "BLA", "appl_no": "020702", "sponsor": "PFIZER",
     "public_notes": str | None}

``fda_products``, id ``NDA020702/001``::

    {"appl_type", "appl_no", "product_no": "001", "brand_name": "LIPITOR",
     "active_ingredient": "HYDROCHLOROTHIAZIDE; RESERPINE" (verbatim),
     "active_ingredients": ["HYDROCHLOROTHIAZIDE", "RESERPINE"] (split on ';' outside
     parentheses, sorted), "strength": "EQ 10MG BASE", "form": "TABLET;ORAL" (verbatim),
     "dosage_form": "TABLET", "route": "ORAL" (None unless ``form`` has exactly one ';'),
     "reference_drug": bool | None (ReferenceDrug 1/0, None for other codes such as 2),
     "reference_drug_code": "1" (verbatim), "reference_standard": bool | None (None in the
     legacy layout, which lacks it)}

``fda_marketing_status``, id ``NDA020702/001``::

    {"appl_type", "appl_no", "product_no", "marketing_status_id": 1,
     "marketing_status": "Prescription", "marketing_status_ids": [1, 2] (a few products are
     listed both Rx and OTC; the record's id/text is the lowest), "te_codes": ["AB"] (sorted;
     None when the release has no TE table)}

``fda_submissions``, id ``NDA020702/ORIG/1`` or ``NDA020702/SUPPL/45``::

    {"appl_type", "appl_no", "submission_type": "ORIG" | "SUPPL", "submission_no": 1,
     "status": "AP" | "TA", "status_date": "1996-12-17" | None,
     "review_priority": "PRIORITY" | "STANDARD" | "UNKNOWN" | ... | None,
     "class_code": "TYPE 1" | "LABELING" | ... | None, "class_description": str | None,
     "orphan": bool (SubmissionPropertyType code "Orphan"; legacy: the application's orphan
     code, on its original submission only), "public_notes": str | None,
     "documents": [{"type": "Letter", "title": str | None, "url": str, "date": "2003-07-28"}]}

Quirks handled: rows that are not UTF-8 (a few cp1252 quotes and no-break spaces) are decoded
as cp1252 (latin-1 for its 5 unassigned bytes); a stray empty column after ``Strength`` and
trailing empty columns are dropped; ``""`` inside unquoted brand names becomes ``"``; padded
values (``'SUPPL     '``) are stripped; a ``ApplicationDocsTitle`` of ``0`` means no title.
``ActionTypes_Lookup`` is not linked to any table, so it is not read.
"""

from __future__ import annotations

import re
import zipfile
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, field
from datetime import date
from functools import partial
from pathlib import Path
from typing import IO, Any

from drugradar.sources.base import (
    JSONDict,
    Parsed,
    Record,
    Rejected,
    SourceSpec,
    date_in_name,
    open_bytes,
)

LICENCE = "public domain (FDA)"
APPL_TYPES = {"NDA": "NDA", "ANDA": "ANDA", "BLA": "BLA", "N": "NDA", "A": "ANDA", "B": "BLA"}
MARKETING_STATUS = {  # MarketingStatus_Lookup of 2019; a release's own lookup overrides it
    1: "Prescription",
    2: "Over-the-counter",
    3: "Discontinued",
    4: "None (Tentative Approval)",
}
RAW_LIMIT = 2000  # characters of a rejected row kept for the quarantine table

_APPL_NO = re.compile(r"^\d{6}$")
_PRODUCT_NO = re.compile(r"^\d{3}$")
_DATE = re.compile(r"^(\d{4})-(\d{2})-(\d{2})(?:[ T]\d{2}:\d{2}:\d{2}(?:\.\d+)?)?$")
_YEAR_MONTH = re.compile(r"(?<!\d)(\d{4})_(\d{2})(?!\d)")

# Legacy RegActionDate.DocType -> current SubmissionClassCode, for the codes whose supplements
# carry one class in the 2019 files (SLR: 25,573 LABELING of 25,907; SC*: MANUF (CMC); SE*:
# EFFICACY; SB: 215 BIOEQUIV of 318). Codes that split between classes (S, SO, ...) map to None.
_LEGACY_CLASS = {
    **dict.fromkeys(
        ("SL", "SLA", "SLI", "SLM", "SLR", "SLS", "SLX", "SPD", "SPF", "SF", "SFP", "SDS"),
        "LABELING",
    ),
    **dict.fromkeys(
        (
            *("SC", "SCA", "SCB", "SCC", "SCD", "SCE", "SCF", "SCG", "SCI", "SCM", "SCP"),
            *("SCQ", "SCR", "SCS", "SCX", "SS", "SRC"),
        ),
        "MANUF (CMC)",
    ),
    **dict.fromkeys(
        ("SE1", "SE2", "SE3", "SE4", "SE5", "SE6", "SE7", "SE8", "SED", "SEF", "SES", "SRE"),
        "EFFICACY",
    ),
    "SB": "BIOEQUIV",
}
# Descriptions of the classes the legacy mapping yields (SubmissionClass_Lookup, 2019).
_CLASS_DESCRIPTIONS = {
    "BIOEQUIV": "Bioequivalence",
    "EFFICACY": "Efficacy",
    "LABELING": "Labeling",
    "MANUF (CMC)": "Manufacturing (CMC)",
    "TYPE 1": "Type 1 - New Molecular Entity",
    "TYPE 1/4": "Type 1 - New Molecular Entity and Type 4 - New Combination",
    "TYPE 2": "Type 2 - New Active Ingredient",
    "TYPE 2/3": "Type 2 - New Active Ingredient and Type 3 - New Dosage Form",
    "TYPE 2/4": "Type 2 New Active Ingredient and Type 4 New Combination",
    "TYPE 3": "Type 3 - New Dosage Form",
    "TYPE 3/4": "Type 3 - New Dosage Form and Type 4 - New Combination",
    "TYPE 4": "Type 4 - New Combination",
    "TYPE 5": "Type 5 - New Formulation or New Manufacturer",
    "TYPE 6": "Type 6 - New Indication (no longer used)",
    "TYPE 7": "Type 7 - Drug Already Marketed without Approved NDA",
    "TYPE 8": "Type 8 - Partial Rx to OTC Switch",
    "TYPE 9": "Type 9 - New Indication Submitted as Distinct NDA, Consolidated with Original "
    "NDA after Approval",
    "TYPE 10": "Type 10 - New Indication Submitted as Distinct NDA - Not Consolidated",
}
_LEGACY_PRIORITY = {"P": "PRIORITY", "P*": "PRIORITY", "S": "STANDARD", "S*": "STANDARD"}

# Columns read from each table: our name -> the header's name (matched case-insensitively).
_COLUMNS: dict[str, dict[str, str]] = {
    "applications": {
        "appl_no": "ApplNo",
        "appl_type": "ApplType",
        "notes": "ApplPublicNotes",
        "sponsor": "SponsorName",
    },
    "application": {
        "appl_no": "ApplNo",
        "appl_type": "ApplType",
        "sponsor": "SponsorApplicant",
        "chemical_type": "Chemical_Type",
        "priority": "Ther_Potential",
        "orphan": "Orphan_Code",
    },
    "products": {
        "appl_no": "ApplNo",
        "product_no": "ProductNo",
        "form": "Form",
        "strength": "Strength",
        "reference_drug": "ReferenceDrug",
        "name": "DrugName",
        "ingredient": "ActiveIngredient",
        "reference_standard": "ReferenceStandard",
    },
    "product": {
        "appl_no": "ApplNo",
        "product_no": "ProductNo",
        "form": "Form",
        "strength": "Dosage",
        "status": "ProductMktStatus",
        "te_code": "TECode",
        "reference_drug": "ReferenceDrug",
        "name": "drugname",
        "ingredient": "activeingred",
    },
    "marketingstatus": {
        "status": "MarketingStatusID",
        "appl_no": "ApplNo",
        "product_no": "ProductNo",
    },
    "marketingstatus_lookup": {"id": "MarketingStatusID", "text": "MarketingStatusDescription"},
    "te": {"appl_no": "ApplNo", "product_no": "ProductNo", "te_code": "TECode"},
    "product_tecode": {"appl_no": "ApplNo", "product_no": "ProductNo", "te_code": "TECode"},
    "submissions": {
        "appl_no": "ApplNo",
        "class_id": "SubmissionClassCodeID",
        "type": "SubmissionType",
        "no": "SubmissionNo",
        "status": "SubmissionStatus",
        "date": "SubmissionStatusDate",
        "notes": "SubmissionsPublicNotes",
        "priority": "ReviewPriority",
    },
    "submissionclass_lookup": {
        "id": "SubmissionClassCodeID",
        "code": "SubmissionClassCode",
        "text": "SubmissionClassCodeDescription",
    },
    "submissionpropertytype": {
        "appl_no": "ApplNo",
        "type": "SubmissionType",
        "no": "SubmissionNo",
        "code": "SubmissionPropertyTypeCode",
    },
    "applicationdocs": {
        "type_id": "ApplicationDocsTypeID",
        "appl_no": "ApplNo",
        "type": "SubmissionType",
        "no": "SubmissionNo",
        "title": "ApplicationDocsTitle",
        "url": "ApplicationDocsURL",
        "date": "ApplicationDocsDate",
    },
    "applicationsdocstype_lookup": {
        "id": "ApplicationDocsType_Lookup_ID",
        "text": "ApplicationDocsType_Lookup_Description",
    },
    "regactiondate": {
        "appl_no": "ApplNo",
        "status": "ActionType",
        "seq": "InDocTypeSeqNo",
        "date": "ActionDate",
        "doc_type": "DocType",
    },
    "appdoc": {
        "appl_no": "ApplNo",
        "seq": "SeqNo",
        "type": "DocType",
        "title": "DocTitle",
        "url": "DocURL",
        "date": "DocDate",
    },
}
# Columns a table may lack (older or newer variants); the others are required.
_OPTIONAL = {"notes", "reference_standard", "chemical_type", "priority", "orphan", "title"}
# A column whose value sometimes ends in a stray tab, leaving an empty column after it.
_STRAY_TAB_AFTER = {"products": "Strength"}


class RowError(ValueError):
    """A row that cannot be read; becomes a ``Rejected`` naming its field."""

    def __init__(self, reason: str, field: str | None = None, record_id: str | None = None):
        super().__init__(reason)
        self.field = field
        self.record_id = record_id


# ---------------------------------------------------------------- reading tables


@dataclass(frozen=True, slots=True)
class Table:
    """One table of a release: where it is and how to open it (a file or a zip member)."""

    kind: str  # lower-case base name: "products", "te", "regactiondate", ...
    name: str  # shown in Rejected.file_name: "Products.txt.gz", "drugsatfda.zip/TE.txt"
    opener: Callable[[], AbstractContextManager[Iterable[bytes]]]


@dataclass(slots=True)
class Row:
    """A data row: its line, its values by our column names, the line as written."""

    line: int
    values: dict[str, str]
    text: str
    table: Table
    header: dict[str, str] = field(default_factory=dict)  # our name -> the file's column name

    def get(self, key: str) -> str:
        return self.values.get(key, "")

    def col(self, key: str) -> str:
        """The file's own name of a column, for ``Rejected.field``."""
        return self.header.get(key, key)


def _kind(file_name: str) -> str:
    name = file_name.rsplit("/", 1)[-1].lower()
    for suffix in (".gz", ".txt"):
        name = name.removesuffix(suffix)
    return name


@contextmanager
def _open_member(path: Path, member: str) -> Iterator[IO[bytes]]:
    with zipfile.ZipFile(path) as zf, zf.open(member) as fh:
        yield fh


def tables(paths: Sequence[Path]) -> dict[str, Table]:
    """Every table in ``paths`` by kind; a kind is read from the first path that holds it."""
    found: dict[str, Table] = {}
    for path in paths:
        if path.suffix.lower() == ".zip":
            with zipfile.ZipFile(path) as zf:
                members = [i.filename for i in zf.infolist() if not i.is_dir()]
            for member in members:
                t = Table(
                    _kind(member), f"{path.name}/{member}", partial(_open_member, path, member)
                )
                found.setdefault(t.kind, t)
        else:
            t = Table(_kind(path.name), path.name, partial(open_bytes, path))
            found.setdefault(t.kind, t)
    return found


def _decode(raw: bytes) -> str:
    """UTF-8, else cp1252 (FDA exports from Windows: 0x92 is a quote), else latin-1."""
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        try:
            return raw.decode("cp1252")
        except UnicodeDecodeError:
            return raw.decode("latin-1")


def _fit(cols: list[str], width: int, stray_after: int | None) -> list[str] | None:
    """The row's columns trimmed to the header's width, or None when that is not possible."""
    while len(cols) > width and not cols[-1].strip():
        cols = cols[:-1]
    if (
        len(cols) == width + 1
        and stray_after is not None
        and stray_after + 1 < len(cols)
        and not cols[stray_after + 1].strip()
    ):
        cols = cols[: stray_after + 1] + cols[stray_after + 2 :]
    return cols if len(cols) == width else None


def read_table(table: Table) -> Iterator[Row | Rejected]:
    """The table's rows with the columns of ``_COLUMNS[table.kind]``; bad rows as Rejected."""
    wanted = _COLUMNS[table.kind]
    header: list[str] | None = None
    index: dict[str, int] = {}
    stray_after: int | None = None
    with table.opener() as fh:
        for n, raw in enumerate(fh, start=1):
            text = _decode(raw.rstrip(b"\r\n"))
            if header is None:
                header = [c.strip().lower() for c in text.lstrip("\ufeff").split("\t")]
                for key, col in wanted.items():
                    if col.lower() in header:
                        index[key] = header.index(col.lower())
                    elif key not in _OPTIONAL:
                        yield Rejected(
                            table.name, n, f"header has no {col} column", field=col, raw=text
                        )
                        return
                stray = _STRAY_TAB_AFTER.get(table.kind)
                if stray and stray.lower() in header:
                    stray_after = header.index(stray.lower())
                continue
            if not text.strip():
                continue
            cols = _fit(text.split("\t"), len(header), stray_after)
            if cols is None:
                yield Rejected(
                    table.name,
                    n,
                    f"expected {len(header)} tab-separated columns, "
                    f"found {len(text.split(chr(9)))}",
                    raw=text[:RAW_LIMIT],
                )
                continue
            values = {key: cols[i].strip() for key, i in index.items()}
            names = {key: wanted[key] for key in index}
            yield Row(n, values, text, table, names)


def _reject(row: Row, err: RowError) -> Rejected:
    return Rejected(
        row.table.name,
        row.line,
        str(err),
        field=err.field,
        record_id=err.record_id,
        raw=row.text[:RAW_LIMIT],
    )


def _rows(table: Table, handle: Callable[[Row], None], bad: list[Rejected] | None = None) -> None:
    """Feed each good row of ``table`` to ``handle``; collect Rejected (or drop them)."""
    for item in read_table(table):
        if isinstance(item, Rejected):
            if bad is not None:
                bad.append(item)
            continue
        try:
            handle(item)
        except RowError as err:
            if bad is not None:
                bad.append(_reject(item, err))


# ---------------------------------------------------------------- field checks


def _appl_no(row: Row) -> str:
    value = row.get("appl_no")
    if not _APPL_NO.match(value):
        raise RowError(f"malformed ApplNo {value!r} (want 6 digits)", field=row.col("appl_no"))
    return value


def _product_no(row: Row, record_id: str) -> str:
    """3 digits. Not padded: Nexium 24HR's '01' row (2016, 2018) sits beside a real '001'."""
    value = row.get("product_no")
    if not _PRODUCT_NO.match(value):
        raise RowError(
            f"malformed ProductNo {value!r} (want 3 digits)",
            field=row.col("product_no"),
            record_id=record_id,
        )
    return value


def iso_date(value: str) -> str | None:
    """``'2019-07-02 00:00:00'`` -> ``'2019-07-02'``; '' -> None; ValueError when malformed."""
    if not value:
        return None
    m = _DATE.match(value)
    if not m:
        raise ValueError(value)
    return date(int(m.group(1)), int(m.group(2)), int(m.group(3))).isoformat()


def _date(row: Row, key: str, record_id: str | None = None) -> str | None:
    try:
        return iso_date(row.get(key))
    except ValueError:
        raise RowError(
            f"malformed date {row.get(key)!r} in {row.col(key)}",
            field=row.col(key),
            record_id=record_id,
        ) from None


def _int(row: Row, key: str, record_id: str | None = None) -> int:
    value = row.get(key)
    if not value.isdigit():
        raise RowError(
            f"{row.col(key)} {value!r} is not a whole number",
            field=row.col(key),
            record_id=record_id,
        )
    return int(value)


def _appl_types(found: Mapping[str, Table]) -> dict[str, str] | None:
    """ApplNo -> NDA/ANDA/BLA from the release's application table (bad rows skipped)."""
    table = found.get("applications") or found.get("application")
    if table is None:
        return None
    types: dict[str, str] = {}
    for item in read_table(table):
        if isinstance(item, Row) and item.get("appl_type") in APPL_TYPES:
            types.setdefault(item.get("appl_no"), APPL_TYPES[item.get("appl_type")])
    return types


def _no_applications(table: Table) -> Rejected:
    return Rejected(
        table.name,
        None,
        "the release has no Applications table, so no application type (NDA/ANDA/BLA) is known",
        field="ApplType",
    )


def _typed_appl(row: Row, types: Mapping[str, str]) -> tuple[str, str]:
    """``(appl_type, appl_no)`` of a row that names an application."""
    appl_no = _appl_no(row)
    if appl_no not in types:
        raise RowError(
            f"ApplNo {appl_no} is not in the release's Applications table, so its type is unknown",
            field=row.col("appl_no"),
            record_id=appl_no,
        )
    return types[appl_no], appl_no


def _first_line(seen: dict[str, int], record_id: str, row: Row) -> None:
    """Reject a second row for the same record id (no such duplicates in the real files)."""
    if record_id in seen:
        raise RowError(
            f"duplicate {record_id}: already given on line {seen[record_id]}",
            field=row.col("appl_no"),
            record_id=record_id,
        )
    seen[record_id] = row.line


# ---------------------------------------------------------------- applications


def parse_applications(paths: Sequence[Path]) -> Iterator[Parsed]:
    """One record per application (``Applications.txt`` or legacy ``application.txt``)."""
    found = tables(paths)
    table = found.get("applications") or found.get("application")
    if table is None:
        return
    records: list[Record] = []
    bad: list[Rejected] = []
    seen: dict[str, int] = {}

    def handle(row: Row) -> None:
        appl_no = _appl_no(row)
        appl_type = APPL_TYPES.get(row.get("appl_type"))
        if appl_type is None:
            raise RowError(
                f"unknown ApplType {row.get('appl_type')!r}",
                field=row.col("appl_type"),
                record_id=appl_no,
            )
        rid = f"{appl_type}{appl_no}"
        _first_line(seen, rid, row)
        data = {
            "appl_type": appl_type,
            "appl_no": appl_no,
            "sponsor": row.get("sponsor") or None,
            "public_notes": row.get("notes") or None,
        }
        records.append(Record(rid, data, raw=row.text))

    _rows(table, handle, bad)
    yield from bad
    yield from records


# ---------------------------------------------------------------- products


def split_ingredients(value: str) -> list[str]:
    """``'A; B (C;D)'`` -> ``['A', 'B (C;D)']``: ';' separates, except inside parentheses."""
    parts: list[str] = []
    depth, start = 0, 0
    for i, ch in enumerate(value):
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth = max(depth - 1, 0)
        elif ch == ";" and depth == 0:
            parts.append(value[start:i])
            start = i + 1
    parts.append(value[start:])
    return sorted({p.strip() for p in parts if p.strip()})


def split_form(value: str) -> tuple[str | None, str | None]:
    """``'TABLET;ORAL'`` -> ``('TABLET', 'ORAL')``; no or several ';' -> ``(value, None)``."""
    if value.count(";") != 1:
        return (value or None), None
    form, route = (p.strip().upper() for p in value.split(";"))
    return form or None, route or None


def _flag(value: str) -> bool | None:
    return {"1": True, "0": False}.get(value)


def parse_products(paths: Sequence[Path]) -> Iterator[Parsed]:
    """One record per product (``Products.txt`` or legacy ``Product.txt``)."""
    found = tables(paths)
    table = found.get("products") or found.get("product")
    if table is None:
        return
    types = _appl_types(found)
    if types is None:
        yield _no_applications(table)
        return
    legacy = table.kind == "product"
    records: dict[str, Record] = {}
    bad: list[Rejected] = []
    lines: dict[str, int] = {}

    def handle(row: Row) -> None:
        appl_type, appl_no = _typed_appl(row, types)
        product_no = _product_no(row, f"{appl_type}{appl_no}")
        rid = f"{appl_type}{appl_no}/{product_no}"
        dosage_form, route = split_form(row.get("form"))
        ingredient = row.get("ingredient")
        data = {
            "appl_type": appl_type,
            "appl_no": appl_no,
            "product_no": product_no,
            "brand_name": row.get("name").replace('""', '"') or None,
            "active_ingredient": ingredient or None,
            "active_ingredients": split_ingredients(ingredient),
            "strength": row.get("strength") or None,
            "form": row.get("form") or None,
            "dosage_form": dosage_form,
            "route": route,
            "reference_drug": _flag(row.get("reference_drug")),
            "reference_drug_code": row.get("reference_drug") or None,
            "reference_standard": None if legacy else _flag(row.get("reference_standard")),
        }
        if rid in records:  # legacy: one row per marketing status (Plan B is Rx and OTC)
            if records[rid].data == data:
                return
            raise RowError(
                f"duplicate {rid} with different values: already given on line {lines[rid]}",
                field=row.col("product_no"),
                record_id=rid,
            )
        records[rid] = Record(rid, data, raw=row.text)
        lines[rid] = row.line

    _rows(table, handle, bad)
    yield from bad
    yield from records.values()


# ---------------------------------------------------------------- marketing status


def _status_texts(found: Mapping[str, Table]) -> dict[int, str]:
    texts = dict(MARKETING_STATUS)
    table = found.get("marketingstatus_lookup")
    if table is not None:
        for item in read_table(table):
            if isinstance(item, Row) and item.get("id").isdigit() and item.get("text"):
                texts[int(item.get("id"))] = item.get("text")
    return texts


def _te_codes(
    table: Table | None, types: Mapping[str, str], bad: list[Rejected]
) -> tuple[dict[str, set[str]], dict[str, Row]]:
    """TE codes by product id, and one row of each (to reject codes of unlisted products)."""
    codes: dict[str, set[str]] = defaultdict(set)
    rows: dict[str, Row] = {}
    if table is None:
        return codes, rows

    def handle(row: Row) -> None:
        appl_type, appl_no = _typed_appl(row, types)
        rid = f"{appl_type}{appl_no}/{_product_no(row, f'{appl_type}{appl_no}')}"
        code = row.get("te_code")  # empty in a few rows: the product has no TE code
        codes[rid].update(c.strip() for c in code.split(",") if c.strip())
        rows.setdefault(rid, row)

    _rows(table, handle, bad)
    return codes, rows


def parse_marketing_status(paths: Sequence[Path]) -> Iterator[Parsed]:
    """One record per product: marketing status (id, text) and TE codes."""
    found = tables(paths)
    table = found.get("marketingstatus") or found.get("product")
    if table is None:
        return
    types = _appl_types(found)
    if types is None:
        yield _no_applications(table)
        return
    texts = _status_texts(found)
    bad: list[Rejected] = []
    te_table = found.get("te") or found.get("product_tecode")
    te, te_rows = _te_codes(te_table, types, bad)
    legacy_te = table.kind == "product" and te_table is None
    statuses: dict[str, set[int]] = defaultdict(set)
    first: dict[str, Row] = {}
    raws: dict[str, list[str]] = defaultdict(list)

    def handle(row: Row) -> None:
        appl_type, appl_no = _typed_appl(row, types)
        rid = f"{appl_type}{appl_no}/{_product_no(row, f'{appl_type}{appl_no}')}"
        status = _int(row, "status", rid)
        if status not in texts:
            raise RowError(
                f"unknown {row.col('status')} {status} (not in MarketingStatus_Lookup)",
                field=row.col("status"),
                record_id=rid,
            )
        statuses[rid].add(status)
        first.setdefault(rid, row)
        raws[rid].append(row.text)
        if legacy_te and row.get("te_code"):  # legacy Product.txt: TE code(s) inline
            te[rid].update(c.strip() for c in row.get("te_code").split(",") if c.strip())

    _rows(table, handle, bad)
    has_te = te_table is not None or legacy_te
    for rid, row in te_rows.items():
        if rid not in statuses:
            bad.append(
                _reject(
                    row,
                    RowError(
                        f"TE code for {rid}, a product the marketing status table does not list",
                        field=row.col("product_no"),
                        record_id=rid,
                    ),
                )
            )
    yield from bad
    for rid, ids in statuses.items():
        row = first[rid]
        lowest = min(ids)
        data: JSONDict = {
            "appl_type": types[row.get("appl_no")],
            "appl_no": row.get("appl_no"),
            "product_no": rid.rsplit("/", 1)[1],
            "marketing_status_id": lowest,
            "marketing_status": texts[lowest],
            "marketing_status_ids": sorted(ids),
            "te_codes": sorted(te.get(rid, ())) if has_te else None,
        }
        yield Record(rid, data, raw="\n".join(raws[rid]))


# ---------------------------------------------------------------- submissions


@dataclass(slots=True)
class _Submission:
    data: JSONDict
    raw: str
    documents: set[tuple[str, str, str, str]] = field(default_factory=set)


def _submission_id(appl_type: str, appl_no: str, kind: str, number: int) -> str:
    return f"{appl_type}{appl_no}/{kind}/{number}"


def _documents(docs: set[tuple[str, str, str, str]]) -> list[JSONDict]:
    """Sorted by date, type, url, title ('' sorts first for a missing date/title)."""
    return [
        {"type": t or None, "title": title or None, "url": url or None, "date": d or None}
        for d, t, url, title in sorted(docs)
    ]


def _lookup(table: Table | None, value_keys: tuple[str, ...]) -> dict[str, tuple[str, ...]]:
    out: dict[str, tuple[str, ...]] = {}
    if table is not None:
        for item in read_table(table):
            if isinstance(item, Row) and item.get("id"):
                out[item.get("id")] = tuple(item.get(k) for k in value_keys)
    return out


def _current_submissions(
    found: Mapping[str, Table], types: Mapping[str, str], bad: list[Rejected]
) -> dict[tuple[str, str, int], _Submission]:
    """Submissions keyed by (ApplNo, ORIG/SUPPL, number), from the current layout."""
    classes = _lookup(found.get("submissionclass_lookup"), ("code", "text"))
    orphans: set[tuple[str, str, int]] = set()
    props = found.get("submissionpropertytype")
    if props is not None:
        for item in read_table(props):
            if (
                isinstance(item, Row)
                and item.get("code").lower() == "orphan"
                and item.get("no").isdigit()
            ):
                orphans.add((item.get("appl_no"), item.get("type").upper(), int(item.get("no"))))
    subs: dict[tuple[str, str, int], _Submission] = {}
    seen: dict[str, int] = {}

    def handle(row: Row) -> None:
        appl_type, appl_no = _typed_appl(row, types)
        kind = row.get("type").upper()
        if kind not in ("ORIG", "SUPPL"):
            raise RowError(
                f"unknown SubmissionType {row.get('type')!r}",
                field=row.col("type"),
                record_id=f"{appl_type}{appl_no}",
            )
        number = _int(row, "no", f"{appl_type}{appl_no}")
        rid = _submission_id(appl_type, appl_no, kind, number)
        _first_line(seen, rid, row)
        if not row.get("status"):
            raise RowError("empty SubmissionStatus", field=row.col("status"), record_id=rid)
        class_code = class_text = None
        if row.get("class_id"):
            if row.get("class_id") not in classes:
                raise RowError(
                    f"unknown SubmissionClassCodeID {row.get('class_id')!r} "
                    "(not in SubmissionClass_Lookup)",
                    field=row.col("class_id"),
                    record_id=rid,
                )
            class_code, class_text = classes[row.get("class_id")]
        data: JSONDict = {
            "appl_type": appl_type,
            "appl_no": appl_no,
            "submission_type": kind,
            "submission_no": number,
            "status": row.get("status"),
            "status_date": _date(row, "date", rid),
            "review_priority": row.get("priority") or None,
            "class_code": class_code or None,
            "class_description": class_text or None,
            "orphan": (appl_no, kind, number) in orphans,
            "public_notes": row.get("notes") or None,
        }
        subs[(appl_no, kind, number)] = _Submission(data, row.text)

    _rows(found["submissions"], handle, bad)
    doc_types = _lookup(found.get("applicationsdocstype_lookup"), ("text",))
    docs = found.get("applicationdocs")
    if docs is not None:

        def handle_doc(row: Row) -> None:
            appl_no = _appl_no(row)
            kind, number = row.get("type").upper(), _int(row, "no", appl_no)
            sub = subs.get((appl_no, kind, number))
            if sub is None:
                raise RowError(
                    f"document of submission {appl_no} {kind} {number}, "
                    "which the Submissions table does not list",
                    field=row.col("no"),
                    record_id=appl_no,
                )
            doc_type = doc_types.get(row.get("type_id"), (row.get("type_id"),))[0]
            title = "" if row.get("title") == "0" else row.get("title")
            day = _date(row, "date", appl_no) or ""
            sub.documents.add((day, doc_type, row.get("url"), title))

        _rows(docs, handle_doc, bad)
    return subs


def _chemical_class(code: str) -> str | None:
    """Legacy ``Chemical_Type`` -> SubmissionClassCode: '3' -> 'TYPE 3', '14' -> 'TYPE 1/4'."""
    if not code.isdigit():
        return None
    if len(code) == 2 and code != "10":
        return f"TYPE {code[0]}/{code[1]}"
    return f"TYPE {code}"


def _legacy_submissions(
    found: Mapping[str, Table], types: Mapping[str, str], bad: list[Rejected]
) -> dict[tuple[str, str, int], _Submission]:
    """Submissions from legacy ``RegActionDate`` (one row per action) and ``application``."""
    apps: dict[str, Row] = {}
    for item in read_table(found["application"]):
        if isinstance(item, Row):
            apps.setdefault(item.get("appl_no"), item)
    actions: dict[tuple[str, str, int], list[tuple[Row, str | None]]] = defaultdict(list)

    def handle(row: Row) -> None:
        appl_type, appl_no = _typed_appl(row, types)
        seq = _int(row, "seq", f"{appl_type}{appl_no}")
        kind, number = ("ORIG", 1) if seq == 0 else ("SUPPL", seq)
        rid = _submission_id(appl_type, appl_no, kind, number)
        if not row.get("status"):
            raise RowError("empty ActionType", field=row.col("status"), record_id=rid)
        actions[(appl_no, kind, number)].append((row, _date(row, "date", rid)))

    _rows(found["regactiondate"], handle, bad)
    subs: dict[tuple[str, str, int], _Submission] = {}
    for (appl_no, kind, number), acts in actions.items():
        # Several actions on one submission (a TA then an AP, a resubmission): the status is
        # AP if any action approved it, dated by the latest such action.
        approved = [a for a in acts if a[0].get("status") == "AP"] or acts
        row, day = max(approved, key=lambda a: (a[1] or "", a[0].line))
        app = apps.get(appl_no)
        if kind == "ORIG":
            class_code = _chemical_class(app.get("chemical_type")) if app else None
            priority = _LEGACY_PRIORITY.get(app.get("priority")) if app else None
            orphan = bool(app and app.get("orphan") == "V")
        else:
            class_code = _LEGACY_CLASS.get(row.get("doc_type"))
            priority, orphan = None, False
        data: JSONDict = {
            "appl_type": types[appl_no],
            "appl_no": appl_no,
            "submission_type": kind,
            "submission_no": number,
            "status": row.get("status"),
            "status_date": day,
            "review_priority": priority,
            "class_code": class_code,
            "class_description": _CLASS_DESCRIPTIONS.get(class_code or ""),
            "orphan": orphan,
            "public_notes": None,
        }
        raw = "\n".join(a[0].text for a in sorted(acts, key=lambda a: a[0].line))
        subs[(appl_no, kind, number)] = _Submission(data, raw)
    docs = found.get("appdoc")
    if docs is not None:

        def handle_doc(row: Row) -> None:
            appl_no = _appl_no(row)
            seq = _int(row, "seq", appl_no)
            key = (appl_no, "ORIG", 1) if seq == 0 else (appl_no, "SUPPL", seq)
            sub = subs.get(key)
            if sub is None:
                raise RowError(
                    f"document of submission {appl_no} {key[1]} {key[2]}, "
                    "which the RegActionDate table does not list",
                    field=row.col("seq"),
                    record_id=appl_no,
                )
            day = _date(row, "date", appl_no) or ""
            sub.documents.add((day, row.get("type"), row.get("url"), row.get("title")))

        _rows(docs, handle_doc, bad)
    return subs


def parse_submissions(paths: Sequence[Path]) -> Iterator[Parsed]:
    """One record per submission (original application or supplement) with its documents."""
    found = tables(paths)
    table = found.get("submissions") or found.get("regactiondate")
    if table is None:
        return
    types = _appl_types(found)
    if types is None:
        yield _no_applications(table)
        return
    bad: list[Rejected] = []
    if table.kind == "submissions":
        subs = _current_submissions(found, types, bad)
    else:
        subs = _legacy_submissions(found, types, bad)
    yield from bad
    for sub in subs.values():
        d = sub.data
        rid = _submission_id(d["appl_type"], d["appl_no"], d["submission_type"], d["submission_no"])
        yield Record(rid, {**d, "documents": _documents(sub.documents)}, raw=sub.raw)


# ---------------------------------------------------------------- specs and releases

APPLICATIONS = SourceSpec(
    name="fda_applications",
    licence=LICENCE,
    title="Drugs@FDA applications",
    parse=parse_applications,
)
PRODUCTS = SourceSpec(
    name="fda_products",
    licence=LICENCE,
    title="Drugs@FDA products",
    parse=parse_products,
)
MARKETING_STATUS_SPEC = SourceSpec(
    name="fda_marketing_status",
    licence=LICENCE,
    title="Drugs@FDA marketing status and therapeutic equivalence codes",
    parse=parse_marketing_status,
)
SUBMISSIONS = SourceSpec(
    name="fda_submissions",
    licence=LICENCE,
    title="Drugs@FDA submissions and their documents",
    parse=parse_submissions,
)
SPECS = (APPLICATIONS, PRODUCTS, MARKETING_STATUS_SPEC, SUBMISSIONS)


def folder_date(name: str) -> date | None:
    """``'2019-07_full'`` -> 2019-07-01; ``'2016_08'`` (year_month) -> 2016-08-01."""
    found = date_in_name(name)
    if found:
        return found
    m = _YEAR_MONTH.search(name)
    if m and 1 <= int(m.group(2)) <= 12:
        return date(int(m.group(1)), int(m.group(2)), 1)
    return None


def _release_kinds(found: Mapping[str, Any]) -> list[SourceSpec]:
    """The sources a release folder can feed, given the table kinds it holds.

    Marketing status needs a TE table too: a release without one (2024-01) would show every
    product's TE codes as removed, then re-added by the next release.
    """
    specs: list[SourceSpec] = []
    if "applications" in found or "application" in found:
        specs.append(APPLICATIONS)
    if "products" in found or "product" in found:
        specs.append(PRODUCTS)
    if ("marketingstatus" in found and "te" in found) or "product" in found:
        specs.append(MARKETING_STATUS_SPEC)
    if "submissions" in found or "regactiondate" in found:
        specs.append(SUBMISSIONS)
    return specs


def releases(folder: Path) -> list[tuple[SourceSpec, str, tuple[Path, ...], date]]:
    """Every (source, folder name, files, date) under a Drugs@FDA folder, oldest first.

    A folder with products but no Applications table (``2018-07_products_only``) also gets
    the Applications table of the nearest dated folder that has one (after its own files, so
    only that table is taken from it): an application number keeps its number, and nearly
    always its type, across releases; products whose number it lacks are rejected.
    """
    dated: list[tuple[date, Path, tuple[Path, ...], dict[str, Table]]] = []
    for sub in sorted(p for p in folder.iterdir() if p.is_dir()):
        day = folder_date(sub.name)
        files = tuple(
            sorted(p for p in sub.iterdir() if p.is_file() and p.name.upper() != "SOURCE")
        )
        if day is None or not files:
            continue
        dated.append((day, sub, files, tables(files)))
    dated.sort(key=lambda d: (d[0], d[1].name))
    with_apps = [d for d in dated if "applications" in d[3] or "application" in d[3]]
    out: list[tuple[SourceSpec, str, tuple[Path, ...], date]] = []
    for day, sub, files, found in dated:
        for spec in _release_kinds(found):
            paths = files
            if spec is PRODUCTS and not ("applications" in found or "application" in found):
                if not with_apps:
                    continue
                near = min(with_apps, key=lambda d: (abs((d[0] - day).days), d[1].name))
                paths = files + near[2]
            out.append((spec, sub.name, paths, day))
    order = {s.name: i for i, s in enumerate(SPECS)}
    return sorted(out, key=lambda r: (r[3], order[r[0].name], r[1]))
