"""Modality: what kind of drug it is, and which rule decided.

In order: what a source states (DrugCentral's FDA/MeSH classes), then the USAN/INN stem of the
drug's official names (-mab antibody, -cept fusion protein, -repvec oncolytic virus, -vec and
-gene gene therapy, -cel/-leucel cell therapy, -tinib small molecule…), then structure evidence
(DrugBank biotech accession or InChIKey; a systematic chemical name in UNII).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from drugradar.model import Modality

M = Modality

# Medical radionuclides, written "lutetium Lu 177", "Tc-99m", "(68Ga)", "fludeoxyglucose F 18";
# a one-letter element only after a word, so that codes such as TL-895 or C-11 are not taken.
_ISOTOPES = (
    "tc 99m|lu 177|ga 6[78]|in 111|cu 6[24]|zr 89|ra 223|ac 225|pb 212|sm 153|sr 89|xe 133|"
    "rb 82|tl 201|re 18[68]|ho 166|at 211|th 227|cr 51|"
    "fluorine f 18|iodine i 12[345]|iodine i 131|yttrium y 90|nitrogen n 13|oxygen o 15|"
    "carbon c 11|phosphorus p 32"
)
RADIONUCLIDE = (
    r"\b(?:" + _ISOTOPES.replace(" ", "[ -]?") + r")\b"
    r"|\w{3,} (?:f[ -]?18|i[ -]?12[345]|i[ -]?131|y[ -]?90|c[ -]?11|n[ -]?13|o[ -]?15|p[ -]?32)\b"
    r"|\((?:99mtc|177lu|6[78]ga|111in|6[24]cu|89zr|223ra|225ac|18f|131i|12[345]i|90y|11c)\)"
)

# (regex on one lower-case name, modality, stem shown in the rule). First match wins, so the
# more specific stems come first (-repvec before -vec, -leucel before -cel).
STEMS: list[tuple[re.Pattern[str], Modality, str]] = [
    (re.compile(p), m, stem)
    for p, m, stem in [
        (r"\bvaccine\b|\btoxoid\b", M.VACCINE, "vaccine"),
        (r"repvec\b", M.ONCOLYTIC_VIRUS, "-repvec"),
        (r"vec\b", M.GENE_THERAPY, "-vec"),
        (r"\b\w+gene\b", M.GENE_THERAPY, "-gene"),
        (r"(?:leucel|temcel|cel)\b(?!\w)", M.CELL_THERAPY, "-cel"),
        (
            r"mab\b.*\b(?:vedotin|deruxtecan|emtansine|govitecan|ozogamicin|mafodotin|tesirine|"
            r"soravtansine|ravtansine|mertansine|duocarmazine|pasudotox|tirumotecan|"
            r"bizengri|samrotecan)\b",
            M.ANTIBODY_DRUG_CONJUGATE,
            "-mab + payload",
        ),
        (r"mab\b", M.ANTIBODY, "-mab"),
        (r"cept\b", M.FUSION_PROTEIN, "-cept"),
        (r"(?:siran|ersen|rsen|apt[ae]r)\b", M.OLIGONUCLEOTIDE, "-siran/-rsen"),
        (
            RADIONUCLIDE,
            M.RADIOPHARMACEUTICAL,
            "radionuclide",
        ),
        (r"\b\w{3,}ase\b( alfa| beta)?$", M.ENZYME, "-ase"),
        (
            r"\b\w+(?:kin|leukin|poetin|grastim|stim|ermin|cogin|cog|nakin|kinra)\b",
            M.PROTEIN,
            "-kin/-poetin/-stim/-cog",
        ),
        (r"\b\w+ (?:alfa|beta|gamma|delta)(?:[- ]?\w+)?$", M.PROTEIN, "X alfa (glycoprotein)"),
        (
            r"(?<!nucleo)(?<!poly)(?<!pep)tide\b|(?:relin|pressin|tocin)\b",
            M.PEPTIDE,
            "-tide/-relin",
        ),
        (
            r"(?:tinib|ciclib|parib|zomib|lisib|rafenib|degib|fenib|stat|statin|sartan|pril|"
            r"olol|dipine|prazole|conazole|oxacin|cycline|vir|previr|asvir|buvir|setron|"
            r"triptan|afil|gliptin|gliflozin|lukast|tidine|semide|thiazide|azepam|azolam|"
            r"barbital|caine|profen|oxetine|pramine|peridol|done|pine|dronate|gatran|xaban|"
            r"parin|imod|lutamide|trozole|ifene|mustine|platin|rubicin|taxel|tecan|"
            r"clib|ciclovir)\b",
            M.SMALL_MOLECULE,
            "small-molecule stem",
        ),
    ]
]

_CLASS_RULES: list[tuple[re.Pattern[str], Modality]] = [
    (re.compile(p, re.I), m)
    for p, m in [
        (r"oncolytic", M.ONCOLYTIC_VIRUS),
        (r"vaccine", M.VACCINE),
        (r"gene therapy|gene transfer", M.GENE_THERAPY),
        (r"antibody[- ]drug conjugate", M.ANTIBODY_DRUG_CONJUGATE),
        (r"monoclonal antibod|\bantibody\b", M.ANTIBODY),
        (r"antisense|oligonucleotide|small interfering rna", M.OLIGONUCLEOTIDE),
        (r"radiopharmaceutical|radioactive diagnostic", M.RADIOPHARMACEUTICAL),
    ]
]


@dataclass(frozen=True, slots=True)
class Evidence:
    """What the dictionary knows that bears on modality."""

    names: list[str]  # official / INN / preferred names, most authoritative first
    classes: list[tuple[str, str]]  # (class type, class name) from DrugCentral
    drugbank_biotech: bool = False
    drugbank_inchikey: bool = False
    unii_systematic: bool = False


def decide(ev: Evidence) -> tuple[Modality, str]:
    """``(modality, rule)``; the rule says in words which evidence decided."""
    for ctype, cname in ev.classes:
        if ctype in {"EPC", "Chemical/Ingredient", "MoA"}:
            for pat, mod in _CLASS_RULES:
                if pat.search(cname):
                    return mod, f"DrugCentral class '{cname}' ({ctype})"
    for name in _distinct(ev.names):
        low = name.lower()
        for pat, mod, stem in STEMS:
            if pat.search(low):
                return mod, f"USAN/INN stem {stem} in '{name}'"
    if ev.drugbank_biotech:
        return M.PROTEIN, "DrugBank biotech entry (BTD accession)"
    if ev.drugbank_inchikey:
        return M.SMALL_MOLECULE, "DrugBank chemical structure (InChIKey)"
    if ev.unii_systematic:
        return M.SMALL_MOLECULE, "UNII systematic chemical name"
    return M.UNKNOWN, "no source or stem decides"


def _distinct(names: Iterable[str]) -> list[str]:
    seen: set[str] = set()
    out = []
    for n in names:
        if n and n.lower() not in seen:
            seen.add(n.lower())
            out.append(n)
    return out
