"""EMA orphan designations: every EU orphan designation, granted, withdrawn, expired or refused.

File: EMA's download ``medicines_output_orphan_designations_en.csv`` (10 columns: ``Medicine
name``, ``Related EMA product number``, ``Active substance``, ``Date of designation / refusal``,
``Intended use``, ``EU designation number``, ``Status``, ``First published date``, ``Last updated
date``, ``Orphan designation URL``), possibly with EMA's title rows before the header.
Live download: https://www.ema.europa.eu/en/medicines/download-medicine-data (Orphan designations).

``record_id`` is the EU designation number (``EU/3/16/1609``; the newer ``EMA/OD/0000149115``
form is kept as is). Refused applications carry no number (``-``, ``N/A``): they fall back to
their page address path (``url:human/orphan-designations/refusal-orphan-designation-...``).
A stray character around a number (``EU/3/11/878)``) is dropped.

A few numbers appear on two rows (two pages for one designation, e.g. ``EU/3/14/1325`` once
"Positive" and once, updated later, "Withdrawn"): they are merged into one record whose values
come from the most recently updated row, with gaps filled from the other, and ``urls`` lists
every page.

``data``:

- ``designation_number`` (normalised; ``None`` for refusals), ``status`` (``positive``,
  ``withdrawn``, ``expired``, ``negative``), ``status_raw``
- ``medicine_name`` verbatim and ``medicine_names`` list (``;``-separated when the designation
  led to several medicines), ``product_numbers`` (related EMA product numbers, list)
- ``active_substance`` verbatim, ``active_substances`` list
- ``condition`` (the intended use, e.g. "Treatment of myelofibrosis")
- ``designation_date`` (date of designation, or of refusal for a negative one), ISO
- ``sponsor``: ``None`` (the 2025 download has no sponsor column; read when present)
- ``first_published``, ``last_updated`` (ISO), ``url`` and ``urls`` (sorted)

An unreadable date is ``None`` plus ``<key>_raw``. A row with neither number nor URL, or with no
substance and no condition, is rejected.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from drugradar.sources.base import JSONDict, Parsed, Record, Rejected, SourceSpec
from drugradar.sources.ema_common import Row, put_date, read_table, slug, split_list, text, url_id

NUMBER = ("eu designation number",)
URL = ("orphan designation url", "url")
REQUIRED = (NUMBER, ("intended use",), ("status",))

_EU_NUMBER = re.compile(r"EU/3/\d{2}/\d+")
_OD_NUMBER = re.compile(r"EMA/OD/\d+")
_NO_NUMBER = {"-", "n/a", "na", "none"}


def parse(paths: Sequence[Path]) -> Iterator[Parsed]:
    """One ``Record`` per orphan designation (duplicate numbers merged, see the module doc)."""
    for path in paths:
        found: dict[str, list[tuple[JSONDict, Row]]] = {}
        for row in read_table(path, REQUIRED):
            if isinstance(row, Rejected):
                yield row
                continue
            item = _designation(row)
            if isinstance(item, Rejected):
                yield item
                continue
            found.setdefault(item[0], []).append((item[1], row))
        for record_id, rows in found.items():
            yield _merge(record_id, rows)


def designation_number(value: str | None) -> str | None:
    """``"EU/3/11/878)"`` -> ``"EU/3/11/878"``; ``"-"`` -> ``None``."""
    if not value:
        return None
    m = _EU_NUMBER.search(value) or _OD_NUMBER.search(value)
    return m.group(0) if m else None


def _designation(row: Row) -> tuple[str, JSONDict] | Rejected:
    raw_number = text(row.get(*NUMBER))
    number = designation_number(raw_number)
    url = text(row.get(*URL))
    page = url_id(url)
    if number is None and raw_number and raw_number.lower() not in _NO_NUMBER and page is None:
        return _reject(row, f"malformed EU designation number {raw_number!r}", NUMBER)
    if number is None and page is None:
        return _reject(row, "no EU designation number and no URL to identify it", NUMBER)
    record_id = number or f"url:{page}"
    substance = text(row.get("active substance"))
    condition = text(row.get("intended use"))
    if substance is None and condition is None:
        reason = "neither active substance nor intended use"
        return _reject(row, reason, ("intended use",), record_id)
    status = text(row.get("status"))
    names = text(row.get("medicine name"))
    data: JSONDict = {
        "designation_number": number,
        "status": slug(status),
        "status_raw": status,
        "medicine_name": names,
        "medicine_names": split_list(names),
        "product_numbers": split_list(text(row.get("related ema product number"))),
        "active_substance": substance,
        "active_substances": split_list(substance),
        "condition": condition,
        "sponsor": text(row.get("sponsor", "sponsor/applicant", "sponsor name")),
        "url": url,
    }
    put_date(data, "designation_date", row, "date of designation / refusal", "date of designation")
    put_date(data, "first_published", row, "first published date", "first published")
    put_date(data, "last_updated", row, "last updated date", "last updated")
    return record_id, data


def _reject(
    row: Row, reason: str, column: tuple[str, ...], record_id: str | None = None
) -> Rejected:
    field = row.label(*column)
    return Rejected(row.file_name, row.line, reason, field=field, record_id=record_id, raw=row.raw)


def _merge(record_id: str, rows: list[tuple[JSONDict, Row]]) -> Record:
    """The most recently updated row wins; its empty values are filled from the others."""

    def recency(item: tuple[JSONDict, Row]) -> tuple[str, str, int, str]:
        d = item[0]
        filled = sum(v not in (None, [], "") for v in d.values())
        return (d["last_updated"] or "", d["first_published"] or "", filled, d["url"] or "")

    ordered = sorted(rows, key=recency, reverse=True)
    data: dict[str, Any] = dict(ordered[0][0])
    for other, _ in ordered[1:]:
        for key, value in other.items():
            if key in data and data[key] in (None, []) and value not in (None, []):
                data[key] = value
    data["urls"] = sorted({d["url"] for d, _ in rows if d["url"]})
    raw = "\n".join(r.raw for _, r in sorted(rows, key=lambda x: x[1].line))
    return Record(record_id, data, raw=raw)


SPEC = SourceSpec(
    name="ema_orphan_designations",
    licence="EMA data; reuse with acknowledgement of EMA as the source",
    title="EMA orphan designations",
    parse=parse,
)
