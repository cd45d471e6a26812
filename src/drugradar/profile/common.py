"""What the profile builders share: reading current source records, naming drugs, replacing
rows of a table, and keeping the names that did not resolve.

A builder is ``build(conn, resolver) -> dict[str, int]``: it rebuilds its tables entirely from the
current source records of its sources (so it is idempotent and a rerun after a killed load ends in
the same state), inside the caller's transaction.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import Connection, Table, delete, insert

from drugradar.dictionary.build import SourceRow, current_records
from drugradar.resolve import Resolver
from drugradar.resolve.normalize import norm_key
from drugradar.resolve.resolver import Match
from drugradar.store.schema import unlinked_name
from drugradar.store.sync import chunks

Row = dict[str, Any]
LINK_KINDS = ("exact", "salt", "combination", "partial")  # never fuzzy: a wrong drug is worse


def records(conn: Connection, source: str) -> Iterator[SourceRow]:
    """The source's current records (those the latest release holds)."""
    return current_records(conn, source)


def prov(row: SourceRow) -> Row:
    """The provenance columns of a fact taken from ``row``."""
    return {
        "source": row.source,
        "source_record_id": row.record_id[:200],
        "source_date": row.source_date,
        "licence": row.licence[:60],
    }


@dataclass(frozen=True, slots=True)
class Link:
    drug_id: str
    match_kind: str
    matched_alias: str


def link_names(resolver: Resolver, names: Iterable[str]) -> dict[str, list[Link]]:
    """Every distinct name -> the drugs it names (one, or several for a combination), without
    fuzzy matching; names that do not resolve map to ``[]``."""
    unique = sorted({n.strip() for n in names if n and n.strip()})
    out: dict[str, list[Link]] = {}
    for batch in chunks(unique, 5000):
        for name, res in zip(batch, resolver.resolve_many(batch, fuzzy=False), strict=True):
            ok = [m for m in res.matches if m.match_kind in LINK_KINDS and _covers(name, m)]
            if not res.combination:
                ok = ok[:1]
            out[name] = [Link(m.drug_id, m.match_kind, m.matched_alias) for m in ok]
    return out


def _covers(query: str, m: Match) -> bool:
    """A partial match must name most of the query: "pembrolizumab injection" is pembrolizumab,
    but "Lutetium (177Lu) omburtamab" is not lutetium, nor "antibody against death receptor 5"
    the receptor; "Adeno-associated viral vector … (onasemnogene abeparvovec)" names its INN."""
    if m.match_kind != "partial":
        return True
    alias = norm_key(m.matched_alias)
    if len(alias) * 2 >= len(norm_key(query)):
        return True
    # "description (INN)" or "INN (description)": a parenthesis that closes the name
    head, paren, rest = query.partition("(")
    inner, close, after = rest.partition(")")
    if paren and close and not after.strip():
        return alias in (norm_key(head), norm_key(inner))
    return False


def replace(conn: Connection, table: Table, sources: Sequence[str], rows: Sequence[Row]) -> int:
    """Delete the rows of ``table`` that came from ``sources``, insert ``rows``."""
    conn.execute(delete(table).where(table.c.source.in_(list(sources))))
    for batch in chunks(list(rows), 2000):
        conn.execute(insert(table), batch)
    return len(rows)


def keep_unlinked(conn: Connection, source: str, names: Counter[str]) -> int:
    """Remember the names of ``source`` that named no drug (most frequent first in reports)."""
    conn.execute(delete(unlinked_name).where(unlinked_name.c.source == source))
    rows = [
        {"source": source, "name": n[:1000], "records": c} for n, c in names.items() if n.strip()
    ]
    for batch in chunks(rows, 2000):
        conn.execute(insert(unlinked_name), batch)
    return len(rows)


def iso(value: Any) -> date | None:
    """``'2019-07-01'`` -> date; anything else -> None."""
    if isinstance(value, str) and len(value) >= 10:
        try:
            return date.fromisoformat(value[:10])
        except ValueError:
            return None
    return None
