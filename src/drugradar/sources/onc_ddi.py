"""ONC lists of drug–drug interactions for EHR alerts: high-priority and non-interruptive.

Files in ``public_pddi/`` (the DIKB team's DrugBank-mapped versions of two ONC-sponsored
papers; README.txt there: "Date retrieved: 7/1/2014", hence the release date 2014-07-01):

- ``ONC-High-Priority__ONC_High_Priority_Mapped.csv``: ``$``-separated, no header,
  ``drug 1 name$DrugBank id$drug 2 name$DrugBank id$`` (Phansalkar et al., JAMIA 2012: 15
  class-level interactions of high severity whose alert must interrupt). Most pairs are
  listed in both orders: merged into one record. Level: major.
- ``ONC-Non-Interuptive__ONC_Non_Interuptive_Mapped.csv`` (same layout, 2,101 pairs) and
  ``ONC-Non-Interuptive__ONC_Non_Interuptive_List_Mapped_Formatted.csv`` (comma-separated,
  11 columns: publication row id, drug 1 class, name, DrugBank id, two URIs, drug 2 class,
  name, DrugBank id, two URIs; 1,961 pairs) (Phansalkar et al., JAMIA 2013: interactions
  whose alert should not interrupt). The ``$`` file is the superset (140 more pairs, mostly
  aspirin ones) and gives the names; the formatted file adds the publication's row id and the
  class of each drug where it has the pair. Both are read into one release. Level: moderate.

Record: ``record_id`` = ``"<a>|<b>"`` (``ddi.norm_name``, sorted); ``data``: ``drug_a``,
``drug_b`` (names verbatim), ``ids_a``/``ids_b`` = ``{"drugbank": [...]}``, ``severity``
(``"high priority"`` / ``"non-interruptive"``), ``level`` (major / moderate), ``lang`` ``"en"``;
non-interruptive records also have ``onc_ids`` (publication row ids, sorted) and
``classes_a``/``classes_b`` (the list's class of each drug, sorted; ``[]`` when not given).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import date
from pathlib import Path
from typing import Any

from drugradar.sources.base import Parsed, Record, Rejected, SourceSpec
from drugradar.sources.ddi import (
    ONC_HIGH_PRIORITY_LEVEL,
    ONC_NON_INTERRUPTIVE_LEVEL,
    Release,
    ids_dict,
    is_drugbank_id,
    norm_name,
    pair_key,
    split_csv,
    subfolder,
    text_lines,
)

RELEASE_DATE = date(2014, 7, 1)
HIGH_PRIORITY_FILE = "ONC-High-Priority__ONC_High_Priority_Mapped.csv"
NON_INTERRUPTIVE_FILES = (
    "ONC-Non-Interuptive__ONC_Non_Interuptive_Mapped.csv",
    "ONC-Non-Interuptive__ONC_Non_Interuptive_List_Mapped_Formatted.csv",
)
_DOLLAR_COLS = ("drug 1 name", "drug 1 drugbank id", "drug 2 name", "drug 2 drugbank id")
_FORMATTED_COLS = (
    "publication id",
    "drug 1 class",
    "drug 1 name",
    "drug 1 drugbank id",
    "drug 1 drugbank uri",
    "drug 1 bio2rdf uri",
    "drug 2 class",
    "drug 2 name",
    "drug 2 drugbank id",
    "drug 2 drugbank uri",
    "drug 2 bio2rdf uri",
)


class _Row:
    """One listed pair: names, DrugBank ids, and (formatted file only) classes and row id."""

    def __init__(self, a: str, ida: str, b: str, idb: str) -> None:
        self.a, self.ida, self.b, self.idb = a, ida, b, idb
        self.class_a = self.class_b = self.onc_id = ""


def _dollar_row(text: str) -> tuple[_Row | None, str, str]:
    cols = text.split("$")
    if cols and cols[-1] == "":
        cols = cols[:-1]  # every line ends with '$'
    if len(cols) != len(_DOLLAR_COLS):
        return None, "", f"expected {len(_DOLLAR_COLS)} '$'-separated columns, found {len(cols)}"
    row = _Row(*(c.strip() for c in cols))
    return row, *_check(row)


def _formatted_row(text: str) -> tuple[_Row | None, str, str]:
    cols = split_csv(text)
    if cols is None:
        return None, "", "line is not valid CSV (unbalanced quotes)"
    if len(cols) != len(_FORMATTED_COLS):
        return (
            None,
            "",
            f"expected {len(_FORMATTED_COLS)} comma-separated columns, found {len(cols)}",
        )
    c = [x.strip() for x in cols]
    row = _Row(c[2], c[3], c[7], c[8])
    row.onc_id, row.class_a, row.class_b = c[0], c[1], c[6]
    if not row.onc_id.isdigit():
        return None, "publication id", f"malformed publication id {row.onc_id!r}"
    return row, *_check(row)


def _check(row: _Row) -> tuple[str, str]:
    """``(field, reason)`` of the row's first problem, ``('', '')`` when it is sound."""
    if not row.a:
        return "drug 1 name", "empty drug 1 name"
    if not row.b:
        return "drug 2 name", "empty drug 2 name"
    if not is_drugbank_id(row.ida):
        return "drug 1 drugbank id", f"malformed DrugBank id {row.ida!r} for drug 1"
    if not is_drugbank_id(row.idb):
        return "drug 2 drugbank id", f"malformed DrugBank id {row.idb!r} for drug 2"
    if norm_name(row.a) == norm_name(row.b):
        return "drug 2 name", "drug 1 and drug 2 name the same drug"
    return "", ""


