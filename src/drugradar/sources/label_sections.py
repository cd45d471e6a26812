"""The label section vocabulary: SPL LOINC section codes and openFDA field names -> our keys.

Every SPL section carries a LOINC code (``34084-4`` "Adverse Reactions"); openFDA's label JSON
names the same sections with field names derived from the LOINC display name
(``adverse_reactions``, ``boxed_warning``, ``spl_unclassified_section``). Both are mapped here to
one vocabulary of section keys, so that a label read from SPL XML, from openFDA JSON or from a
partial extract is asked for "the adverse reactions" the same way.

The key is the slug of the LOINC display name (``&`` -> ``and``, ``/`` -> ``or``: exactly how
openFDA names its fields), except for a few sections merged into one key because labels of the
older and newer formats (and OTC Drug Facts) say the same thing under different codes:

- ``warnings_and_cautions``: Warnings and Precautions (PLR labels), Warnings, Precautions;
- ``lactation``: Lactation (PLLR labels), Nursing Mothers;
- ``patient_counseling``: Information for Patients (titled "Patient Counseling Information").

The codes are FDA's list (openFDA's ``spl_sections_loinc.csv``, 88 codes) plus the two sections
added by the 2015 Pregnancy and Lactation Labeling Rule (Lactation, Females & Males of
Reproductive Potential). A code not listed is keyed by the slug of the display name the SPL
itself gives (less a trailing "section").

Sections nest: a subsection keeps its own code and its parent's. Records list their sections in
document order with a ``level`` (1 = top), each with its own text only; ``section_text`` puts a
section back together with all of its subsections.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

UNCLASSIFIED_CODE = "42229-5"
UNCLASSIFIED_KEY = "spl_unclassified"


@dataclass(frozen=True, slots=True)
class Section:
    """One LOINC section code: FDA's display name, our key and the openFDA field name."""

    code: str
    display: str
    key: str
    openfda_field: str | None


