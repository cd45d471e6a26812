"""The whole profile of one drug, as plain data (the CLI prints it as JSON; the web renders it).

Every fact carries ``sources``: ``[{source, record, date, licence}]``. Organizations get roles
by documented rules:

- ``sponsor``: lead sponsor of a trial of the drug (any class);
- ``developer``: an organization of a status row that is still active or suspended;
- ``marketing_authorisation_holder``: holder of an original FDA approval or an EU authorisation;
- ``originator``: the organization of the drug's earliest industry trial (first posted), else the
  holder of its earliest approval — the first company seen working on it in the open record.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date
from typing import Any

import orjson
from sqlalchemy import Engine, select

from drugradar.devstatus.build import highest_phase, status_of
from drugradar.model.devstatus import INACTIVE, Activity
from drugradar.store.repository import get_drug
from drugradar.store.schema import (
    approval,
    atc_ddd,
    designation,
    drug_class,
    exclusivity,
    patent,
    safety_communication,
    trial,
    trial_drug,
    trial_party,
)
from drugradar.track.query import EventFilter, as_dict, list_events
from drugradar.trials.query import trials_of_drug

Row = dict[str, Any]


def _src(r: Any) -> list[Row]:
    return [
        {
            "source": r.source,
            "record": r.source_record_id,
            "date": r.source_date,
            "licence": r.licence,
        }
    ]


def _rows(engine: Engine, table: Any, drug_id: str, order: list[Any]) -> list[Any]:
    with engine.connect() as c:
        stmt = select(table).where(table.c.drug_id == drug_id).order_by(*order)
        return list(c.execute(stmt).all())  # fetched at once: row by row is slower


def approvals_of(engine: Engine, drug_id: str) -> list[Row]:
    a = approval.c
    return [
        {
            "agency": r.agency,
            "country": r.country,
            "application": r.application,
            "product": r.product,
            "ingredient": r.ingredient,
            "kind": r.kind,
            "status": r.status,
            "date": r.date,
            "detail": r.detail,
            "indication": r.indication,
            "holder": r.holder,
            "flags": orjson.loads(r.flags or "{}"),
            "sources": _src(r),
        }
        for r in _rows(engine, approval, drug_id, [a.date.is_(None), a.date, a.application])
    ]


def designations_of(engine: Engine, drug_id: str) -> list[Row]:
    d = designation.c
    return [
        {
            "agency": r.agency,
            "kind": r.kind,
            "number": r.number,
            "product": r.product,
            "condition": r.condition,
            "status": r.status,
            "date": r.date,
            "url": r.url,
            "sources": _src(r),
        }
        for r in _rows(engine, designation, drug_id, [d.date, d.number])
    ]


def patents_of(engine: Engine, drug_id: str) -> list[Row]:
    p = patent.c
    seen: dict[tuple[str, str], Row] = {}
    for r in _rows(engine, patent, drug_id, [p.expires, p.patent_no, p.application]):
        row = seen.setdefault(
            (r.patent_no, r.application),
            {
                "patent": r.patent_no,
                "application": r.application,
                "products": [],
                "expires": r.expires,
                "drug_substance": r.drug_substance,
                "drug_product": r.drug_product,
                "use_codes": orjson.loads(r.use_codes or "[]"),
                "delisted": r.delisted,
                "sources": _src(r),
            },
        )
        row["products"].append(r.product_no)
    return list(seen.values())


def exclusivities_of(engine: Engine, drug_id: str) -> list[Row]:
    e = exclusivity.c
    return [
        {
            "code": r.code,
            "kind": r.kind,
            "application": r.application,
            "product": r.product_no,
            "expires": r.expires,
            "sources": _src(r),
        }
        for r in _rows(engine, exclusivity, drug_id, [e.expires, e.code, e.application])
    ]


def safety_of(engine: Engine, drug_id: str) -> list[Row]:
    s = safety_communication.c
    return [
        {
            "agency": r.agency,
            "kind": r.kind,
            "title": r.title,
            "outcome": r.outcome,
            "date": r.date,
            "url": r.url,
            "sources": _src(r),
        }
        for r in _rows(engine, safety_communication, drug_id, [s.date.desc(), s.kind])
    ]


def organizations_of(
    engine: Engine, drug_id: str, status: list[Row], approvals: list[Row]
) -> list[Row]:
    """Organizations with their roles (rules in the module docstring)."""
    roles: dict[str, set[str]] = defaultdict(set)
    first_seen: dict[str, date] = {}
    td, t, tp = trial_drug.c, trial.c, trial_party.c
    with engine.connect() as c:
        parties = c.execute(
            select(tp.name, tp.role, tp.cls, t.first_posted)
            .join(trial, t.nct_id == tp.nct_id)
            .join(trial_drug, td.nct_id == tp.nct_id)
            .where(td.drug_id == drug_id, td.role.in_(("investigational", "background")))
        ).all()
    earliest: tuple[str, str] | None = None
    for p in parties:
        if p.role == "lead":
            roles[p.name].add("sponsor")
        if p.cls == "INDUSTRY" and p.first_posted:
            key = (str(p.first_posted), p.name)
            earliest = min(earliest, key) if earliest else key
    for s in status:
        if Activity(str(s["activity"])) not in INACTIVE and s["organization"]:
            roles[str(s["organization"])].add("developer")
    for a in approvals:
        if a["kind"] in ("original", "authorisation") and a["holder"]:
            roles[str(a["holder"])].add("marketing_authorisation_holder")
            if a["date"] and (a["holder"] not in first_seen or a["date"] < first_seen[a["holder"]]):
                first_seen[str(a["holder"])] = a["date"]
    if earliest:
        roles[earliest[1]].add("originator")
    elif first_seen:
        roles[min(first_seen, key=lambda k: (first_seen[k], k))].add("originator")
    order = ["originator", "developer", "marketing_authorisation_holder", "sponsor"]
    out = [{"name": n, "roles": [r for r in order if r in rs]} for n, rs in roles.items()]
    return sorted(out, key=lambda o: ([order.index(r) for r in o["roles"]], o["name"]))


# WHO's administration route codes (``adm_r``) in words; other values are already words.
ROUTES = {
    "O": "oral",
    "P": "parenteral",
    "R": "rectal",
    "N": "nasal",
    "V": "vaginal",
    "SL": "sublingual",
    "TD": "transdermal",
}


def doses_of(engine: Engine, drug_id: str) -> list[Row]:
    """WHO defined daily doses of the drug's ATC codes: the assumed average maintenance dose
    per day for the main indication in adults, per route (a unit for comparing use, not a
    prescribing dose — WHO says so, and so does the page)."""
    dc, dd = drug_class.c, atc_ddd.c
    with engine.connect() as c:
        rows = c.execute(
            select(atc_ddd)
            .join(drug_class, dc.class_source_id == dd.code)
            .where(dc.drug_id == drug_id, dc.class_type == "ATC")
            .distinct()
            .order_by(dd.code, dd.route, dd.ddd)
        ).all()
    return [
        {
            "atc": r.code,
            "route": ROUTES.get(r.route, r.route.lower()) or None,
            "ddd": r.ddd,
            "unit": r.uom,
            "note": r.note,
            "sources": _src(r),
        }
        for r in rows
    ]


def _optional(engine: Engine, drug_id: str) -> Row:
    """Label monograph, routes and interactions: from their builders' modules."""
    from drugradar.profile import interactions, labels

    with engine.connect() as c:
        sections = labels.sections_of(c, drug_id)
        routes = labels.route_of(c, drug_id)
        summary = interactions.summary(c, drug_id)
    out: Row = {"label": sections, "routes": routes, "interactions": summary}
    if not sections:
        out["label_note"] = (
            "No label is loaded for this drug: `drugradar load profile` reads the label files "
            "in the shared data; `drugradar sync labels` fetches its label from openFDA."
        )
    return out


def profile_of(engine: Engine, drug_id: str) -> Row | None:
    """Everything drugradar knows about the drug, each fact with its sources."""
    from dataclasses import asdict

    d = get_drug(engine, drug_id)
    if d is None:
        return None
    status = status_of(engine, d.id)
    approvals = approvals_of(engine, d.id)
    return {
        **asdict(d),
        **highest_phase(engine, d.id),
        "status": status,
        "approvals": approvals,
        "designations": designations_of(engine, d.id),
        "patents": patents_of(engine, d.id),
        "exclusivities": exclusivities_of(engine, d.id),
        "safety": safety_of(engine, d.id),
        "doses": doses_of(engine, d.id),
        "organizations": organizations_of(engine, d.id, status, approvals),
        **_optional(engine, d.id),
        "trials": trials_of_drug(engine, d.id),
        "timeline": [
            as_dict(ev)
            for ev in list_events(engine, EventFilter(concern=("drug", d.id), limit=300))
        ],
    }
