"""Which files of a vocabulary folder belong to which source, and each release's date.

A release's date comes from the file name when it has one (``…_2023-08_….csv.gz``), else from
``data/release_dates.csv`` (files whose name carries only a version), else the file's mtime.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from datetime import UTC, date, datetime
from importlib import resources
from pathlib import Path

from drugradar.sources import (
    drugbank,
    drugbank_targets,
    drugcentral,
    drugcentral_history,
    mesh,
    unii,
    who_atc,
)
from drugradar.sources.base import SourceSpec, date_in_name


@dataclass(frozen=True, slots=True)
class Release:
    spec: SourceSpec
    label: str  # file or folder name shown to people
    paths: tuple[Path, ...]
    release_date: date
    scope: str | None = None  # one day of a series (a daily export of one query): its name


def _known_dates() -> dict[str, date]:
    text = resources.files("drugradar").joinpath("data/release_dates.csv").read_text("utf-8")
    rows = csv.DictReader(line for line in text.splitlines() if not line.startswith("#"))
    return {r["file_name"]: date.fromisoformat(r["release_date"]) for r in rows}


def release_date(path: Path) -> date:
    found = date_in_name(path.name) or _known_dates().get(path.name)
    if found:
        return found
    return datetime.fromtimestamp(path.stat().st_mtime, tz=UTC).date()


def vocab_releases(folder: Path) -> list[Release]:
    """Every release found under a ``vocab/`` folder, oldest first within each source."""
    out: list[Release] = []
    for p in sorted((folder / "unii").glob("UNII_Names*.txt*")):
        out.append(Release(unii.SPEC, p.name, (p,), release_date(p)))
    for p in sorted((folder / "drugbank-vocabulary").glob("*.csv*")):
        out.append(Release(drugbank.SPEC, p.name, (p,), release_date(p)))
    dc = folder / "drugcentral-2016"
    files = drugcentral.release_files(dc)
    if files:
        out.append(Release(drugcentral.SPEC, dc.name, tuple(files), release_date(dc)))
    for p in sorted((folder / "drugbank-targets").glob("*.csv")):
        spec = (
            drugbank_targets.ACTIVE_SPEC
            if "pharmacologically_active" in p.name
            else drugbank_targets.ALL_SPEC
        )
        out.append(Release(spec, p.name, (p,), release_date(p)))
    for p in sorted((folder / "mesh-2024").glob("*.tsv*")):
        out.append(Release(mesh.SPEC, p.name, (p,), release_date(folder / "mesh-2024")))
    for p in sorted((dc / "history_drug_target").glob("drug_target_*.tsv*")):
        out.append(Release(drugcentral_history.SPEC, p.name, (p,), release_date(p)))
    for p in sorted((folder / "atc").glob("WHO_ATC-DDD_*.csv*")):
        out.append(Release(who_atc.SPEC, p.name, (p,), release_date(p)))
    order = {name: i for i, name in enumerate(SOURCE_ORDER)}
    return sorted(out, key=lambda r: (order[r.spec.name], r.release_date, r.label))


SOURCE_ORDER = (
    "unii",
    "drugbank",
    "drugcentral",
    "drugbank_targets",
    "drugbank_active_targets",
    "mesh",
    "drugcentral_history",  # dated series kept for their changes (events)
    "who_atc",
)
SPECS = {
    s.name: s
    for s in (
        unii.SPEC,
        drugbank.SPEC,
        drugcentral.SPEC,
        drugbank_targets.ALL_SPEC,
        drugbank_targets.ACTIVE_SPEC,
        mesh.SPEC,
        drugcentral_history.SPEC,
        who_atc.SPEC,
    )
}


# -- the profile's sources: regulators, labels, interactions --------------------------------
PROFILE_GROUPS = ("fda", "ema", "labels", "ddi")


def profile_releases(data: Path, groups: tuple[str, ...] = PROFILE_GROUPS) -> list[Release]:
    """Every release of the profile sources under a data root (``../shared/data``): Drugs@FDA and
    the Orange Book, EMA, labels, interactions — oldest first within each source."""
    from drugradar.sources import ddi, drugsatfda, ema, openfda_labels, orange_book, spl

    found: list[tuple[SourceSpec, str, tuple[Path, ...], date]] = []
    folders = {
        "fda": [
            (data / "fda" / "drugsatfda", drugsatfda.releases),
            (data / "fda" / "orange-book", orange_book.releases),
        ],
        "ema": [(data / "ema", ema.releases)],
        "labels": [
            (data / "fda" / "labels", spl.releases),
            (data / "fda" / "labels", openfda_labels.releases),
        ],
        "ddi": [(data / "ddi", ddi.releases)],
    }
    for group in groups:
        for folder, discover in folders[group]:
            if folder.is_dir():
                found += discover(folder)
    out = [Release(spec, f"{spec.name}: {label}", paths, day) for spec, label, paths, day in found]
    return sorted(out, key=lambda r: (r.spec.name, r.release_date, r.label))
