"""Every statement a load runs finds its rows through an index: a statement that scans a table
which grows with the registry costs nothing on a test database and minutes on the real one (a
row-value ``IN`` list scanned the whole event table once per query, an event's drugs were looked
up by scanning ``approval``). SQLite only: its plans, asked as for a big database (no
statistics), are what the embedded default runs.

Data: the cut-down real fixture vocabulary and TIGIT sample, and the profile test's data root
(real EMA tables and labels, fixture cuts of Drugs@FDA, Orange Book and DDI).
"""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, event

from drugradar.dictionary import load_vocab
from drugradar.profile.load import load_profile
from drugradar.trials.load import load_ctgov

from .conftest import FIXTURE_VOCAB, ROOT
from .test_profile_load import data_root

TIGIT_SAMPLE = ROOT / "tests" / "fixtures" / "ctgov" / "tigit_versions_sample.jsonl.xz"

# Tables whose size follows the registry's: a scan of one of them is a bug unless listed below.
GROWING = frozenset(
    """source_record record_change event event_source event_concern trial trial_drug
    trial_intervention trial_condition trial_party trial_country dev_status approval patent
    exclusivity designation safety_communication interaction label label_drug label_section
    drug synonym drug_xref drug_target drug_indication drug_class disease_synonym
    disease_ancestor outbox""".split()  # noqa: SIM905
)
# Statements that read a growing table whole on purpose, once a load (a whole read without a
# WHERE, the dictionary's sync, is allowed as such): (table, start of the statement).
DELIBERATE = (
    # a profile source's rows are replaced whole when it is rebuilt
    *(
        (table, f"DELETE FROM {table} WHERE {table}.source IN")
        for table in ("approval", "patent", "exclusivity", "interaction", "label")
    ),
    *(
        ("label", f"DELETE FROM {child} WHERE {child}.label_id IN (SELECT label.id FROM label")
        for child in ("label_drug", "label_section")
    ),
    # the drugs with status rows of other sources than the trials (approvals), all of them
    ("dev_status", "SELECT dev_status.drug_id FROM dev_status WHERE dev_status.source !="),
    # trials to link again after a dictionary update: those of retired drugs, unlinked names
    ("trial_drug", "SELECT trial_drug.nct_id FROM trial_drug JOIN drug ON drug.id ="),
    ("trial_intervention", "SELECT trial_intervention.name, trial_intervention.other_names,"),
    (
        "trial_intervention",
        "SELECT trial_intervention.nct_id FROM trial_intervention WHERE trial_intervention.role IN",
    ),
)
_LIST = re.compile(r"\(\?(?:, \?)+\)")


@pytest.fixture
def statements(engine: Engine) -> Iterator[dict[str, tuple[str, Any]]]:
    """Each distinct statement run on ``engine`` (``IN`` lists of any length as one), with the
    parameters of one run."""
    seen: dict[str, tuple[str, Any]] = {}

    def record(_c: Any, _cur: Any, stmt: str, params: Any, _ctx: Any, many: bool) -> None:
        key = " ".join(_LIST.sub("(?..)", stmt).split())
        if key not in seen:
            seen[key] = (stmt, params[0] if many and params else params)

    event.listen(engine, "before_cursor_execute", record)
    yield seen
    event.remove(engine, "before_cursor_execute", record)


def _scans(db: Path, stmt: str, params: Any) -> list[str]:
    """The growing tables the statement scans, as SQLite plans it without statistics."""
    conn = sqlite3.connect(db)
    try:
        plan = conn.execute(f"EXPLAIN QUERY PLAN {stmt}", params or ()).fetchall()
    except sqlite3.OperationalError as exc:  # a temporary table of the load's own connection
        missing = str(exc).removeprefix("no such table: ")
        if missing == str(exc) or missing in GROWING:
            raise
        return []
    finally:
        conn.close()
    out = []
    for *_, detail in plan:
        m = re.match(r"SCAN (\w+)", detail)
        if m and m.group(1) in GROWING:
            out.append(m.group(1))
    return out


def test_loads_find_their_rows_through_indexes(
    backend: str, engine: Engine, statements: dict[str, tuple[str, Any]], tmp_path: Path
) -> None:
    if backend != "sqlite":
        pytest.skip("SQLite's plans; PostgreSQL plans by its own statistics")
    load_vocab(engine, FIXTURE_VOCAB)
    load_ctgov(engine, [TIGIT_SAMPLE], replay=True)
    load_profile(engine, data_root(tmp_path))
    db = Path(str(engine.url.database))
    engine.dispose()
    with sqlite3.connect(db) as conn:  # plan as for a big database: no table statistics
        if conn.execute("SELECT 1 FROM sqlite_master WHERE name = 'sqlite_stat1'").fetchone():
            conn.execute("DELETE FROM sqlite_stat1")
    asked = [
        (key, stmt, params)
        for key, (stmt, params) in statements.items()
        if key.upper().startswith(("SELECT", "UPDATE", "DELETE", "WITH"))
    ]
    assert len(asked) > 100  # the loads ran: trials, events, profile
    scanning = {
        key: tables
        for key, stmt, params in asked
        if " WHERE " in key
        and (tables := _scans(db, stmt, params))
        and not any(t in tables and key.startswith(s) for t, s in DELIBERATE)
    }
    assert scanning == {}, "\n".join(f"{t}: {k}" for k, t in sorted(scanning.items()))
