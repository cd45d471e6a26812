"""DrugBank 4 potential drug–drug interaction pairs (non-commercial: CC BY-NC).

File: ``public_pddi/DrugBank__Drugbank4-PDDIs.csv``: ``$``-separated, no header, one pair per
line: ``DrugBank id$name$DrugBank id$name$`` (24,103 lines; almost every pair is listed in
both orders and merged into one record). No severity, no text: the DIKB team's extract of
DrugBank 4.0's interaction pairs (SPARQL on bio2rdf; README.txt there: "Version: 4.0, Date
retrieved: 6/15/2014", hence the release date 2014-06-15).
Live (current DrugBank, licence needed): https://go.drugbank.com/releases/latest

Record: ``record_id`` = ``"<a>|<b>"`` (``ddi.norm_name``, sorted); ``data``: ``drug_a``,
``drug_b`` (names verbatim), ``ids_a``/``ids_b`` = ``{"drugbank": [...]}``, ``severity``
``None``, ``level`` ``"unknown"``, ``lang`` ``"en"``.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import date
from pathlib import Path
from typing import Any

from drugradar.sources.base import Parsed, Record, Rejected, SourceSpec
from drugradar.sources.ddi import (
    Release,
    ids_dict,
    is_drugbank_id,
    norm_name,
    pair_key,
    subfolder,
    text_lines,
)

FILE = "DrugBank__Drugbank4-PDDIs.csv"
RELEASE_DATE = date(2014, 6, 15)
_COLS = ("drug 1 drugbank id", "drug 1 name", "drug 2 drugbank id", "drug 2 name")


def _check(cols: list[str]) -> tuple[str, str]:
    """``(field, reason)`` of a row's first problem, ``('', '')`` when it is sound."""
    if len(cols) != len(_COLS):
        return "", f"expected {len(_COLS)} '$'-separated columns, found {len(cols)}"
    ida, a, idb, b = cols
    for col, v in ((_COLS[0], ida), (_COLS[2], idb)):
        if not is_drugbank_id(v):
            return col, f"malformed DrugBank id {v!r} in {col}"
    for col, v in ((_COLS[1], a), (_COLS[3], b)):
        if not v:
            return col, f"empty {col}"
    if norm_name(a) == norm_name(b):
        return _COLS[3], "drug 1 and drug 2 name the same drug"
    return "", ""


def parse(paths: Sequence[Path]) -> Iterator[Parsed]:
    """One ``Record`` per DrugBank 4 pair (both listed orders merged)."""
    pairs: dict[str, dict[str, Any]] = {}
    for path in paths:
        for n, text, raw in text_lines(path):
            if text is None:
                yield Rejected(
                    path.name, n, "line is not valid UTF-8", raw=raw.decode("utf-8", "replace")
                )
                continue
            if not text.strip():
                continue
            cols = [c.strip() for c in text.split("$")]
            if cols[-1] == "":
                cols.pop()  # every line ends with '$'
            field, reason = _check(cols)
            if reason:
                yield Rejected(path.name, n, reason, field=field or None, raw=text)
                continue
            ida, a, idb, b = cols
            key, swapped = pair_key(norm_name(a), norm_name(b))
            if swapped:
                ida, a, idb, b = idb, b, ida, a
            rec = pairs.setdefault(
                key,
                {"drug_a": a, "drug_b": b, "a": set(), "b": set(), "raw": text},
            )
            rec["a"].add(ida)
            rec["b"].add(idb)
    for key, rec in pairs.items():
        data = {
            "drug_a": rec["drug_a"],
            "drug_b": rec["drug_b"],
            "ids_a": ids_dict({"drugbank": rec["a"]}),
            "ids_b": ids_dict({"drugbank": rec["b"]}),
            "severity": None,
            "level": "unknown",
            "lang": "en",
        }
        yield Record(key, data, raw=rec["raw"])


SPEC = SourceSpec(
    name="drugbank4_ddi",
    licence="CC BY-NC 4.0 (non-commercial, DrugBank)",
    title="DrugBank 4 drug–drug interaction pairs",
    parse=parse,
)


def releases(folder: Path) -> list[Release]:
    """The one file, dated 2014-06-15 (the README's retrieval date of DrugBank 4.0)."""
    path = subfolder(folder, "public_pddi") / FILE
    return [(SPEC, path.name, (path,), RELEASE_DATE)] if path.exists() else []
