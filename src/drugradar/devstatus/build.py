"""Compute and store the development-status rows of drugs from their linked trials.

Indication: the trial's MeSH disease terms when it has them (the registry's own mapping), else
its conditions mapped to MeSH by name, else the condition text itself (``text:<key>``).
Country: each country of the trial ("" when it names none). Organization: the lead sponsor and
industry collaborators, by normalized name.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import date
from typing import Any

import orjson
from sqlalchemy import Connection, Engine, delete, func, select

from drugradar.devstatus import approvals
from drugradar.devstatus.rules import TrialFact, activity, parse_date, phase_reached
from drugradar.model.devstatus import INACTIVE, RANK, Activity, DevStatus, Phase
from drugradar.store.bulk import insert_rows
from drugradar.store.schema import (
    dev_status,
    drug,
    trial,
    trial_condition,
    trial_country,
    trial_drug,
    trial_party,
)
from drugradar.store.sync import chunks
from drugradar.track import devstatus as events
from drugradar.track.devstatus import News
from drugradar.track.store import save

COUNTED_ROLES = ("investigational", "background")
Key = tuple[str, str, str, str]  # drug, indication, country, organization
Cell = tuple[str, str, str]  # indication, country, organization


def data_as_of(conn: Connection) -> date | None:
    """The as-of date of the trial data: its newest source date, not the wall clock."""
    value = conn.execute(select(func.max(trial.c.source_date))).scalar()
    return value if isinstance(value, date) else None


def _indications(conn: Connection, ncts: list[str]) -> dict[str, list[tuple[str, str, str | None]]]:
    """``nct -> [(indication_key, name, disease_id)]``."""
    by_kind: dict[str, dict[str, list[tuple[str, str, str | None]]]] = defaultdict(
        lambda: defaultdict(list)
    )
    tc = trial_condition.c
    for nct, kind, term, key, disease_id in conn.execute(
        select(tc.nct_id, tc.kind, tc.term, tc.norm_key, tc.disease_id).where(
            tc.nct_id.in_(ncts), tc.kind.in_(("mesh", "condition"))
        )
    ).all():
        if disease_id:
            by_kind[nct][kind].append((disease_id, term, disease_id))
        elif kind == "condition":
            by_kind[nct]["text"].append(("text:" + key[:390], term, None))
    out: dict[str, list[tuple[str, str, str | None]]] = {}
    for nct, kinds in by_kind.items():
        chosen = kinds.get("mesh") or kinds.get("condition") or kinds.get("text") or []
        out[nct] = list({k: (k, n, d) for k, n, d in chosen}.values())
    return out


def compute(conn: Connection, drug_ids: Iterable[str], as_of: date) -> list[DevStatus]:
    drugs = sorted(set(drug_ids))
    facts: dict[Key, list[TrialFact]] = {}
    parents: dict[str, tuple[str, str]] = {}
    names: dict[Key, tuple[str, str, str | None]] = {}
    for batch in chunks(drugs, 500):
        td, t = trial_drug.c, trial.c
        links = conn.execute(
            select(
                td.drug_id,
                td.nct_id,
                t.phase,
                t.overall_status,
                t.first_posted,
                t.start_date,
                t.last_update_posted,
            )
            .join(trial, t.nct_id == td.nct_id)
            .where(
                td.drug_id.in_(batch),
                td.role.in_(COUNTED_ROLES),
                (t.study_type.is_(None)) | (t.study_type == "INTERVENTIONAL"),
            )
        ).all()
        ncts = sorted({r.nct_id for r in links})
        inds, countries, orgs = {}, defaultdict(list), defaultdict(list)
        for nbatch in chunks(ncts, 500):
            inds.update(_indications(conn, nbatch))
            for c in conn.execute(
                select(trial_country).where(trial_country.c.nct_id.in_(nbatch))
            ).all():
                countries[c.nct_id].append(c.country)
            for p in conn.execute(
                select(trial_party).where(trial_party.c.nct_id.in_(nbatch))
            ).all():
                if p.role == "lead" or p.cls == "INDUSTRY":
                    orgs[p.nct_id].append((p.norm_name, p.name))
                    parents[p.norm_name] = (p.parent_key, p.parent_name)
        # What a trial says is the same for every drug it links: its fact and its
        # (indication, country, organization) cells are made once per trial.
        per_trial: dict[str, tuple[TrialFact, list[tuple[Cell, tuple[str, str, str | None]]]]] = {}
        for r in links:
            if r.nct_id in per_trial:
                continue
            fact = TrialFact(
                r.nct_id,
                r.phase or "UNKNOWN",
                r.overall_status,
                parse_date(r.first_posted),
                parse_date(r.start_date),
                parse_date(r.last_update_posted),
            )
            cells: dict[Cell, tuple[str, str, str | None]] = {}
            for ikey, iname, disease_id in inds.get(r.nct_id, []):
                for country in countries.get(r.nct_id) or [""]:
                    for okey, oname in orgs.get(r.nct_id) or [("", "")]:
                        cells.setdefault((ikey, country, okey), (iname, oname, disease_id))
            per_trial[r.nct_id] = (fact, list(cells.items()))
        for drug_id, nct_id in dict.fromkeys((r.drug_id, r.nct_id) for r in links):
            fact, trial_cells = per_trial[nct_id]
            for (ikey, country, okey), named in trial_cells:
                key = (drug_id, ikey, country, okey)
                had = facts.get(key)
                if had is None:
                    facts[key] = [fact]
                    names[key] = named
                else:
                    had.append(fact)
    out = []
    # Cells of one drug mostly share their trials (one row per country of the same studies):
    # phase, activity and sources are worked out once per distinct list of trial facts (the
    # facts are one object per trial, alive until the end, so their ids name the list).
    done: dict[tuple[int, ...], tuple[Phase, date | None, Activity, date | None, str, list[str]]]
    done = {}
    for key, fs in facts.items():
        sig = tuple(map(id, fs))
        got = done.get(sig)
        if got is None:
            got = done[sig] = (
                *phase_reached(fs),
                *activity(fs, as_of),
                sorted({f.nct_id for f in fs}),
            )
        phase, since, act, act_since, rule, ncts = got
        iname, oname, disease_id = names[key]
        out.append(
            DevStatus(
                key[0],
                key[1],
                iname,
                key[2],
                key[3],
                oname,
                phase,
                since,
                act,
                act_since,
                rule,
                list(ncts),
                *parents.get(key[3], (key[3], oname)),
            )
        )
    return out


def rebuild(
    engine: Engine,
    drug_ids: Iterable[str],
    as_of: date | None = None,
    news: News | None = None,
) -> int:
    """Replace the status rows of ``drug_ids`` (from trials and from regulators' decisions, one
    row per drug × indication × country × organization); return how many rows they have.

    With ``news`` (the source records with events in this load), what changed in the rows is
    stored as dev_status events (``track.devstatus``), in the same transaction.
    """
    drugs = sorted(set(drug_ids))
    with engine.begin() as conn:
        when = as_of or data_as_of(conn) or date.today()
        before = _rows_of(conn, drugs) if news is not None else {}
        merged: dict[Key, DevStatus] = {}
        for s in [*compute(conn, drugs, when), *approvals.compute(conn, drugs)]:
            key = (s.drug_id, s.indication_key, s.country, s.org_key)
            merged[key] = approvals.merge(merged[key], s) if key in merged else s
        rows = list(merged.values())
        for batch in chunks(drugs, 500):
            conn.execute(delete(dev_status).where(dev_status.c.drug_id.in_(batch)))
        data = [
            {
                "drug_id": s.drug_id,
                "indication_key": s.indication_key[:400],
                "country": s.country[:100],
                "org_key": s.org_key[:400],
                "indication_name": s.indication_name[:1000],
                "disease_id": _disease(s),
                "org_name": s.org_name[:1000],
                "org_parent_key": s.org_parent_key[:400],
                "org_parent_name": s.org_parent_name[:1000],
                "phase": s.phase.value,
                "phase_since": s.phase_since,
                "activity": s.activity.value,
                "activity_since": s.activity_since,
                "activity_rule": s.activity_rule,
                "sources": orjson.dumps(s.sources).decode(),
                "source": _source_of(s.sources),
                "as_of": when,
            }
            for s in rows
        ]
        insert_rows(conn, dev_status, data)
        if news is not None:
            _store_events(conn, drugs, before, data, news)
    return len(data)


def _rows_of(conn: Connection, drugs: list[str]) -> dict[str, list[dict[str, Any]]]:
    out: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for batch in chunks(drugs, 500):
        for r in conn.execute(select(dev_status).where(dev_status.c.drug_id.in_(batch))).all():
            out[r.drug_id].append(dict(r._mapping))
    return out


def _store_events(
    conn: Connection,
    drugs: list[str],
    before: dict[str, list[dict[str, Any]]],
    data: list[dict[str, Any]],
    news: News,
) -> None:
    after: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for row in data:
        after[row["drug_id"]].append(row)
    names: dict[str, str] = {}
    for batch in chunks(drugs, 500):
        names.update(
            (r.id, r.preferred_name)
            for r in conn.execute(
                select(drug.c.id, drug.c.preferred_name).where(drug.c.id.in_(batch))
            )
        )
    drafts = []
    for d in drugs:
        drafts += events.diff(
            d, names.get(d, d), before.get(d, []), after.get(d, []), news, news.as_of
        )
    save(conn, drafts)


def _source_of(sources: list[str]) -> str:
    """``ctgov`` for NCT ids, else the source named before the colon, joined: ``ctgov,fda``."""
    kinds = {"ctgov" if x.startswith("NCT") else x.split(":", 1)[0] for x in sources}
    return ",".join(sorted(kinds))[:40]


def _disease(s: DevStatus) -> str | None:
    return None if s.indication_key.startswith("text:") else s.indication_key


def status_of(engine: Engine, drug_id: str) -> list[dict[str, object]]:
    """The drug's status rows, most advanced first."""
    with engine.connect() as conn:
        rows = conn.execute(select(dev_status).where(dev_status.c.drug_id == drug_id)).all()
    out = [
        {
            "indication": r.indication_name,
            "disease_id": r.disease_id,
            "country": r.country,
            "organization": r.org_name,
            "parent_organization": r.org_parent_name,
            "phase": r.phase,
            "phase_since": r.phase_since,
            "activity": r.activity,
            "since": r.activity_since,
            "activity_rule": r.activity_rule,
            "sources": orjson.loads(r.sources),
            "as_of": r.as_of,
        }
        for r in rows
    ]
    return sorted(out, key=lambda d: (-RANK[Phase(str(d["phase"]))], str(d["indication"])))


def highest_phase(engine: Engine, drug_id: str) -> dict[str, str | None]:
    """The drug's highest phase over rows still active or suspended (inactive rows do not
    count: a program with no development reported is not where the drug stands), and over all
    rows ("ever")."""
    rows = status_of(engine, drug_id)

    def top(rs: list[dict[str, object]]) -> str | None:
        phases = [Phase(str(r["phase"])) for r in rs]
        return max(phases, key=lambda p: RANK[p]).value if phases else None

    live = [r for r in rows if Activity(str(r["activity"])) not in INACTIVE]
    return {"highest_phase": top(live), "highest_phase_ever": top(rows)}
