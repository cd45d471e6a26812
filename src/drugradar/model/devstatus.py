"""The development-status record: drug × indication × country × organization, with the phase
reached and, kept apart, whether the work is still active — each with its date and sources."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum


class Phase(StrEnum):
    """drugradar's ordered scale of development phases (``RANK`` gives the order)."""

    UNKNOWN = "UNKNOWN"  # a clinical study of unstated phase: never ranks above PHASE_1
    DISCOVERY = "DISCOVERY"
    PRECLINICAL = "PRECLINICAL"
    IND = "IND"
    EARLY_PHASE_1 = "EARLY_PHASE_1"
    PHASE_1 = "PHASE_1"
    PHASE_1_2 = "PHASE_1_2"
    PHASE_2 = "PHASE_2"
    PHASE_2_3 = "PHASE_2_3"
    PHASE_3 = "PHASE_3"
    NDA_BLA = "NDA_BLA"
    APPROVED = "APPROVED"


RANK = {p: i for i, p in enumerate(Phase)}


class Activity(StrEnum):
    ACTIVE = "active"
    SUSPENDED = "suspended"
    NO_DEVELOPMENT_REPORTED = "no development reported"
    DISCONTINUED = "discontinued"
    WITHDRAWN = "withdrawn"


INACTIVE = {Activity.NO_DEVELOPMENT_REPORTED, Activity.DISCONTINUED, Activity.WITHDRAWN}


@dataclass(slots=True)
class DevStatus:
    drug_id: str
    indication_key: str  # a MeSH descriptor UI, or "text:<normalized condition>"
    indication_name: str
    country: str  # "" when the source names none
    org_key: str
    org_name: str
    phase: Phase
    phase_since: date | None
    activity: Activity
    activity_since: date | None
    activity_rule: str
    sources: list[str] = field(default_factory=list)  # source record ids (NCT numbers…)
    org_parent_key: str = ""  # the organization's parent company (itself when none is known)
    org_parent_name: str = ""
