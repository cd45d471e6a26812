"""DrugCentral 2016 (CC BY 4.0): targets with action type, indications, classes, identifiers.

Four tab-separated tables keyed by DrugCentral ``DRUG_ID``, merged into one record per drug so
that a change to any of them is a change to that drug's record. Live: https://drugcentral.org/download
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from drugradar.sources.base import Parsed, Record, Rejected, SourceSpec, csv_rows

TABLES = {
    "drug_target.tsv": "targets",
    "drug_indication.tsv": "indications",
    "pharm_class.tsv": "classes",
    "identifiers.tsv": "identifiers",
}
_KEEP = {
    "targets": ("target_name", "target_family", "uniprot", "gene", "action_type", "source"),
    "indications": ("indication_fdb", "umls_cui", "snomedct_cui", "doid"),
    "classes": ("type", "class_source_id", "class", "source"),
    "identifiers": ("id_type", "identifier"),
}


def release_files(folder: Path) -> list[Path]:
    return [folder / t for t in TABLES if (folder / t).exists()]


def parse(paths: Sequence[Path]) -> Iterator[Parsed]:
    """One ``Record`` per DrugCentral drug id, with its rows from every table."""
    drugs: dict[str, dict[str, Any]] = {}
    for path in paths:
        kind = TABLES.get(path.name)
        if kind is None:
            continue
        header: list[str] | None = None
        for n, fields, raw in csv_rows(path, delimiter="\t"):
            if fields is None:
                yield Rejected(path.name, n, "line is not valid UTF-8 or not valid TSV", raw=raw)
                continue
            if header is None:
                header = [f.strip().lower() for f in fields]
                continue
            if len(fields) != len(header):
                yield Rejected(
                    path.name, n, f"expected {len(header)} columns, found {len(fields)}", raw=raw
                )
                continue
            row = dict(zip(header, (f.strip() for f in fields), strict=True))
            did, name = row.get("drug_id", ""), row.get("drug_name", "")
            if not did.isdigit():
                yield Rejected(path.name, n, f"malformed DRUG_ID {did!r}", field="DRUG_ID", raw=raw)
                continue
            if not name:
                yield Rejected(
                    path.name, n, "empty DRUG_NAME", field="DRUG_NAME", record_id=did, raw=raw
                )
                continue
            rec = drugs.setdefault(
                did,
                {"name": name, "targets": [], "indications": [], "classes": [], "identifiers": []},
            )
            rec[kind].append({k: (row.get(k) or None) for k in _KEEP[kind]})
    for did, rec in drugs.items():
        for kind in _KEEP:
            rec[kind] = sorted(rec[kind], key=lambda d: [str(v) for v in d.values()])
        yield Record(did, rec)


SPEC = SourceSpec(
    name="drugcentral",
    licence="CC BY 4.0 (DrugCentral)",
    title="DrugCentral 2016",
    parse=parse,
)
