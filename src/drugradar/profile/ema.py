"""The EMA profile: EU authorisations, orphan designations, and safety communications.

Built from the current records of six EMA sources (see ``sources/ema_medicines``,
``ema_designations``, ``ema_safety``):

- ``approval`` (agency ``EMA``, country ``EU``, kind ``authorisation``): one row per human
  medicine (``ema_medicines``) x ingredient drug. The ingredients are the medicine's INNs
  (``inns``); a medicine without an INN falls back to its active substance(s), and one with
  neither to its name (a brand the dictionary may know). Each ingredient name is linked to the
  drugs it names; a name naming several (a combination) gives a row per drug, a name naming none
  one row with ``drug_id`` NULL. Veterinary medicines are left out (the drug dictionary is about
  human medicines; their substances would link to the human drug).

  ``date`` is the marketing authorisation date, i.e. the European Commission decision that
  granted the authorisation (not the "European Commission decision date" column, which is the
  latest decision of any kind, a variation say: it goes to ``flags.decision_date``). A medicine
  never authorised is dated by the event that ended its application: refusal, withdrawal of the
  application, then the latest EC decision, then the CHMP opinion. ``status`` is the parser's
  normalised status (``authorised``, ``withdrawn``, ``refused``, ``application_withdrawn``,
  ``opinion``, ``lapsed``...); ``application`` the EMA product number; ``product`` the medicine
  name; ``detail`` the therapeutic areas (MeSH) joined with "; "; ``holder`` the marketing
  authorisation holder (``holder_key`` its ``org_key``). ``flags`` (JSON) holds the yes/no
  columns (``None`` where the release's table had no such column) and what has no column of its
  own: ATC code, the other dates, the EPAR page (``url``), the raw status, and
  ``ingredient_from`` (``inn``, ``active_substance`` or ``name``).
- ``designation`` (agency ``EMA``, kind ``orphan``): one row per orphan designation x substance
  drug; a designation without a substance falls back to its medicine name(s), and one with
  neither is kept with an empty substance. ``date`` is the date of designation (of refusal for a
  negative one); ``status`` ``positive``, ``withdrawn``, ``expired`` or ``negative``.
- ``safety_communication`` (agency ``EMA``): one row per communication x substance drug, of kind
  ``dhpc`` (letters to healthcare professionals; dated by dissemination), ``referral`` (EU
  reviews; dated by the EC decision, else the CHMP/CVMP opinion, CMDh position, PRAC
  recommendation, start), ``psusa`` (periodic safety update single assessments; dated by
  publication, the only date EMA gives) and ``shortage`` (dated by the shortage's start, else
  publication). The substances are the record's active substances / INNs; without any, the
  DHPC's medicine names, the referral's or shortage's name, the PSUSA's "substances in scope".
  Veterinary DHPCs and referrals are left out like veterinary medicines.

Names that link to no drug are kept per source in ``unlinked_name``.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

import orjson
from sqlalchemy import Connection

from drugradar.dictionary.build import SourceRow
from drugradar.profile.common import (
    Link,
    Row,
    iso,
    keep_unlinked,
    link_names,
    prov,
    records,
    replace,
)
from drugradar.resolve import Resolver
from drugradar.resolve.orgs import org_key
from drugradar.store.schema import approval, designation, safety_communication

AGENCY = "EMA"
COUNTRY = "EU"
MEDICINES = "ema_medicines"
DESIGNATIONS = "ema_orphan_designations"
SAFETY = {  # source -> safety_communication.kind
    "ema_dhpc": "dhpc",
    "ema_referrals": "referral",
    "ema_psusa": "psusa",
    "ema_shortages": "shortage",
}
SOURCES = (MEDICINES, DESIGNATIONS, *SAFETY)
VETERINARY = "veterinary"

# ema_medicines keys copied into approval.flags (yes/no flags first, None = no such column)
FLAG_KEYS = (
    "orphan",
    "atmp",
    "conditional",
    "exceptional_circumstances",
    "accelerated_assessment",
    "biosimilar",
    "generic",
    "additional_monitoring",
    "patient_safety",
    "prime",
    "atc_code",
    "atc_codes",
    "authorisation_date",
    "decision_date",
    "opinion_date",
    "opinion_status",
    "refusal_date",
    "withdrawal_date",
    "application_withdrawal_date",
    "suspension_date",
    "first_published",
    "last_updated",
    "status_raw",
    "latest_procedure",
    "revision_number",
    "pharmacotherapeutic_group",
    "url",
)
# the approval's date: the marketing authorisation, else the event that ended the application
APPROVAL_DATE_KEYS = (
    "authorisation_date",
    "refusal_date",
    "application_withdrawal_date",
    "decision_date",
    "opinion_date",
)
REFERRAL_DATE_KEYS = (
    "decision_date",
    "opinion_date",
    "cmdh_position_date",
    "prac_recommendation_date",
    "start_date",
    "first_published",
)
_SPLIT = re.compile(r"\s*;\s*")
_SPLIT_SCOPE = re.compile(r"\s*;\s*|\s+/\s+")


def _cut(value: Any, n: int) -> str | None:
    return str(value)[:n] if value not in (None, "") else None


def _parts(value: Any, pattern: re.Pattern[str] = _SPLIT) -> list[str]:
    if not isinstance(value, str):
        return []
    out: list[str] = []
    for p in pattern.split(value):
        p = p.strip()
        if p and p != "-" and p not in out:
            out.append(p)
    return out


def _first_date(data: dict[str, Any], keys: Sequence[str]) -> date | None:
    for key in keys:
        found = iso(data.get(key))
        if found is not None:
            return found
    return None


def _is_vet(row: SourceRow) -> bool:
    return row.data.get("category") == VETERINARY


# -- what each source names ---------------------------------------------------------------


def medicine_ingredients(data: dict[str, Any]) -> tuple[list[str], str]:
    """The ingredient names of a medicine and where they came from."""
    inns = [n for n in data.get("inns") or [] if n and n.strip()]
    if inns:
        return inns, "inn"
    subs = _parts(data.get("active_substance"))
    if subs:
        return subs, "active_substance"
    name = data.get("name")
    return ([name], "name") if name else ([], "none")


def designation_substances(data: dict[str, Any]) -> list[str]:
    subs = [s for s in data.get("active_substances") or [] if s and s.strip()]
    return subs or [n for n in data.get("medicine_names") or [] if n and n.strip()]


def dhpc_substances(data: dict[str, Any]) -> list[str]:
    subs = [s for s in data.get("active_substances") or [] if s and s.strip()]
    return subs or [m for m in data.get("medicines") or [] if m and m.strip()]


def referral_substances(data: dict[str, Any]) -> list[str]:
    subs = [s for s in data.get("inns") or [] if s and s.strip()]
    return subs or ([data["name"]] if data.get("name") else [])


def psusa_substances(data: dict[str, Any]) -> list[str]:
    subs = [s for s in data.get("active_substances") or [] if s and s.strip()]
    return subs or _parts(data.get("substances_in_scope"), _SPLIT_SCOPE)


def shortage_substances(data: dict[str, Any]) -> list[str]:
    subs = [s for s in data.get("inns") or [] if s and s.strip()]
    return subs or ([data["name"]] if data.get("name") else [])


SUBSTANCES: dict[str, Callable[[dict[str, Any]], list[str]]] = {
    "ema_dhpc": dhpc_substances,
    "ema_referrals": referral_substances,
    "ema_psusa": psusa_substances,
    "ema_shortages": shortage_substances,
}


# -- linking ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Named:
    """One (name, drug) of a record: ``link`` None when the name named no drug."""

    name: str
    link: Link | None


def _named(
    names: Iterable[str], links: dict[str, list[Link]], unlinked: Counter[str]
) -> list[Named]:
    """A record's names expanded into one item per drug (first name naming it wins), plus one
    per name that named none (counted once per record in ``unlinked``)."""
    out: list[Named] = []
    seen_drugs: set[str] = set()
    seen_names: set[str] = set()
    for raw in names:
        name = raw.strip()
        if not name or name in seen_names:
            continue
        seen_names.add(name)
        found = links.get(name, [])
        if not found:
            out.append(Named(name, None))
            unlinked[name] += 1
            continue
        for link in found:
            if link.drug_id not in seen_drugs:
                seen_drugs.add(link.drug_id)
                out.append(Named(name, link))
    return out


# -- rows ---------------------------------------------------------------------------------


def approval_rows(
    rows: Sequence[SourceRow], links: dict[str, list[Link]], unlinked: Counter[str]
) -> list[Row]:
    out: list[Row] = []
    for row in rows:
        d = row.data
        names, origin = medicine_ingredients(d)
        holder = d.get("holder")
        areas = d.get("therapeutic_area") or []
        flags = {k: d.get(k) for k in FLAG_KEYS}
        flags["ingredient_from"] = origin
        base = {
            "agency": AGENCY,
            "country": COUNTRY,
            "application": (d.get("product_number") or row.record_id)[:40],
            "product": _cut(d.get("name"), 400),
            "kind": "authorisation",
            "status": (d.get("status") or "unknown")[:40],
            "date": _first_date(d, APPROVAL_DATE_KEYS),
            "detail": _cut("; ".join(areas), 400) if areas else None,
            "indication": d.get("indication"),
            "holder": _cut(holder, 400),
            "holder_key": _cut(org_key(holder), 400) if holder else None,
            "flags": orjson.dumps(flags).decode(),
            **prov(row),
        }
        items = _named(names, links, unlinked) or [Named("", None)]
        for item in items:
            out.append(
                base
                | {
                    "drug_id": item.link.drug_id if item.link else None,
                    "match_kind": item.link.match_kind if item.link else None,
                    "ingredient": item.name[:400],
                }
            )
    return out


def designation_rows(
    rows: Sequence[SourceRow], links: dict[str, list[Link]], unlinked: Counter[str]
) -> list[Row]:
    out: list[Row] = []
    for row in rows:
        d = row.data
        base = {
            "agency": AGENCY,
            "kind": "orphan",
            "number": _cut(d.get("designation_number"), 60),
            "product": _cut(d.get("medicine_name"), 400),
            "condition": d.get("condition"),
            "status": _cut(d.get("status"), 60),
            "date": iso(d.get("designation_date")),
            "url": _cut(d.get("url"), 400),
            **prov(row),
        }
        items = _named(designation_substances(d), links, unlinked) or [Named("", None)]
        for item in items:
            out.append(
                base
                | {
                    "drug_id": item.link.drug_id if item.link else None,
                    "substance": item.name[:1000],
                }
            )
    return out


def _join(*parts: Any) -> str | None:
    kept = [str(p) for p in parts if p not in (None, "")]
    return ": ".join(kept) if kept else None


def safety_fields(source: str, d: dict[str, Any]) -> dict[str, Any]:
    """title, outcome, date and url of one safety communication."""
    if source == "ema_dhpc":
        title = d.get("title") or _join(d.get("medicine_name"), d.get("type"))
        return {
            "title": title,
            "outcome": d.get("regulatory_outcome"),
            "date": iso(d.get("date")) or iso(d.get("first_published")),
        }
    if source == "ema_referrals":
        kind = d.get("referral_type")
        title = f"{d['name']} ({kind})" if d.get("name") and kind else d.get("name") or kind
        return {
            "title": title,
            "outcome": d.get("prac_recommendation") or d.get("status_raw"),
            "date": _first_date(d, REFERRAL_DATE_KEYS),
        }
    if source == "ema_psusa":
        number = d.get("procedure_number")
        return {
            "title": _join(f"PSUSA {number}" if number else "PSUSA", d.get("substances_in_scope")),
            "outcome": d.get("regulatory_outcome"),
            "date": iso(d.get("first_published")) or iso(d.get("last_updated")),
        }
    # shortages
    outcome = d.get("status_raw")
    if d.get("expected_resolution"):
        outcome = f"{outcome or 'Status unknown'}; expected resolution: {d['expected_resolution']}"
    return {
        "title": _join(d.get("name"), "shortage"),
        "outcome": outcome,
        "date": iso(d.get("start_date")) or iso(d.get("first_published")),
    }


def safety_rows(
    source: str,
    rows: Sequence[SourceRow],
    links: dict[str, list[Link]],
    unlinked: Counter[str],
) -> list[Row]:
    out: list[Row] = []
    substances = SUBSTANCES[source]
    for row in rows:
        d = row.data
        base = {
            "agency": AGENCY,
            "kind": SAFETY[source],
            **safety_fields(source, d),
            "url": _cut(d.get("url"), 400),
            **prov(row),
        }
        items = _named(substances(d), links, unlinked) or [Named("", None)]
        for item in items:
            out.append(
                base
                | {
                    "drug_id": item.link.drug_id if item.link else None,
                    "substance": item.name[:1000],
                }
            )
    return out


# -- the builder --------------------------------------------------------------------------


def build(conn: Connection, resolver: Resolver) -> dict[str, int]:
    """Rebuild ``approval`` (EMA rows), ``designation`` and ``safety_communication`` from the
    current records of the EMA sources."""
    meds = [r for r in records(conn, MEDICINES) if not _is_vet(r)]
    designations = list(records(conn, DESIGNATIONS))
    safety = {s: [r for r in records(conn, s) if not _is_vet(r)] for s in SAFETY}

    names: set[str] = set()
    for r in meds:
        names.update(medicine_ingredients(r.data)[0])
    for r in designations:
        names.update(designation_substances(r.data))
    for source, rows in safety.items():
        for r in rows:
            names.update(SUBSTANCES[source](r.data))
    links = link_names(resolver, names)

    unlinked: dict[str, Counter[str]] = {s: Counter() for s in SOURCES}
    a_rows = approval_rows(meds, links, unlinked[MEDICINES])
    d_rows = designation_rows(designations, links, unlinked[DESIGNATIONS])
    s_rows: list[Row] = []
    for source, rows in safety.items():
        s_rows += safety_rows(source, rows, links, unlinked[source])

    return {
        "approval": replace(conn, approval, [MEDICINES], a_rows),
        "designation": replace(conn, designation, [DESIGNATIONS], d_rows),
        "safety_communication": replace(conn, safety_communication, list(SAFETY), s_rows),
        "approval_linked": sum(1 for r in a_rows if r["drug_id"]),
        "designation_linked": sum(1 for r in d_rows if r["drug_id"]),
        "safety_communication_linked": sum(1 for r in s_rows if r["drug_id"]),
        "unlinked_names": sum(keep_unlinked(conn, s, unlinked[s]) for s in SOURCES),
    }
