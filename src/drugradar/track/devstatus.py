"""dev_status events: the status rows of a drug before and after a rebuild, compared.

Rules (one event per rule that fires):
- a row (drug × indication × country × organization) whose phase rose -> an event typed by the
  new phase (``PHASE_3``…); a new row -> an event typed by its phase. A phase that falls is a
  correction of a trial record, reported by the trial's own event, not here.
- activity changed -> SUSPENDED / DISCONTINUED / WITHDRAWN / NO_DEVELOPMENT_REPORTED, or RESUMED
  when an inactive or suspended row became active.
- the drug's highest phase over active rows changed -> ``highest_phase_changed``.
Only news makes these events: a row must rest on a source record that raised a non-baseline
event in this load (``news``), so a trial merely seen for the first time, or a dictionary
rebuild that links old trials, records state without alerts. "No development reported" comes
from silence, not from a record, so it needs no news.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

import orjson

from drugradar.model.devstatus import INACTIVE, RANK, Activity, Phase
from drugradar.model.event import Change
from drugradar.track.catalogue import default_materiality
from drugradar.track.store import Sighting

FAMILY = "dev_status"
ACTIVITY_EVENT = {
    Activity.SUSPENDED: "SUSPENDED",
    Activity.DISCONTINUED: "DISCONTINUED",
    Activity.WITHDRAWN: "WITHDRAWN",
    Activity.NO_DEVELOPMENT_REPORTED: "NO_DEVELOPMENT_REPORTED",
}
PHASE_LABEL = {
    Phase.EARLY_PHASE_1: "Early Phase 1",
    Phase.PHASE_1: "Phase 1",
    Phase.PHASE_1_2: "Phase 1/2",
    Phase.PHASE_2: "Phase 2",
    Phase.PHASE_2_3: "Phase 2/3",
    Phase.PHASE_3: "Phase 3",
    Phase.NDA_BLA: "filing (NDA/BLA)",
    Phase.APPROVED: "approval",
}


@dataclass(frozen=True, slots=True)
class News:
    """Source records with non-baseline events in this load: token -> (source, release, as_of).

    Tokens are those of ``dev_status.sources``: NCT ids for trials, ``source:record`` else.
    """

    records: Mapping[str, tuple[str, int, date]]
    release_id: int  # the load's release, for events that rest on no record (silence)
    as_of: date

    def find(self, sources: Iterable[str]) -> tuple[str, tuple[str, int, date]] | None:
        for s in sorted(sources):
            if s in self.records:
                return s, self.records[s]
        return None


def _sighting(token: str, hit: tuple[str, int, date]) -> Sighting:
    source, release_id, as_of = hit
    record = token if source == "ctgov" else token.split(":", 1)[-1]
    return Sighting(source, record, release_id, as_of)


def _label(p: Phase) -> str:
    return PHASE_LABEL.get(p, p.value.replace("_", " ").title())


def _where(row: Mapping[str, Any]) -> str:
    country = row["country"] or "country not stated"
    return f"{row['indication_name']} ({country}; {row['org_name']})"


def _top(rows: Iterable[Mapping[str, Any]]) -> Phase | None:
    live = [Phase(r["phase"]) for r in rows if Activity(r["activity"]) not in INACTIVE]
    return max(live, key=lambda p: RANK[p]) if live else None


def diff(
    drug_id: str,
    drug_name: str,
    old_rows: Sequence[Mapping[str, Any]],
    new_rows: Sequence[Mapping[str, Any]],
    news: News,
    as_of: date,
) -> list[tuple[Change, Sighting]]:
    """The events of one drug's rebuild (see the module docstring)."""

    def key(r: Mapping[str, Any]) -> tuple[str, str, str]:
        return (r["indication_key"], r["country"], r["org_key"])

    before = {key(r): r for r in old_rows}
    out: list[tuple[Change, Sighting]] = []
    news_hit: tuple[str, tuple[str, int, date]] | None = None
    for r in new_rows:
        k = key(r)
        old = before.get(k)
        sources = set(orjson.loads(r["sources"])) | (
            set(orjson.loads(old["sources"])) if old else set()
        )
        hit = news.find(sources)
        entity = "|".join((drug_id, *k))
        concerns = [("drug", drug_id), ("organization", r["org_key"])]
        concerns += [("organization", r["org_parent_key"])] if r["org_parent_key"] else []
        concerns += [("disease", r["disease_id"])] if r["disease_id"] else []
        phase = Phase(r["phase"])
        rose = old is None or RANK[phase] > RANK[Phase(old["phase"])]
        if hit and rose and phase is not Phase.UNKNOWN:
            news_hit = news_hit or hit
            text = f"{drug_name} reached {_label(phase)} for {_where(r)}"
            change = Change(
                FAMILY,
                phase.value,
                "dev_status",
                entity,
                text,
                field="phase",
                old=old["phase"] if old else None,
                new=phase.value,
                materiality=default_materiality(FAMILY, phase.value),
                event_date=r["phase_since"],
                concerns=concerns,
            )
            out.append((change, _sighting(*hit)))
        if old is None or old["activity"] == r["activity"]:
            continue
        act, was = Activity(r["activity"]), Activity(old["activity"])
        type_ = ACTIVITY_EVENT.get(act)
        if type_ is None and (was in INACTIVE or was is Activity.SUSPENDED):
            type_ = "RESUMED"
        if type_ is None or (hit is None and act is not Activity.NO_DEVELOPMENT_REPORTED):
            continue
        sighting = (
            _sighting(*hit) if hit else Sighting("dev_status", entity, news.release_id, as_of)
        )
        change = Change(
            FAMILY,
            type_,
            "dev_status",
            entity,
            f"{drug_name}: {_where(r)} {was.value} -> {act.value} ({r['activity_rule']})",
            field="activity",
            old=was.value,
            new=act.value,
            materiality=default_materiality(FAMILY, type_),
            event_date=r["activity_since"],
            concerns=concerns,
        )
        out.append((change, sighting))
        news_hit = news_hit or hit
    a, b = _top(old_rows), _top(new_rows)
    if a != b and news_hit is not None and old_rows:
        change = Change(
            FAMILY,
            "highest_phase_changed",
            "drug",
            drug_id,
            f"{drug_name}: highest phase {_label(a) if a else 'none'} -> "
            f"{_label(b) if b else 'none (no active program)'}",
            field="highest_phase",
            old=a.value if a else None,
            new=b.value if b else None,
            materiality=default_materiality(FAMILY, "highest_phase_changed"),
            concerns=[("drug", drug_id)],
        )
        out.append((change, _sighting(*news_hit)))
    return out
