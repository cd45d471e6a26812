"""DrugBank open vocabulary (CC0): DrugBank ID, common name, CAS, UNII, synonyms, InChIKey.

Releases differ in shape: the 2020-03 file has an extra ``Name`` column; the 2021-11 file is
``;``-separated with a ``Column1;Column2…`` row before the real header. Columns are found by
header name, so any of these (and the live download) parse the same way.
Live download: https://go.drugbank.com/releases/latest#open-data (drugbank vocabulary CSV).
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from pathlib import Path

from drugradar.sources.base import Parsed, Record, Rejected, SourceSpec, csv_rows

_DBID = re.compile(r"^DB\d{5}$")
_UNII = re.compile(r"^[0-9A-Z]{10}$")


def _split(value: str) -> list[str]:
    return sorted({s.strip() for s in value.split("|") if s.strip()})


def parse(paths: Sequence[Path]) -> Iterator[Parsed]:
    """One ``Record`` per DrugBank ID."""
    for path in paths:
        fname = path.name
        header: list[str] | None = None
        for n, fields, raw in csv_rows(path):
            if fields is None:
                yield Rejected(fname, n, "line is not valid UTF-8 or not valid CSV", raw=raw)
                continue
            if header is None:
                if fields and fields[0].strip().lower() == "drugbank id":
                    header = [f.strip().lower() for f in fields]
                continue  # rows before the header (e.g. "Column1;Column2") are not data
            if not any(f.strip() for f in fields):
                continue
            if len(fields) != len(header):
                yield Rejected(
                    fname, n, f"expected {len(header)} columns, found {len(fields)}", raw=raw
                )
                continue
            row = dict(zip(header, (f.strip() for f in fields), strict=True))
            dbid = row["drugbank id"]
            if not _DBID.match(dbid):
                yield Rejected(
                    fname, n, f"malformed DrugBank ID {dbid!r}", field="DrugBank ID", raw=raw
                )
                continue
            name = row.get("common name", "")
            if not name:
                yield Rejected(
                    fname, n, "empty common name", field="Common name", record_id=dbid, raw=raw
                )
                continue
            unii = row.get("unii", "")
            if unii and not _UNII.match(unii):
                yield Rejected(
                    fname, n, f"malformed UNII {unii!r}", field="UNII", record_id=dbid, raw=raw
                )
                unii = ""
            yield Record(
                dbid,
                {
                    "name": name,
                    "cas": row.get("cas") or None,
                    "unii": unii or None,
                    "synonyms": _split(row.get("synonyms", "")),
                    "accessions": _split(row.get("accession numbers", "")),
                    "inchikey": row.get("standard inchi key") or None,
                },
            )


SPEC = SourceSpec(
    name="drugbank",
    licence="CC0 1.0 (DrugBank open vocabulary)",
    title="DrugBank open vocabulary",
    parse=parse,
)
