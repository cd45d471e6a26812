"""Every event type drugradar stores: its family, what it means, and its default materiality.

Materiality (high / medium / low) says how much a change matters to someone following the drug:
- **high**: changes the drug's standing: a phase reached at Phase 3 or later, a program
  suspended / discontinued / withdrawn, a trial terminated / withdrawn / suspended, results
  posted, an approval, a withdrawal or refusal, a boxed warning, a safety communication.
- **medium**: real progress or trouble short of that: earlier phases reached, any other trial
  status or phase change, a primary completion date moved by more than 90 days, enrollment
  changed by more than 20 %, sponsor changed, a supplement or new indication, marketing status,
  patents listed or delisted, exclusivities granted, orphan designations, label sections changed,
  a drug gaining or losing a target.
- **low**: housekeeping that a diligent analyst still wants on record: small date moves,
  countries / sites / conditions / interventions edited, collaborators, titles, patent expiry
  moved, exclusivities expiring, new names in the dictionary, a target's action type
  restated, WHO ATC codes added, removed or renamed.
A rule may raise or lower an event from its default when the values say so (the documented cases
above); ``Change.materiality`` is what is stored.
"""

from __future__ import annotations

from dataclasses import dataclass

from drugradar.model.event import Materiality

H, M, L = Materiality.HIGH, Materiality.MEDIUM, Materiality.LOW


@dataclass(frozen=True, slots=True)
class EventType:
    family: str
    type: str
    materiality: Materiality
    doc: str


PHASE_TYPES = (
    "DISCOVERY",
    "PRECLINICAL",
    "IND",
    "EARLY_PHASE_1",
    "PHASE_1",
    "PHASE_1_2",
    "PHASE_2",
    "PHASE_2_3",
    "PHASE_3",
    "NDA_BLA",
    "APPROVED",
)
ACTIVITY_TYPES = ("SUSPENDED", "RESUMED", "DISCONTINUED", "WITHDRAWN", "NO_DEVELOPMENT_REPORTED")

