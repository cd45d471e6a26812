"""The whole real vocabulary from ../shared/data, loaded once per backend."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine, func, select

from drugradar.resolve import Resolver
from drugradar.store.schema import drug, quarantine, salt_form, synonym

from .test_resolve import CASES

pytestmark = pytest.mark.fulldata  # grouped per backend by conftest (xdist_group)


@pytest.fixture(scope="module")
def resolver(full_db: Engine) -> Resolver:
    return Resolver(full_db)


@pytest.mark.parametrize(("query", "drug_name", "alias_type", "kind"), CASES)
def test_required_cases_on_full_data(
    resolver: Resolver, query: str, drug_name: str, alias_type: str, kind: str
) -> None:
    res = resolver.resolve(query)
    assert res.best is not None, res.message
    assert res.best.preferred_name.lower() == drug_name
    assert (res.best.alias_type, res.best.match_kind) == (alias_type, kind)
    assert not res.ambiguous


def test_full_dictionary_size(full_db: Engine) -> None:
    with full_db.connect() as c:
        n_drugs = c.execute(select(func.count()).select_from(drug)).scalar()
        n_syn = c.execute(select(func.count()).select_from(synonym)).scalar()
        n_salt = c.execute(select(func.count()).select_from(salt_form)).scalar()
        n_q = c.execute(select(func.count()).select_from(quarantine)).scalar()
    assert n_drugs and n_drugs > 150_000  # every UNII substance that is not a salt form
    assert n_syn and n_syn > 1_000_000
    assert n_salt and n_salt > 10_000
    assert n_q == 0  # the real files are clean; malformed rows are tested elsewhere


def test_modalities_on_real_drugs(full_db: Engine, resolver: Resolver) -> None:
    expect = {
        "Imlygic": "oncolytic virus",
        "Keytruda": "antibody",
        "Gleevec": "small molecule",
        "Enbrel": "fusion protein",
        "Kymriah": "cell therapy",
        "Zolgensma": "gene therapy",
    }
    with full_db.connect() as c:
        for name, modality in expect.items():
            best = resolver.resolve(name).best
            assert best is not None, name
            got = c.execute(
                select(drug.c.modality, drug.c.modality_rule).where(drug.c.id == best.drug_id)
            ).one()
            assert got.modality == modality, (name, got)
            assert got.modality_rule
