"""CredibleMeds list of clinically important drug–drug interactions (2017).

File: ``public_pddi/Crediblemeds__credibleMeds-listing-02262017.txt``: tab-separated with a
header ``object, object_drugbank, precipitant, precipitant_drugbank, Effect, Mechanism,
Related Drugs, Options`` (and an empty last column); 83 rows, one per (object, precipitant).
``Options`` starts with the advice level ("Usually Avoid", "Take Precautions") and goes on with
the management text. The file's ``�`` characters are in the source (lost characters).
Release date from the name: ``02262017`` (month, day, year) -> 2017-02-26.
Live: https://crediblemeds.org/ (registration; terms of use apply — the README states none).

Record: ``record_id`` = ``"<a>|<b>"`` (``ddi.norm_name``, sorted); ``data``: ``drug_a``,
``drug_b`` (names verbatim), ``ids_a``/``ids_b`` = ``{"drugbank": [...]}``, ``severity`` (the
advice level of ``Options``, verbatim, ``None`` when it starts otherwise), ``level`` ("Usually
Avoid" -> major, "Take Precautions" -> moderate, else unknown), ``mechanism``, ``management``
(``Options``), ``text`` (``Effect``), ``related_drugs``, ``object``, ``precipitant`` (which
drug is affected and which causes it), ``lang`` ``"en"``.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from datetime import date
from pathlib import Path

from drugradar.sources.base import Parsed, Record, Rejected, SourceSpec
from drugradar.sources.ddi import (
    Release,
    clean_text,
    is_drugbank_id,
    norm_name,
    pair_key,
    split_csv,
    subfolder,
    text_lines,
)

HEADER = (
    "object",
    "object_drugbank",
    "precipitant",
    "precipitant_drugbank",
    "Effect",
    "Mechanism",
    "Related Drugs",
    "Options",
)
LEVELS = {"usually avoid": "major", "take precautions": "moderate"}
_ADVICE = re.compile(r"^\s*(usually avoid|take precautions)", re.IGNORECASE)
_MDY = re.compile(r"(?<!\d)(\d{2})(\d{2})(\d{4})(?!\d)")


def name_date(name: str) -> date | None:
    """``'credibleMeds-listing-02262017.txt'`` -> 2017-02-26 (month, day, year)."""
    m = _MDY.search(name)
    if not m:
        return None
    try:
        return date(int(m.group(3)), int(m.group(1)), int(m.group(2)))
    except ValueError:
        return None


def parse(paths: Sequence[Path]) -> Iterator[Parsed]:
    """One ``Record`` per drug pair of the list (rows of the same pair are rejected)."""
    seen: dict[str, str] = {}
    for path in paths:
        header_seen = False
        for n, text, raw in text_lines(path):
            if text is None:
                yield Rejected(
                    path.name, n, "line is not valid UTF-8", raw=raw.decode("utf-8", "replace")
                )
                continue
            if not text.strip():
                continue
            cols = split_csv(text, "\t")
            if cols is None:
                yield Rejected(path.name, n, "line is not valid TSV (unbalanced quotes)", raw=text)
                continue
            cols = [c.strip() for c in cols]
            while len(cols) > len(HEADER) and cols[-1] == "":
                cols.pop()
            if not header_seen:
                header_seen = True
                if tuple(cols) != HEADER:
                    yield Rejected(path.name, n, "unexpected header: file skipped", raw=text)
                    break
                continue
            if len(cols) != len(HEADER):
                yield Rejected(
                    path.name, n, f"expected {len(HEADER)} columns, found {len(cols)}", raw=text
                )
                continue
            obj, oid, pre, pid, effect, mech, related, options = cols
            problem = _check(obj, oid, pre, pid)
            if problem:
                yield Rejected(path.name, n, problem[1], field=problem[0], raw=text)
                continue
            key, swapped = pair_key(norm_name(obj), norm_name(pre))
            if key in seen:
                yield Rejected(
                    path.name,
                    n,
                    f"pair already listed at {seen[key]}",
                    field="precipitant",
                    record_id=key,
                    raw=text,
                )
                continue
            seen[key] = f"{path.name}:{n}"
            m = _ADVICE.match(options)
            severity = m.group(1) if m else None
            (a, ida), (b, idb) = ((pre, pid), (obj, oid)) if swapped else ((obj, oid), (pre, pid))
            data = {
                "drug_a": a,
                "drug_b": b,
                "ids_a": {"drugbank": [ida]},
                "ids_b": {"drugbank": [idb]},
                "severity": severity,
                "level": LEVELS[severity.lower()] if severity else "unknown",
                "mechanism": clean_text(mech),
                "management": clean_text(options),
                "text": clean_text(effect),
                "related_drugs": clean_text(related),
                "object": obj,
                "precipitant": pre,
                "lang": "en",
            }
            yield Record(key, data, raw=text)


def _check(obj: str, oid: str, pre: str, pid: str) -> tuple[str, str] | None:
    if not obj:
        return "object", "empty object drug name"
    if not pre:
        return "precipitant", "empty precipitant drug name"
    if not is_drugbank_id(oid):
        return "object_drugbank", f"malformed DrugBank id {oid!r} in object_drugbank"
    if not is_drugbank_id(pid):
        return "precipitant_drugbank", f"malformed DrugBank id {pid!r} in precipitant_drugbank"
    if norm_name(obj) == norm_name(pre):
        return "precipitant", "object and precipitant name the same drug"
    return None


SPEC = SourceSpec(
    name="credible_meds_ddi",
    licence="CredibleMeds terms of use (not stated in the data README)",
    title="CredibleMeds drug–drug interactions (2017)",
    parse=parse,
)


def releases(folder: Path) -> list[Release]:
    """Each CredibleMeds listing file, dated by the ``MMDDYYYY`` in its name."""
    sub = subfolder(folder, "public_pddi")
    out: list[Release] = []
    for p in sorted(sub.glob("Crediblemeds__credibleMeds-listing-*.txt")):
        when = name_date(p.name)
        if when:
            out.append((SPEC, p.name, (p,), when))
    return sorted(out, key=lambda r: r[3])
