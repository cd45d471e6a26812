"""dictionary events: a drug already known gets a new research code, brand or name.

Compared before and after a dictionary rebuild: a (drug, normalized name) pair that was not
there before. Systematic names, CAS numbers and identifiers are not news; names of a drug new in
this build are not events either (the drug itself is what is new, and its trials and approvals
raise their own events). The first build is a baseline.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date
from typing import Any

from drugradar.model.drug import AliasType
from drugradar.model.event import Change
from drugradar.track.catalogue import default_materiality
from drugradar.track.store import Sighting

FAMILY = "dictionary"
TYPES = {
    AliasType.CODE: "new_code",
    AliasType.BRAND: "new_brand",
    AliasType.INN: "new_name",
    AliasType.OFFICIAL: "new_name",
    AliasType.COMMON: "new_name",
}
WORDS = {"new_code": "research code", "new_brand": "brand name", "new_name": "name"}


def diff(
    before: set[tuple[str, str]],
    known_drugs: set[str],
    rows: Iterable[Mapping[str, Any]],
    names: Mapping[str, str],
    release_id: int,
    as_of: date,
) -> list[tuple[Change, Sighting]]:
    """Drafts for the names in ``rows`` (synonym rows) that ``before`` lacks."""
    if not before:
        return []
    out: list[tuple[Change, Sighting]] = []
    for r in sorted(rows, key=lambda r: (r["drug_id"], r["norm_key"], r["source"])):
        drug_id, key = r["drug_id"], r["norm_key"]
        type_ = TYPES.get(AliasType(r["alias_type"]))
        if type_ is None or drug_id not in known_drugs or (drug_id, key) in before:
            continue
        label = names.get(drug_id, drug_id)
        now = " (now its preferred name)" if label.casefold() == str(r["name"]).casefold() else ""
        change = Change(
            FAMILY,
            type_,
            "drug",
            drug_id,
            f"{label}: new {WORDS[type_]} {r['name']}{now}",
            field=f"name:{key}"[:80],
            new=r["name"],
            materiality=default_materiality(FAMILY, type_),
            concerns=[("drug", drug_id)],
        )
        when = r.get("source_date") or as_of
        out.append((change, Sighting(r["source"], str(r["source_record_id"]), release_id, when)))
    return out
