"""The rows a study becomes in the trial tables: a pure function of the study, so they can be
made ahead (``trials.prefetch``, while the loader waits for its reader) or at build time alike.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

import orjson

from drugradar.model.trial import ArmGroup, Intervention, Mesh, Party, Site, Trial, TrialDate
from drugradar.resolve.normalize import norm_key
from drugradar.resolve.orgs import org_key, parent_of
from drugradar.trials.phase import trial_phase
from drugradar.trials.roles import role

SOURCE = "ctgov"
DRUG_ROLES = ("investigational", "comparator", "background")
Row = dict[str, Any]


@dataclass(slots=True)
class TrialRows:
    """One study's rows; ``main`` lacks ``source_date`` and ``licence`` (from its record)."""

    main: Row
    interventions: list[Row] = field(default_factory=list)
    conditions: list[Row] = field(default_factory=list)
    parties: list[Row] = field(default_factory=list)
    countries: list[Row] = field(default_factory=list)
    to_resolve: list[tuple[str, int, str, Intervention]] = field(default_factory=list)
    unknown_values: list[str] = field(default_factory=list)


def rows_of(t: Trial) -> TrialRows:
    out = TrialRows(
        {
            "nct_id": t.nct_id,
            "brief_title": t.brief_title,
            "official_title": t.official_title,
            "acronym": (t.acronym or "")[:200] or None,
            "study_type": t.study_type,
            "phases": ",".join(t.phases),
            "phase": trial_phase(t.phases),
            "overall_status": t.overall_status,
            "why_stopped": t.why_stopped,
            **_dates(t),
            "first_posted": t.first_posted,
            "results_first_posted": t.results_first_posted,
            "last_update_posted": t.last_update_posted,
            "enrollment": t.enrollment,
            "enrollment_type": t.enrollment_type,
            "has_results": t.has_results,
            "source_format": t.source_format,
            "source": SOURCE,
            "source_record_id": t.nct_id,
        },
        unknown_values=list(t.unknown_values),
    )
    for pos, iv in enumerate(t.interventions):
        rl, rule = role(iv, t)
        out.interventions.append(
            {
                "nct_id": t.nct_id,
                "position": pos,
                "type": iv.type,
                "name": iv.name[:1000],
                "other_names": orjson.dumps(iv.other_names).decode(),
                "arm_groups": orjson.dumps(iv.arm_groups).decode(),
                "role": rl,
                "role_rule": rule,
            }
        )
        if rl in DRUG_ROLES:
            out.to_resolve.append((t.nct_id, pos, rl, iv))
    seen: set[tuple[str, str]] = set()
    for kind, terms in (
        ("condition", [(c, None) for c in t.conditions]),
        ("mesh", [(m.term, m.id) for m in t.condition_meshes]),
        ("ancestor", [(m.term, m.id) for m in t.condition_ancestors]),
        ("keyword", [(k, None) for k in t.keywords]),
    ):
        for term, mesh_id in terms:
            term = term[:1000]
            if (kind, term) not in seen:
                seen.add((kind, term))
                out.conditions.append(
                    {
                        "nct_id": t.nct_id,
                        "kind": kind,
                        "term": term,
                        "norm_key": _term_key(term),
                        "mesh_id": mesh_id,
                        "disease_id": None,
                    }
                )
    named = [("lead", t.sponsor)] if t.sponsor else []
    named += [("collaborator", p) for p in t.collaborators]
    seen_p: set[tuple[str, str]] = set()
    for prole, p in named:
        if p is not None and (prole, p.name) not in seen_p:
            seen_p.add((prole, p.name))
            parent = parent_of(p.name)
            out.parties.append(
                {
                    "nct_id": t.nct_id,
                    "role": prole,
                    "name": p.name[:1000],
                    "norm_name": org_key(p.name)[:1000],
                    "cls": p.cls,
                    "parent_key": parent[0][:1000],
                    "parent_name": parent[1][:1000],
                }
            )
    out.countries = [{"nct_id": t.nct_id, "country": c[:100]} for c in dict.fromkeys(t.countries)]
    return out


@lru_cache(maxsize=1 << 16)
def _term_key(term: str) -> str:
    """A condition's key: studies repeat the same few thousand terms."""
    return norm_key(term)[:1000]


def _dates(t: Trial) -> dict[str, str | None]:
    out: dict[str, str | None] = {}
    for name in ("start_date", "primary_completion_date", "completion_date"):
        d: TrialDate | None = getattr(t, name)
        out[name] = d.date[:10] if d else None
        out[name + "_type"] = d.type if d else None
    return out


def trial_from_dict(d: dict[str, Any], *, sites: bool = True) -> Trial:
    """The Trial back from its stored JSON; ``sites=False`` leaves out its sites (the rows do not
    use them, and a big study lists hundreds)."""

    def date_of(x: Any) -> TrialDate | None:
        return TrialDate(**x) if x else None

    t = Trial(**{k: v for k, v in d.items() if k in _SCALARS})
    t.start_date = date_of(d.get("start_date"))
    t.primary_completion_date = date_of(d.get("primary_completion_date"))
    t.completion_date = date_of(d.get("completion_date"))
    t.condition_meshes = [Mesh(**m) for m in d.get("condition_meshes", [])]
    t.condition_ancestors = [Mesh(**m) for m in d.get("condition_ancestors", [])]
    t.interventions = [Intervention(**i) for i in d.get("interventions", [])]
    t.arm_groups = [ArmGroup(**a) for a in d.get("arm_groups", [])]
    t.sponsor = Party(**d["sponsor"]) if d.get("sponsor") else None
    t.collaborators = [Party(**p) for p in d.get("collaborators", [])]
    if sites:
        t.sites = [Site(**s) for s in d.get("sites", [])]
    return t


_SCALARS = {
    "nct_id",
    "source_format",
    "brief_title",
    "official_title",
    "acronym",
    "study_type",
    "phases",
    "overall_status",
    "why_stopped",
    "first_posted",
    "results_first_posted",
    "last_update_posted",
    "enrollment",
    "enrollment_type",
    "conditions",
    "keywords",
    "countries",
    "has_results",
    "unknown_values",
}
