"""WHO ATC facts of the dictionary: drug classes from level-5 codes, and their DDDs.

A level-5 code names a substance (L01EA01 imatinib); its name links to a drug through the
resolver, exact or salt matches only (never fuzzy, partial or a combination: "sodium fluoride,
combinations" is not sodium fluoride, and a wrong drug is worse than none), unambiguous only.
The drug then gets the class of the code's level-4 group, ``class_type`` ATC, named with the
group's code (``L01EA BCR-ABL tyrosine kinase inhibitors``), ``class_source_id`` the level-5
code. Run inside the dictionary rebuild, after the names are written, through the rebuild's own
connection.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import Connection

from drugradar.dictionary.build import current_records, provenance_of
from drugradar.resolve import Resolver
from drugradar.sources.who_atc import SPEC

SOURCE = SPEC.name
CLASS_TYPE = "ATC"
LINK_KINDS = ("exact", "salt")
SUBSTANCE_LEVEL = 5


def _group(code: str, names: dict[str, str]) -> str | None:
    """The nearest group above a level-5 code that the classification holds, as a class name."""
    for n in (5, 4, 3, 1):
        if code[:n] in names:
            return class_name(code[:n], names[code[:n]])
    return None


def substance_drugs(resolver: Resolver, names: Iterable[str]) -> dict[str, str]:
    """Name -> the one drug it names exactly (or as a salt form); names matching several drugs
    equally, combinations and anything looser are left out."""
    unique = sorted({n for n in names if n})
    out: dict[str, str] = {}
    for name, res in zip(unique, resolver.resolve_many(unique, fuzzy=False), strict=True):
        best = res.best
        if best and not res.ambiguous and not res.combination and best.match_kind in LINK_KINDS:
            out[name] = best.drug_id
    return out


def class_name(group_code: str, group_name: str) -> str:
    """``L01EA BCR-ABL tyrosine kinase inhibitors``: the code keeps same-named groups apart
    (R02AB and S01AA are both "Antibiotics")."""
    return f"{group_code} {group_name}"[:400]


def classes(conn: Connection) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """``(drug_class rows, atc_ddd rows)`` from the current WHO ATC records."""
    rows = list(current_records(conn, SOURCE))
    names = {r.record_id: str(r.data["name"]) for r in rows}
    substances = [r for r in rows if r.data.get("level") == SUBSTANCE_LEVEL]
    ddd = [
        {
            "code": row.record_id,
            "route": (d.get("adm_r") or "")[:40],
            "ddd": d["ddd"][:20],
            "uom": (d.get("uom") or "")[:20],
            "note": d.get("note"),
            **provenance_of(row),
        }
        for row in substances
        for d in row.data.get("ddd") or []
        if d.get("ddd")
    ]
    resolver = Resolver(conn, trial_born=False)
    drug_of = substance_drugs(resolver, (r.data["name"] for r in substances))
    out: dict[tuple[str, str], dict[str, Any]] = {}
    for row in substances:  # sorted by code: the first code of a group names the class
        did = drug_of.get(row.data["name"])
        group = _group(row.record_id, names)
        if did is None or group is None:
            continue
        out.setdefault(
            (did, group[:400]),
            {
                "drug_id": did,
                "name": group[:400],
                "class_type": CLASS_TYPE,
                "class_source_id": row.record_id,
                **provenance_of(row),
            },
        )
    return list(out.values()), ddd
