"""Dictionary domain types: a drug, its names, targets, classes and indications."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

from drugradar.model.provenance import Provenance


class AliasType(StrEnum):
    """What kind of name an alias is; the order of ``ALIAS_RANK`` is how much a match on it says."""

    OFFICIAL = "official"  # FDA's preferred (USAN/INN-based) name for the substance
    INN = "inn"  # the WHO International Nonproprietary Name
    COMMON = "common"
    BRAND = "brand"
    CODE = "code"  # research / development code: MK-3475, STI-571
    SALT = "salt"  # a name of a salt or hydrate form of the drug
    SYSTEMATIC = "systematic"  # chemical (IUPAC/CAS index) name
    CAS = "cas"
    IDENTIFIER = "identifier"  # UNII, DrugBank ID, ChEMBL ID...


ALIAS_RANK = {t: i for i, t in enumerate(AliasType)}


class Modality(StrEnum):
    SMALL_MOLECULE = "small molecule"
    ANTIBODY = "antibody"
    ANTIBODY_DRUG_CONJUGATE = "antibody-drug conjugate"
    FUSION_PROTEIN = "fusion protein"
    PROTEIN = "protein"
    ENZYME = "enzyme"
    PEPTIDE = "peptide"
    OLIGONUCLEOTIDE = "oligonucleotide"
    GENE_THERAPY = "gene therapy"
    ONCOLYTIC_VIRUS = "oncolytic virus"
    CELL_THERAPY = "cell therapy"
    VACCINE = "vaccine"
    RADIOPHARMACEUTICAL = "radiopharmaceutical"
    UNKNOWN = "unknown"


@dataclass(frozen=True, slots=True)
class Synonym:
    name: str
    norm_key: str
    alias_type: AliasType
    provenance: Provenance
    form: str | None = None  # the salt-form substance (UNII) the name belongs to, if not the parent
    combination: bool = False  # a brand of a combination product naming this drug as a component


@dataclass(frozen=True, slots=True)
class Target:
    id: str
    gene_symbol: str | None
    uniprot: str | None
    name: str | None
    organism: str | None = None


@dataclass(frozen=True, slots=True)
class DrugTarget:
    target: Target
    action_type: str | None
    provenance: Provenance


@dataclass(frozen=True, slots=True)
class Indication:
    name: str
    umls_cui: str | None
    snomed_id: str | None
    doid: str | None
    provenance: Provenance


@dataclass(frozen=True, slots=True)
class PharmClass:
    name: str
    class_type: str
    class_source_id: str | None
    provenance: Provenance


@dataclass(frozen=True, slots=True)
class SaltForm:
    unii: str
    name: str
    stripped: str  # the words the rule removed, e.g. "tosylate monohydrate"
    provenance: Provenance


@dataclass(slots=True)
class Drug:
    """A drug: one active moiety (salts and hydrates are its forms), known by many names."""

    id: str
    preferred_name: str
    modality: Modality
    modality_rule: str
    provenance: Provenance
    xrefs: dict[str, list[str]] = field(default_factory=dict)
    synonyms: list[Synonym] = field(default_factory=list)
    salt_forms: list[SaltForm] = field(default_factory=list)
    targets: list[DrugTarget] = field(default_factory=list)
    classes: list[PharmClass] = field(default_factory=list)
    indications: list[Indication] = field(default_factory=list)
