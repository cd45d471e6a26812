"""A drug first seen in a trial is still a drug: research codes become dictionary entries, and
give way to the real drug when a dictionary release learns the code."""

from __future__ import annotations

import gzip
import shutil
from pathlib import Path

import pytest
from sqlalchemy import Engine, select

from drugradar.dictionary import load_vocab
from drugradar.dictionary.trial_codes import is_research_code
from drugradar.model.trial import Intervention, Trial
from drugradar.resolve import Resolver
from drugradar.store.schema import dev_status, drug, synonym, trial_drug
from drugradar.trials.load import load_ctgov
from drugradar.trials.roles import role

from .conftest import FIXTURE_VOCAB
from .test_ctgov_v2 import SAMPLE


@pytest.mark.parametrize(
    "name", ["MK-7684", "HS-20093", "BGB-A317", "AZD9291", "APL 400-003", "MK-7684A", "BMS-986340"]
)
def test_research_codes(name: str) -> None:
    assert is_research_code(name)


@pytest.mark.parametrize(
    "name", ["COVID-19", "IL-12", "CD19", "HER2", "Day 28", "pembrolizumab", "N2O", "5-FU", "MK"]
)
def test_not_research_codes(name: str) -> None:
    assert not is_research_code(name)


def _links(engine: Engine, drug_id: str) -> set[str]:
    with engine.connect() as c:
        return set(
            c.execute(select(trial_drug.c.nct_id).where(trial_drug.c.drug_id == drug_id)).scalars()
        )


def _code_drug(engine: Engine, code: str) -> tuple[str, str, str, bool]:
    with engine.connect() as c:
        row = c.execute(
            select(drug.c.id, drug.c.source, drug.c.source_record_id, drug.c.retired)
            .join(synonym, synonym.c.drug_id == drug.c.id)
            .where(synonym.c.name == code, synonym.c.source == "ctgov")
        ).one()
    return row.id, row.source, row.source_record_id, row.retired


def _synthetic_unii_release(folder: Path, extra: list[tuple[str, str, str, str]]) -> None:
    """SYNTHETIC: the fixture's newest UNII file plus ``extra`` rows, as a later release."""
    shutil.copytree(FIXTURE_VOCAB, folder)
    newest = sorted((folder / "unii").glob("*.txt.gz"))[-1]
    text = gzip.decompress(newest.read_bytes()).decode()
    rows = "".join("\t".join(r) + "\n" for r in extra)
    out = folder / "unii" / "UNII_Names_synthetic_2099-01-01.txt"
    out.write_text(text.rstrip("\n") + "\n" + rows, encoding="utf-8")


def test_trial_code_becomes_a_drug_then_gives_way(loaded: Engine, tmp_path: Path) -> None:
    load_ctgov(loaded, [SAMPLE])
    did, source, first_trial, retired = _code_drug(loaded, "MK-7684")
    assert (source, retired) == ("ctgov", False)
    trials = _links(loaded, did)
    assert len(trials) >= 2 and first_trial == min(trials)
    with loaded.connect() as c:
        assert c.execute(select(dev_status).where(dev_status.c.drug_id == did)).first()
    res = Resolver(loaded).resolve("mk 7684")
    assert res.best is not None and res.best.drug_id == did

    # a dictionary rebuild keeps it, with the same id
    load_vocab(loaded, FIXTURE_VOCAB, force=True)
    assert _code_drug(loaded, "MK-7684") == (did, "ctgov", first_trial, False)
    assert _links(loaded, did) == trials

    # a release that names the code: the trial-born entry retires, its trials go to the real drug
    vocab = tmp_path / "vocab"
    _synthetic_unii_release(
        vocab,
        [
            ("VIBOSTOLIMAB", "of", "ZZSYNTH001", "VIBOSTOLIMAB"),
            ("MK-7684", "cd", "ZZSYNTH001", "VIBOSTOLIMAB"),
        ],
    )
    summary = load_vocab(loaded, vocab)
    assert summary.relinked >= len(trials)
    with loaded.connect() as c:
        assert c.execute(select(drug.c.retired).where(drug.c.id == did)).scalar() is True
        real = c.execute(
            select(synonym.c.drug_id).where(synonym.c.name == "MK-7684", synonym.c.source == "unii")
        ).scalar_one()
    assert real != did
    assert _links(loaded, did) == set()
    assert trials <= _links(loaded, real)


def test_supportive_care_arm_versus_a_drug_given_as_supportive_care() -> None:
    t = Trial("NCT00000001", "v2")
    care = Intervention(type="OTHER", name="Best Supportive Care")
    drug_iv = Intervention(type="DRUG", name="Dexamethasone as supportive care")
    assert role(care, t)[0] == "not_drug"
    assert role(drug_iv, t)[0] == "investigational"
