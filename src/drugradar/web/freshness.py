"""The freshness line: when each source was last loaded, and the data's as-of date."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Engine, func, select

from drugradar.store.schema import source_release


@dataclass(frozen=True, slots=True)
class Freshness:
    source: str
    release_date: Any  # the newest release's own date
    loaded_at: Any  # when it was loaded here


def last_sync(engine: Engine, sources: Iterable[str] | None = None) -> list[Freshness]:
    """Per source (all, or those named), its newest loaded release."""
    sr = source_release.c
    stmt = (
        select(sr.source, func.max(sr.release_date), func.max(sr.finished_at))
        .where(sr.status == "done")
        .group_by(sr.source)
        .order_by(sr.source)
    )
    wanted = sorted(set(sources)) if sources is not None else None
    if wanted is not None:
        if not wanted:
            return []
        stmt = stmt.where(sr.source.in_(wanted))
    with engine.connect() as conn:
        return [Freshness(s, d, f) for s, d, f in conn.execute(stmt).tuples()]
