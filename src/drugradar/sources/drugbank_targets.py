"""DrugBank target polypeptides (CC BY-NC 4.0: non-commercial): target, gene, UniProt, drugs.

Two different downloads, kept as two sources so one never "removes" the other's records:
``all_target_polypeptides`` (every target) and ``pharmacologically_active`` (the subset through
which the drug acts).
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from drugradar.sources.base import Parsed, Record, Rejected, SourceSpec, csv_rows

_DBID = re.compile(r"DB\d{5}")
LICENCE = "CC BY-NC 4.0 (DrugBank, non-commercial)"


def parse(paths: Sequence[Path]) -> Iterator[Parsed]:
    """One ``Record`` per target polypeptide ID (a target's drugs may span several rows)."""
    targets: dict[str, dict[str, Any]] = {}
    for path in paths:
        fname = path.name
        header: list[str] | None = None
        for n, fields, raw in csv_rows(path, delimiter=","):
            if fields is None:
                yield Rejected(fname, n, "line is not valid UTF-8 or not valid CSV", raw=raw)
                continue
            if header is None:
                header = [f.strip().lower() for f in fields]
                continue
            if len(fields) != len(header):
                yield Rejected(
                    fname, n, f"expected {len(header)} columns, found {len(fields)}", raw=raw
                )
                continue
            row = dict(zip(header, (f.strip() for f in fields), strict=True))
            tid = row.get("id", "")
            if not tid:
                yield Rejected(fname, n, "empty target ID", field="ID", raw=raw)
                continue
            cur = targets.setdefault(
                tid,
                {
                    "name": row.get("name") or None,
                    "gene": row.get("gene name") or None,
                    "uniprot": row.get("uniprot id") or None,
                    "organism": row.get("species") or None,
                    "drugs": set(),
                },
            )
            cur["drugs"].update(_DBID.findall(row.get("drug ids", "")))
    for tid, rec in targets.items():
        yield Record(tid, {**rec, "drugs": sorted(rec["drugs"])})


ALL_SPEC = SourceSpec(
    name="drugbank_targets",
    licence=LICENCE,
    title="DrugBank target polypeptides",
    parse=parse,
)
ACTIVE_SPEC = SourceSpec(
    name="drugbank_active_targets",
    licence=LICENCE,
    title="DrugBank pharmacologically active targets",
    parse=parse,
)
