"""``store.bulk.insert_rows`` stores exactly what SQLAlchemy's own INSERT stores, on SQLite (the
driver directly) and PostgreSQL (COPY), awkward text included."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    Boolean,
    Column,
    Date,
    DateTime,
    Engine,
    Float,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    insert,
    select,
)

from drugradar.store.bulk import insert_rows

AWKWARD = [
    "plain",
    "tab\there, newline\nthere, carriage\rreturn",
    "back\\slash \\N and \\. and quotes ' \"",
    "unicode: α-interferon, Ménétrier, 日本, emoji 🧪",
    "",
    "comma, separated, text",
]


def _table(meta: MetaData, name: str) -> Table:
    return Table(
        name,
        meta,
        Column("id", Integer, primary_key=True, autoincrement=False),
        Column("name", String(200)),
        Column("body", Text),
        Column("score", Float),
        Column("day", Date),
        Column("at", DateTime),
        Column("flag", Boolean),
    )


def _rows() -> list[dict[str, Any]]:
    out = []
    for i, s in enumerate(AWKWARD):
        out.append(
            {
                "id": i,
                "name": s[:200],
                "body": s * 3,
                "score": i / 3 if i % 2 else None,
                "day": date(2020, 1, 1 + i) if i % 3 else None,
                "at": datetime(2021, 5, 6, 7, 8, 9, 123456) if i % 2 == 0 else None,
                "flag": [True, False, None][i % 3],
            }
        )
    return out


def test_insert_rows_stores_what_sqlalchemy_stores(engine: Engine) -> None:
    meta = MetaData()
    ours, theirs = _table(meta, "scratch_bulk_ours"), _table(meta, "scratch_bulk_theirs")
    meta.create_all(engine)
    rows = _rows()
    with engine.begin() as conn:
        insert_rows(conn, ours, rows)
        conn.execute(insert(theirs), rows)
    with engine.connect() as conn:
        a = conn.execute(select(ours).order_by(ours.c.id)).all()
        b = conn.execute(select(theirs).order_by(theirs.c.id)).all()
    assert a == b and len(a) == len(AWKWARD)
    assert [r.body for r in a] == [s * 3 for s in AWKWARD]


def test_a_default_the_rows_do_not_give_goes_through_sqlalchemy(engine: Engine) -> None:
    meta = MetaData()
    t = Table(
        "scratch_bulk_default",
        meta,
        Column("id", Integer, primary_key=True, autoincrement=False),
        Column("kind", String(20), nullable=False, default="trial"),
    )
    meta.create_all(engine)
    with engine.begin() as conn:
        insert_rows(conn, t, [{"id": 1}, {"id": 2}])
    with engine.connect() as conn:
        assert conn.execute(select(t.c.kind)).scalars().all() == ["trial", "trial"]


def test_rows_roll_back_with_their_transaction(engine: Engine) -> None:
    meta = MetaData()
    t = _table(meta, "scratch_bulk_rollback")
    meta.create_all(engine)
    try:
        with engine.begin() as conn:
            insert_rows(conn, t, _rows())
            raise RuntimeError("the load fails after writing")
    except RuntimeError:
        pass
    with engine.connect() as conn:
        assert conn.execute(select(t)).all() == []
