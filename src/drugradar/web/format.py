"""How values read on a page: phases, dates, source names, severity classes."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

PHASE_LABELS = {
    "UNKNOWN": "Phase unknown",
    "DISCOVERY": "Discovery",
    "PRECLINICAL": "Preclinical",
    "IND": "IND filed",
    "EARLY_PHASE_1": "Early phase 1",
    "PHASE_1": "Phase 1",
    "PHASE_1_2": "Phase 1/2",
    "PHASE_2": "Phase 2",
    "PHASE_2_3": "Phase 2/3",
    "PHASE_3": "Phase 3",
    "NDA_BLA": "Filed (NDA/BLA)",
    "APPROVED": "Approved",
}

SOURCE_NAMES = {
    "ctgov": "ClinicalTrials.gov",
    "unii": "FDA UNII",
    "drugbank": "DrugBank vocabulary",
    "drugbank_targets": "DrugBank targets",
    "drugbank_active_targets": "DrugBank targets",
    "drugcentral": "DrugCentral",
    "mesh": "MeSH",
    "ema_medicines": "EMA medicines",
    "ema_dhpc": "EMA DHPC",
    "ema_orphan_designations": "EMA orphan designations",
    "ema_referrals": "EMA referrals",
    "ema_psusa": "EMA PSUSA",
    "ema_shortages": "EMA shortages",
    "fda_applications": "Drugs@FDA",
    "fda_products": "Drugs@FDA products",
    "fda_marketing_status": "Drugs@FDA marketing status",
    "fda_submissions": "Drugs@FDA submissions",
    "ob_patents": "Orange Book patents",
    "ob_exclusivities": "Orange Book exclusivities",
    "spl_labels": "DailyMed SPL",
    "openfda_label": "openFDA label",
    "openfda_label_rows": "openFDA label",
    "ddinter": "DDInter",
    "merged_pddi": "merged PDDI",
    "onc_ddi": "ONC high-priority DDI",
    "ansm": "ANSM",
    "drugbank_ddi": "DrugBank 4 DDI",
    "credible_meds": "CredibleMeds",
}

LEVEL_CLASSES = {
    "contraindicated": "sev-ci",
    "major": "sev-major",
    "moderate": "sev-moderate",
    "minor": "sev-minor",
}


def phase_label(value: Any) -> str:
    if value is None or value == "":
        return "—"
    return PHASE_LABELS.get(str(value), str(value).replace("_", " ").capitalize())


def day(value: Any) -> str:
    """ISO date (a datetime shows its day only), or an empty string."""
    if value is None or value == "":
        return ""
    if isinstance(value, datetime):
        return value.date().isoformat()
    if isinstance(value, date):
        return value.isoformat()
    return str(value)[:10]


def source_name(value: Any) -> str:
    return SOURCE_NAMES.get(str(value), str(value))


def level_class(value: Any) -> str:
    return LEVEL_CLASSES.get(str(value), "sev-unknown")


def title_case(value: Any) -> str:
    """ALL-CAPS source text (``IMLYGIC``) reads better capitalised; mixed case is kept."""
    text = str(value or "")
    return text.title() if text.isupper() and len(text) > 3 else text
