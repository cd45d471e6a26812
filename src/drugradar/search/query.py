"""A drug search: the filters the web search, the API and saved searches share.

Drug-level filters (``text``, ``modality``, ``target``) apply to the drug; row-level filters
(``phase``, ``activity``, ``indication``, ``organization``, ``country``) must all hold on one and
the same development-status row — "Phase 3 in the United States for melanoma" means one program,
not three facts from three programs. ``phase`` means "reached at least this phase";
``indication`` includes its child terms; ``organization`` includes subsidiaries.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass, fields
from typing import Any

from sqlalchemy import Select, and_, exists, or_, select

from drugradar.model.devstatus import RANK, Activity, Phase
from drugradar.model.drug import Modality
from drugradar.resolve.normalize import norm_key
from drugradar.resolve.orgs import org_key
from drugradar.search.name_index import NameHits, NameIndex
from drugradar.store.schema import (
    dev_status,
    disease_ancestor,
    drug,
    drug_target,
    synonym,
    target,
)


class SearchError(ValueError):
    """A filter that makes no sense; the message says which, in one sentence."""


@dataclass(frozen=True, slots=True)
class SearchQuery:
    text: str | None = None
    phase: str | None = None
    activity: str | None = None
    modality: str | None = None
    target: str | None = None
    indication: str | None = None  # a MeSH descriptor id
    organization: str | None = None
    country: str | None = None

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> SearchQuery:
        names = {f.name for f in fields(cls)}
        unknown = sorted(set(data) - names)
        if unknown:
            raise SearchError(
                f"Unknown search filter {unknown[0]!r}; filters are {', '.join(sorted(names))}."
            )
        clean = {k: str(v).strip() for k, v in data.items() if v not in (None, "")}
        q = cls(**clean)
        q.check()
        return q

    def to_dict(self) -> dict[str, str]:
        return {k: v for k, v in asdict(self).items() if v}

    def check(self) -> None:
        if self.phase and self.phase not in Phase.__members__:
            raise SearchError(
                f"Unknown phase {self.phase!r}; phases are {', '.join(Phase.__members__)}."
            )
        if self.activity and self.activity not in {a.value for a in Activity}:
            raise SearchError(f"Unknown activity {self.activity!r}; one of {', '.join(Activity)}.")
        if self.modality and self.modality not in {m.value for m in Modality}:
            raise SearchError(f"Unknown modality {self.modality!r}; one of {', '.join(Modality)}.")

    def describe(self) -> str:
        parts = [f"{k}={v}" for k, v in self.to_dict().items()]
        return "search: " + (", ".join(parts) if parts else "all drugs")

    def row_filtered(self) -> bool:
        return bool(
            self.phase or self.activity or self.indication or self.organization or self.country
        )


def text_key(q: SearchQuery) -> str:
    """What the text filter looks for in the names (``synonym.norm_key``)."""
    return norm_key(q.text) if q.text else ""


def named_ids(q: SearchQuery, index: NameIndex | None) -> NameHits | None:
    """The drugs with a name containing the text, from the in-memory index
    (``search.name_index``); ``None`` when there is no text or no index, or the index leaves it
    to SQL (a text too many names contain)."""
    if not q.text or index is None:
        return None
    return index.drugs_containing(text_key(q))


def drug_ids(
    q: SearchQuery, also: Sequence[str] = (), named: NameHits | None = None
) -> Select[Any]:
    """A SELECT of the ids of the (live) drugs the query finds. ``also``: drugs that count as
    matching the text though no name contains it (the resolver's typo-tolerant matches); the
    other filters still apply to them. ``named``: the drugs with a name containing the text
    when already known (``named_ids``): the same results without reading every name."""
    d = drug.c
    stmt = select(d.id).where(d.retired.is_(False))
    if q.text and named is not None:
        ids = sorted({*named.ids, *also})
        stmt = stmt.where(d.id.in_(ids))
    elif q.text:
        key = text_key(q)
        like = f"%{key}%"
        s = synonym.c
        # one scan of the names, not a probe per drug: several times faster on a whole dictionary
        has_name = d.id.in_(select(s.drug_id).where(s.norm_key.like(like)))
        stmt = stmt.where(or_(has_name, d.id.in_(list(also))) if also else has_name)
    if q.modality:
        stmt = stmt.where(d.modality == q.modality)
    if q.target:
        dt, t = drug_target.c, target.c
        stmt = stmt.where(
            exists().where(
                dt.drug_id == d.id, dt.target_id == t.id, t.gene_symbol == q.target.upper()
            )
        )
    if q.row_filtered():
        ds = dev_status.c
        conds = [ds.drug_id == d.id]
        if q.phase:
            reached = [
                p.value for p in Phase if RANK[p] >= RANK[Phase[q.phase]] and p is not Phase.UNKNOWN
            ]
            conds.append(ds.phase.in_(reached))
        if q.activity:
            conds.append(ds.activity == q.activity)
        if q.country:
            conds.append(ds.country == q.country)
        if q.organization:
            key = org_key(q.organization)
            conds.append(or_(ds.org_key == key, ds.org_parent_key == key))
        if q.indication:
            da = disease_ancestor.c
            conds.append(
                or_(
                    ds.disease_id == q.indication,
                    exists().where(
                        and_(da.disease_id == ds.disease_id, da.ancestor_id == q.indication)
                    ),
                )
            )
        stmt = stmt.where(exists().where(and_(*conds)))
    return stmt
