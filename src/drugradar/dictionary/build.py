"""Build the drug dictionary from the current source records.

Rules (each says why):
- Every UNII substance is a drug, except a salt or hydrate form whose parent substance exists:
  its names become the parent's names (``alias_type`` salt, or brand/code when they are), so
  ``Zejula`` (a brand of niraparib tosylate) and ``niraparib tosylate`` resolve to niraparib.
  All substances, not only approved ones, so any name a trial or label uses can be found later.
- A DrugBank or DrugCentral entry joins the drug with its UNII, else the drug whose official or
  preferred name is the same after normalization, else it becomes a drug of its own.
- UNII brand rows ``X COMPONENT Y`` name brand ``X`` of a combination product containing ``Y``.
- The preferred name is DrugBank's common name, else DrugCentral's INN, else UNII's display name.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import orjson
from sqlalchemy import Connection, select

from drugradar.dictionary import trial_codes
from drugradar.dictionary.ids import drug_id
from drugradar.dictionary.modality import Evidence, decide
from drugradar.model import AliasType
from drugradar.resolve.normalize import head_key, norm_key, split_source_tag
from drugradar.resolve.salts import parent_names, strip_salt
from drugradar.sources.ctgov_common import LICENCE as CTGOV_LICENCE
from drugradar.store.schema import source_record

A = AliasType
_CODE = re.compile(r"^[A-Za-z]{1,8}[- ]?\d{2,}[A-Za-z0-9-]*$|^[A-Za-z]{1,6}\d*[- ]\d{2,}")
_COMPONENT = re.compile(r"^(.+?)\s+COMPONENT\s+(.+)$", re.IGNORECASE)
UNII_TYPE = {"bn": A.BRAND, "cd": A.CODE, "sys": A.SYSTEMATIC, "of": A.OFFICIAL, "cn": A.COMMON}
XREF_TYPES = {
    "ChEMBL_ID": "chembl",
    "DRUGBANK_ID": "drugbank",
    "UNII": "unii",
    "RXNORM": "rxnorm",
    "MESH_DESCRIPTOR_UI": "mesh",
    "MESH_SUPPLEMENTAL_RECORD_UI": "mesh",
    "KEGG_DRUG": "kegg",
    "PUBCHEM_CID": "pubchem",
    "CHEBI": "chebi",
    "INN_ID": "inn",
    "IUPHAR_LIGAND_ID": "iuphar",
    "SECONDARY_CAS_RN": "cas",
    "UMLSCUI": "umls",
    "SNOMEDCT_US": "snomedct",
}


@dataclass(slots=True)
class SourceRow:
    source: str
    record_id: str
    data: dict[str, Any]
    source_date: date | None
    licence: str


@dataclass(slots=True)
class DrugDraft:
    id: str
    anchor: SourceRow
    names: dict[str, str] = field(default_factory=dict)  # which name each source prefers
    evidence_names: list[str] = field(default_factory=list)
    classes: list[tuple[str, str]] = field(default_factory=list)
    biotech: bool = False
    inchikey: bool = False
    systematic: bool = False


@dataclass(slots=True)
class Dictionary:
    """The rows the dictionary tables should hold, keyed for ``store.sync``."""

    drugs: dict[str, DrugDraft] = field(default_factory=dict)
    drug: list[dict[str, Any]] = field(default_factory=list)
    xref: list[dict[str, Any]] = field(default_factory=list)
    synonym: list[dict[str, Any]] = field(default_factory=list)
    salt_form: list[dict[str, Any]] = field(default_factory=list)
    target: dict[str, dict[str, Any]] = field(default_factory=dict)
    drug_target: dict[tuple[str, str, str], dict[str, Any]] = field(default_factory=dict)
    indication: dict[tuple[str, str, str], dict[str, Any]] = field(default_factory=dict)
    drug_class: dict[tuple[str, str, str, str], dict[str, Any]] = field(default_factory=dict)
    disease: list[dict[str, Any]] = field(default_factory=list)
    disease_synonym: dict[tuple[str, str], dict[str, Any]] = field(default_factory=dict)
    disease_ancestor: list[dict[str, Any]] = field(default_factory=list)


def current_records(conn: Connection, source: str) -> Iterator[SourceRow]:
    sr = source_record.c
    rows = conn.execute(
        select(sr.record_id, sr.data, sr.source_date, sr.licence)
        .where(sr.source == source, sr.removed.is_(False))
        .order_by(sr.record_id)
    )
    for r in rows:
        yield SourceRow(source, r.record_id, orjson.loads(r.data), r.source_date, r.licence)


def provenance_of(row: SourceRow) -> dict[str, Any]:
    return {
        "source": row.source,
        "source_record_id": row.record_id,
        "source_date": row.source_date,
        "licence": row.licence,
    }


class Builder:
    def __init__(self) -> None:
        self.out = Dictionary()
        self.by_unii: dict[str, str] = {}  # UNII (substance or salt form) -> drug id
        self.by_drugbank: dict[str, str] = {}
        self.by_name: dict[str, set[str]] = defaultdict(set)  # official/preferred key -> drugs
        self._syn_seen: set[tuple[str, str, str, str, str | None, str]] = set()

    # -- names -----------------------------------------------------------------------------
    def add_synonym(
        self,
        did: str,
        name: str,
        atype: AliasType,
        row: SourceRow,
        *,
        form: str | None = None,
        combination: bool = False,
    ) -> None:
        name = name.strip()
        key = norm_key(name)
        if not key:
            return
        seen_key = (did, key, atype.value, row.source, form, row.record_id)
        if seen_key in self._syn_seen:
            return
        self._syn_seen.add(seen_key)
        self.out.synonym.append(
            {
                "drug_id": did,
                "name": name[:1000],
                "norm_key": key[:1000],
                "head_key": head_key(name) if atype in {A.OFFICIAL, A.INN} and not form else None,
                "alias_type": atype.value,
                "form": form,
                "combination": combination,
                **provenance_of(row),
            }
        )

    def add_xref(self, did: str, ns: str, value: str, row: SourceRow) -> None:
        self.out.xref.append(
            {"drug_id": did, "namespace": ns, "value": value, **provenance_of(row)}
        )

    # -- UNII ------------------------------------------------------------------------------
    def unii(self, rows: list[SourceRow]) -> None:
        display_key: dict[str, str] = {}
        official: dict[str, set[str]] = defaultdict(set)
        for row in rows:
            display_key.setdefault(norm_key(row.data["display"]), row.record_id)
            for name, ntype in row.data["names"]:
                base, tags = split_source_tag(name)
                if ntype == "of" or "INN" in tags:
                    official[norm_key(base)].add(row.record_id)
        parent_of: dict[str, tuple[str, list[str]]] = {}
        for row in rows:
            stripped = strip_salt(row.data["display"])
            if not stripped:
                continue
            for cand in parent_names(row.data["display"]):
                key = norm_key(cand)
                parent = display_key.get(key)
                if parent is None and len(official.get(key, ())) == 1:
                    parent = next(iter(official[key]))
                if parent and parent != row.record_id:
                    parent_of[row.record_id] = (parent, stripped[1])
                    break
        # a parent that is itself a salt form hands its children on to its own parent
        chained: dict[str, tuple[str, list[str]]] = {}
        for unii, (parent, stripped_words) in parent_of.items():
            seen = {unii}
            while parent in parent_of and parent not in seen:
                seen.add(parent)
                parent, more = parent_of[parent]
                stripped_words = stripped_words + more
            if parent not in parent_of:  # a cycle leaves both as drugs of their own
                chained[unii] = (parent, stripped_words)
        parent_of = chained
        for row in rows:  # parents first: every non-salt substance is a drug
            if row.record_id in parent_of:
                continue
            did = drug_id("unii:" + row.record_id)
            draft = DrugDraft(did, row)
            draft.names["unii"] = row.data["display"]
            self.out.drugs[did] = draft
            self.by_unii[row.record_id] = did
            self.by_name[norm_key(row.data["display"])].add(did)
        for row in rows:
            unii = row.record_id
            if unii in parent_of:
                parent, stripped_words = parent_of[unii]
                did = self.by_unii[parent]
                self.by_unii[unii] = did
                self.out.salt_form.append(
                    {
                        "unii": unii,
                        "drug_id": did,
                        "name": row.data["display"],
                        "stripped": " ".join(stripped_words),
                        **provenance_of(row),
                    }
                )
                form: str | None = unii
            else:
                did, form = self.by_unii[unii], None
            draft = self.out.drugs[did]
            self.add_xref(did, "unii", unii, row)
            self.add_synonym(did, unii, A.IDENTIFIER, row, form=form)
            for name, ntype in row.data["names"]:
                base, tags = split_source_tag(name)
                atype = UNII_TYPE[ntype]
                combination = False
                if atype is A.BRAND:
                    m = _COMPONENT.match(base)
                    if m:
                        base, combination = m.group(1), True
                elif atype is A.COMMON and "INN" in tags:
                    atype = A.INN
                elif atype is A.SYSTEMATIC:
                    draft.systematic = True
                if form and atype in {A.OFFICIAL, A.INN, A.COMMON}:
                    atype = A.CODE if _CODE.match(base) else A.SALT
                if not form and atype in {A.OFFICIAL, A.INN}:
                    draft.evidence_names.append(base)
                self.add_synonym(did, base, atype, row, form=form, combination=combination)

    # -- DrugBank --------------------------------------------------------------------------
    def _join(self, unii: str | None, name: str, anchor: str, row: SourceRow) -> str:
        """The drug an entry of another source belongs to (creating one when none fits)."""
        if unii and unii in self.by_unii:
            return self.by_unii[unii]
        cands = self.by_name.get(norm_key(name), set())
        if len(cands) == 1:
            return next(iter(cands))
        stripped = strip_salt(name)
        if stripped:
            cands = self.by_name.get(norm_key(stripped[0]), set())
            if len(cands) == 1:
                return next(iter(cands))
        did = drug_id(anchor)
        if did not in self.out.drugs:
            self.out.drugs[did] = DrugDraft(did, row)
            self.by_name[norm_key(name)].add(did)
        return did

    def drugbank(self, rows: list[SourceRow]) -> None:
        for row in rows:
            d = row.data
            did = self._join(d["unii"], d["name"], "drugbank:" + row.record_id, row)
            self.by_drugbank[row.record_id] = did
            draft = self.out.drugs[did]
            draft.names.setdefault("drugbank", d["name"])
            draft.evidence_names.append(d["name"])
            draft.biotech |= any(a.startswith(("BTD", "BIOD")) for a in d["accessions"])
            draft.inchikey |= bool(d["inchikey"])
            self.add_xref(did, "drugbank", row.record_id, row)
            self.add_synonym(did, row.record_id, A.IDENTIFIER, row)
            self.add_synonym(did, d["name"], A.COMMON, row)
            if d["cas"]:
                self.add_xref(did, "cas", d["cas"], row)
                self.add_synonym(did, d["cas"], A.CAS, row)
            for syn in d["synonyms"]:
                self.add_synonym(did, syn, A.CODE if _CODE.match(syn) else A.COMMON, row)

    # -- DrugCentral -----------------------------------------------------------------------
    def drugcentral(self, rows: list[SourceRow]) -> None:
        for row in rows:
            d = row.data
            ids: dict[str, list[str]] = defaultdict(list)
            for ident in d["identifiers"]:
                if ident["id_type"] and ident["identifier"]:
                    ids[ident["id_type"]].append(ident["identifier"])
            did = None
            for dbid in ids.get("DRUGBANK_ID", []):
                did = did or self.by_drugbank.get(dbid)
            unii = next(iter(ids.get("UNII", [])), None)
            if did is None:
                did = self._join(unii, d["name"], "drugcentral:" + row.record_id, row)
            draft = self.out.drugs[did]
            draft.names.setdefault("drugcentral", d["name"])
            draft.evidence_names.append(d["name"])
            self.add_xref(did, "drugcentral", row.record_id, row)
            self.add_synonym(did, d["name"], A.COMMON, row)
            for id_type, values in ids.items():
                ns = XREF_TYPES.get(id_type)
                for v in values if ns else []:
                    self.add_xref(did, ns, v, row)  # type: ignore[arg-type]
                    if ns == "chembl":
                        self.add_synonym(did, v, A.IDENTIFIER, row)
            for t in d["targets"]:
                self._drugcentral_target(did, t, row)
            for ind in d["indications"]:
                name = ind["indication_fdb"]
                if name:
                    self.out.indication[(did, name[:400], row.source)] = {
                        "drug_id": did,
                        "name": name[:400],
                        "umls_cui": ind["umls_cui"],
                        "snomed_id": ind["snomedct_cui"],
                        "doid": ind["doid"],
                        "source": row.source,
                        "source_record_id": row.record_id,
                        "source_date": row.source_date,
                        "licence": row.licence,
                    }
            for c in d["classes"]:
                if c["class"] and c["type"]:
                    draft.classes.append((c["type"], c["class"]))
                    self.out.drug_class[(did, c["class"][:400], c["type"], row.source)] = {
                        "drug_id": did,
                        "name": c["class"][:400],
                        "class_type": c["type"],
                        "class_source_id": c["class_source_id"],
                        "source": row.source,
                        "source_record_id": row.record_id,
                        "source_date": row.source_date,
                        "licence": row.licence,
                    }

    def _drugcentral_target(self, did: str, t: dict[str, Any], row: SourceRow) -> None:
        genes = [g for g in (t["gene"] or "").split("|") if g]
        accs = [a for a in (t["uniprot"] or "").split("|") if a]
        pairs: list[tuple[str | None, str | None]]
        if genes and len(genes) == len(accs):
            pairs = list(zip(genes, accs, strict=True))
        elif genes:
            pairs = [(g, None) for g in genes]
        else:
            pairs = [(None, a) for a in accs]
        for gene, acc in pairs:
            tid = self.add_target(gene, acc, t["target_name"], None)
            self.out.drug_target[(did, tid, row.source)] = {
                "drug_id": did,
                "target_id": tid,
                "source": row.source,
                "action_type": t["action_type"],
                "source_record_id": row.record_id,
                "source_date": row.source_date,
                "licence": row.licence,
            }

    def add_target(
        self, gene: str | None, uniprot: str | None, name: str | None, organism: str | None
    ) -> str:
        human = organism is None or organism.lower() in {"humans", "human", "homo sapiens"}
        tid = gene.upper() if gene and human else f"UniProt:{uniprot}" if uniprot else None
        if tid is None:
            tid = "name:" + norm_key(name or "unknown")[:50]
        cur = self.out.target.get(tid)
        if cur is None:
            self.out.target[tid] = {
                "id": tid,
                "gene_symbol": gene.upper() if gene else None,
                "uniprot": uniprot,
                "name": name,
                "organism": organism,
            }
        else:
            for k, v in (("uniprot", uniprot), ("name", name), ("organism", organism)):
                cur[k] = cur[k] or v
        return tid

    # -- DrugBank targets ------------------------------------------------------------------
    def drugbank_targets(self, rows: list[SourceRow], action: str | None) -> None:
        for row in rows:
            d = row.data
            if not d["drugs"]:
                continue
            tid = self.add_target(d["gene"], d["uniprot"], d["name"], d["organism"])
            for dbid in d["drugs"]:
                did = self.by_drugbank.get(dbid)
                if did is None:
                    continue
                self.out.drug_target[(did, tid, row.source)] = {
                    "drug_id": did,
                    "target_id": tid,
                    "source": row.source,
                    "action_type": action,
                    "source_record_id": row.record_id,
                    "source_date": row.source_date,
                    "licence": row.licence,
                }

    # -- diseases (MeSH) -------------------------------------------------------------------
    def mesh(self, rows: list[SourceRow]) -> None:
        by_tree: dict[str, str] = {}
        for row in rows:
            for tree in row.data["trees"]:
                by_tree[tree] = row.record_id
        for row in rows:
            d = row.data
            self.out.disease.append(
                {
                    "id": row.record_id,
                    "name": d["name"][:400],
                    "trees": "|".join(d["trees"]),
                    **provenance_of(row),
                }
            )
            for name in [d["name"], *d["synonyms"]]:
                key = norm_key(name)[:400]
                if key:
                    self.out.disease_synonym.setdefault(
                        (row.record_id, key),
                        {"disease_id": row.record_id, "norm_key": key, "name": name[:400]},
                    )
            ancestors: set[str] = set()
            for tree in d["trees"]:
                parts = tree.split(".")
                for i in range(1, len(parts)):
                    anc = by_tree.get(".".join(parts[:i]))
                    if anc and anc != row.record_id:
                        ancestors.add(anc)
            self.out.disease_ancestor += [
                {"disease_id": row.record_id, "ancestor_id": a} for a in sorted(ancestors)
            ]

    # -- drugs -----------------------------------------------------------------------------
    def finish(self) -> Dictionary:
        for did, draft in self.out.drugs.items():
            preferred = (
                draft.names.get("drugbank")
                or draft.names.get("drugcentral")
                or _display_case(draft.names.get("unii") or did)
            )
            mod, rule = decide(
                Evidence(
                    names=[*draft.evidence_names, preferred],
                    classes=draft.classes,
                    drugbank_biotech=draft.biotech,
                    drugbank_inchikey=draft.inchikey,
                    unii_systematic=draft.systematic,
                )
            )
            self.out.drug.append(
                {
                    "id": did,
                    "preferred_name": preferred[:400],
                    "modality": mod.value,
                    "modality_rule": rule[:200],
                    "retired": False,
                    **provenance_of(draft.anchor),
                }
            )
        return self.out


def _display_case(name: str) -> str:
    """UNII writes names in capitals; INN style is lower case."""
    return name.lower() if name.isupper() else name


def build(conn: Connection) -> Dictionary:
    b = Builder()
    b.unii(list(current_records(conn, "unii")))
    b.drugbank(list(current_records(conn, "drugbank")))
    b.drugcentral(list(current_records(conn, "drugcentral")))
    b.drugbank_targets(list(current_records(conn, "drugbank_targets")), None)
    b.drugbank_targets(list(current_records(conn, "drugbank_active_targets")), None)
    b.mesh(list(current_records(conn, "mesh")))
    out = b.finish()
    known = {s["norm_key"] for s in out.synonym}
    drugs, names = trial_codes.from_trials(conn, known, CTGOV_LICENCE)
    out.drug += drugs
    out.synonym += names
    return out
