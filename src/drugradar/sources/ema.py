"""European Medicines Agency tables: which files of an ``ema/`` folder are which source, and when.

Layout: one folder per dated snapshot, ``<yyyy-mm>_<what>/``, holding EMA downloads:

- ``2019-12_epar/``, ``2020-12_epar_xlsx/``: the old EPAR table
  ``Medicines_output_european_public_assessment_reports.xlsx`` (the 2019 folder's ``.csv`` and
  ``epar.csv`` are derived year/indication extracts without product numbers: not read);
- ``2025-03_medicines_output/``: ``medicines_output_<table>_en.csv[.gz]`` for the medicines,
  orphan designations, DHPC, referral, PSUSA and shortage tables.

The parsers and the ``data`` of each source are described in ``ema_medicines``,
``ema_designations`` and ``ema_safety``. Live downloads:
https://www.ema.europa.eu/en/medicines/download-medicine-data

Release date: the folder's ``yyyy-mm`` (or ``yyyy_mm``) gives the first of that month, except
when a file still carries EMA's own "Output generated at:" stamp from an earlier day: that stamp
is when EMA produced the table, and the folder date only when someone committed it. This matters:
``2020-12_epar_xlsx`` holds a table generated on 2018-12-23, older than ``2019-12_epar``'s
(2019-11-25); dated by folder, the replay would run backwards and "remove" the 2019 approvals.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, date, datetime
from pathlib import Path

from drugradar.sources import ema_designations, ema_medicines, ema_safety
from drugradar.sources.base import SourceSpec, date_in_name
from drugradar.sources.ema_common import generated_at

SPECS: tuple[SourceSpec, ...] = (
    ema_medicines.SPEC,
    ema_designations.SPEC,
    ema_safety.DHPC_SPEC,
    ema_safety.REFERRALS_SPEC,
    ema_safety.PSUSA_SPEC,
    ema_safety.SHORTAGES_SPEC,
)

_TABLE_FILE = re.compile(r"\.(csv|csv\.gz|csv\.bz2|csv\.xz|xlsx)$", re.IGNORECASE)


def _medicines(name: str) -> bool:
    low = name.lower()
    if "european_public_assessment_reports" in low:
        return low.endswith(".xlsx")  # the .csv beside it is a derived extract
    return "medicines_output_medicines" in low


# which files of a snapshot folder belong to which source, by name
FILES: dict[str, Callable[[str], bool]] = {
    "ema_medicines": _medicines,
    "ema_orphan_designations": lambda n: "orphan_designations" in n.lower(),
    "ema_dhpc": lambda n: "dhpc" in n.lower(),
    "ema_referrals": lambda n: "referrals" in n.lower(),
    "ema_psusa": lambda n: "periodic_safety_update" in n.lower() or "psusa" in n.lower(),
    "ema_shortages": lambda n: "shortages" in n.lower(),
}

_YEAR_MONTH = re.compile(r"(?<!\d)(\d{4})_(\d{2})(?!\d)")


def folder_date(name: str) -> date | None:
    """``2019-12_epar`` -> 2019-12-01; ``2016_08`` -> 2016-08-01 (first of the month)."""
    found = date_in_name(name)
    if found:
        return found
    m = _YEAR_MONTH.search(name)
    if m and 1 <= int(m.group(2)) <= 12:
        return date(int(m.group(1)), int(m.group(2)), 1)
    return None


def release_date(folder: Path, paths: tuple[Path, ...]) -> date:
    """The folder's date, or EMA's "generated at" stamp in the files when that is earlier."""
    stamps = [d for d in (generated_at(p) for p in paths) if d is not None]
    named = folder_date(folder.name)
    if named is None and not stamps:
        return datetime.fromtimestamp(folder.stat().st_mtime, tz=UTC).date()
    candidates = [*stamps, *([named] if named else [])]
    return min(candidates)


def releases(folder: Path) -> list[tuple[SourceSpec, str, tuple[Path, ...], date]]:
    """``(spec, label, paths, release date)`` of every source in every snapshot folder under
    ``folder`` (the ``ema/`` folder), oldest first within each source."""
    out: list[tuple[SourceSpec, str, tuple[Path, ...], date]] = []
    snapshots = sorted(p for p in folder.iterdir() if p.is_dir()) if folder.is_dir() else []
    for snap in snapshots:
        files = sorted(p for p in snap.iterdir() if p.is_file() and _TABLE_FILE.search(p.name))
        for spec in SPECS:
            paths = tuple(p for p in files if FILES[spec.name](p.name))
            if paths:
                out.append((spec, snap.name, paths, release_date(snap, paths)))
    order = {spec.name: i for i, spec in enumerate(SPECS)}
    return sorted(out, key=lambda r: (order[r[0].name], r[3], r[1]))
