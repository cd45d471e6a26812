"""What each event concerns: the drugs, diseases, organizations and targets a follower follows.

Resolved after the load has built its tables (a trial's drug links exist only then), for every
event not yet done:
- a trial: its linked drugs (any role), its diseases, its sponsor and collaborators (and their
  parent companies);
- hints a rule gave: ``application`` -> the drugs and holder of that application's approvals;
  ``name`` -> the drug whose name (any alias, normalized) it is; ``drugcentral`` (``id|name``)
  -> the drug with that DrugCentral id, else the one drug the name resolves to (exact or salt);
  ``atc`` (``code|name``) -> the one drug the name resolves to; ``uniprot`` -> the target (gene
  symbol) with that accession;
- any event: drugs of profile rows built from the record that showed it (same source and id);
- every drug found -> its targets (gene symbols).
"""

from __future__ import annotations

from collections import defaultdict

import orjson
from sqlalchemy import Connection, Engine, select, update

from drugradar.resolve import Resolver
from drugradar.resolve.normalize import norm_key
from drugradar.store.bulk import insert_rows
from drugradar.store.schema import (
    approval,
    designation,
    drug_target,
    drug_xref,
    event,
    event_concern,
    event_source,
    exclusivity,
    label_drug,
    patent,
    safety_communication,
    synonym,
    target,
    trial_condition,
    trial_drug,
    trial_party,
)
from drugradar.store.sync import chunks

Concern = tuple[str, str]
PROFILE_TABLES = (approval, patent, exclusivity, designation, safety_communication)


def attach(engine: Engine) -> list[int]:
    """Resolve the concerns of every pending event; return the ids of the events done."""
    with engine.begin() as conn:
        return attach_pending(conn)


def attach_pending(conn: Connection) -> list[int]:
    """``attach`` in ``conn``'s transaction: a load that has just built the tables its new
    events concern resolves them there, while its reader reads on (``trials.load``)."""
    done: list[int] = []
    pending = conn.execute(
        select(event.c.id, event.c.entity_kind, event.c.entity_id, event.c.hints).where(
            event.c.concerns_done.is_(False)
        )
    ).all()
    for batch in chunks(pending, 2000):
        _attach_batch(conn, batch)
        done += [r.id for r in batch]
    return done


def _attach_batch(conn: Connection, batch: list) -> None:  # type: ignore[type-arg]
    ids = [r.id for r in batch]
    found: dict[int, set[Concern]] = defaultdict(set)
    for r in conn.execute(select(event_concern).where(event_concern.c.event_id.in_(ids))).all():
        found[r.event_id].add((r.kind, r.ref))
    have = {k: set(v) for k, v in found.items()}
    trials: dict[str, list[int]] = defaultdict(list)
    apps: dict[str, list[int]] = defaultdict(list)
    names: dict[str, list[int]] = defaultdict(list)
    coded: dict[tuple[str, str], list[tuple[int, str]]] = defaultdict(list)
    uniprot: dict[str, list[int]] = defaultdict(list)
    for r in batch:
        if r.entity_kind == "trial":
            trials[r.entity_id].append(r.id)
        for kind, ref in orjson.loads(r.hints) if r.hints else []:
            if kind == "application":
                apps[ref].append(r.id)
            elif kind == "name" and norm_key(ref):
                names[norm_key(ref)].append(r.id)
            elif kind in ("drugcentral", "atc"):
                code, _, name = ref.partition("|")
                coded[(kind, code)].append((r.id, name))
            elif kind == "uniprot":
                uniprot[ref].append(r.id)
    _trials(conn, trials, found)
    _applications(conn, apps, found)
    _names(conn, names, found)
    _coded(conn, coded, found)
    _uniprot(conn, uniprot, found)
    _profile_rows(conn, ids, found)
    _targets(conn, found)
    rows = [
        {"event_id": eid, "kind": kind, "ref": ref[:400]}
        for eid, cs in found.items()
        for kind, ref in sorted(cs)
        if (kind, ref) not in have.get(eid, set()) and ref
    ]
    insert_rows(conn, event_concern, rows)
    conn.execute(update(event).where(event.c.id.in_(ids)).values(concerns_done=True))


def _trials(conn: Connection, trials: dict[str, list[int]], found: dict[int, set[Concern]]) -> None:
    ncts = sorted(trials)
    for batch in chunks(ncts, 500):
        for r in conn.execute(
            select(trial_drug.c.nct_id, trial_drug.c.drug_id).where(trial_drug.c.nct_id.in_(batch))
        ).all():
            for eid in trials[r.nct_id]:
                found[eid].add(("drug", r.drug_id))
        tc = trial_condition.c
        for r in conn.execute(
            select(tc.nct_id, tc.disease_id).where(tc.nct_id.in_(batch), tc.disease_id.is_not(None))
        ).all():
            for eid in trials[r.nct_id]:
                found[eid].add(("disease", r.disease_id))
        tp = trial_party.c
        for r in conn.execute(
            select(tp.nct_id, tp.norm_name, tp.parent_key).where(tp.nct_id.in_(batch))
        ).all():
            for eid in trials[r.nct_id]:
                found[eid].add(("organization", r.norm_name))
                if r.parent_key:
                    found[eid].add(("organization", r.parent_key))


