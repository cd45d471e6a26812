"""DDInter: drug–drug interaction pairs with a severity level (CC BY-NC-SA 4.0, non-commercial).

Files: ``ddinter/ddinter_downloads_code_<ATC letter>.csv[.gz]``, one per first-level ATC group
(8 of DDInter's 14 here: A, B, D, H, L, P, R, V). Comma-separated with a header
``DDInterID_A,Drug_A,DDInterID_B,Drug_B,Level``; names with commas are quoted. A pair is listed
in the file of each of its drugs' ATC groups, so the same pair appears in several files (always
with the same level in the real data): they are merged into ONE record per pair.
Live download: https://ddinter.scbdd.com/download/

Release date: the file names carry none; DDInter 1.0 was published in 2022 (Nucleic Acids Res
50:D1200), so the release is dated ``2022-01-01`` (``RELEASE_DATE``).

Record: ``record_id`` = ``"<drug a>|<drug b>"`` (``ddi.norm_name``, sorted); ``data``:
``drug_a``, ``drug_b`` (names verbatim), ``ids_a``/``ids_b`` = ``{"ddinter": ["DDInter582"]}``,
``severity`` (``Level`` verbatim), ``level`` (our scale, see ``ddi``), ``lang`` ``"en"``,
``atc_files``: sorted ATC letters of the files that list the pair.
A row whose pair is already listed with a different level is rejected (field ``Level``).
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from datetime import date
from pathlib import Path
from typing import Any

from drugradar.sources.base import Parsed, Record, Rejected, SourceSpec
from drugradar.sources.ddi import (
    DDINTER_LEVELS,
    Release,
    ids_dict,
    norm_name,
    pair_key,
    split_csv,
    subfolder,
    text_lines,
)

HEADER = ["DDInterID_A", "Drug_A", "DDInterID_B", "Drug_B", "Level"]
RELEASE_DATE = date(2022, 1, 1)
_ID = re.compile(r"^DDInter\d+$")
_ATC_FILE = re.compile(r"_code_([A-Z])\.csv")


def _check_row(fields: list[str]) -> tuple[str, str] | None:
    """``(field, reason)`` of the first problem of a data row, ``None`` when it is sound."""
    if len(fields) != len(HEADER):
        return "", f"expected {len(HEADER)} comma-separated columns, found {len(fields)}"
    ida, a, idb, b, level = fields
    for col, val in (("DDInterID_A", ida), ("DDInterID_B", idb)):
        if not _ID.match(val):
            return col, f"malformed DDInter id {val!r} in {col}"
    for col, val in (("Drug_A", a), ("Drug_B", b)):
        if not val:
            return col, f"empty drug name in {col}"
    if level not in DDINTER_LEVELS:
        return "Level", f"unknown severity level {level!r} in Level"
    if norm_name(a) == norm_name(b):
        return "Drug_B", "Drug_A and Drug_B name the same drug"
    return None


def parse(paths: Sequence[Path]) -> Iterator[Parsed]:
    """One ``Record`` per drug pair, merged over every ATC file that lists it."""
    pairs: dict[str, dict[str, Any]] = {}
    for path in paths:
        fname = path.name
        m = _ATC_FILE.search(fname)
        atc = m.group(1) if m else None
        header_seen = False
        for n, text, raw in text_lines(path):
            if text is None:
                yield Rejected(
                    fname, n, "line is not valid UTF-8", raw=raw.decode("utf-8", "replace")
                )
                continue
            if not text.strip():
                continue
            fields = split_csv(text)
            if fields is None:
                yield Rejected(fname, n, "line is not valid CSV (unbalanced quotes)", raw=text)
                continue
            fields = [f.strip() for f in fields]
            if not header_seen:
                header_seen = True
                if fields == HEADER:
                    continue
                yield Rejected(
                    fname, n, f"header is not {','.join(HEADER)}: file skipped", raw=text
                )
                break
            problem = _check_row(fields)
            if problem:
                yield Rejected(fname, n, problem[1], field=problem[0] or None, raw=text)
                continue
            ida, a, idb, b, level = fields
            key, swapped = pair_key(norm_name(a), norm_name(b))
            if swapped:
                ida, a, idb, b = idb, b, ida, a
            rec = pairs.get(key)
            if rec is None:
                pairs[key] = {
                    "drug_a": a,
                    "drug_b": b,
                    "ids_a": {"ddinter": {ida}},
                    "ids_b": {"ddinter": {idb}},
                    "severity": level,
                    "where": f"{fname}:{n}",
                    "atc": {atc} if atc else set(),
                    "raw": text,
                }
                continue
            if rec["severity"] != level:
                yield Rejected(
                    fname,
                    n,
                    f"pair already listed with Level {rec['severity']!r} ({rec['where']}),"
                    f" this row says {level!r}",
                    field="Level",
                    record_id=key,
                    raw=text,
                )
                continue
            rec["ids_a"]["ddinter"].add(ida)
            rec["ids_b"]["ddinter"].add(idb)
            if atc:
                rec["atc"].add(atc)
    for key, rec in pairs.items():
        data = {
            "drug_a": rec["drug_a"],
            "drug_b": rec["drug_b"],
            "ids_a": ids_dict(rec["ids_a"]),
            "ids_b": ids_dict(rec["ids_b"]),
            "severity": rec["severity"],
            "level": DDINTER_LEVELS[rec["severity"]],
            "lang": "en",
            "atc_files": sorted(rec["atc"]),
        }
        yield Record(key, data, raw=rec["raw"])


SPEC = SourceSpec(
    name="ddinter",
    licence="CC BY-NC-SA 4.0 (non-commercial)",
    title="DDInter drug–drug interactions",
    parse=parse,
)


def releases(folder: Path) -> list[Release]:
    """The DDInter files form one release (``RELEASE_DATE``: their names carry no date)."""
    sub = subfolder(folder, "ddinter")
    files = tuple(sorted(sub.glob("ddinter_downloads_code_*.csv*")))
    return [(SPEC, sub.name, files, RELEASE_DATE)] if files else []
