"""Modality: each rule decides, and says which rule it was."""

from __future__ import annotations

import pytest

from drugradar.dictionary.modality import Evidence, decide
from drugradar.model import Modality as M


@pytest.mark.parametrize(
    ("name", "modality", "stem"),
    [
        ("pembrolizumab", M.ANTIBODY, "-mab"),
        ("enfortumab vedotin", M.ANTIBODY_DRUG_CONJUGATE, "payload"),
        ("etanercept", M.FUSION_PROTEIN, "-cept"),
        ("talimogene laherparepvec", M.ONCOLYTIC_VIRUS, "-repvec"),
        ("onasemnogene abeparvovec", M.GENE_THERAPY, "-vec"),
        ("tisagenlecleucel", M.CELL_THERAPY, "-cel"),
        ("inclisiran", M.OLIGONUCLEOTIDE, "-siran"),
        ("imatinib", M.SMALL_MOLECULE, "small-molecule"),
        ("semaglutide", M.PEPTIDE, "-tide"),
        ("epoetin alfa", M.PROTEIN, "-poetin"),
        ("alteplase", M.ENZYME, "-ase"),
        ("lutetium Lu 177 dotatate", M.RADIOPHARMACEUTICAL, "radionuclide"),
        ("fludeoxyglucose F 18", M.RADIOPHARMACEUTICAL, "radionuclide"),
        ("gallium (68Ga) chloride", M.RADIOPHARMACEUTICAL, "radionuclide"),
        ("measles virus vaccine live", M.VACCINE, "vaccine"),
    ],
)
def test_stems(name: str, modality: M, stem: str) -> None:
    mod, rule = decide(Evidence(names=[name], classes=[]))
    assert mod is modality
    assert stem in rule and name in rule


def test_source_class_comes_before_stem() -> None:
    ev = Evidence(names=["examplemab"], classes=[("EPC", "Oncolytic Virus")])
    assert decide(ev) == (M.ONCOLYTIC_VIRUS, "DrugCentral class 'Oncolytic Virus' (EPC)")


def test_structure_evidence_when_no_stem() -> None:
    assert decide(Evidence(names=["aspirin"], classes=[], drugbank_inchikey=True))[0] is (
        M.SMALL_MOLECULE
    )
    assert decide(Evidence(names=["somefactor"], classes=[], drugbank_biotech=True))[0] is (
        M.PROTEIN
    )
    assert decide(Evidence(names=["mystery"], classes=[])) == (
        M.UNKNOWN,
        "no source or stem decides",
    )


@pytest.mark.parametrize("name", ["TL-895", "C-11", "3-acetylpyridine adenine dinucleotide"])
def test_look_alikes_are_not_taken_for_stems(name: str) -> None:
    # research codes are not radionuclides; a dinucleotide is not a -tide peptide
    assert decide(Evidence(names=[name], classes=[]))[0] is M.UNKNOWN
