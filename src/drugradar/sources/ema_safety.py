"""EMA safety and supply tables: DHPCs, referrals, PSUSA outcomes, shortages.

Four of EMA's downloads (https://www.ema.europa.eu/en/medicines/download-medicine-data), each a
CSV possibly with EMA's title rows before the header:

- ``medicines_output_dhpc_en.csv``: direct healthcare professional communications (letters to
  doctors about a safety issue, a quality defect or a shortage).
- ``medicines_output_referrals_en.csv``: referral procedures (an EU-wide review of a medicine
  or a class of medicines, e.g. Article 31, Article 20, Article 107i).
- ``medicines_output_periodic_safety_update_report_single_assessments_en.csv``: outcomes of
  PSUSA procedures (single assessment of periodic safety update reports of one substance).
- ``medicines_output_shortages_en.csv``: medicine shortages EMA reports on.

Every row is one page on EMA's site, and the page address is the only key unique in each table
(procedure and reference numbers repeat: one PSUSA number serves several pages, one referral
document number several referrals). So ``record_id`` is the page address path after
``/en/medicines/``: ``dhpc/keppra``, ``human/referrals/lopid``, ``psusa/psusa-00000329-202407``,
``human/shortages/cisplatin``. A DHPC without an address falls back to ``dhpc:`` + a hash of its
medicine name and dissemination date; a row of the other tables without an address is rejected
(in the real PSUSA file such rows are a record broken by a stray quote). A second row with the
same address is rejected.

``data`` of each source (lists sorted; dates ISO; an unreadable date or flag is ``None`` plus
``<key>_raw``):

- ``ema_dhpc``: ``category``, ``medicine_name`` (verbatim), ``medicines`` (list, split on ``/``
  and ``;``), ``active_substance`` (verbatim), ``active_substances`` (list), ``type`` (verbatim),
  ``types`` (list: "Adverse event", "Quality defect", "Medicine shortage"...),
  ``regulatory_outcome``, ``procedure_number``, ``referral_name``, ``title`` (``None``: the
  download has no title or summary column; read when present), ``atc_codes``, ``atcvet_codes``,
  ``therapeutic_area`` (MeSH list), ``species``, ``other_medicines`` (nationally authorised, list),
  ``date`` (dissemination date), ``first_published``, ``last_updated``, ``url``.
- ``ema_referrals``: ``category``, ``name`` (referral name), ``inn``, ``inns``, ``status``
  (normalised, e.g. ``european_commission_final_decision``, ``under_evaluation``),
  ``status_raw``, ``safety_referral`` (bool), ``referral_type``, ``reference_number``
  (verbatim), ``centrally_authorised_medicines``, ``nationally_authorised_medicines`` (lists),
  ``pharmacological_class``, ``authorisation_model``, ``decision_model``,
  ``prac_decision_model``, ``prac_recommendation``, ``start_date``,
  ``prac_recommendation_date``, ``cmdh_position_date``, ``opinion_date`` (CHMP/CVMP),
  ``decision_date`` (European Commission), ``first_published``, ``last_updated``, ``url``.
- ``ema_psusa``: ``category``, ``substances_in_scope`` (verbatim), ``active_substance``
  (verbatim), ``active_substances`` (list), ``procedure_number`` (verbatim),
  ``regulatory_outcome`` (``Maintenance``, ``Variation``, ``Suspension``...),
  ``related_medicines``, ``first_published``, ``last_updated``, ``url``.
- ``ema_shortages``: ``category``, ``name`` (medicine affected), ``status`` (``ongoing`` /
  ``resolved``), ``status_raw``, ``inn``, ``inns``, ``therapeutic_area`` (list),
  ``pharmaceutical_forms``, ``strengths`` (lists), ``alternatives_available`` (bool),
  ``start_date``, ``expected_resolution_date``, ``expected_resolution`` (free text such as
  "End of June 2025"), ``first_published``, ``last_updated``, ``url``.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from drugradar.sources.base import JSONDict, Parsed, Record, Rejected, SourceSpec
from drugradar.sources.ema_common import (
    Row,
    put_date,
    put_flag,
    read_table,
    slug,
    split_list,
    text,
    url_id,
)

LICENCE = "EMA data; reuse with acknowledgement of EMA as the source"
_LIST = r"\s*;\s*"
_NAMES = r"\s*;\s*|\s+/\s+"


@dataclass(frozen=True, slots=True)
class _Table:
    url: tuple[str, ...]  # the column holding the page address, the record's key
    required: tuple[tuple[str, ...], ...]  # columns that identify the header row
    build: Callable[[Row], JSONDict]
    fallback: tuple[str, ...] = ()  # data keys hashed into an id when a row has no address
    prefix: str = ""


def _parse(table: _Table, paths: Sequence[Path]) -> Iterator[Parsed]:
    for path in paths:
        seen: dict[str, int] = {}
        for row in read_table(path, table.required):
            if isinstance(row, Rejected):
                yield row
                continue
            data = table.build(row)
            data["url"] = text(row.get(*table.url))
            record_id = _record_id(table, data)
            field = row.label(*table.url)
            if record_id is None:
                reason = (
                    f"empty {field}, which is the row's key"
                    if data["url"] is None
                    else f"{field} is not a web address: {data['url']!r}"
                )
                yield Rejected(row.file_name, row.line, reason, field=field, raw=row.raw)
                continue
            if record_id in seen:
                yield Rejected(
                    row.file_name,
                    row.line,
                    f"duplicate page {record_id}, first on line {seen[record_id]}",
                    field=field,
                    record_id=record_id,
                    raw=row.raw,
                )
                continue
            seen[record_id] = row.line
            yield Record(record_id, data, raw=row.raw)


def _record_id(table: _Table, data: JSONDict) -> str | None:
    page = url_id(data["url"])
    if page is not None:
        return page
    if data["url"] is not None or not table.fallback:
        return None
    parts = [data.get(k) for k in table.fallback]
    if not all(parts):
        return None
    digest = hashlib.sha1("|".join(str(p) for p in parts).encode("utf-8")).hexdigest()[:16]
    return f"{table.prefix}{digest}"


def _status(data: JSONDict, row: Row, *names: str) -> None:
    raw = text(row.get(*names))
    data["status"] = slug(raw)
    data["status_raw"] = raw


# ---- DHPC -------------------------------------------------------------------------------------


def _dhpc(row: Row) -> JSONDict:
    name = text(row.get("name of medicine"))
    substance = text(row.get("active substances", "active substance"))
    kind = text(row.get("dhpc type"))
    data: JSONDict = {
        "category": slug(text(row.get("category"))),
        "medicine_name": name,
        "medicines": split_list(name, _NAMES),
        "active_substance": substance,
        "active_substances": split_list(substance),
        "type": kind,
        "types": split_list(kind),
        "regulatory_outcome": text(row.get("regulatory outcome")),
        "procedure_number": text(row.get("procedure number")),
        "referral_name": text(row.get("referral name")),
        "title": text(row.get("title", "dhpc title", "summary")),
        "atc_codes": split_list(text(row.get("atc code (human)", "atc code")), _LIST),
        "atcvet_codes": split_list(text(row.get("atcvet code (veterinary)")), _LIST),
        "therapeutic_area": split_list(text(row.get("therapeutic area (mesh)"))),
        "species": split_list(text(row.get("species"))),
        "other_medicines": split_list(
            text(row.get("other related medicines (nationally authorised)"))
        ),
    }
    put_date(data, "date", row, "dissemination date")
    put_date(data, "first_published", row, "first published date")
    put_date(data, "last_updated", row, "last updated date")
    return data


DHPC = _Table(
    url=("dhpc url",),
    required=(("name of medicine",), ("dhpc type",), ("dhpc url",)),
    build=_dhpc,
    fallback=("medicine_name", "date"),
    prefix="dhpc:",
)


def parse_dhpc(paths: Sequence[Path]) -> Iterator[Parsed]:
    """One ``Record`` per DHPC (safety communication to healthcare professionals)."""
    return _parse(DHPC, paths)


# ---- referrals --------------------------------------------------------------------------------


def _referral(row: Row) -> JSONDict:
    inn = text(row.get("international non-proprietary name (inn) / common name"))
    klass = text(row.get("class"))
    data: JSONDict = {
        "category": slug(text(row.get("category"))),
        "name": text(row.get("referral name")),
        "inn": inn,
        "inns": split_list(inn, _NAMES),
    }
    _status(data, row, "current status")
    put_flag(data, "safety_referral", row, "safety referral?")
    data |= {
        "referral_type": text(row.get("referral type")),
        "reference_number": text(row.get("reference number")),
        "centrally_authorised_medicines": split_list(
            text(row.get("associated names (centrally authorised medicines)"))
        ),
        "nationally_authorised_medicines": split_list(
            text(row.get("associated names (non-centrally authorised medicines)"))
        ),
        "pharmacological_class": None if klass == "-" else klass,
        "authorisation_model": text(row.get("authorisation model")),
        "decision_model": text(row.get("non-prac decision making model")),
        "prac_decision_model": text(row.get("prac decision making model")),
        "prac_recommendation": text(row.get("prac recommendation")),
    }
    put_date(data, "start_date", row, "procedure start date")
    put_date(data, "prac_recommendation_date", row, "prac recommendation date")
    put_date(data, "cmdh_position_date", row, "cmdh position date")
    put_date(data, "opinion_date", row, "chmp/cvmp opinion date")
    put_date(data, "decision_date", row, "european commission decision date")
    put_date(data, "first_published", row, "first published date")
    put_date(data, "last_updated", row, "last updated date")
    return data


REFERRALS = _Table(
    url=("referral url",),
    required=(("referral name",), ("reference number",), ("referral url",)),
    build=_referral,
)


def parse_referrals(paths: Sequence[Path]) -> Iterator[Parsed]:
    """One ``Record`` per referral procedure."""
    return _parse(REFERRALS, paths)


# ---- PSUSA ------------------------------------------------------------------------------------


def _psusa(row: Row) -> JSONDict:
    substance = text(row.get("active substance"))
    data: JSONDict = {
        "category": slug(text(row.get("category"))),
        "substances_in_scope": text(row.get("active substances in scope of procedure")),
        "active_substance": substance,
        "active_substances": split_list(substance),
        "procedure_number": text(row.get("procedure number")),
        "regulatory_outcome": text(row.get("regulatory outcome")),
        "related_medicines": text(row.get("related medicines")),
    }
    put_date(data, "first_published", row, "first published date")
    put_date(data, "last_updated", row, "last updated date")
    return data


PSUSA = _Table(
    url=("psusa url",),
    required=(("procedure number",), ("regulatory outcome",), ("psusa url",)),
    build=_psusa,
)


def parse_psusa(paths: Sequence[Path]) -> Iterator[Parsed]:
    """One ``Record`` per PSUSA outcome page."""
    return _parse(PSUSA, paths)


# ---- shortages --------------------------------------------------------------------------------


def _shortage(row: Row) -> JSONDict:
    inn = text(row.get("international non-proprietary name (inn) or common name"))
    data: JSONDict = {
        "category": slug(text(row.get("category"))),
        "name": text(row.get("medicine affected")),
    }
    _status(data, row, "supply shortage status")
    data |= {
        "inn": inn,
        "inns": split_list(inn, _NAMES),
        "therapeutic_area": split_list(text(row.get("therapeutic area (mesh)"))),
        "pharmaceutical_forms": split_list(text(row.get("pharmaceutical forms affected"))),
        "strengths": split_list(text(row.get("strengths affected"))),
        "expected_resolution": text(row.get("expected resolution")),
    }
    put_flag(data, "alternatives_available", row, "availability of alternatives")
    put_date(data, "start_date", row, "start of shortage date")
    put_date(data, "expected_resolution_date", row, "expected resolution date")
    put_date(data, "first_published", row, "first published date")
    put_date(data, "last_updated", row, "last updated date")
    return data


SHORTAGES = _Table(
    url=("shortage url",),
    required=(("medicine affected",), ("supply shortage status",), ("shortage url",)),
    build=_shortage,
)


def parse_shortages(paths: Sequence[Path]) -> Iterator[Parsed]:
    """One ``Record`` per shortage EMA reports on."""
    return _parse(SHORTAGES, paths)


DHPC_SPEC = SourceSpec("ema_dhpc", LICENCE, "EMA DHPC safety communications", parse_dhpc)
REFERRALS_SPEC = SourceSpec("ema_referrals", LICENCE, "EMA referral procedures", parse_referrals)
PSUSA_SPEC = SourceSpec("ema_psusa", LICENCE, "EMA PSUSA single assessments", parse_psusa)
SHORTAGES_SPEC = SourceSpec("ema_shortages", LICENCE, "EMA medicine shortages", parse_shortages)
