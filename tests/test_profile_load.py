"""``load profile`` end to end: releases stored, builders run once, the status matrix gains
APPROVED rows, the profile shows every fact with its sources, and a failed build resumes.

Data: the real EMA tables and label files from ``../shared/data``, and the cut-down real
Drugs@FDA / Orange Book and DDI fixtures (``tests/fixtures/fda``, ``tests/fixtures/ddi``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, select

from drugradar.dictionary import load_vocab
from drugradar.profile import load as profile_load
from drugradar.profile.load import load_profile
from drugradar.profile.view import profile_of
from drugradar.resolve import Resolver
from drugradar.store import migrate
from drugradar.store.schema import approval, dev_status, label, meta

from .conftest import FIXTURE_VOCAB, ROOT, SHARED_VOCAB, Database

SHARED = SHARED_VOCAB.parent


def data_root(tmp: Path) -> Path:
    """A data root of links: real EMA and labels, fixture cuts of FDA and DDI."""
    root = tmp / "data"
    (root / "fda").mkdir(parents=True)
    (root / "fda" / "drugsatfda").symlink_to(ROOT / "tests" / "fixtures" / "fda" / "drugsatfda")
    (root / "fda" / "orange-book").symlink_to(ROOT / "tests" / "fixtures" / "fda" / "orange-book")
    (root / "fda" / "labels").symlink_to(SHARED / "fda" / "labels")
    (root / "ema").symlink_to(SHARED / "ema")
    cuts = ROOT / "tests" / "fixtures" / "ddi"
    for cut in cuts.rglob("cut_*"):  # the real file names, so discovery finds them
        link = root / "ddi" / cut.parent.name / cut.name.removeprefix("cut_")
        link.parent.mkdir(parents=True, exist_ok=True)
        link.symlink_to(cut)
    return root


def drug_of(engine: Engine, name: str) -> str:
    best = Resolver(engine).resolve(name).best
    assert best is not None, name
    return best.drug_id


def snapshot(engine: Engine) -> dict[str, list[tuple[Any, ...]]]:
    out = {}
    with engine.connect() as c:
        for t, cols in (
            (approval, [approval.c.drug_id, approval.c.application, approval.c.status]),
            (label, [label.c.id, label.c.version]),
            (dev_status, [dev_status.c.drug_id, dev_status.c.indication_key, dev_status.c.phase]),
        ):
            rows = [tuple(r) for r in c.execute(select(*cols))]
            out[t.name] = sorted(rows, key=lambda r: tuple("" if v is None else str(v) for v in r))
    return out


def test_profile_load_build_and_view(loaded: Engine, tmp_path: Path) -> None:
    root = data_root(tmp_path)
    summary = load_profile(loaded, root)
    assert set(summary.built) == {"fda", "ema", "labels", "ddi"}
    assert summary.status_rows > 0
    again = load_profile(loaded, root)
    assert again.built == {} and all(r.status == "skipped" for r in again.releases)

    imatinib = profile_of(loaded, drug_of(loaded, "imatinib"))
    assert imatinib is not None
    agencies = {(a["agency"], a["kind"]) for a in imatinib["approvals"]}
    assert ("FDA", "original") in agencies and ("EMA", "authorisation") in agencies
    gleevec = [
        a
        for a in imatinib["approvals"]
        if a["application"] == "NDA021588" and a["kind"] == "original"
    ]
    assert gleevec and all(a["sources"][0]["source"] == "fda_submissions" for a in gleevec)
    approved = {
        (s["country"], s["activity"]) for s in imatinib["status"] if s["phase"] == "APPROVED"
    }
    assert ("United States", "active") in approved and ("European Union", "active") in approved
    assert imatinib["highest_phase"] == "APPROVED"
    assert any("marketing_authorisation_holder" in o["roles"] for o in imatinib["organizations"])
    for section in ("approvals", "designations", "patents", "exclusivities", "safety", "status"):
        for fact in imatinib[section]:
            assert fact["sources"], (section, fact)

    tvec = profile_of(loaded, drug_of(loaded, "Imlygic"))
    assert tvec is not None
    eu = [a for a in tvec["approvals"] if a["agency"] == "EMA"]
    assert eu and eu[0]["flags"]["atmp"] is True and eu[0]["status"] == "authorised"
    assert tvec["label"] == [] and "sync labels" in tvec["label_note"]

    humira = profile_of(loaded, drug_of(loaded, "Humira"))
    assert humira is not None
    boxed = [s for s in humira["label"] if s["key"] == "boxed_warning"]
    assert boxed and "serious infections" in boxed[0]["text"].lower()
    assert "SUBCUTANEOUS" in humira["routes"]


def test_a_failed_build_runs_again_on_the_next_load(
    loaded: Engine,
    backend: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    request: pytest.FixtureRequest,
) -> None:
    root = data_root(tmp_path)
    real = profile_load.importlib.import_module

    class Boom(RuntimeError):
        pass

    def failing(name: str) -> Any:
        module = real(name)
        if name.endswith(".labels"):

            class Wrapped:
                @staticmethod
                def build(conn: Any, resolver: Any) -> dict[str, int]:
                    module.build(conn, resolver)  # writes rows, then dies mid-transaction
                    raise Boom("killed")

            return Wrapped
        return module

    monkeypatch.setattr(profile_load.importlib, "import_module", failing)
    with pytest.raises(Boom):
        load_profile(loaded, root, groups=("fda", "labels"))
    with loaded.connect() as c:
        stamps = {r.key for r in c.execute(select(meta.c.key))}
        label_rows = c.execute(select(label.c.id)).first()
    assert "profile_built:fda" in stamps and "profile_built:labels" not in stamps
    assert label_rows is None  # the failed build left nothing
    monkeypatch.setattr(profile_load.importlib, "import_module", real)
    resumed = load_profile(loaded, root, groups=("fda", "labels"))
    assert set(resumed.built) == {"labels"}  # fda was built and stamped before the failure

    (tmp_path / "clean").mkdir()
    clean_db = Database(backend, tmp_path / "clean", request.config.getoption("pg_url"))
    try:
        migrate(clean_db.engine)
        load_vocab(clean_db.engine, FIXTURE_VOCAB)
        load_profile(clean_db.engine, root, groups=("fda", "labels"))
        assert snapshot(loaded) == snapshot(clean_db.engine)
    finally:
        clean_db.drop()
