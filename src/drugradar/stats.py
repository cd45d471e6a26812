"""What the database holds: counts a person (or `make demo`) can read at a glance."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Engine, func, select

from drugradar.store.schema import (
    dev_status,
    disease,
    drug,
    drug_class,
    drug_indication,
    drug_target,
    quarantine,
    salt_form,
    source_release,
    synonym,
    target,
    trial,
    trial_drug,
)


@dataclass(frozen=True, slots=True)
class Stats:
    drugs: int
    synonyms: int
    synonyms_by_type: dict[str, int]
    modalities: dict[str, int]
    salt_forms: int
    targets: int
    drug_targets: int
    indications: int
    classes: int
    quarantined: int
    diseases: int
    trials: int
    trial_drug_links: int
    status_rows: int
    releases: list[tuple[str, str, str, int]]  # source, file, date, records


def collect(engine: Engine) -> Stats:
    with engine.connect() as c:

        def count(t: object) -> int:
            return int(c.execute(select(func.count()).select_from(t)).scalar() or 0)  # type: ignore[arg-type]

        by_type = dict(
            c.execute(select(synonym.c.alias_type, func.count()).group_by(synonym.c.alias_type))
            .tuples()
            .all()
        )
        mods = dict(
            c.execute(
                select(drug.c.modality, func.count())
                .where(drug.c.retired.is_(False))
                .group_by(drug.c.modality)
            )
            .tuples()
            .all()
        )
        sr = source_release.c
        grouped = (
            select(
                sr.source,
                func.min(sr.file_name).label("name"),
                func.count().label("n"),
                func.max(sr.release_date).label("last"),
                func.sum(sr.n_records).label("records"),
            )
            .where(sr.status == "done")
            .group_by(sr.source)
            .order_by(func.min(sr.id))
        )
        releases = [
            (
                r.source,
                f"{r.n} releases" if r.n > 1 else r.name,
                r.last.isoformat() if r.last else "",
                int(r.records or 0),
            )
            for r in c.execute(grouped)
        ]
        n_drugs = int(
            c.execute(select(func.count()).where(drug.c.retired.is_(False))).scalar() or 0
        )
        return Stats(
            drugs=n_drugs,
            synonyms=count(synonym),
            synonyms_by_type=by_type,
            modalities=mods,
            salt_forms=count(salt_form),
            targets=count(target),
            drug_targets=count(drug_target),
            indications=count(drug_indication),
            classes=count(drug_class),
            quarantined=count(quarantine),
            diseases=count(disease),
            trials=count(trial),
            trial_drug_links=count(trial_drug),
            status_rows=count(dev_status),
            releases=releases,
        )
