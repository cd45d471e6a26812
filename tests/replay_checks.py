"""What drugradar's stored events say changed, in the oracle's terms, for the replay tests."""

from __future__ import annotations

from datetime import date

from sqlalchemy import Engine, select

from drugradar.store.schema import event, event_source

from .ctgov_oracle import changes

# drugradar event type -> the oracle's kind
KIND = {
    "posted": "appeared",
    "first_seen": "appeared",
    "vanished": "vanished",
    "reappeared": "reappeared",
    "status_changed": "status_changed",
    "phase_changed": "phase_changed",
    "results_posted": "results_posted",
    "results_removed": "results_removed",
    "primary_completion_moved": "primary_completion_changed",
    "completion_moved": "completion_changed",
    "enrollment_changed": "enrollment_changed",
    "sponsor_changed": "sponsor_changed",
}
TIGIT = (date(2026, 1, 1), date(2026, 12, 31))
COVID = (date(2020, 1, 1), date(2020, 12, 31))


def sightings(
    engine: Engine, span: tuple[date, date], tsv: bool = False
) -> set[tuple[str, str, str]]:
    """(NCT id, day, oracle kind) of every clinical_trial event seen in the span."""
    out = set()
    e, s = event.c, event_source.c
    with engine.connect() as c:
        rows = c.execute(
            select(e.entity_id, s.as_of, e.type)
            .join(event_source, s.event_id == e.id)
            .where(e.family == "clinical_trial", s.as_of.between(*span))
        )
        for r in rows:
            kind = KIND.get(r.type)
            if kind and not (tsv and kind == "sponsor_changed"):  # the TSV mixes collaborators in
                out.add((r.entity_id, r.as_of.isoformat(), kind))
    return out


def oracle(series: str, until: date | None = None) -> set[tuple[str, str, str]]:
    return {
        (o.nct_id, o.day.isoformat(), o.kind)
        for o in changes(series)
        if until is None or o.day <= until
    }