_TYPES: list[EventType] = [
    *(
        EventType(
            "dev_status",
            p,
            H if p in ("PHASE_2_3", "PHASE_3", "NDA_BLA", "APPROVED") else M,
            f"A drug reached {p} for an indication, country and organization.",
        )
        for p in PHASE_TYPES
    ),
    EventType("dev_status", "SUSPENDED", H, "A program's activity became suspended."),
    EventType("dev_status", "RESUMED", M, "A suspended or inactive program became active again."),
    EventType("dev_status", "DISCONTINUED", H, "A program was discontinued."),
    EventType("dev_status", "WITHDRAWN", H, "A drug was withdrawn (from the market or a filing)."),
    EventType(
        "dev_status",
        "NO_DEVELOPMENT_REPORTED",
        M,
        "Nothing new on a program for the silence period (inferred, not announced).",
    ),
    EventType("dev_status", "highest_phase_changed", H, "The drug's highest phase changed."),
    # clinical_trial
    EventType("clinical_trial", "posted", M, "A trial first posted within the news window."),
    EventType(
        "clinical_trial",
        "first_seen",
        L,
        "A trial seen for the first time, posted before the window (baseline record, no alert).",
    ),
    EventType("clinical_trial", "status_changed", M, "Overall status changed (why stopped given)."),
    EventType("clinical_trial", "why_stopped_changed", L, "The reason a trial stopped changed."),
    EventType("clinical_trial", "phase_changed", M, "The trial's phase changed."),
    EventType("clinical_trial", "results_posted", H, "Results were posted."),
    EventType("clinical_trial", "results_removed", M, "Results no longer shown."),
    EventType("clinical_trial", "primary_completion_moved", L, "Primary completion date moved."),
    EventType("clinical_trial", "completion_moved", L, "Study completion date moved."),
    EventType("clinical_trial", "start_moved", L, "Start date moved."),
    EventType("clinical_trial", "enrollment_changed", L, "Enrollment count or type changed."),
    EventType("clinical_trial", "countries_changed", L, "Countries added or removed."),
    EventType("clinical_trial", "sites_changed", L, "Sites added or removed."),
    EventType("clinical_trial", "conditions_changed", L, "Conditions added or removed."),
    EventType("clinical_trial", "interventions_changed", M, "Interventions added or removed."),
    EventType("clinical_trial", "sponsor_changed", M, "The lead sponsor changed."),
    EventType("clinical_trial", "collaborators_changed", L, "Collaborators added or removed."),
    EventType("clinical_trial", "title_changed", L, "The brief title changed."),
    EventType("clinical_trial", "vanished", M, "The trial left the source's snapshot."),
    EventType("clinical_trial", "reappeared", L, "A trial that had left the snapshot is back."),
    # approval
    EventType("approval", "new_approval", H, "An original approval or authorisation."),
    EventType("approval", "new_indication", M, "A supplement adding an indication (efficacy)."),
    EventType("approval", "supplement", L, "Another supplement approved (labeling, CMC…)."),
    EventType("approval", "marketing_status_changed", M, "Marketing status changed."),
    EventType("approval", "status_changed", M, "A regulator's status for a product changed."),
    EventType("approval", "withdrawn", H, "An approval or authorisation withdrawn."),
    EventType("approval", "suspended", H, "An authorisation suspended."),
    EventType("approval", "refused", H, "An application refused."),
    # special_approval
    EventType("special_approval", "orphan_designation", M, "An orphan designation granted."),
    EventType(
        "special_approval",
        "designation_changed",
        L,
        "An orphan designation's status changed (withdrawn, expired…).",
    ),
    EventType("special_approval", "exclusivity_granted", M, "An exclusivity listed (ODE, NCE…)."),
    EventType("special_approval", "exclusivity_expired", L, "An exclusivity left the list."),
    EventType("special_approval", "exclusivity_changed", L, "An exclusivity's expiry changed."),
    EventType(
        "special_approval",
        "ema_flag_changed",
        M,
        "An EMA flag changed (conditional, exceptional, ATMP, additional monitoring, PRIME…).",
    ),
    # patent
    EventType("patent", "listed", M, "A patent listed in the Orange Book."),
    EventType("patent", "delisted", M, "A patent left the Orange Book."),
    EventType("patent", "expiry_changed", L, "A listed patent's expiry date changed."),
    # label
    EventType("label", "new_label", L, "A label seen for the first time."),
    EventType("label", "section_changed", M, "A label section's text changed (a text diff)."),
    EventType("label", "boxed_warning_added", H, "A boxed warning appeared on a label."),
    # safety
    EventType("safety", "safety_communication", H, "A safety communication (DHPC)."),
    EventType("safety", "referral", H, "An EMA referral procedure started or changed."),
    EventType("safety", "psusa_outcome", M, "A PSUSA single assessment outcome."),
    EventType("safety", "shortage", M, "A medicine shortage reported or changed."),
    # dictionary
    EventType("dictionary", "new_code", L, "A new research code for a drug."),
    EventType("dictionary", "new_brand", L, "A new brand name for a drug."),
    EventType("dictionary", "new_name", L, "Another new name for a drug."),
    EventType(
        "dictionary",
        "target_added",
        M,
        "A drug gained a target (DrugCentral revision: a drug and UniProt accession appear).",
    ),
    EventType("dictionary", "target_removed", M, "A drug lost a target (DrugCentral revision)."),
    EventType(
        "dictionary",
        "target_action_changed",
        L,
        "A drug's action type on a target changed (INHIBITOR -> ANTAGONIST, or first stated).",
    ),
    EventType("dictionary", "atc_added", L, "A WHO ATC level-5 (substance) code added."),
    EventType(
        "dictionary",
        "atc_removed",
        L,
        "A WHO ATC level-5 code removed (a code moved to another group: removed, then added).",
    ),
    EventType("dictionary", "atc_renamed", L, "A WHO ATC level-5 code's substance renamed."),
    # query_result (a saved search's result set)
    EventType("query_result", "entered", M, "A drug now matches a saved search."),
    EventType("query_result", "left", M, "A drug no longer matches a saved search."),
]

CATALOGUE: dict[tuple[str, str], EventType] = {(t.family, t.type): t for t in _TYPES}
FAMILIES: tuple[str, ...] = tuple(dict.fromkeys(t.family for t in _TYPES))


def default_materiality(family: str, type_: str) -> Materiality:
    return CATALOGUE[(family, type_)].materiality


def known(family: str, type_: str) -> bool:
    return (family, type_) in CATALOGUE
