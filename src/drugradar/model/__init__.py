"""Domain types, as typed dataclasses (never dict subclasses)."""

from drugradar.model.drug import (
    ALIAS_RANK,
    AliasType,
    Drug,
    DrugTarget,
    Indication,
    Modality,
    PharmClass,
    SaltForm,
    Synonym,
    Target,
)
from drugradar.model.provenance import Provenance

__all__ = [
    "ALIAS_RANK",
    "AliasType",
    "Drug",
    "DrugTarget",
    "Indication",
    "Modality",
    "PharmClass",
    "Provenance",
    "SaltForm",
    "Synonym",
    "Target",
]
