"""What every ClinicalTrials.gov reader shares: the study-as-read record and the mappings of
legacy (XML, TSV) words onto the API v2 vocabulary.

Every mapping keeps a value it does not know verbatim and says so (``Unknown``), so that a new
phase or status string is reported by the loader, never dropped and never a crash.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime
from functools import lru_cache

from drugradar.model.trial import (
    ARM_TYPES,
    INTERVENTION_TYPES,
    PHASES,
    SPONSOR_CLASSES,
    STATUSES,
    STUDY_TYPES,
    Trial,
)

NCT_ID = re.compile(r"^NCT\d{8}$")
ARCHIVE_SUFFIXES = (".tar", ".tar.xz", ".txz", ".tar.gz", ".tgz", ".tar.bz2", ".tbz2")
LICENCE = "ClinicalTrials.gov terms of use (US government public data)"


@dataclass(slots=True)
class StudyDoc:
    """One study as read from a file: the mapped trial, its raw text, where and as of when."""

    trial: Trial
    raw: str  # the record as the file holds it (JSON text, XML text, TSV line)
    origin: str  # file name, and the member's name inside an archive
    as_of: date | None  # the date the file says the record is from, if it says


@lru_cache(maxsize=4096)
def _enum_word(value: str) -> str:
    return re.sub(r"[^A-Z0-9]+", "_", value.strip().upper()).strip("_")


def _mapped(
    value: str | None,
    known: tuple[str, ...],
    aliases: dict[str, str],
    trial: Trial,
    field_name: str,
) -> str | None:
    if value is None or not value.strip():
        return None
    word = _enum_word(value)
    word = aliases.get(word, word)
    if word not in known:
        trial.unknown_values.append(f"{field_name}: {value}")
        return value.strip()
    return word


_STATUS_ALIASES = {
    "ACTIVE_NOT_RECRUITING": "ACTIVE_NOT_RECRUITING",
    "UNKNOWN_STATUS": "UNKNOWN",
    "APPROVED_FOR_MARKETING": "APPROVED_FOR_MARKETING",
}
_TYPE_ALIASES = {"BIOLOGIC": "BIOLOGICAL", "GENETIC_THERAPY": "GENETIC"}
_STUDY_ALIASES = {"EXPANDED_ACCESS_INDIVIDUAL_PATIENTS": "EXPANDED_ACCESS"}
_ARM_ALIASES = {"PLACEBO": "PLACEBO_COMPARATOR", "SHAM": "SHAM_COMPARATOR"}
_CLASS_ALIASES = {"U_S_FED": "FED", "US_FED": "FED", "FEDERAL": "FED"}


def status(value: str | None, trial: Trial) -> str | None:
    """``'Active, not recruiting'`` -> ``ACTIVE_NOT_RECRUITING``."""
    return _mapped(value, STATUSES, _STATUS_ALIASES, trial, "overall_status")


def study_type(value: str | None, trial: Trial) -> str | None:
    if value and value.lower().startswith("expanded access"):
        return "EXPANDED_ACCESS"
    return _mapped(value, STUDY_TYPES, _STUDY_ALIASES, trial, "study_type")


def intervention_type(value: str | None, trial: Trial) -> str | None:
    """``'Dietary Supplement'`` -> ``DIETARY_SUPPLEMENT``."""
    return _mapped(value, INTERVENTION_TYPES, _TYPE_ALIASES, trial, "intervention_type")


def arm_type(value: str | None, trial: Trial) -> str | None:
    """``'Active Comparator'`` -> ``ACTIVE_COMPARATOR``."""
    return _mapped(value, ARM_TYPES, _ARM_ALIASES, trial, "arm_group_type")


def sponsor_class(value: str | None, trial: Trial) -> str | None:
    """``'Industry'`` -> ``INDUSTRY``, ``'U.S. Fed'`` -> ``FED``."""
    return _mapped(value, SPONSOR_CLASSES, _CLASS_ALIASES, trial, "agency_class")


_PHASE_WORDS = {
    "EARLY_PHASE_1": "EARLY_PHASE1",
    "EARLY_PHASE1": "EARLY_PHASE1",
    "PHASE_0": "EARLY_PHASE1",
    "PHASE_1": "PHASE1",
    "PHASE1": "PHASE1",
    "PHASE_2": "PHASE2",
    "PHASE2": "PHASE2",
    "PHASE_3": "PHASE3",
    "PHASE3": "PHASE3",
    "PHASE_4": "PHASE4",
    "PHASE4": "PHASE4",
    "N_A": "NA",
    "NA": "NA",
    "NOT_APPLICABLE": "NA",
}


def phases(value: str | list[str] | None, trial: Trial) -> list[str]:
    """``'Phase 1/Phase 2'``, ``'Phase 1|Phase 2'``, ``['PHASE1', 'PHASE2']`` -> v2 phase list."""
    if value is None:
        return []
    if isinstance(value, list):
        parts = value
    else:
        parts = re.split(r"[|/]", re.sub(r"\bN/A\b", "NA", value, flags=re.IGNORECASE))
    out: list[str] = []
    for part in parts:
        if not part.strip():
            continue
        word = _PHASE_WORDS.get(_enum_word(part))
        if word is None:
            trial.unknown_values.append(f"phase: {part.strip()}")
            word = part.strip()
        if word not in out:
            out.append(word)
    return sorted(out, key=lambda p: PHASES.index(p) if p in PHASES else len(PHASES))


_DATE_FORMATS = ("%B %d, %Y", "%B %Y", "%b %d, %Y", "%b %Y", "%Y-%m-%d", "%Y-%m", "%m/%d/%Y")


@lru_cache(maxsize=4096)  # dates repeat across studies ("March 2020"); strptime is slow
@lru_cache(maxsize=1 << 14)  # a dump repeats the same few thousand date texts
def date_text(value: str | None) -> str | None:
    """``'April 2009'`` -> ``'2009-04'``; ``'September 30, 2014'`` -> ``'2014-09-30'``; ISO kept.

    The precision of the source is kept (a month stays a month). ``None`` when unreadable.
    """
    if value is None or not value.strip():
        return None
    text = value.strip()
    for fmt in _DATE_FORMATS:
        try:
            d = datetime.strptime(text, fmt)
        except ValueError:
            continue
        return d.strftime("%Y-%m-%d" if "%d" in fmt else "%Y-%m")
    return None


def date_type(value: str | None) -> str | None:
    """``'Actual'`` -> ACTUAL; ``'Anticipated'``/``'Estimated'`` -> ESTIMATED."""
    if not value:
        return None
    v = value.strip().upper()
    if v.startswith("ACTUAL"):
        return "ACTUAL"
    if v.startswith(("ANTICIPATED", "ESTIMATE")):
        return "ESTIMATED"
    return None
