"""Status rows from regulators' decisions: APPROVED (or filed) per country, beside the trials.

Rules (the ``approval`` table is filled by ``profile.fda`` and ``profile.ema``):

- Only an **original** approval of an **NDA or BLA** (FDA) or an EU **authorisation** (EMA) sets a
  phase; supplements, generics (ANDA) and EU generics and biosimilars do not: their makers are not
  developing the drug.
- FDA ``approved`` -> APPROVED; ``tentative`` (approved but blocked by patents) -> NDA_BLA.
  Activity: active, or **withdrawn** when every product of the application is "Discontinued".
- EMA ``authorised`` -> APPROVED, active; ``suspended`` -> APPROVED, suspended; ``withdrawn``,
  ``not_renewed``, ``lapsed``, ``expired``, ``revoked`` -> APPROVED, withdrawn; ``opinion`` (a
  positive CHMP opinion awaiting the EC decision) -> NDA_BLA, active; ``refused``,
  ``application_withdrawn`` and ``rolling_review_withdrawn`` -> NDA_BLA, discontinued.
- Country: "United States" (FDA) and "European Union" (EMA); organization: the application's
  sponsor / the marketing-authorisation holder.
- **Indication.** EMA gives therapeutic areas as MeSH headings: each maps to its MeSH disease (by
  name). Drugs@FDA gives no indication at all, so an FDA approval is attached to the indications
  the dictionary knows for the drug (DrugCentral's approved indications, mapped to MeSH by name);
  with none known, to one row "indication not stated by the source".
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from typing import Any

import orjson
from sqlalchemy import Connection, select

from drugradar.model.devstatus import Activity, DevStatus, Phase
from drugradar.resolve.normalize import norm_key
from drugradar.resolve.orgs import parent_of
from drugradar.store.schema import approval, disease_synonym, drug_indication
from drugradar.store.sync import chunks

COUNTRY = {"US": "United States", "EU": "European Union"}
UNSTATED = ("text:indication not stated", "indication not stated by the source")
_EMA: dict[str, tuple[Phase, Activity]] = {
    "authorised": (Phase.APPROVED, Activity.ACTIVE),
    "suspended": (Phase.APPROVED, Activity.SUSPENDED),
    "withdrawn": (Phase.APPROVED, Activity.WITHDRAWN),
    "not_renewed": (Phase.APPROVED, Activity.WITHDRAWN),
    "lapsed": (Phase.APPROVED, Activity.WITHDRAWN),
    "expired": (Phase.APPROVED, Activity.WITHDRAWN),
    "revoked": (Phase.APPROVED, Activity.WITHDRAWN),
    "opinion": (Phase.NDA_BLA, Activity.ACTIVE),
    "refused": (Phase.NDA_BLA, Activity.DISCONTINUED),
    "application_withdrawn": (Phase.NDA_BLA, Activity.DISCONTINUED),
    "rolling_review_withdrawn": (Phase.NDA_BLA, Activity.DISCONTINUED),
}
Indication = tuple[str, str]  # (indication key, name)


def _decision(agency: str, status: str, flags: dict[str, object]) -> tuple[Phase, Activity, str]:
    if agency == "EMA":
        phase, act = _EMA.get(status, (Phase.NDA_BLA, Activity.ACTIVE))
        return phase, act, f"EMA status {status}"
    if status == "tentative":
        return Phase.NDA_BLA, Activity.ACTIVE, "FDA tentative approval"
    marketing = flags.get("marketing_status")
    if isinstance(marketing, list) and marketing and all(m == "Discontinued" for m in marketing):
        return Phase.APPROVED, Activity.WITHDRAWN, "FDA: every product discontinued"
    return Phase.APPROVED, Activity.ACTIVE, "FDA original approval"


def _diseases(conn: Connection, names: Iterable[str]) -> dict[str, str]:
    """Name -> MeSH disease id, where exactly one disease has that name or synonym."""
    keys = {norm_key(n): n for n in names if n}
    found: dict[str, set[str]] = defaultdict(set)
    for batch in chunks(sorted(keys), 500):
        for r in conn.execute(
            select(disease_synonym.c.norm_key, disease_synonym.c.disease_id).where(
                disease_synonym.c.norm_key.in_(batch)
            )
        ):
            found[r.norm_key].add(r.disease_id)
    return {keys[k]: next(iter(v)) for k, v in found.items() if len(v) == 1}


def _known_indications(conn: Connection, drugs: list[str]) -> dict[str, list[Indication]]:
    names: dict[str, list[str]] = defaultdict(list)
    for batch in chunks(drugs, 500):
        for r in conn.execute(
            select(drug_indication.c.drug_id, drug_indication.c.name).where(
                drug_indication.c.drug_id.in_(batch)
            )
        ):
            names[r.drug_id].append(r.name)
    mesh = _diseases(conn, {n for ns in names.values() for n in ns})
    return {
        d: sorted({(mesh[n], n) if n in mesh else ("text:" + norm_key(n)[:390], n) for n in ns})
        for d, ns in names.items()
    }


def compute(conn: Connection, drug_ids: Iterable[str]) -> list[DevStatus]:
    """The regulator-derived status rows of ``drug_ids`` (one per indication × country × org)."""
    drugs = sorted(set(drug_ids))
    a = approval.c
    rows: list[Any] = []
    for batch in chunks(drugs, 500):
        rows += conn.execute(
            select(approval).where(a.drug_id.in_(batch), a.kind.in_(("original", "authorisation")))
        ).all()
    fda_drugs = sorted({r.drug_id for r in rows if r.agency == "FDA"})
    known = _known_indications(conn, fda_drugs) if fda_drugs else {}
    areas = {t.strip() for r in rows if r.agency == "EMA" for t in (r.detail or "").split(";")} - {
        ""
    }
    area_mesh = _diseases(conn, areas)
    out: dict[tuple[str, str, str, str], DevStatus] = {}
    for r in rows:
        flags = orjson.loads(r.flags or "{}")
        if r.agency == "FDA" and flags.get("appl_type") not in ("NDA", "BLA"):
            continue  # generics do not develop the drug
        if r.agency == "EMA" and (flags.get("generic") or flags.get("biosimilar")):
            continue  # nor do EU generics and biosimilars
        phase, act, rule = _decision(r.agency, r.status, flags)
        if r.agency == "EMA":
            named = [t.strip() for t in (r.detail or "").split(";") if t.strip()]
            inds = sorted(
                {
                    (area_mesh[t], t) if t in area_mesh else ("text:" + norm_key(t)[:390], t)
                    for t in named
                }
            )
        else:
            inds = known.get(r.drug_id, [])
        country = COUNTRY.get(r.country, r.country)
        org_key = (r.holder_key or norm_key(r.holder or ""))[:400]
        parent_key, parent_name = parent_of(r.holder or "")
        since = r.date
        for ikey, iname in inds or [UNSTATED]:
            row = DevStatus(
                r.drug_id,
                ikey,
                iname,
                country,
                org_key,
                r.holder or "",
                phase,
                since,
                act,
                since if act == Activity.ACTIVE else (r.source_date or since),
                rule,
                [f"{r.source}:{r.source_record_id}"],
                parent_key,
                parent_name,
            )
            key = (r.drug_id, ikey, country, org_key)
            out[key] = merge(out[key], row) if key in out else row
    return list(out.values())


def merge(a: DevStatus, b: DevStatus) -> DevStatus:
    """One row for one drug × indication × country × organization: the furthest phase wins
    (the earliest date it was reached), an active row beats an inactive one at equal phase,
    and the sources of both are kept."""
    from drugradar.model.devstatus import INACTIVE, RANK

    def better(x: DevStatus, y: DevStatus) -> bool:
        if RANK[x.phase] != RANK[y.phase]:
            return RANK[x.phase] > RANK[y.phase]
        return (x.activity not in INACTIVE) and (y.activity in INACTIVE)

    top, other = (a, b) if not better(b, a) else (b, a)
    dates = [d for d in (top.phase_since, other.phase_since) if d and other.phase == top.phase]
    if dates:
        top.phase_since = min(dates)
    top.sources = sorted(set(top.sources) | set(other.sources))
    return top
