"""The WHO ATC classification with DDDs, as scraped at a date (``atc/WHO_ATC-DDD_<date>.csv``).

Columns ``atc_code, atc_name, ddd, uom, adm_r, note`` (``NA`` for none). A code has one row per
route or DDD (cimetidine A02BA01: oral and parenteral), so one record per code:
``{"name", "level", "ddd": [{"ddd", "uom", "adm_r", "note"}, ...]}``. Levels 1–4 are groups
(L, L01, L01X, L01XC); a level-5 code (7 characters, L01XC17) names a substance.

Licence: the ATC/DDD index is the WHO Collaborating Centre for Drug Statistics Methodology's
(Oslo): reuse is allowed for non-commercial purposes with attribution; commercial use needs the
centre's licence. This copy comes from fabkury/atcd (CC BY-NC-SA 4.0). Marked **NC** on every fact.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from drugradar.sources.base import Parsed, Record, Rejected, SourceSpec, header_rows

COLUMNS = ("atc_code", "atc_name", "ddd", "uom", "adm_r", "note")
LEVELS = {1: 1, 3: 2, 4: 3, 5: 4, 7: 5}  # code length -> ATC level
_CODE = re.compile(r"^[A-Z](?:\d{2}(?:[A-Z](?:[A-Z](?:\d{2})?)?)?)?$")
LICENCE = "NC: WHO ATC/DDD Index, non-commercial use with attribution"


def level(code: str) -> int | None:
    return LEVELS.get(len(code)) if _CODE.match(code) else None


def _value(text: str) -> str | None:
    text = " ".join(text.split())
    return None if text in ("", "NA") else text


def parse(paths: Sequence[Path]) -> Iterator[Parsed]:
    """One ``Record`` per ATC code, its DDD rows sorted (their order in the file means nothing)."""
    codes: dict[str, dict[str, Any]] = {}
    for path in paths:
        for item in header_rows(path, ",", COLUMNS, _value):
            if isinstance(item, Rejected):
                yield item
                continue
            n, row, raw = item
            code = row["atc_code"] or ""
            lvl = level(code)
            if lvl is None:
                yield Rejected(
                    path.name, n, f"malformed ATC code {code!r}", field="atc_code", raw=raw
                )
                continue
            name = row["atc_name"]
            if not name:
                yield Rejected(
                    path.name, n, "empty atc_name", field="atc_name", record_id=code, raw=raw
                )
                continue
            rec = codes.setdefault(code, {"name": name, "level": lvl, "ddd": []})
            if rec["name"] != name:
                yield Rejected(
                    path.name,
                    n,
                    f"code named {rec['name']!r} on an earlier line, {name!r} here",
                    field="atc_name",
                    record_id=code,
                    raw=raw,
                )
                continue
            dose = {k: row[k] for k in ("ddd", "uom", "adm_r", "note")}
            if any(dose.values()) and dose not in rec["ddd"]:
                rec["ddd"].append(dose)
    for code, rec in codes.items():
        rec["ddd"] = sorted(rec["ddd"], key=lambda d: [str(v) for v in d.values()])
        yield Record(code, rec)


SPEC = SourceSpec(
    name="who_atc",
    licence=LICENCE,
    title="WHO ATC classification with DDDs",
    parse=parse,
)
