"""EMA medicines (EPAR table): every centrally authorised, refused or withdrawn medicine.

One table, two layouts, one ``ema_medicines`` source:

- the old EPAR export ``Medicines_output_european_public_assessment_reports.xlsx`` (sheet
  "Worksheet 1", 8 title rows, then 30 columns: ``Product number``, ``Authorisation status``,
  ``Condition / indication``, yes/no flag columns, dates as Excel datetimes in UTC (2019) or
  ``dd/mm/yyyy`` text (2018), therapeutic areas joined with ``", "``);
- EMA's current download ``medicines_output_medicines_en.csv`` (39 columns: ``EMA product
  number``, ``Medicine status``, ``Therapeutic indication``, more flags such as ``Advanced
  therapy`` and ``PRIME``, withdrawal/suspension dates, ``;``-separated lists).

Other files found beside them (the 2019 EPAR ``.csv`` and ``epar.csv``, and the workbook's
"Sheet1") are someone's derived year/indication extracts with no product number: not read.
Live download: https://www.ema.europa.eu/en/medicines/download-medicine-data (Medicines, EPAR).

``record_id`` is the EMA product number (``EMEA/H/C/000481``), the same in every release; a row
without one falls back to its page address path (``url:human/EPAR/humira``). Human and
veterinary medicines are both kept; ``category`` tells them apart.

``data`` (every key in every record; ``None`` when the release's table lacks the column, so a
missing column never reads as a change to "no"):

- ``product_number``, ``name`` (medicine name), ``category`` (``human``/``veterinary``),
  ``url``
- ``status``: normalised (``authorised``, ``withdrawn``, ``application_withdrawn``, ``refused``,
  ``opinion`` (CHMP opinion, awaiting the EC decision), ``lapsed``, ``expired``, ``revoked``,
  ``suspended``, ``not_renewed``, ``rolling_review_withdrawn``, ...); ``status_raw`` verbatim;
  ``opinion_status`` (``Positive``/``Negative``, current layout only)
- ``inn`` verbatim, ``inns`` sorted list (split on ``;`` and ``" / "``), ``active_substance``
- ``therapeutic_area``: sorted list of MeSH headings; ``therapeutic_area_raw`` verbatim. The old
  export joins headings with ``", "`` though headings hold commas ("Arthritis, Psoriatic"), so
  there the list is rebuilt by re-attaching MeSH inverted-heading qualifiers (best effort).
- ``indication`` (condition / therapeutic indication, whitespace collapsed)
- ``atc_code`` verbatim, ``atc_codes`` sorted list of the codes in it, ``atcvet_code``,
  ``pharmacotherapeutic_group``, ``vet_pharmacotherapeutic_group``, ``species`` (verbatim)
- ``holder`` (marketing authorisation holder / applicant, verbatim), ``latest_procedure``
- ``revision_number`` (int)
- dates (ISO): ``authorisation_date`` (marketing authorisation), ``decision_date`` (latest EC
  decision), ``opinion_date``, ``refusal_date``, ``withdrawal_date`` (withdrawal / expiry /
  revocation / lapse of the authorisation), ``application_withdrawal_date``,
  ``suspension_date``, ``rolling_review_start_date``, ``evaluation_start_date``,
  ``first_published``, ``last_updated`` (the page's revision date)
- flags (bool): ``orphan``, ``atmp`` (advanced therapy), ``conditional``,
  ``exceptional_circumstances``, ``accelerated_assessment``, ``biosimilar``, ``generic`` (from
  2025 the column is "Generic or hybrid"), ``additional_monitoring``, ``patient_safety``,
  ``prime``

A date or flag that cannot be read is ``None`` and kept verbatim under ``<key>_raw`` (that key
exists only then). A row without product number and URL, or without a name, is rejected; so is
a second row with the same product number.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from pathlib import Path

from drugradar.sources.base import JSONDict, Parsed, Record, Rejected, SourceSpec
from drugradar.sources.ema_common import (
    Row,
    long_text,
    put_date,
    put_flag,
    read_table,
    slug,
    split_list,
    text,
    url_id,
)

PRODUCT_NUMBER = ("ema product number", "product number")
NAME = ("name of medicine", "medicine name")
REQUIRED = (("category",), PRODUCT_NUMBER, NAME)

TEXT_COLUMNS = {
    "inn": ("international non-proprietary name (inn) / common name",),
    "active_substance": ("active substance",),
    "opinion_status": ("opinion status",),
    "latest_procedure": ("latest procedure affecting product information",),
    "atc_code": ("atc code (human)", "atc code"),
    "atcvet_code": ("atcvet code (veterinary)", "atcvet code"),
    "species": ("species (veterinary)", "species"),
    "holder": (
        "marketing authorisation developer / applicant / holder",
        "marketing authorisation holder/company name",
    ),
}
GROUP_COLUMNS = {
    "pharmacotherapeutic_group": (
        "pharmacotherapeutic group (human)",
        "human pharmacotherapeutic group",
    ),
    "vet_pharmacotherapeutic_group": (
        "pharmacotherapeutic group (veterinary)",
        "vet pharmacotherapeutic group",
    ),
}
DATE_COLUMNS = {
    "authorisation_date": ("marketing authorisation date",),
    "decision_date": ("european commission decision date", "decision date"),
    "opinion_date": ("opinion adopted date", "date of opinion"),
    "refusal_date": (
        "refusal of marketing authorisation date",
        "date of refusal of marketing authorisation",
    ),
    "withdrawal_date": (
        "withdrawal / expiry / revocation / lapse of marketing authorisation date",
    ),
    "application_withdrawal_date": ("withdrawal of application date",),
    "suspension_date": ("suspension of marketing authorisation date",),
    "rolling_review_start_date": ("start of rolling review date",),
    "evaluation_start_date": ("start of evaluation date",),
    "first_published": ("first published date", "first published"),
    "last_updated": ("last updated date", "revision date"),
}
FLAG_COLUMNS = {
    "orphan": ("orphan medicine",),
    "atmp": ("advanced therapy",),
    "conditional": ("conditional approval",),
    "exceptional_circumstances": ("exceptional circumstances",),
    "accelerated_assessment": ("accelerated assessment",),
    "biosimilar": ("biosimilar",),
    "generic": ("generic or hybrid", "generic"),
    "additional_monitoring": ("additional monitoring",),
    "patient_safety": ("patient safety",),
    "prime": ("prime: priority medicine",),
}

STATUS = {
    "authorised": "authorised",
    "withdrawn": "withdrawn",
    "application withdrawn": "application_withdrawn",
    "refused": "refused",
    "opinion": "opinion",
    "opinion under re-examination": "opinion_under_re_examination",
    "lapsed": "lapsed",
    "expired": "expired",
    "revoked": "revoked",
    "suspended": "suspended",
    "not renewed": "not_renewed",
    "withdrawn from rolling review": "rolling_review_withdrawn",
}

_PRODUCT_NUMBER = re.compile(r"^[A-Z]{2,5}/[A-Z]/C/\d+$")
_INN_SEP = r"\s*;\s*|\s+/\s+"
_ATC_SEP = r"[\s,;]+"
_ATC = re.compile(r"^(?=.*\d)[A-Z0-9]{3,8}$")  # a code, not the words of "Not yet assigned"


def parse(paths: Sequence[Path]) -> Iterator[Parsed]:
    """One ``Record`` per medicine (product number) of the EPAR table, in either layout."""
    for path in paths:
        seen: dict[str, int] = {}
        for row in read_table(path, REQUIRED):
            if isinstance(row, Rejected):
                yield row
                continue
            item = _medicine(row)
            if isinstance(item, Record):
                if item.record_id in seen:
                    yield Rejected(
                        row.file_name,
                        row.line,
                        f"duplicate product number {item.record_id}, first on line "
                        f"{seen[item.record_id]}",
                        field=row.label(*PRODUCT_NUMBER),
                        record_id=item.record_id,
                        raw=row.raw,
                    )
                    continue
                seen[item.record_id] = row.line
            yield item


def _medicine(row: Row) -> Parsed:
    number = text(row.get(*PRODUCT_NUMBER))
    url = text(row.get("medicine url", "url"))
    name = text(row.get(*NAME))
    if number is not None:
        number = " ".join(number.split())
        if not _PRODUCT_NUMBER.match(number):
            return _reject(row, f"malformed product number {number!r}", PRODUCT_NUMBER)
        record_id = number
    else:
        page = url_id(url)
        if page is None:
            return _reject(row, "no product number and no URL to identify it", PRODUCT_NUMBER)
        record_id = f"url:{page}"
    if name is None:
        return _reject(row, "empty medicine name", NAME, record_id)
    return Record(record_id, _data(row, number, name, url), raw=row.raw)


def _reject(
    row: Row, reason: str, column: tuple[str, ...], record_id: str | None = None
) -> Rejected:
    field = row.label(*column)
    return Rejected(row.file_name, row.line, reason, field=field, record_id=record_id, raw=row.raw)


def _data(row: Row, number: str | None, name: str, url: str | None) -> JSONDict:
    status = text(row.get("medicine status", "authorisation status"))
    category = text(row.get("category"))
    data: JSONDict = {
        "product_number": number,
        "name": name,
        "category": slug(category),
        "url": url,
        "status": STATUS.get(status.lower(), slug(status)) if status else None,
        "status_raw": status,
    }
    for key, names in TEXT_COLUMNS.items():
        data[key] = text(row.get(*names))
    for key, names in GROUP_COLUMNS.items():
        data[key] = text(row.get(*names), trailing_comma=True)
    data["inns"] = split_list(data["inn"], _INN_SEP)
    data["atc_codes"] = [c for c in split_list(data["atc_code"], _ATC_SEP) if _ATC.match(c)]
    data["indication"] = long_text(row.get("therapeutic indication", "condition / indication"))
    area = text(row.get("therapeutic area (mesh)", "therapeutic area"), trailing_comma=True)
    data["therapeutic_area_raw"] = area
    if row.has("therapeutic area (mesh)"):
        data["therapeutic_area"] = split_list(area)
    else:
        data["therapeutic_area"] = sorted(set(split_mesh_headings(area)))
    _put_revision(data, row)
    for key, names in DATE_COLUMNS.items():
        put_date(data, key, row, *names)
    for key, names in FLAG_COLUMNS.items():
        put_flag(data, key, row, *names)
    return data


def _put_revision(data: JSONDict, row: Row) -> None:
    value = row.get("revision number")
    s = text(value)
    if isinstance(value, int | float) and float(value).is_integer():
        data["revision_number"] = int(value)
    elif s is not None and s.isdigit():
        data["revision_number"] = int(s)
    else:
        data["revision_number"] = None
        if s is not None:
            data["revision_number_raw"] = s


# MeSH inverted headings ("Leukemia, Myeloid, Acute") put qualifiers after commas. The old EPAR
# export joins several headings with ", " too, so a part is re-attached to the heading before it
# when it is such a qualifier: an adjective-like single word, "... Cell", "Type 2", or one of the
# qualifiers below (those of EMA's 2025 MeSH list that the first two rules miss).
MESH_QUALIFIERS = frozenset(
    {
        "Acute", "Adult", "Ankylosing", "Autoimmune", "Autosomal Dominant", "BCR-ABL Positive",
        "Bone", "Bone Tissue", "Cartilage", "Castration-Resistant",
        "Chronic Inflammatory Demyelinating", "Chronic Obstructive", "Circadian Rhythm",
        "Diffuse", "Duchenne", "Ebola", "Emission-Computed", "Endocrine", "Familial Partial",
        "Familial Periodic", "Female", "Gouty", "H5N8 Subtype", "Haemophilus", "Human", "IGA",
        "Inborn", "Inborn Errors", "Iron-Deficiency", "Japanese", "Juvenile Rheumatoid",
        "Kaposi", "Leber", "Major", "Marginal Zone", "Multidrug-Resistant", "Nervous System",
        "Newborn", "Non-Hodgkin", "Non-Small-Cell Lung", "Open-Angle", "Pigmented Villonodular",
        "Premature", "Relapsing-Remitting", "Renal Tubular", "Replacement", "Single-Photon",
        "Stress", "Thrombotic Thrombocytopenic", "Unstable", "Urge", "Ventilator-Associated",
        "X-Linked Dominant", "X-Ray Computed",
    }
)  # fmt: skip
_ADJECTIVE = re.compile(r"^[A-Z][a-z-]*(ic|al|ed|ive|ous|ary|ile|oid|ant|ent|ial|ar|ian|tic)$")
_QUALIFIER = re.compile(r"^(.*\bCell|[A-Z]-Cell|Type \w+)$")


def _is_qualifier(part: str) -> bool:
    if part in MESH_QUALIFIERS or _QUALIFIER.match(part):
        return True
    return bool(_ADJECTIVE.match(part)) and not part.endswith("ment")


def split_mesh_headings(value: str | None) -> list[str]:
    """``"Arthritis, Psoriatic, Psoriasis, Diabetes Mellitus, Type 2"`` ->
    ``["Arthritis, Psoriatic", "Psoriasis", "Diabetes Mellitus, Type 2"]``."""
    out: list[str] = []
    for part in (value or "").split(","):
        part = part.strip()
        if not part:
            continue
        if out and _is_qualifier(part):
            out[-1] = f"{out[-1]}, {part}"
        else:
            out.append(part)
    return out


SPEC = SourceSpec(
    name="ema_medicines",
    licence="EMA data; reuse with acknowledgement of EMA as the source",
    title="EMA medicines (European public assessment reports)",
    parse=parse,
)
