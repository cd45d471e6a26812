"""A clinical trial, one model whichever ClinicalTrials.gov format it was read from.

Enumerations use the API v2 vocabulary (``PHASE2``, ``RECRUITING``, ``ACTIVE_COMPARATOR``…);
readers of the legacy XML and TSV formats map their words onto it. A value no mapping knows is kept
verbatim (and reported by the loader), never dropped and never a crash.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import orjson

# API v2 enums, for reference and for mapping legacy words onto them.
PHASES = ("EARLY_PHASE1", "PHASE1", "PHASE2", "PHASE3", "PHASE4", "NA")
STATUSES = (
    "ACTIVE_NOT_RECRUITING",
    "COMPLETED",
    "ENROLLING_BY_INVITATION",
    "NOT_YET_RECRUITING",
    "RECRUITING",
    "SUSPENDED",
    "TERMINATED",
    "WITHDRAWN",
    "AVAILABLE",
    "NO_LONGER_AVAILABLE",
    "TEMPORARILY_NOT_AVAILABLE",
    "APPROVED_FOR_MARKETING",
    "WITHHELD",
    "UNKNOWN",
)
STUDY_TYPES = ("INTERVENTIONAL", "OBSERVATIONAL", "EXPANDED_ACCESS")
INTERVENTION_TYPES = (
    "DRUG",
    "BIOLOGICAL",
    "GENETIC",
    "DEVICE",
    "PROCEDURE",
    "BEHAVIORAL",
    "DIETARY_SUPPLEMENT",
    "RADIATION",
    "COMBINATION_PRODUCT",
    "DIAGNOSTIC_TEST",
    "OTHER",
)
ARM_TYPES = (
    "EXPERIMENTAL",
    "ACTIVE_COMPARATOR",
    "PLACEBO_COMPARATOR",
    "SHAM_COMPARATOR",
    "NO_INTERVENTION",
    "OTHER",
)
SPONSOR_CLASSES = (
    "INDUSTRY",
    "NIH",
    "FED",
    "OTHER_GOV",
    "INDIV",
    "NETWORK",
    "AMBIG",
    "OTHER",
    "UNKNOWN",
)


@dataclass(slots=True)
class TrialDate:
    """A date as the registry gives it (``2014-09`` or ``2014-09-30``) and whether it is ACTUAL
    or ESTIMATED (the legacy word "Anticipated" maps to ESTIMATED)."""

    date: str
    type: str | None = None


@dataclass(slots=True)
class Party:
    """A sponsor or collaborator; ``cls`` is the v2 agency class (INDUSTRY, NIH, OTHER…)."""

    name: str
    cls: str | None = None


@dataclass(slots=True)
class Intervention:
    type: str | None
    name: str
    other_names: list[str] = field(default_factory=list)
    arm_groups: list[str] = field(default_factory=list)  # arm labels the intervention is in
    description: str | None = None


@dataclass(slots=True)
class ArmGroup:
    label: str
    type: str | None = None  # EXPERIMENTAL, ACTIVE_COMPARATOR, PLACEBO_COMPARATOR…
    interventions: list[str] = field(default_factory=list)  # "Drug: X" style names, as given


@dataclass(slots=True)
class Site:
    facility: str | None
    city: str | None
    state: str | None
    country: str | None
    status: str | None = None


@dataclass(slots=True)
class Mesh:
    id: str | None
    term: str


@dataclass(slots=True)
class Trial:
    """One study. ``source_format`` says which reader filled it (v2-json, xml, tsv)."""

    nct_id: str
    source_format: str
    brief_title: str | None = None
    official_title: str | None = None
    acronym: str | None = None
    study_type: str | None = None
    phases: list[str] = field(default_factory=list)
    overall_status: str | None = None
    why_stopped: str | None = None
    start_date: TrialDate | None = None
    primary_completion_date: TrialDate | None = None
    completion_date: TrialDate | None = None
    first_posted: str | None = None
    results_first_posted: str | None = None
    last_update_posted: str | None = None
    enrollment: int | None = None
    enrollment_type: str | None = None  # ACTUAL or ESTIMATED
    conditions: list[str] = field(default_factory=list)
    condition_meshes: list[Mesh] = field(default_factory=list)
    condition_ancestors: list[Mesh] = field(default_factory=list)
    keywords: list[str] = field(default_factory=list)
    interventions: list[Intervention] = field(default_factory=list)
    arm_groups: list[ArmGroup] = field(default_factory=list)
    sponsor: Party | None = None
    collaborators: list[Party] = field(default_factory=list)
    countries: list[str] = field(default_factory=list)
    sites: list[Site] = field(default_factory=list)
    has_results: bool = False
    unknown_values: list[str] = field(default_factory=list)  # "field: value" no mapping knew

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON types; orjson walks dataclasses ~20x faster than ``dataclasses.asdict``."""
        return orjson.loads(orjson.dumps(self))  # type: ignore[no-any-return]
