"""A load killed halfway (a real process, SIGKILL) and started again ends with the same
database as one clean load."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tarfile
import time
from pathlib import Path

import pytest
from sqlalchemy import Engine, func, select, text

from drugradar.dictionary import load_vocab
from drugradar.store import migrate
from drugradar.store.schema import (
    dev_status,
    event,
    event_concern,
    source_record,
    source_release,
    trial,
    trial_condition,
    trial_drug,
    trial_intervention,
)
from drugradar.trials.load import load_ctgov

from .conftest import FIXTURE_VOCAB, SHARED_VOCAB, Database

FULL_XML = SHARED_VOCAB.parent / "ctgov" / "xml-2023" / "AllPublicXML_subset_20230203.tar.xz"
CUT = 4000  # studies: enough for a load that takes seconds, so it can be killed in either phase


@pytest.fixture(scope="module")
def xml_cut(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The first ``CUT`` real studies of the 2023 AllPublicXML subset, as a .tar.gz archive."""
    out = tmp_path_factory.mktemp("xml") / "AllPublicXML_cut.tar.gz"
    n = 0
    with (
        tarfile.open(FULL_XML, mode="r|*") as src,
        tarfile.open(out, "w:gz", compresslevel=1) as dst,
    ):
        for member in src:
            if n >= CUT:
                break
            if member.isfile() and member.name.endswith(".xml"):
                fh = src.extractfile(member)
                assert fh is not None
                dst.addfile(member, fh)
                n += 1
    return out


def snapshot(engine: Engine) -> dict[str, list[tuple[object, ...]]]:
    tables = {
        "source_record": select(source_record.c.record_id, source_record.c.content_hash),
        "trial": select(trial.c.nct_id, trial.c.phase, trial.c.overall_status),
        "trial_intervention": select(
            trial_intervention.c.nct_id, trial_intervention.c.position, trial_intervention.c.role
        ),
        "trial_condition": select(trial_condition.c.nct_id, trial_condition.c.term),
        "trial_drug": select(trial_drug.c.nct_id, trial_drug.c.position, trial_drug.c.drug_id),
        "dev_status": select(
            dev_status.c.drug_id,
            dev_status.c.indication_key,
            dev_status.c.country,
            dev_status.c.org_key,
            dev_status.c.phase,
            dev_status.c.activity,
        ),
    }
    e, ec = event.c, event_concern.c
    tables["event"] = select(e.family, e.type, e.entity_id, e.field, e.baseline, e.concerns_done)
    tables["event_concern"] = select(e.entity_id, e.field, ec.kind, ec.ref).join(
        event, e.id == ec.event_id
    )
    with engine.connect() as c:
        return {name: sorted(tuple(r) for r in c.execute(q)) for name, q in tables.items()}


def _phase(engine: Engine) -> tuple[str | None, int]:
    """The ctgov release's status (None while its transaction is open) and trials built."""
    with engine.connect() as c:
        status = c.execute(
            select(source_release.c.status).where(source_release.c.source == "ctgov")
        ).scalar()
        built = int(c.execute(select(func.count()).select_from(trial)).scalar() or 0)
    return status, built


@pytest.mark.parametrize("when", ["storing", "building"])
def test_killed_load_resumes_to_the_same_database(
    db: Database,
    backend: str,
    tmp_path: Path,
    request: pytest.FixtureRequest,
    when: str,
    xml_cut: Path,
) -> None:
    migrate(db.engine)
    load_vocab(db.engine, FIXTURE_VOCAB)
    env = {**os.environ, "DRUGRADAR_DB": db.url}
    cmd = [sys.executable, "-m", "drugradar.cli", "load", "ctgov", str(xml_cut)]
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline and proc.poll() is None:
        status, built = _phase(db.engine)
        if when == "storing" and status is None and time.monotonic() > deadline - 298:
            break  # 2 s in, the release's records are being written in one open transaction
        if when == "building" and status == "stored" and built > 0:
            break  # records committed, trial tables half built
        time.sleep(0.05)
    if proc.poll() is not None:
        pytest.fail(f"the load finished before it could be killed while {when}")
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)
    assert proc.returncode == -signal.SIGKILL
    assert _phase(db.engine)[0] == (None if when == "storing" else "stored")
    if db.backend == "postgresql":  # the killed session's locks go with its connection
        with db.engine.connect() as c:
            c.execute(text("SELECT 1"))
    again = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=600)
    assert again.returncode == 0, again.stderr
    (tmp_path / "clean").mkdir()
    clean = Database(backend, tmp_path / "clean", request.config.getoption("pg_url"))
    try:
        migrate(clean.engine)
        load_vocab(clean.engine, FIXTURE_VOCAB)
        load_ctgov(clean.engine, [xml_cut])
        assert snapshot(db.engine) == snapshot(clean.engine)
    finally:
        clean.drop()
