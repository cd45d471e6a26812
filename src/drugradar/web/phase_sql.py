"""Phases ranked in SQL, so that "highest phase" sorts and groups in the database."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Select, case, func, select

from drugradar.model.devstatus import INACTIVE, RANK, Phase
from drugradar.store.schema import dev_status

PHASE_BY_RANK = {r: p.value for p, r in RANK.items()}


def rank_of(column: Any) -> Any:
    """``column``'s phase as its rank (``RANK``), -1 for a value the scale does not know."""
    return case({p.value: r for p, r in RANK.items()}, value=column, else_=-1)


def highest_phase_query(*, live_only: bool = True) -> Select[Any]:
    """Per drug, the rank of its highest phase (over active and suspended rows by default, like
    ``devstatus.build.highest_phase``)."""
    ds = dev_status.c
    stmt = select(ds.drug_id, func.max(rank_of(ds.phase)).label("rank")).group_by(ds.drug_id)
    if live_only:
        stmt = stmt.where(ds.activity.not_in([a.value for a in INACTIVE]))
    return stmt


def phase_of_rank(rank: Any) -> str | None:
    return PHASE_BY_RANK.get(int(rank)) if rank is not None else None


LADDER = [
    Phase.PRECLINICAL,
    Phase.PHASE_1,
    Phase.PHASE_2,
    Phase.PHASE_3,
    Phase.NDA_BLA,
    Phase.APPROVED,
]
