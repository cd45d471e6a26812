"""``sync_rows``: a table made to hold exactly the given rows, on both backends, with a natural
key of several columns (rows gone are deleted by their whole key, nothing else)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import Column, Engine, Integer, MetaData, String, Table, select

from drugradar.store.sync import sync_rows

probe_md = MetaData()
probe = Table(  # a table of this test only (synthetic rows)
    "sync_probe",
    probe_md,
    Column("drug_id", String(16), primary_key=True),
    Column("target_id", String(16), primary_key=True),
    Column("source", String(20), primary_key=True),
    Column("action", String(40)),
    Column("rank", Integer),
)
KEY = ["drug_id", "target_id", "source"]


@pytest.fixture
def table(engine: Engine) -> Iterator[Table]:
    probe_md.create_all(engine)
    yield probe
    probe_md.drop_all(engine)


def row(drug: str, target: str, source: str, action: str, rank: int = 0) -> dict[str, object]:
    return {"drug_id": drug, "target_id": target, "source": source, "action": action, "rank": rank}


def test_rows_gone_changed_and_new_by_a_key_of_three_columns(engine: Engine, table: Table) -> None:
    first = [row(f"D{n}", f"T{n % 7}", src, "inhibitor", n) for n in range(6000) for src in "ab"]
    with engine.begin() as c:
        counts = sync_rows(c, table, first, KEY)
    assert (counts.inserted, counts.updated, counts.deleted) == (12000, 0, 0)
    # Gone: every "b" row of an even drug (more than one batch). Changed: D1/a. New: D9999.
    second = [r for r in first if not (r["source"] == "b" and int(str(r["drug_id"])[1:]) % 2 == 0)]
    second = [row("D1", "T1", "a", "agonist", 1) if r is first[2] else r for r in second]
    second.append(row("D9999", "T0", "a", "inhibitor"))
    with engine.begin() as c:
        counts = sync_rows(c, table, second, KEY)
        stored = {tuple(r) for r in c.execute(select(*table.c))}
    assert (counts.inserted, counts.updated, counts.deleted) == (1, 1, 3000)
    assert stored == {tuple(r.values()) for r in second}


def test_keep_missing_leaves_rows_alone(engine: Engine, table: Table) -> None:
    with engine.begin() as c:
        sync_rows(c, table, [row("D1", "T1", "a", "x"), row("D2", "T2", "a", "y")], KEY)
        counts = sync_rows(c, table, [row("D1", "T1", "a", "x")], KEY, keep_missing=True)
        n = len(c.execute(select(table.c.drug_id)).all())
    assert (counts.deleted, n) == (0, 2)
