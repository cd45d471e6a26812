"""``drugradar sync labels``: fetch a drug's labels from openFDA and build them into the profile.

The search asks for every label whose openFDA generic or brand name is one of the drug's names
(its preferred name and INN/brand aliases, at most ``MAX_NAMES``). The labels are stored as a
release of the ``openfda_labels`` source (not a snapshot: labels not in this answer stay), so
they are versioned and diffed like every other record, then the label tables are rebuilt.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import Engine, select

from drugradar.dictionary.ingest import ReleaseReport, load_release
from drugradar.resolve import Resolver
from drugradar.sources import openfda_api, openfda_labels
from drugradar.sources.base import Parsed, SourceSpec
from drugradar.sources.registry import Release
from drugradar.store.schema import drug, synonym

MAX_NAMES = 6


@dataclass(slots=True)
class LabelSync:
    search: str
    report: ReleaseReport
    labels: dict[str, int]


def label_search(engine: Engine, drug_id: str) -> str:
    """``openfda.generic_name:"X" OR openfda.brand_name:"X" …`` for the drug's main names."""
    with engine.connect() as conn:
        preferred = conn.execute(select(drug.c.preferred_name).where(drug.c.id == drug_id))
        names = [preferred.scalar_one()]
        names += conn.execute(
            select(synonym.c.name)
            .where(synonym.c.drug_id == drug_id, synonym.c.alias_type.in_(("inn", "brand")))
            .order_by(synonym.c.alias_type, synonym.c.name)
        ).scalars()
    chosen = list(dict.fromkeys(n.upper().replace('"', "") for n in names if n))[:MAX_NAMES]
    return " OR ".join(f'openfda.generic_name:"{n}" OR openfda.brand_name:"{n}"' for n in chosen)


def sync_labels(engine: Engine, drug_id: str, client: openfda_api.Client) -> LabelSync:
    """Fetch, store and build the labels of one drug."""
    search = label_search(engine, drug_id)
    query = openfda_api.Query("label", search, limit=100)
    fetched = list(openfda_api.fetch_labels(query, client))

    def parse(_: Sequence[Path]) -> Iterator[Parsed]:
        yield from fetched

    spec = SourceSpec(
        openfda_labels.LABELS_SPEC.name,
        openfda_labels.LABELS_SPEC.licence,
        openfda_labels.LABELS_SPEC.title,
        parse,
        snapshot=False,
    )
    now = datetime.now(UTC)
    label = f"openFDA label search {search} @ {now.isoformat(timespec='seconds')}"
    report = load_release(engine, Release(spec, label[:300], (), now.date()))
    from drugradar.profile import labels

    with engine.begin() as conn:
        built = labels.build(conn, Resolver(engine))
    return LabelSync(search, report, built)