# (LOINC code, display name as in FDA's list) — spl_sections_loinc.csv, in its order.
_LOINC: tuple[tuple[str, str], ...] = (
    ("34086-9", "Abuse"),
    ("60555-0", "Accessories"),
    ("34084-4", "Adverse Reactions"),
    ("69761-5", "Alarms"),
    ("34091-9", "Animal Pharmacology & or Toxicology"),
    ("60556-8", "Assembly or Installation Instructions"),
    ("34066-1", "Boxed Warning"),
    ("60557-6", "Calibration Instructions"),
    ("34083-6", "Carcinogenesis & Mutagenesis & Impairment of Fertility"),
    ("60684-8", "Cellular Therapy"),
    ("34090-1", "Clinical Pharmacology"),
    ("60558-4", "Cleaning, Disinfecting, and Sterilization Instructions"),
    ("34092-7", "Clinical Studies"),
    ("69760-7", "Compatible Accessories"),
    ("60559-2", "Components"),
    ("34070-3", "Contraindications"),
    ("34085-1", "Controlled Substance"),
    ("34087-7", "Dependence"),
    ("34089-3", "Description"),
    ("69758-1", "Diagram of Device"),
    ("69763-1", "Disposal and Waste Handling"),
    ("34068-7", "Dosage & Administration"),
    ("43678-2", "Dosage Forms & Strengths"),
    ("34074-5", "Drug & or Laboratory Test Interactions"),
    ("42227-9", "Drug Abuse and Dependence"),
    ("34073-7", "Drug Interactions"),
    ("50742-6", "Environmental Warning"),
    ("50743-4", "Food Safety Warning"),
    ("34072-9", "General Precautions"),
    ("34082-8", "Geriatric Use"),
    ("50740-0", "Guaranteed Analysis of Feed"),
    ("71744-7", "Health Care Provider Letter"),
    ("69719-3", "Health Claim"),
    ("34069-5", "How Supplied"),
    ("51727-6", "Inactive Ingredient"),
    ("34067-9", "Indications & Usage"),
    ("50744-2", "Information for Owners/Caregivers"),
    ("34076-0", "Information for Patients"),
    ("59845-8", "Instructions for Use"),
    ("60560-0", "Intended Use of the Device"),
    ("34079-4", "Labor & Delivery"),
    ("34075-2", "Laboratory Tests"),
    ("43679-0", "Mechanism of Action"),
    ("49489-8", "Microbiology"),
    ("43680-8", "Nonclinical Toxicology"),
    ("34078-6", "Nonteratogenic Effects"),
    ("34080-2", "Nursing Mothers"),
    ("60561-8", "Other Safety Information"),
    ("34088-5", "Overdosage"),
    ("55106-9", "Active Ingredient"),
    ("50569-3", "Ask Doctor"),
    ("50568-5", "Ask Doctor/Pharmacist"),
    ("50570-1", "Do Not Use"),
    ("50565-1", "Keep Out of Reach of Children"),
    ("53414-9", "Pregnancy or Breast Feeding"),
    ("55105-1", "Purpose"),
    ("53413-1", "Questions"),
    ("50566-9", "Stop Use"),
    ("50567-7", "When Using"),
    ("51945-4", "Package Label: Principal Display Panel"),
    ("68498-5", "Patient Medication Information"),
    ("34081-0", "Pediatric Use"),
    ("43681-6", "Pharmacodynamics"),
    ("66106-6", "Pharmacogenomics"),
    ("43682-4", "Pharmacokinetics"),
    ("42232-9", "Precautions"),
    ("42228-7", "Pregnancy"),
    ("43683-2", "Recent Major Changes"),
    ("34093-5", "References"),
    ("53412-3", "Residue Warning"),
    ("69759-9", "Risks"),
    ("60562-6", "Route, Method and Frequency of Administration"),
    ("50741-8", "Safe Handling Warning"),
    ("48779-3", "SPL Indexing Data Elements"),
    ("48780-1", "SPL Product Data Elements"),
    ("42231-1", "SPL Medguide"),
    ("42230-3", "SPL Patient Package Insert"),
    ("42229-5", "SPL Unclassified"),
    ("69718-5", "Statement of Identity"),
    ("44425-7", "Storage and Handling"),
    ("60563-4", "Summary of Safety and Effectiveness"),
    ("34077-8", "Teratogenic Effects"),
    ("69762-3", "Troubleshooting"),
    ("43684-0", "Use in Specific Populations"),
    ("54433-8", "User Safety Warnings"),
    ("50745-9", "Veterinary Indications"),
    ("43685-7", "Warnings and cautions"),
    ("34071-1", "Warnings"),
)
# Pregnancy and Lactation Labeling Rule (2015) sections, newer than FDA's list; openFDA has no
# field of their own for them.
_PLLR: tuple[tuple[str, str], ...] = (
    ("77290-5", "Lactation"),
    ("77291-3", "Females & Males of Reproductive Potential"),
)

# Our key where it is not the slug of the display name.
_KEY_OVERRIDES = {
    "43685-7": "warnings_and_cautions",
    "34071-1": "warnings_and_cautions",
    "42232-9": "warnings_and_cautions",
    "34080-2": "lactation",
    "34076-0": "patient_counseling",
    UNCLASSIFIED_CODE: UNCLASSIFIED_KEY,
}
# openFDA's field name where it is not the slug of the display name.
_OPENFDA_OVERRIDES = {
    "60684-8": None,  # Cellular Therapy: no openFDA field
    "60558-4": "cleaning",
    "60562-6": "route",
    UNCLASSIFIED_CODE: "spl_unclassified_section",
    "77290-5": None,
    "77291-3": None,
}

# The order sections are listed in when the source has none (openFDA JSON, extracts): the order
# of a prescribing information (PLR format), then Drug Facts, then everything else by key.
KEY_ORDER: tuple[str, ...] = (
    "boxed_warning",
    "recent_major_changes",
    "indications_and_usage",
    "dosage_and_administration",
    "dosage_forms_and_strengths",
    "contraindications",
    "warnings_and_cautions",
    "general_precautions",
    "adverse_reactions",
    "drug_interactions",
    "drug_and_or_laboratory_test_interactions",
    "use_in_specific_populations",
    "pregnancy",
    "teratogenic_effects",
    "nonteratogenic_effects",
    "labor_and_delivery",
    "lactation",
    "females_and_males_of_reproductive_potential",
    "pediatric_use",
    "geriatric_use",
    "drug_abuse_and_dependence",
    "controlled_substance",
    "abuse",
    "dependence",
    "overdosage",
    "description",
    "clinical_pharmacology",
    "mechanism_of_action",
    "pharmacodynamics",
    "pharmacokinetics",
    "pharmacogenomics",
    "microbiology",
    "nonclinical_toxicology",
    "carcinogenesis_and_mutagenesis_and_impairment_of_fertility",
    "animal_pharmacology_and_or_toxicology",
    "clinical_studies",
    "references",
    "how_supplied",
    "storage_and_handling",
    "patient_counseling",
    "spl_medguide",
    "spl_patient_package_insert",
    "active_ingredient",
    "purpose",
    "do_not_use",
    "ask_doctor",
    "ask_doctor_or_pharmacist",
    "when_using",
    "stop_use",
    "pregnancy_or_breast_feeding",
    "keep_out_of_reach_of_children",
    "inactive_ingredient",
    "questions",
)


