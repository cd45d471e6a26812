"""Phases ranked, in Python and in SQL, so that "highest phase" means the same everywhere: the
search's sort and facets, landscapes, result rows. A drug's highest phase counts its live
programs (active, suspended), like ``devstatus.build.highest_phase``; "ever" counts them all."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import ColumnElement, case

from drugradar.model.devstatus import INACTIVE, RANK, Activity, Phase

LIVE = [a.value for a in Activity if a not in INACTIVE]
PHASE_BY_RANK = {r: p.value for p, r in RANK.items()}
# The main steps of development, as a reader filters on them ("Phase 2 or later").
LADDER = [
    Phase.PRECLINICAL,
    Phase.PHASE_1,
    Phase.PHASE_2,
    Phase.PHASE_3,
    Phase.NDA_BLA,
    Phase.APPROVED,
]


def rank_of(column: Any) -> ColumnElement[int]:
    """``column``'s phase as its rank (``RANK``), -1 for a value the scale does not know."""
    return case({p.value: r for p, r in RANK.items()}, value=column, else_=-1)


def rank(phase: str | None) -> int:
    """A phase's rank, -1 for none (or a value the scale does not know)."""
    return RANK[Phase(phase)] if phase is not None and phase in Phase.__members__ else -1


def top_phase(phases: Iterable[str | None]) -> str | None:
    """The most advanced of ``phases`` (None when none is a known phase)."""
    best = max(phases, key=rank, default=None)
    return best if rank(best) >= 0 else None


def phase_of_rank(value: Any) -> str | None:
    return PHASE_BY_RANK.get(int(value)) if value is not None else None
