"""The real ClinicalTrials.gov sets from ../shared/data, loaded once per backend on top of the
whole dictionary: every study read or quarantined, every drug intervention linked or listed."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import Engine, and_, func, select

from drugradar.devstatus.build import highest_phase, status_of
from drugradar.resolve import Resolver
from drugradar.store.schema import source_record, trial, trial_drug, trial_intervention
from drugradar.trials.load import TrialLoadReport, load_ctgov
from drugradar.trials.rows import DRUG_ROLES

from .conftest import SHARED_VOCAB

pytestmark = pytest.mark.fulldata  # grouped per backend by conftest (xdist_group)
CTGOV = SHARED_VOCAB.parent / "ctgov"
SETS = {
    "xml": [CTGOV / "xml-2023" / "AllPublicXML_subset_20230203.tar.xz"],
    "v2": [CTGOV / "v2-daily-tigit-2026" / "tigit_versions.jsonl.xz"],
    "tvec-2018": [CTGOV / "tvec" / "2018-05-29"],
    "tvec-2020": [CTGOV / "tvec" / "2020-07-28"],
}


@pytest.fixture(scope="module")
def loaded_trials(full_db: Engine) -> Iterator[tuple[Engine, dict[str, TrialLoadReport]]]:
    """Every set but the 190-day COVID series, which ``test_events_replay`` loads whole (its
    cost is per day, not per dictionary size) and checks the same way."""
    reports = {name: load_ctgov(full_db, paths) for name, paths in SETS.items()}
    yield full_db, reports


def test_every_study_read_or_quarantined(
    loaded_trials: tuple[Engine, dict[str, TrialLoadReport]],
) -> None:
    engine, reports = loaded_trials
    assert reports["xml"].release.n_records == 6786 and reports["xml"].release.n_quarantined == 0
    v2 = reports["v2"].release  # the latest version of each watched study
    assert v2.n_records == 1181 and v2.n_added + v2.n_changed + v2.n_older <= 1181
    assert v2.n_added > 1100  # a few were already known from the other sets
    assert reports["tvec-2020"].release.n_changed > 0  # real changes between the two dumps
    with engine.connect() as c:
        n_trials = c.execute(select(func.count()).select_from(trial)).scalar()
        n_records = c.execute(
            select(func.count())
            .select_from(source_record)
            .where(source_record.c.source == "ctgov", source_record.c.removed.is_(False))
        ).scalar()
    assert n_trials == n_records and n_trials is not None and n_trials > 6786


def test_every_drug_intervention_linked_or_listed(
    loaded_trials: tuple[Engine, dict[str, TrialLoadReport]],
) -> None:
    engine, _ = loaded_trials
    ti, td = trial_intervention.c, trial_drug.c
    with engine.connect() as c:
        drug_ivs = c.execute(
            select(func.count()).select_from(trial_intervention).where(ti.role.in_(DRUG_ROLES))
        ).scalar()
        pairs = (
            select(ti.nct_id, ti.position)
            .select_from(
                trial_intervention.join(
                    trial_drug, and_(td.nct_id == ti.nct_id, td.position == ti.position)
                )
            )
            .where(ti.role.in_(DRUG_ROLES))
            .distinct()
            .subquery()
        )
        linked = c.execute(select(func.count()).select_from(pairs)).scalar()
    assert drug_ivs and linked and linked / drug_ivs > 0.6


def test_status_matrix_for_tvec(loaded_trials: tuple[Engine, dict[str, TrialLoadReport]]) -> None:
    engine, _ = loaded_trials
    best = Resolver(engine).resolve("Imlygic").best
    assert best is not None
    rows = status_of(engine, best.drug_id)
    melanoma = [r for r in rows if "Melanoma" in str(r["indication"])]
    assert melanoma and max(str(r["phase"]) for r in melanoma) == "PHASE_3"
    assert any("NCT00769704" in r["sources"] for r in melanoma)  # type: ignore[operator]
    trial_rows = [r for r in status_of(engine, best.drug_id) if r["sources"][0].startswith("NCT")]  # type: ignore[index]
    assert max(str(r["phase"]) for r in trial_rows) == "PHASE_3"  # trials alone
    # with the EMA authorisation loaded (test_fulldata_profile shares this database) it is APPROVED
    assert highest_phase(engine, best.drug_id)["highest_phase_ever"] in ("PHASE_3", "APPROVED")


def test_regimens_link_their_components(
    loaded_trials: tuple[Engine, dict[str, TrialLoadReport]],
) -> None:
    engine, _ = loaded_trials
    ti, td = trial_intervention.c, trial_drug.c
    with engine.connect() as c:
        chop = c.execute(
            select(ti.nct_id, ti.position).where(func.lower(ti.name) == "chop regimen")
        ).all()
        assert chop  # the 2023 XML set names it in a dozen trials
        for nct, pos in chop:
            linked = c.execute(
                select(td.matched_alias).where(
                    td.nct_id == nct, td.position == pos, td.match_kind == "regimen"
                )
            ).scalars()
            names = {n.lower() for n in linked}
            assert len(names) == 4, (nct, names)  # cyclophosphamide, doxorubicin, vincristine,
            # prednisone — each by one of its names