def _rows(path: Path) -> Iterator[tuple[int, str, _Row | None, str, str]]:
    """``(line, text, row, field, reason)`` for each non-empty line of a list file."""
    formatted = None
    for n, text, raw in text_lines(path):
        if text is None:
            yield n, raw.decode("utf-8", "replace"), None, "", "line is not valid UTF-8"
            continue
        if not text.strip():
            continue
        if formatted is None:
            formatted = "$" not in text
        row, field, reason = _formatted_row(text) if formatted else _dollar_row(text)
        yield n, text, row, field, reason


def _parse(paths: Sequence[Path], severity: str, level: str) -> Iterator[Parsed]:
    pairs: dict[str, dict[str, Any]] = {}
    # the '$' files first: they hold every pair and give the names
    for path in sorted(paths, key=lambda p: ("Formatted" in p.name, p.name)):
        for n, text, row, field, reason in _rows(path):
            if row is None or reason:
                yield Rejected(path.name, n, reason, field=field or None, raw=text)
                continue
            key, swapped = pair_key(norm_name(row.a), norm_name(row.b))
            a, ida, ca, b, idb, cb = row.a, row.ida, row.class_a, row.b, row.idb, row.class_b
            if swapped:
                a, ida, ca, b, idb, cb = b, idb, cb, a, ida, ca
            rec = pairs.setdefault(
                key,
                {
                    "drug_a": a,
                    "drug_b": b,
                    "ids_a": {"drugbank": set()},
                    "ids_b": {"drugbank": set()},
                    "onc_ids": set(),
                    "classes_a": set(),
                    "classes_b": set(),
                    "raw": text,
                },
            )
            rec["ids_a"]["drugbank"].add(ida)
            rec["ids_b"]["drugbank"].add(idb)
            for k, v in (("onc_ids", row.onc_id), ("classes_a", ca), ("classes_b", cb)):
                if v:
                    rec[k].add(v)
    non_interruptive = severity == "non-interruptive"
    for key, rec in pairs.items():
        data: dict[str, Any] = {
            "drug_a": rec["drug_a"],
            "drug_b": rec["drug_b"],
            "ids_a": ids_dict(rec["ids_a"]),
            "ids_b": ids_dict(rec["ids_b"]),
            "severity": severity,
            "level": level,
            "lang": "en",
        }
        if non_interruptive:
            data["onc_ids"] = sorted(rec["onc_ids"], key=int)
            data["classes_a"] = sorted(rec["classes_a"])
            data["classes_b"] = sorted(rec["classes_b"])
        yield Record(key, data, raw=rec["raw"])


def parse_high_priority(paths: Sequence[Path]) -> Iterator[Parsed]:
    """One ``Record`` per pair of the ONC high-priority list (level major)."""
    return _parse(paths, "high priority", ONC_HIGH_PRIORITY_LEVEL)


def parse_non_interruptive(paths: Sequence[Path]) -> Iterator[Parsed]:
    """One ``Record`` per pair of the ONC non-interruptive list (level moderate)."""
    return _parse(paths, "non-interruptive", ONC_NON_INTERRUPTIVE_LEVEL)


HIGH_PRIORITY_SPEC = SourceSpec(
    name="onc_high_priority",
    licence="ONC list (Phansalkar 2012); DrugBank mapping by DIKB",
    title="ONC high-priority drug–drug interactions",
    parse=parse_high_priority,
)
NON_INTERRUPTIVE_SPEC = SourceSpec(
    name="onc_non_interruptive",
    licence="ONC list (Phansalkar 2013); DrugBank mapping by DIKB",
    title="ONC non-interruptive drug–drug interactions",
    parse=parse_non_interruptive,
)


def releases(folder: Path) -> list[Release]:
    """One release per list, dated 2014-07-01 (the README's retrieval date)."""
    sub = subfolder(folder, "public_pddi")
    out: list[Release] = []
    hp = sub / HIGH_PRIORITY_FILE
    if hp.exists():
        out.append((HIGH_PRIORITY_SPEC, hp.name, (hp,), RELEASE_DATE))
    ni = tuple(sub / f for f in NON_INTERRUPTIVE_FILES if (sub / f).exists())
    if ni:
        out.append((NON_INTERRUPTIVE_SPEC, ni[0].name, ni, RELEASE_DATE))
    return out
