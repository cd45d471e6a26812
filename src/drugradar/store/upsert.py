"""INSERT … ON CONFLICT DO NOTHING on both backends (SQLite and PostgreSQL speak it alike)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Connection, Table
from sqlalchemy.dialects import postgresql, sqlite

from drugradar.store.sync import chunks


def insert_ignore(
    conn: Connection, table: Table, rows: Sequence[dict[str, Any]], conflict: Sequence[str]
) -> int:
    """Insert the rows that do not collide on the unique columns ``conflict``; return how many
    went in (counted by RETURNING: drivers disagree on a multi-row rowcount)."""
    if not rows:
        return 0
    dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
    added = 0
    for batch in chunks(list(rows), 2000):
        stmt = dialect.insert(table).values(batch).on_conflict_do_nothing(index_elements=conflict)
        added += len(conn.execute(stmt.returning(table.c[conflict[0]])).all())
    return added
