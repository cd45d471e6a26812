"""Many rows into one table at once.

SQLAlchemy's executemany processes every parameter of every row in Python (~6 µs a row); a
trial load writes a quarter of a million rows. On SQLite the rows go straight to the driver as
tuples instead, converted here the way SQLAlchemy stores them (dates as ISO text, datetimes with
microseconds, booleans as 0/1). On PostgreSQL they go through COPY (psycopg's ``write_row``),
several times faster than SQLAlchemy's batched multi-row INSERT, which the server has to parse
and plan for each batch. Either way, a table with a Python-side default the rows do not give,
or a column type not handled here, goes through SQLAlchemy.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import date, datetime
from operator import itemgetter
from typing import Any

from sqlalchemy import (
    Boolean,
    Connection,
    Date,
    DateTime,
    Enum,
    Float,
    Integer,
    String,
    Table,
    insert,
)

from drugradar.store.sync import chunks

_PLAIN = (String, Integer, Float)  # Text is a String
Convert = Callable[[Any], Any] | None


def insert_rows(conn: Connection, table: Table, rows: Sequence[dict[str, Any]]) -> None:
    """INSERT ``rows`` (dicts with the same keys) into ``table``."""
    if not rows:
        return
    names = list(rows[0])
    converters = _converters(table, names)
    quote = conn.dialect.identifier_preparer.quote
    if converters is not None and conn.dialect.name == "postgresql":
        _copy(conn, f"{quote(table.name)} ({', '.join(quote(n) for n in names)})", names, rows)
        return
    if converters is None or conn.dialect.name != "sqlite":
        for batch in chunks(list(rows)):
            conn.execute(insert(table), batch)
        return
    sql = (
        f"INSERT INTO {quote(table.name)} ({', '.join(quote(n) for n in names)}) "
        f"VALUES ({', '.join('?' for _ in names)})"
    )
    conn.exec_driver_sql(sql, _values(rows, names, converters))


def _values(
    rows: Sequence[dict[str, Any]], names: list[str], converters: list[Convert]
) -> list[Sequence[Any]]:
    """Each row's values in ``names`` order, converted: read with one ``itemgetter`` call a row
    (C) and only the columns that need it converted, instead of a generator a row."""
    get = itemgetter(*names)
    if len(names) == 1:
        return (
            [(get(r),) for r in rows]
            if converters[0] is None
            else [(converters[0](get(r)),) for r in rows]
        )
    todo = [(i, f) for i, f in enumerate(converters) if f is not None]
    if not todo:
        return [get(r) for r in rows]
    out: list[Sequence[Any]] = []
    for r in rows:
        values = list(get(r))
        for i, f in todo:
            values[i] = f(values[i])
        out.append(tuple(values))
    return out


def _copy(conn: Connection, target: str, names: list[str], rows: Sequence[dict[str, Any]]) -> None:
    """COPY the rows in, in the connection's transaction (psycopg adapts each value)."""
    cur = conn.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
    try:
        with cur.copy(f"COPY {target} FROM STDIN") as copy:
            for r in rows:
                copy.write_row([r[n] for n in names])
    finally:
        cur.close()


def _converters(table: Table, names: list[str]) -> list[Convert] | None:
    """Per column, how SQLAlchemy would store the value on SQLite (``None``: as it is); ``None``
    overall when a column needs SQLAlchemy (a Python-side default, a type not handled here)."""
    given = set(names)
    for col in table.columns:
        if col.name not in given and (col.default is not None or col.onupdate is not None):
            return None
    out: list[Convert] = []
    for name in names:
        if name not in table.c:
            return None
        kind = table.c[name].type
        if isinstance(kind, DateTime):
            out.append(_datetime)
        elif isinstance(kind, Date):
            out.append(_date)
        elif isinstance(kind, Boolean):
            out.append(_bool)
        elif isinstance(kind, _PLAIN) and not isinstance(kind, Enum):
            out.append(None)
        else:
            return None
    return out


def _date(v: date | None) -> str | None:
    if v is None:
        return None
    return v.isoformat() if type(v) is date else f"{v.year:04d}-{v.month:02d}-{v.day:02d}"


def _datetime(v: datetime | None) -> str | None:
    return None if v is None else v.strftime("%Y-%m-%d %H:%M:%S.%f")


def _bool(v: bool | None) -> int | None:
    return None if v is None else int(bool(v))
