"""DrugCentral's drug → target table as it stood at 14 dated revisions (2015-05 → 2016-05).

``history_drug_target/drug_target_<date>_<commit>.tsv.gz``: the precursor repository's table at
each commit (CC BY 4.0). Its layout grew: 8 columns (``DRUG_ID, CHEMBL_ID, DRUG_NAME,
TARGET_NAME, UNIPROT, ACTION_TYPE, SOURCE, REFERENCE``), then ``TARGET_FAMILY`` and ``GENE``
(2015-08), then ``SWISSPROT`` (2015-09); every file is read by its own header, and a column a
layout lacks is None. A row's ``UNIPROT`` lists every accession of a multicomponent target
(``P1|P2``); one record per drug and accession (``<DRUG_ID>/<accession>``), holding the rows that
name it, so that "drug X gained target Y" is one record appearing. The current 2016 table is
``sources.drugcentral``; this series is kept for its changes (``track.rules.drugcentral``).
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from drugradar.sources.base import Parsed, Record, Rejected, SourceSpec, header_rows

REQUIRED = ("drug_id", "drug_name", "uniprot", "action_type")
ROW_FIELDS = (
    "target_name",
    "target_family",
    "uniprot",
    "gene",
    "swissprot",
    "action_type",
    "source",
    "reference",
)
_ACCESSION = re.compile(r"^[A-Z0-9]{6,10}(?:-\d+)?$")


def _stripped(text: str) -> str | None:
    return text.strip() or None


def record_id(drug: str, accession: str) -> str:
    return f"{drug}/{accession}"


def parse(paths: Sequence[Path]) -> Iterator[Parsed]:
    """One ``Record`` per (DRUG_ID, UniProt accession): ``{"drug_id", "drug_name",
    "chembl_id", "rows": [{target_name, target_family, uniprot, gene, swissprot, action_type,
    source, reference}, ...]}``."""
    pairs: dict[str, dict[str, Any]] = {}
    for path in paths:
        for item in header_rows(path, "\t", REQUIRED, _stripped):
            if isinstance(item, Rejected):
                yield item
                continue
            n, row, raw = item
            drug = row["drug_id"] or ""
            if not drug.isdigit():
                yield Rejected(
                    path.name, n, f"malformed DRUG_ID {drug!r}", field="DRUG_ID", raw=raw
                )
                continue
            if not row["drug_name"]:
                yield Rejected(
                    path.name, n, "empty DRUG_NAME", field="DRUG_NAME", record_id=drug, raw=raw
                )
                continue
            accessions = [a.strip() for a in (row["uniprot"] or "").split("|") if a.strip()]
            bad = [a for a in accessions if not _ACCESSION.match(a)]
            if not accessions or bad:
                what = f"malformed UniProt accession {bad[0]!r}" if bad else "empty UNIPROT"
                yield Rejected(path.name, n, what, field="UNIPROT", record_id=drug, raw=raw)
                continue
            kept = {k: row.get(k) for k in ROW_FIELDS}
            for acc in accessions:
                rec = pairs.setdefault(
                    record_id(drug, acc),
                    {
                        "drug_id": drug,
                        "accession": acc,
                        "drug_name": row["drug_name"],
                        "chembl_id": row.get("chembl_id"),
                        "rows": [],
                    },
                )
                rec["rows"].append(kept)
    for rid, rec in pairs.items():
        rec["rows"] = sorted(rec["rows"], key=lambda d: [str(v) for v in d.values()])
        yield Record(rid, rec)


SPEC = SourceSpec(
    name="drugcentral_history",
    licence="CC BY 4.0 (DrugCentral)",
    title="DrugCentral drug-target history 2015-2016",
    parse=parse,
)
