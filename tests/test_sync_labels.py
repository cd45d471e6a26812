"""``sync labels``: a drug's labels fetched from a local openFDA server (real openFDA label rows,
reshaped into the API's JSON), stored as versioned records and built into the label tables."""

from __future__ import annotations

import random

from sqlalchemy import Engine, select

from drugradar.profile.labels import sections_of
from drugradar.profile.sync import label_search, sync_labels
from drugradar.resolve import Resolver
from drugradar.sources import openfda_api as api
from drugradar.store.schema import label, label_drug

from .test_openfda_api import OpenFdaServer, server  # noqa: F401  (the server fixture)


def test_sync_labels_of_a_drug(loaded: Engine, server: OpenFdaServer) -> None:  # noqa: F811
    best = Resolver(loaded).resolve("acetaminophen").best
    assert best is not None
    search = label_search(loaded, best.drug_id)
    assert 'openfda.generic_name:"ACETAMINOPHEN"' in search
    client = api.Client(server.base_url, min_interval=0.0, timeout=5.0, rng=random.Random(1))
    done = sync_labels(loaded, best.drug_id, client)
    assert done.report.status == "done" and done.report.n_records > 0
    with loaded.connect() as c:
        ids = set(
            c.execute(
                select(label.c.id)
                .join(label_drug, label_drug.c.label_id == label.c.id)
                .where(label_drug.c.drug_id == best.drug_id, label.c.source == "openfda_labels")
            ).scalars()
        )
        sections = sections_of(c, best.drug_id)
    assert len(ids) == done.report.n_records
    assert any(s["key"] == "indications_and_usage" for s in sections)
    again = sync_labels(loaded, best.drug_id, client)
    assert again.report.n_added == 0 and again.report.n_changed == 0