def _applications(
    conn: Connection, apps: dict[str, list[int]], found: dict[int, set[Concern]]
) -> None:
    for batch in chunks(sorted(apps), 500):
        a = approval.c
        for r in conn.execute(
            select(a.application, a.drug_id, a.holder_key)
            .where(a.application.in_(batch))
            .distinct()
        ).all():
            for eid in apps[r.application]:
                if r.drug_id:
                    found[eid].add(("drug", r.drug_id))
                if r.holder_key:
                    found[eid].add(("organization", r.holder_key))


def _names(conn: Connection, names: dict[str, list[int]], found: dict[int, set[Concern]]) -> None:
    for batch in chunks(sorted(names), 500):
        for r in conn.execute(
            select(synonym.c.norm_key, synonym.c.drug_id)
            .where(synonym.c.norm_key.in_(batch))
            .distinct()
        ).all():
            for eid in names[r.norm_key]:
                found[eid].add(("drug", r.drug_id))


def _coded(
    conn: Connection,
    coded: dict[tuple[str, str], list[tuple[int, str]]],
    found: dict[int, set[Concern]],
) -> None:
    """Drugs by DrugCentral id (the dictionary's cross-references), else by the name the source
    gives, resolved as the WHO ATC classes are (exact or salt, one drug, never looser)."""
    from drugradar.dictionary.atc import substance_drugs  # the dictionary imports the tracker

    by_id: dict[str, set[str]] = defaultdict(set)
    ids = sorted(code for kind, code in coded if kind == "drugcentral")
    x = drug_xref.c
    for batch in chunks(ids, 500):
        for r in conn.execute(
            select(x.value, x.drug_id)
            .where(x.namespace == "drugcentral", x.value.in_(batch))
            .distinct()
        ).all():
            by_id[r.value].add(r.drug_id)
    by_name: dict[str, list[int]] = defaultdict(list)
    for (kind, code), events in coded.items():
        for eid, name in events:
            if kind == "drugcentral" and by_id.get(code):
                found[eid].update(("drug", d) for d in by_id[code])
            elif name:
                by_name[name].append(eid)
    if by_name:
        for name, did in substance_drugs(Resolver(conn, trial_born=False), by_name).items():
            for eid in by_name[name]:
                found[eid].add(("drug", did))


def _uniprot(conn: Connection, accs: dict[str, list[int]], found: dict[int, set[Concern]]) -> None:
    """Targets (gene symbols) the target table knows by UniProt accession."""
    t = target.c
    for batch in chunks(sorted(accs), 500):
        for r in conn.execute(
            select(t.uniprot, t.gene_symbol)
            .where(t.uniprot.in_(batch), t.gene_symbol.is_not(None))
            .distinct()
        ).all():
            for eid in accs[r.uniprot]:
                found[eid].add(("target", r.gene_symbol))


def _profile_rows(conn: Connection, ids: list[int], found: dict[int, set[Concern]]) -> None:
    """Drugs of the profile rows built from the records that showed each event."""
    seen: dict[tuple[str, str], list[int]] = defaultdict(list)
    es = event_source.c
    for r in conn.execute(
        select(es.event_id, es.source, es.record_id).where(es.event_id.in_(ids))
    ).all():
        seen[(r.source, r.record_id)].append(r.event_id)
    by_source: dict[str, list[str]] = defaultdict(list)
    for source, record in seen:
        if source not in ("ctgov", "dev_status"):
            by_source[source].append(record)
    for source, records in by_source.items():
        for batch in chunks(sorted(records), 500):
            for table in PROFILE_TABLES:
                t = table.c
                for r in conn.execute(
                    select(t.source_record_id, t.drug_id)
                    .where(
                        t.source == source, t.source_record_id.in_(batch), t.drug_id.is_not(None)
                    )
                    .distinct()
                ).all():
                    for eid in seen[(source, r.source_record_id)]:
                        found[eid].add(("drug", r.drug_id))
            for r in conn.execute(
                select(label_drug.c.label_id, label_drug.c.drug_id).where(
                    label_drug.c.label_id.in_(batch)
                )
            ).all():
                for eid in seen.get((source, r.label_id), []):
                    found[eid].add(("drug", r.drug_id))


def _targets(conn: Connection, found: dict[int, set[Concern]]) -> None:
    by_drug: dict[str, list[int]] = defaultdict(list)
    for eid, cs in found.items():
        for kind, ref in cs:
            if kind == "drug":
                by_drug[ref].append(eid)
    for batch in chunks(sorted(by_drug), 500):
        for r in conn.execute(
            select(drug_target.c.drug_id, target.c.gene_symbol)
            .join(target, target.c.id == drug_target.c.target_id)
            .where(drug_target.c.drug_id.in_(batch), target.c.gene_symbol.is_not(None))
            .distinct()
        ).all():
            for eid in by_drug[r.drug_id]:
                found[eid].add(("target", r.gene_symbol))
