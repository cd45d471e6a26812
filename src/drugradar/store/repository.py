"""Read the dictionary back as domain objects: one drug with every fact and its provenance."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from sqlalchemy import Engine, select

from drugradar.model import (
    AliasType,
    Drug,
    DrugTarget,
    Indication,
    Modality,
    PharmClass,
    Provenance,
    SaltForm,
    Synonym,
    Target,
)
from drugradar.store.schema import (
    drug,
    drug_class,
    drug_indication,
    drug_target,
    drug_xref,
    salt_form,
    synonym,
    target,
)


def _prov(r: Any) -> Provenance:
    return Provenance(r.source, r.source_record_id, r.source_date, r.licence)


def get_drug(engine: Engine, drug_id: str) -> Drug | None:
    """The drug with its names, forms, cross-references, targets, classes and indications."""
    with engine.connect() as c:
        row = c.execute(select(drug).where(drug.c.id == drug_id)).first()
        if row is None:
            return None
        d = Drug(
            id=row.id,
            preferred_name=row.preferred_name,
            modality=Modality(row.modality),
            modality_rule=row.modality_rule,
            provenance=_prov(row),
        )
        xrefs: dict[str, list[str]] = defaultdict(list)
        for x in c.execute(
            select(drug_xref.c.namespace, drug_xref.c.value)
            .where(drug_xref.c.drug_id == drug_id)
            .distinct()
            .order_by(drug_xref.c.namespace, drug_xref.c.value)
        ):
            xrefs[x.namespace].append(x.value)
        d.xrefs = dict(xrefs)
        d.synonyms = [
            Synonym(s.name, s.norm_key, AliasType(s.alias_type), _prov(s), s.form, s.combination)
            for s in c.execute(
                select(synonym).where(synonym.c.drug_id == drug_id).order_by(synonym.c.id)
            )
        ]
        d.salt_forms = [
            SaltForm(s.unii, s.name, s.stripped, _prov(s))
            for s in c.execute(
                select(salt_form).where(salt_form.c.drug_id == drug_id).order_by(salt_form.c.name)
            )
        ]
        d.targets = [
            DrugTarget(
                Target(t.target_id, t.gene_symbol, t.uniprot, t.name, t.organism),
                t.action_type,
                _prov(t),
            )
            for t in c.execute(
                select(drug_target, target.c.gene_symbol, target.c.uniprot, target.c.name,
                       target.c.organism)
                .join(target, target.c.id == drug_target.c.target_id)
                .where(drug_target.c.drug_id == drug_id)
                .order_by(drug_target.c.target_id, drug_target.c.source)
            )
        ]  # fmt: skip
        d.classes = [
            PharmClass(k.name, k.class_type, k.class_source_id, _prov(k))
            for k in c.execute(
                select(drug_class)
                .where(drug_class.c.drug_id == drug_id)
                .order_by(drug_class.c.class_type, drug_class.c.name)
            )
        ]
        d.indications = [
            Indication(i.name, i.umls_cui, i.snomed_id, i.doid, _prov(i))
            for i in c.execute(
                select(drug_indication)
                .where(drug_indication.c.drug_id == drug_id)
                .order_by(drug_indication.c.name)
            )
        ]
    return d
