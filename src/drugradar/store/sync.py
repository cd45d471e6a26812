"""Make a table hold exactly a given set of rows, touching only the rows that differ.

Used to update the dictionary in place from a rebuild: unchanged rows are not rewritten, ids of
drugs that vanish are kept (``retired``) so that rows elsewhere that point at them stay valid.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from sqlalchemy import Connection, Table, and_, bindparam, delete, insert, select, update

CHUNK = 5000
T = TypeVar("T")


def chunks(items: Iterable[T], size: int = CHUNK) -> Iterator[list[T]]:
    """Lists of at most ``size`` items: bulk statements stay within driver limits."""
    buf: list[T] = []
    for item in items:
        buf.append(item)
        if len(buf) >= size:
            yield buf
            buf = []
    if buf:
        yield buf


@dataclass(slots=True)
class SyncCounts:
    inserted: int = 0
    updated: int = 0
    deleted: int = 0


def sync_rows(
    conn: Connection,
    table: Table,
    rows: Sequence[dict[str, Any]],
    key: Sequence[str],
    *,
    retire_column: str | None = None,
    surrogate: str | None = None,
    keep_missing: bool = False,
) -> SyncCounts:
    """Insert missing rows, update changed ones, delete (or retire) rows not in ``rows``.

    ``key`` names the natural key; ``surrogate`` an autoincrement id the rows don't carry.
    ``keep_missing`` leaves rows not in ``rows`` alone: a parent table is synced so before its
    children (whose new rows need new parents) and again after them (when its old rows are free).
    """
    counts = SyncCounts()
    cols = [c.name for c in table.columns if c.name != surrogate]
    fetch = [table.c[c] for c in cols] + ([table.c[surrogate]] if surrogate else [])
    existing: dict[tuple[Any, ...], Any] = {}
    for r in conn.execute(select(*fetch)):
        existing[tuple(r._mapping[k] for k in key)] = r
    wanted: dict[tuple[Any, ...], dict[str, Any]] = {}
    for row in rows:
        wanted[tuple(row[k] for k in key)] = row
    to_insert = [row for k, row in wanted.items() if k not in existing]
    to_update = [
        row
        for k, row in wanted.items()
        if k in existing and any(existing[k]._mapping[c] != row.get(c) for c in cols)
    ]
    gone = [] if keep_missing else [k for k in existing if k not in wanted]
    for batch in chunks(to_insert):
        conn.execute(insert(table), batch)
    counts.inserted = len(to_insert)
    if to_update:
        value_cols = [c for c in cols if c not in key]
        stmt = (
            update(table)
            .where(and_(*[table.c[k] == bindparam("k_" + k) for k in key]))
            .values({c: bindparam("v_" + c) for c in value_cols})
        )
        params = [
            {**{"k_" + k: row[k] for k in key}, **{"v_" + c: row.get(c) for c in value_cols}}
            for row in to_update
        ]
        for batch in chunks(params):
            conn.execute(stmt, batch)
    counts.updated = len(to_update)
    if gone:
        if retire_column:
            keycol = table.c[key[0]]
            live = [k[0] for k in gone if not existing[k]._mapping[retire_column]]
            for batch in chunks(live):
                conn.execute(update(table).where(keycol.in_(batch)).values({retire_column: True}))
            counts.deleted = len(live)
        elif surrogate:
            ids = [existing[k]._mapping[surrogate] for k in gone]
            for batch in chunks(ids):
                conn.execute(delete(table).where(table.c[surrogate].in_(batch)))
            counts.deleted = len(ids)
        else:  # one keyed DELETE a row: SQLite scans the whole table for a row-value IN list
            drop = delete(table).where(and_(*[table.c[k] == bindparam("k_" + k) for k in key]))
            names = ["k_" + k for k in key]
            for kbatch in chunks(gone):
                conn.execute(drop, [dict(zip(names, g, strict=True)) for g in kbatch])
            counts.deleted = len(gone)
    return counts
