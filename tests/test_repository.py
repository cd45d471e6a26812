"""A drug read back as a domain object, every fact with its provenance."""

from __future__ import annotations

from sqlalchemy import Engine

from drugradar.model import AliasType, Modality
from drugradar.resolve import Resolver
from drugradar.store.repository import get_drug


def test_profile_of_niraparib(loaded_module: Engine) -> None:
    best = Resolver(loaded_module).resolve("Zejula").best
    assert best is not None
    d = get_drug(loaded_module, best.drug_id)
    assert d is not None and d.preferred_name == "Niraparib"
    assert d.modality is Modality.SMALL_MOLECULE and "tinib" not in d.modality_rule
    assert "HMC2H89N35" in d.xrefs["unii"] and d.xrefs["drugbank"]
    forms = {f.name: f for f in d.salt_forms}
    assert "NIRAPARIB TOSYLATE" in forms and forms["NIRAPARIB TOSYLATE"].stripped == "tosylate"
    brands = {s.name for s in d.synonyms if s.alias_type is AliasType.BRAND}
    assert "ZEJULA" in brands
    codes = {s.name for s in d.synonyms if s.alias_type is AliasType.CODE}
    assert {"MK-4827", "MK-4827 TOSYLATE"} <= codes
    for s in d.synonyms:
        assert s.provenance.source and s.provenance.source_record_id and s.provenance.licence
        assert s.provenance.source_date is not None


def test_profile_has_targets_classes_and_indications(loaded_module: Engine) -> None:
    best = Resolver(loaded_module).resolve("Gleevec").best
    assert best is not None
    d = get_drug(loaded_module, best.drug_id)
    assert d is not None
    genes = {t.target.gene_symbol for t in d.targets}
    assert {"ABL1", "KIT"} <= genes
    dc = [t for t in d.targets if t.provenance.source == "drugcentral"]
    assert dc and all(t.action_type for t in dc)
    assert any(t.provenance.licence.startswith("CC BY-NC") for t in d.targets)
    assert any(c.class_type == "EPC" and "Kinase Inhibitor" in c.name for c in d.classes)
    assert any("leukemia" in i.name.lower() for i in d.indications)


def test_unknown_id(loaded_module: Engine) -> None:
    assert get_drug(loaded_module, "DRNOTADRUG0") is None