def slug(display: str) -> str:
    """``'Drug & or Laboratory Test Interactions'`` ->
    ``'drug_and_or_laboratory_test_interactions'`` (openFDA's field names are made so)."""
    text = display.lower().replace("&", " and ").replace("/", " or ")
    return "_".join(re.findall(r"[a-z0-9]+", text))


def _build() -> tuple[Section, ...]:
    out = []
    for code, display in _LOINC + _PLLR:
        key = _KEY_OVERRIDES.get(code, slug(display))
        field = _OPENFDA_OVERRIDES[code] if code in _OPENFDA_OVERRIDES else slug(display)
        out.append(Section(code, display, key, field))
    return tuple(out)


SECTIONS: tuple[Section, ...] = _build()
BY_CODE: dict[str, Section] = {s.code: s for s in SECTIONS}
BY_OPENFDA_FIELD: dict[str, Section] = {
    s.openfda_field: s for s in SECTIONS if s.openfda_field is not None
}
_ORDER = {k: i for i, k in enumerate(KEY_ORDER)}
_PREFERRED_CODE = {"warnings_and_cautions": "43685-7", "lactation": "77290-5"}
_CODE_BY_KEY: dict[str, str] = {}
for _s in SECTIONS:
    _CODE_BY_KEY.setdefault(_s.key, _PREFERRED_CODE.get(_s.key, _s.code))


def key_for_code(code: str | None, display: str | None = None) -> str:
    """Our key for a LOINC section code; an unknown code is keyed by its display name's slug."""
    if code and code in BY_CODE:
        return BY_CODE[code].key
    name = re.sub(r"\s+section\s*$", "", (display or "").strip(), flags=re.IGNORECASE)
    return slug(name) or UNCLASSIFIED_KEY


def code_for_key(key: str) -> str | None:
    """The LOINC code of one of our keys (the PLR code where several codes share the key)."""
    return _CODE_BY_KEY.get(key)


def openfda_section(field: str) -> Section | None:
    """The section an openFDA label field holds (``adverse_reactions``), or None if unknown."""
    return BY_OPENFDA_FIELD.get(field)


def key_for_openfda_field(field: str) -> str:
    """Our key for an openFDA label field; an unknown field keeps its own name."""
    sec = BY_OPENFDA_FIELD.get(field)
    return sec.key if sec else field


def sort_key(key: str) -> tuple[int, str]:
    """Where a section goes when the source gives no order (see ``KEY_ORDER``)."""
    return (_ORDER.get(key, len(_ORDER)), key)


def section_text(data: Mapping[str, Any], key: str) -> str | None:
    """The whole text of the record's ``key`` sections, subsections (with their titles) included.

    Several sections with the key (Warnings and Precautions in an old-format label; Pregnancy
    under Contraindications and under Use in Specific Populations) are joined by blank lines; a
    section nested in another with the same key is not repeated. None when there is none.
    """
    sections: Sequence[Mapping[str, Any]] = data.get("sections") or []
    parts: list[str] = []
    i = 0
    while i < len(sections):
        sec = sections[i]
        if sec.get("key") != key:
            i += 1
            continue
        level = int(sec.get("level") or 1)
        pieces = [str(sec.get("text") or "")]
        j = i + 1
        while j < len(sections) and int(sections[j].get("level") or 1) > level:
            sub = sections[j]
            pieces.extend([str(sub.get("title") or ""), str(sub.get("text") or "")])
            j += 1
        text = "\n\n".join(p for p in pieces if p)
        if text:
            parts.append(text)
        i = j
    return "\n\n".join(parts) if parts else None
