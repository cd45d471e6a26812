"""Questions asked of the trial tables."""

from __future__ import annotations

from sqlalchemy import Engine, and_, func, select

from drugradar.store.schema import trial, trial_drug, trial_intervention
from drugradar.trials.rows import DRUG_ROLES


def unresolved_interventions(engine: Engine, limit: int = 30) -> list[tuple[str, int, str]]:
    """``(name, number of trials, type)`` of drug interventions linked to no drug, names that
    differ only in case counted together."""
    ti, td = trial_intervention.c, trial_drug.c
    stmt = (
        select(
            func.min(ti.name), func.count(func.distinct(ti.nct_id)).label("n"), func.min(ti.type)
        )
        .select_from(
            trial_intervention.outerjoin(
                trial_drug, and_(td.nct_id == ti.nct_id, td.position == ti.position)
            )
        )
        .where(ti.role.in_(DRUG_ROLES), td.drug_id.is_(None))
        .group_by(func.lower(ti.name))
        .order_by(func.count(func.distinct(ti.nct_id)).desc(), func.lower(ti.name))
        .limit(limit)
    )
    with engine.connect() as conn:
        return [(r[0], int(r[1]), r[2] or "") for r in conn.execute(stmt)]


def trials_of_drug(engine: Engine, drug_id: str) -> list[dict[str, object]]:
    """The trials a drug is linked to, newest update first, with its role in each."""
    td, t = trial_drug.c, trial.c
    stmt = (
        select(
            t.nct_id,
            t.brief_title,
            t.phase,
            t.overall_status,
            t.last_update_posted,
            td.role,
            td.matched_alias,
            td.match_kind,
            td.score,
            t.source_date,
        )
        .join(trial, t.nct_id == td.nct_id)
        .where(td.drug_id == drug_id)
        .order_by(t.last_update_posted.desc(), t.nct_id)
    )
    with engine.connect() as conn:
        seen: dict[str, dict[str, object]] = {}
        for r in conn.execute(stmt):
            seen.setdefault(r.nct_id, {str(k): v for k, v in r._mapping.items()})
        return list(seen.values())
