"""The profile on the whole real data: regulators, labels and DDInter over the full dictionary.
Profiles of imatinib, atorvastatin (Lipitor), adalimumab (Humira), pembrolizumab and talimogene
laherparepvec show what the shared data holds about them, each fact sourced."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import Engine, or_, select

from drugradar.devstatus import build as devstatus
from drugradar.dictionary.ingest import load_release
from drugradar.profile import ema, fda, interactions, labels
from drugradar.profile.load import approval_drugs
from drugradar.profile.view import profile_of
from drugradar.resolve import Resolver
from drugradar.sources.registry import profile_releases
from drugradar.store.schema import interaction

from .conftest import SHARED_VOCAB

pytestmark = pytest.mark.fulldata  # grouped per backend by conftest (xdist_group)
DATA = SHARED_VOCAB.parent


@pytest.fixture(scope="module")
def profiled(full_db: Engine, backend: str) -> Iterator[Engine]:
    """The newest release of every regulator and label source, and DDInter — the current state
    the profile shows (older releases only add history) — then every builder.

    SQLite only: the same builders run on PostgreSQL in every ``test_profile_*`` module (real
    records, fixture dictionary); this whole-data pass would add minutes to the suite."""
    if backend != "sqlite":
        pytest.skip("the whole-data profile runs on SQLite; builders are tested on both")
    newest = {r.spec.name: r for r in profile_releases(DATA, ("fda", "ema", "labels"))}
    newest["ddinter"] = next(
        r for r in profile_releases(DATA, ("ddi",)) if r.spec.name == "ddinter"
    )
    for release in newest.values():
        load_release(full_db, release)
    resolver = Resolver(full_db)
    for builder in (fda, ema, labels, interactions):
        with full_db.begin() as conn:
            builder.build(conn, resolver)
    devstatus.rebuild(full_db, approval_drugs(full_db))
    yield full_db


def profile(engine: Engine, name: str) -> dict[str, Any]:
    best = Resolver(engine).resolve(name).best
    assert best is not None, name
    found = profile_of(engine, best.drug_id)
    assert found is not None
    return found


def sourced(p: dict[str, Any]) -> None:
    for section in ("approvals", "designations", "patents", "exclusivities", "safety"):
        for fact in p[section]:
            assert fact["sources"] and fact["sources"][0]["licence"], (section, fact)
    for row in p["status"]:
        assert row["sources"], row
    for s in p["label"]:
        assert s["label_id"] and s["source"], s


def test_talimogene_all_ddinter_pairs_found_by_name(profiled: Engine) -> None:
    with profiled.connect() as conn:
        names = interactions.pairs_by_name(conn, "talimogene laherparepvec", ["ddinter"])
        tvec = profile(profiled, "talimogene laherparepvec")
        c = interaction.c
        rows = conn.execute(
            select(c.name_a, c.name_b).where(
                c.source == "ddinter", or_(c.drug_a == tvec["id"], c.drug_b == tvec["id"])
            )
        ).all()
    # DDInter's files hold 261 rows naming T-VEC: 213 distinct pairs (a pair recurs across
    # ATC files); every one of the 213 pairs is linked, both names resolved to drugs
    assert len(names) == 213
    assert len(rows) == 213
    eu = [a for a in tvec["approvals"] if a["agency"] == "EMA"]
    assert eu and eu[0]["flags"]["atmp"] is True
    assert any(
        s["country"] == "European Union" and s["phase"] == "APPROVED" for s in tvec["status"]
    )
    assert tvec["modality"] == "oncolytic virus"
    sourced(tvec)


@pytest.mark.parametrize(
    ("name", "agencies"),
    [
        ("imatinib", {"FDA", "EMA"}),
        ("Lipitor", {"FDA"}),  # authorised nationally in Europe, not by the EMA
        ("Humira", {"FDA", "EMA"}),
        ("pembrolizumab", {"FDA", "EMA"}),
    ],
)
def test_reference_drugs_have_sourced_profiles(
    profiled: Engine, name: str, agencies: set[str]
) -> None:
    p = profile(profiled, name)
    sourced(p)
    assert {a["agency"] for a in p["approvals"]} == agencies
    assert p["highest_phase"] == "APPROVED"
    assert any("marketing_authorisation_holder" in o["roles"] for o in p["organizations"])
    assert p["interactions"]["partners"] > 0


def test_lipitor_and_humira_labels(profiled: Engine) -> None:
    lipitor = profile(profiled, "Lipitor")
    keys = {s["key"] for s in lipitor["label"]}
    assert {"indications_and_usage", "contraindications", "adverse_reactions"} <= keys
    original = [
        a
        for a in lipitor["approvals"]
        if a["application"] == "NDA020702" and a["kind"] == "original"
    ]
    assert original and str(original[0]["date"]) == "1996-12-17"
    humira = profile(profiled, "Humira")
    boxed = next(s for s in humira["label"] if s["key"] == "boxed_warning")
    assert "malignancy" in boxed["text"].lower()
    assert "SUBCUTANEOUS" in humira["routes"]


def test_imatinib_regulatory_history(profiled: Engine) -> None:
    p = profile(profiled, "imatinib")
    assert any(d["kind"] == "orphan" for d in p["designations"])
    assert any(a["application"] == "NDA021588" for a in p["approvals"])
    us = [s for s in p["status"] if s["country"] == "United States" and s["phase"] == "APPROVED"]
    assert us and all(s["sources"] for s in us)
