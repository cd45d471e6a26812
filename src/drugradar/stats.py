"""What the database holds: counts a person (or `make demo`) can read at a glance."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Engine, func, select

from drugradar.store.schema import (
    drug,
    drug_class,
    drug_indication,
    drug_target,
    quarantine,
    salt_form,
    source_release,
    synonym,
    target,
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
        releases = [
            (
                r.source,
                r.file_name,
                r.release_date.isoformat() if r.release_date else "",
                r.n_records,
            )
            for r in c.execute(
                select(source_release)
                .where(source_release.c.status == "done")
                .order_by(source_release.c.id)
            )
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
            releases=releases,
        )
