"""Suggestions as one types: the resolver's matches (any alias, typo-tolerant, saying which
alias matched), then names that start with what was typed.

The resolver keeps its fuzzy index in memory, so one instance serves every request; it is
rebuilt every few minutes so that names loaded since show up.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from fastapi import Request
from sqlalchemy import Engine, func, select

from drugradar.resolve import Resolver, norm_key
from drugradar.store.schema import drug, synonym

RESOLVER_TTL = 600.0
ALIAS_ORDER = {"official": 0, "inn": 0, "brand": 1, "code": 2, "common": 3, "salt": 4}


@dataclass(frozen=True, slots=True)
class Suggestion:
    drug_id: str
    name: str  # the drug's preferred name
    alias: str  # the name that matched what was typed
    alias_type: str
    how: str  # exact, fuzzy, prefix…


def resolver_of(request: Request) -> Resolver:
    state = request.app.state
    made = getattr(state, "web_resolver_at", 0.0)
    resolver = getattr(state, "web_resolver", None)
    if not isinstance(resolver, Resolver) or time.monotonic() - made > RESOLVER_TTL:
        resolver = Resolver(request.app.state.engine)
        state.web_resolver = resolver
        state.web_resolver_at = time.monotonic()
    return resolver


def suggestions(engine: Engine, resolver: Resolver, text: str, limit: int = 8) -> list[Suggestion]:
    """Up to ``limit`` drugs for ``text``, one line each."""
    key = norm_key(text)
    if len(key) < 2:
        return []
    out: dict[str, Suggestion] = {}
    for m in resolver.resolve(text).matches:
        out.setdefault(
            m.drug_id,
            Suggestion(m.drug_id, m.preferred_name, m.matched_alias, m.alias_type, m.match_kind),
        )
    s, d = synonym.c, drug.c
    stmt = (
        select(s.drug_id, s.name, s.alias_type, d.preferred_name)
        .join(drug, d.id == s.drug_id)
        .where(s.norm_key.like(f"{key}%"), d.retired.is_(False))
        .order_by(func.length(s.norm_key), s.name)
        .limit(limit * 6)
    )
    with engine.connect() as conn:
        rows = list(conn.execute(stmt).all())
    rows.sort(key=lambda r: (len(norm_key(r.name)), ALIAS_ORDER.get(r.alias_type, 5), r.name))
    for r in rows:
        if len(out) >= limit:
            break
        out.setdefault(
            r.drug_id, Suggestion(r.drug_id, r.preferred_name, r.name, r.alias_type, "prefix")
        )
    return list(out.values())[:limit]
